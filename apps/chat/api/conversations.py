"""The conversations dialect (`/chat/conversations`, `/chat/messages`, `/chat/attachments`).

A conversation is a chat, a message one of its turns, an attachment a file uploaded into a message. Bearer
JWT or the key pair. Attachments are uploaded as multipart `file` (with `message_id` and an optional
`file_type` that must match the content); `file_path` is where our storage keeps the file, never a path
the client chooses.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.chat import attachments, selectors, services
from apps.chat.api.views import DetailAPIView, _detail_errors
from apps.chat.models import Attachment, Chat, Message, MessageRole
from apps.core.exceptions import InvalidInput

CONVERSATIONS = ["Conversations"]


class ConversationInputSerializer(serializers.Serializer):
    user_id = serializers.CharField()
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    model = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    actorid = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None)
    activityid = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None)


class ConversationSerializer(serializers.ModelSerializer):
    user_id = serializers.UUIDField(allow_null=True)
    actorid = serializers.UUIDField(source="actor_id", allow_null=True)
    activityid = serializers.UUIDField(source="activity_id", allow_null=True)

    class Meta:
        model = Chat
        fields = ("id", "number", "user_id", "title", "model", "actorid", "activityid", "state", "created_at",
                  "updated_at")  # fmt: skip


class MessageInputSerializer(serializers.Serializer):
    conversation_id = serializers.CharField()
    role = serializers.ChoiceField(choices=MessageRole.choices)
    content = serializers.CharField(max_length=100_000, trim_whitespace=False)


class MessageSerializer(serializers.ModelSerializer):
    conversation_id = serializers.UUIDField(source="chat_id")

    class Meta:
        model = Message
        fields = ("id", "conversation_id", "role", "content", "model", "created_at", "updated_at")


class AttachmentInputSerializer(serializers.Serializer):
    message_id = serializers.CharField()
    file_type = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    file = serializers.FileField(allow_empty_file=False)


class AttachmentSerializer(serializers.ModelSerializer):
    message_id = serializers.UUIDField()
    conversation_id = serializers.UUIDField(source="chat_id")
    file_type = serializers.CharField(source="content_type")
    file_path = serializers.CharField(source="file.name")
    file_size = serializers.IntegerField(source="size")

    class Meta:
        model = Attachment
        fields = ("id", "message_id", "conversation_id", "file_type", "file_path", "filename", "file_size", "pages",
                  "created_at")  # fmt: skip


class ConversationsView(DetailAPIView):
    @extend_schema(
        summary="Create a conversation for a user",
        description=(
            "`user_id` is a user of your company: yourself, or anyone for Company Admins, User Managers and the "
            "key pair. Optional `model` (default: the company's), `actorid`, `activityid`."
        ),
        tags=CONVERSATIONS,
        request=ConversationInputSerializer,
        responses={201: ConversationSerializer, **_detail_errors(400, 401, 403, 404)},
    )
    def post(self, request: Request) -> Response:
        data = self.validated(ConversationInputSerializer)
        chat = services.conversation_create(
            company=self.company, actor=request.user, user_id=data["user_id"], title=data["title"],
            model=data["model"] or None, actorid=data["actorid"], activityid=data["activityid"],
        )  # fmt: skip
        return Response(ConversationSerializer(chat).data, status=201)


class ConversationView(DetailAPIView):
    @extend_schema(
        summary="A conversation",
        tags=CONVERSATIONS,
        responses={200: ConversationSerializer, **_detail_errors(401, 404)},
    )
    def get(self, request: Request, conversation_id: str) -> Response:
        chat = selectors.chat_find(
            company=self.company, user=request.user, ref=conversation_id, message="Conversation not found."
        )
        return Response(ConversationSerializer(chat).data)


class ConversationMessagesView(DetailAPIView):
    @extend_schema(
        summary="A conversation's messages, oldest first",
        tags=CONVERSATIONS,
        responses={200: MessageSerializer(many=True), **_detail_errors(401, 404)},
    )
    def get(self, request: Request, conversation_id: str) -> Response:
        chat = selectors.chat_find(
            company=self.company, user=request.user, ref=conversation_id, message="Conversation not found."
        )
        return Response(MessageSerializer(selectors.chat_messages(chat=chat), many=True).data)


class MessagesView(DetailAPIView):
    @extend_schema(
        summary="Add a message to a conversation (stored; no reply is generated)",
        tags=CONVERSATIONS,
        request=MessageInputSerializer,
        responses={201: MessageSerializer, **_detail_errors(400, 401, 404)},
    )
    def post(self, request: Request) -> Response:
        data = self.validated(MessageInputSerializer)
        message = services.message_add(
            company=self.company, user=request.user, ref=data["conversation_id"], role=data["role"],
            content=data["content"],
        )  # fmt: skip
        return Response(MessageSerializer(message).data, status=201)


class AttachmentsView(DetailAPIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        summary="Upload a file into a message",
        description=(
            "Multipart: `message_id`, `file`, optional `file_type` (checked against the content). Accepted: "
            f"{attachments.ACCEPTED}, at most 10 MB. Document text becomes context for the conversation's "
            "next answers. `file_path` in the answer is where the file is stored."
        ),
        tags=CONVERSATIONS,
        request={"multipart/form-data": AttachmentInputSerializer},
        responses={201: AttachmentSerializer, **_detail_errors(400, 401, 404, 413, 415)},
    )
    def post(self, request: Request) -> Response:
        if "file" not in request.FILES and "file_path" in request.data:
            raise InvalidInput("Upload the file itself as the multipart field `file`; file_path is set by the server.")
        data = self.validated(AttachmentInputSerializer)
        message = selectors.message_find(company=self.company, user=request.user, message_id=data["message_id"])
        attachment = attachments.attachment_create(
            company=self.company, message=message, upload=data["file"], file_type=data["file_type"]
        )
        return Response(AttachmentSerializer(attachment).data, status=201)


class MessageAttachmentsView(DetailAPIView):
    @extend_schema(
        summary="A message's attachments",
        tags=CONVERSATIONS,
        responses={200: AttachmentSerializer(many=True), **_detail_errors(401, 404)},
    )
    def get(self, request: Request, message_id: str) -> Response:
        message = selectors.message_find(company=self.company, user=request.user, message_id=message_id)
        return Response(AttachmentSerializer(selectors.message_attachments(message=message), many=True).data)
