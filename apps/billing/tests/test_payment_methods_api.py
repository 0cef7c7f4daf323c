"""paymentmethod/save, default, delete and paymentmethods/get: cards to the processor, roles, other companies."""

from __future__ import annotations

import uuid

import pytest

from apps.accounts.roles import ACCOUNTING_MANAGER, ALL_ROLES, COMPANY_ADMIN
from apps.billing.models import Membership, PaymentMethod
from apps.billing.tests.helpers import (
    AMEX,
    DEFAULT_METHOD,
    DELETE_METHOD,
    EXPIRED,
    GENERIC_DECLINE,
    INSUFFICIENT_FUNDS,
    MASTERCARD,
    METHODS,
    SAVE_METHOD,
    STOLEN,
    VISA,
    VISA_2,
    card,
    enrol,
    save_method,
)
from apps.core.testing import assert_envelope_error, assert_ok

ENDPOINTS = [
    ("post", SAVE_METHOD, card()),
    ("post", DEFAULT_METHOD, {"methodid": str(uuid.uuid4())}),
    ("post", DELETE_METHOD, {"methodid": str(uuid.uuid4())}),
    ("get", METHODS, None),
]


# --- who may ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "payload"), ENDPOINTS)
def test_anonymous_and_roles_that_may_not(anon, tenant, method, path, payload):
    assert_envelope_error(getattr(anon, method)(path, payload, format="json"), 401)
    for role in ALL_ROLES:
        if role in (COMPANY_ADMIN, ACCOUNTING_MANAGER):
            continue
        member = tenant.member([role])
        assert_envelope_error(getattr(member.client, method)(path, payload, format="json"), 403, "permission")
    assert not PaymentMethod.objects.exists()


@pytest.mark.parametrize("who", ["admin", "accountant", "keys"])
def test_company_admin_accounting_manager_and_key_pair_may(tenant, accountant, who):
    client = {"admin": tenant.admin.client, "accountant": accountant.client, "keys": tenant.key_client()}[who]
    body = assert_ok(client.post(SAVE_METHOD, card(), format="json"))
    assert body["message"] == "Payment method saved successfully."
    listed = assert_ok(client.get(METHODS))["paymentMethods"]
    assert [m["methodid"] for m in listed] == [body["methodid"]]


# --- save ------------------------------------------------------------------------------------------------


def test_save_keeps_only_the_token_and_what_may_be_shown(tenant):
    body = assert_ok(tenant.admin.client.post(SAVE_METHOD, card(VISA, cardholderName=" Jane Doe "), format="json"))
    method = PaymentMethod.objects.get(pk=body["methodid"])
    assert method.company_id == tenant.company.pk
    assert (method.brand, method.last4, method.exp_month, method.exp_year) == ("Visa", "4242", 12, 2040)
    assert (method.cardholder_name, method.zip_code, method.is_default) == ("Jane Doe", "12345", True)
    assert method.token.startswith("tok_sbx_")
    assert VISA not in method.token
    listed = assert_ok(tenant.admin.client.get(METHODS))["paymentMethods"]
    assert listed == [
        {
            "methodid": body["methodid"],
            "method": "Credit Card",
            "type": "Visa",
            "issuer": "Sandbox Bank",
            "billing_details": {"zip": "12345"},
            "cardholderName": "Jane Doe",
            "cardLast4": "4242",
            "expiryMonth": 12,
            "expiryYear": 2040,
            "isdefault": True,
        }
    ]


@pytest.mark.parametrize(
    ("number", "brand", "cvc"),
    [(MASTERCARD, "MasterCard", 123), (AMEX, "American Express", "7351"), ("4242 4242 4242 4242", "Visa", "012")],
)
def test_brands_spacing_and_integer_cvcs(tenant, number, brand, cvc):
    body = assert_ok(tenant.admin.client.post(SAVE_METHOD, card(number, cvc=cvc, expiryYear=40), format="json"))
    method = PaymentMethod.objects.get(pk=body["methodid"])
    assert (method.brand, method.exp_year) == (brand, 2040)


def test_an_integer_cvc_keeps_its_leading_zero(tenant):
    # 12 as an integer is the CVC "012"; it passes the 3-digit check.
    assert_ok(tenant.admin.client.post(SAVE_METHOD, card(VISA, cvc=12), format="json"))


@pytest.mark.parametrize(
    ("number", "code", "reason"),
    [
        (EXPIRED, "expired_card", "the card has expired"),
        (STOLEN, "stolen_card", "lost or stolen"),
        (GENERIC_DECLINE, "card_declined", "declined"),
    ],
)
def test_declined_cards_are_not_saved(tenant, number, code, reason):
    response = tenant.admin.client.post(SAVE_METHOD, card(number), format="json")
    body = assert_envelope_error(response, 402, reason)
    assert body["decline_code"] == code
    assert number not in response.content.decode()
    assert not PaymentMethod.objects.exists()


def test_insufficient_funds_is_only_known_when_charged(tenant):
    # Like a real processor, saving verifies the card; the lack of funds shows when it is charged.
    methodid = save_method(tenant, INSUFFICIENT_FUNDS)
    assert PaymentMethod.objects.get(pk=methodid).last4 == "9995"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cardNumber": "4242424242424241"}, "Invalid cardNumber: the card number is not valid."),
        ({"cardNumber": "4242-abcd"}, "Invalid cardNumber: It must be 12 to 19 digits."),
        ({"cardNumber": "42424242"}, "Invalid cardNumber"),
        ({"expiryYear": 2020}, "Invalid expiryYear: the card has expired."),
        ({"expiryMonth": 13}, "Invalid expiryMonth"),
        ({"expiryMonth": "December"}, "Invalid expiryMonth"),
        ({"expiryYear": 1999}, "Invalid expiryYear"),
        ({"cvc": "12"}, "Invalid cvc: it must be 3 digits."),
        ({"cvc": "12a"}, "Invalid cvc"),
        ({"cvc": True}, "Invalid cvc"),
        ({"cvc": "12345"}, "Invalid cvc"),
        ({"cardNumber": None}, "Missing cardNumber."),
        ({"cvc": None}, "Missing cvc."),
        ({"cardholderName": None}, "Missing cardholderName."),
        ({"zipCode": None}, "Missing zipCode."),
        ({"expiryMonth": None}, "Missing expiryMonth."),
    ],
)
def test_save_validation_never_echoes_the_card(tenant, change, message):
    payload = {k: v for k, v in card(VISA, **change).items() if v is not None}
    response = tenant.admin.client.post(SAVE_METHOD, payload, format="json")
    assert_envelope_error(response, 400, message)
    text = response.content.decode()
    assert "4242424242424241" not in text and "987" not in text
    assert not PaymentMethod.objects.exists()


def test_an_amex_needs_four_cvc_digits(tenant):
    assert_envelope_error(tenant.admin.client.post(SAVE_METHOD, card(AMEX, cvc="123"), format="json"), 400, "4 digits")


def test_save_refuses_a_body_that_is_not_an_object(tenant):
    assert_envelope_error(tenant.admin.client.post(SAVE_METHOD, [card()], format="json"), 400, "JSON object")


# --- default ------------------------------------------------------------------------------------------------


def test_exactly_one_default(tenant, accountant):
    first = save_method(tenant, VISA)
    second = save_method(accountant, MASTERCARD)
    assert PaymentMethod.objects.get(pk=first).is_default
    assert not PaymentMethod.objects.get(pk=second).is_default

    body = assert_ok(accountant.client.post(DEFAULT_METHOD, {"methodid": second}, format="json"))
    assert body == {"success": True, "message": "Default payment method changed successfully.", "methodid": second}
    listed = assert_ok(tenant.admin.client.get(METHODS))["paymentMethods"]
    assert [(m["methodid"], m["isdefault"]) for m in listed] == [(second, True), (first, False)]
    assert PaymentMethod.objects.filter(company=tenant.company, is_default=True).count() == 1
    # Again: still exactly one.
    assert_ok(accountant.client.post(DEFAULT_METHOD, {"methodid": second}, format="json"))
    assert PaymentMethod.objects.filter(company=tenant.company, is_default=True).count() == 1


def test_default_moves_the_membership_to_that_method(tenant):
    enrol(tenant)
    other = save_method(tenant, VISA_2)
    assert_ok(tenant.admin.client.post(DEFAULT_METHOD, {"methodid": other}, format="json"))
    assert str(Membership.objects.get(company=tenant.company).payment_method_id) == other


@pytest.mark.parametrize("path", [DEFAULT_METHOD, DELETE_METHOD])
def test_missing_unknown_garbage_and_other_companies_ids(tenant, outsider, path):
    theirs = save_method(outsider, VISA)
    assert_envelope_error(tenant.admin.client.post(path, {}, format="json"), 400, "Missing or invalid methodid.")
    for methodid in (str(uuid.uuid4()), "method123", theirs):
        assert_envelope_error(tenant.admin.client.post(path, {"methodid": methodid}, format="json"), 404)
    method = PaymentMethod.objects.get(pk=theirs)
    assert method.is_default and method.company_id == outsider.company.pk


def test_get_lists_only_the_companys_methods(tenant, outsider):
    mine = save_method(tenant, VISA)
    save_method(outsider, MASTERCARD)
    listed = assert_ok(tenant.admin.client.get(METHODS))["paymentMethods"]
    assert [m["methodid"] for m in listed] == [mine]


# --- delete ---------------------------------------------------------------------------------------------------


def test_delete_promotes_another_default(tenant):
    first = save_method(tenant, VISA)
    second = save_method(tenant, MASTERCARD)
    body = assert_ok(tenant.admin.client.post(DELETE_METHOD, {"methodid": first}, format="json"))
    assert body == {"success": True, "message": "Payment methods deleted successfully.", "paymentMethodids": first}
    assert not PaymentMethod.objects.filter(pk=first).exists()
    assert PaymentMethod.objects.get(pk=second).is_default
    assert_ok(tenant.admin.client.post(DELETE_METHOD, {"methodid": second}, format="json"))
    assert assert_ok(tenant.admin.client.get(METHODS))["paymentMethods"] == []


def test_deleting_the_membership_s_method_warns_of_the_fall_back(tenant):
    enrol(tenant)
    membership = Membership.objects.get(company=tenant.company)
    body = assert_ok(
        tenant.admin.client.post(DELETE_METHOD, {"methodid": str(membership.payment_method_id)}, format="json")
    )
    assert "fall back to NONE" in body["warning"]
    membership.refresh_from_db()
    assert membership.payment_method_id is None
    assert membership.status == Membership.STATUS_ACTIVE  # the paid period stays; the renewal will fail
