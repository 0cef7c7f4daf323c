"""The chat page for people (`/chat/`): a template and a small script; the script signs in for a JWT."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def chat_page(request: HttpRequest) -> HttpResponse:
    """The page itself holds no data: the script asks the API with the signed-in person's token."""
    return render(request, "chat/page.html")
