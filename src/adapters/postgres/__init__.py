"""The PostgreSQL base every other adapter family stands on.

Connections, roles, migrations, the event store and its locks, idempotency, API keys, cameras.
"""
