"""Auth, User, Users, Group and Integrations endpoints of the toolbox API."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts import selectors
from apps.accounts.api import serializers as s
from apps.accounts.authentication import ApiKeyPairAuthentication
from apps.accounts.roles import COMPANY_ADMIN, USER_MANAGER
from apps.accounts.services import auth, users
from apps.core.api.responses import ok
from apps.core.api.schema import MessageEnvelopeSerializer, envelope, toolbox_schema
from apps.core.api.views import CompanyAPIView, PublicAPIView, request_data
from apps.core.net import client_ip

AUTH = ["Auth"]
USERS = ["User"]
GROUP = ["Group"]
INTEGRATIONS = ["Integrations"]

TokenEnvelope = envelope("LoginResponse", user=s.LoginUserSerializer(required=False), token=serializers.CharField())


class LoginView(PublicAPIView):
    """Email + password (+ MFA code), or the company's key pair in the headers, for a Bearer token."""

    @extend_schema(
        summary="Log in for a Bearer token",
        description=(
            "With `email` and `password` (and `mfacode` when the account has MFA on) returns a token for that "
            "person. With no body and the company's `X-API-Key` + `X-Enc-Key` headers, returns a token that acts "
            "for the company like the key pair does. Repeated failures lock the account and the address out "
            "for a while (429 with Retry-After). A missing MFA code answers 401 with `mfarequired: true`."
        ),
        tags=AUTH,
        request=s.LoginInputSerializer,
        responses={
            200: TokenEnvelope,
            400: OpenApiResponse(description="Missing email or password."),
            401: OpenApiResponse(description="Login failed."),
            429: OpenApiResponse(description="Too many failed attempts."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        if request.headers.get("X-API-Key") and not request_data(request):
            principal, _ = ApiKeyPairAuthentication().authenticate(request)  # type: ignore[misc]
            token = auth.token_issue_for_key_pair(key_pair=principal.key_pair)
            return ok(group={"groupid": str(principal.company.pk)}, token=token)
        data = self.validated(s.LoginInputSerializer)
        user = auth.user_authenticate(
            email=data["email"], password=data["password"], mfacode=data.get("mfacode"), ip=client_ip(request)
        )
        return ok(user=s.login_user_data(user), token=auth.token_issue_for_user(user=user))


class LogoutView(CompanyAPIView):
    user_token_required = True

    @toolbox_schema(summary="Log out (ends this token)", tags=AUTH, errors=(401, 403))
    def put(self, request: Request) -> Response:
        payload: Any = request.auth  # the token's claims, set by BearerTokenAuthentication
        auth.token_revoke(payload=payload)
        return ok(message="User logged out successfully")


class LogoutAllView(CompanyAPIView):
    user_token_required = True

    @toolbox_schema(summary="Log out of every device and session", tags=AUTH, errors=(401, 403))
    def put(self, request: Request) -> Response:
        auth.user_logout_all(user=auth.require_person(request.user))
        return ok(message="User logged out of all devices & sessions")


class SignupView(PublicAPIView):
    @toolbox_schema(
        summary="Sign up: a new company with you as its Company Admin",
        description="Emails a 6-digit confirmation code; confirm it with /api/v1/confirmation/confirm.",
        tags=USERS,
        request=s.SignupInputSerializer,
        response=envelope(
            "SignupResponse",
            message=serializers.CharField(),
            user=s.SignupUserSerializer(),
            token=serializers.CharField(),
        ),
        status=201,
        errors=(400, 409),
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.SignupInputSerializer)
        user, token = users.signup(**data)
        return ok(
            201,
            message=(
                "A confirmation email has been sent to the address you provided. "
                "Please check your email and follow the included instructions."
            ),
            user=s.SignupUserSerializer(user).data,
            token=token,
        )


class ConfirmationResendView(PublicAPIView):
    @toolbox_schema(
        summary="Send the email confirmation code again",
        description="Answers alike for unknown and already confirmed addresses, so it reveals no accounts.",
        tags=USERS,
        request=s.EmailInputSerializer,
        errors=(400, 429),
        auth=[],
    )
    def post(self, request: Request) -> Response:
        users.confirmation_resend(email=self.validated(s.EmailInputSerializer)["email"])
        return ok(
            message=(
                "A confirmation code has been sent to the email address provided. "
                "Please check your email and follow the included instructions."
            )
        )


class ConfirmationConfirmView(PublicAPIView):
    @toolbox_schema(
        summary="Confirm an email address with its code",
        tags=USERS,
        request=s.ConfirmInputSerializer,
        errors=(400,),
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.ConfirmInputSerializer)
        users.confirmation_confirm(email=data["email"], code=data["code"])
        return ok(message="Your email address has been confirmed.")


class AuthConfirmView(CompanyAPIView):
    @toolbox_schema(
        summary="Check credentials; returns the group (and the user, for a person's token)",
        tags=AUTH,
        response=envelope("AuthConfirmResponse", group=s.GroupSerializer(), user=s.MeSerializer(required=False)),
        errors=(401,),
    )
    def post(self, request: Request) -> Response:
        group = s.group_data(selectors.company_get(company=self.company))
        if getattr(request.user, "is_person", False):
            return ok(group=group, user=s.MeSerializer(request.user).data)
        return ok(group=group)


class MeView(CompanyAPIView):
    user_token_required = True

    @toolbox_schema(
        summary="The signed-in user, with roles and group",
        tags=["Users"],
        response=envelope("MeResponse", **s.MeSerializer().get_fields()),
        errors=(401, 403),
    )
    def get(self, request: Request) -> Response:
        return ok(**s.MeSerializer(request.user).data)


class ProfileSaveView(CompanyAPIView):
    user_token_required = True

    @toolbox_schema(
        summary="Save your own profile (and, as Company Admin, the group's settings)",
        description=(
            "`group.*` keys change the company and need the Company Admin role (403 otherwise). They may also "
            "be sent as a nested `group` object. Changing the email sends a new confirmation code. `usemfa: false` "
            "turns MFA off; turning it on goes through users/mfa/setup and users/mfa/verify."
        ),
        tags=["Users"],
        request=s.ProfileInputSerializer,
        errors=(400, 401, 403, 409),
    )
    def post(self, request: Request) -> Response:
        payload = s.flatten_group(request_data(request))
        serializer = s.ProfileInputSerializer(data=payload)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        users.profile_update(
            user=auth.require_person(request.user),
            email=data["email"],
            fname=data["fname"],
            lname=data["lname"],
            usemfa=data.get("usemfa"),
            group=serializer.group_fields(),
        )
        return ok(message="Settings saved successfully.")


class PasswordUpdateView(CompanyAPIView):
    user_token_required = True

    @toolbox_schema(
        summary="Change your password",
        description="Checks the current password and the password policy; your other tokens end, a fresh one returns.",
        tags=["Users"],
        request=s.PasswordUpdateInputSerializer,
        response=TokenEnvelope,
        errors=(400, 401, 403),
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.PasswordUpdateInputSerializer)
        person = auth.require_person(request.user)
        token = users.password_update(
            user=person, current=data["currentPassword"], password1=data["password1"], password2=data["password2"]
        )
        return ok(user=s.login_user_data(person), token=token)


class MfaSetupView(CompanyAPIView):
    user_token_required = True

    @toolbox_schema(
        summary="Start MFA setup: a TOTP secret and its otpauth URI",
        description="MFA turns on once users/mfa/verify accepts a code from the authenticator.",
        tags=["Users"],
        response=envelope("MfaSetupResponse", secret=serializers.CharField(), otpauth_uri=serializers.CharField()),
        errors=(401, 403),
    )
    def post(self, request: Request) -> Response:
        return ok(**auth.mfa_setup(user=auth.require_person(request.user)))


class MfaVerifyView(CompanyAPIView):
    user_token_required = True

    @toolbox_schema(
        summary="Verify an MFA code (turns MFA on after setup)",
        tags=["Users"],
        request=s.MfaCodeInputSerializer,
        response=envelope("MfaVerifyResponse"),
        errors=(400, 401, 403),
    )
    def post(self, request: Request) -> Response:
        auth.mfa_verify(user=auth.require_person(request.user), code=self.validated(s.MfaCodeInputSerializer)["code"])
        return ok()


class GroupUsersView(CompanyAPIView):
    required_roles = (COMPANY_ADMIN, USER_MANAGER)

    @toolbox_schema(
        summary="List the users of your group",
        tags=GROUP,
        response=envelope("GroupUsersResponse", users=s.MemberSerializer(many=True)),
        errors=(401, 403),
    )
    def get(self, request: Request) -> Response:
        return ok(users=s.MemberSerializer(selectors.user_list(company=self.company), many=True).data)


class GroupUserSaveView(CompanyAPIView):
    required_roles = (COMPANY_ADMIN, USER_MANAGER)

    @toolbox_schema(
        summary="Create a user in your group, or update one",
        description=(
            "Without `userid` creates a user (password required, roles default to `User`) and emails them a "
            "confirmation code. Roles must be among the documented ones. Only a Company Admin may grant the "
            "Company Admin role or change a Company Admin; the group always keeps one active Company Admin. "
            "MFA can be turned off here but only turned on by the user."
        ),
        tags=GROUP,
        request=s.MemberSaveInputSerializer,
        response=envelope("GroupUserSaveResponse", message=serializers.CharField(), userid=serializers.UUIDField()),
        errors=(400, 401, 403, 404, 409),
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.MemberSaveInputSerializer)
        user = users.member_save(company=self.company, actor=request.user, **data)
        return ok(message="Settings saved successfully.", userid=str(user.pk))


class GroupUsersDeleteView(CompanyAPIView):
    required_roles = (COMPANY_ADMIN, USER_MANAGER)

    @toolbox_schema(
        summary="Delete users of your group, with all their data",
        description="All or nothing: an unknown id (or another group's) deletes none and answers 404.",
        tags=GROUP,
        request=s.MembersDeleteInputSerializer,
        errors=(400, 401, 403, 404),
    )
    def delete(self, request: Request) -> Response:
        data = self.validated(s.MembersDeleteInputSerializer, list_fields=("users",))
        users.members_delete(company=self.company, actor=request.user, userids=data["users"])
        return ok(message="Users deleted successfully.")


class KeysRenewView(CompanyAPIView):
    required_roles = (COMPANY_ADMIN,)

    @toolbox_schema(
        summary="Replace the group's API key and Enc key",
        description="The new keys are shown once; the old pair (and tokens made from it) stop working at once.",
        tags=INTEGRATIONS,
        response=envelope(
            "KeysRenewResponse",
            message=serializers.CharField(),
            apikey=serializers.CharField(),
            enckey=serializers.CharField(),
        ),
        errors=(401, 403),
    )
    def put(self, request: Request) -> Response:
        person: Any = request.user if getattr(request.user, "is_person", False) else None
        issued = auth.key_pair_issue(company=self.company, created_by=person)
        return ok(
            message="Keys have been revoked and renewed successfully.", apikey=issued.apikey, enckey=issued.enckey
        )


class KeysRevokeView(CompanyAPIView):
    required_roles = (COMPANY_ADMIN,)

    @toolbox_schema(
        summary="Revoke the group's API key and Enc key",
        tags=INTEGRATIONS,
        response=MessageEnvelopeSerializer,
        errors=(401, 403),
    )
    def delete(self, request: Request) -> Response:
        auth.key_pair_revoke(company=self.company)
        return ok(message="Keys have been revoked successfully.")
