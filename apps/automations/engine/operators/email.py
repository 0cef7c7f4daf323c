"""The `email` operator: send a plain-text email through the configured email backend."""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email

from apps.automations.engine.operators.base import OperatorFailed, Outcome, Step
from apps.automations.engine.operators.logic import BuiltinOperator


def _recipients(value: Any) -> list[str]:
    items = value if isinstance(value, list) else str(value or "").replace(";", ",").split(",")
    return [str(item).strip() for item in items if str(item).strip()]


class EmailOperator(BuiltinOperator):
    type = "email"
    summary = (
        "Sends a plain-text email `subject` / `body` to `to` (an address, a comma list or a list; at most "
        "AUTOMATION_EMAIL_MAX_RECIPIENTS); all are templates. The output is `{to, subject}`."
    )
    required = ("to", "subject", "body")
    templated = ("to", "subject", "body")

    def check(self, settings: dict[str, Any]) -> None:
        for name in ("subject", "body"):
            if not isinstance(settings[name], str):
                raise ValueError(f"the setting '{name}' must be a string")
        if not isinstance(settings["to"], str | list):
            raise ValueError("the setting 'to' must be an address, a comma list or a list of addresses")

    def run(self, step: Step) -> Outcome:
        to = _recipients(step.render(step.settings["to"]))
        subject = " ".join(step.render_text(step.settings["subject"]).split())[:900]
        body = step.render_text(step.settings["body"])
        used = {"to": to, "subject": subject, "body": body}
        if not to:
            raise OperatorFailed("No recipient: 'to' rendered empty.", input=used)
        maximum = django_settings.AUTOMATION_EMAIL_MAX_RECIPIENTS
        if len(to) > maximum:
            raise OperatorFailed(f"Too many recipients: {len(to)} (at most {maximum}).", input=used)
        for address in to:
            try:
                validate_email(address)
            except ValidationError as exc:
                raise OperatorFailed(f"Not an email address: {address!r}.", input=used) from exc
        timeout = max(1.0, step.remaining())
        try:
            connection = get_connection(timeout=timeout)
            EmailMessage(subject=subject, body=body, to=to, connection=connection).send(fail_silently=False)
        except (OSError, ValueError) as exc:  # smtplib's errors are OSErrors
            raise OperatorFailed(f"The email could not be sent: {exc.__class__.__name__}: {exc}", input=used) from exc
        return Outcome(output={"to": to, "subject": subject}, result=f"Sent to {', '.join(to)}.", input=used)
