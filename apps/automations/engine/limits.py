"""Time limits for work that cannot be interrupted cooperatively (template rendering)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class OperatorTimeout(Exception):
    """The operator ran out of time."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise OperatorTimeout in this block after `seconds` (an interval timer; main thread only).

    Celery runs tasks in the main thread of a worker (solo and prefork pools alike), so the limit
    holds there; in other threads (a web server running jobs in-process) only the cooperative
    limits apply (HTTP timeouts, bounded sleeps).
    """
    if seconds <= 0:
        raise OperatorTimeout()
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise OperatorTimeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
