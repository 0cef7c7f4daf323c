"""The hook through which the registry's own provider calls (model/test) leave a usage record.

The records belong to the chat app, above the registry: it registers its recorder when ready, and the
registry calls `completion_usage_record` without importing it. With no recorder registered nothing is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
