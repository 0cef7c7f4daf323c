"""The chat stream dialect: `/v1/chat/stream`, `switch-model`, `history`, `sessions/{id}` and PDF uploads.

Sessions are chats; this dialect names them by their per-company `number` (a UUID is accepted too).
`/v1/chat/stream` is a plain async view: its answer is raw tokens as Server-Sent Events, one event per
token (a token holding line breaks is sent as several `data:` lines of one event, as SSE requires), then
`data: [DONE]`. The session's number is in the `X-Session-Id` header. Errors found before the first token
are ordinary `{"detail"}` answers with their status; an error in the middle of a stream is sent as an
`event: error` whose data is `{"detail": ...}`, followed by `[DONE]`.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponseBase, JsonResponse, StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers as drf_serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.chat import attachments, selectors, services
from apps.chat.api import session_serializers as s
from apps.chat.api.auth import authenticate_request, check_enterprise
from apps.chat.api.completion_input import parse_body
from apps.chat.api.gateway import Timing, _read_body, gateway_view
from apps.chat.api.views import GatewayAPIView, _detail_errors
from apps.chat.completions import in_db_thread
from apps.chat.models import Chat
from apps.chat.turns import StreamEnded, Token, TurnEvent, chat_turn_stream
from apps.core.exceptions import ApplicationError, InvalidInput, translate_exception

SESSIONS = ["Chat sessions"]
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")
DONE = b"data: [DONE]\n\n"


def validate_input(serializer_class: type[drf_serializers.Serializer], data: Any) -> dict[str, Any]:
    """Validate outside DRF's views with the same messages (the first field named)."""
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        translated = translate_exception(drf_serializers.ValidationError(serializer.errors))
        assert translated is not None  # noqa: S101 - validation errors always translate
        raise InvalidInput(translated[1], extra=translated[2])
    return dict(serializer.validated_data)


# --- POST /v1/chat/stream ------------------------------------------------------------------------------


@dataclass
class StreamBegun:
    principal: Any
    chat: Chat
    content: str
    params: dict[str, Any]
    stream: bool


def _stream_begin(request: HttpRequest, raw: bytes) -> StreamBegun:
    principal, _ = authenticate_request(request)
    check_enterprise(request, principal.company)
    data = validate_input(s.StreamInputSerializer, parse_body(raw))
    *earlier, last = data["messages"]
    chat = services.stream_chat_open(
        company=principal.company, user=principal, session=data["session_id"], model=data["model"], earlier=earlier
    )
    params: dict[str, Any] = {key: data[key] for key in ("temperature", "max_tokens") if key in data}
    return StreamBegun(principal, chat, last["content"], params, data["stream"])


def sse_token(text: str) -> bytes:
    """One SSE event carrying `text`; each of its lines becomes a `data:` line."""
    return "".join(f"data: {line}\n" for line in _LINE_BREAKS.split(text)).encode() + b"\n"


async def _token_events(first: TurnEvent, rest: AsyncGenerator[TurnEvent, None]) -> AsyncIterator[bytes]:
    async with aclosing(rest):
        try:
            event: TurnEvent | None = first
            while event is not None:
                if isinstance(event, Token):
                    yield sse_token(event.text)
                event = await anext(rest, None)
        except ApplicationError as exc:
            yield b"event: error\ndata: " + json.dumps({"detail": exc.message}).encode() + b"\n\n"
    yield DONE


@extend_schema(exclude=True)
@gateway_view(("POST",))
async def chat_stream(request: HttpRequest, timing: Timing) -> HttpResponseBase:
    """POST /v1/chat/stream: continue a session (or start one) and stream the reply's tokens."""
    begun = await in_db_thread(_stream_begin)(request, _read_body(request))
    events = chat_turn_stream(
        chat=begun.chat, content=begun.content, user=begun.principal, source="stream", params=begun.params
    )
    first = await anext(events)  # errors before the first event answer with their status
    session = str(begun.chat.number)
    if not begun.stream:
        async with aclosing(events):
            ended = [event async for event in events if isinstance(event, StreamEnded)]
        reply = ended[-1] if ended else None
        body = {
            "session_id": begun.chat.number,
            "model": begun.chat.model,
            "message": {"role": "assistant", "content": reply.message.content if reply else ""},
            "usage": reply.usage if reply else {},
        }
        response: HttpResponseBase = JsonResponse(body)
    else:
        response = StreamingHttpResponse(_token_events(first, events), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
    response["X-Session-Id"] = session
    return response


# --- switch-model, history, sessions ---------------------------------------------------------------------


def _with_turns(chats: Any) -> Any:
    return chats.prefetch_related(Prefetch("messages", queryset=selectors.chat_messages_all()))


class SwitchModelView(GatewayAPIView):
    @extend_schema(
        summary="Switch a session's model, keeping its whole history",
        tags=SESSIONS,
        request=s.SwitchModelSerializer,
        responses={200: s.SwitchedSerializer, **_detail_errors(400, 401, 403, 404)},
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.SwitchModelSerializer)
        chat = services.chat_model_switch(
            company=self.company, user=request.user, ref=data["session_id"], model=data["model"]
        )
        chat = _with_turns(Chat.objects.filter(pk=chat.pk)).get()
        return Response(s.SwitchedSerializer(chat).data)


class HistoryView(GatewayAPIView):
    @extend_schema(
        summary="The caller's chat sessions with their messages, newest first",
        description="`page_size` is at most 100; `start_date`/`end_date` bound the creation time (ISO 8601).",
        tags=SESSIONS,
        parameters=[s.HistoryQuerySerializer],
        responses={200: s.HistorySerializer, **_detail_errors(400, 401)},
    )
    def get(self, request: Request) -> Response:
        query = self.validated(s.HistoryQuerySerializer)
        chats = selectors.chat_history(
            company=self.company,
            user=request.user,
            start=query.get("start_date"),
            end=query.get("end_date"),
            model=query["model"],
        )
        page, size = query["page"], query["page_size"]
        sessions = _with_turns(chats)[(page - 1) * size : page * size]
        body = {"total": chats.count(), "page": page, "page_size": size, "sessions": sessions}
        return Response(s.HistorySerializer(body).data)


class SessionView(GatewayAPIView):
    @extend_schema(
        summary="Delete a chat session with its messages and files",
        tags=SESSIONS,
        responses={200: s.MessageOnlySerializer, **_detail_errors(401, 404)},
    )
    def delete(self, request: Request, session_id: str) -> Response:
        services.chat_delete(company=self.company, user=request.user, ref=session_id)
        return Response({"message": "Session deleted successfully"})


class UploadView(GatewayAPIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="Upload a PDF as context for the session's next answers",
        description=(
            "PDF only (checked by content), at most 10 MB. Its text is extracted and sent with the next "
            "answers of the session, trimmed to fit the model's context (newest document first)."
        ),
        tags=SESSIONS,
        request={"multipart/form-data": s.UploadSerializer},
        responses={201: s.UploadedSerializer, 413: OpenApiResponse(description="Too large"),
                   **_detail_errors(400, 401, 404, 415)},
    )  # fmt: skip
    def post(self, request: Request, session_id: str) -> Response:
        chat = selectors.chat_find(company=self.company, user=request.user, ref=session_id)
        upload = request.FILES.get("file")
        if upload is None:
            raise InvalidInput("Missing file.")
        attachment = attachments.pdf_upload(company=self.company, chat=chat, upload=upload)
        return Response({"file": s.UploadedFileSerializer(attachment).data, "message": "File uploaded successfully"},
                        status=201)  # fmt: skip
