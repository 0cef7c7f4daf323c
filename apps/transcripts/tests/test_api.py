"""Transcript endpoints through HTTP: save, get, list, delete, import, export, visibility and other companies."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from docx import Document
from fpdf import FPDF
from pypdf import PdfReader

from apps.accounts.roles import COMPANY_ADMIN, MODEL_MANAGER, USER
from apps.core.testing import assert_envelope_error, assert_ok
from apps.transcripts.exporters import FONTS
from apps.transcripts.models import Transcript

T = "/api/v1/toolbox/tools"
SAVE = f"{T}/transcript/save"
GET = f"{T}/transcript/get"
LIST = f"{T}/transcripts/get"
DELETE = f"{T}/transcripts/delete"
IMPORT = f"{T}/transcript/import"
EXPORT = f"{T}/transcript/export"
EXPORT_MANY = f"{T}/transcripts/export"


def save(client, **fields):
    payload = {"transcript": "Alice: Hello.\nBob: Hi!", "reference_label": "Standup", **fields}
    return client.post(SAVE, payload, format="json")


def created(client, **fields) -> str:
    return assert_ok(save(client, **fields))["transcriptid"]


def upload_file(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


# --- save and get ---------------------------------------------------------------------------------


def test_save_then_get_in_the_specs_shape(tenant):
    tid = created(tenant.user.client, description="Daily", speakers=["Alice", "Bob"], tags=["meeting", "2023"])
    for url in (f"{GET}/{tid}", f"{GET}?transcriptid={tid}"):
        body = assert_ok(tenant.user.client.get(url))["transcript"]
        assert body["transcriptid"] == tid
        assert (body["reference_label"], body["description"]) == ("Standup", "Daily")
        assert body["status"] is True
        assert body["state"] == "completed"
        assert body["transcript"] == "Alice: Hello.\nBob: Hi!"
        assert body["speakers"] == ["Alice", "Bob"]
        assert body["tags"] == ["meeting", "2023"]
        assert body["created"].endswith("Z")


def test_save_updates_and_validates(tenant):
    tid = created(tenant.user.client)
    assert_ok(save(tenant.user.client, transcriptid=tid, transcript="New text", reference_label="Renamed"))
    row = Transcript.objects.get(pk=tid)
    assert (row.text, row.reference_label) == ("New text", "Renamed")
    assert_envelope_error(save(tenant.user.client, reference_label=""), 400, "reference_label")
    assert_envelope_error(tenant.user.client.post(SAVE, {"reference_label": "x"}, format="json"), 400, "transcript")
    assert_envelope_error(save(tenant.user.client, speakers=[{"a": 1}]), 400, "speakers")
    assert Transcript.objects.count() == 1


def test_another_companys_or_unknown_transcript_is_not_found(tenant, outsider):
    theirs = created(outsider.admin.client)
    for tid in (theirs, str(uuid.uuid4()), "garbage"):
        assert_envelope_error(tenant.admin.client.get(f"{GET}/{tid}"), 404)
        assert_envelope_error(save(tenant.admin.client, transcriptid=tid, transcript="hijack"), 404)
        assert_envelope_error(tenant.admin.client.get(f"{EXPORT}/{tid}"), 404)
    assert Transcript.objects.get(pk=theirs).text == "Alice: Hello.\nBob: Hi!"
    assert_envelope_error(tenant.admin.client.get(GET), 400, "transcriptid")


def test_visibility_admin_sees_all_users_see_their_own_and_shared(tenant):
    mine = created(tenant.user.client, reference_label="mine")
    other = tenant.member([MODEL_MANAGER])
    private = created(other.client, reference_label="private")
    shared = created(other.client, reference_label="shared", shared=True)
    labels = lambda client: {t["reference_label"] for t in assert_ok(client.get(LIST))["transcripts"]}  # noqa: E731
    assert labels(tenant.user.client) == {"mine", "shared"}
    assert labels(tenant.admin.client) == {"mine", "private", "shared"}
    assert labels(tenant.key_client()) == {"mine", "private", "shared"}
    assert_envelope_error(tenant.user.client.get(f"{GET}/{private}"), 404)
    assert_ok(tenant.user.client.get(f"{GET}/{shared}"))
    assert_ok(tenant.admin.client.get(f"{GET}/{mine}"))


def test_anonymous_is_refused(anon, tenant):
    assert_envelope_error(anon.get(LIST), 401)
    assert_envelope_error(save(anon), 401)


# --- list ---------------------------------------------------------------------------------------------


def test_list_filters_and_pages(tenant):
    for i in range(5):
        created(tenant.admin.client, reference_label=f"call {i}", tags=["Sales"] if i % 2 else ["support"])
    created(tenant.admin.client, reference_label="board", transcript="The budget for Q3 is approved.")
    body = assert_ok(tenant.admin.client.get(f"{LIST}?tag=sales"))
    assert {t["reference_label"] for t in body["transcripts"]} == {"call 1", "call 3"}
    body = assert_ok(tenant.admin.client.get(f"{LIST}?q=budget"))
    assert [t["reference_label"] for t in body["transcripts"]] == ["board"]
    page = assert_ok(tenant.admin.client.get(f"{LIST}?page=2&page_size=4"))
    assert (page["total"], page["page"], len(page["transcripts"]), page["has_more"]) == (6, 2, 2, False)
    first = assert_ok(tenant.admin.client.get(f"{LIST}?page_size=1"))
    assert first["transcripts"][0]["reference_label"] == "board"  # newest first
    assert first["has_more"] is True
    assert assert_ok(tenant.admin.client.get(f"{LIST}?date_from=2999-01-01T00:00:00Z"))["total"] == 0
    assert_envelope_error(tenant.admin.client.get(f"{LIST}?page_size=1000"), 400, "page_size")
    assert_envelope_error(tenant.admin.client.get(f"{LIST}?date_from=yesterday"), 400, "date_from")


def test_list_never_shows_another_company(tenant, outsider):
    created(outsider.admin.client)
    assert assert_ok(tenant.admin.client.get(LIST))["total"] == 0


# --- delete ---------------------------------------------------------------------------------------------


def test_delete_all_or_nothing(tenant, outsider):
    a, b = created(tenant.user.client), created(tenant.user.client)
    theirs = created(outsider.admin.client)
    response = tenant.user.client.delete(DELETE, {"transcriptions": [a, theirs]}, format="json")
    assert_envelope_error(response, 404)
    assert Transcript.objects.filter(pk__in=[a, theirs]).count() == 2
    body = assert_ok(tenant.user.client.delete(DELETE, {"transcriptions": [a, b]}, format="json"))
    assert body["message"] == "Transcriptions deleted successfully."
    assert not Transcript.objects.filter(pk__in=[a, b]).exists()
    assert_envelope_error(tenant.user.client.delete(DELETE, {}, format="json"), 400, "transcriptions")


def test_a_user_cannot_delete_a_colleagues_private_transcript(tenant):
    private = created(tenant.manager.client)
    assert_envelope_error(tenant.user.client.delete(f"{DELETE}?transcriptions={private}"), 404)
    assert_ok(tenant.admin.client.delete(f"{DELETE}?transcriptions={private}"))


# --- import ---------------------------------------------------------------------------------------------


def _docx(lines: list[str]) -> bytes:
    document = Document()
    for line in lines:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _pdf(lines: list[str]) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.set_font("DejaVu", size=12)
    for line in lines:
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


VTT = b"""WEBVTT

00:00:01.000 --> 00:00:04.000
<v Alice>Welcome to the review.

00:00:04.500 --> 00:00:07.250
<v Bob>Thanks, let's start.
"""
SRT = b"""1
00:00:01,000 --> 00:00:03,000
Carol: The numbers look good.

2
00:00:03,500 --> 00:00:05,000
Dave: Agreed.
"""


@pytest.mark.parametrize(
    ("name", "content", "speakers", "timed"),
    [
        ("notes.txt", "Alice: Olá, tudo bem?\nBob: Привет!\n".encode(), ["Alice", "Bob"], False),
        ("call.vtt", VTT, ["Alice", "Bob"], True),
        ("call.srt", SRT, ["Carol", "Dave"], True),
        ("minutes.docx", _docx(["Erin: Opening remarks.", "Frank: Budget update."]), ["Erin", "Frank"], False),
        ("minutes.pdf", _pdf(["Grace: First point.", "Heidi: Second point."]), ["Grace", "Heidi"], False),
        ("misnamed.bin", VTT, ["Alice", "Bob"], True),  # the content decides, not the name
    ],
)
def test_import_each_format(tenant, name, content, speakers, timed):
    payload = {
        "reference_label": "Imported",
        "description": "d",
        "tags": ["meeting", "2023"],
        "file": upload_file(name, content),
    }
    body = assert_ok(tenant.user.client.put(IMPORT, payload, format="multipart"))
    assert body["message"] == "Transcription imported successfully"
    row = Transcript.objects.get(pk=body["transcriptid"])
    assert row.speakers == speakers
    assert row.tags == ["meeting", "2023"]
    assert row.source == "import"
    assert row.text.splitlines()[0].startswith(f"{speakers[0]}: ")
    if timed:
        assert row.segments[0]["start"] == 1.0
        assert row.segments[1]["end"] in (7.25, 5.0)


def test_import_tags_as_a_json_string_or_comma_list(tenant):
    for tags in ('["a", "b"]', "a, b"):
        payload = {"reference_label": "x", "tags": tags, "file": upload_file("t.txt", b"hello")}
        body = assert_ok(tenant.user.client.put(IMPORT, payload, format="multipart"))
        assert Transcript.objects.get(pk=body["transcriptid"]).tags == ["a", "b"]


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 415, "Unsupported file type"),
        (b"", 400, "empty"),
        (b"%PDF-1.7\n garbage that is not a pdf", 400, "damaged"),
        (b"PK\x03\x04 not really a zip", 415, "Unsupported"),
        ("Olá".encode("latin-1"), 415, "UTF-8"),
    ],
)
def test_import_refuses_bad_files(tenant, content, status, message):
    payload = {"reference_label": "x", "file": upload_file("f.txt", content)}
    assert_envelope_error(tenant.user.client.put(IMPORT, payload, format="multipart"), status, message)
    assert not Transcript.objects.exists()


def test_import_validation_and_limits(tenant, settings):
    assert_envelope_error(
        tenant.user.client.put(IMPORT, {"file": upload_file("t.txt", b"hi")}, format="multipart"),
        400,
        "reference_label",
    )
    assert_envelope_error(tenant.user.client.put(IMPORT, {"reference_label": "x"}, format="multipart"), 400, "file")
    settings.TRANSCRIPT_IMPORT_MAX_BYTES = 1024
    big = {"reference_label": "x", "file": upload_file("t.txt", b"a" * 2048)}
    assert_envelope_error(tenant.user.client.put(IMPORT, big, format="multipart"), 413, "t.txt")
    assert not Transcript.objects.exists()


# --- export ---------------------------------------------------------------------------------------------


def test_export_txt_by_query_and_path(tenant):
    tid = created(tenant.user.client, description="Daily", speakers=["Alice", "Bob"], tags=["t1"])
    for url in (f"{EXPORT}?transcriptid={tid}", f"{EXPORT}/{tid}", f"{EXPORT}/{tid}?exportas=txt"):
        response = tenant.user.client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        assert 'filename="standup.txt"' in response["Content-Disposition"]
        text = response.content.decode()
        assert text.startswith("Standup\n")
        assert "Speakers: Alice, Bob" in text
        assert "Alice: Hello." in text


def test_export_pdf_is_a_real_document_with_unicode(tenant):
    text = "Alice: Olá, a reunião começa.\nБорис: Привет всем!\n" + "Alice: More words here.\n" * 120  # noqa: RUF001
    tid = created(tenant.user.client, transcript=text, speakers=["Alice", "Борис"], tags=["q3"])
    response = tenant.user.client.get(f"{EXPORT}/{tid}?exportas=pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) >= 2
    content = pdf_text(response.content)
    for expected in (
        "Standup",
        "Speakers: Alice, Борис",
        "Tags: q3",
        "Olá, a reunião começa.",
        "Привет всем!",
        "Page 1 of",
    ):
        assert expected in content, expected
    assert f"Page {len(reader.pages)} of {len(reader.pages)}" in content


def test_export_pdf_of_an_empty_transcript(tenant):
    tid = created(tenant.user.client, transcript="")
    response = tenant.user.client.get(f"{EXPORT}/{tid}?exportas=pdf")
    assert response.status_code == 200
    assert "no text yet" in pdf_text(response.content)


def test_export_several_in_one_document(tenant, outsider):
    a = created(tenant.user.client, reference_label="First call", transcript="Ann: one")
    b = created(tenant.user.client, reference_label="Second call", transcript="Ben: two")
    response = tenant.user.client.get(f"{EXPORT_MANY}?transcripts={a},{b}&exportas=pdf")
    assert response.status_code == 200
    content = pdf_text(response.content)
    assert content.index("First call") < content.index("Second call")
    body = tenant.user.client.generic(
        "GET", EXPORT_MANY, json.dumps({"transcripts": [b, a]}), content_type="application/json"
    )
    text = body.content.decode()
    assert text.index("Second call") < text.index("First call")
    theirs = created(outsider.admin.client)
    assert_envelope_error(
        tenant.user.client.get(f"{EXPORT_MANY}?transcripts={a}&transcripts={theirs}"), 404, "Object not found."
    )
    assert_envelope_error(tenant.user.client.get(f"{EXPORT_MANY}?transcripts={a}&exportas=docx"), 400, "exportas")
    assert_envelope_error(tenant.user.client.get(EXPORT_MANY), 400, "transcripts")


@pytest.mark.parametrize("role", [USER, COMPANY_ADMIN])
def test_every_member_may_use_transcripts(tenant, role):
    member = tenant.member([role])
    assert_ok(save(member.client))
