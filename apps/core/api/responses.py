"""The toolbox envelope for successful answers."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response


def ok(status: int = 200, /, **fields: Any) -> Response:
    """`{"success": true, ...fields}` with the given status."""
    return Response({"success": True, **fields}, status=status)
