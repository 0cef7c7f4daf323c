"""Automation jobs: run one automation run; the minute tick for schedules; recovery; pruning."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from apps.automations.engine.runner import RunBusy, run_execute
from apps.automations.services import runs


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
    time_limit=settings.AUTOMATION_RUN_MAX_TIME_LIMIT_SECONDS + 120,
)
def automation_run_execute(self: Any, run_id: str) -> None:
    """Run (or resume) one run; when another worker holds it, look again once its lease ends."""
    try:
        run_execute(run_id=run_id)
    except RunBusy as busy:
        raise self.retry(countdown=max(1, int(busy.seconds) + 1)) from busy


@shared_task(ignore_result=True)
def automation_schedules_tick() -> int:
    """Start the runs whose schedule is due (Celery beat sends this every minute)."""
    return runs.schedules_tick()


@shared_task(ignore_result=True)
def automation_runs_recover() -> int:
    """Queue again runs whose worker died or whose job was lost (every minute)."""
    return runs.runs_recover()


@shared_task(ignore_result=True)
def automation_runs_prune() -> int:
    """Delete runs past each company's retention (hourly)."""
    return runs.runs_prune()
