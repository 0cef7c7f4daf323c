"""Reads about chats, always scoped to the caller's company (and, for a person, to their own chats)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.chat.models import Chat


def chat_list_visible(*, company: Any, user: Any) -> QuerySet[Chat]:
    """A person's own chats, or every chat of the company for its key pair; newest activity first."""
    chats = Chat.objects.for_company(company)
    if getattr(user, "is_person", False):
        chats = chats.filter(user=user)
    return chats.order_by("-updated_at", "-number")
