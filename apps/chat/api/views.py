"""DRF views of the chat dialects: LLM providers and user keys (`/chat/...`), the gateway's companion
endpoints (`/api/config`, `/api/v1/...`), and the toolbox's `chats/inference/post`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.roles import COMPANY_ADMIN, MODEL_MANAGER, USER_MANAGER
from apps.chat import completions, selectors, services
from apps.chat.api import serializers as s
from apps.chat.api.auth import CSRF_COOKIE, GatewayAuthentication, csrf_token_for
from apps.chat.prompts import prompt_templates_ensure
from apps.core.api.responses import ok
from apps.core.api.schema import envelope, toolbox_schema
from apps.core.api.views import CompanyAPIView
from apps.core.exceptions import InvalidInput
from apps.models_registry.providers import selectors as provider_selectors
from apps.models_registry.providers import services as provider_services
from apps.models_registry.selectors import default_chat_model

PROVIDERS = ["LLM providers"]
GATEWAY = ["Gateway"]
PROVIDER_MANAGERS = (COMPANY_ADMIN, MODEL_MANAGER)


class DetailErrorSerializer(serializers.Serializer):
    """The error shape of the chat dialects."""

    detail = serializers.CharField()


def _detail_errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(DetailErrorSerializer) for code in codes}


class DetailAPIView(CompanyAPIView):
    """A view of the chat dialects: errors are `{"detail": ...}`."""

    error_style = "detail"


# --- /chat/llm-providers -----------------------------------------------------------------------------


class ProvidersView(DetailAPIView):
    def get_permissions(self) -> Any:
        self.required_roles = PROVIDER_MANAGERS if self.request.method == "POST" else ()
        return super().get_permissions()

    @extend_schema(
        summary="List the company's LLM providers",
        tags=PROVIDERS,
        responses={200: s.ProviderSerializer(many=True), **_detail_errors(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(s.ProviderSerializer(provider_selectors.provider_list(company=self.company), many=True).data)

    @extend_schema(
        summary="Create an LLM provider",
        description=(
            "`name` prefixes model ids (`name.upstream-model`). `kind` is `openai` (any OpenAI-compatible server; "
            "the endpoint with or without `/v1`) or `azure` (with `api_version`). `api_key` is the company-wide "
            "key, stored encrypted and never returned (only `api_key_hint`). `allowed_roles` limits who may use "
            "its models (empty: everyone). Company Admin or Model Manager."
        ),
        tags=PROVIDERS,
        request=s.ProviderCreateSerializer,
        responses={201: s.ProviderSerializer, **_detail_errors(400, 401, 403, 409)},
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.ProviderCreateSerializer)
        provider = provider_services.provider_create(company=self.company, actor=request.user, **data)
        return Response(s.ProviderSerializer(provider).data, status=201)


class ProviderView(DetailAPIView):
    def get_permissions(self) -> Any:
        self.required_roles = PROVIDER_MANAGERS if self.request.method in ("PATCH", "DELETE") else ()
        return super().get_permissions()

    @extend_schema(
        summary="Get an LLM provider",
        tags=PROVIDERS,
        responses={200: s.ProviderSerializer, **_detail_errors(401, 404)},
    )
    def get(self, request: Request, provider_id: str) -> Response:
        provider = provider_selectors.provider_get(company=self.company, provider_id=provider_id)
        return Response(s.ProviderSerializer(provider).data)

    @extend_schema(
        summary="Change an LLM provider (endpoint, key, roles, activation)",
        description="An empty `api_key` removes the company-wide key. Company Admin or Model Manager.",
        tags=PROVIDERS,
        request=s.ProviderUpdateSerializer,
        responses={200: s.ProviderSerializer, **_detail_errors(400, 401, 403, 404)},
    )
    def patch(self, request: Request, provider_id: str) -> Response:
        data = self.validated(s.ProviderUpdateSerializer)
        provider = provider_services.provider_update(
            company=self.company, actor=request.user, provider_id=provider_id, **data
        )
        return Response(s.ProviderSerializer(provider).data)

    @extend_schema(
        summary="Delete an LLM provider and its users' keys",
        tags=PROVIDERS,
        responses={204: None, **_detail_errors(401, 403, 404)},
    )
    def delete(self, request: Request, provider_id: str) -> Response:
        provider_services.provider_delete(company=self.company, actor=request.user, provider_id=provider_id)
        return Response(status=204)


# --- /chat/user-llm-configs ------------------------------------------------------------------------------


class UserLLMConfigsView(DetailAPIView):
    @extend_schema(
        summary="Set a user's own key for a provider (it wins over the company key)",
        description=(
            "Anyone may set their own key; Company Admins and User Managers may set anyone's in the company. "
            "Posting again for the same user and provider replaces the key (200; 201 when new). The key is "
            "stored encrypted and never returned."
        ),
        tags=PROVIDERS,
        request=s.UserLLMConfigInputSerializer,
        responses={
            201: s.UserLLMConfigSerializer,
            200: s.UserLLMConfigSerializer,
            **_detail_errors(400, 401, 403, 404),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.UserLLMConfigInputSerializer)
        config, created = provider_services.user_llm_config_save(company=self.company, actor=request.user, **data)
        return Response(s.UserLLMConfigSerializer(config).data, status=201 if created else 200)


class UserLLMConfigView(DetailAPIView):
    @extend_schema(
        summary="Get a user's key record for a provider (without the key)",
        tags=PROVIDERS,
        responses={200: s.UserLLMConfigSerializer, **_detail_errors(401, 404)},
    )
    def get(self, request: Request, user_id: str, provider_id: str) -> Response:
        config = provider_selectors.user_llm_config_get(
            company=self.company, actor=request.user, user_id=user_id, provider_id=provider_id
        )
        return Response(s.UserLLMConfigSerializer(config).data)

    @extend_schema(
        summary="Remove a user's own key (the company key applies again)",
        tags=PROVIDERS,
        responses={204: None, **_detail_errors(401, 404)},
    )
    def delete(self, request: Request, user_id: str, provider_id: str) -> Response:
        provider_services.user_llm_config_delete(
            company=self.company, actor=request.user, user_id=user_id, provider_id=provider_id
        )
        return Response(status=204)


# --- the gateway's companion endpoints ---------------------------------------------------------------------


class GatewayAPIView(DetailAPIView):
    """Gateway endpoints: Bearer JWT, the key pair, or the `token` cookie (with X-CSRF-Token on writes)."""

    authentication_classes = [GatewayAuthentication]


class ServerConfigView(GatewayAPIView):
    @extend_schema(summary="Server configuration", tags=GATEWAY, responses={200: dict, **_detail_errors(401)})
    def get(self, request: Request) -> Response:
        return Response(
            {
                "status": True,
                "name": "Symbient",
                "version": settings.SPECTACULAR_SETTINGS["VERSION"],
                "default_models": default_chat_model(company=self.company),
                "company": {"id": str(self.company.pk), "name": self.company.name},
                "features": {
                    "auth": True,
                    "enable_api_key": True,
                    "enable_websocket": True,
                    "streaming": True,
                    "csrf_required_for_cookie_sessions": True,
                },
                "limits": {
                    "max_request_bytes": settings.GATEWAY_MAX_REQUEST_BYTES,
                    "requests_per_minute": settings.GATEWAY_REQUESTS_PER_MINUTE or None,
                    "timeout_seconds": settings.GATEWAY_READ_TIMEOUT_SECONDS,
                },
            }
        )


class CsrfTokenView(GatewayAPIView):
    @extend_schema(
        summary="The CSRF token for cookie sessions",
        description=(
            "Needed only when the JWT travels in the `token` cookie (a browser session): send it as "
            "`X-CSRF-Token` on POST/PUT/PATCH/DELETE. Bearer and key-pair requests need none. It is bound to the "
            "session token and also set as the `csrf_token` cookie."
        ),
        tags=GATEWAY,
        responses={200: inline_serializer("CsrfToken", {"csrf_token": serializers.CharField()}), **_detail_errors(401)},
    )
    def get(self, request: Request) -> Response:
        payload: Any = request.auth
        if not payload:
            raise InvalidInput("A key pair needs no CSRF token; cookie sessions carry a JWT.")
        token = csrf_token_for(payload)
        response = Response({"csrf_token": token})
        response.set_cookie(CSRF_COOKIE, token, samesite="Lax", secure=settings.CSRF_COOKIE_SECURE)
        return response


class UserPermissionsView(GatewayAPIView):
    @extend_schema(summary="What the caller may do", tags=GATEWAY, responses={200: dict, **_detail_errors(401)})
    def get(self, request: Request) -> Response:
        user: Any = request.user
        models = [f"{name}.*" for name, _ in provider_selectors.provider_targets(company=self.company, user=user)]
        return Response(
            {
                "roles": list(user.roles),
                "permissions": {
                    "chat": {"completions": True, "history": True, "stream": True},
                    "models": {"use": ["builtin.*", *models], "manage": user.has_any_role(PROVIDER_MANAGERS)},
                    "providers": {"manage": user.has_any_role(PROVIDER_MANAGERS)},
                    "users": {"manage": user.has_any_role((COMPANY_ADMIN, USER_MANAGER))},
                },
            }
        )


CHATS_PAGE_SIZE = 50


class ChatsView(GatewayAPIView):
    @extend_schema(
        summary="The caller's conversations, newest first (50 a page)",
        tags=GATEWAY,
        parameters=[s.ChatsQuerySerializer],
        responses={200: s.ChatSummarySerializer(many=True), **_detail_errors(400, 401)},
    )
    def get(self, request: Request) -> Response:
        page = self.validated(s.ChatsQuerySerializer)["page"]
        start = (page - 1) * CHATS_PAGE_SIZE
        chats = selectors.chat_list_visible(company=self.company, user=request.user)[start : start + CHATS_PAGE_SIZE]
        return Response(s.ChatSummarySerializer(chats, many=True).data)


class ChatNewView(GatewayAPIView):
    @extend_schema(
        summary="Create a conversation",
        tags=GATEWAY,
        request=s.NewChatSerializer,
        responses={200: s.ChatSummarySerializer, **_detail_errors(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.NewChatSerializer)
        model = data["model"] or (data.get("models") or [""])[0]
        chat = services.chat_new(
            company=self.company, user=request.user, title=data["title"], model=model, messages=data.get("messages")
        )
        return Response(s.ChatSummarySerializer(chat).data)


class PromptsView(GatewayAPIView):
    @extend_schema(
        summary="The prompts the caller may use: the company's templates and their own",
        tags=GATEWAY,
        responses={200: s.PromptSerializer(many=True), **_detail_errors(401)},
    )
    def get(self, request: Request) -> Response:
        prompt_templates_ensure(company=self.company)
        prompts = selectors.prompt_list_visible(company=self.company, user=request.user)
        return Response(s.PromptSerializer(prompts, many=True).data)


# --- toolbox: chats/inference/post --------------------------------------------------------------------------


class InferenceView(CompanyAPIView):
    @toolbox_schema(
        summary="Send input to the LLM and get its answer",
        description=(
            "Uses the company's default model: its deployed llm model marked `isdefault_llm`, else "
            "`GATEWAY_DEFAULT_MODEL` (the built-in offline model unless configured). "
            "The exchange is saved as a new chat and its tokens are recorded for the plan's quota."
        ),
        tags=["Inference"],
        request=s.InferenceInputSerializer,
        response=envelope("InferenceResponse", message=serializers.CharField()),
        errors=(400, 401, 403, 429),
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.InferenceInputSerializer)
        answer = completions.inference_run(company=self.company, user=request.user, text=data["input"])
        return ok(message=answer)
