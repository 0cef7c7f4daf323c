"""Secrets: Fernet encryption for values we must read back, keyed digests for values we only compare."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.crypto import salted_hmac


@lru_cache(maxsize=4)
def _fernet(keys: str, secret_key: str) -> MultiFernet:
    if keys:
        return MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])
    derived = base64.urlsafe_b64encode(hashlib.sha256(f"field-encryption:{secret_key}".encode()).digest())
    return MultiFernet([Fernet(derived)])


def _cipher() -> MultiFernet:
    # FIELD_ENCRYPTION_KEY may list several keys, newest first, to rotate without losing old values.
    return _fernet(settings.FIELD_ENCRYPTION_KEY, settings.SECRET_KEY)


def encrypt_text(plain: str) -> str:
    """Encrypt a secret for storage."""
    return _cipher().encrypt(plain.encode()).decode()


def decrypt_text(token: str) -> str:
    """Decrypt a stored secret; ValueError when it was written with an unknown key or tampered with."""
    try:
        return _cipher().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("The stored secret cannot be decrypted with the configured keys.") from exc


def digest(value: str, *, purpose: str) -> str:
    """A keyed SHA-256 digest of a high-entropy secret (API keys, codes), for lookup and comparison."""
    return salted_hmac(f"symbient.{purpose}", value, algorithm="sha256").hexdigest()


def digests_match(a: str, b: str) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(a.encode(), b.encode())


def random_token(nbytes: int = 32) -> str:
    """A URL-safe random secret."""
    return secrets.token_urlsafe(nbytes)
