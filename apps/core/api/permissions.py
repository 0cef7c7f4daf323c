"""Role checks: each view declares the roles that may call it."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.core.exceptions import PermissionDenied


class HasRequiredRole(BasePermission):
    """Passes when the view lists no roles, or the caller holds one of them (Company Admin holds all)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        required = getattr(view, "required_roles", ())
        if not required:
            return True
        user: Any = request.user
        if user.has_any_role(required):
            return True
        raise PermissionDenied()


class UserTokenRequired(BasePermission):
    """Refuses callers that are not a person (a company key pair) where the view is about one person."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not getattr(view, "user_token_required", False) or getattr(request.user, "is_person", False):
            return True
        raise PermissionDenied(
            "This endpoint needs a user's Bearer token; an API key pair acts for the company, not a person."
        )
