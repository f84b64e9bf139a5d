# The Commissioning Assistant: `commissioning-bot serve` (Slack and Teams endpoints, /healthz).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATA_DIR=/data \
    EMBEDDING_MODEL_DIR=/models/all-MiniLM-L6-v2

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY knowledge ./knowledge
COPY workflows ./workflows
COPY storage ./storage
RUN pip install . && useradd --create-home --uid 10001 assistant && mkdir -p /data && chown assistant /data

USER assistant
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status == 200 else 1)"
CMD ["commissioning-bot", "serve", "--host", "0.0.0.0", "--port", "3000"]
