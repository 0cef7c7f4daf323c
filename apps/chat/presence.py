"""Which chats are live now, across server processes: an open socket, or a reply being streamed.

Each live thing is an entry `<chat>:<id>` in a per-company set, with an expiry time: a socket
refreshes its entry while it is open, a stream while it runs, so the entries of a process that died
disappear after `CHAT_PRESENCE_TTL_SECONDS`. With `REDIS_URL` the sets are Redis sorted sets (score:
the expiry), shared by every process; without it they live in this process's memory.

The same sets count a company's open chat sockets for the concurrent-connection limit.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import cache

SOCKETS = "sockets"
STREAMS = "streams"


def _hex(value: Any) -> str:
    return getattr(value, "hex", None) or str(value).replace("-", "")


def _ttl() -> int:
    return int(settings.CHAT_PRESENCE_TTL_SECONDS)


class _Sets(Protocol):
    def enter(self, key: str, chat_key: str, member: str, expires: float, limit: int | None = None) -> int: ...
    def leave(self, key: str, chat_key: str, member: str) -> int: ...
    def members(self, key: str, now: float) -> list[str]: ...
    def count(self, key: str, now: float) -> int: ...


class _RedisSets:
    """Sorted sets in the cache's Redis, under the cache's key prefix."""

    def _client(self) -> Any:
        return cache._cache.get_client(write=True)  # type: ignore[attr-defined]

    def enter(self, key: str, chat_key: str, member: str, expires: float, limit: int | None = None) -> int:
        """Add `member` to both sets in one transaction; the chat set's size then, or 0 over the limit."""
        full_key, full_chat_key = cache.make_key(key), cache.make_key(chat_key)
        pipe = self._client().pipeline(transaction=True)
        for name in (full_key, full_chat_key):
            pipe.zremrangebyscore(name, "-inf", time.time())
            pipe.zadd(name, {member: expires})
            pipe.expire(name, _ttl() * 2)
        pipe.zcard(full_key)
        pipe.zcard(full_chat_key)
        *_, count, chat_count = pipe.execute()
        if limit is not None and count > limit:
            self.leave(key, chat_key, member)
            return 0
        return int(chat_count)

    def leave(self, key: str, chat_key: str, member: str) -> int:
        """Remove `member` from both sets in one transaction; how many live entries the chat set keeps."""
        full_chat_key = cache.make_key(chat_key)
        pipe = self._client().pipeline(transaction=True)
        pipe.zrem(cache.make_key(key), member)
        pipe.zrem(full_chat_key, member)
        pipe.zcount(full_chat_key, time.time(), "+inf")
        return int(pipe.execute()[-1])

    def count(self, key: str, now: float) -> int:
        return int(self._client().zcount(cache.make_key(key), now, "+inf"))

    def members(self, key: str, now: float) -> list[str]:
        full_key = cache.make_key(key)
        return [m.decode() if isinstance(m, bytes) else m for m in self._client().zrangebyscore(full_key, now, "+inf")]


class _MemorySets:
    """The same in this process, when there is no Redis (one server process)."""

    def __init__(self) -> None:
        self._sets: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> dict[str, float]:
        entries = self._sets.setdefault(key, {})
        for stale in [m for m, exp in entries.items() if exp < now]:
            del entries[stale]
        return entries

    def enter(self, key: str, chat_key: str, member: str, expires: float, limit: int | None = None) -> int:
        with self._lock:
            now = time.time()
            entries, chat_entries = self._live(key, now), self._live(chat_key, now)
            if limit is not None and member not in entries and len(entries) >= limit:
                return 0
            entries[member] = chat_entries[member] = expires
            return len(chat_entries)

    def leave(self, key: str, chat_key: str, member: str) -> int:
        with self._lock:
            self._sets.get(key, {}).pop(member, None)
            self._sets.get(chat_key, {}).pop(member, None)
            return len(self._live(chat_key, time.time()))

    def count(self, key: str, now: float) -> int:
        return len(self.members(key, now))

    def members(self, key: str, now: float) -> list[str]:
        with self._lock:
            return [m for m, exp in self._sets.get(key, {}).items() if exp >= now]


_memory = _MemorySets()


def _sets() -> _Sets:
    return _RedisSets() if settings.CACHES["default"]["BACKEND"].endswith("RedisCache") else _memory


def _key(company_id: Any, kind: str) -> str:
    return f"chat-presence:{_hex(company_id)}:{kind}"


def _chat_key(company_id: Any, chat_id: Any, kind: str) -> str:
    return f"chat-presence:{_hex(company_id)}:{kind}:{_hex(chat_id)}"


class Presence:
    """One live thing (a socket or a stream) of one chat; `enter` once, `touch` often, `leave` at the end.

    It is an entry in the company's set (what is live, the connection limit) and in the chat's own set
    (how many sockets one chat has, without reading the company's whole set).
    """

    def __init__(self, *, company_id: Any, chat_id: Any, kind: str) -> None:
        self.key = _key(company_id, kind)
        self.chat_key = _chat_key(company_id, chat_id, kind)
        self.member = f"{_hex(chat_id)}:{uuid.uuid4().hex}"
        self._touched = 0.0

    def enter(self, limit: int | None = None) -> int:
        """Register; the chat's entries of this kind now (this one counted), read in the same write, or 0
        (and nothing registered) when the company already has `limit` entries."""
        self._touched = time.monotonic()
        return _sets().enter(self.key, self.chat_key, self.member, time.time() + _ttl(), limit)

    def refresh(self) -> None:
        """Push the entry's expiry a TTL ahead."""
        self._touched = time.monotonic()
        _sets().enter(self.key, self.chat_key, self.member, time.time() + _ttl())

    def touch_due(self) -> bool:
        """Whether a third of the TTL has passed since the last write (async code then refreshes in a thread)."""
        return time.monotonic() - self._touched >= _ttl() / 3

    def touch(self) -> None:
        """Keep the entry alive from synchronous code; cheap to call on every chunk (writes only when due)."""
        if self.touch_due():
            self.refresh()

    def leave(self) -> int:
        """Unregister; the chat's entries of this kind left, read in the same write."""
        return _sets().leave(self.key, self.chat_key, self.member)


def socket_presence(*, company_id: Any, chat_id: Any) -> Presence:
    """The entry of one open chat socket (also what the connection limit counts)."""
    return Presence(company_id=company_id, chat_id=chat_id, kind=SOCKETS)


@contextmanager
def presence_streaming(chat: Any) -> Iterator[Presence]:
    """Mark `chat` live while a reply streams (wrap an SSE stream in it; call `.touch()` per chunk)."""
    entry = Presence(company_id=chat.company_id, chat_id=chat.pk, kind=STREAMS)
    entry.enter()
    try:
        yield entry
    finally:
        entry.leave()


def live_chat_ids(*, company_id: Any) -> set[uuid.UUID]:
    """The ids of the company's chats with an open socket or a stream in progress, in any process."""
    now = time.time()
    sets = _sets()
    members = sets.members(_key(company_id, SOCKETS), now) + sets.members(_key(company_id, STREAMS), now)
    return {uuid.UUID(member.split(":", 1)[0]) for member in members}


def open_socket_count(*, company_id: Any) -> int:
    """How many chat sockets the company holds open now, in every process."""
    return _sets().count(_key(company_id, SOCKETS), time.time())


def chat_socket_count(*, company_id: Any, chat_id: Any) -> int:
    """How many sockets are open on one chat now, in every process."""
    return _sets().count(_chat_key(company_id, chat_id, SOCKETS), time.time())
