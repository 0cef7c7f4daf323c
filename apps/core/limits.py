"""The hook through which lower layers ask "may this company do this now?" without importing billing.

Billing registers its checker when the app is ready; accounts (below billing) calls `check_limit`.
Apps above billing may call billing's own `limit_check` directly; both end in the same place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# The resources a plan limits. Gauges (a count of what exists now) and meters (a per-period counter).
USERS = "users"
ACTIVE_ACTIVITIES = "active_activities"
MODELS = "models"
INFERENCE_REQUESTS = "inference_requests"
TOKENS = "tokens"
TRANSCRIPTION_SECONDS = "transcription_seconds"
UPLOAD_BYTES = "upload_bytes"

RESOURCES: tuple[str, ...] = (
    USERS,
    ACTIVE_ACTIVITIES,
    MODELS,
    INFERENCE_REQUESTS,
    TOKENS,
    TRANSCRIPTION_SECONDS,
    UPLOAD_BYTES,
)

LimitChecker = Callable[[Any, str, int, "int | None"], None]
GaugeCounter = Callable[[Any], int]

_checkers: list[LimitChecker] = []
_gauges: dict[str, GaugeCounter] = {}


def register_limit_checker(checker: LimitChecker) -> None:
    """Add a checker (once); it raises an ApplicationError when the company may not."""
    if checker not in _checkers:
        _checkers.append(checker)


def unregister_limit_checker(checker: LimitChecker) -> None:
    """Remove a checker registered before (no error when it is not there)."""
    if checker in _checkers:
        _checkers.remove(checker)


def check_limit(company: Any, resource: str, amount: int = 1, current: int | None = None) -> None:
    """Ask every registered checker whether `company` may use `amount` more of `resource`.

    `current` is how many the company has now, for gauges the checker cannot count itself.
    With no checker registered everything is allowed.
    """
    if resource not in RESOURCES:
        raise ValueError(f"Unknown limited resource: {resource!r}")
    for checker in list(_checkers):
        checker(company, resource, amount, current)


def register_usage_counter(resource: str, counter: GaugeCounter) -> None:
    """Tell the limit checkers how to count a gauge (e.g. active activities) for a company.

    The app that owns the rows registers it when ready, so billing can count what it cannot import.
    """
    if resource not in RESOURCES:
        raise ValueError(f"Unknown limited resource: {resource!r}")
    _gauges[resource] = counter


def current_usage(company: Any, resource: str) -> int | None:
    """How many of a gauge the company has now, or None when no app registered a counter for it."""
    counter = _gauges.get(resource)
    return None if counter is None else counter(company)
