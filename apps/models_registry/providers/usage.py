"""Metering of provider calls: the per-company request limit, and the hook through which the registry's own
provider calls (model/test) leave a usage record.

The records belong to the chat app, above the registry: it registers its recorder when ready, and the
registry calls `completion_usage_record` without importing it. With no recorder registered nothing is kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings

from apps.core.counters import cache_count
from apps.core.exceptions import RateLimited

UsageRecorder = Callable[..., Any]

_recorders: list[UsageRecorder] = []


def register_usage_recorder(recorder: UsageRecorder) -> None:
    """Add a recorder (once); it is called with the usage record's fields as keywords."""
    if recorder not in _recorders:
        _recorders.append(recorder)


def completion_usage_record(**fields: Any) -> None:
    """Hand one completion's usage (company, user, model, provider, source, tokens, latency, outcome) on."""
    for recorder in list(_recorders):
        recorder(**fields)


def rate_limit_check(*, company: Any) -> None:
    """GATEWAY_REQUESTS_PER_MINUTE per company, counted in the cache (shared through Redis when set): one budget
    for every completion the company asks for, through any surface."""
    limit = settings.GATEWAY_REQUESTS_PER_MINUTE
    if not limit:
        return
    now = time.time()
    if cache_count(f"gateway-rpm:{company.pk}:{int(now // 60)}", timeout=120) > limit:
        raise RateLimited("Request limit exceeded for your company. Retry later.", retry_after=60 - int(now % 60))
