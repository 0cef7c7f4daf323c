"""Export a model to a ZIP and import one into the caller's company (as a new, untrained model)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.documents import ZIP_ERRORS
from apps.core.exceptions import InvalidInput, PayloadTooLarge
from apps.models_registry.models import AIModel, DataSource, Intent, Slot, VocabularyEntry
from apps.models_registry.selectors import model_get
from apps.models_registry.services.content import conditions_parse
from apps.models_registry.services.models import model_save

FORMAT = "symbient-model/1"
MAX_ENTRIES = 5000
MAX_RATIO = 200  # uncompressed / compressed size of one entry; more is treated as a zip bomb
_ALLOWED = re.compile(r"(manifest|model|intents|slots|vocabulary|datasources)\.json|datasources/\d{1,5}\.txt")


def model_export(*, company: Any, actor: Any, modelid: str) -> tuple[str, bytes]:
    """(file name, ZIP bytes) with the model, its intents, slots, vocabulary and data sources' text."""
    model = model_get(company=company, modelid=modelid)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def put(name: str, value: Any) -> None:
            archive.writestr(name, json.dumps(value, ensure_ascii=False, indent=1))

        put("manifest.json", {"format": FORMAT, "exported_at": timezone.now().isoformat(), "modelid": str(model.pk)})
        put(
            "model.json",
            {
                field: getattr(model, field)
                for field in (
                    "name",
                    "description",
                    "algorithm",
                    "ispublic",
                    "isactive",
                    "tags",
                    "input",
                    "output",
                    "model_name_or_path",
                )
            },
        )
        put("intents.json", list(Intent.objects.filter(model=model).values("name", "isactive", "utterances", "answer")))
        put(
            "slots.json",
            list(
                Slot.objects.filter(model=model).values(
                    "name", "intent", "language", "description", "isrequired", "isactive", "followup", "conditions"
                )
            ),
        )
        put("vocabulary.json", list(VocabularyEntry.objects.filter(model=model).values("term", "definition")))
        sources = []
        for number, source in enumerate(DataSource.objects.filter(model=model)):
            path = f"datasources/{number}.txt"
            archive.writestr(path, source.text)
            sources.append(
                {"kind": source.kind, "url": source.url, "originalname": source.originalname,
                 "mimetype": source.mimetype, "extension": source.extension, "size": source.size, "file": path}
            )  # fmt: skip
        put("datasources.json", sources)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", model.name).strip("-") or "model"
    return f"{safe}.zip", buffer.getvalue()


def _read_archive(data: bytes) -> dict[str, bytes]:
    if len(data) > settings.REGISTRY_IMPORT_MAX_BYTES:
        raise PayloadTooLarge(f"The file is larger than the limit of {settings.REGISTRY_IMPORT_MAX_BYTES} bytes.")
    if not data.startswith(b"PK") or not zipfile.is_zipfile(io.BytesIO(data)):
        raise InvalidInput("Only zip files are supported.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise InvalidInput("The archive has too many files.")
        budget = settings.REGISTRY_IMPORT_MAX_UNCOMPRESSED
        files: dict[str, bytes] = {}
        for info in infos:
            name = info.filename
            if info.is_dir():
                continue
            if not _ALLOWED.fullmatch(name):
                raise InvalidInput(f"Unexpected file in the archive: {name[:100]!r}.")
            if info.file_size > budget or info.file_size > MAX_RATIO * max(info.compress_size, 1) + 1024:
                raise InvalidInput("The archive expands to more than is allowed (a zip bomb?).")
            with archive.open(info) as handle:
                content = handle.read(budget + 1)  # sizes in headers can lie: read no more than the budget
            if len(content) > budget:
                raise InvalidInput("The archive expands to more than is allowed (a zip bomb?).")
            budget -= len(content)
            files[name] = content
    except ZIP_ERRORS as exc:
        raise InvalidInput("The zip file is damaged or uses an unsupported format.") from exc
    return files


def _json(files: dict[str, bytes], name: str, expected: type, required: bool = True) -> Any:
    if name not in files:
        if required:
            raise InvalidInput(f"The archive has no {name}.")
        return expected()
    try:
        value = json.loads(files[name].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{name} is not valid JSON.") from exc
    if not isinstance(value, expected):
        raise InvalidInput(f"{name} has the wrong shape.")
    return value


def _text(item: dict[str, Any], key: str, default: str = "", limit: int = 10_000) -> str:
    value = item.get(key, default)
    if value is None:
        value = default
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(f"Invalid {key!r} in the archive.")
    return value


def _flag(item: dict[str, Any], key: str, default: bool) -> bool:
    value = item.get(key, default)
    if not isinstance(value, bool):
        raise InvalidInput(f"Invalid {key!r} in the archive.")
    return value


@transaction.atomic
def model_import(*, company: Any, actor: Any, data: bytes) -> AIModel:
    """Create a new model in the company from an exported ZIP; anything malformed refuses the whole file."""
    files = _read_archive(data)
    manifest = _json(files, "manifest.json", dict)
    if manifest.get("format") != FORMAT:
        raise InvalidInput(f"Unsupported archive format; expected {FORMAT}.")
    spec = _json(files, "model.json", dict)
    tags = spec.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise InvalidInput("Invalid 'tags' in the archive.")
    model = model_save(
        company=company,
        actor=actor,
        name=_text(spec, "name", limit=200),
        algorithm=_text(spec, "algorithm", limit=20),
        description=_text(spec, "description"),
        ispublic=_flag(spec, "ispublic", False),
        isactive=_flag(spec, "isactive", True),
        tags=tags,
        input=spec.get("input", []),
        output=spec.get("output", []),
        model_name_or_path=_text(spec, "model_name_or_path", limit=300) if spec.get("model_name_or_path") else None,
    )
    seen: set[str] = set()
    for item in _json(files, "intents.json", list, required=False):
        if not isinstance(item, dict):
            raise InvalidInput("intents.json has the wrong shape.")
        name = _text(item, "name", limit=200).strip()
        utterances = item.get("utterances", [])
        if (
            not name
            or name in seen
            or not isinstance(utterances, list)
            or not all(isinstance(u, str) for u in utterances)
        ):
            raise InvalidInput("intents.json has an invalid or repeated intent.")
        seen.add(name)
        Intent.objects.create(
            company=company, model=model, name=name, isactive=_flag(item, "isactive", True), utterances=utterances,
            answer=_text(item, "answer"),
        )  # fmt: skip
    slot_names: set[str] = set()
    for item in _json(files, "slots.json", list, required=False):
        if not isinstance(item, dict):
            raise InvalidInput("slots.json has the wrong shape.")
        name = _text(item, "name", limit=200).strip()
        if not name or name in slot_names:
            raise InvalidInput("slots.json has an invalid or repeated slot.")
        slot_names.add(name)
        Slot.objects.create(
            company=company, model=model, name=name, intent=_text(item, "intent", limit=200),
            language=_text(item, "language", "en", limit=10) or "en", description=_text(item, "description"),
            isrequired=_flag(item, "isrequired", False), isactive=_flag(item, "isactive", True),
            followup=_text(item, "followup"), conditions=conditions_parse(item.get("conditions", [])),
        )  # fmt: skip
    terms: set[str] = set()
    for item in _json(files, "vocabulary.json", list, required=False):
        if not isinstance(item, dict):
            raise InvalidInput("vocabulary.json has the wrong shape.")
        term = " ".join(_text(item, "term", limit=500).split())
        if term and term.lower() not in terms:
            terms.add(term.lower())
            VocabularyEntry.objects.create(
                company=company, model=model, term=term, definition=_text(item, "definition")
            )
    for item in _json(files, "datasources.json", list, required=False):
        if not isinstance(item, dict) or item.get("file") not in files or item.get("kind") not in ("url", "file"):
            raise InvalidInput("datasources.json has an invalid entry.")
        try:
            text = files[item["file"]].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{item['file']} is not UTF-8 text.") from exc
        DataSource.objects.create(
            company=company, model=model, kind=item["kind"], url=_text(item, "url", limit=2000),
            originalname=_text(item, "originalname", "document", limit=300) or "document",
            mimetype=_text(item, "mimetype", limit=120), extension=_text(item, "extension", limit=20),
            size=item.get("size") if isinstance(item.get("size"), int) and item["size"] >= 0 else len(text), text=text,
        )  # fmt: skip
    return model
