"""Reads of automations, their events and runs, always scoped to the caller's company."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from apps.automations.models import Automation, AutomationEvent, AutomationRun
from apps.core.exceptions import NotFound
from apps.core.ids import parse_uuid

AUTOMATION_NOT_FOUND = "Automation not found."
RUN_NOT_FOUND = "Run not found."


def automation_list(*, company: Any) -> QuerySet[Automation]:
    """The company's automations by name."""
    return Automation.objects.for_company(company).order_by("name", "created_at")


def automation_get(*, company: Any, automation_id: Any) -> Automation:
    """One automation of the company; an unknown id or another company's answers alike."""
    parsed = parse_uuid(automation_id)
    automation = Automation.objects.for_company(company).filter(pk=parsed).first() if parsed else None
    if automation is None:
        raise NotFound(AUTOMATION_NOT_FOUND)
    return automation


def automation_events(*, company: Any, automation: Automation) -> list[AutomationEvent]:
    """The automation's latest events, newest first."""
    return list(
        AutomationEvent.objects.for_company(company)
        .filter(automation=automation)
        .order_by("-created_at", "-id")[: settings.AUTOMATION_EVENTS_SHOWN]
    )


def run_page(*, company: Any, automation_id: Any, page: int, page_size: int) -> tuple[list[AutomationRun], int]:
    """One page of an automation's runs, newest first, and the number of runs."""
    automation = automation_get(company=company, automation_id=automation_id)
    runs = AutomationRun.objects.for_company(company).filter(automation=automation).order_by("-started_at", "-id")
    start = (page - 1) * page_size
    return list(runs.defer("flow")[start : start + page_size]), runs.count()


def run_get(*, company: Any, run_id: Any) -> AutomationRun:
    """One run of the company."""
    parsed = parse_uuid(run_id)
    run = AutomationRun.objects.for_company(company).filter(pk=parsed).first() if parsed else None
    if run is None:
        raise NotFound(RUN_NOT_FOUND)
    return run
