"""Data sources (URLs and uploaded documents) of llm models, and vocabulary uploads."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction

from apps.core.documents import extract_document, html_to_text
from apps.core.exceptions import InvalidInput, NotFound
from apps.core.ids import parse_uuid
from apps.core.outbound import fetch, validate_url
from apps.models_registry.models import AIModel, Algorithm, DataSource, DataSourceKind
from apps.models_registry.selectors import model_get
from apps.models_registry.services.content import MAX_TERM_LENGTH, vocabulary_add

_DEFINITION_SPLIT = re.compile(r"\s*(?:\t|:|\s[-\u2013\u2014]\s|=)\s*")


def _llm_model(company: Any, modelid: str, *, for_update: bool = False) -> AIModel:
    model = model_get(company=company, modelid=modelid, for_update=for_update)
    if model.algorithm != Algorithm.LLM:
        raise InvalidInput("Data sources belong to llm models; this model is not one.")
    return model


def _read_upload(upload: Any) -> tuple[str, bytes]:
    limit = settings.REGISTRY_UPLOAD_MAX_BYTES
    data = upload.read(limit + 1)
    return upload.name or "file", data


def datasource_save_url(*, company: Any, actor: Any, modelid: str, url: str) -> tuple[DataSource, bool]:
    """Fetch the URL and keep its text; an URL the model already has is refreshed. True when it was new."""
    _llm_model(company, modelid)
    url = validate_url(url.strip())
    result = fetch(url, max_bytes=settings.REGISTRY_UPLOAD_MAX_BYTES)
    if result.status >= 400:
        raise InvalidInput(f"The URL answered HTTP {result.status}; nothing was saved.")
    kind = result.content_type.split(";")[0].strip().lower()
    name = urlsplit(url).path.rsplit("/", 1)[-1] or urlsplit(url).hostname or url
    if kind in ("text/html", "application/xhtml+xml") or (not kind and b"<html" in result.body[:2000].lower()):
        title, text = html_to_text(result.text())
        extension, mimetype, name = ".html", "text/html", title or name
    else:
        extracted = extract_document(name, result.body, max_bytes=settings.REGISTRY_UPLOAD_MAX_BYTES)
        text, extension, mimetype = extracted.text, extracted.extension, extracted.mimetype
    if not text:
        raise InvalidInput("No text could be found at that URL; nothing was saved.")
    with transaction.atomic():
        model = _llm_model(company, modelid, for_update=True)
        source = DataSource.objects.for_company(company).filter(model=model, kind=DataSourceKind.URL, url=url).first()
        created = source is None
        if source is None:
            source = DataSource(company=company, model=model, kind=DataSourceKind.URL, url=url)
        source.originalname = name[:300]
        source.mimetype = mimetype
        source.extension = extension
        source.size = len(result.body)
        source.text = text
        source.save()
    return source, created


def datasources_upload(*, company: Any, actor: Any, modelid: str, files: list[Any]) -> list[DataSource]:
    """Keep the text of each uploaded document; one bad file refuses the whole request (nothing saved)."""
    _llm_model(company, modelid)
    if len(files) > settings.REGISTRY_UPLOAD_MAX_FILES:
        raise InvalidInput(f"At most {settings.REGISTRY_UPLOAD_MAX_FILES} files per request.")
    extracted = []
    for upload in files:
        name, data = _read_upload(upload)
        extracted.append((name, len(data), extract_document(name, data, max_bytes=settings.REGISTRY_UPLOAD_MAX_BYTES)))
    with transaction.atomic():
        model = _llm_model(company, modelid, for_update=True)
        return [
            DataSource.objects.create(
                company=company,
                model=model,
                kind=DataSourceKind.FILE,
                originalname=name[:300],
                mimetype=document.mimetype,
                extension=document.extension,
                size=size,
                text=document.text,
            )
            for name, size, document in extracted
        ]


@transaction.atomic
def datasource_delete(*, company: Any, actor: Any, modelid: str, sourceid: str) -> None:
    """Remove a data source for good (its text leaves the next trained index)."""
    model = model_get(company=company, modelid=modelid)
    pk = parse_uuid(sourceid)
    deleted = DataSource.objects.for_company(company).filter(model=model, pk=pk).delete()[0] if pk else 0
    if not deleted:
        raise NotFound("Data source not found.")


def vocabulary_lines(text: str) -> list[tuple[str, str]]:
    """One entry per line: `term: definition` (also tab, ` - ` or `=` between them) or a bare term."""
    entries: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.strip().lstrip("-*\u2022 ").strip()
        if not line:
            continue
        parts = _DEFINITION_SPLIT.split(line, maxsplit=1)
        term, definition = (parts[0], parts[1]) if len(parts) == 2 and parts[0] else (line, "")
        if len(term) <= MAX_TERM_LENGTH:
            entries.append((term, definition))
    return entries


def vocabulary_upload(*, company: Any, actor: Any, modelid: str, files: list[Any]) -> tuple[int, int]:
    """Add the entries of uploaded documents (one per line) that the model does not have; (added, lines)."""
    model_get(company=company, modelid=modelid)
    if len(files) > settings.REGISTRY_UPLOAD_MAX_FILES:
        raise InvalidInput(f"At most {settings.REGISTRY_UPLOAD_MAX_FILES} files per request.")
    entries: list[tuple[str, str]] = []
    for upload in files:
        name, data = _read_upload(upload)
        document = extract_document(name, data, max_bytes=settings.REGISTRY_UPLOAD_MAX_BYTES)
        lines = vocabulary_lines(document.text)
        if not lines:
            raise InvalidInput(f"{name}: no vocabulary lines were found.")
        entries.extend(lines)
    with transaction.atomic():
        model = model_get(company=company, modelid=modelid, for_update=True)
        return vocabulary_add(model=model, entries=entries), len(entries)
