"""Memberships: enrol (charge the first period, switch the plan), stop, request a staff-arranged plan, grant."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Company
from apps.accounts.roles import PLAN_CODES
from apps.accounts.services.users import company_plan_set
from apps.billing import tasks
from apps.billing.models import Membership, MembershipRequest, Payment, PaymentMethod, Plan
from apps.billing.processors import get_processor
from apps.billing.processors.base import CardDeclined, CardDetails, CardToken, Charge
from apps.billing.services.common import (
    add_period,
    card_snapshot,
    close_pending,
    customer_for,
    history_entry,
    iso,
    membership_fall_back,
    membership_for,
)
from apps.billing.services.limits import company_plan, plan_get, plans_ensure
from apps.billing.services.payment_methods import card_tokenize, payment_method_create, payment_method_find
from apps.core.exceptions import Conflict, InvalidInput

logger = logging.getLogger("apps.billing")

REQUESTABLE_PLANS = ("ENTERPRISE_MONTHLY", "ENTERPRISE_YEARLY", "NO_REQUEST")
INVALID_METHOD = "Missing or invalid payment method."


def enrolment_message(plan: Plan) -> str:
    """The spec's answer to membership/save."""
    return f"You have now been enrolled with the {plan.program.upper()} membership."


def _self_service_plan(code: Any) -> Plan:
    wanted = str(code or "").strip().upper()
    if not wanted:
        raise InvalidInput("Missing plan.")
    plan = plan_get(code=wanted) if wanted in PLAN_CODES else None
    if plan is not None and plan.self_service:
        return plan
    if plan is not None and plan.program == "enterprise":
        raise InvalidInput(f"The {wanted} plan is arranged with our team: ask for it with /api/v1/membership/request.")
    plans_ensure()
    buyable = Plan.objects.filter(self_service=True).values_list("code", flat=True)
    raise InvalidInput(f"Invalid plan: {str(code)[:60]!r}. Valid plans: {', '.join(buyable)}.")


@dataclass(frozen=True)
class Enrolment:
    """The outcome of membership/save."""

    membership: Membership
    plan: Plan
    payment: Payment | None

    @property
    def message(self) -> str:
        return enrolment_message(self.plan)


def membership_save(
    *,
    company: Company,
    actor: Any,
    plan: Any,
    method: Any,
    methodid: Any = None,
    card: CardDetails | None = None,
    now: datetime | None = None,
) -> Enrolment:
    """membership/save: charge the plan's first period to a new card or a saved method, then switch to it.

    A decline (or any failure before the switch) changes nothing: no method saved, no payment, same plan.
    """
    now = now or timezone.now()
    target = _self_service_plan(plan)
    method = str(method or "").strip()
    if not method:
        raise InvalidInput(INVALID_METHOD)
    if method.lower() == "new":
        if card is None:
            raise InvalidInput(INVALID_METHOD)
    else:
        # {"method": "methodID", "methodID": ID} and {"method": ID} both name a saved method.
        methodid = methodid if method.lower() == "methodid" else method
        if not methodid:
            raise InvalidInput(INVALID_METHOD)
    processor = get_processor()
    charge: Charge | None = None
    try:
        with transaction.atomic():
            membership = membership_for(company=company, lock=True)
            company.refresh_from_db(fields=["plan"])
            if company.plan == target.code and membership.status in (
                Membership.STATUS_ACTIVE,
                Membership.STATUS_CANCELLING,
                Membership.STATUS_GRANTED,
            ):
                if membership.status != Membership.STATUS_CANCELLING:
                    raise Conflict(f"You are already enrolled with the {target.code} membership.")
                membership.status = Membership.STATUS_ACTIVE  # resumes: the period is already paid
                membership.save(update_fields=["status", "updated_at"])
                return Enrolment(membership, target, None)
            customer = customer_for(membership=membership, processor=processor)
            saved: PaymentMethod | None = None
            token: CardToken | None = None
            if card is not None and method.lower() == "new":
                processor_name, token = card_tokenize(company=company, membership=membership, card=card)
                token_value = token.token
            else:
                saved = payment_method_find(company=company, methodid=methodid)
                processor = get_processor(saved.processor)
                token_value = saved.token
            try:
                charge = processor.charge(
                    token=token_value,
                    amount_cents=target.price_cents,
                    currency=target.currency,
                    customer=customer,
                    description=f"{target.code} membership",
                    now=now,
                )
            except CardDeclined as exc:
                logger.info(
                    "Membership charge declined for company %s (%s): %s", company.pk, target.code, exc.decline_code
                )
                raise
            if saved is None:
                assert card is not None and token is not None  # noqa: S101 - the "new" branch above
                saved = payment_method_create(company=company, processor=processor_name, token=token, card=card)
            payment = _enrolment_record(
                company=company, membership=membership, plan=target, method=saved, charge=charge, now=now
            )
    except Exception:
        if charge is not None:  # charged, but nothing of it was kept: give the money back
            processor.refund(charge_id=charge.charge_id, amount_cents=charge.amount_cents)
            logger.exception("Enrolment of company %s failed after charge %s; refunded", company.pk, charge.charge_id)
        raise
    logger.info("Company %s enrolled with %s (payment %s)", company.pk, target.code, payment.pk)
    return Enrolment(membership, target, payment)


def _enrolment_record(
    *, company: Company, membership: Membership, plan: Plan, method: PaymentMethod, charge: Charge, now: datetime
) -> Payment:
    period_end = add_period(now, plan.period)
    if membership.pending_payment_id:
        close_pending(membership, now=now, reason="Replaced by a new enrolment.")
    payment = Payment.objects.create(
        company=company,
        kind=Payment.KIND_ENROLMENT,
        status=Payment.STATUS_SUCCEEDED,
        plan_code=plan.code,
        program=plan.program,
        currency=plan.currency,
        amount_cents=charge.amount_cents,
        fee_cents=charge.fee_cents,
        processor=method.processor,
        processor_charge_id=charge.charge_id,
        customer_id=membership.processor_customer_id,
        payment_method=method,
        card=card_snapshot(method),
        cvc_check=charge.cvc_check,
        zip_check=charge.zip_check,
        risk_level=charge.risk_level,
        risk_score=charge.risk_score,
        paid_at=now,
        next_date=period_end,
        history=[history_entry(attempt=1, now=now, status=Payment.STATUS_SUCCEEDED, charge_id=charge.charge_id)],
        metadata={"membership_plan": plan.code},
    )
    membership.status = Membership.STATUS_ACTIVE
    membership.token = "mbr_" + payment.pk.hex
    membership.payment_method = method
    membership.period_start, membership.period_end = now, period_end
    membership.retry_count, membership.next_retry_at, membership.pending_payment = 0, None, None
    membership.save()
    company_plan_set(company=company, plan=plan.code)
    return payment


def membership_stop(*, company: Company, actor: Any, now: datetime | None = None) -> Membership:
    """membership/stop: the plan ends with the paid period (at once when a renewal is already overdue)."""
    now = now or timezone.now()
    with transaction.atomic():
        membership = membership_for(company=company, lock=True)
        plan = company_plan(company=company)
        if plan.code == "NONE":
            raise InvalidInput("You have no membership to cancel.")
        if plan.program == "enterprise" or membership.status in (Membership.STATUS_GRANTED, Membership.STATUS_NONE):
            # Enterprise plans and plans an operator granted are not billed here: staff end them.
            raise InvalidInput(
                f"Your {plan.code} membership cannot be cancelled here; it needs an administrator. "
                "Please contact us and we will cancel it for you."
            )
        if membership.status == Membership.STATUS_PAST_DUE:
            membership_fall_back(membership=membership, now=now, reason="Cancelled while a renewal was overdue.")
        elif membership.status == Membership.STATUS_ACTIVE:
            membership.status = Membership.STATUS_CANCELLING
            membership.save(update_fields=["status", "updated_at"])
            logger.info("Company %s cancelled %s; it ends %s", company.pk, plan.code, iso(membership.period_end))
    return membership


def membership_request(*, company: Company, actor: Any, plan: Any) -> MembershipRequest:
    """membership/request: ask staff for an enterprise plan, or withdraw the request (NO_REQUEST)."""
    code = str(plan or "").strip().upper()
    if code not in REQUESTABLE_PLANS:
        raise InvalidInput("Invalid plan requested.")
    with transaction.atomic():
        membership_for(company=company, lock=True)
        MembershipRequest.objects.for_company(company).filter(status=MembershipRequest.STATUS_OPEN).update(
            status=MembershipRequest.STATUS_WITHDRAWN, updated_at=timezone.now()
        )
        request = MembershipRequest.objects.create(
            company=company,
            plan=code,
            status=MembershipRequest.STATUS_WITHDRAWN if code == "NO_REQUEST" else MembershipRequest.STATUS_OPEN,
            requested_by=actor if getattr(actor, "is_person", False) else None,
        )
        request_id = str(request.pk)
        transaction.on_commit(lambda: tasks.notify_staff_of_membership_request.delay(request_id=request_id))
    return request


def membership_grant(*, company: Company, plan: str, actor: Any = None) -> Membership:
    """Put a company on a plan by hand (operators): nothing is charged and it does not renew."""
    target = plan_get(code=plan)
    with transaction.atomic():
        membership = membership_for(company=company, lock=True)
        if target.code == "NONE":
            membership_fall_back(membership=membership, now=timezone.now(), reason="Set to NONE by an operator.")
            return membership
        if membership.pending_payment_id:
            close_pending(membership, now=timezone.now(), reason="Replaced by a plan granted by an operator.")
        membership.status = Membership.STATUS_GRANTED
        membership.period_start, membership.period_end = timezone.now(), None
        membership.retry_count, membership.next_retry_at = 0, None
        membership.save()
        company_plan_set(company=company, plan=target.code)
        MembershipRequest.objects.for_company(company).filter(
            status=MembershipRequest.STATUS_OPEN, plan=target.code
        ).update(status=MembershipRequest.STATUS_DONE, updated_at=timezone.now())
    logger.info("Company %s granted %s by %s", company.pk, target.code, getattr(actor, "email", None) or "an operator")
    return membership
