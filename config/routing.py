"""WebSocket routes; each app that has consumers adds its patterns here."""

websocket_urlpatterns: list = []
