"""Test settings: the base settings with fast hashing, mail kept in memory and a cache prefix of its own."""

from pathlib import Path

from config.env import env_str
from config.settings.base import *  # noqa: F403
from config.settings.base import CACHES, REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A real worker process writes its mail to files (EMAIL_FILE_PATH) so the test can read them.
EMAIL_BACKEND = env_str("TEST_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "test-mail"))  # noqa: F405
# Tests run jobs in-process unless a test starts a real worker (the celery_worker fixture).
CELERY_TASK_ALWAYS_EAGER = True
if REDIS_URL:
    CACHES["default"]["KEY_PREFIX"] = env_str("TEST_CACHE_KEY_PREFIX", "symbient-test")  # type: ignore[index]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "test-media")))  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # type: ignore[index]  # noqa: F405
