"""Writes of activities: save (create or update), clone, bulk delete, and the limit of active ones."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.accounts.models import Company
from apps.activities.models import Activity, ActivitySettings
from apps.activities.selectors import activity_get
from apps.billing.services.limits import limit_check
from apps.core.exceptions import InvalidInput
from apps.core.ids import parse_uuid, rows_with_ids
from apps.core.limits import ACTIVE_ACTIVITIES
from apps.models_registry.selectors import model_get

ACTIVE_LIMIT_REACHED = (
    "You have already activated the maximum number of activities you can activate as per your membership plan. "
    "Please upgrade your membership to increase the number of activities you can activate."
)


class ActiveLimitReached(InvalidInput):
    """Activating one more activity would pass the company's limit."""

    default_message = ACTIVE_LIMIT_REACHED


def activity_active_limit(*, company: Any) -> int:
    """How many activities the company may have active at once (its setting, else the default)."""
    override = ActivitySettings.objects.for_company(company).values_list("active_limit", flat=True).first()
    return override if override is not None else settings.ACTIVITY_ACTIVE_LIMIT_DEFAULT


def _lock_company(company: Any) -> None:
    # Serialises activations of one company, so two concurrent saves cannot both take the last slot.
    Company.objects.for_company(company).select_for_update().get()


def _ensure_may_activate(*, company: Any, excluding: uuid.UUID | None) -> None:
    active = Activity.objects.for_company(company).filter(is_active=True)
    if excluding is not None:
        active = active.exclude(pk=excluding)
    current = active.count()
    if current >= activity_active_limit(company=company):
        raise ActiveLimitReached()
    limit_check(company=company, resource=ACTIVE_ACTIVITIES, amount=1, current=current)  # the plan's limit


def _model_id(value: Any) -> uuid.UUID:
    parsed = parse_uuid(value)
    if parsed is None:
        raise InvalidInput("Invalid modelid: it must be a model id.")
    return parsed


def activity_save(
    *,
    company: Any,
    actor: Any,
    name: str,
    model_id: Any,
    activity_id: Any = None,
    description: str | None = None,
    prompt: str | None = None,
    is_active: bool | None = None,
) -> Activity:
    """Create an activity, or update one when `activity_id` is given; fields left out keep their value."""
    if not name or not name.strip():
        raise InvalidInput("Missing or invalid activity name.")
    parsed_model = _model_id(model_id)
    with transaction.atomic():
        if activity_id is not None:
            _lock_company(company)
            activity = activity_get(company=company, activity_id=activity_id)
            activity = Activity.objects.select_for_update().get(pk=activity.pk)
            was_active = activity.is_active
        else:
            activity = Activity(company=company)
            was_active = False
        activity.name = name.strip()
        # A model of the company: an unknown id and another company's answer alike (404).
        activity.model_id = model_get(company=company, modelid=parsed_model).pk
        if description is not None:
            activity.description = description
        if prompt is not None:
            activity.prompt = prompt
        if is_active is not None:
            activity.is_active = is_active
        if activity.is_active and not was_active:
            if activity_id is None:
                _lock_company(company)
            _ensure_may_activate(company=company, excluding=activity.pk if activity_id is not None else None)
        activity.save()
    return activity


def activity_clone(*, company: Any, actor: Any, activity_id: Any, name: str) -> Activity:
    """A new activity with a new id and name and every other setting of the original."""
    if not name or not name.strip():
        raise InvalidInput("Missing or invalid name.")
    with transaction.atomic():
        original = activity_get(company=company, activity_id=activity_id)
        if original.is_active:
            _lock_company(company)
            _ensure_may_activate(company=company, excluding=None)
        return Activity.objects.create(
            company=company,
            name=name.strip(),
            description=original.description,
            prompt=original.prompt,
            is_active=original.is_active,
            model_id=original.model_id,
        )


def activities_delete(*, company: Any, actor: Any, activity_ids: list[Any]) -> int:
    """Delete activities of the company; all or nothing (an unknown id deletes none)."""
    if not activity_ids:
        raise InvalidInput("Missing activities.")
    with transaction.atomic():
        rows = rows_with_ids(Activity.objects.for_company(company), activity_ids, what="Activity")
        Activity.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(rows)
