"""The admin: usage totals per company and model, providers' keys write-only, company scoping."""

from __future__ import annotations

from django.test import Client

from apps.accounts.models import User
from apps.chat.models import CompletionUsage
from apps.chat.services import chat_new, usage_record
from apps.core.crypto import decrypt_text
from apps.core.testing import PASSWORD
from apps.models_registry.providers.models import LLMProvider
from apps.models_registry.providers.services import provider_create


def _usage(tenant, model, tokens):
    usage_record(
        company=tenant.company, user=tenant.user.user, chat=None, model=model, provider=model.split(".")[0],
        source="gateway", stream=False, prompt_tokens=tokens, completion_tokens=1, counted_locally=False, latency_ms=10,
    )  # fmt: skip


def _staff(user):
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    return client


def test_usage_totals_per_company_and_model(tenant, outsider):
    _usage(tenant, "acme.gpt", 10)
    _usage(tenant, "acme.gpt", 20)
    _usage(tenant, "builtin.assistant", 5)
    _usage(outsider, "globex.gpt", 7)
    root = User.objects.create_superuser("root@operator.test", PASSWORD, fname="R", lname="O")
    client = Client()
    client.force_login(root)
    response = client.get("/admin/chat/completionusage/")
    assert response.status_code == 200
    totals = {(r["company__name"], r["model"]): (r["requests"], r["total"]) for r in response.context["usage_totals"]}
    assert totals == {
        ("Acme", "acme.gpt"): (2, 32),
        ("Acme", "builtin.assistant"): (1, 6),
        ("Globex", "globex.gpt"): (1, 8),
    }
    assert b"Totals per company and model" in response.content
    mine = _staff(tenant.admin.user).get("/admin/chat/completionusage/")
    assert {r["company__name"] for r in mine.context["usage_totals"]} == {"Acme"}


def test_company_admins_see_only_their_chats_and_providers(tenant, outsider):
    chat_new(company=tenant.company, user=tenant.user.user, title="ours")
    theirs = chat_new(company=outsider.company, user=outsider.user.user, title="theirs")
    client = _staff(tenant.admin.user)
    listed = client.get("/admin/chat/chat/")
    assert [c.title for c in listed.context["cl"].queryset] == ["ours"]
    assert client.get(f"/admin/chat/chat/{theirs.pk}/change/").status_code in (302, 404)
    assert CompletionUsage.objects.count() == 0


def test_provider_keys_are_set_not_shown(tenant):
    provider = provider_create(company=tenant.company, actor=None, name="acme", api_endpoint="https://a.example.com",
                               api_key="sk-first-key-1111")  # fmt: skip
    client = _staff(tenant.admin.user)
    page = client.get(f"/admin/models_registry/llmprovider/{provider.pk}/change/")
    assert page.status_code == 200
    assert b"sk-first-key-1111" not in page.content and provider.api_key_encrypted.encode() not in page.content
    form = {"name": "acme", "kind": "openai", "api_endpoint": "https://a.example.com", "api_version": "",
            "allowed_roles": "[]", "is_active": "on", "new_api_key": "sk-second-key-2222"}  # fmt: skip
    response = client.post(f"/admin/models_registry/llmprovider/{provider.pk}/change/", form)
    assert response.status_code == 302, response.content[:2000]
    provider = LLMProvider.objects.get()
    assert decrypt_text(provider.api_key_encrypted) == "sk-second-key-2222"
    assert provider.api_key_hint == "…2222"


def test_company_admins_add_prompts_numbered_in_their_company(tenant):
    from apps.chat.models import Prompt

    client = _staff(tenant.admin.user)
    form = {"title": "Greeter", "content": "Say hello to {name}", "scenario": "", "description": "", "metadata": "{}",
            "is_template": "on", "user": ""}  # fmt: skip
    response = client.post("/admin/chat/prompt/add/", form)
    assert response.status_code == 302, response.content[:3000]
    prompt = Prompt.objects.get()
    assert (prompt.company_id, prompt.number, prompt.is_template, prompt.user_id) == (
        tenant.company.pk,
        1,
        True,
        tenant.admin.user.pk,
    )
    client.post("/admin/chat/prompt/add/", {**form, "title": "Second"})
    assert list(Prompt.objects.order_by("number").values_list("number", flat=True)) == [1, 2]


def test_stop_action_archives_the_selected_chats_and_closes_their_sockets(
    tenant, outsider, django_capture_on_commit_callbacks
):
    import asyncio

    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from apps.chat.models import Chat
    from apps.chat.services import tenant_chat_create
    from apps.core import realtime

    ours, _ = tenant_chat_create(company=tenant.company, external_id="user123")
    kept, _ = tenant_chat_create(company=tenant.company, external_id="user456")
    theirs, _ = tenant_chat_create(company=outsider.company, external_id="user123")
    layer = get_channel_layer()
    socket_channel = async_to_sync(layer.new_channel)()  # stands where a live socket of the chat would be
    async_to_sync(layer.group_add)(realtime.chat_group(ours.pk), socket_channel)
    client = _staff(tenant.admin.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/chat/chat/", {"action": "stop_chats", "_selected_action": [str(ours.pk), str(theirs.pk)]}
        )
    assert response.status_code == 302
    states = dict(Chat.objects.values_list("pk", "state"))
    assert (states[ours.pk], states[kept.pk], states[theirs.pk]) == ("archived", "online", "online")

    async def control() -> dict:
        return await asyncio.wait_for(layer.receive(socket_channel), timeout=5)

    assert async_to_sync(control)() == {"type": realtime.CHAT_CONTROL, "action": "stop"}


def test_chat_filters_by_state_model_and_user(tenant, outsider):
    from apps.chat.models import Chat
    from apps.chat.services import tenant_chat_create

    first, _ = tenant_chat_create(company=tenant.company, external_id="user123")
    second, _ = tenant_chat_create(company=tenant.company, external_id="user456")
    staff = chat_new(company=tenant.company, user=tenant.user.user, title="staff")
    tenant_chat_create(company=outsider.company, external_id="outsider-user")
    Chat.objects.filter(pk=second.pk).update(state="archived")
    client = _staff(tenant.admin.user)

    def listed(query):
        response = client.get(f"/admin/chat/chat/?{query}")
        assert response.status_code == 200
        return {c.pk for c in response.context["cl"].queryset}

    assert listed("state__exact=archived") == {second.pk}
    assert listed("chat_user=e:user123") == {first.pk}
    assert listed(f"chat_user=u:{tenant.user.user.pk}") == {staff.pk}
    assert listed(f"model={first.model}") >= {first.pk, second.pk}
    page = client.get("/admin/chat/chat/").content.decode()
    assert "user123 (end-user)" in page and "outsider-user" not in page


def test_end_users_and_attachments_are_listed_per_company(tenant, outsider):
    from django.core.files.base import ContentFile

    from apps.chat.models import Attachment
    from apps.chat.services import end_user_get_or_create, tenant_chat_create

    end_user_get_or_create(company=tenant.company, external_id="visible-end-user")
    end_user_get_or_create(company=outsider.company, external_id="hidden-end-user")
    chat, _ = tenant_chat_create(company=tenant.company, external_id="visible-end-user")
    Attachment.objects.create(company=tenant.company, chat=chat, file=ContentFile(b"x", name="a.txt"),
                              filename="visible.txt", content_type="text/plain")  # fmt: skip
    foreign, _ = tenant_chat_create(company=outsider.company, external_id="hidden-end-user")
    Attachment.objects.create(company=outsider.company, chat=foreign, file=ContentFile(b"x", name="b.txt"),
                              filename="hidden.txt", content_type="text/plain")  # fmt: skip
    client = _staff(tenant.admin.user)
    users = client.get("/admin/chat/enduser/").content.decode()
    assert "visible-end-user" in users and "hidden-end-user" not in users
    files = client.get("/admin/chat/attachment/").content.decode()
    assert "visible.txt" in files and "hidden.txt" not in files
