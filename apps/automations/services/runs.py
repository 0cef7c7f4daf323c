"""Runs: start (test, trigger URL, schedule), cancel, recover runs whose worker died, prune old ones."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.automations.flow import FlowInvalid, parse_flow
from apps.automations.models import Automation, AutomationEvent, AutomationRun, AutomationSettings
from apps.automations.progress import run_progress_send
from apps.automations.selectors import automation_get, run_get
from apps.automations.services.automations import trigger_digest
from apps.automations.services.schedules import schedule_next
from apps.core.exceptions import Conflict, InvalidInput, NotFound

RUNNING = AutomationRun.Status.RUNNING
TRIGGER_NOT_FOUND = "Unknown trigger URL."


def _enqueue(run_id: Any) -> None:
    from apps.automations.tasks import automation_run_execute  # tasks call these services: imported late

    automation_run_execute.delay(str(run_id))


def run_start(*, automation: Automation, mode: str, input: Any) -> AutomationRun:
    """Record a run of the automation's current flow and queue it (after the transaction commits)."""
    try:
        flow = parse_flow(automation.flow)
    except FlowInvalid as exc:  # an operator that was available on save may be gone since
        raise InvalidInput(str(exc)) from exc
    limit = flow.time_limit or settings.AUTOMATION_RUN_TIME_LIMIT_SECONDS
    now = timezone.now()
    run = AutomationRun.objects.create(
        company_id=automation.company_id,
        automation=automation,
        mode=mode,
        status=RUNNING,
        started_at=now,
        deadline=now + timedelta(seconds=limit),
        input=input if input is not None else {},
        flow=automation.flow,
        enqueued_at=now,
    )
    # Queued once the caller's transaction commits (at once outside one); a lost job is queued
    # again by runs_recover.
    transaction.on_commit(partial(_enqueue, run.pk))
    return run


def automation_test(*, company: Any, actor: Any, automation_id: Any, input: Any = None) -> AutomationRun:
    """Start a run marked as a test, with the given input or the flow's `sample_input`."""
    automation = automation_get(company=company, automation_id=automation_id)
    if input is None:
        input = (automation.flow or {}).get("sample_input") if isinstance(automation.flow, dict) else None
    return run_start(automation=automation, mode=AutomationRun.Mode.TEST, input=input)


def automation_trigger(*, secret: str, payload: Any) -> AutomationRun:
    """Start a run from the automation's trigger URL with the request body as input; inactive ones refuse."""
    # The secret in the URL identifies the automation (and so the company), as a key pair would.
    automation = Automation.objects.filter(trigger_digest=trigger_digest(secret)).first() if secret else None
    if automation is None:
        raise NotFound(TRIGGER_NOT_FOUND)
    if not automation.is_active:
        raise Conflict("The automation is not active.")
    return run_start(automation=automation, mode=AutomationRun.Mode.TRIGGER, input=payload)


def run_cancel(*, company: Any, actor: Any, run_id: Any) -> AutomationRun:
    """Cancel a running run; its worker stops before the next operator."""
    run = run_get(company=company, run_id=run_id)
    now = timezone.now()
    with transaction.atomic():
        updated = (
            AutomationRun.objects.for_company(company)
            .filter(pk=run.pk, status=RUNNING)
            .update(
                status=AutomationRun.Status.CANCELLED,
                explanation="The run was cancelled.",
                ended_at=now,
                lease_token="",
                lease_until=None,
                current_node="",
                updated_at=now,
            )
        )
        if not updated:
            raise Conflict(f"The run has already ended ({run.status}).")
        AutomationEvent.objects.create(
            company_id=run.company_id,
            automation_id=run.automation_id,
            kind=AutomationEvent.Kind.RUN,
            event=f"{run.get_mode_display().capitalize()} run cancelled",
        )
    run.refresh_from_db()
    run_progress_send(run, state=run.status, error=run.explanation)
    return run


def runs_recover(*, now: Any = None) -> int:
    """Queue again the runs whose worker died or whose job was lost; fail those past their time limit.

    Runs at most once every AUTOMATION_REQUEUE_SECONDS per run; the claim in the runner makes any
    extra delivery harmless.
    """
    now = now or timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    # A system sweep over every company's runs: it addresses rows by their own state, not for a caller.
    expired = AutomationRun.objects.filter(free, status=RUNNING, deadline__lt=now - timedelta(seconds=5))
    for run in expired.select_related("automation")[:1000]:
        limit = (run.deadline - run.started_at).total_seconds()
        explanation = f"The run did not finish within its time limit of {limit:g} s."
        with transaction.atomic():
            updated = AutomationRun.objects.filter(pk=run.pk, status=RUNNING, lease_token=run.lease_token).update(
                status=AutomationRun.Status.FAILED,
                explanation=explanation,
                ended_at=now,
                lease_token="",
                lease_until=None,
                updated_at=now,
            )
            if updated:
                AutomationEvent.objects.create(
                    company_id=run.company_id,
                    automation_id=run.automation_id,
                    kind=AutomationEvent.Kind.RUN,
                    event=f"{run.get_mode_display().capitalize()} run failed: it did not finish in time",
                )
        if updated:
            run_progress_send(run, state=AutomationRun.Status.FAILED, error=explanation)
    stale = now - timedelta(seconds=settings.AUTOMATION_REQUEUE_SECONDS)
    lost = AutomationRun.objects.filter(free, status=RUNNING, enqueued_at__lt=stale).values_list("pk", "enqueued_at")
    queued = 0
    for run_id, enqueued_at in list(lost[:1000]):
        with transaction.atomic():
            if AutomationRun.objects.filter(pk=run_id, status=RUNNING, enqueued_at=enqueued_at).update(enqueued_at=now):
                transaction.on_commit(partial(_enqueue, run_id))
                queued += 1
    return queued


def runs_prune(*, now: Any = None) -> int:
    """Delete finished runs (and run events) older than each company's retention."""
    now = now or timezone.now()
    overrides = dict(
        AutomationSettings.objects.exclude(run_retention_days=None).values_list("company_id", "run_retention_days")
    )
    deleted = 0

    def prune(queryset: Any, events: Any, days: int) -> int:
        cutoff = now - timedelta(days=days)
        events.filter(kind=AutomationEvent.Kind.RUN, created_at__lt=cutoff).delete()
        count, _ = queryset.filter(ended_at__lt=cutoff).exclude(status=RUNNING).delete()
        return int(count)

    # A system sweep: companies on the default retention at once, then each company with its own.
    deleted += prune(
        AutomationRun.objects.exclude(company_id__in=overrides),
        AutomationEvent.objects.exclude(company_id__in=overrides),
        settings.AUTOMATION_RUN_RETENTION_DAYS,
    )
    for company_id, days in overrides.items():
        deleted += prune(
            AutomationRun.objects.filter(company_id=company_id),
            AutomationEvent.objects.filter(company_id=company_id),
            days,
        )
    return deleted


def schedules_tick(*, now: Any = None) -> int:
    """Start a run of every active automation whose schedule is due; each due time fires once."""
    now = now or timezone.now()
    due = Automation.objects.filter(is_active=True, next_run_at__lte=now).exclude(schedule="")
    started = 0
    for automation in due.order_by("next_run_at")[:1000]:
        due_at = automation.next_run_at
        try:
            following = schedule_next(automation.schedule, now)
        except InvalidInput:
            following = None
        with transaction.atomic():
            # Only the tick that moves next_run_at on from this due time starts the run.
            claimed = Automation.objects.filter(pk=automation.pk, next_run_at=due_at).update(next_run_at=following)
            if not claimed:
                continue
            try:
                run_start(
                    automation=automation,
                    mode=AutomationRun.Mode.SCHEDULE,
                    input={"scheduled_for": due_at.isoformat().replace("+00:00", "Z") if due_at else None},
                )
            except InvalidInput:
                continue
            started += 1
    return started
