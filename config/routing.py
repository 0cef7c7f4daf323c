"""WebSocket routes; each app that has consumers adds its patterns here."""

from django.urls import re_path

from apps.accounts.websocket import WebSocketAuthMiddleware
from apps.chat.consumers import ChatConsumer, EventsConsumer

websocket_urlpatterns: list = [
    re_path(r"^ws/chat/?$", WebSocketAuthMiddleware(ChatConsumer.as_asgi())),
    re_path(r"^ws/events/?$", WebSocketAuthMiddleware(EventsConsumer.as_asgi())),
]
