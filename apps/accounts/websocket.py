"""Who a WebSocket is: the company's API key with the integrator's end-user id, or a Bearer JWT.

Sockets cannot send headers from a browser, so credentials come in the URL or the subprotocol:

- `?api_key=<company API key>&user_id=<end-user id>`: the tenant chat API's way (the key alone, as
  its spec says); the socket acts for the company, for that end-user.
- `?token=<JWT>`, or the subprotocols `bearer, <JWT>` (`new WebSocket(url, ["bearer", jwt])`): a
  first-party client. The server answers with the subprotocol `bearer`, never echoing the token.

The middleware never refuses a socket itself: it puts what it found in the scope (`principal`,
`company`, `auth_method`, `end_user_ref`, `auth_error`) and the consumer accepts, sends an `error`
event and closes with a close code that says why, so a client learns the reason.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings

from apps.accounts.models import CompanyPrincipal
from apps.accounts.services.auth import key_pair_authenticate, token_resolve
from apps.core.exceptions import NotAuthenticated

BEARER_SUBPROTOCOL = "bearer"


def query_params(scope: dict[str, Any]) -> dict[str, str]:
    """The socket URL's query parameters, the first value of each."""
    raw = scope.get("query_string", b"").decode("latin-1")
    return {key: values[0] for key, values in parse_qs(raw).items() if values}


def _subprotocol_token(scope: dict[str, Any]) -> str | None:
    protocols = [p.strip() for p in scope.get("subprotocols") or []]
    if len(protocols) >= 2 and protocols[0].lower() == BEARER_SUBPROTOCOL:
        return protocols[1]
    return None


def socket_authenticate(scope: dict[str, Any]) -> dict[str, Any]:
    """What the socket's credentials resolve to, as scope entries; `auth_error` when they are wrong."""
    params = query_params(scope)
    found: dict[str, Any] = {
        "principal": None,
        "company": None,
        "auth_method": None,
        "auth_error": None,
        "end_user_ref": params.get("user_id", "").strip(),
        "accept_subprotocol": None,
    }
    subprotocol_token = _subprotocol_token(scope)
    if subprotocol_token is not None:
        found["accept_subprotocol"] = BEARER_SUBPROTOCOL
    token = params.get("token") or subprotocol_token
    apikey = params.get("api_key")
    try:
        if apikey:
            key_pair = key_pair_authenticate(apikey=apikey, enckey=None, require_enc_key=False)
            found.update(principal=CompanyPrincipal(key_pair.company, key_pair), auth_method="api_key")
            found["company"] = key_pair.company
        elif token:
            principal = token_resolve(raw=token).principal
            found.update(principal=principal, auth_method="token", company=getattr(principal, "company", None))
            if found["company"] is None:  # an operator without a company has no chats or events here
                raise NotAuthenticated("This account belongs to no company.")
    except NotAuthenticated as exc:
        found.update(principal=None, company=None, auth_method=None)
        found["auth_error"] = ("invalid_api_key" if apikey else "invalid_token", exc.message)
    return found


class WebSocketAuthMiddleware(BaseMiddleware):
    """Resolves a socket's credentials into its scope before the consumer runs."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        scope = dict(scope)
        scope.update(await database_sync_to_async(socket_authenticate)(scope))
        return await super().__call__(scope, receive, send)


class _OriginValidator(OriginValidator):
    """Browsers send `Origin` and must come from one of our hosts; a server-side client sends none.

    Sockets authenticate with a key or token in the URL or subprotocol, never with cookies, so a
    socket without `Origin` (an integrator's backend) carries no cross-site risk.
    """

    def valid_origin(self, parsed_origin: Any) -> bool:
        return parsed_origin is None or bool(super().valid_origin(parsed_origin))


def origin_checked(application: Any) -> Any:
    """The application behind an Origin check against ALLOWED_HOSTS (localhost too under DEBUG)."""
    allowed_hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    return _OriginValidator(application, allowed_hosts)
