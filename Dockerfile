FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/amends.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY integrations ./integrations
COPY storage ./storage
COPY migrations ./migrations
RUN pip install . \
    && useradd --create-home --uid 10001 amends \
    && mkdir /data && chown amends:amends /data

USER amends
WORKDIR /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"
CMD ["amends", "serve", "--host", "0.0.0.0", "--port", "3000"]
