"""Settings for every environment, toggled by environment variables (see README)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG and env_bool("REQUIRE_SECRET_KEY", default=False):
        raise ImproperlyConfigured("SECRET_KEY must be set")
    # A fixed development key keeps `make run` working with nothing configured;
    # production sets SECRET_KEY (and REQUIRE_SECRET_KEY=1 to refuse starting without it).
    SECRET_KEY = "dev-insecure-secret-key-change-me-in-production-0123456789"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "apps.core",
    "apps.accounts",
    "apps.billing",
    "apps.models_registry",
    "apps.activities",
    "apps.actors",
    "apps.automations",
    "apps.transcripts",
    "apps.chat",
]

MIDDLEWARE = [
    "apps.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.ApiErrorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: PostgreSQL through DATABASE_URL, SQLite when unset -----------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # IMMEDIATE: a transaction takes the write lock at its start, so concurrent writers wait their
            # turn instead of failing with "database is locked" when a read lock cannot be upgraded.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, channel layer and Celery broker; in-process defaults when unset --
REDIS_URL = env_str("REDIS_URL")
CACHES: dict[str, dict[str, Any]]
CHANNEL_LAYERS: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "symbient"),
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Celery: JSON only, late acknowledgement, eager in-process when there is no broker.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60, minimum=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"

# --- Auth ------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
TENANT_MODEL = "accounts.Company"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Symmetric key for secrets we must read back (MFA secrets, provider keys): a Fernet key.
# Unset, one is derived from SECRET_KEY so development works; production sets it.
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY")

JWT_ACCESS_TOKEN_MINUTES = env_int("JWT_ACCESS_TOKEN_MINUTES", 24 * 60, minimum=1)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=JWT_ACCESS_TOKEN_MINUTES),
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
}

# Failed logins: after LOGIN_MAX_FAILURES for one account (or LOGIN_MAX_FAILURES_PER_IP
# for one address) within LOGIN_LOCKOUT_SECONDS, further attempts get 429 until it passes.
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5, minimum=1)
LOGIN_MAX_FAILURES_PER_IP = env_int("LOGIN_MAX_FAILURES_PER_IP", 30, minimum=1)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60, minimum=1)
MFA_ISSUER = env_str("MFA_ISSUER", "Symbient")
CONFIRMATION_CODE_HOURS = env_int("CONFIRMATION_CODE_HOURS", 24, minimum=1)
CONFIRMATION_RESEND_SECONDS = env_int("CONFIRMATION_RESEND_SECONDS", 60, minimum=0)
CONFIRMATION_MAX_ATTEMPTS = env_int("CONFIRMATION_MAX_ATTEMPTS", 5, minimum=1)
# Behind a proxy that sets X-Forwarded-For, the client address for throttling comes from it.
TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR", default=False)

# Outgoing HTTP to user-given URLs (data sources, automations, providers): see apps/core/outbound.py.
OUTBOUND_ALLOW_PRIVATE = env_bool("OUTBOUND_ALLOW_PRIVATE", default=False)
OUTBOUND_ALLOWED_HOSTS = [host.lower() for host in env_list("OUTBOUND_ALLOWED_HOSTS", [])]
OUTBOUND_TIMEOUT_SECONDS = env_int("OUTBOUND_TIMEOUT_SECONDS", 30, minimum=1)
OUTBOUND_CONNECT_TIMEOUT_SECONDS = env_int("OUTBOUND_CONNECT_TIMEOUT_SECONDS", 10, minimum=1)
OUTBOUND_MAX_BYTES = env_int("OUTBOUND_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)

# --- REST framework ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.BearerTokenAuthentication",
        "apps.accounts.authentication.ApiKeyPairAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "apps.core.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "UNAUTHENTICATED_USER": None,
    "DATETIME_FORMAT": "iso-8601",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Symbient AI Toolbox API",
    "DESCRIPTION": (
        'Every `/api/v1/` answer is an envelope: `{"success": true, ...}` or '
        '`{"success": false, "error": "...", "message": "..."}` (both keys carry the same text). '
        "Authenticate with `Authorization: Bearer <token>` from `/api/v1/login`, or with the company's "
        "`X-API-Key` + `X-Enc-Key` pair. A key pair acts for the company with Company Admin rights; "
        "endpoints about one person (users/me, logout, updatepassword, MFA) need a user's Bearer token. "
        "Ids are opaque UUID strings; timestamps are ISO 8601 UTC with `Z`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI served from our own static files, so the docs work with no outside network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Email -------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Symbient <no-reply@symbient.local>")

# --- I18N, static, uploads ---------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024, minimum=1024)

# --- Security headers --------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY") else None

# --- Logging: one line per record with the request id --------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apps.core.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
    },
}

# --- gateway (LLM providers and chat completions) ---
# Upstream calls: connect and per-read timeouts, retries with exponential backoff before the first byte.
GATEWAY_CONNECT_TIMEOUT_SECONDS = env_int("GATEWAY_CONNECT_TIMEOUT_SECONDS", 10, minimum=1)
GATEWAY_READ_TIMEOUT_SECONDS = env_int("GATEWAY_READ_TIMEOUT_SECONDS", 30, minimum=1)
GATEWAY_MAX_RETRIES = env_int("GATEWAY_MAX_RETRIES", 2, minimum=0)
GATEWAY_RETRY_BACKOFF_SECONDS = env_int("GATEWAY_RETRY_BACKOFF_MS", 250, minimum=0) / 1000
GATEWAY_RETRY_MAX_WAIT_SECONDS = env_int("GATEWAY_RETRY_MAX_WAIT_SECONDS", 5, minimum=0)
GATEWAY_UPSTREAM_CONNECTIONS = env_int("GATEWAY_UPSTREAM_CONNECTIONS", 200, minimum=1)
GATEWAY_AZURE_API_VERSION = env_str("GATEWAY_AZURE_API_VERSION", "2024-06-01")
# GET /api/models asks each provider for its models, caching the answer; a dead provider is skipped.
GATEWAY_MODELS_CACHE_SECONDS = env_int("GATEWAY_MODELS_CACHE_SECONDS", 60, minimum=0)
GATEWAY_MODELS_TIMEOUT_SECONDS = env_int("GATEWAY_MODELS_TIMEOUT_SECONDS", 5, minimum=1)
# Requests per minute per company on the gateway (0: no limit), and the largest request body.
GATEWAY_REQUESTS_PER_MINUTE = env_int("GATEWAY_REQUESTS_PER_MINUTE", 600, minimum=0)
GATEWAY_MAX_REQUEST_BYTES = env_int("GATEWAY_MAX_REQUEST_BYTES", 10 * 1024 * 1024, minimum=1024)
# The model chats use when none is given (chats/inference/post, new chats).
GATEWAY_DEFAULT_MODEL = env_str("GATEWAY_DEFAULT_MODEL", "builtin.assistant")
