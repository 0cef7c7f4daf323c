"""Base views: authentication and company resolved once, roles declared, input validated one way."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from apps.core.api.permissions import HasRequiredRole, UserTokenRequired
from apps.core.exceptions import InvalidInput


def request_data(request: Request, *, list_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    """The request's input as a dict: the JSON (or form) body, and for GET/DELETE also query parameters.

    A body that is not an object is refused. Query parameters named in `list_fields` may repeat
    (`?ids=a&ids=b`) or hold a comma list (`?ids=a,b`).
    """
    body = request.data
    if isinstance(body, list) or not hasattr(body, "keys"):
        raise InvalidInput("The request body must be a JSON object.")
    data: dict[str, Any] = {key: body[key] for key in body.keys()}  # noqa: SIM118 - QueryDict.keys
    if hasattr(body, "getlist"):  # form bodies: keep repeated keys for list fields
        for key in list_fields:
            if key in body:
                data[key] = body.getlist(key)
    if request.method in ("GET", "DELETE", "HEAD"):
        for key in request.query_params.keys():  # noqa: SIM118 - QueryDict.keys
            if key in data:
                continue
            if key in list_fields:
                values = request.query_params.getlist(key)
                data[key] = [part for value in values for part in value.split(",") if part]
            else:
                data[key] = request.query_params.get(key)
    return data


class CompanyAPIView(APIView):
    """A view of company data: the caller's company is `self.company`, roles come from `required_roles`."""

    error_style = "envelope"
    required_roles: tuple[str, ...] = ()
    user_token_required = False
    permission_classes = [IsAuthenticated, UserTokenRequired, HasRequiredRole]

    @property
    def company(self) -> Any:
        """The caller's company, resolved by authentication."""
        return getattr(self.request.user, "company", None)

    def validated(
        self, serializer_class: type[Serializer], *, list_fields: tuple[str, ...] = (), **context: Any
    ) -> dict[str, Any]:
        """Validate the request's input with `serializer_class`; errors name the field."""
        serializer = serializer_class(
            data=request_data(self.request, list_fields=list_fields),
            context={"request": self.request, "view": self, **context},
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class PublicAPIView(CompanyAPIView):
    """A toolbox endpoint that needs no credentials (login, signup, confirmation)."""

    authentication_classes: list = []
    permission_classes: list = []
