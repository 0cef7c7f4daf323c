"""Prompt templates of the chat stream dialect: `/api/chat/prompts`, `/api/chat/prompts/{id}`, `.../preview`.

A prompt's `id` here is its per-company number (its UUID is accepted too). The shipped system templates
(`is_template`) are listed unless `include_templates=false`; see apps/chat/prompts.py for who may change
what and how a preview is run.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.chat import prompts, services
from apps.chat.api import session_serializers as s
from apps.chat.api.views import GatewayAPIView, _detail_errors
from apps.chat.selectors import prompt_find

PROMPTS = ["Prompt templates"]


class PromptsView(GatewayAPIView):
    @extend_schema(
        summary="List prompts: the company's templates and the caller's own",
        description="`search` looks in title, content and description; `page_size` is at most 100.",
        tags=PROMPTS,
        parameters=[s.PromptQuerySerializer],
        responses={200: s.PromptPageSerializer, **_detail_errors(400, 401)},
    )
    def get(self, request: Request) -> Response:
        query = self.validated(s.PromptQuerySerializer)
        prompts.prompt_templates_ensure(company=self.company)
        found = prompts.prompt_search(
            company=self.company, user=request.user, scenario=query["scenario"],
            include_templates=query["include_templates"], search=query["search"],
        )  # fmt: skip
        page, size = query["page"], query["page_size"]
        body = {"items": found[(page - 1) * size : page * size], "total": found.count(), "page": page,
                "page_size": size}  # fmt: skip
        return Response(s.PromptPageSerializer(body).data)

    @extend_schema(
        summary="Create a prompt",
        tags=PROMPTS,
        request=s.PromptInputSerializer,
        responses={201: s.PromptOutSerializer, **_detail_errors(400, 401)},
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.PromptInputSerializer)
        prompt = services.prompt_create(company=self.company, user=request.user, **data)
        return Response(s.PromptOutSerializer(prompt).data, status=201)


class PromptView(GatewayAPIView):
    @extend_schema(
        summary="A prompt",
        tags=PROMPTS,
        responses={200: s.PromptOutSerializer, **_detail_errors(401, 404)},
    )
    def get(self, request: Request, prompt_id: str) -> Response:
        return Response(s.PromptOutSerializer(prompt_find(company=self.company, user=request.user, ref=prompt_id)).data)

    @extend_schema(
        summary="Update a prompt (the fields given)",
        description="Templates only by a Company Admin (or the key pair); your own prompts by you.",
        tags=PROMPTS,
        request=s.PromptUpdateSerializer,
        responses={200: s.PromptOutSerializer, **_detail_errors(400, 401, 403, 404)},
    )
    def put(self, request: Request, prompt_id: str) -> Response:
        data: dict[str, Any] = self.validated(s.PromptUpdateSerializer)
        prompt = prompts.prompt_update(company=self.company, user=request.user, ref=prompt_id, **data)
        return Response(s.PromptOutSerializer(prompt).data)

    @extend_schema(
        summary="Delete a prompt",
        tags=PROMPTS,
        responses={200: s.MessageOnlySerializer, **_detail_errors(401, 403, 404)},
    )
    def delete(self, request: Request, prompt_id: str) -> Response:
        prompts.prompt_delete(company=self.company, user=request.user, ref=prompt_id)
        return Response({"message": "Prompt deleted successfully"})


class PromptPreviewView(GatewayAPIView):
    @extend_schema(
        summary="Fill a prompt's {variables} and run it through a model",
        description=(
            "Give `prompt_id` or `content`, and `variables`. A variable of the prompt without a value is a 422 "
            "naming it. `model` defaults to the company's default model. Previewing a stored prompt counts as a use."
        ),
        tags=PROMPTS,
        request=s.PreviewInputSerializer,
        responses={200: s.PreviewSerializer, **_detail_errors(400, 401, 403, 404, 422, 429, 502)},
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.PreviewInputSerializer)
        result = prompts.prompt_preview(
            company=self.company, user=request.user, variables=data["variables"], prompt_ref=data["prompt_id"],
            content=data.get("content"), model=data.get("model"),
        )  # fmt: skip
        return Response(s.PreviewSerializer(result).data)
