"""A small per-process memory of recent lookups (credentials, model resolutions) with a time bound.

What it holds may be up to `seconds` old: each user documents the bound (GATEWAY_AUTH_CACHE_SECONDS,
GATEWAY_MODEL_CACHE_SECONDS); 0 turns it off. Entries are keyed by a hash, so no raw credential is kept as a key.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

from django.conf import settings


class RecentlyResolved:
    """Values by key, each kept for the number of seconds the named setting gives (read at every put)."""

    def __init__(self, setting: str) -> None:
        self.setting = setting
        self._entries: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(*parts: str) -> str:
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def get(self, key: str) -> Any:
        """The value, or None when it is unknown or too old."""
        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def put(self, key: str, value: Any, *, expires_at: float | None = None) -> None:
        """Keep `value` for the setting's seconds, and never past `expires_at` (a Unix time)."""
        seconds = getattr(settings, self.setting)
        if seconds <= 0:
            return
        until = time.monotonic() + seconds
        if expires_at is not None:
            until = min(until, time.monotonic() + expires_at - time.time())
        with self._lock:
            if len(self._entries) >= settings.GATEWAY_CACHE_ENTRIES:
                now = time.monotonic()
                self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
                if len(self._entries) >= settings.GATEWAY_CACHE_ENTRIES:
                    self._entries.clear()
            self._entries[key] = (until, value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
