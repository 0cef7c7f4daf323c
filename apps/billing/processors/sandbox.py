"""A built-in sandbox processor that behaves like a real one, with the usual test card numbers.

It checks the number (Luhn), the expiry (in the future) and the CVC format, and answers a signed,
opaque token that carries only what may be shown (brand, last4, expiry) and how the test card behaves.
It never keeps the number or the CVC anywhere.

Test numbers (any future expiry, any CVC of the right length):
  4242 4242 4242 4242, 4111 1111 1111 1111, 5555 5555 5555 4444, 3782 822463 10005, 6011 1111 1111 1117: succeed
  4000 0000 0000 9995: kept, every charge declines (insufficient funds)
  4000 0000 0000 0341: kept, every charge declines (card declined)
  4000 0000 0000 0069: declined (expired card)
  4000 0000 0000 9979: declined (stolen card)
  4000 0000 0000 0002: declined (card declined)
  4000 0000 0000 0127: declined (incorrect CVC)
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils.crypto import constant_time_compare, salted_hmac

from apps.billing.processors.base import CardDeclined, CardDetails, CardInvalid, CardToken, Charge
from apps.core.ids import is_ascii_digits

TOKEN_PREFIX = "tok_sbx_"  # noqa: S105 - a public prefix, not a secret

# number -> (decline code, when): "tokenize" declines when the card is saved, "charge" on every charge.
TEST_DECLINES: dict[str, tuple[str, str]] = {
    "4000000000009995": ("insufficient_funds", "charge"),
    "4000000000000341": ("card_declined", "charge"),
    "4000000000000069": ("expired_card", "tokenize"),
    "4000000000009979": ("stolen_card", "tokenize"),
    "4000000000000002": ("card_declined", "tokenize"),
    "4000000000000127": ("incorrect_cvc", "tokenize"),
}

DECLINE_MESSAGES: dict[str, str] = {
    "insufficient_funds": "Your card was declined: insufficient funds.",
    "expired_card": "Your card was declined: the card has expired.",
    "stolen_card": "Your card was declined: the card was reported lost or stolen.",
    "card_declined": "Your card was declined.",
    "incorrect_cvc": "Your card was declined: the security code (CVC) is incorrect.",
    "invalid_token": "The payment method is no longer valid at the processor.",
}

FEE_PERCENT = Decimal("2.9")
FEE_FIXED_CENTS = 30


def luhn_valid(number: str) -> bool:
    """The Luhn checksum of a card number."""
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def card_brand(number: str) -> str:
    """The card network, from the number's first digits."""
    if number.startswith("4"):
        return "Visa"
    if number[:2] in ("34", "37"):
        return "American Express"
    if number[:2] in ("51", "52", "53", "54", "55") or 2221 <= int(number[:4]) <= 2720:
        return "MasterCard"
    if number.startswith(("6011", "65")) or 644 <= int(number[:3]) <= 649:
        return "Discover"
    return "Unknown"


def decline(code: str) -> CardDeclined:
    return CardDeclined(DECLINE_MESSAGES.get(code, DECLINE_MESSAGES["card_declined"]), decline_code=code)


def _sign(payload: str) -> str:
    return salted_hmac("symbient.billing.sandbox-token", payload, algorithm="sha256").hexdigest()[:32]


class SandboxProcessor:
    """A processor that needs no network, for development and tests."""

    name = "sandbox"

    def customer_id(self, *, company_id: str) -> str:
        return "cus_sbx_" + hashlib.sha256(f"sandbox-customer:{company_id}".encode()).hexdigest()[:20]

    def tokenize(self, *, card: CardDetails, customer: str) -> CardToken:
        number = card.number
        if not is_ascii_digits(number) or not 12 <= len(number) <= 19 or not luhn_valid(number):
            raise CardInvalid("Invalid cardNumber: the card number is not valid.")
        brand = card_brand(number)
        if not 1 <= card.exp_month <= 12:
            raise CardInvalid("Invalid expiryMonth: it must be between 1 and 12.")
        now = datetime.now(tz=UTC)
        if (card.exp_year, card.exp_month) < (now.year, now.month):
            raise CardInvalid("Invalid expiryYear: the card has expired.")
        if card.exp_year > now.year + 50:
            raise CardInvalid("Invalid expiryYear: it is too far in the future.")
        cvc_length = 4 if brand == "American Express" else 3
        if not is_ascii_digits(card.cvc) or len(card.cvc) != cvc_length:
            raise CardInvalid(f"Invalid cvc: it must be {cvc_length} digits.")
        behaviour = ""
        if number in TEST_DECLINES:
            code, when = TEST_DECLINES[number]
            if when == "tokenize":
                raise decline(code)
            behaviour = code
        claims = {
            "b": brand,
            "l": number[-4:],
            "m": card.exp_month,
            "y": card.exp_year,
            "f": "credit",
            "x": behaviour,
            "c": customer,
            "n": secrets.token_hex(8),
        }
        payload = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")
        return CardToken(
            token=f"{TOKEN_PREFIX}{payload}.{_sign(payload)}",
            brand=brand,
            funding="credit",
            issuer="Sandbox Bank",
            last4=number[-4:],
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            cvc_check=True,
            zip_check=bool(card.zip_code.strip()),
        )

    def _claims(self, token: str) -> dict:
        if not token.startswith(TOKEN_PREFIX) or "." not in token:
            raise decline("invalid_token")
        payload, signature = token[len(TOKEN_PREFIX) :].rsplit(".", 1)
        if not constant_time_compare(signature, _sign(payload)):
            raise decline("invalid_token")
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))

    def charge(
        self, *, token: str, amount_cents: int, currency: str, customer: str, description: str, now: datetime
    ) -> Charge:
        claims = self._claims(token)
        if claims["x"]:
            raise decline(claims["x"])
        if (claims["y"], claims["m"]) < (now.year, now.month):
            raise decline("expired_card")
        fee = (Decimal(amount_cents) * FEE_PERCENT / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        risk_score = int(hashlib.sha256(token.encode()).hexdigest()[:2], 16) % 40
        return Charge(
            charge_id="ch_sbx_" + secrets.token_hex(12),
            amount_cents=amount_cents,
            currency=currency,
            fee_cents=int(fee) + FEE_FIXED_CENTS if amount_cents else 0,
            risk_level="normal",
            risk_score=risk_score,
            cvc_check=True,
            zip_check=True,
        )

    def refund(self, *, charge_id: str, amount_cents: int) -> None:
        return None

    def detach(self, *, token: str) -> None:
        # The sandbox keeps nothing per card, so there is nothing to forget.
        return None
