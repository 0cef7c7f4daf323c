"""Counters in the cache (Redis when configured, so every server process shares them)."""

from __future__ import annotations

from django.core.cache import cache


def cache_count(key: str, *, timeout: int) -> int:
    """Add one to the counter at `key` (created for `timeout` seconds when new); the new count."""
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1
