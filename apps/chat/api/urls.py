"""Routes of the chat dialects: the gateway (/api/...), providers (/chat/...) and the toolbox's inference."""

from django.urls import path

from apps.chat.api import gateway, knowledge, views

urlpatterns = [
    path("api/chat/completions", gateway.chat_completions),
    path("api/models", gateway.models_list),
    path("api/config", views.ServerConfigView.as_view()),
    path("api/v1/configs/csrf-token", views.CsrfTokenView.as_view()),
    path("api/v1/users/permissions", views.UserPermissionsView.as_view()),
    path("api/v1/chats", views.ChatsView.as_view()),
    path("api/v1/chats/new", views.ChatNewView.as_view()),
    path("api/v1/prompts", views.PromptsView.as_view()),
    path("api/v1/knowledge", knowledge.KnowledgeView.as_view()),
    path("api/v1/knowledge/upload", knowledge.KnowledgeUploadView.as_view()),
    path("api/v1/tools", knowledge.ToolsView.as_view()),
    path("api/v1/toolbox/tools/chats/inference/post", views.InferenceView.as_view()),
    path("chat/llm-providers", views.ProvidersView.as_view()),
    path("chat/llm-providers/<str:provider_id>", views.ProviderView.as_view()),
    path("chat/user-llm-configs", views.UserLLMConfigsView.as_view()),
    path("chat/user-llm-configs/<str:user_id>/<str:provider_id>", views.UserLLMConfigView.as_view()),
]
