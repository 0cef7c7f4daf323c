"""The toolbox envelope for successful answers."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response


def ok(status: int = 200, headers: dict[str, str] | None = None, **fields: Any) -> Response:
    """`{"success": true, ...fields}`."""
    return Response({"success": True, **fields}, status=status, headers=headers)
