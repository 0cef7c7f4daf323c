"""Accounts jobs."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_confirmation_email(*, email: str, code: str) -> None:
    """Email the confirmation code (SMTP errors are retried with backoff)."""
    send_mail(
        subject="Confirm your Symbient email address",
        message=(
            f"Your confirmation code is {code}.\n\n"
            f"Enter it in the app, or POST it with your email to /api/v1/confirmation/confirm. "
            f"It expires in {settings.CONFIRMATION_CODE_HOURS} hours.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[email],
    )
