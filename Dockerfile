# Production image: front-end assets built with Node, then Python 3.12 slim serving with uvicorn.
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# Tailwind scans every template and script, so the whole tree is its input.
COPY . .
RUN npm run build

FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 app
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY --chown=app:app . .
COPY --from=assets --chown=app:app /build/static ./static
# Hashed, compressed static files; the values below only let settings load for this step.
RUN DEBUG=false SECRET_KEY=build-only SITE_URL=https://build.invalid \
    python manage.py collectstatic --noinput \
    && chown -R app:app /app/staticfiles
USER app
EXPOSE 8081
HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD curl -fsS http://127.0.0.1:8081/healthz || exit 1
# No --proxy-headers: the client address stays the direct peer (Caddy), and the app decides
# whose X-Forwarded-For to believe (TRUSTED_PROXIES) — trusting every peer's header would let
# anyone who reaches port 8081 pose as YooKassa's address.
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8081", \
     "--loop", "uvloop", "--http", "httptools", "--no-proxy-headers", "--workers", "2"]
