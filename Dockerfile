# syntax=docker/dockerfile:1
# Build: docker build -t cmsreporting .
# Run:   docker run -p 8000:8000 -v cmsreporting-data:/data cmsreporting
#        (PostgreSQL: -e CMSREPORTING_DATABASE_URL=postgresql+asyncpg://user:pass@host/db)
# Jobs:  docker run -v cmsreporting-data:/data -e CMSREPORTING_DATABASE_URL=… cmsreporting \
#            cmsreporting worker
#        (the same image; deploy/compose.yaml runs servers, a worker and PostgreSQL together)

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# the pinned dependencies first (requirements.lock, see README "Operations"): this layer is
# rebuilt only when the lock changes
COPY requirements.lock ./
RUN pip wheel --wheel-dir /wheels --requirement requirements.lock
COPY pyproject.toml README.md LICENSE alembic.ini ./
COPY src ./src
COPY schemas ./schemas
COPY content ./content
COPY migrations ./migrations
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CMSREPORTING_DATABASE_URL=sqlite+aiosqlite:////data/cmsreporting.db \
    CMSREPORTING_EXPORT_FOLDER=/data/exports
# Pango and fonts for the PDF exports (WeasyPrint); Debian's security updates are wanted here,
# so the packages are not pinned to one version
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
       fonts-dejavu-core fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
COPY --from=build /src/requirements.lock /tmp/requirements.lock
# no index: every dependency of the service must come from the lock's wheels
RUN pip install --no-index --find-links=/wheels --requirement /tmp/requirements.lock \
        cmsreporting==0.1.0 \
    && rm -rf /wheels /tmp/requirements.lock \
    && useradd --create-home --uid 10001 cmsreporting \
    && mkdir /data \
    && chown cmsreporting:cmsreporting /data
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"]
CMD ["cmsreporting", "serve", "--host", "0.0.0.0", "--port", "8000"]
