"""Factories for providers and chats."""

from __future__ import annotations

from typing import Any

from apps.models_registry.providers.models import LLMProvider
from apps.models_registry.providers.services import provider_create


def make_provider(
    company: Any, url: str, *, name: str = "acme", api_key: str = "sk-company-key-0001", **kw: Any
) -> LLMProvider:
    """A provider of `company` pointing at `url`, through the service (so the key is encrypted)."""
    return provider_create(company=company, actor=None, name=name, api_endpoint=url, api_key=api_key, **kw)


def pdf_bytes(*pages: str) -> bytes:
    """A small PDF with one page per text (Helvetica, one line each)."""
    import io

    count = len(pages)
    page_ids = [3 + 2 * i for i in range(count)]
    font_id = 3 + 2 * count
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b" ".join(f"{p} 0 R".encode() for p in page_ids) + b"] /Count "
        + str(count).encode() + b" >>",
    ]  # fmt: skip
    for index, text in enumerate(pages):
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {page_ids[index] + 1} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
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


def chat_with_turns(company: Any, user: Any, *turns: str, model: str = "builtin.assistant", **kw: Any) -> Any:
    """A chat of `user` with alternating user/assistant turns, through the service."""
    from apps.chat.services import chat_new

    roles = ("user", "assistant")
    messages = [{"role": roles[i % 2], "content": text} for i, text in enumerate(turns)]
    return chat_new(company=company, user=user, model=model, messages=messages, **kw)


def key_only(tenant: Any) -> Any:
    """A client of the tenant chat API: the company's `X-API-Key` alone."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_X_API_KEY=tenant.apikey)
    return client
