"""Input and output shapes of the notes endpoints."""

from __future__ import annotations

from rest_framework import serializers

from apps.notes.models import Note


class NoteSerializer(serializers.Serializer):
    """A note as the API shows it: the author's names, or the label of what wrote it."""

    noteid = serializers.UUIDField(source="id")
    recordid = serializers.UUIDField(source="record_id")
    category = serializers.CharField()
    note = serializers.CharField(source="text")
    created = serializers.DateTimeField(source="created_at")
    userid = serializers.UUIDField(source="author_id", allow_null=True)
    fname = serializers.SerializerMethodField()
    lname = serializers.SerializerMethodField()
    author = serializers.SerializerMethodField()

    def get_fname(self, note: Note) -> str:
        return note.author.fname if note.author else ""

    def get_lname(self, note: Note) -> str:
        return note.author.lname if note.author else ""

    def get_author(self, note: Note) -> str:
        return note.author.get_full_name() if note.author else note.author_label


class NotesGetInputSerializer(serializers.Serializer):
    recordid = serializers.CharField(max_length=100)


class NoteSaveInputSerializer(serializers.Serializer):
    recordid = serializers.CharField(max_length=100)
    category = serializers.CharField(max_length=100)
    note = serializers.CharField(max_length=20000, trim_whitespace=False)
