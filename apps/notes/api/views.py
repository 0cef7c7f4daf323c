"""Notes endpoints of the toolbox API: any member of the company may read and write them."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.responses import ok
from apps.core.api.schema import envelope, toolbox_schema
from apps.core.api.views import CompanyAPIView, request_data
from apps.notes import selectors, services
from apps.notes.api import serializers as s

TAGS = ["Notes"]


NOTES_GET_DESCRIPTION = (
    "The record is any record of your group (model, activity, actor, automation, transcript, chat, user); "
    "its id goes in the path (`notes/get/{recordid}`) or as the `recordid` query parameter."
)
NotesEnvelope = envelope("NotesResponse", notes=s.NoteSerializer(many=True))


class NotesGetView(CompanyAPIView):
    @toolbox_schema(
        summary="The notes of a record, oldest first",
        description=NOTES_GET_DESCRIPTION,
        tags=TAGS,
        request=None,
        parameters=[s.NotesGetInputSerializer],
        response=NotesEnvelope,
        errors=(400, 401, 404),
    )
    def get(self, request: Request, recordid: str | None = None) -> Response:
        data = request_data(request)
        if recordid:
            data["recordid"] = recordid
        serializer = s.NotesGetInputSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        notes = selectors.note_list(company=self.company, record_id=serializer.validated_data["recordid"])
        return ok(notes=s.NoteSerializer(notes, many=True).data)


class NotesGetByPathView(NotesGetView):
    @toolbox_schema(
        summary="The notes of a record (id in the path), oldest first",
        description=NOTES_GET_DESCRIPTION,
        tags=TAGS,
        request=None,
        operation_id="toolbox_tools_notes_get_by_record",
        response=NotesEnvelope,
        errors=(400, 401, 404),
    )
    def get(self, request: Request, recordid: str | None = None) -> Response:
        return super().get(request, recordid)


class NoteSaveView(CompanyAPIView):
    @toolbox_schema(
        summary="Attach a note to a record",
        tags=TAGS,
        request=s.NoteSaveInputSerializer,
        response=envelope("NoteSavedResponse", message=s.serializers.CharField(), noteid=s.serializers.UUIDField()),
        errors=(400, 401, 404),
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.NoteSaveInputSerializer)
        note = services.note_save(
            company=self.company,
            actor=request.user,
            record_id=data["recordid"],
            category=data["category"],
            note=data["note"],
        )
        return ok(message="Note saved successfully.", noteid=str(note.pk))
