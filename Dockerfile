# syntax=docker/dockerfile:1
# One image for every dropwire service: `docker run dropwire ingest | enrich | store | db upgrade`.
# Two stages: the builder installs the project and its wheels into a virtualenv; the runtime stage
# copies only that virtualenv onto a fresh slim base: no compiler, no pip cache, no sources.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/dropwire
WORKDIR /src
# Dependencies first, exactly as locked (hashes checked; a layer that survives code edits), then the
# project itself without resolving anything again.
COPY requirements/runtime.txt ./requirements/runtime.txt
RUN /opt/dropwire/bin/pip install --upgrade pip \
 && /opt/dropwire/bin/pip install --require-hashes -r requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY dropwire ./dropwire
RUN /opt/dropwire/bin/pip install --no-deps . \
 && /opt/dropwire/bin/pip uninstall --yes pip \
 && /opt/dropwire/bin/python -c "import dropwire.cli"

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="dropwire" \
      org.opencontainers.image.description="Turns dropped Dutch news-wire files into clean, queryable, monitored data." \
      org.opencontainers.image.licenses="Apache-2.0"
# A fixed uid/gid, so an operator can give the bind-mounted spool folder to it (or override with `user:`).
ARG DROPWIRE_UID=10001
ARG DROPWIRE_GID=10001
RUN groupadd --system --gid "${DROPWIRE_GID}" dropwire \
 && useradd --system --uid "${DROPWIRE_UID}" --gid dropwire --home-dir /data --shell /usr/sbin/nologin dropwire \
 && mkdir -p /data/spool /data/var /tmp/dropwire-metrics \
 && chown -R dropwire:dropwire /data /tmp/dropwire-metrics
COPY --from=builder /opt/dropwire /opt/dropwire
ENV PATH=/opt/dropwire/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DROPWIRE_SPOOL_DIR=/data/spool \
    DROPWIRE_LOG_FORMAT=json \
    DROPWIRE_METRICS_HOST=0.0.0.0
WORKDIR /data
USER dropwire:dropwire
ENTRYPOINT ["dropwire"]
CMD ["--help"]
