"""Who calls the gateway: one helper for the plain async views and the DRF views of that dialect.

Accepted, in this order: `Authorization: Bearer <jwt>`, the company's `X-API-Key` + `X-Enc-Key`, or a
browser session's `token` cookie holding the JWT. Only the cookie needs CSRF protection (a page on
another site can make the browser send the cookie, not a header): unsafe methods authenticated by the
cookie must carry `X-CSRF-Token` as given by `GET /api/v1/configs/csrf-token`.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from apps.accounts.models import CompanyPrincipal
from apps.accounts.services.auth import key_pair_authenticate, token_resolve
from apps.core.crypto import digest, digests_match
from apps.core.exceptions import NotAuthenticated, PermissionDenied

TOKEN_COOKIE = "token"  # noqa: S105 - a cookie name
CSRF_COOKIE = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token_for(payload: dict[str, Any]) -> str:
    """The CSRF token bound to one session token (its `jti`): valid exactly as long as that token."""
    return digest(str(payload.get("jti", "")), purpose="gateway-csrf")


def authenticate_request(request: HttpRequest) -> tuple[Any, dict[str, Any] | None]:
    """(principal, token payload) of a gateway request; NotAuthenticated when it has no valid credentials."""
    principal, payload = _credentials(request)
    if getattr(principal, "company", None) is None:
        raise PermissionDenied("This account belongs to no company.")
    return principal, payload


def _credentials(request: HttpRequest) -> tuple[Any, dict[str, Any] | None]:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise NotAuthenticated("Missing or invalid token.")
        resolved = token_resolve(raw=raw.strip())
        return resolved.principal, resolved.payload
    apikey = request.headers.get("X-API-Key")
    if apikey:
        key_pair = key_pair_authenticate(apikey=apikey, enckey=request.headers.get("X-Enc-Key"))
        return CompanyPrincipal(key_pair.company, key_pair), None
    cookie = request.COOKIES.get(TOKEN_COOKIE)
    if cookie:
        resolved = token_resolve(raw=cookie)
        if request.method not in SAFE_METHODS:
            sent = request.headers.get("X-CSRF-Token", "")
            if not sent or not digests_match(sent, csrf_token_for(resolved.payload)):
                raise PermissionDenied("Missing or invalid X-CSRF-Token (needed with cookie sessions).")
        return resolved.principal, resolved.payload
    raise NotAuthenticated("Missing or invalid token.")


def check_enterprise(request: HttpRequest, company: Any) -> None:
    """`X-Enterprise-Id`, when sent, must be the caller's company."""
    enterprise = request.headers.get("X-Enterprise-Id")
    if enterprise and enterprise.strip().lower() != str(company.pk):
        raise PermissionDenied("X-Enterprise-Id is not your company.")


class GatewayAuthentication(BaseAuthentication):
    """The same credentials for the DRF views of the gateway dialect."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        has_credentials = (
            request.headers.get("Authorization")
            or request.headers.get("X-API-Key")
            or request.COOKIES.get(TOKEN_COOKIE)
        )
        if not has_credentials:
            return None
        principal, payload = authenticate_request(request._request)
        check_enterprise(request._request, principal.company)
        return principal, payload

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
