"""Settings for the balance service: one module, driven by the environment.

With nothing set the app runs on embedded defaults (SQLite, local-memory cache, in-memory
channel layer, eager Celery, console email, files on local disk). `DATABASE_URL` and
`REDIS_URL` switch it to PostgreSQL and Redis; `DEBUG=false` turns on production hardening and
refuses to start without `SECRET_KEY` and `SITE_URL`.
"""

import os
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

environ.Env.read_env(BASE_DIR / ".env")
env = environ.Env()
# An empty variable means "not set", whatever reads it: `.env.example` lists every variable,
# most of them empty, and `MEDIA_ROOT=` must not become the working directory, nor
# `ALLOWED_HOSTS=` an empty host list, nor `DATABASE_URL=` a crash.
env.ENVIRON = {name: value for name, value in os.environ.items() if value.strip()}

# Core -----------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="")
SITE_URL = env("SITE_URL", default="").rstrip("/")
if not DEBUG:
    missing = [name for name, value in (("SECRET_KEY", SECRET_KEY), ("SITE_URL", SITE_URL)) if not value]
    if missing:
        raise ImproperlyConfigured(f"DEBUG is off: set {', '.join(missing)} in the environment.")
SECRET_KEY = SECRET_KEY or "django-insecure-development-only-key-do-not-use-in-production"
SITE_URL = SITE_URL or "http://127.0.0.1:8081"
SITE_NAME = env("SITE_NAME", default="Нейросети")
# Who sells the service and how to reach them: the footer's legal pages (offer, privacy policy,
# contacts) show these. Their texts are templates/legal/*.html; an operator replaces any of them
# with a file of the same name under TEMPLATE_OVERRIDES_DIR (searched before our templates).
LEGAL_ENTITY = env("LEGAL_ENTITY", default="")
LEGAL_INN = env("LEGAL_INN", default="")
LEGAL_OGRN = env("LEGAL_OGRN", default="")
LEGAL_ADDRESS = env("LEGAL_ADDRESS", default="")
SUPPORT_EMAIL = env("SUPPORT_EMAIL", default="")
SUPPORT_PHONE = env("SUPPORT_PHONE", default="")
TEMPLATE_OVERRIDES_DIR = env("TEMPLATE_OVERRIDES_DIR", default="")
# The public host name Caddy serves (docker compose and the Caddyfile read it); when set, it
# must be SITE_URL's host.
SITE_DOMAIN = env("SITE_DOMAIN", default="")

_site = urlsplit(SITE_URL)
# SITE_URL's host, the extra names from ALLOWED_HOSTS, and the loopback names the container's
# health check and operators on the machine use (the app's port is reachable from nowhere else;
# Caddy forwards only SITE_DOMAIN's requests).
ALLOWED_HOSTS = list(
    dict.fromkeys([_site.hostname, *env.list("ALLOWED_HOSTS", default=[]), "127.0.0.1", "localhost", "[::1]"])
)
if DEBUG:
    ALLOWED_HOSTS.append("testserver")
CSRF_TRUSTED_ORIGINS = [f"{_site.scheme}://{_site.netloc}"]
# The most a request body may carry (config/limits.py answers 413 before reading more); routes
# that take files have their own limit in REQUEST_BODY_LIMITS (see media).
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_BYTES", default=1024 * 1024)

INSTALLED_APPS = [
    # daphne first: `manage.py runserver` then serves ASGI (development only; uvicorn serves
    # `make run` and production, see README).
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.vk",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.yandex",
    "allauth.socialaccount.providers.telegram",
    "allauth.usersessions",
    "accounts",
    "wallets",
    "payments",
    "catalog",
    "chats",
    "media",
    "legacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.private_no_store",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.middleware.session_lifetime",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The old system's sign-in cookie, honoured once on a page load (left out of STREAM_MIDDLEWARE).
    "legacy.middleware.legacy_session_cookie",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.api_json_errors",
]
# The streamed endpoints run a shorter chain whose hooks stay in the event loop (config/stream.py
# says why and what is left out); config/asgi.py sends STREAM_PATHS to it.
STREAM_PATHS = ("/api/chats/send",)
# A stopping server gives replies it cancelled this long to record what they relayed
# (bin/serve's graceful timeout comes first; compose's stop_grace_period covers both).
STREAM_DRAIN_TIMEOUT = 8
STREAM_MIDDLEWARE = [
    "config.stream.InLoopSecurityMiddleware",
    "config.stream.InLoopSessionMiddleware",
    "config.middleware.private_no_store",
    "config.stream.InLoopLocaleMiddleware",
    "config.stream.InLoopCsrfViewMiddleware",
    "accounts.middleware.session_lifetime",
    "config.stream.InLoopAuthenticationMiddleware",
    "config.middleware.api_json_errors",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "profile"
LOGOUT_REDIRECT_URL = "/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [*([TEMPLATE_OVERRIDES_DIR] if TEMPLATE_OVERRIDES_DIR else []), BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.site",
                "wallets.context_processors.header_wallet",
            ],
            # Admin's change-list count with correct plurals (templates/admin/pagination.html).
            "libraries": {"admin_counts": "config.admin_counts"},
        },
    },
]

# Database -------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI every sync_to_async hop may land on another thread, so per-thread persistent
    # connections (CONN_MAX_AGE) would pile up; psycopg's pool shares a bounded set instead.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=20),
        "timeout": env.int("DB_POOL_TIMEOUT", default=10),
    }
else:
    # SQLite: wait for the write lock instead of failing at once; IMMEDIATE transactions take
    # it up front so two writers cannot both read and then deadlock on upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    # A file, not Django's shared in-memory database: live-server tests reach it from other
    # threads, which shared-cache memory databases answer with "table is locked".
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: cache, sessions, channel layer, Celery ---------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    # config.cache.RedisCache: Django's, sharing one connection pool per process (see there).
    CACHES = {"default": {"BACKEND": "config.cache.RedisCache", "LOCATION": REDIS_URL}}
    # Per process and event loop: the cache's asyncio client (sessions on the stream's path,
    # replies' progress); commands beyond it wait for a free connection.
    REDIS_ASYNC_MAX_CONNECTIONS = env.int("REDIS_ASYNC_MAX_CONNECTIONS", default=50)
    SESSION_ENGINE = "config.sessions"
    # channels-redis waits for a socket's messages with a blocking pop of up to 5 s (brpop_timeout);
    # redis-py 8 gives every read a 5 s socket_timeout by default, which cut that wait short and
    # tore each idle /ws/balance/ socket down. The read may outlast the pop, never the reverse.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}]},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True

# Celery: JSON only, bounded tasks; later apps add beat entries here.
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "Europe/Moscow"
CELERY_BEAT_SCHEDULE: dict = {}

# Sessions and cookies ---------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=14 * 24 * 3600)
SESSION_SAVE_EVERY_REQUEST = False
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"

# Security (production) ------------------------------------------------------------------------
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Caddy terminates TLS and sets X-Forwarded-Proto; only it can reach the app.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy: our own origin only, plus YooKassa's checkout widget.
YOOKASSA_WIDGET_URL = env(
    "YOOKASSA_WIDGET_URL", default="https://yookassa.ru/checkout-widget/v1/checkout-widget.js"
)
_widget = urlsplit(YOOKASSA_WIDGET_URL)
YOOKASSA_WIDGET_ORIGIN = f"{_widget.scheme}://{_widget.netloc}"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, YOOKASSA_WIDGET_ORIGIN],
        "style-src": [SELF, YOOKASSA_WIDGET_ORIGIN],
        "frame-src": [SELF, YOOKASSA_WIDGET_ORIGIN, "https://yoomoney.ru"],
        "connect-src": [SELF, YOOKASSA_WIDGET_ORIGIN],
        # Pictures and videos only from us (and the storage's public address, added below): a
        # reply that names an image elsewhere must not make the browser send anything out.
        "img-src": [SELF, "data:", "blob:"],
        "media-src": [SELF, "blob:"],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF, "https:"],
        "frame-ancestors": [NONE],
    }
}

# Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Русский")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Moscow"
USE_TZ = True

# Static and uploaded files ----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/uploads/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "uploads"))).resolve()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Email ------------------------------------------------------------------------------------------
SMTP_HOST = env("SMTP_HOST", default="")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="noreply@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if SMTP_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = SMTP_HOST
    EMAIL_PORT = env.int("SMTP_PORT", default=587)
    EMAIL_HOST_USER = env("SMTP_USER", default="")
    EMAIL_HOST_PASSWORD = env("SMTP_PASSWORD", default="")
    EMAIL_USE_SSL = EMAIL_PORT == 465
    EMAIL_USE_TLS = not EMAIL_USE_SSL and env.bool("SMTP_USE_TLS", default=True)
    EMAIL_TIMEOUT = 20
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# Casdoor ----------------------------------------------------------------------------------------
CASDOOR_ENDPOINT = env("CASDOOR_ENDPOINT", default="")
CASDOOR_INTERNAL_URL = env("CASDOOR_INTERNAL_URL", default=CASDOOR_ENDPOINT)
CASDOOR_CLIENT_ID = env("CASDOOR_CLIENT_ID", default="")
CASDOOR_CLIENT_SECRET = env("CASDOOR_CLIENT_SECRET", default="")
CASDOOR_ORG = env("CASDOOR_ORG", default="built-in")
CASDOOR_APP_NAME = env("CASDOOR_APP_NAME", default="Myservice")
CASDOOR_CERT_FILE = env("CASDOOR_CERT_FILE", default="")
CASDOOR_TIMEOUT = env.float("CASDOOR_TIMEOUT", default=5.0)
# Casdoor's built-in admin password, written into its init data (`casdoor_init_data`).
CASDOOR_ADMIN_PASSWORD = env("CASDOOR_ADMIN_PASSWORD", default="")

# OAuth providers --------------------------------------------------------------------------------
VK_CLIENT_ID = env("VK_CLIENT_ID", default="")
VK_CLIENT_SECRET = env("VK_CLIENT_SECRET", default="")
GOOGLE_CLIENT_ID = env("GOOGLE_CLIENT_ID", default="")
GOOGLE_CLIENT_SECRET = env("GOOGLE_CLIENT_SECRET", default="")
YANDEX_CLIENT_ID = env("YANDEX_CLIENT_ID", default="")
YANDEX_CLIENT_SECRET = env("YANDEX_CLIENT_SECRET", default="")
TELEGRAM_BOT_TOKEN = env("TELEGRAM_BOT_TOKEN", default="")
TELEGRAM_BOT_NAME = env("TELEGRAM_BOT_NAME", default="")

# Payments ---------------------------------------------------------------------------------------
YOOKASSA_SHOP_ID = env("YOOKASSA_SHOP_ID", default="")
YOOKASSA_SECRET_KEY = env("YOOKASSA_SECRET_KEY", default="")
YOOKASSA_API_URL = env("YOOKASSA_API_URL", default="https://api.yookassa.ru/v3")
YOOKASSA_TIMEOUT = env.float("YOOKASSA_TIMEOUT", default=10.0)
YOOKASSA_WEBHOOK_IPS = env.list(
    "YOOKASSA_WEBHOOK_IPS",
    default=[
        "185.71.76.0/27",
        "185.71.77.0/27",
        "77.75.153.0/25",
        "77.75.156.11",
        "77.75.156.35",
        "77.75.154.128/25",
        "2a02:5180::/32",
    ],
)
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
TOPUP_MIN_AMOUNT = Decimal(env("TOPUP_MIN_AMOUNT", default="100"))
TOPUP_MAX_AMOUNT = Decimal(env("TOPUP_MAX_AMOUNT", default="50000"))

# S3 ---------------------------------------------------------------------------------------------
S3_ACCESS_KEY = env("S3_ACCESS_KEY", default="")
S3_SECRET_KEY = env("S3_SECRET_KEY", default="")
S3_BUCKET_NAME = env("S3_BUCKET_NAME", default="")
S3_ENDPOINT_URL = env("S3_ENDPOINT_URL", default="").rstrip("/")
S3_REGION_NAME = env("S3_REGION_NAME", default="")
S3_PUBLIC_DOMAIN = env("S3_PUBLIC_DOMAIN", default="").rstrip("/")

# AI ---------------------------------------------------------------------------------------------
OPENROUTER_API_KEY = env("OPENROUTER_API_KEY", default="")
OPENROUTER_BASE_URL = env("OPENROUTER_BASE_URL", default="https://openrouter.ai/api/v1").rstrip("/")
FAL_KEY = env("FAL_KEY", default="")
FAL_QUEUE_URL = env("FAL_QUEUE_URL", default="https://queue.fal.run").rstrip("/")
USD_RUB_RATE = Decimal(env("USD_RUB_RATE", default="95"))
PRICE_MARKUP = Decimal(env("PRICE_MARKUP", default="1.5"))

# API --------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["config.api.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies under the input policy (config/input.py); the upload names its form parsers.
    "DEFAULT_PARSER_CLASSES": ["config.api.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Per-user rate limits ("N/s", "N/m", "N/h", "N/d"): past one, 429 with Retry-After
# (config.api.UserRateThrottle; the chat stream checks the same throttle in chats.stream._reply_start).
RATE_LIMITS = {
    "payment_create": env("RATE_LIMIT_PAYMENT_CREATE", default="5/m"),
    "chat_create": env("RATE_LIMIT_CHAT_CREATE", default="20/m"),
    "chat_send": env("RATE_LIMIT_CHAT_SEND", default="20/m"),
    "upload": env("RATE_LIMIT_UPLOAD", default="60/h"),
    "media_generate": env("RATE_LIMIT_MEDIA_GENERATE", default="10/m"),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Balance service API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from our own static files (no CDN; the CSP allows only our origin).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The chat stream and the webhook are plain views: config.schema describes them.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.schema.plain_views"],
}

# Logging ----------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}

# Per-app settings. Each app's issue fills its own block below.

# --- accounts (allauth, Casdoor mirror, sessions) ---
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
# Passwordless. A known email signs in with a login code; a new one goes through signup, whose
# only field is the email, and becomes usable once the emailed verification code is entered.
ACCOUNT_SIGNUP_FIELDS = ["email*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
EMAIL_CODE_TIMEOUT = env.int("EMAIL_CODE_TIMEOUT", default=10 * 60)
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = EMAIL_CODE_TIMEOUT
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_TIMEOUT = EMAIL_CODE_TIMEOUT
ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = 3
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_MAX_ATTEMPTS = 3
ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND = 3
ACCOUNT_EMAIL_VERIFICATION_SUPPORTS_RESEND = 3
# allauth's default rate limits throttle code requests: 3 a minute per address, 20 per IP.
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = _site.scheme
# Telegram and VK may give no email; signing up must not stop at a form asking for one. A new
# social login joins an existing account by email only when the provider vouches for the email.
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_REQUIRED = False
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_QUERY_EMAIL = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10
# Providers come from the environment only (never SocialApp rows); one without keys is absent
# and shows no button.
SOCIALACCOUNT_PROVIDERS: dict = {}
for _provider, _client_id, _secret in (
    ("vk", VK_CLIENT_ID, VK_CLIENT_SECRET),
    ("google", GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET),
    ("yandex", YANDEX_CLIENT_ID, YANDEX_CLIENT_SECRET),
):
    if _client_id and _secret:
        SOCIALACCOUNT_PROVIDERS[_provider] = {"APP": {"client_id": _client_id, "secret": _secret}}
if TELEGRAM_BOT_TOKEN:
    # The widget's bot id is the number before the colon of the bot token; the token itself is
    # the key of the payload's HMAC. A payload older than auth_date_validity seconds is refused.
    SOCIALACCOUNT_PROVIDERS["telegram"] = {
        "APP": {"client_id": TELEGRAM_BOT_TOKEN.partition(":")[0], "secret": TELEGRAM_BOT_TOKEN},
        "AUTH_PARAMS": {"auth_date_validity": env.int("TELEGRAM_AUTH_MAX_AGE", default=300)},
    }
# Sessions: SESSION_COOKIE_AGE (above) is the inactivity timeout; a session also ends this long
# after sign-in however active it is. Activity is written at most once per SESSION_TOUCH_INTERVAL.
SESSION_ABSOLUTE_LIFETIME = env.int("SESSION_ABSOLUTE_LIFETIME", default=90 * 24 * 3600)
SESSION_TOUCH_INTERVAL = env.int("SESSION_TOUCH_INTERVAL", default=3600)
USERSESSIONS_TRACK_ACTIVITY = False
# Accounts the sign-in form created for an address whose code was never confirmed are removed
# this long after (accounts.services.users_unverified_remove, hourly).
ACCOUNTS_UNVERIFIED_TTL_SECONDS = env.int("ACCOUNTS_UNVERIFIED_TTL_SECONDS", default=24 * 3600)
CELERY_BEAT_SCHEDULE["accounts-unverified-users-remove"] = {
    "task": "accounts.tasks.users_unverified_remove",
    "schedule": 3600.0,
}
CELERY_BEAT_SCHEDULE["accounts-sessions-cleanup"] = {
    "task": "accounts.tasks.sessions_cleanup",
    "schedule": 24 * 3600,
}

# --- wallets ---
# An open hold older than this was left by a crash: the expiry sweep releases it.
WALLET_HOLD_TTL_SECONDS = env.int("WALLET_HOLD_TTL_SECONDS", default=3600)
# Balance changes within this window reach Casdoor as one push of the latest balance.
WALLET_CASDOOR_PUSH_DELAY_SECONDS = env.int("WALLET_CASDOOR_PUSH_DELAY_SECONDS", default=2)
CELERY_BEAT_SCHEDULE["wallets-holds-expire"] = {"task": "wallets.tasks.holds_expire", "schedule": 300.0}
CELERY_BEAT_SCHEDULE["wallets-balances-reconcile"] = {
    "task": "wallets.tasks.balances_reconcile",
    "schedule": 24 * 3600.0,
}

# --- payments ---
TOPUP_PRESETS = [
    Decimal(value) for value in env.list("TOPUP_PRESETS", default=["300", "500", "1000", "3000"])
]
# 54-FZ receipt with each payment (when the shop's online cash register is connected).
YOOKASSA_RECEIPT_ENABLED = env.bool("YOOKASSA_RECEIPT_ENABLED", default=False)
YOOKASSA_RECEIPT_ITEM = env("YOOKASSA_RECEIPT_ITEM", default="Пополнение баланса")
# YooKassa's vat_code: 1 = without VAT.
YOOKASSA_RECEIPT_VAT_CODE = env.int("YOOKASSA_RECEIPT_VAT_CODE", default=1)
# A payment still unfinished this long after creation is asked about (lost webhook).
PAYMENTS_SYNC_AFTER_SECONDS = env.int("PAYMENTS_SYNC_AFTER_SECONDS", default=300)
# At most this many unfinished top-ups per user created within the window (429 past it).
PAYMENTS_MAX_PENDING = env.int("PAYMENTS_MAX_PENDING", default=5)
PAYMENTS_PENDING_WINDOW_SECONDS = env.int("PAYMENTS_PENDING_WINDOW_SECONDS", default=3600)
CELERY_BEAT_SCHEDULE["payments-sync"] = {"task": "payments.tasks.payments_sync", "schedule": 300.0}

# --- chats ---
# A chat model's catalog row is cached this long for the send path (a save clears it at once).
CATALOG_CACHE_SECONDS = env.int("CATALOG_CACHE_SECONDS", default=60)
# OpenRouter: a connection must open within the connect timeout, and a reply may go silent at
# most the read timeout between two chunks (a hung upstream ends the reply instead of holding
# the user's money and a worker forever).
OPENROUTER_CONNECT_TIMEOUT = env.float("OPENROUTER_CONNECT_TIMEOUT", default=5.0)
OPENROUTER_READ_TIMEOUT = env.float("OPENROUTER_READ_TIMEOUT", default=60.0)
# One connection per open reply: above what one process streams at once (1,000 streams on two
# workers put 500+ on one; waiting for a free connection counts against the connect timeout).
OPENROUTER_MAX_CONNECTIONS = env.int("OPENROUTER_MAX_CONNECTIONS", default=2000)
# The completion budget of one reply (max_tokens upstream; lowered to what the wallet can pay)
# and the least a reply may get before we answer 402 instead.
CHAT_MAX_COMPLETION_TOKENS = env.int("CHAT_MAX_COMPLETION_TOKENS", default=4096)
CHAT_MIN_COMPLETION_TOKENS = env.int("CHAT_MIN_COMPLETION_TOKENS", default=256)
CHAT_MAX_MESSAGE_CHARS = env.int("CHAT_MAX_MESSAGE_CHARS", default=32000)
CHAT_MAX_IMAGES = env.int("CHAT_MAX_IMAGES", default=4)
# What one attached picture is assumed to cost in prompt tokens when the hold is sized.
CHAT_IMAGE_TOKENS = env.int("CHAT_IMAGE_TOKENS", default=1500)
# The most previous messages sent upstream (then trimmed further to the model's context).
CHAT_HISTORY_MESSAGES = env.int("CHAT_HISTORY_MESSAGES", default=50)
# The model a new chat starts with: good and inexpensive (when it is switched off in the catalog,
# the first chat model is).
CHAT_DEFAULT_MODEL = env("CHAT_DEFAULT_MODEL", default="google/gemini-2.5-flash")
# Crash recovery: a streaming reply writes its progress (the text so far) to the cache at most
# every CHAT_REPLY_HEARTBEAT_SECONDS and at least once per upstream read. A reply still pending
# with no progress for CHAT_REPLY_GRACE_SECONDS lost its server: the sweeper (every minute)
# settles it and marks it interrupted. The grace must exceed OPENROUTER_READ_TIMEOUT (a live
# stream reads at least that often or ends).
CHAT_REPLY_HEARTBEAT_SECONDS = env.float("CHAT_REPLY_HEARTBEAT_SECONDS", default=2.0)
CHAT_REPLY_GRACE_SECONDS = env.float("CHAT_REPLY_GRACE_SECONDS", default=90.0)
CELERY_BEAT_SCHEDULE["chats-replies-sweep"] = {"task": "chats.tasks.replies_sweep", "schedule": 60.0}

# --- media ---
if S3_BUCKET_NAME:
    STORAGES["default"] = {"BACKEND": "media.storage.PublicS3Storage"}
    # Pictures and videos are shown from the bucket's public address (plain http in
    # development): the one place besides our origin the page may load them from.
    _bucket = urlsplit(S3_PUBLIC_DOMAIN or S3_ENDPOINT_URL)
    _bucket_origin = f"{_bucket.scheme}://{_bucket.netloc}" if _bucket.netloc else "https://*.amazonaws.com"
    for _directive in ("img-src", "media-src"):
        CONTENT_SECURITY_POLICY["DIRECTIVES"][_directive].append(_bucket_origin)
S3_OBJECT_ACL = env("S3_OBJECT_ACL", default="public-read")
MEDIA_UPLOAD_MAX_BYTES = env.int("MEDIA_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
# The upload's multipart body: the picture plus room for its headers and the form's fields.
REQUEST_BODY_LIMITS = {"/api/upload": MEDIA_UPLOAD_MAX_BYTES + 64 * 1024}
# What one user may upload in a window of days (uploads are kept): 429 past it.
MEDIA_UPLOAD_QUOTA_BYTES = env.int("MEDIA_UPLOAD_QUOTA_BYTES", default=500 * 1024 * 1024)
MEDIA_UPLOAD_QUOTA_DAYS = env.int("MEDIA_UPLOAD_QUOTA_DAYS", default=30)
# Width × height; a 48 MP phone photo fits, a decompression bomb does not.
MEDIA_UPLOAD_MAX_PIXELS = env.int("MEDIA_UPLOAD_MAX_PIXELS", default=50_000_000)
# Generated files copied from Fal (videos are the large ones).
MEDIA_RESULT_MAX_BYTES = env.int("MEDIA_RESULT_MAX_BYTES", default=100 * 1024 * 1024)
MEDIA_RESULT_MAX_FILES = env.int("MEDIA_RESULT_MAX_FILES", default=4)
# A job Fal has not finished this long after submission is given up and its hold released.
MEDIA_GENERATION_TIMEOUT = env.float("MEDIA_GENERATION_TIMEOUT", default=600)
MEDIA_POLL_INTERVAL_SECONDS = env.float("MEDIA_POLL_INTERVAL_SECONDS", default=3)
# Polls of Fal run on their own queue and worker (docker compose's `worker-media`): a burst of
# generations never queues ahead of sign-in mail, Casdoor sync or reply settlement.
CELERY_TASK_ROUTES = {"media.tasks.generation_poll": {"queue": "media"}}
MEDIA_GALLERY_PAGE_SIZE = 24
FAL_TIMEOUT = env.float("FAL_TIMEOUT", default=15)
# Where generated files may be downloaded from (scheme://host, `*.` for subdomains): Fal's CDN.
# Whatever else a Fal answer names, an internal address included, is refused.
FAL_FILE_HOSTS = env.list(
    "FAL_FILE_HOSTS",
    default=["https://fal.media", "https://*.fal.media", "https://fal.run", "https://*.fal.run"],
)
CELERY_BEAT_SCHEDULE["media-generations-expire"] = {
    "task": "media.tasks.generations_expire",
    "schedule": 300.0,
}


# Refused at start-up -------------------------------------------------------------------------------
# Values that would leak data or weaken the site stop the process with a message naming them,
# instead of starting a site that looks fine. MEDIA_ROOT is checked in every mode: /uploads/
# serves whatever lies under it to anyone.
PLACEHOLDERS = ("change-me", "changeme")  # what `.env.example` ships in place of secrets


def _dangerous_values() -> list[str]:
    problems = []
    code = BASE_DIR.resolve()
    if code == MEDIA_ROOT or MEDIA_ROOT in code.parents:
        problems.append(f"MEDIA_ROOT={MEDIA_ROOT} holds the application's code; use a dedicated directory.")
    elif code in MEDIA_ROOT.parents and (code / "uploads") not in (MEDIA_ROOT, *MEDIA_ROOT.parents):
        problems.append(
            f"MEDIA_ROOT={MEDIA_ROOT} is inside the application; use {code / 'uploads'} or a directory outside it."
        )
    if DEBUG:
        return problems
    if _site.scheme != "https":
        problems.append(f"SITE_URL={SITE_URL} must be https:// in production (DEBUG=false).")
    if SITE_DOMAIN and _site.hostname != SITE_DOMAIN:
        problems.append(f"SITE_DOMAIN={SITE_DOMAIN} is not SITE_URL's host ({_site.hostname}).")
    if (
        len(SECRET_KEY) < 50
        or len(set(SECRET_KEY)) < 5
        or SECRET_KEY.startswith("django-insecure")
        or any(word in SECRET_KEY.lower() for word in PLACEHOLDERS)
    ):
        problems.append(
            "SECRET_KEY is weak or a placeholder: use 50+ random characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    placeholders = sorted(
        name for name, value in env.ENVIRON.items() if any(word in value.lower() for word in PLACEHOLDERS)
    )
    if placeholders:
        problems.append(f"{', '.join(placeholders)} still hold the example's placeholder; set real values.")
    return problems


if _problems := _dangerous_values():
    raise ImproperlyConfigured("Refusing to start: " + " ".join(_problems))
