FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/amends.db

WORKDIR /app
# Pinned versions first (a layer that changes only with the lock file), then amends itself
# without resolving anything again: the image gets exactly what requirements.lock says.
COPY requirements.lock ./
RUN pip install -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY integrations ./integrations
COPY storage ./storage
COPY migrations ./migrations
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 amends \
    && mkdir /data && chown amends:amends /data

# The SQLite file (default DATABASE_URL) lives here; mount a volume to keep it.
# Declared after the chown so a new volume starts owned by amends.
VOLUME /data
USER amends
WORKDIR /data
EXPOSE 3000
# Works in both modes: Socket Mode also serves /healthz (and /readyz, /metrics) on --port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["amends", "health", "--port", "3000"]
CMD ["amends", "serve", "--host", "0.0.0.0", "--port", "3000"]
