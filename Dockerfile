# syntax=docker/dockerfile:1.7
# Upswing's production image: the dashboard built by Node, the package installed from its wheel (no dev extras),
# run as a non-root user. docs/deployment.md explains the settings; deploy/ has the compose file and the
# Kubernetes manifests that run it (API, Celery worker, scheduler, one-shot migrations).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

# --- 1. the dashboard (React + TypeScript, built by Vite into dist/) ------------------------------------------
FROM ${NODE_IMAGE} AS dashboard
WORKDIR /build/dashboard
ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 CI=true
COPY dashboard/package.json dashboard/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY dashboard/ ./
RUN npx vite build

# --- 2. the wheels: Upswing's and every dependency's (no compiler needed in the final image) -------------------
FROM ${PYTHON_IMAGE} AS wheels
WORKDIR /build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# A compiler for any dependency without a binary wheel (it stays in this stage, not in the image).
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-deps --wheel-dir /wheels . \
 && pip wheel --wheel-dir /wheels /wheels/upswing-*.whl

# --- 3. the runtime ----------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG UID=10001
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UPSWING_ENVIRONMENT=production \
    UPSWING_LOG_JSON=true \
    UPSWING_DATA_DIR=/var/lib/upswing \
    UPSWING_DASHBOARD_DIR=/opt/upswing/dashboard \
    UPSWING_WEB_WORKERS=2
# pg_dump / pg_restore for `upswing backup` (the client must be at least the server's major version).
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid ${UID} upswing \
 && useradd --system --uid ${UID} --gid upswing --home-dir /var/lib/upswing --shell /usr/sbin/nologin upswing \
 && mkdir -p /var/lib/upswing /opt/upswing \
 && chown upswing:upswing /var/lib/upswing
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels upswing
COPY --from=dashboard /build/dashboard/dist /opt/upswing/dashboard
WORKDIR /var/lib/upswing
USER ${UID}:${UID}
EXPOSE 8000
# Liveness only (the process answers); readiness (/readyz) belongs to the orchestrator's probes.
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
# Several uvicorn worker processes (about one per core): UPSWING_WEB_WORKERS. exec: the server gets the signals.
CMD ["sh", "-c", "exec upswing serve --host 0.0.0.0 --port 8000 --workers \"${UPSWING_WEB_WORKERS}\""]
