# syntax=docker/dockerfile:1
# The order worker and the REST API: one image, the same entrypoints users run by hand.
#   docker build -t order-cancellation:1.0.0 .
#   docker run order-cancellation:1.0.0                                   # python worker.py
#   docker run -p 8000:8000 order-cancellation:1.0.0 orders serve-api --host 0.0.0.0 --port 8000
# Both need a Temporal to talk to (TEMPORAL_ADDRESS, or TEMPORAL_PROFILE with a temporal.toml); see
# docker-compose.yml and docs/deploying.md.
ARG PYTHON_IMAGE=python:3.12-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# .dockerignore keeps the virtualenv, tests, docs and secrets out of the context.
COPY . .
# The runtime dependencies only: the dev extras (pytest, ruff, test servers) stay out of the image.
RUN pip install .

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ORDERS_DATA_DIR=/data
RUN groupadd --system --gid 10001 orders \
    && useradd --system --uid 10001 --gid orders --home-dir /app --shell /usr/sbin/nologin orders \
    && mkdir -p /app /data \
    && chown orders:orders /data
COPY --from=build /opt/venv /opt/venv
# `python worker.py` runs this file; everything it imports is installed in /opt/venv.
COPY worker.py /app/worker.py
WORKDIR /app
USER orders:orders
# 8000: the REST API (orders serve-api); 9464: the worker's Prometheus metrics (ORDERS_METRICS_PORT).
EXPOSE 8000 9464
CMD ["python", "worker.py"]
