"""Routes of the toolbox's view of live chats; the spec names `chats/online/get` and `chats/get` for one endpoint."""

from django.urls import path

from apps.chat.api import live

urlpatterns = [
    path("chats/online/get", live.ChatsOnlineView.as_view()),
    path("chats/get", live.ChatsOnlineView.as_view()),
    path("chats/archived/get", live.ChatsArchivedView.as_view()),
    path("chat/stop", live.ChatStopView.as_view()),
    path("chat/stop/<str:chatid>", live.ChatStopView.as_view()),
    path("chats/stop", live.ChatsStopView.as_view()),
]
