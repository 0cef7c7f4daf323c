"""Cards and calls the billing tests share."""

from __future__ import annotations

from typing import Any

from apps.core.testing import Member, Tenant, assert_ok

SAVE_METHOD = "/api/v1/paymentmethod/save"
DEFAULT_METHOD = "/api/v1/paymentmethod/default"
DELETE_METHOD = "/api/v1/paymentmethod/delete"
METHODS = "/api/v1/paymentmethods/get"
PAYMENTS = "/api/v1/payments/get"
MEMBERSHIP_SAVE = "/api/v1/membership/save"
MEMBERSHIP_SAVE_NO_VERSION = "/api/membership/save"
MEMBERSHIP_STOP = "/api/v1/membership/stop"
MEMBERSHIP_REQUEST = "/api/v1/membership/request"

VISA = "4242424242424242"
VISA_2 = "4111111111111111"
MASTERCARD = "5555555555554444"
AMEX = "378282246310005"
INSUFFICIENT_FUNDS = "4000000000009995"
CHARGE_DECLINED = "4000000000000341"
EXPIRED = "4000000000000069"
STOLEN = "4000000000009979"
GENERIC_DECLINE = "4000000000000002"
ALL_TEST_NUMBERS = (
    VISA,
    VISA_2,
    MASTERCARD,
    AMEX,
    INSUFFICIENT_FUNDS,
    CHARGE_DECLINED,
    EXPIRED,
    STOLEN,
    GENERIC_DECLINE,
)
CVC = "987"
AMEX_CVC = "7351"


def card(number: str = VISA, **change: Any) -> dict[str, Any]:
    """A card as the API takes it (the spec's shape)."""
    return {
        "cardholderName": "Jane Doe",
        "cardNumber": number,
        "expiryMonth": 12,
        "expiryYear": 2040,
        "cvc": AMEX_CVC if number == AMEX else CVC,
        "zipCode": "12345",
        **change,
    }


def save_method(who: Member | Tenant, number: str = VISA) -> str:
    """Save a card through the API; its methodid."""
    client = who.admin.client if isinstance(who, Tenant) else who.client
    return assert_ok(client.post(SAVE_METHOD, card(number), format="json"))["methodid"]


def enrol(tenant: Tenant, plan: str = "STANDARD_MONTHLY", number: str = VISA) -> dict[str, Any]:
    """membership/save with a new card; the answer."""
    return assert_ok(
        tenant.admin.client.post(MEMBERSHIP_SAVE, {"plan": plan, "method": "new", **card(number)}, format="json")
    )
