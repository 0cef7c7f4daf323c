"""What the billing services share: the company's membership row (also its lock), money and card shapes."""

from __future__ import annotations

import calendar
import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from apps.accounts.models import Company
from apps.accounts.services.users import company_plan_set
from apps.billing.models import PERIOD_MONTH, PERIOD_YEAR, Membership, Payment, PaymentMethod
from apps.billing.processors.base import PaymentProcessor

logger = logging.getLogger("apps.billing")


def membership_for(*, company: Company, lock: bool = False) -> Membership:
    """The company's membership row (made on first use). With `lock`, held until the transaction ends,
    which serialises every billing write of one company (call inside transaction.atomic)."""
    Membership.objects.get_or_create(company=company)
    rows = Membership.objects.for_company(company)
    if lock:
        rows = rows.select_for_update()
    return rows.get()


def customer_for(*, membership: Membership, processor: PaymentProcessor) -> str:
    """The processor's customer id for the membership's company, kept on the membership."""
    if not membership.processor_customer_id:
        membership.processor_customer_id = processor.customer_id(company_id=str(membership.company_id))
        membership.save(update_fields=["processor_customer_id", "updated_at"])
    return membership.processor_customer_id


def cents_to_amount(cents: int) -> int | Decimal:
    """Cents as the API shows money: a whole number when it is one (10), else exact decimals (0.45)."""
    if cents % 100 == 0:
        return cents // 100
    return Decimal(cents) / 100


def card_snapshot(method: PaymentMethod) -> dict[str, Any]:
    """What a payment keeps of the card that paid it (shown as `cardInfo`)."""
    return {
        "cardholderName": method.cardholder_name,
        "cardLast4": method.last4,
        "cardType": method.brand,
        "expiryMonth": method.exp_month,
        "expiryYear": method.exp_year,
        "debitCredit": method.funding,
        "zipCode": method.zip_code,
    }


def add_period(moment: datetime, period: str) -> datetime:
    """One month or year after `moment` (the day clamped to the month's length)."""
    if period == PERIOD_YEAR:
        year, month = moment.year + 1, moment.month
    elif period == PERIOD_MONTH:
        year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    else:
        raise ValueError(f"A plan with period {period!r} does not renew.")
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def iso(moment: datetime | None) -> str:
    """ISO 8601 UTC with Z, or "" when there is none."""
    if moment is None:
        return ""
    return moment.isoformat().replace("+00:00", "Z")


def history_entry(
    *, attempt: int, now: datetime, status: str, reason: str = "", decline_code: str = "", charge_id: str = ""
) -> dict[str, Any]:
    """One attempt as a payment's `history` keeps it."""
    entry: dict[str, Any] = {"attempt": attempt, "date": iso(now), "status": status}
    if reason:
        entry["reason"] = reason
    if decline_code:
        entry["declineCode"] = decline_code
    if charge_id:
        entry["chargeid"] = charge_id
    return entry


def close_pending(membership: Membership, *, now: datetime, reason: str) -> None:
    """Mark the renewal being retried as failed and detach it from the membership."""
    payment = membership.pending_payment
    if payment is not None and payment.status == Payment.STATUS_PENDING:
        payment.status, payment.next_date, payment.failure_reason = Payment.STATUS_FAILED, None, reason
        payment.history = [
            *payment.history,
            history_entry(attempt=len(payment.history) + 1, now=now, status="Cancelled", reason=reason),
        ]
        payment.save(update_fields=["status", "next_date", "failure_reason", "history", "updated_at"])
    membership.pending_payment = None


def membership_fall_back(*, membership: Membership, now: datetime, reason: str) -> None:
    """End the paid plan: the company is on NONE (inside a transaction holding the membership lock)."""
    if membership.pending_payment_id:
        close_pending(membership, now=now, reason=reason)
    membership.status = Membership.STATUS_NONE
    membership.period_start = membership.period_end = membership.next_retry_at = None
    membership.retry_count = 0
    membership.save()
    company_plan_set(company=membership.company, plan="NONE")
    logger.info("Company %s fell back to NONE: %s", membership.company_id, reason)
