"""How requests prove who they are: a Bearer JWT, or the company's API key + Enc key."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from apps.accounts.models import CompanyPrincipal
from apps.accounts.services.auth import key_pair_authenticate, token_resolve
from apps.core.exceptions import NotAuthenticated


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <jwt>` from login: a person, or a company when the token came from its keys."""

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise NotAuthenticated("Missing or invalid token.")
        resolved = token_resolve(raw=parts[1].decode("latin-1"))
        return resolved.principal, resolved.payload

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiKeyPairAuthentication(BaseAuthentication):
    """`X-API-Key` + `X-Enc-Key`: the company itself, with Company Admin rights."""

    require_enc_key = True

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        apikey = request.headers.get("X-API-Key")
        if not apikey:
            return None
        enckey = request.headers.get("X-Enc-Key")
        if self.require_enc_key and not enckey:
            raise NotAuthenticated("Missing X-Enc-Key header.")
        key_pair = key_pair_authenticate(apikey=apikey, enckey=enckey, require_enc_key=self.require_enc_key)
        return CompanyPrincipal(key_pair.company, key_pair), None

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiKeyOnlyAuthentication(ApiKeyPairAuthentication):
    """`X-API-Key` alone, for the tenant chat API, whose spec authenticates with it only."""

    require_enc_key = False
