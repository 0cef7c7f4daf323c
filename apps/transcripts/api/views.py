"""Transcript and Transcripts endpoints of the toolbox API."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.responses import ok
from apps.core.api.schema import ErrorEnvelopeSerializer, envelope, toolbox_schema
from apps.core.api.views import CompanyAPIView
from apps.transcripts import exporters, selectors, services
from apps.transcripts.api import serializers as s
from apps.transcripts.models import Transcript

TAGS = ["Transcript"]
LIST_TAGS = ["Transcripts"]
VISIBILITY = (
    "Any active user of the company may use these endpoints. A Company Admin (and the company's key pair) "
    "sees every transcript of the company; other users see their own and those saved with `shared: true`. "
    "Transcripts of other companies, and private ones of colleagues, answer 404."
)
ID_IN_PATH = OpenApiParameter("transcriptid", OpenApiTypes.STR, OpenApiParameter.PATH)


def _export_response(transcripts: list[Transcript], exportas: str) -> HttpResponse:
    name = slugify(transcripts[0].reference_label)[:60] if len(transcripts) == 1 else "transcripts"
    if exportas == "pdf":
        response = HttpResponse(exporters.to_pdf(transcripts), content_type="application/pdf")
    else:
        response = HttpResponse(exporters.to_text(transcripts), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name or "transcript"}.{exportas}"'
    return response


class _WithId(CompanyAPIView):
    """Takes the transcript id from the path (`.../get/{id}`) or the query/body (`transcriptid`)."""

    def transcript_id(self, kwargs: dict[str, Any]) -> Any:
        if kwargs.get("transcriptid"):
            return kwargs["transcriptid"]
        return self.validated(s.TranscriptIdInputSerializer)["transcriptid"]


class TranscriptGetView(_WithId):
    @toolbox_schema(
        summary="A transcript, with its segments and word timings",
        description=VISIBILITY,
        tags=TAGS,
        response=envelope("TranscriptGetResponse", transcript=s.TranscriptDetailSerializer()),
        errors=(400, 401, 404),
    )
    def get(self, request: Request, transcriptid: str | None = None) -> Response:
        row = services.transcript_get_visible(principal=request.user, transcriptid=self.transcript_id(self.kwargs))
        return ok(transcript=s.TranscriptDetailSerializer(row).data)


class TranscriptSaveView(CompanyAPIView):
    @toolbox_schema(
        summary="Create a transcript, or update one (with transcriptid)",
        description=VISIBILITY + " `shared` (optional) makes it visible to the whole company.",
        tags=TAGS,
        request=s.TranscriptSaveInputSerializer,
        response=envelope(
            "TranscriptSaveResponse", message=serializers.CharField(), transcriptid=serializers.UUIDField()
        ),
        errors=(400, 401, 404, 409),
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.TranscriptSaveInputSerializer, list_fields=("speakers", "tags"))
        row = services.transcript_save(principal=request.user, **data)
        return ok(message="Transcript saved successfully.", transcriptid=str(row.pk))


class _FileView(CompanyAPIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def file_input(self) -> tuple[dict[str, Any], bytes, str]:
        data = self.validated(s.TranscriptFileInputSerializer, list_fields=("tags",))
        upload = data.pop("file")
        return data, upload.read(), upload.name or "upload"


class TranscriptImportView(_FileView):
    @toolbox_schema(
        summary="Import a transcript file (txt, vtt, srt, docx, pdf)",
        description=(
            "multipart/form-data with `file`, `reference_label`, optional `description`, `tags` (repeat the field, "
            "or send a JSON list or a comma list) and `shared`. The type is read from the content. `Speaker: text` "
            "lines and WebVTT voice tags give `speakers`; VTT and SRT timings are kept in `segments`. " + VISIBILITY
        ),
        tags=TAGS,
        request={"multipart/form-data": s.TranscriptFileInputSerializer},
        response=envelope(
            "TranscriptImportResponse", message=serializers.CharField(), transcriptid=serializers.UUIDField()
        ),
        errors=(400, 401, 413, 415),
    )
    def put(self, request: Request) -> Response:
        data, content, filename = self.file_input()
        row = services.transcript_import(principal=request.user, data=content, filename=filename, **data)
        return ok(message="Transcription imported successfully", transcriptid=str(row.pk))


class TranscriptUploadView(_FileView):
    @toolbox_schema(
        summary="Upload an mp3 or wav recording to be transcribed",
        description=(
            "Answers at once; a job decodes the audio, resamples it to 16 kHz mono and recognises it "
            "(faster-whisper). Poll transcript/get: `status` turns true when the text is ready, `state` is queued, "
            "processing, completed or failed (with `error`). The type is read from the content; size "
            "(TRANSCRIPT_AUDIO_MAX_BYTES) and length (TRANSCRIPT_AUDIO_MAX_SECONDS) are limited. " + VISIBILITY
        ),
        tags=TAGS,
        request={"multipart/form-data": s.TranscriptFileInputSerializer},
        response=envelope(
            "TranscriptUploadResponse",
            message=serializers.CharField(),
            transcriptid=serializers.UUIDField(),
            state=serializers.CharField(),
        ),
        errors=(400, 401, 413),
    )
    def put(self, request: Request) -> Response:
        data, content, filename = self.file_input()
        row = services.transcript_upload(principal=request.user, data=content, filename=filename, **data)
        return ok(message="Audio file uploaded successfully", transcriptid=str(row.pk), state=row.state)


class TranscriptRetryView(_WithId):
    @toolbox_schema(
        summary="Queue a failed transcription again",
        tags=TAGS,
        response=envelope("TranscriptRetryResponse", message=serializers.CharField(), state=serializers.CharField()),
        errors=(401, 404, 409),
    )
    def put(self, request: Request, transcriptid: str | None = None) -> Response:
        row = services.transcript_retry(principal=request.user, transcriptid=self.transcript_id(self.kwargs))
        return ok(message="Transcription queued again.", state=row.state)


EXPORT_RESPONSES = {
    (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The transcript as text."),
    (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The transcript as a PDF."),
    400: ErrorEnvelopeSerializer,
    401: ErrorEnvelopeSerializer,
    404: ErrorEnvelopeSerializer,
}


class TranscriptExportView(CompanyAPIView):
    @extend_schema(
        summary="Export a transcript as txt (default) or pdf",
        tags=TAGS,
        parameters=[s.TranscriptExportInputSerializer],
        responses=EXPORT_RESPONSES,
    )
    def get(self, request: Request, transcriptid: str | None = None) -> HttpResponse:
        if transcriptid:
            data = {**self.validated(s.ExportFormatInputSerializer), "transcriptid": transcriptid}
        else:
            data = self.validated(s.TranscriptExportInputSerializer)
        row = services.transcript_get_visible(principal=request.user, transcriptid=data["transcriptid"])
        return _export_response([row], data["exportas"])


class TranscriptsListView(CompanyAPIView):
    @toolbox_schema(
        summary="List transcripts, newest first",
        description="Filters: `tag` (a whole tag, any case), `q` (text search in label, description and text), "
        "`date_from`/`date_to` (ISO 8601). Paged by `page` and `page_size` (default 100, at most 200). " + VISIBILITY,
        tags=LIST_TAGS,
        parameters=[s.TranscriptListInputSerializer],
        response=envelope(
            "TranscriptsListResponse",
            transcripts=s.TranscriptSerializer(many=True),
            total=serializers.IntegerField(),
            page=serializers.IntegerField(),
            page_size=serializers.IntegerField(),
            has_more=serializers.BooleanField(),
        ),
        errors=(400, 401),
    )
    def get(self, request: Request) -> Response:
        data = self.validated(s.TranscriptListInputSerializer)
        page, size = data.pop("page"), data.pop("page_size")
        queryset = selectors.transcript_list(principal=request.user, **data)
        total = queryset.count()
        rows = list(queryset[(page - 1) * size : page * size])
        return ok(
            transcripts=s.TranscriptSerializer(rows, many=True).data,
            total=total,
            page=page,
            page_size=size,
            has_more=page * size < total,
        )


class TranscriptsDeleteView(CompanyAPIView):
    @toolbox_schema(
        summary="Delete transcripts (and their audio)",
        description="All or nothing: an unknown id, or one you may not see, deletes none and answers 404.",
        tags=LIST_TAGS,
        request=s.TranscriptsDeleteInputSerializer,
        errors=(400, 401, 404),
    )
    def delete(self, request: Request) -> Response:
        data = self.validated(s.TranscriptsDeleteInputSerializer, list_fields=("transcriptions",))
        services.transcripts_delete(principal=request.user, ids=data["transcriptions"])
        return ok(message="Transcriptions deleted successfully.")


class TranscriptsExportView(CompanyAPIView):
    @extend_schema(
        summary="Export several transcripts in one document, each under its own heading",
        description="GET with a JSON body, or `?transcripts=a&transcripts=b` / `?transcripts=a,b`.",
        tags=LIST_TAGS,
        parameters=[s.TranscriptsExportInputSerializer],
        responses=EXPORT_RESPONSES,
    )
    def get(self, request: Request) -> HttpResponse:
        data = self.validated(s.TranscriptsExportInputSerializer, list_fields=("transcripts",))
        rows = selectors.transcripts_for_export(principal=request.user, ids=data["transcripts"])
        return _export_response(rows, data["exportas"])
