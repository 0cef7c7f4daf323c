"""A test-only URLconf: the project's routes plus views that fail, to see how failures are answered."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.views import PublicAPIView
from apps.core.exceptions import Conflict
from config.urls import urlpatterns as project_urlpatterns

SECRET_TEXT = "leaky-internal-detail-7f3a"


class CrashingToolboxView(PublicAPIView):
    """A toolbox (envelope) API view that fails unexpectedly."""

    def get(self, request: Request) -> Response:
        raise RuntimeError(SECRET_TEXT)


class CrashingDetailView(PublicAPIView):
    """An API view of a `{"detail"}` dialect that fails unexpectedly."""

    error_style = "detail"

    def get(self, request: Request) -> Response:
        raise RuntimeError(SECRET_TEXT)


def crashing_view(request: HttpRequest) -> HttpResponse:
    """A plain Django view that fails unexpectedly."""
    raise RuntimeError(SECRET_TEXT)


def not_found_view(request: HttpRequest) -> HttpResponse:
    """A plain Django view that answers 404 the Django way (as get_object_or_404 does)."""
    raise Http404("No such conversation.")


def forbidden_view(request: HttpRequest) -> HttpResponse:
    """A plain Django view that refuses the Django way."""
    raise PermissionDenied


def conflict_view(request: HttpRequest) -> HttpResponse:
    """A plain Django view whose service raises one of our expected errors."""
    raise Conflict("The conversation is already closed.")


def body_length_view(request: HttpRequest) -> JsonResponse:
    """A plain Django view that reads the whole body (and so meets DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    return JsonResponse({"length": len(request.body)})


urlpatterns = [
    path("api/v1/test/crash-drf", CrashingToolboxView.as_view()),
    path("api/v1/test/crash-plain", crashing_view),
    path("api/chat/test/crash-drf", CrashingDetailView.as_view()),
    path("api/chat/test/crash-plain", crashing_view),
    path("v1/chat/test/crash-plain", crashing_view),
    path("api/chat/test/body", body_length_view),
    path("api/chat/test/not-found", not_found_view),
    path("api/chat/test/forbidden", forbidden_view),
    path("api/v1/test/conflict", conflict_view),
    path("test/crash-page", crashing_view),
    *project_urlpatterns,
]
