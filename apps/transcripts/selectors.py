"""Transcript reads: the caller's visible transcripts, filtered and paged."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from apps.core.exceptions import InvalidInput
from apps.core.ids import parse_uuid, rows_with_ids
from apps.transcripts.models import Transcript


def transcript_list(
    *,
    principal: Any,
    tag: str | None = None,
    q: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
) -> QuerySet[Transcript]:
    """Newest first; `tag` matches a whole tag (any case), `q` any part of label, description or text."""
    queryset = Transcript.objects.visible_to(principal).select_related("owner")
    if tag:
        queryset = queryset.filter(tags_index__contains=f"|{tag.strip().lower()}|")
    if q:
        queryset = queryset.filter(Q(reference_label__icontains=q) | Q(description__icontains=q) | Q(text__icontains=q))
    if date_from:
        queryset = queryset.filter(created_at__gte=date_from)
    if date_to:
        queryset = queryset.filter(created_at__lte=date_to)
    return queryset.order_by("-created_at")


def transcripts_for_export(*, principal: Any, ids: list[str]) -> list[Transcript]:
    """The named transcripts in the order given; NotFound ("Object not found.", the spec's words) for any other id."""
    if not ids:
        raise InvalidInput("Missing transcripts.")
    visible = Transcript.objects.visible_to(principal)
    rows = {row.pk: row for row in rows_with_ids(visible, ids, what="Transcript", message="Object not found.")}
    return [rows[pk] for pk in dict.fromkeys(parse_uuid(raw) for raw in ids)]
