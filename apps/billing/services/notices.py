"""Telling staff about what needs a person: membership requests."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail

from apps.accounts.models import User
from apps.billing.models import MembershipRequest

logger = logging.getLogger("apps.billing")


def staff_emails() -> list[str]:
    """Who hears about requests: BILLING_STAFF_EMAILS, or else every active operator (superuser)."""
    if settings.BILLING_STAFF_EMAILS:
        return list(settings.BILLING_STAFF_EMAILS)
    return list(User.objects.filter(is_superuser=True, is_active=True).values_list("email", flat=True))


def membership_request_notify(*, request_id: str) -> int:
    """Email staff about one membership request; how many addresses were told."""
    request = MembershipRequest.objects.select_related("company", "requested_by").filter(pk=request_id).first()
    if request is None:
        return 0
    recipients = staff_emails()
    if not recipients:
        logger.warning("Membership request %s has no staff to tell: set BILLING_STAFF_EMAILS", request.pk)
        return 0
    who = request.requested_by.email if request.requested_by else "the company's API key"
    if request.plan == "NO_REQUEST":
        subject = f"Membership request withdrawn: {request.company.name}"
        body = f"{request.company.name} ({request.company_id}) withdrew its membership request ({who})."
    else:
        subject = f"Membership request: {request.plan} for {request.company.name}"
        body = (
            f"{request.company.name} ({request.company_id}) asks for the {request.plan} plan.\n"
            f"Requested by {who} at {request.created_at:%Y-%m-%d %H:%M} UTC; it is on the {request.company.plan} "
            "plan now.\nGrant it in the admin (Billing > Company plans) once it is arranged.\n"
        )
    send_mail(subject=subject, message=body, from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=recipients)
    return len(recipients)
