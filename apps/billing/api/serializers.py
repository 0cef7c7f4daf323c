"""Input and output shapes of the Membership, Payments and Payment Method(s) endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.billing.models import Payment, PaymentMethod
from apps.billing.processors.base import CardDetails
from apps.billing.services.common import cents_to_amount, iso
from apps.core.ids import is_ascii_digits


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string", "pattern": "^[0-9]{3,4}$"}]})
class CardDigitsField(serializers.Field):
    """A number the spec shows as an integer but that is really a string of digits (the CVC)."""

    default_error_messages = {"invalid": "It must be digits only."}

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        text = str(data).strip()
        if not is_ascii_digits(text):
            self.fail("invalid")
        return text

    def to_representation(self, value: Any) -> str:  # never shown; required by Field
        return ""


class CardInputSerializer(serializers.Serializer):
    """A card as paymentmethod/save and membership/save take it. Error messages never echo the values."""

    cardholderName = serializers.CharField(max_length=200)
    cardNumber = serializers.CharField(max_length=40, write_only=True)
    expiryMonth = serializers.IntegerField(min_value=1, max_value=12)
    expiryYear = serializers.IntegerField(min_value=0, max_value=9999)
    cvc = CardDigitsField(write_only=True)
    zipCode = serializers.CharField(max_length=20)

    def validate_cardNumber(self, value: str) -> str:
        number = "".join(value.replace("-", " ").split())
        if not is_ascii_digits(number) or not 12 <= len(number) <= 19:
            raise serializers.ValidationError("It must be 12 to 19 digits.")
        return number

    def validate_expiryYear(self, value: int) -> int:
        if value < 100:  # "27" means 2027
            value += 2000
        if value < 2000:
            raise serializers.ValidationError("Give the year as YYYY.")
        return value

    def validate_cvc(self, value: str) -> str:
        if len(value) > 4:
            raise serializers.ValidationError("It must be 3 or 4 digits.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        raw_cvc = self.initial_data.get("cvc")
        if isinstance(raw_cvc, int) and not isinstance(raw_cvc, bool):
            # As an integer a CVC loses its leading zeros: put them back to the brand's length.
            attrs["cvc"] = attrs["cvc"].zfill(4 if attrs["cardNumber"][:2] in ("34", "37") else 3)
        return attrs


def card_from(data: dict[str, Any]) -> CardDetails:
    """The validated card fields as the processor takes them."""
    return CardDetails(
        number=data["cardNumber"],
        exp_month=data["expiryMonth"],
        exp_year=data["expiryYear"],
        cvc=data["cvc"],
        cardholder_name=data["cardholderName"],
        zip_code=data["zipCode"],
    )


class MethodIdInputSerializer(serializers.Serializer):
    methodid = serializers.CharField(max_length=100, required=False, allow_blank=True)


class MembershipSaveInputSerializer(serializers.Serializer):
    """plan and method; with method "new" the card fields, with "methodID" (or the id itself) a saved method."""

    plan = serializers.CharField(max_length=60)
    method = serializers.CharField(max_length=100, required=False, allow_blank=True)
    methodID = serializers.CharField(max_length=100, required=False, allow_blank=True)
    methodid = serializers.CharField(max_length=100, required=False, allow_blank=True)
    cardholderName = serializers.CharField(max_length=200, required=False)
    cardNumber = serializers.CharField(max_length=40, required=False, write_only=True)
    expiryMonth = serializers.IntegerField(required=False)
    expiryYear = serializers.IntegerField(required=False)
    cvc = CardDigitsField(required=False, write_only=True)
    zipCode = serializers.CharField(max_length=20, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if str(attrs.get("method", "")).strip().lower() == "new":
            card = CardInputSerializer(data=self.initial_data)
            card.is_valid(raise_exception=True)
            attrs["card"] = card_from(card.validated_data)
        attrs["methodid"] = attrs.get("methodID") or attrs.get("methodid")
        return attrs


class MembershipRequestInputSerializer(serializers.Serializer):
    plan = serializers.CharField(max_length=60, required=False, allow_blank=True)


class PaymentMethodSerializer(serializers.Serializer):
    """A saved method as paymentmethods/get shows it: only the last four digits."""

    methodid = serializers.UUIDField(source="pk")
    method = serializers.SerializerMethodField()
    type = serializers.CharField(source="brand")
    issuer = serializers.CharField()
    billing_details = serializers.SerializerMethodField()
    cardholderName = serializers.CharField(source="cardholder_name")
    cardLast4 = serializers.CharField(source="last4")
    expiryMonth = serializers.IntegerField(source="exp_month")
    expiryYear = serializers.IntegerField(source="exp_year")
    isdefault = serializers.BooleanField(source="is_default")

    def get_method(self, obj: PaymentMethod) -> str:
        return "Debit Card" if obj.funding == "debit" else "Credit Card"

    def get_billing_details(self, obj: PaymentMethod) -> dict[str, str]:
        return {"zip": obj.zip_code}


class CardInfoSerializer(serializers.Serializer):
    cardholderName = serializers.CharField()
    cardLast4 = serializers.CharField()
    cardType = serializers.CharField()
    expiryMonth = serializers.IntegerField()
    expiryYear = serializers.IntegerField()
    debitCredit = serializers.CharField()
    zipCode = serializers.CharField()


EMPTY_CARD: dict[str, Any] = {
    "cardholderName": "",
    "cardLast4": "",
    "cardType": "",
    "expiryMonth": None,
    "expiryYear": None,
    "debitCredit": "",
    "zipCode": "",
}


class PaymentSerializer(serializers.Serializer):
    """A payment as payments/get shows it; amounts in the currency's units, exact (from integer cents)."""

    paymentid = serializers.UUIDField(source="pk")
    customerid = serializers.CharField(source="customer_id")
    status = serializers.CharField()
    currency = serializers.CharField()
    totalAmount = serializers.SerializerMethodField()
    tipAmount = serializers.SerializerMethodField()
    feeAmount = serializers.SerializerMethodField()
    cardInfo = serializers.SerializerMethodField()
    paymentProgram = serializers.CharField(source="program")
    cardPresent = serializers.SerializerMethodField()
    cvccheck = serializers.BooleanField(source="cvc_check")
    zipcheck = serializers.BooleanField(source="zip_check")
    risk_level = serializers.CharField()
    risk_score = serializers.IntegerField(allow_null=True)
    date = serializers.SerializerMethodField()
    nextdate = serializers.SerializerMethodField()
    history = serializers.ListField(child=serializers.DictField())
    metadata = serializers.DictField()
    refunded = serializers.SerializerMethodField()

    def get_totalAmount(self, obj: Payment) -> int | Decimal:
        return cents_to_amount(obj.amount_cents)

    def get_tipAmount(self, obj: Payment) -> int | Decimal:
        return cents_to_amount(obj.tip_cents)

    def get_feeAmount(self, obj: Payment) -> int | Decimal:
        return cents_to_amount(obj.fee_cents)

    def get_refunded(self, obj: Payment) -> int | Decimal:
        return cents_to_amount(obj.refunded_cents)

    @extend_schema_field(CardInfoSerializer)
    def get_cardInfo(self, obj: Payment) -> dict[str, Any]:
        return {**EMPTY_CARD, **(obj.card or {})}

    def get_cardPresent(self, obj: Payment) -> bool:
        return False

    def get_date(self, obj: Payment) -> str:
        moment: datetime = obj.paid_at or obj.created_at or datetime.now(tz=UTC)
        return iso(moment)

    def get_nextdate(self, obj: Payment) -> str:
        return iso(obj.next_date)
