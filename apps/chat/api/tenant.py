"""The tenant chat API's REST part (`/api/v1/chats/...`): `X-API-Key` alone, chats of the tenant's end-users.

Every answer of this surface carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`
(the Unix time the current minute's window ends); past TENANT_CHAT_REQUESTS_PER_MINUTE requests in a
minute a company gets 429 with `Retry-After`. The count lives in the cache, so every server process sharing
Redis shares it (in memory, per process, without Redis).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.authentication import ApiKeyOnlyAuthentication
from apps.chat import selectors, services
from apps.chat.api.views import DetailAPIView, _detail_errors
from apps.chat.models import Chat, Message
from apps.core.counters import cache_count
from apps.core.exceptions import RateLimited

TENANT = ["Tenant chats"]
MAX_LIMIT = 200


class TenantAPIView(DetailAPIView):
    """A view of the tenant chat API: the company's key alone, and the per-company request limit."""

    authentication_classes = [ApiKeyOnlyAuthentication]
    rate: tuple[int, int, int] | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        limit = settings.TENANT_CHAT_REQUESTS_PER_MINUTE
        if not limit:
            return
        now = time.time()
        window = int(now // 60)
        count = cache_count(f"tenant-chat-rpm:{self.company.pk}:{window}", timeout=120)
        self.rate = (limit, max(0, limit - count), (window + 1) * 60)
        if count > limit:
            message = f"Rate limit exceeded: {limit} requests a minute per tenant. Retry after the reset time."
            raise RateLimited(message, retry_after=max(1, (window + 1) * 60 - int(now)))

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.rate is not None:
            limit, remaining, reset = self.rate
            response["X-RateLimit-Limit"] = str(limit)
            response["X-RateLimit-Remaining"] = str(remaining)
            response["X-RateLimit-Reset"] = str(reset)
        return response


# --- shapes -----------------------------------------------------------------------------------------------


class TenantChatCreateSerializer(serializers.Serializer):
    user_id = serializers.JSONField(help_text="The integrator's own id for its end-user (a string).")
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    metadata = serializers.DictField(required=False, default=dict)
    model = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    actorid = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None)
    activityid = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None)


class TenantChatSerializer(serializers.ModelSerializer):
    """A chat as the tenant API shows it; `user_id` is the end-user's id (or a staff user's UUID)."""

    user_id = serializers.SerializerMethodField()
    actorid = serializers.UUIDField(source="actor_id", allow_null=True)
    activityid = serializers.UUIDField(source="activity_id", allow_null=True)

    class Meta:
        model = Chat
        fields: tuple[str, ...] = (
            "id",
            "number",
            "user_id",
            "title",
            "model",
            "metadata",
            "actorid",
            "activityid",
            "state",
            "created_at",
            "updated_at",
        )

    def get_user_id(self, chat: Chat) -> str | None:
        if chat.end_user_id:
            return chat.end_user.external_id if chat.end_user else None
        return str(chat.user_id) if chat.user_id else None


class TenantChatCreatedSerializer(TenantChatSerializer):
    user_created = serializers.SerializerMethodField()

    class Meta(TenantChatSerializer.Meta):
        fields = (*TenantChatSerializer.Meta.fields, "user_created")

    def get_user_created(self, chat: Chat) -> bool:
        return bool(self.context.get("user_created"))


class TenantChatListSerializer(serializers.Serializer):
    user_id = serializers.CharField()
    chats = TenantChatSerializer(many=True)
    total = serializers.IntegerField()


class TenantMessageSerializer(serializers.ModelSerializer):
    chat_id = serializers.UUIDField()

    class Meta:
        model = Message
        fields = ("id", "chat_id", "role", "content", "model", "created_at")


class MessagesQuerySerializer(serializers.Serializer):
    offset = serializers.IntegerField(min_value=0, max_value=1_000_000_000, default=0)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=50)
    order = serializers.ChoiceField(choices=("asc", "desc"), default="asc")


class MessagePageSerializer(serializers.Serializer):
    chat_id = serializers.UUIDField()
    messages = TenantMessageSerializer(many=True)
    total = serializers.IntegerField()
    offset = serializers.IntegerField()
    limit = serializers.IntegerField()
    has_more = serializers.BooleanField()


class DeletedSerializer(serializers.Serializer):
    message = serializers.CharField()
    chat_id = serializers.UUIDField()


# --- views -------------------------------------------------------------------------------------------------

ERRORS = (400, 401, 429)


class TenantChatsView(TenantAPIView):
    @extend_schema(
        summary="Create a chat for an end-user (created on first use)",
        description=(
            "`user_id` is your own id for the end-user. `model` defaults to the company's default model; "
            "`actorid`/`activityid` make that actor's or activity's prompt the chat's system message."
        ),
        tags=TENANT,
        request=TenantChatCreateSerializer,
        responses={201: TenantChatCreatedSerializer, **_detail_errors(*ERRORS, 403, 404)},
    )
    def post(self, request: Request) -> Response:
        data = self.validated(TenantChatCreateSerializer)
        chat, created = services.tenant_chat_create(
            company=self.company,
            external_id=data["user_id"],
            title=data["title"],
            model=data["model"] or None,
            metadata=data["metadata"],
            actorid=data["actorid"],
            activityid=data["activityid"],
        )
        return Response(TenantChatCreatedSerializer(chat, context={"user_created": created}).data, status=201)


class TenantUserChatsView(TenantAPIView):
    @extend_schema(
        summary="An end-user's chats, newest activity first",
        tags=TENANT,
        responses={200: TenantChatListSerializer, **_detail_errors(*ERRORS)},
    )
    def get(self, request: Request, user_id: str) -> Response:
        chats = list(selectors.end_user_chats(company=self.company, external_id=user_id))
        return Response(TenantChatListSerializer({"user_id": user_id, "chats": chats, "total": len(chats)}).data)


class TenantChatView(TenantAPIView):
    @extend_schema(
        summary="A chat",
        tags=TENANT,
        responses={200: TenantChatSerializer, **_detail_errors(*ERRORS, 404)},
    )
    def get(self, request: Request, chat_id: str) -> Response:
        chat = selectors.chat_find(company=self.company, user=request.user, ref=chat_id, message="Chat not found.")
        return Response(TenantChatSerializer(chat).data)

    @extend_schema(
        summary="Delete a chat with its messages",
        tags=TENANT,
        responses={200: DeletedSerializer, **_detail_errors(*ERRORS, 404)},
    )
    def delete(self, request: Request, chat_id: str) -> Response:
        chat = selectors.chat_find(company=self.company, user=request.user, ref=chat_id, message="Chat not found.")
        services.chat_delete(company=self.company, user=request.user, ref=chat.pk)
        return Response({"message": "Chat deleted successfully", "chat_id": str(chat.pk)})


class TenantMessagesView(TenantAPIView):
    @extend_schema(
        summary="A chat's messages, paginated",
        description=f"`offset` (default 0), `limit` (default 50, at most {MAX_LIMIT}), `order` asc (default) or desc.",
        tags=TENANT,
        parameters=[MessagesQuerySerializer],
        responses={200: MessagePageSerializer, **_detail_errors(*ERRORS, 404)},
    )
    def get(self, request: Request, chat_id: str) -> Response:
        query = self.validated(MessagesQuerySerializer)
        chat = selectors.chat_find(company=self.company, user=request.user, ref=chat_id, message="Chat not found.")
        messages = selectors.chat_messages(chat=chat)
        if query["order"] == "desc":
            messages = messages.reverse()
        total = messages.count()
        offset, limit = query["offset"], query["limit"]
        page = list(messages[offset : offset + limit])
        body = {
            "chat_id": chat.pk,
            "messages": page,
            "total": total,
            "offset": offset,
            "limit": limit,
            "has_more": offset + len(page) < total,
        }
        return Response(MessagePageSerializer(body).data)
