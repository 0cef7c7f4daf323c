"""/api/v1/knowledge (+ upload) and /api/v1/tools: the registry's llm models, their documents, its NLU models."""

from __future__ import annotations

import uuid

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.roles import MODEL_MANAGER
from apps.chat.tests.test_registry_models import make_chat_model
from apps.core.testing import assert_detail_error
from apps.models_registry.models import AIModel, DataSource
from apps.models_registry.tests.factories import AIModelFactory

KNOWLEDGE = "/api/v1/knowledge"
UPLOAD = "/api/v1/knowledge/upload"
TOOLS = "/api/v1/tools"


def text_file(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/plain")


def test_knowledge_lists_the_companys_llm_models_and_their_documents(anon, tenant, outsider):
    deployed = make_chat_model(tenant.company)
    draft = AIModelFactory(company=tenant.company, name="Draft", algorithm="llm", description="Not yet trained")
    AIModelFactory(company=tenant.company, name="Bot")  # an NLU model is no knowledge base
    make_chat_model(outsider.company, name="Globex docs")
    with_queries = tenant.user.client.get(KNOWLEDGE)
    assert with_queries.status_code == 200
    bases = {base["name"]: base for base in with_queries.json()}
    assert set(bases) == {"Shop docs", "Draft"}
    shop = bases["Shop docs"]
    assert shop["id"] == str(deployed.pk) and shop["model"] == f"model.{deployed.pk}" and shop["trained_version"] == 1
    assert [f["filename"] for f in shop["files"]] == ["hours.txt", "refunds.txt"]
    assert shop["files"][0]["meta"] == {"name": "hours.txt", "content_type": "", "size": 61}
    assert shop["created_at"].endswith("Z")
    assert bases["Draft"] == {
        **bases["Draft"],
        "id": str(draft.pk),
        "model": None,
        "files": [],
        "description": "Not yet trained",
    }
    assert_detail_error(anon.get(KNOWLEDGE), 401)


def test_knowledge_list_takes_a_constant_number_of_queries(tenant, django_assert_max_num_queries):
    for number in range(3):
        make_chat_model(tenant.company, name=f"Docs {number}")
    client = tenant.key_client()
    with django_assert_max_num_queries(8):
        assert len(client.get(KNOWLEDGE).json()) == 3


def test_upload_adds_documents_to_the_named_or_default_knowledge_base(tenant):
    named = make_chat_model(tenant.company, name="Named")
    default = make_chat_model(tenant.company, name="Default", default=True)
    client = tenant.member([MODEL_MANAGER]).client
    response = client.post(
        UPLOAD, {"knowledge_id": str(named.pk), "file": [text_file("a.txt", "Alpha."), text_file("b.txt", "Beta.")]}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == str(named.pk) and [f["filename"] for f in body["files"]] == ["a.txt", "b.txt"]
    assert set(DataSource.objects.filter(model=named).values_list("originalname", flat=True)) >= {"a.txt", "b.txt"}
    again = client.post(UPLOAD, {"file": text_file("c.txt", "Gamma.")})
    assert again.status_code == 200 and again.json()["id"] == str(default.pk)
    assert DataSource.objects.filter(model=default, originalname="c.txt", text="Gamma.").exists()


def test_upload_failures_save_nothing(tenant, outsider):
    mine = make_chat_model(tenant.company)
    foreign = make_chat_model(outsider.company, name="Globex docs")
    nlu = AIModelFactory(company=tenant.company, name="Bot")
    client = tenant.key_client()
    before = DataSource.objects.count()
    assert_detail_error(client.post(UPLOAD, {"file": text_file("a.txt", "Alpha.")}), 400, "knowledge_id")
    assert_detail_error(client.post(UPLOAD, {"knowledge_id": str(mine.pk)}), 400, "file")
    unknown = client.post(UPLOAD, {"knowledge_id": str(foreign.pk), "file": text_file("a.txt", "Alpha.")})
    assert_detail_error(unknown, 404)
    assert_detail_error(client.post(UPLOAD, {"knowledge_id": str(uuid.uuid4()), "file": text_file("a.txt", "A.")}), 404)
    assert_detail_error(
        client.post(UPLOAD, {"knowledge_id": str(nlu.pk), "file": text_file("a.txt", "A.")}), 400, "llm"
    )
    bad = client.post(
        UPLOAD,
        {
            "knowledge_id": str(mine.pk),
            "file": [text_file("a.txt", "Alpha."), SimpleUploadedFile("x.exe", b"MZ\x00\x01")],
        },
    )
    assert_detail_error(bad, 400)
    assert DataSource.objects.count() == before


def test_upload_needs_a_model_manager(anon, tenant):
    mine = make_chat_model(tenant.company)
    body = {"knowledge_id": str(mine.pk), "file": text_file("a.txt", "Alpha.")}
    assert_detail_error(tenant.user.client.post(UPLOAD, body), 403)
    assert_detail_error(anon.post(UPLOAD, {"knowledge_id": str(mine.pk), "file": text_file("a.txt", "A.")}), 401)
    assert not DataSource.objects.filter(originalname="a.txt").exists()


def test_tools_are_the_companys_deployed_nlu_models(anon, tenant, outsider):
    tool = AIModelFactory(company=tenant.company, name="Support bot", isdeployed=True, version=1)
    AIModelFactory(company=tenant.company, name="Not deployed", version=1)
    AIModelFactory(company=tenant.company, name="Untrained", isdeployed=True)
    AIModelFactory(company=outsider.company, name="Globex bot", isdeployed=True, version=1)
    make_chat_model(tenant.company)  # an llm model is a chat model, not a tool
    answer = tenant.user.client.get(TOOLS)
    assert answer.status_code == 200
    tools = answer.json()
    assert [t["name"] for t in tools] == ["Support bot"]
    assert tools[0]["id"] == str(tool.pk)
    assert tools[0]["endpoint"]["path"] == "/api/v1/toolbox/tools/model/test"
    assert tools[0]["endpoint"]["body"]["modelid"] == str(tool.pk)
    assert tools[0]["specs"][0]["parameters"]["required"] == ["input"]
    AIModel.objects.filter(pk=tool.pk).update(isactive=False)
    assert tenant.user.client.get(TOOLS).json() == []
    assert_detail_error(anon.get(TOOLS), 401)
