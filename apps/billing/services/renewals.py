"""Renewals: the daily job charges memberships that are due, retries declines on a schedule, then falls back.

A renewal's payment keeps every attempt in its `history`. After a decline the membership is past due
(the plan stays) and is retried `BILLING_RETRY_DAYS` days later, one entry per retry; after the last
failure, or with no payment method left, the company falls back to NONE.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from apps.billing.models import Membership, Payment
from apps.billing.processors import get_processor
from apps.billing.processors.base import CardDeclined, ProcessorUnavailable
from apps.billing.services.common import add_period, card_snapshot, customer_for, history_entry, membership_fall_back
from apps.billing.services.limits import company_plan

logger = logging.getLogger("apps.billing")

RENEWED = "renewed"
RETRYING = "retrying"
ENDED = "ended"
FELL_BACK = "fell_back"
SKIPPED = "skipped"


def _due(now: datetime) -> Q:
    return Q(status__in=[Membership.STATUS_ACTIVE, Membership.STATUS_CANCELLING], period_end__lte=now) | Q(
        status=Membership.STATUS_PAST_DUE, next_retry_at__lte=now
    )


@dataclass
class RenewalRun:
    """What one run of the renewal job did, by outcome."""

    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def memberships_renew_due(*, now: datetime) -> RenewalRun:
    """Renew (or end) every membership due at `now`, each in its own transaction."""
    run = RenewalRun()
    for membership_id in Membership.objects.filter(_due(now)).order_by("period_end").values_list("pk", flat=True):
        try:
            run.add(membership_renew(membership_id=membership_id, now=now))
        except ProcessorUnavailable:
            # Nothing was charged or recorded; the next run picks it up again.
            logger.warning("Renewal of membership %s postponed: the processor is unavailable", membership_id)
            run.add(SKIPPED)
    logger.info("Renewal run at %s: %s", now.isoformat(), run.outcomes)
    return run


def membership_renew(*, membership_id: object, now: datetime) -> str:
    """Renew one membership if it is still due (locked, so parallel runs never charge twice)."""
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("company", "payment_method", "pending_payment")
            .filter(_due(now), pk=membership_id)
            .first()
        )
        if membership is None:
            return SKIPPED
        if membership.status == Membership.STATUS_CANCELLING:
            membership_fall_back(membership=membership, now=now, reason="Cancelled; the paid period ended.")
            return ENDED
        payment = membership.pending_payment
        if payment is None or payment.status != Payment.STATUS_PENDING:
            payment = _renewal_payment(membership)
        return _attempt(membership, payment, now)


def _renewal_payment(membership: Membership) -> Payment:
    plan = company_plan(company=membership.company)
    payment = Payment.objects.create(
        company=membership.company,
        kind=Payment.KIND_RENEWAL,
        status=Payment.STATUS_PENDING,
        plan_code=plan.code,
        program=plan.program,
        currency=plan.currency,
        amount_cents=plan.price_cents,
        processor="",
        customer_id=membership.processor_customer_id,
        metadata={
            "membership_plan": plan.code,
            "period_start": membership.period_end.isoformat() if membership.period_end else "",
        },
    )
    membership.pending_payment = payment
    membership.retry_count = 0
    return payment


def _attempt(membership: Membership, payment: Payment, now: datetime) -> str:
    attempt = len(payment.history) + 1
    method = membership.payment_method
    if method is None:
        payment.history = [
            *payment.history,
            history_entry(attempt=attempt, now=now, status=Payment.STATUS_FAILED, reason="No payment method."),
        ]
        payment.status, payment.failure_reason, payment.next_date = Payment.STATUS_FAILED, "No payment method.", None
        payment.save()
        membership.pending_payment = None
        membership_fall_back(membership=membership, now=now, reason="Renewal failed: no payment method.")
        return FELL_BACK
    processor = get_processor(method.processor)
    payment.processor, payment.payment_method, payment.card = method.processor, method, card_snapshot(method)
    try:
        charge = processor.charge(
            token=method.token,
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            customer=customer_for(membership=membership, processor=processor),
            description=f"{payment.plan_code} membership renewal",
            now=now,
        )
    except CardDeclined as exc:
        return _declined(membership, payment, now, attempt, exc)
    plan = company_plan(company=membership.company)
    start = membership.period_end or now
    end = add_period(start, plan.period)
    if end <= now:  # far behind (the job did not run for a whole period): start afresh from now
        start, end = now, add_period(now, plan.period)
    payment.status, payment.paid_at, payment.next_date = Payment.STATUS_SUCCEEDED, now, end
    payment.processor_charge_id, payment.fee_cents = charge.charge_id, charge.fee_cents
    payment.cvc_check, payment.zip_check = charge.cvc_check, charge.zip_check
    payment.risk_level, payment.risk_score = charge.risk_level, charge.risk_score
    payment.failure_reason = ""
    payment.history = [
        *payment.history,
        history_entry(attempt=attempt, now=now, status=Payment.STATUS_SUCCEEDED, charge_id=charge.charge_id),
    ]
    payment.save()
    membership.status = Membership.STATUS_ACTIVE
    membership.period_start, membership.period_end = start, end
    membership.retry_count, membership.next_retry_at, membership.pending_payment = 0, None, None
    membership.save()
    logger.info("Membership of company %s renewed until %s (payment %s)", membership.company_id, end, payment.pk)
    return RENEWED


def _declined(membership: Membership, payment: Payment, now: datetime, attempt: int, exc: CardDeclined) -> str:
    retry_days: list[int] = settings.BILLING_RETRY_DAYS
    payment.history = [
        *payment.history,
        history_entry(
            attempt=attempt, now=now, status=Payment.STATUS_FAILED, reason=exc.message, decline_code=exc.decline_code
        ),
    ]
    payment.failure_reason = exc.message
    logger.info("Renewal of company %s declined (attempt %s): %s", membership.company_id, attempt, exc.decline_code)
    if membership.retry_count < len(retry_days):
        next_retry = now + timedelta(days=retry_days[membership.retry_count])
        payment.status, payment.next_date = Payment.STATUS_PENDING, next_retry
        payment.save()
        membership.status = Membership.STATUS_PAST_DUE
        membership.retry_count += 1
        membership.next_retry_at = next_retry
        membership.pending_payment = payment
        membership.save()
        return RETRYING
    payment.status, payment.next_date = Payment.STATUS_FAILED, None
    payment.save()
    membership.pending_payment = None
    membership_fall_back(membership=membership, now=now, reason=f"Renewal failed after {attempt} attempts.")
    return FELL_BACK
