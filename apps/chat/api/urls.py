"""Routes of the chat dialects: the gateway (/api/...), providers (/chat/...) and the toolbox's inference."""

from django.urls import path

from apps.chat.api import conversations, gateway, knowledge, prompts, sessions, tenant, views

urlpatterns = [
    path("api/chat/completions", gateway.chat_completions),
    path("api/models", gateway.models_list),
    path("api/config", views.ServerConfigView.as_view()),
    path("api/v1/configs/csrf-token", views.CsrfTokenView.as_view()),
    path("api/v1/users/permissions", views.UserPermissionsView.as_view()),
    path("api/v1/chats", views.ChatsView.as_view()),
    path("api/v1/chats/new", views.ChatNewView.as_view()),  # before the tenant API's /api/v1/chats/{chat_id}
    path("api/v1/chats/", tenant.TenantChatsView.as_view()),
    path("api/v1/chats/user/<path:user_id>", tenant.TenantUserChatsView.as_view()),  # ids may hold "/"
    path("api/v1/chats/<str:chat_id>", tenant.TenantChatView.as_view()),
    path("api/v1/chats/<str:chat_id>/messages", tenant.TenantMessagesView.as_view()),
    path("api/v1/prompts", views.PromptsView.as_view()),
    path("api/v1/knowledge", knowledge.KnowledgeView.as_view()),
    path("api/v1/knowledge/upload", knowledge.KnowledgeUploadView.as_view()),
    path("api/v1/tools", knowledge.ToolsView.as_view()),
    path("api/v1/toolbox/tools/chats/inference/post", views.InferenceView.as_view()),
    path("v1/chat/stream", sessions.chat_stream),
    path("v1/chat/switch-model", sessions.SwitchModelView.as_view()),
    path("v1/chat/history", sessions.HistoryView.as_view()),
    path("v1/chat/sessions/<str:session_id>", sessions.SessionView.as_view()),
    path("api/chat/sessions/<str:session_id>/upload", sessions.UploadView.as_view()),
    path("api/chat/prompts", prompts.PromptsView.as_view()),
    path("api/chat/prompts/preview", prompts.PromptPreviewView.as_view()),  # before api/chat/prompts/{id}
    path("api/chat/prompts/<str:prompt_id>", prompts.PromptView.as_view()),
    path("chat/conversations", conversations.ConversationsView.as_view()),
    path("chat/conversations/<str:conversation_id>", conversations.ConversationView.as_view()),
    path("chat/conversations/<str:conversation_id>/messages", conversations.ConversationMessagesView.as_view()),
    path("chat/messages", conversations.MessagesView.as_view()),
    path("chat/messages/<str:message_id>/attachments", conversations.MessageAttachmentsView.as_view()),
    path("chat/attachments", conversations.AttachmentsView.as_view()),
    path("chat/llm-providers", views.ProvidersView.as_view()),
    path("chat/llm-providers/<str:provider_id>", views.ProviderView.as_view()),
    path("chat/user-llm-configs", views.UserLLMConfigsView.as_view()),
    path("chat/user-llm-configs/<str:user_id>/<str:provider_id>", views.UserLLMConfigView.as_view()),
]
