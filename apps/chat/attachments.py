"""Files uploaded into chats: type found from the content (never the name), size checked, text extracted.

The file is stored through Django's storage under a name we choose (`Attachment.file`); its text, for
documents, is context for the chat's next answers (see `turns.chat_context` for the trimming rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from apps.chat.models import Attachment, Chat, Message
from apps.core.documents import clean_text, docx_text, pdf_pages_text, zip_names
from apps.core.exceptions import InvalidInput, PayloadTooLarge, UnsupportedMediaType


@dataclass(frozen=True)
class FileKind:
    mime: str
    extension: str
    short: str


PDF = FileKind("application/pdf", ".pdf", "pdf")
DOCX = FileKind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx", "docx")
TEXT = FileKind("text/plain", ".txt", "txt")
IMAGES = (
    (b"\x89PNG\r\n\x1a\n", FileKind("image/png", ".png", "png")),
    (b"\xff\xd8\xff", FileKind("image/jpeg", ".jpg", "jpeg")),
    (b"GIF87a", FileKind("image/gif", ".gif", "gif")),
    (b"GIF89a", FileKind("image/gif", ".gif", "gif")),
)
ACCEPTED = "pdf, docx, txt, png, jpeg, gif or webp"


def kind_of(data: bytes) -> FileKind | None:
    """The type of a file from its first bytes; None when it is none of the accepted ones."""
    if data.startswith(b"%PDF-"):
        return PDF
    for magic, kind in IMAGES:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return FileKind("image/webp", ".webp", "webp")
    if data.startswith(b"PK\x03\x04"):
        names = zip_names(data)
        return DOCX if names is not None and "word/document.xml" in names else None
    if b"\x00" not in data[:8192]:
        try:
            data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
        return TEXT
    return None


def _read(upload: Any) -> bytes:
    limit = settings.CHAT_UPLOAD_MAX_BYTES
    if (upload.size or 0) > limit:
        raise PayloadTooLarge(f"The file is larger than the limit of {limit // (1024 * 1024)} MB.")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"The file is larger than the limit of {limit // (1024 * 1024)} MB.")
    if not data:
        raise InvalidInput("The file is empty.")
    return data


def _text_of(kind: FileKind, name: str, data: bytes) -> tuple[int | None, str]:
    if kind is PDF:
        pages, text = pdf_pages_text(name, data)
        return pages, clean_text(text)
    if kind is DOCX:
        return None, clean_text(docx_text(name, data))
    if kind is TEXT:
        return None, clean_text(data.decode("utf-8-sig"))
    return None, ""


def _store(*, company: Any, chat: Chat, message: Message | None, name: str, kind: FileKind, data: bytes) -> Attachment:
    pages, text = _text_of(kind, name, data)
    attachment = Attachment(
        company=company, chat=chat, message=message, filename=name[:255], extension=kind.extension,
        content_type=kind.mime, size=len(data), pages=pages, text=text,
    )  # fmt: skip
    attachment.file.save("upload", ContentFile(data), save=False)  # the name comes from attachment_path
    try:
        with transaction.atomic():
            attachment.save()
            Chat.objects.filter(pk=chat.pk).update(updated_at=attachment.created_at)
    except Exception:
        attachment.file.delete(save=False)  # nothing half-saved: no file without its row
        raise
    return attachment


def _name(upload: Any) -> str:
    return (getattr(upload, "name", "") or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1] or "file"


def pdf_upload(*, company: Any, chat: Chat, upload: Any) -> Attachment:
    """A PDF (by content) of at most CHAT_UPLOAD_MAX_BYTES stored in the chat, with its text and page count."""
    data = _read(upload)
    if kind_of(data) is not PDF:
        raise UnsupportedMediaType("Only PDF files are supported.")
    return _store(company=company, chat=chat, message=None, name=_name(upload), kind=PDF, data=data)


def attachment_create(*, company: Any, message: Message, upload: Any, file_type: str = "") -> Attachment:
    """A file of an accepted type (by content) attached to a message; `file_type`, when given, must match."""
    data = _read(upload)
    kind = kind_of(data)
    if kind is None:
        raise UnsupportedMediaType(f"Unsupported file type; upload {ACCEPTED} files.")
    wanted = (file_type or "").strip().lower()
    if wanted and wanted not in (kind.mime, kind.short, kind.extension.lstrip("."), kind.extension):
        raise InvalidInput(f"file_type {file_type!r} does not match the file's content ({kind.mime}).")
    return _store(company=company, chat=message.chat, message=message, name=_name(upload), kind=kind, data=data)
