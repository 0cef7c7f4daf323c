"""Membership, Payments, Payment Method and Payment Methods endpoints of the toolbox API."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.roles import ACCOUNTING_MANAGER, COMPANY_ADMIN
from apps.billing import selectors
from apps.billing.api import serializers as s
from apps.billing.api.idempotency import IDEMPOTENCY_HEADER, idempotent
from apps.billing.services import membership as memberships
from apps.billing.services import payment_methods
from apps.billing.services.common import iso
from apps.core.api.responses import ok
from apps.core.api.schema import envelope, toolbox_schema
from apps.core.api.views import CompanyAPIView

MEMBERSHIP = ["Membership"]
PAYMENTS = ["Payments"]
PAYMENT_METHOD = ["Payment Method"]
PAYMENT_METHODS = ["Payment Methods"]
BILLING_ROLES = (COMPANY_ADMIN, ACCOUNTING_MANAGER)


class PaymentMethodSaveView(CompanyAPIView):
    required_roles = BILLING_ROLES

    @toolbox_schema(
        summary="Save a new payment method (a card kept by the processor)",
        description=(
            "The card goes to the payment processor, which verifies it (number, future expiry, CVC) and keeps "
            "it; only its token, brand, last four digits, expiry, cardholder name and zip are stored here. "
            "Declined cards answer 402 with `decline_code`. There is no update: delete and save again. "
            "The first method saved becomes the default."
        ),
        tags=PAYMENT_METHOD,
        request=s.CardInputSerializer,
        response=envelope(
            "PaymentMethodSaveResponse", message=serializers.CharField(), methodid=serializers.UUIDField()
        ),
        errors=(400, 401, 402, 403, 409),
        parameters=[IDEMPOTENCY_HEADER],
    )
    @idempotent("paymentmethod/save")
    def post(self, request: Request) -> Response:
        data = self.validated(s.CardInputSerializer)
        method = payment_methods.payment_method_save(company=self.company, actor=request.user, card=s.card_from(data))
        return ok(message="Payment method saved successfully.", methodid=str(method.pk))


class PaymentMethodDefaultView(CompanyAPIView):
    required_roles = BILLING_ROLES

    @toolbox_schema(
        summary="Make a payment method the default",
        description="Exactly one method is the default; it also pays the membership's renewals from now on.",
        tags=PAYMENT_METHOD,
        request=s.MethodIdInputSerializer,
        response=envelope(
            "PaymentMethodDefaultResponse", message=serializers.CharField(), methodid=serializers.UUIDField()
        ),
        errors=(400, 401, 403, 404, 409),
        parameters=[IDEMPOTENCY_HEADER],
    )
    @idempotent("paymentmethod/default")
    def post(self, request: Request) -> Response:
        data = self.validated(s.MethodIdInputSerializer)
        method = payment_methods.payment_method_default(
            company=self.company, actor=request.user, methodid=data.get("methodid")
        )
        return ok(message="Default payment method changed successfully.", methodid=str(method.pk))


class PaymentMethodDeleteView(CompanyAPIView):
    required_roles = BILLING_ROLES

    @toolbox_schema(
        summary="Delete a payment method (here and at the processor)",
        description=(
            "When the method pays for the membership, its next renewal fails and the membership falls back to "
            "NONE unless another method is made the default first; the answer then carries a `warning`."
        ),
        tags=PAYMENT_METHOD,
        request=s.MethodIdInputSerializer,
        response=envelope(
            "PaymentMethodDeleteResponse",
            message=serializers.CharField(),
            paymentMethodids=serializers.UUIDField(),
            warning=serializers.CharField(required=False),
        ),
        errors=(400, 401, 403, 404, 409),
        parameters=[IDEMPOTENCY_HEADER],
    )
    @idempotent("paymentmethod/delete")
    def post(self, request: Request) -> Response:
        data = self.validated(s.MethodIdInputSerializer)
        deleted = payment_methods.payment_method_delete(
            company=self.company, actor=request.user, methodid=data.get("methodid")
        )
        extra = {"warning": deleted.warning} if deleted.warning else {}
        return ok(message="Payment methods deleted successfully.", paymentMethodids=deleted.methodid, **extra)


class PaymentMethodsView(CompanyAPIView):
    required_roles = BILLING_ROLES

    @toolbox_schema(
        summary="List the saved payment methods (last four digits only)",
        tags=PAYMENT_METHODS,
        response=envelope("PaymentMethodsResponse", paymentMethods=s.PaymentMethodSerializer(many=True)),
        errors=(401, 403),
    )
    def get(self, request: Request) -> Response:
        methods = selectors.payment_method_list(company=self.company)
        return ok(paymentMethods=s.PaymentMethodSerializer(methods, many=True).data)


class PaymentsView(CompanyAPIView):
    required_roles = BILLING_ROLES

    @toolbox_schema(
        summary="List the payments, newest first",
        description=(
            "Amounts are in the currency's units (`10`, `0.45`), exact: they are kept as integer cents. "
            "`history` has every charge attempt; `nextdate` is the next renewal, or the next retry of a declined one."
        ),
        tags=PAYMENTS,
        response=envelope("PaymentsResponse", payments=s.PaymentSerializer(many=True)),
        errors=(401, 403),
    )
    def get(self, request: Request) -> Response:
        payments = selectors.payment_list(company=self.company)
        return ok(payments=s.PaymentSerializer(payments, many=True).data)


class MembershipSaveView(CompanyAPIView):
    """Served at /api/v1/membership/save and /api/membership/save (the spec shows both)."""

    required_roles = (COMPANY_ADMIN,)

    @toolbox_schema(
        summary="Change the membership plan (charges the first period)",
        description=(
            "`plan` is a plan code (STANDARD_MONTHLY, STANDARD_YEARLY, PREMIUM_MONTHLY, PREMIUM_YEARLY). "
            '`method` is "new" with the card fields, or "methodID" with `methodID` (or the method\'s id itself). '
            "The first period is charged at once; a decline (402) changes nothing. The plan renews each period "
            "until membership/stop. Enterprise plans are asked for with membership/request."
        ),
        tags=MEMBERSHIP,
        request=s.MembershipSaveInputSerializer,
        response=envelope(
            "MembershipSaveResponse", message=serializers.CharField(), membershipToken=serializers.CharField()
        ),
        errors=(400, 401, 402, 403, 404, 409),
        parameters=[IDEMPOTENCY_HEADER],
    )
    @idempotent("membership/save")
    def post(self, request: Request) -> Response:
        data = self.validated(s.MembershipSaveInputSerializer)
        enrolment = memberships.membership_save(
            company=self.company,
            actor=request.user,
            plan=data["plan"],
            method=data.get("method"),
            methodid=data.get("methodid"),
            card=data.get("card"),
        )
        return ok(message=enrolment.message, membershipToken=enrolment.membership.token)


class MembershipStopView(CompanyAPIView):
    required_roles = (COMPANY_ADMIN,)

    @toolbox_schema(
        summary="Cancel the membership at the end of the paid period",
        description=(
            "The plan stays until `endsAt`, then the company is on NONE. Enterprise plans are cancelled by our "
            "team (400 asking you to contact us)."
        ),
        tags=MEMBERSHIP,
        response=envelope("MembershipStopResponse", message=serializers.CharField(), endsAt=serializers.CharField()),
        errors=(400, 401, 403, 409),
        parameters=[IDEMPOTENCY_HEADER],
    )
    @idempotent("membership/stop")
    def post(self, request: Request) -> Response:
        membership = memberships.membership_stop(company=self.company, actor=request.user)
        return ok(message="Your membership has been successfully cancelled.", endsAt=iso(membership.period_end))


class MembershipRequestView(CompanyAPIView):
    required_roles = (COMPANY_ADMIN,)

    @toolbox_schema(
        summary="Request a plan arranged with our team (or withdraw the request)",
        description="`plan`: ENTERPRISE_MONTHLY, ENTERPRISE_YEARLY or NO_REQUEST. Staff are told by email.",
        tags=MEMBERSHIP,
        request=s.MembershipRequestInputSerializer,
        errors=(400, 401, 403),
    )
    def put(self, request: Request) -> Response:
        data = self.validated(s.MembershipRequestInputSerializer)
        memberships.membership_request(company=self.company, actor=request.user, plan=data.get("plan"))
        return ok(message="Your request has been submitted. We will be in touch shortly.")
