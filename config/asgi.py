"""ASGI entry point: HTTP through Django, WebSocket through Channels' URL router."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from apps.accounts.websocket import origin_checked  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402

# One process serving everything (`make run`) serves /static/ itself; behind a web server, turn it off.
http_app = ASGIStaticFilesHandler(django_asgi_app) if settings.SERVE_STATIC else django_asgi_app

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": origin_checked(URLRouter(websocket_urlpatterns)),
    }
)
