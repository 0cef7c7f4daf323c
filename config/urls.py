"""URL routes: the toolbox API under /api/v1/, the schema and docs, the admin, health."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.chat.pages import chat_page
from apps.core.views import healthz

urlpatterns = [
    path("api/v1/", include("apps.accounts.api.urls")),
    path("api/v1/toolbox/tools/", include("apps.transcripts.api.urls")),
    path("api/v1/toolbox/tools/", include("apps.chat.api.live_urls")),
    path("api/", include("apps.billing.api.urls")),
    path("api/v1/", include("apps.models_registry.api.urls")),
    path("api/v1/", include("apps.activities.api.urls")),
    path("api/v1/", include("apps.actors.api.urls")),
    path("api/v1/", include("apps.notes.api.urls")),
    path("api/v1/", include("apps.automations.api.urls")),
    path("chat/", chat_page, name="chat-page"),
    path("", include("apps.chat.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
    path("healthz", healthz),
]
