# Berth's image: the wheel (with its migrations and Procfile) on python:3.11-slim.
# `docker run IMAGE` runs `berth up` (every Procfile process, supervised); any other
# command is a `berth` subcommand: `docker run IMAGE migrate`, `... worker bookings`.
# Needs BERTH_DATABASE_URL (and BERTH_MIGRATE_DATABASE_URL for the owner); see compose.yaml.
FROM python:3.11-slim AS build
WORKDIR /src
COPY setup.cfg setup.py pyproject.toml MANIFEST.in README.md Procfile ./
COPY src ./src
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 berth
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER berth
WORKDIR /home/berth
# Listen beyond the container's loopback; log JSON lines; each worker's metrics from 9100.
ENV BERTH_HOST=0.0.0.0 \
    BERTH_PORT=8000 \
    BERTH_LOG_FORMAT=json \
    BERTH_METRICS_PORT=9100 \
    PYTHONUNBUFFERED=1
EXPOSE 8000 9100-9110
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ['BERTH_PORT'], timeout=4)"]
ENTRYPOINT ["berth"]
CMD ["up"]
