# The Commissioning Assistant: `commissioning-bot serve` (Slack and Teams endpoints, /healthz, /metrics).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data \
    EMBEDDING_MODEL_DIR=/models/all-MiniLM-L6-v2

WORKDIR /app
# Dependencies first, exactly as locked (every file checked against its hash), so a code change reuses this layer.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY handlers ./handlers
COPY knowledge ./knowledge
COPY workflows ./workflows
COPY storage ./storage
# The project itself adds no dependency beyond the lock (--no-deps), so the image holds only locked versions.
RUN pip install --no-deps . && useradd --create-home --uid 10001 assistant && mkdir -p /data && chown assistant /data

USER assistant
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status == 200 else 1)"
CMD ["commissioning-bot", "serve", "--host", "0.0.0.0", "--port", "3000"]
