"""Payment methods: cards go to the processor, we keep its token, brand, last4, expiry, name and zip."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from apps.accounts.models import Company
from apps.billing.models import Membership, PaymentMethod
from apps.billing.processors import get_processor
from apps.billing.processors.base import CardDeclined, CardDetails, CardToken
from apps.billing.services.common import customer_for, membership_for
from apps.core.exceptions import InvalidInput, NotFound
from apps.core.ids import parse_uuid

logger = logging.getLogger("apps.billing")

BILLED_STATUSES = (Membership.STATUS_ACTIVE, Membership.STATUS_CANCELLING, Membership.STATUS_PAST_DUE)


def payment_method_find(*, company: Company, methodid: Any) -> PaymentMethod:
    """One of the company's methods; unknown ids and other companies' ids answer alike."""
    if methodid in (None, ""):
        raise InvalidInput("Missing or invalid methodid.")
    pk = parse_uuid(methodid)
    method = PaymentMethod.objects.for_company(company).filter(pk=pk).first() if pk else None
    if method is None:
        raise NotFound("Payment method not found.")
    return method


def card_tokenize(*, company: Company, membership: Membership, card: CardDetails) -> tuple[str, CardToken]:
    """Send the card to the processor; (processor name, token). Declines are logged without the card."""
    processor = get_processor()
    try:
        token = processor.tokenize(card=card, customer=customer_for(membership=membership, processor=processor))
    except CardDeclined as exc:
        logger.info("Card declined when saved for company %s: %s", company.pk, exc.decline_code)
        raise
    return processor.name, token


def payment_method_create(
    *, company: Company, processor: str, token: CardToken, card: CardDetails, make_default: bool = False
) -> PaymentMethod:
    """Record a method the processor keeps (inside a transaction holding the membership lock)."""
    has_default = PaymentMethod.objects.for_company(company).filter(is_default=True).exists()
    if make_default and has_default:
        PaymentMethod.objects.for_company(company).filter(is_default=True).update(is_default=False)
    method = PaymentMethod.objects.create(
        company=company,
        processor=processor,
        token=token.token,
        brand=token.brand,
        funding=token.funding,
        issuer=token.issuer,
        last4=token.last4,
        exp_month=token.exp_month,
        exp_year=token.exp_year,
        cardholder_name=card.cardholder_name.strip(),
        zip_code=card.zip_code.strip(),
        is_default=make_default or not has_default,
    )
    logger.info(
        "Payment method %s saved for company %s (%s ending %s)", method.pk, company.pk, method.brand, method.last4
    )
    return method


def payment_method_save(*, company: Company, actor: Any, card: CardDetails) -> PaymentMethod:
    """paymentmethod/save: the processor verifies and keeps the card; the first method becomes the default."""
    with transaction.atomic():
        membership = membership_for(company=company, lock=True)
        processor, token = card_tokenize(company=company, membership=membership, card=card)
        return payment_method_create(company=company, processor=processor, token=token, card=card)


def payment_method_default(*, company: Company, actor: Any, methodid: Any) -> PaymentMethod:
    """paymentmethod/default: exactly one default; it also pays the membership's renewals from now on."""
    with transaction.atomic():
        membership = membership_for(company=company, lock=True)
        method = payment_method_find(company=company, methodid=methodid)
        PaymentMethod.objects.for_company(company).filter(is_default=True).exclude(pk=method.pk).update(
            is_default=False
        )
        if not method.is_default:
            method.is_default = True
            method.save(update_fields=["is_default", "updated_at"])
        if membership.status in BILLED_STATUSES and membership.payment_method_id != method.pk:
            membership.payment_method = method
            membership.save(update_fields=["payment_method", "updated_at"])
    return method


@dataclass(frozen=True)
class DeletedMethod:
    """What deleting a method did: its id, and a warning when the membership's renewal will now fail."""

    methodid: str
    warning: str | None


def payment_method_delete(*, company: Company, actor: Any, methodid: Any) -> DeletedMethod:
    """paymentmethod/delete: gone here and at the processor. The membership it paid for falls back to NONE
    at its renewal (nothing left to charge), as the spec warns, unless another method is made default first."""
    with transaction.atomic():
        membership = membership_for(company=company, lock=True)
        method = payment_method_find(company=company, methodid=methodid)
        get_processor(method.processor).detach(token=method.token)
        warning = None
        if membership.payment_method_id == method.pk:
            if membership.status in BILLED_STATUSES and membership.period_end is not None:
                warning = (
                    f"This payment method paid for your {membership.company.plan} membership. Its renewal on "
                    f"{membership.period_end:%Y-%m-%d} will fail and the membership will fall back to NONE, "
                    "unless you make another payment method the default before then."
                )
            membership.payment_method = None
            membership.save(update_fields=["payment_method", "updated_at"])
        was_default = method.is_default
        pk = method.pk
        method.delete()
        if was_default:
            successor = PaymentMethod.objects.for_company(company).order_by("-created_at").first()
            if successor is not None:
                successor.is_default = True
                successor.save(update_fields=["is_default", "updated_at"])
    logger.info("Payment method %s of company %s deleted", pk, company.pk)
    return DeletedMethod(methodid=str(pk), warning=warning)
