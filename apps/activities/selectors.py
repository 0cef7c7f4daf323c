"""Reads of activities, always scoped to the caller's company."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.activities.models import Activity
from apps.core.exceptions import NotFound
from apps.core.ids import parse_uuid

ACTIVITY_NOT_FOUND = "Activity not found."


def activity_list(*, company: Any, is_active: bool | None = None) -> QuerySet[Activity]:
    """The company's activities by name, optionally only the active (or inactive) ones."""
    queryset = Activity.objects.for_company(company)
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    return queryset.order_by("name", "created_at")


def activity_get(*, company: Any, activity_id: Any) -> Activity:
    """One activity of the company; an unknown id or another company's answers alike."""
    parsed = parse_uuid(activity_id)
    activity = Activity.objects.for_company(company).filter(pk=parsed).first() if parsed else None
    if activity is None:
        raise NotFound(ACTIVITY_NOT_FOUND)
    return activity


def activity_system_prompt(*, company: Any, activity_id: Any) -> str:
    """The system message a chat started with this activity begins with."""
    activity = activity_get(company=company, activity_id=activity_id)
    parts = [f"Activity: {activity.name}."]
    if activity.description:
        parts.append(activity.description)
    if activity.prompt:
        parts.append(activity.prompt)
    return "\n\n".join(parts)
