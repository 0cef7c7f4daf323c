"""The payment processor interface: cards go to the processor, we keep its token and what may be shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from apps.core.exceptions import ApplicationError, InvalidInput, ServiceUnavailable


@dataclass(frozen=True)
class CardDetails:
    """A card as the client sent it. Lives only in memory on its way to the processor; its repr hides it."""

    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)
    cardholder_name: str
    zip_code: str

    def __str__(self) -> str:
        return f"card ending {self.number[-4:]}"


@dataclass(frozen=True)
class CardToken:
    """What the processor answers for a card it keeps: a token and the card's displayable facts."""

    token: str
    brand: str
    funding: str
    issuer: str
    last4: str
    exp_month: int
    exp_year: int
    cvc_check: bool
    zip_check: bool


@dataclass(frozen=True)
class Charge:
    """A successful charge."""

    charge_id: str
    amount_cents: int
    currency: str
    fee_cents: int
    risk_level: str
    risk_score: int
    cvc_check: bool
    zip_check: bool


class CardInvalid(InvalidInput):
    """The processor refuses the card's data as malformed (number, expiry, CVC)."""


class CardDeclined(ApplicationError):
    """The processor declined the card; `decline_code` says why."""

    status_code = 402
    default_message = "Your card was declined."

    def __init__(self, message: str | None = None, *, decline_code: str = "card_declined", **kwargs: Any) -> None:
        self.decline_code = decline_code
        super().__init__(message, extra={"decline_code": decline_code, **kwargs.pop("extra", {})}, **kwargs)


class ProcessorUnavailable(ServiceUnavailable):
    """The processor could not be reached or failed; nothing was charged."""

    default_message = "The payment processor is unavailable. Nothing was charged; try again later."


class PaymentProcessor(Protocol):
    """What billing needs from a payment processor."""

    name: str

    def customer_id(self, *, company_id: str) -> str:
        """The processor's customer for a company (made on first use)."""
        ...

    def tokenize(self, *, card: CardDetails, customer: str) -> CardToken:
        """Verify and keep a card; raises CardInvalid or CardDeclined."""
        ...

    def charge(
        self, *, token: str, amount_cents: int, currency: str, customer: str, description: str, now: datetime
    ) -> Charge:
        """Charge a kept card; raises CardDeclined."""
        ...

    def refund(self, *, charge_id: str, amount_cents: int) -> None:
        """Give a charge's money back."""
        ...

    def detach(self, *, token: str) -> None:
        """Forget a kept card."""
        ...
