"""The gateway's knowledge and tools endpoints, over the model registry.

A knowledge base is one of the company's llm models; its files are that model's data sources. Uploading adds
documents through the registry's data source service (the model answers from them once trained again). Tools
are the company's deployed NLU models, which a client calls through the toolbox's `model/test`.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.roles import COMPANY_ADMIN, MODEL_MANAGER
from apps.chat.api.views import GATEWAY, GatewayAPIView, _detail_errors
from apps.core.exceptions import InvalidInput
from apps.models_registry import selectors as registry
from apps.models_registry.models import AIModel, DataSource
from apps.models_registry.providers.models import registry_model_id
from apps.models_registry.services.datasources import datasources_upload

TOOL_ENDPOINT = "/api/v1/toolbox/tools/model/test"


class KnowledgeFileSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="pk")
    filename = serializers.CharField(source="originalname")
    kind = serializers.CharField()
    url = serializers.CharField()
    meta = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_meta(self, source: DataSource) -> dict[str, Any]:
        return {"name": source.originalname, "content_type": source.mimetype, "size": source.size}


class KnowledgeSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="pk")
    name = serializers.CharField()
    description = serializers.CharField()
    model = serializers.SerializerMethodField(help_text="The chat model id, once the model is deployed and trained.")
    trained_version = serializers.IntegerField(source="version")
    is_default = serializers.BooleanField(source="isdefault_llm")
    files = KnowledgeFileSerializer(source="datasources", many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_model(self, model: AIModel) -> str | None:
        chat_ready = model.isdeployed and model.isactive and model.version
        return registry_model_id(model.pk) if chat_ready else None


class KnowledgeUploadInputSerializer(serializers.Serializer):
    file = serializers.ListField(child=serializers.FileField(allow_empty_file=True), allow_empty=False)
    knowledge_id = serializers.CharField(
        required=False, help_text="The knowledge base (llm model) id; default: the company's default llm model."
    )


class KnowledgeUploadSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The knowledge base the files were added to.")
    files = KnowledgeFileSerializer(many=True)
    message = serializers.CharField()


class ToolSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="pk")
    name = serializers.CharField()
    meta = serializers.SerializerMethodField()
    specs = serializers.SerializerMethodField()
    endpoint = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()

    def get_meta(self, model: AIModel) -> dict[str, Any]:
        return {"description": model.description or f"Intents and entities of a sentence ({model.name})."}

    def get_specs(self, model: AIModel) -> list[dict[str, Any]]:
        return [
            {
                "name": "classify",
                "description": "The intent, entities, sentiment and answer of one sentence.",
                "parameters": {
                    "type": "object",
                    "properties": {"input": {"type": "string", "description": "The sentence."}},
                    "required": ["input"],
                },
            }
        ]

    def get_endpoint(self, model: AIModel) -> dict[str, Any]:
        return {"method": "POST", "path": TOOL_ENDPOINT, "body": {"modelid": str(model.pk), "input": "…"}}


class KnowledgeView(GatewayAPIView):
    @extend_schema(
        summary="Knowledge bases: the company's llm models and their documents",
        tags=GATEWAY,
        responses={200: KnowledgeSerializer(many=True), **_detail_errors(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(KnowledgeSerializer(registry.knowledge_list(company=self.company), many=True).data)


class KnowledgeUploadView(GatewayAPIView):
    parser_classes = [MultiPartParser, FormParser]
    required_roles = (COMPANY_ADMIN, MODEL_MANAGER)

    @extend_schema(
        summary="Add documents (pdf, docx, doc, txt) to a knowledge base",
        description=(
            "multipart/form-data with one or more `file` fields and optionally `knowledge_id` (default: the "
            "company's default llm model). Company Admin or Model Manager. One bad file refuses the request and "
            "nothing is saved. The model answers from the new documents once trained again (model/train)."
        ),
        tags=GATEWAY,
        request={"multipart/form-data": KnowledgeUploadInputSerializer},
        responses={200: KnowledgeUploadSerializer, **_detail_errors(400, 401, 403, 404, 413)},
    )
    def post(self, request: Request) -> Response:
        data = self.validated(KnowledgeUploadInputSerializer, list_fields=("file",))
        knowledge_id = data.get("knowledge_id") or request.query_params.get("knowledge_id")
        if not knowledge_id:
            default = registry.knowledge_default(company=self.company)
            if default is None:
                raise InvalidInput("Missing knowledge_id (the company has no default llm model).")
            knowledge_id = str(default.pk)
        sources = datasources_upload(company=self.company, actor=request.user, modelid=knowledge_id, files=data["file"])
        return Response(
            {
                "id": str(sources[0].model_id),
                "files": KnowledgeFileSerializer(sources, many=True).data,
                "message": "Documents added; train the model again to answer from them.",
            }
        )


class ToolsView(GatewayAPIView):
    @extend_schema(
        summary="Tools: the company's deployed NLU models, called through model/test",
        tags=GATEWAY,
        responses={200: ToolSerializer(many=True), **_detail_errors(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(ToolSerializer(registry.tool_list(company=self.company), many=True).data)
