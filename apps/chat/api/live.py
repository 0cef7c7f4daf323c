"""The toolbox's view of live chats: `chats/online/get` (also `chats/get`), `chats/archived/get`,
`chat/stop/{chatid}` (or `?chatid=`) and `chats/stop`."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.roles import COMPANY_ADMIN, USER_MANAGER
from apps.chat import live
from apps.chat.models import Chat
from apps.chat.selectors import chat_ref_filter
from apps.core.api.responses import ok
from apps.core.api.schema import envelope, toolbox_schema
from apps.core.api.views import CompanyAPIView, request_data
from apps.core.exceptions import InvalidInput

TAGS = ["Chats"]
# The spec names no roles for these; its summaries say "administrators and chat managers", and the
# other chats/* endpoints (group, integrations) are the Company Admin's and the User Manager's.
CHAT_MANAGERS = (COMPANY_ADMIN, USER_MANAGER)
ACCESS = "Company Admin or User Manager."


class ChatUserSerializer(serializers.Serializer):
    userid = serializers.CharField()
    email = serializers.CharField()
    fname = serializers.CharField()
    lname = serializers.CharField()


class LiveChatSerializer(serializers.Serializer):
    """A chat as the admin's lists show it; `appid` is the model (or actor) the chat talks to."""

    chatid = serializers.UUIDField(source="pk")
    appid = serializers.CharField(source="model")
    groupid = serializers.UUIDField(source="company_id")
    started = serializers.DateTimeField(source="created_at")
    ended = serializers.DateTimeField(source="ended_at", allow_null=True)
    user = serializers.SerializerMethodField()

    def get_user(self, chat: Chat) -> dict[str, Any]:
        """A staff member's account, or the integrator's end-user id (no email or name known)."""
        if chat.user is not None:
            return {
                "userid": str(chat.user.pk),
                "email": chat.user.email,
                "fname": chat.user.fname,
                "lname": chat.user.lname,
            }
        return {"userid": chat.user_ref, "email": "", "fname": "", "lname": ""}


def chat_ref(raw: Any) -> str:
    """A chat id from the path or `chatid`: its UUID, or its per-company number; 400 when neither."""
    text = str(raw or "").strip()
    if chat_ref_filter(text) is None:
        raise InvalidInput("Missing or invalid chatid.")
    return text


class ChatsOnlineView(CompanyAPIView):
    required_roles = CHAT_MANAGERS

    @toolbox_schema(
        summary="List the chats that are live now",
        description=(
            "A chat is live while a socket is open on it or a reply is streaming, in any server process. " + ACCESS
        ),
        tags=TAGS,
        response=envelope("ChatsOnlineResponse", chats=LiveChatSerializer(many=True)),
        errors=(401, 403),
    )
    def get(self, request: Request) -> Response:
        return ok(chats=LiveChatSerializer(live.chats_online(company=self.company), many=True).data)


class ChatsArchivedView(CompanyAPIView):
    required_roles = CHAT_MANAGERS

    @toolbox_schema(
        summary="List the ended chats",
        description="Most recently ended first. " + ACCESS,
        tags=TAGS,
        response=envelope("ChatsArchivedResponse", chats=LiveChatSerializer(many=True)),
        errors=(401, 403),
    )
    def get(self, request: Request) -> Response:
        return ok(chats=LiveChatSerializer(live.chats_archived(company=self.company), many=True).data)


class ChatStopView(CompanyAPIView):
    required_roles = CHAT_MANAGERS

    @toolbox_schema(
        summary="Stop one chat",
        description=(
            "The chat id (its UUID or number) in the path or as `chatid` (query or body). Its stream stops, "
            "its sockets close with the code 4100 and a reason, and it moves to the archived chats. " + ACCESS
        ),
        tags=TAGS,
        errors=(400, 401, 403, 404),
    )
    def put(self, request: Request, chatid: str | None = None) -> Response:
        raw = chatid or request_data(request).get("chatid") or request.query_params.get("chatid")
        live.chat_stop(company=self.company, chat_ref=chat_ref(raw))
        return ok(message="Chat stopped successfully.")


class ChatsStopView(CompanyAPIView):
    required_roles = CHAT_MANAGERS

    @toolbox_schema(
        summary="Stop every chat of your group",
        description="Every chat that has not ended is archived and its live sockets are closed. " + ACCESS,
        tags=TAGS,
        response=envelope("ChatsStopResponse", message=serializers.CharField(), stopped=serializers.IntegerField()),
        errors=(401, 403),
    )
    def put(self, request: Request) -> Response:
        stopped = live.chats_stop_all(company=self.company)
        return ok(message="All chats stopped successfully.", stopped=stopped)
