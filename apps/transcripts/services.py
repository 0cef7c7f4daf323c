"""Transcript writes: save, import, upload audio, recognise it in a job, delete."""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.billing.services.limits import limit_check, usage_consume
from apps.core.exceptions import ApplicationError, Conflict, InvalidInput, NotFound, PayloadTooLarge
from apps.core.ids import parse_uuid, rows_with_ids
from apps.core.limits import TRANSCRIPTION_SECONDS, UPLOAD_BYTES
from apps.core.realtime import job_progress_send
from apps.models_registry.asr import audio as audio_io
from apps.models_registry.services.speech import model_transcribe
from apps.transcripts import importers
from apps.transcripts.models import Transcript

logger = logging.getLogger(__name__)


def _clean_list(values: list[Any] | None, field: str) -> list[str]:
    cleaned: list[str] = []
    for value in values or []:
        text = str(value).strip()
        if len(text) > 100:
            raise InvalidInput(f"Invalid {field}: each entry may have at most 100 characters.")
        if text and text not in cleaned:
            cleaned.append(text)
    return cleaned


def transcript_get_visible(*, principal: Any, transcriptid: Any) -> Transcript:
    """A transcript the caller may see; NotFound for unknown ids, other companies' and others' private ones."""
    pk = parse_uuid(transcriptid)
    transcript = Transcript.objects.visible_to(principal).filter(pk=pk).first() if pk else None
    if transcript is None:
        raise NotFound("Missing or invalid transcriptid.")
    return transcript


def transcript_save(
    *,
    principal: Any,
    transcript: str,
    reference_label: str,
    transcriptid: str | None = None,
    description: str | None = None,
    speakers: list[str] | None = None,
    tags: list[str] | None = None,
    shared: bool | None = None,
) -> Transcript:
    """Create a transcript, or update one the caller may see."""
    if not reference_label.strip():
        raise InvalidInput("Missing or invalid reference label.")
    if transcriptid:
        row = transcript_get_visible(principal=principal, transcriptid=transcriptid)
        if row.state in (Transcript.State.QUEUED, Transcript.State.PROCESSING):
            raise Conflict("The transcript is still being recognised; save it when it is completed.")
    else:
        row = Transcript(company=principal.company, owner=principal if principal.is_person else None)
    row.text = transcript
    row.reference_label = reference_label.strip()
    if description is not None:
        row.description = description
    if speakers is not None:
        row.speakers = _clean_list(speakers, "speakers")
    if tags is not None:
        row.tags = _clean_list(tags, "tags")
    if shared is not None:
        row.shared = shared
    row.save()
    return row


def transcript_import(
    *,
    principal: Any,
    data: bytes,
    filename: str,
    reference_label: str,
    description: str = "",
    tags: list[str] | None = None,
    shared: bool = False,
) -> Transcript:
    """A transcript from a txt, vtt, srt, docx or pdf file (its type read from the content)."""
    if not reference_label.strip():
        raise InvalidInput("Missing or invalid reference label.")
    if len(data) > settings.TRANSCRIPT_IMPORT_MAX_BYTES:
        raise PayloadTooLarge(f"The file {filename} is over the limit of {settings.TRANSCRIPT_IMPORT_MAX_BYTES} bytes.")
    parsed = importers.parse(data, filename)
    return Transcript.objects.create(
        company=principal.company,
        owner=principal if principal.is_person else None,
        reference_label=reference_label.strip(),
        description=description or "",
        tags=_clean_list(tags, "tags"),
        text=parsed.text,
        speakers=parsed.speakers,
        segments=parsed.segments,
        source=Transcript.Source.IMPORT,
        source_filename=filename[:255],
        shared=shared,
    )


def transcript_upload(
    *,
    principal: Any,
    data: bytes,
    filename: str,
    reference_label: str,
    description: str = "",
    tags: list[str] | None = None,
    shared: bool = False,
) -> Transcript:
    """Store an audio file and queue its recognition; the answer does not wait for the text."""
    from apps.transcripts.tasks import transcribe

    if not reference_label.strip():
        raise InvalidInput("Missing or invalid reference label.")
    if len(data) > settings.TRANSCRIPT_AUDIO_MAX_BYTES:
        raise PayloadTooLarge(f"The file {filename} is over the limit of {settings.TRANSCRIPT_AUDIO_MAX_BYTES} bytes.")
    limit_check(company=principal.company, resource=UPLOAD_BYTES, amount=len(data))
    info = audio_io.probe(data)
    if info.format not in ("wav", "mp3"):
        raise InvalidInput(f"The file {filename} is {info.format} audio; upload mp3 or wav.")
    if info.duration > settings.TRANSCRIPT_AUDIO_MAX_SECONDS:
        raise PayloadTooLarge(
            f"The recording is {info.duration:.0f} s long; the limit is {settings.TRANSCRIPT_AUDIO_MAX_SECONDS} s."
        )
    with transaction.atomic():
        # The plan's transcription minutes are counted when the recording is accepted (checked and counted at once).
        usage_consume(company=principal.company, resource=TRANSCRIPTION_SECONDS, amount=math.ceil(info.duration))
        row = Transcript(
            company=principal.company,
            owner=principal if principal.is_person else None,
            reference_label=reference_label.strip(),
            description=description or "",
            tags=_clean_list(tags, "tags"),
            source=Transcript.Source.UPLOAD,
            state=Transcript.State.QUEUED,
            progress=0,
            audio_format=info.format,
            audio_seconds=round(info.duration, 3),
            source_filename=filename[:255],
            shared=shared,
        )
        row.audio.save(f"audio.{info.format}", ContentFile(data), save=False)
        row.save()
        transaction.on_commit(lambda: transcribe.delay(transcript_id=str(row.pk)))
    return row


def transcript_retry(*, principal: Any, transcriptid: Any) -> Transcript:
    """Queue a failed recognition again."""
    from apps.transcripts.tasks import transcribe

    row = transcript_get_visible(principal=principal, transcriptid=transcriptid)
    if row.state != Transcript.State.FAILED or not row.audio:
        raise Conflict("Only a failed transcription of an uploaded recording can be retried.")
    with transaction.atomic():
        Transcript.objects.filter(pk=row.pk).update(state=Transcript.State.QUEUED, progress=0, error="")
        transaction.on_commit(lambda: transcribe.delay(transcript_id=str(row.pk)))
    row.refresh_from_db()
    return row


def transcript_transcribe(*, transcript_id: str) -> None:
    """The job: decode, resample to 16 kHz mono, recognise, store text, segments and word timings."""
    # A job whose worker died mid-way is redelivered (late ack); it may take over once the time limit passed.
    stale = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    claimable = Q(state=Transcript.State.QUEUED) | Q(state=Transcript.State.PROCESSING, updated_at__lt=stale)
    claimed = Transcript.objects.filter(claimable, pk=transcript_id).update(
        state=Transcript.State.PROCESSING, progress=5, error="", updated_at=timezone.now()
    )
    if not claimed:  # already done, running elsewhere, or deleted
        return
    row = Transcript.objects.get(pk=transcript_id)
    _announce(row, Transcript.State.PROCESSING, 5)
    try:
        with row.audio.open("rb") as handle:
            data = handle.read()
        Transcript.objects.filter(pk=row.pk).update(progress=15)
        _announce(row, Transcript.State.PROCESSING, 15)
        # The company's deployed asr model (with its vocabulary) if it has one, else the default engine.
        result = model_transcribe(company=row.company_id, modelid=None, data=data)
    except ApplicationError as exc:
        _fail(row, exc.message)
        return
    except Exception as exc:  # the job's outcome is recorded on the row, the detail in the log
        logger.exception("Transcription of %s failed", transcript_id)
        _fail(row, f"Recognition failed ({exc.__class__.__name__}).")
        return
    Transcript.objects.filter(pk=row.pk, state=Transcript.State.PROCESSING).update(
        text=result.text,
        segments=result.as_json()["segments"],
        language=result.language,
        engine=result.engine,
        state=Transcript.State.COMPLETED,
        progress=100,
        attempts=row.attempts + 1,
        processed_at=timezone.now(),
        updated_at=timezone.now(),
    )
    _announce(row, Transcript.State.COMPLETED, 100)


def _announce(row: Transcript, state: str, progress: int, error: str = "") -> None:
    """Push the recognition's state and progress to the company's events sockets."""
    job_progress_send(
        company_id=row.company_id, job="transcription", object_id=row.pk, state=state, progress=progress, error=error
    )


def _fail(row: Transcript, message: str) -> None:
    Transcript.objects.filter(pk=row.pk).update(
        state=Transcript.State.FAILED, error=message, attempts=row.attempts + 1, updated_at=timezone.now()
    )
    _announce(row, Transcript.State.FAILED, row.progress, message)


def _delete_files(storage: Any, names: list[str]) -> None:
    for name in names:
        storage.delete(name)


def transcripts_delete(*, principal: Any, ids: list[str]) -> int:
    """Delete transcripts the caller may see, with their audio; all or nothing."""
    if not ids:
        raise InvalidInput("Missing transcriptions.")
    rows = rows_with_ids(Transcript.objects.visible_to(principal), ids, what="Transcript")
    found = [row.pk for row in rows]
    files = [row.audio.name for row in rows if row.audio]
    storage = Transcript._meta.get_field("audio").storage  # type: ignore[attr-defined]
    with transaction.atomic():
        Transcript.objects.filter(pk__in=found).delete()
        transaction.on_commit(lambda: _delete_files(storage, files))
    return len(rows)
