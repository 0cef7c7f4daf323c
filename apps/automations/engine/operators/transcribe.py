"""The `transcribe` operator: speech to text with an asr model, from an audio URL or a transcript's stored audio."""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings

from apps.automations.engine.limits import time_limit
from apps.automations.engine.operators.base import OperatorFailed, Outcome, Step
from apps.automations.engine.operators.logic import BuiltinOperator, summarize
from apps.automations.engine.principal import AutomationPrincipal
from apps.core import outbound
from apps.core.exceptions import ApplicationError
from apps.core.ids import parse_uuid
from apps.models_registry.services.speech import asr_model_get, model_transcribe
from apps.transcripts.services import transcript_get_visible

SOURCES = ("url", "transcriptid")
DEFAULT_TIMEOUT_SECONDS = 120.0


def _transcript_audio(company: Any, transcript_id: str) -> bytes:
    """The stored recording of a transcript of the company."""
    try:
        transcript = transcript_get_visible(principal=AutomationPrincipal(company), transcriptid=transcript_id)
    except ApplicationError as exc:
        raise OperatorFailed(f"Transcript not found ({transcript_id or 'no id'}).") from exc
    if not transcript.audio:
        raise OperatorFailed(f"The transcript {transcript_id} has no stored audio.")
    with transcript.audio.open("rb") as stored:
        return bytes(stored.read())


class TranscribeOperator(BuiltinOperator):
    type = "transcribe"
    summary = (
        "Transcribes a recording (wav, mp3, flac or ogg) given by `url` (an audio URL, fetched with the same "
        "private-address guard as http_request) or by `transcriptid` (a transcript of your group with stored "
        "audio); one of the two, both templates. `modelid` is a trained asr model of your group (default: the "
        "deployed asr model, else the default engine); `language` (a template, ISO 639-1) skips detection. "
        "The output is `{text, language, duration, engine, segments}`."
    )
    optional = ("url", "transcriptid", "modelid", "language")
    templated = ("url", "transcriptid", "language")

    def check(self, settings: dict[str, Any]) -> None:
        given = [name for name in SOURCES if settings.get(name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of the settings 'url' and 'transcriptid'")
        for name in (*SOURCES, "language"):
            if name in settings and (not isinstance(settings[name], str) or not settings[name].strip()):
                raise ValueError(f"the setting '{name}' must be a non-empty template")
        if "modelid" in settings and parse_uuid(settings["modelid"]) is None:
            raise ValueError("the setting 'modelid' must be the id of an asr model")

    def check_company(self, settings: dict[str, Any], company: Any) -> None:
        if "modelid" not in settings:
            return
        try:
            asr_model_get(company=company, modelid=settings["modelid"])
        except ApplicationError as exc:
            raise ValueError(f"the setting 'modelid' is not an asr model of your group: {exc.message}") from exc

    def default_timeout(self, settings: dict[str, Any]) -> float:
        return max(DEFAULT_TIMEOUT_SECONDS, float(django_settings.AUTOMATION_OPERATOR_TIMEOUT_SECONDS))

    def _audio(self, step: Step, used: dict[str, Any]) -> bytes:
        if "url" in step.settings:
            url = used["url"] = step.render_text(step.settings["url"]).strip()
            try:
                response = outbound.fetch(
                    url, timeout=max(step.remaining(), 0.1), max_bytes=django_settings.ASR_AUDIO_MAX_BYTES
                )
            except ApplicationError as exc:
                raise OperatorFailed(f"{url}: {exc.message}", input=used) from exc
            if response.status >= 400:
                raise OperatorFailed(f"GET {url} answered {response.status}.", input=used)
            return response.body
        transcript_id = used["transcriptid"] = step.render_text(step.settings["transcriptid"]).strip()
        try:
            return _transcript_audio(step.company, transcript_id)
        except OperatorFailed as exc:
            exc.input = used
            raise

    def run(self, step: Step) -> Outcome:
        modelid = step.settings.get("modelid")
        language = step.render_text(step.settings["language"]).strip() if "language" in step.settings else None
        used: dict[str, Any] = {"modelid": modelid, "language": language}
        data = self._audio(step, used)
        used["bytes"] = len(data)
        try:
            with time_limit(step.remaining()):
                heard = model_transcribe(company=step.company, modelid=modelid, data=data, language=language)
        except ApplicationError as exc:
            raise OperatorFailed(exc.message, input=used) from exc
        output = {"text": heard.text, **heard.as_json()}
        return Outcome(output=output, result=summarize(heard.text) or "Nothing was heard.", input=used)
