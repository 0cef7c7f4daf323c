"""LLM - Data Sources and vocabulary uploads: URLs from a real local server, documents checked by content, and
llm training (retrieval index) with model/test answering from the documents."""

from __future__ import annotations

import asyncio
import io
import threading
import uuid
from collections.abc import Iterator

import docx
import pytest
from aiohttp import web
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.roles import ALL_ROLES, COMPANY_ADMIN, MODEL_MANAGER
from apps.core.testing import assert_envelope_error, assert_ok
from apps.models_registry.models import DataSource, VocabularyEntry
from apps.models_registry.tests.conftest import BASE
from apps.models_registry.tests.factories import AIModelFactory

GET = BASE + "models/datasources/get"
SAVE = BASE + "models/datasources/save"
DELETE = BASE + "models/datasources/delete"
UPLOAD = BASE + "models/datasources/upload"
VOCAB_UPLOAD = BASE + "models/vocabulary/upload"
TRAIN = BASE + "model/train"
TEST = BASE + "model/test"

PAGE = """<html><head><title>Returns policy</title><style>body {color: red}</style></head><body>
<script>var secret = "do not index";</script><h1>Returns</h1>
<p>Items can be returned within 30 days of delivery. Refunds are paid to the original card within five days.</p>
<p>Opening hours are nine to five on weekdays.</p></body></html>"""


def pdf_bytes(text: str) -> bytes:
    """A minimal one-page PDF with the text."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def docx_bytes(*paragraphs: str) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


@pytest.fixture
def llm(tenant):
    return AIModelFactory(company=tenant.company, name="Docs", algorithm="llm", model_name_or_path="builtin.extractive")


class Site(str):
    """The server's base URL, with `state` to change what it serves."""

    state: dict[str, str]


@pytest.fixture
def site(settings) -> Iterator[Site]:
    """A web server on 127.0.0.1 serving a page, a PDF, a 404 and a binary file."""
    settings.OUTBOUND_ALLOW_PRIVATE = True
    state = {"hours": "nine to five"}

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=PAGE.replace("nine to five", state["hours"]), content_type="text/html")

    async def pdf(request: web.Request) -> web.Response:
        return web.Response(body=pdf_bytes("Shipping takes three days."), content_type="application/pdf")

    async def binary(request: web.Request) -> web.Response:
        return web.Response(body=b"\x7fELF\x00\x01\x02" * 20, content_type="application/octet-stream")

    loop = asyncio.new_event_loop()
    app = web.Application()
    app.add_routes([web.get("/returns", page), web.get("/shipping.pdf", pdf), web.get("/bin", binary)])
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    server = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(server.start())
    port = server._server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    base = Site(f"http://127.0.0.1:{port}")
    base.state = state
    yield base
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)
    loop.run_until_complete(runner.cleanup())
    loop.close()


def test_roles_anonymous_and_other_companies(anon, tenant, llm, foreign):
    calls = [
        ("get", GET, {"modelid": str(llm.pk)}),
        ("post", SAVE, {"modelid": str(llm.pk), "url": "http://127.0.0.1:9/x"}),
        ("delete", DELETE, {"modelid": str(llm.pk), "id": str(uuid.uuid4())}),
    ]
    for method, path, payload in calls:
        assert_envelope_error(getattr(anon, method)(path, payload, format="json" if method != "get" else None), 401)
        for role in ALL_ROLES:
            if role not in (COMPANY_ADMIN, MODEL_MANAGER):
                client = tenant.member([role]).client
                assert_envelope_error(
                    getattr(client, method)(path, payload, format="json" if method != "get" else None), 403
                )
        other = {**payload, "modelid": str(foreign.pk)}
        assert_envelope_error(
            getattr(tenant.admin.client, method)(path, other, format="json" if method != "get" else None), 404
        )
    for path in (UPLOAD, VOCAB_UPLOAD):
        assert_envelope_error(anon.post(path, {"modelid": str(llm.pk), "files": [upload("a.txt", b"hello")]}), 401)
        user = tenant.member(["User"]).client
        assert_envelope_error(user.post(path, {"modelid": str(llm.pk), "files": [upload("a.txt", b"hello")]}), 403)
        theirs = tenant.admin.client.post(path, {"modelid": str(foreign.pk), "files": [upload("a.txt", b"hello")]})
        assert_envelope_error(theirs, 404)
    assert not DataSource.objects.exists() and not VocabularyEntry.objects.exists()


def test_save_url_get_refresh_delete(tenant, llm, site):
    client = tenant.member([MODEL_MANAGER]).client
    body = assert_ok(client.post(SAVE, {"modelid": str(llm.pk), "url": site + "/returns"}, format="json"))
    assert body["message"] == "Datasource saved successfully." and body["created"] is True
    source = DataSource.objects.get()
    assert "30 days" in source.text and "do not index" not in source.text and "color" not in source.text
    site.state["hours"] = "eight to six"
    again = assert_ok(client.post(SAVE, {"modelid": str(llm.pk), "url": site + "/returns"}, format="json"))
    assert again["created"] is False and again["id"] == str(source.pk)
    source.refresh_from_db()
    assert "eight to six" in source.text
    assert_ok(client.post(SAVE, {"modelid": str(llm.pk), "url": site + "/shipping.pdf"}, format="json"))
    listed = assert_ok(client.get(GET, {"modelid": str(llm.pk)}))["datasource"]
    assert set(listed) == {"Returns policy", "shipping.pdf"}
    entry = listed["Returns policy"]
    assert entry["id"] == str(source.pk) and entry["type"] == "url" and entry["value"] == site + "/returns"
    assert entry["metadata"] == {
        "originalname": "Returns policy",
        "mimetype": "text/html",
        "extension": ".html",
        "path": site + "/returns",
        "size": source.size,
    }
    assert listed["shipping.pdf"]["metadata"]["mimetype"] == "application/pdf"
    deleted = assert_ok(client.delete(DELETE, {"modelid": str(llm.pk), "id": str(source.pk)}, format="json"))
    assert deleted["message"] == "Datasource deleted successfully."
    assert DataSource.objects.count() == 1
    assert_envelope_error(client.delete(DELETE, {"modelid": str(llm.pk), "id": str(source.pk)}, format="json"), 404)


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [("/missing", 400, "HTTP 404"), ("/bin", 400, "unsupported file type"), ("ftp-url", 400, "http")],
)
def test_save_url_failures(tenant, llm, site, path, status, message):
    url = "ftp://example.com/x" if path == "ftp-url" else site + path
    response = tenant.admin.client.post(SAVE, {"modelid": str(llm.pk), "url": url}, format="json")
    assert_envelope_error(response, status, message)
    assert not DataSource.objects.exists()


def test_save_url_refuses_private_addresses(tenant, llm, settings):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    response = tenant.admin.client.post(
        SAVE, {"modelid": str(llm.pk), "url": "http://169.254.169.254/latest"}, format="json"
    )
    assert_envelope_error(response, 400, "private")
    assert not DataSource.objects.exists()


def test_datasources_belong_to_llm_models(tenant, nlu):
    response = tenant.admin.client.post(UPLOAD, {"modelid": str(nlu.pk), "files": [upload("a.txt", b"hello")]})
    assert_envelope_error(response, 400, "llm")


def test_upload_documents_then_train_and_answer(tenant, llm, django_capture_on_commit_callbacks):
    client = tenant.admin.client
    files = [
        upload("policy.pdf", pdf_bytes("Refunds are paid within five days of the return.")),
        upload("hours.docx", docx_bytes("Our shop opens at nine.", "Deliveries arrive on Tuesdays by van.")),
        upload("notes", b"Gift cards never expire and can be used online."),  # no extension: read by content
    ]
    body = assert_ok(client.post(UPLOAD, {"modelid": str(llm.pk), "files": files}))
    assert body["message"] == "Data Sources uploaded successfully." and len(body["ids"]) == 3
    kinds = dict(DataSource.objects.values_list("originalname", "extension"))
    assert kinds == {"policy.pdf": ".pdf", "hours.docx": ".docx", "notes": ".txt"}
    assert_ok(
        client.post(
            BASE + "models/vocabulary/save",
            {"modelid": str(llm.pk), "text": "SKU", "description": "Stock keeping unit, the code of a product."},
        )
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(client.put(TRAIN, {"modelid": str(llm.pk)}, format="json"))
    llm.refresh_from_db()
    assert (llm.state, llm.version) == ("trained", 1), llm.error
    output = assert_ok(client.post(TEST, {"modelid": str(llm.pk), "input": "When do deliveries arrive?"}))["output"]
    assert "Tuesdays" in output["response"]
    assert output["sources"][0]["name"] == "hours.docx"
    assert output["answerer"] == "builtin.extractive" and output["intent"] is None
    assert 0 < output["score"] <= 1 and output["passages"]
    sku = assert_ok(client.post(TEST, {"modelid": str(llm.pk), "input": "what does SKU mean"}))["output"]
    assert "Stock keeping unit" in sku["response"] and sku["sources"][0]["id"] == "vocabulary"
    unknown = assert_ok(client.post(TEST, {"modelid": str(llm.pk), "input": "zebra migration"}))["output"]
    assert unknown["sources"] == [] and "could not find" in unknown["response"]


def test_llm_training_needs_documents(tenant, llm, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(tenant.admin.client.put(TRAIN, {"modelid": str(llm.pk)}, format="json"))
    llm.refresh_from_db()
    assert llm.state == "failed" and "nothing to index" in llm.error and llm.version == 0


@pytest.mark.parametrize(
    ("name", "data", "status", "message"),
    [
        ("empty.txt", b"", 400, "empty.txt: the file is empty"),
        ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", 400, "tool.exe: unsupported file type"),
        ("broken.pdf", b"%PDF-1.4\n garbage", 400, "broken.pdf"),
        ("broken.docx", b"PK\x03\x04 not really a zip", 400, "broken.docx"),
        ("sheet.docx", None, 400, "sheet.docx: unsupported file type"),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, 400, "old.doc"),
        ("big.txt", b"a" * 2048, 413, "big.txt"),
    ],
)
def test_upload_refuses_bad_files_and_saves_nothing(tenant, llm, settings, name, data, status, message):
    settings.REGISTRY_UPLOAD_MAX_BYTES = 1024
    if data is None:  # a zip that is not a Word document
        buffer = io.BytesIO()
        import zipfile

        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("xl/workbook.xml", "<workbook/>")
        data = buffer.getvalue()
    files = [upload("good.txt", b"A fine document."), upload(name, data)]
    assert_envelope_error(tenant.admin.client.post(UPLOAD, {"modelid": str(llm.pk), "files": files}), status, message)
    assert not DataSource.objects.exists()


def test_upload_needs_files(tenant, llm):
    assert_envelope_error(tenant.admin.client.post(UPLOAD, {"modelid": str(llm.pk)}), 400, "files")


def test_vocabulary_upload(tenant, nlu):
    text = b"refund: money paid back\nSKU - stock keeping unit\n\n  * paypal\nrefund: again\n"
    files = [upload("terms.txt", text), upload("more.docx", docx_bytes("Courier\tthe delivery company"))]
    body = assert_ok(tenant.admin.client.post(VOCAB_UPLOAD, {"modelid": str(nlu.pk), "files": files}))
    assert body == {"success": True, "message": "Vocabulary uploaded successfully.", "added": 4, "lines": 5}
    assert dict(VocabularyEntry.objects.values_list("term", "definition")) == {
        "refund": "money paid back",
        "SKU": "stock keeping unit",
        "paypal": "",
        "Courier": "the delivery company",
    }
    bad = tenant.admin.client.post(VOCAB_UPLOAD, {"modelid": str(nlu.pk), "files": [upload("x.bin", b"\x00\x01\x02")]})
    assert_envelope_error(bad, 400, "x.bin")
    assert VocabularyEntry.objects.count() == 4
