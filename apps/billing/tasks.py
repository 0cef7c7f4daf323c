"""Billing jobs: the daily renewal run, the idempotency key purge, staff notices of plan requests."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.billing.services.idempotency import idempotency_keys_purge
from apps.billing.services.notices import membership_request_notify
from apps.billing.services.renewals import memberships_renew_due


@shared_task
def renew_due_memberships(now: str | None = None) -> dict[str, int]:
    """Renew every membership that is due (daily, from beat); `now` (ISO 8601) fixes the clock."""
    moment = parse_datetime(now) if now else timezone.now()
    if moment is None:
        raise ValueError(f"now must be an ISO 8601 date and time, got {now!r}")
    return memberships_renew_due(now=moment).outcomes


@shared_task
def purge_idempotency_keys() -> int:
    """Remove idempotency keys past their lifetime."""
    return idempotency_keys_purge()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_staff_of_membership_request(*, request_id: str) -> int:
    """Email staff about a membership request; how many were told."""
    return membership_request_notify(request_id=request_id)
