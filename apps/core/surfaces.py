"""Which error dialect a path speaks, for answers made outside a view (unknown paths, crashes)."""

from __future__ import annotations

import re

# The gateway (000), chat stream (002), conversations (003) and tenant chat (004) dialects answer {"detail"}.
_DETAIL_PATHS = re.compile(
    r"^/(?:api/v1/(?:chats|configs|users/permissions|knowledge|tools|prompts)(?:/|$)"
    r"|api/(?!v1/|membership/)"
    r"|v1/"
    r"|chat/.)"
)
_API_PATHS = re.compile(r"^/(?:api/|v1/|chat/.|healthz$)")


def is_api_path(path: str) -> bool:
    """True where answers are JSON, never an HTML page."""
    return bool(_API_PATHS.match(path))


def error_style_for_path(path: str) -> str:
    """`detail` for the chat and gateway dialects, `envelope` for the toolbox API."""
    return "detail" if _DETAIL_PATHS.match(path) else "envelope"
