"""Plans and limits: the one place that answers "may this company do this now?".

Gauges count what exists now (users, active activities, models); meters count use per calendar month
(UTC) and start again at zero each month (inference requests, tokens, transcription seconds); the upload
size is checked per upload. Other apps call `limit_check` (or `usage_consume` to check and count in one
step), and `usage_record` for what they can only count afterwards (tokens of a completion).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Case, Count, Exists, F, Value, When
from django.utils import timezone

from apps.accounts.models import Company
from apps.accounts.selectors import user_list
from apps.billing.catalogue import MB, PLAN_CATALOGUE
from apps.billing.models import Plan, UsageCounter
from apps.core import limits as core_limits
from apps.core.exceptions import ApplicationError, PayloadTooLarge, RateLimited
from apps.core.limits import (
    ACTIVE_ACTIVITIES,
    INFERENCE_REQUESTS,
    MODELS,
    TOKENS,
    TRANSCRIPTION_SECONDS,
    UPLOAD_BYTES,
    USERS,
)

# resource -> (Plan field, how many base units one unit of the field is)
GAUGES: dict[str, str] = {USERS: "max_users", ACTIVE_ACTIVITIES: "max_active_activities", MODELS: "max_models"}
METERS: dict[str, tuple[str, int]] = {
    INFERENCE_REQUESTS: ("max_inference_requests_per_month", 1),
    TOKENS: ("max_tokens_per_month", 1),
    TRANSCRIPTION_SECONDS: ("max_transcription_minutes_per_month", 60),
}
PER_USE: dict[str, tuple[str, int]] = {UPLOAD_BYTES: ("max_upload_mb", MB)}

LABELS: dict[str, str] = {
    USERS: "active users",
    ACTIVE_ACTIVITIES: "active activities",
    MODELS: "models",
    INFERENCE_REQUESTS: "inference requests",
    TOKENS: "tokens",
    TRANSCRIPTION_SECONDS: "transcription minutes",
    UPLOAD_BYTES: "MB per upload",
}

# The spec's exact words (activity/save), answered with its 400.
ACTIVITY_LIMIT_MESSAGE = (
    "You have already activated the maximum number of activities you can activate as per your membership plan. "
    "Please upgrade your membership to increase the number of activities you can activate."
)


class LimitExceeded(ApplicationError):
    """The company's plan does not allow more of this; upgrading would."""

    status_code = 403
    default_message = "Your membership plan does not allow this. Please upgrade your membership."


class ActivityLimitExceeded(LimitExceeded):
    """The active-activity limit, answered as the spec shows it (400)."""

    status_code = 400
    default_message = ACTIVITY_LIMIT_MESSAGE


class QuotaExhausted(RateLimited):
    """This month's allowance of a metered resource is used up; Retry-After says when it starts again."""

    default_message = "Your membership plan's monthly allowance is used up."


class UploadTooLarge(PayloadTooLarge):
    """A file over the plan's upload size."""


# --- plans ------------------------------------------------------------------------------------------


def plan_get(*, code: str) -> Plan:
    """The catalogue's plan for a code; a missing row is restored from the shipped catalogue."""
    plan = Plan.objects.filter(code=code).first()
    if plan is not None:
        return plan
    code = code if code in PLAN_CATALOGUE else "NONE"
    plan, _ = Plan.objects.get_or_create(code=code, defaults=PLAN_CATALOGUE[code])
    return plan


def plans_ensure() -> None:
    """Restore the shipped catalogue when the plan table is empty (a flushed database)."""
    if not Plan.objects.exists():
        for code in PLAN_CATALOGUE:
            plan_get(code=code)


def company_plan(*, company: Company) -> Plan:
    """The plan a company is on now."""
    return plan_get(code=company.plan or "NONE")


def limit_of(*, plan: Plan, resource: str) -> int | None:
    """The plan's limit for a resource in base units (seconds, bytes), None when unlimited."""
    if resource in GAUGES:
        return getattr(plan, GAUGES[resource])
    if resource in METERS:
        field, unit = METERS[resource]
    elif resource in PER_USE:
        field, unit = PER_USE[resource]
    else:
        raise ValueError(f"Unknown limited resource: {resource!r}")
    value = getattr(plan, field)
    return None if value is None else value * unit


# --- periods and counters ----------------------------------------------------------------------------


def period_start(now: datetime) -> date:
    """The first day of the usage period (the calendar month, UTC) that `now` falls in."""
    return now.astimezone(UTC).date().replace(day=1)


def next_period_start(now: datetime) -> datetime:
    """When the usage period after the one of `now` begins."""
    first = period_start(now)
    following = (first + timedelta(days=32)).replace(day=1)
    return datetime(following.year, following.month, 1, tzinfo=UTC)


def usage_used(*, company: Company, resource: str, now: datetime | None = None) -> int:
    """How much of a metered resource the company used in the period of `now`."""
    start = period_start(now or timezone.now())
    used = (
        UsageCounter.objects.for_company(company)
        .filter(resource=resource, period_start=start)
        .values_list("used", flat=True)
        .first()
    )
    return used or 0


def _counter_add(*, company: Company, resource: str, amount: int, now: datetime, limit: int | None) -> int | None:
    """Add to this period's counter; with `limit`, only when it stays within it. The new total, or None."""
    start = period_start(now)
    rows = UsageCounter.objects.for_company(company).filter(resource=resource, period_start=start)
    guarded = rows if limit is None else rows.filter(used__lte=limit - amount)
    with transaction.atomic():
        # The usual case is one conditional UPDATE; the month's row is made on its first use.
        if not guarded.update(used=F("used") + amount, updated_at=timezone.now()):
            UsageCounter.objects.get_or_create(company=company, resource=resource, period_start=start)
            if not guarded.update(used=F("used") + amount, updated_at=timezone.now()):
                return None  # over the limit
        return rows.values_list("used", flat=True).get()


def _meter(resource: str) -> None:
    if resource not in METERS:
        raise ValueError(f"{resource!r} is not a metered resource; metered: {', '.join(METERS)}")


def _amount(amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError(f"amount must be a whole number of at least 0, got {amount!r}")
    return amount


# --- the answers ----------------------------------------------------------------------------------------


def _display(resource: str, value: int) -> str:
    if resource == TRANSCRIPTION_SECONDS:
        return f"{math.ceil(value / 60):,}"
    if resource == UPLOAD_BYTES:
        return f"{value / MB:,.0f}"
    return f"{value:,}"


def _limit_extra(plan: Plan, resource: str, limit: int, **more: Any) -> dict[str, Any]:
    return {"resource": resource, "limit": limit, "plan": plan.code, **more}


def _gauge_error(*, plan: Plan, resource: str, limit: int, current: int) -> LimitExceeded:
    extra = _limit_extra(plan, resource, limit, current=current)
    if resource == ACTIVE_ACTIVITIES:
        return ActivityLimitExceeded(extra=extra)
    return LimitExceeded(
        f"Your membership plan ({plan.code}) allows at most {limit:,} {LABELS[resource]}. "
        "Please upgrade your membership to add more.",
        extra=extra,
    )


def _quota_error(*, plan: Plan, resource: str, limit: int, used: int, amount: int, now: datetime) -> QuotaExhausted:
    resets = next_period_start(now)
    remaining = max(limit - used, 0)
    return QuotaExhausted(
        f"Your membership plan ({plan.code}) allows {_display(resource, limit)} {LABELS[resource]} per month; "
        f"{_display(resource, remaining)} are left this month and this needs {_display(resource, amount)}. "
        f"The allowance starts again on {resets:%Y-%m-%d}. Please upgrade your membership for more.",
        retry_after=max(int((resets - now).total_seconds()), 1),
        extra=_limit_extra(plan, resource, limit, used=used, resets=resets.isoformat().replace("+00:00", "Z")),
    )


def limit_check(
    *, company: Company, resource: str, amount: int = 1, current: int | None = None, now: datetime | None = None
) -> None:
    """Raise when the company's plan does not allow `amount` more of `resource` now.

    Gauges: `current` is how many exist now (counted through the registered counter when not given).
    Meters: compared with this month's counter (nothing is counted; see `usage_consume`).
    Upload size: `amount` is the file's size in bytes.
    """
    amount = _amount(amount)
    plan = company_plan(company=company)
    limit = limit_of(plan=plan, resource=resource)
    if limit is None:
        return
    if resource in GAUGES:
        if current is None:
            current = core_limits.current_usage(company, resource)
        if current is None:
            raise ValueError(f"Pass current= for {resource!r}: no app registered a counter for it.")
        if current + amount > limit:
            raise _gauge_error(plan=plan, resource=resource, limit=limit, current=current)
    elif resource in METERS:
        now = now or timezone.now()
        used = usage_used(company=company, resource=resource, now=now)
        if used + amount > limit:
            raise _quota_error(plan=plan, resource=resource, limit=limit, used=used, amount=amount, now=now)
    elif amount > limit:
        raise UploadTooLarge(
            f"Your membership plan ({plan.code}) allows uploads of at most {_display(resource, limit)} MB. "
            "Please upgrade your membership for larger files.",
            extra=_limit_extra(plan, resource, limit, size=amount),
        )


def meters_check(*, company: Company, amounts: dict[str, int], now: datetime | None = None) -> None:
    """`limit_check` for several metered resources at once: one plan read and one counter read in all."""
    plan = company_plan(company=company)
    limits = {}
    for resource, amount in amounts.items():
        _meter(resource)
        limit = limit_of(plan=plan, resource=resource)
        if limit is not None:
            limits[resource] = (limit, _amount(amount))
    if not limits:
        return
    now = now or timezone.now()
    counters = UsageCounter.objects.for_company(company).filter(resource__in=limits, period_start=period_start(now))
    used = dict(counters.values_list("resource", "used"))
    for resource, (limit, amount) in limits.items():
        if used.get(resource, 0) + amount > limit:
            raise _quota_error(
                plan=plan, resource=resource, limit=limit, used=used.get(resource, 0), amount=amount, now=now
            )


def usage_add(*, company: Company, amounts: dict[str, int], now: datetime | None = None) -> None:
    """`usage_record` for several metered resources at once, in one UPDATE (no totals are read back).

    The UPDATE counts only when every row of the month is there (all rows or none), so a partial count never
    has to be told apart afterwards; at the month's first use the missing rows are made and one UPDATE counts.
    """
    for resource in amounts:
        _meter(resource)
    amounts = {resource: _amount(amount) for resource, amount in amounts.items() if amount}
    if not amounts:
        return
    now = now or timezone.now()
    start = period_start(now)
    rows = UsageCounter.objects.for_company(company).filter(period_start=start, resource__in=amounts)
    increment = Case(*(When(resource=resource, then=Value(amount)) for resource, amount in amounts.items()))
    existing = (
        UsageCounter.objects.filter(company=company, period_start=start, resource__in=amounts)
        .order_by()
        .values("company")
        .annotate(count=Count("pk"))
        .values("count")
    )
    if rows.filter(Exists(existing.filter(count=len(amounts)))).update(used=F("used") + increment, updated_at=now):
        return
    UsageCounter.objects.bulk_create(
        [UsageCounter(company=company, resource=resource, period_start=start) for resource in amounts],
        ignore_conflicts=True,
    )
    rows.update(used=F("used") + increment, updated_at=now)


def usage_record(*, company: Company, resource: str, amount: int, now: datetime | None = None) -> int:
    """Count use of a metered resource that already happened (it may pass the limit); the new total."""
    _meter(resource)
    total = _counter_add(
        company=company, resource=resource, amount=_amount(amount), now=now or timezone.now(), limit=None
    )
    assert total is not None  # noqa: S101 - no limit given, the add always happens
    return total


def usage_consume(*, company: Company, resource: str, amount: int = 1, now: datetime | None = None) -> int:
    """Check and count in one atomic step (no race between parallel requests); the new total."""
    _meter(resource)
    amount = _amount(amount)
    now = now or timezone.now()
    plan = company_plan(company=company)
    limit = limit_of(plan=plan, resource=resource)
    total = _counter_add(company=company, resource=resource, amount=amount, now=now, limit=limit)
    if total is None:
        used = usage_used(company=company, resource=resource, now=now)
        raise _quota_error(plan=plan, resource=resource, limit=limit or 0, used=used, amount=amount, now=now)
    return total


# --- what the admin shows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageLine:
    """One resource: how much is used now and what the plan allows (in the unit people read)."""

    resource: str
    label: str
    used: int | None
    limit: int | None

    def __str__(self) -> str:
        used = "?" if self.used is None else f"{self.used:,}"
        limit = "unlimited" if self.limit is None else f"{self.limit:,}"
        return f"{self.label}: {used} / {limit}"


def usage_summary(*, company: Company, now: datetime | None = None) -> list[UsageLine]:
    """Every limited resource of the company: used (this month for meters) against the plan's limit."""
    now = now or timezone.now()
    plan = company_plan(company=company)
    lines = []
    for resource in GAUGES:
        lines.append(
            UsageLine(
                resource,
                LABELS[resource],
                core_limits.current_usage(company, resource),
                getattr(plan, GAUGES[resource]),
            )
        )
    start = period_start(now)
    counters = dict(
        UsageCounter.objects.for_company(company).filter(period_start=start).values_list("resource", "used")
    )
    for resource, (field, unit) in METERS.items():
        used = counters.get(resource, 0)
        lines.append(UsageLine(resource, LABELS[resource], math.ceil(used / unit), getattr(plan, field)))
    lines.append(UsageLine(UPLOAD_BYTES, LABELS[UPLOAD_BYTES], None, plan.max_upload_mb))
    return lines


def billing_limit_checker(company: Any, resource: str, amount: int, current: int | None) -> None:
    """The checker billing registers with apps.core.limits, for the layers below it."""
    limit_check(company=company, resource=resource, amount=amount, current=current)


def count_active_users(company: Any) -> int:
    """Active users of a company (operator accounts do not count)."""
    return user_list(company=company).filter(is_active=True).count()
