"""A run's state and progress pushed on the company's events socket (news only: the run row is the state)."""

from __future__ import annotations

from typing import Any

from apps.automations.models import AutomationRun
from apps.core.realtime import job_progress_send

JOB = "automation"


def run_progress_send(
    run: AutomationRun, *, state: str, progress: int | None = None, error: str = "", **extra: Any
) -> bool:
    """`{"type": "job_progress", "job": "automation", "id": <run id>, "state", "progress", "automation", "mode"}`."""
    return job_progress_send(
        company_id=run.company_id,
        job=JOB,
        object_id=run.pk,
        state=state,
        progress=progress,
        error=error,
        automation=str(run.automation_id),
        mode=run.mode,
        **extra,
    )
