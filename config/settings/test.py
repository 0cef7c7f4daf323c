"""Test settings: the base settings with fast hashing, mail kept in memory and a cache prefix of its own."""

from config.settings.base import *  # noqa: F403
from config.settings.base import CACHES, REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
if REDIS_URL:
    CACHES["default"]["KEY_PREFIX"] = "symbient-test"
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
