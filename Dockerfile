# Production image: front-end assets built with Node, then Python 3.12 slim serving with uvicorn.
# `make smoke` runs the same steps natively (npm run build, bin/collectstatic, bin/serve).
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# Tailwind scans every template and script, so the whole tree is its input.
COPY . .
RUN npm run build

# The translation catalogues, compiled with GNU gettext (the .mo files are not in git).
FROM debian:bookworm-slim AS messages
RUN apt-get update && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
COPY locale /build/locale
RUN for po in /build/locale/*/LC_MESSAGES/*.po; do msgfmt --check -o "${po%.po}.mo" "$po"; done

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
COPY --from=messages --chown=app:app /build/locale ./locale
# Hashed, compressed static files (WhiteNoise's manifest); pages answer 500 without them.
# The upload and Casdoor-config directories exist owned by `app`, so the named volumes mounted
# there (docker-compose.yml) start writable by it.
RUN bin/collectstatic \
    && mkdir -p /app/uploads /casdoor \
    && chown -R app:app /app/staticfiles /app/uploads /casdoor
USER app
EXPOSE 8081
HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD curl -fsS http://127.0.0.1:8081/healthz || exit 1
CMD ["bin/serve"]
