"""gunicorn settings of the web process: `gunicorn --config python:berth.http.gunicorn_config`.

A header line may be up to GUNICORN_FIELD_BYTES, so headers longer than the
app's own bound (berth.http.header_limits) reach the app and get a problem+json
431, or a 401 for an over-long API key, instead of gunicorn's HTML 431.
"""

from berth.http.header_limits import GUNICORN_FIELD_BYTES

limit_request_field_size = GUNICORN_FIELD_BYTES
