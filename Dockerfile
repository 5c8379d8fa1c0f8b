# syntax=docker/dockerfile:1
# One image for every dropwire service: `docker run dropwire ingest | enrich | store | db upgrade`.
# Two stages: the builder installs the project and its wheels into a virtualenv; the runtime stage
# copies only that virtualenv onto a fresh slim base: no compiler, no pip cache, no sources.
#
# Build arguments (the defaults build from the official Python image and PyPI):
#   PYTHON_IMAGE  the base of both stages: any Debian-like image with Python 3.11, `python` on PATH,
#                 its venv module, groupadd and useradd (make compose-test uses a debootstrapped one)
#   PIP_OFFLINE   non-empty: install only from the wheelhouse, never from an index (air-gapped builds)
# The wheelhouse is the named build context `wheelhouse`, a folder of wheels for the lock file plus
# setuptools>=77 and wheel (the project's build backend):
#   docker build --build-context wheelhouse=./wheels --build-arg PIP_OFFLINE=1 -t dropwire:local .
# Without it the stage below stands in for it and holds nothing but the lock file.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM scratch AS wheelhouse
COPY requirements/runtime.txt /

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/dropwire
WORKDIR /src
# Dependencies first, exactly as locked (hashes checked; a layer that survives code edits), then the
# project itself without resolving anything again.
COPY requirements/runtime.txt ./requirements/runtime.txt
COPY --from=wheelhouse / /wheels/
ARG PIP_OFFLINE=""
RUN if [ -n "$PIP_OFFLINE" ]; then export PIP_NO_INDEX=1 PIP_FIND_LINKS=/wheels; \
    else /opt/dropwire/bin/pip install --upgrade pip; fi \
 && /opt/dropwire/bin/pip install --require-hashes -r requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY dropwire ./dropwire
RUN if [ -n "$PIP_OFFLINE" ]; then export PIP_NO_INDEX=1 PIP_FIND_LINKS=/wheels; fi \
 && /opt/dropwire/bin/pip install --no-deps . \
 && /opt/dropwire/bin/pip uninstall --yes pip \
 && /opt/dropwire/bin/python -c "import dropwire.cli"

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="dropwire" \
      org.opencontainers.image.description="Turns dropped Dutch news-wire files into clean, queryable, monitored data." \
      org.opencontainers.image.licenses="Apache-2.0"
# /tmp/dropwire-metrics is sticky and world-writable like /tmp: compose mounts a tmpfs there
# (mode=1777), and podman gives a tmpfs the owner root and the mode of the folder under it (its own
# mode= is lost when the container restarts), so the mode must already be right here.
# A fixed uid/gid, so an operator can give the bind-mounted spool folder to it (or override with `user:`).
ARG DROPWIRE_UID=10001
ARG DROPWIRE_GID=10001
RUN groupadd --system --gid "${DROPWIRE_GID}" dropwire \
 && useradd --system --uid "${DROPWIRE_UID}" --gid dropwire --home-dir /data --shell /usr/sbin/nologin dropwire \
 && mkdir -p /data/spool /data/var /tmp/dropwire-metrics \
 && chown -R dropwire:dropwire /data \
 && chmod 1777 /tmp/dropwire-metrics
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
