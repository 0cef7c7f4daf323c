"""Transcript jobs."""

from __future__ import annotations

from celery import shared_task

from apps.transcripts.services import transcript_transcribe


@shared_task(acks_late=True, reject_on_worker_lost=True)
def transcribe(*, transcript_id: str) -> None:
    """Recognise the speech of an uploaded recording."""
    transcript_transcribe(transcript_id=transcript_id)
