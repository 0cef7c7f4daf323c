"""Automation definitions: save (create or update), clone, delete, trigger URL secrets, events."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.automations.flow import FlowInvalid, flow_check_company, parse_flow
from apps.automations.models import Automation, AutomationEvent
from apps.automations.selectors import automation_get
from apps.automations.services.schedules import schedule_next
from apps.core.crypto import decrypt_text, digest, encrypt_text, random_token
from apps.core.exceptions import InvalidInput
from apps.core.ids import rows_with_ids

TRIGGER_PURPOSE = "automation-trigger"


def trigger_digest(secret: str) -> str:
    """The keyed digest a trigger URL's secret is looked up by."""
    return digest(secret, purpose=TRIGGER_PURPOSE)


def trigger_secret(automation: Automation) -> str:
    """The secret in the automation's trigger URL."""
    return decrypt_text(automation.trigger_secret)


def _new_trigger(automation: Automation) -> str:
    secret = random_token(32)
    automation.trigger_digest = trigger_digest(secret)
    automation.trigger_secret = encrypt_text(secret)
    return secret


def event_record(*, automation: Automation, event: str, kind: str = AutomationEvent.Kind.CHANGE) -> None:
    """Add an event to the automation's history."""
    AutomationEvent.objects.create(company_id=automation.company_id, automation=automation, kind=kind, event=event)


def _validated_flow(flow: Any, company: Any) -> dict[str, Any]:
    try:
        flow_check_company(parse_flow(flow), company)
    except FlowInvalid as exc:
        raise InvalidInput(str(exc)) from exc
    return flow if isinstance(flow, dict) else {}


def automation_save(
    *,
    company: Any,
    actor: Any,
    name: str,
    automation_id: Any = None,
    description: str | None = None,
    is_active: bool | None = None,
    flow: Any = None,
    trigger_name: str | None = None,
    schedule: str | None = None,
) -> Automation:
    """Create an automation, or update one when `automation_id` is given; fields left out keep their value."""
    if not name or not name.strip():
        raise InvalidInput("Missing or invalid automation name.")
    checked_flow = _validated_flow(flow, company) if flow is not None else None
    cron = " ".join(schedule.split()) if schedule is not None else None
    now = timezone.now()
    next_run = schedule_next(cron, now) if cron else None
    with transaction.atomic():
        if automation_id is not None:
            found = automation_get(company=company, automation_id=automation_id)
            automation = Automation.objects.select_for_update().get(pk=found.pk)
            was_active, old_schedule = automation.is_active, automation.schedule
        else:
            automation = Automation(company=company)
            _new_trigger(automation)
            was_active, old_schedule = False, ""
        automation.name = name.strip()
        if description is not None:
            automation.description = description
        if is_active is not None:
            automation.is_active = is_active
        if checked_flow is not None:
            automation.flow = checked_flow
        if trigger_name is not None:
            automation.trigger_name = trigger_name.strip()
        if cron is not None:
            automation.schedule = cron
        # A new schedule, or a schedule coming back to life, counts from now: missed times are not caught up.
        if cron is not None and (cron != old_schedule or not automation.next_run_at):
            automation.next_run_at = next_run
        elif automation.is_active and not was_active and automation.schedule:
            automation.next_run_at = schedule_next(automation.schedule, now)
        automation.save()
        if automation_id is None:
            event_record(automation=automation, event="Automation created")
        else:
            event_record(automation=automation, event="Automation modified")
        if automation.is_active != was_active and (automation_id is not None or automation.is_active):
            event_record(
                automation=automation,
                event="Automation activated" if automation.is_active else "Automation deactivated",
            )
    return automation


def automation_clone(*, company: Any, actor: Any, automation_id: Any, name: str) -> Automation:
    """A new automation with a new id, name and trigger URL, and every other setting of the original."""
    if not name or not name.strip():
        raise InvalidInput("Missing or invalid automationid or name.")
    with transaction.atomic():
        original = automation_get(company=company, automation_id=automation_id)
        clone = Automation(
            company=company,
            name=name.strip(),
            description=original.description,
            is_active=original.is_active,
            flow=original.flow,
            trigger_name=original.trigger_name,
            schedule=original.schedule,
            next_run_at=schedule_next(original.schedule, timezone.now()) if original.schedule else None,
        )
        _new_trigger(clone)
        clone.save()
        event_record(automation=clone, event=f"Automation created as a clone of {original.name}")
        if clone.is_active:
            event_record(automation=clone, event="Automation activated")
    return clone


def automations_delete(*, company: Any, actor: Any, automation_ids: list[Any]) -> int:
    """Delete automations with their runs and events; all or nothing (an unknown id deletes none)."""
    if not automation_ids:
        raise InvalidInput("Missing automations.")
    with transaction.atomic():
        rows = rows_with_ids(Automation.objects.for_company(company), automation_ids, what="Automation")
        Automation.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(rows)


def automation_trigger_rotate(*, company: Any, actor: Any, automation_id: Any) -> Automation:
    """A new trigger URL for the automation; the old one stops working at once."""
    with transaction.atomic():
        found = automation_get(company=company, automation_id=automation_id)
        automation = Automation.objects.select_for_update().get(pk=found.pk)
        _new_trigger(automation)
        automation.save(update_fields=["trigger_digest", "trigger_secret", "updated_at"])
        event_record(automation=automation, event="Trigger URL rotated")
    return automation
