"""The `classify` operator: a sentence through a natural-bayes model of the company's registry."""

from __future__ import annotations

from typing import Any

from apps.automations.engine.limits import time_limit
from apps.automations.engine.operators.base import OperatorFailed, Outcome, Step
from apps.automations.engine.operators.logic import BuiltinOperator
from apps.core.exceptions import ApplicationError
from apps.core.ids import parse_uuid
from apps.models_registry.models import Algorithm
from apps.models_registry.selectors import model_get
from apps.models_registry.services.inference import model_test


class ClassifyOperator(BuiltinOperator):
    type = "classify"
    summary = (
        "Classifies `text` (a template) with `modelid`, a trained natural-bayes model of your group. The "
        "output is the model's answer as model/test gives it: `intent`, `score`, `entities`, `language`, "
        "`sentiment`, `response`, `classifications`, ..."
    )
    required = ("modelid", "text")
    templated = ("text",)

    def check(self, settings: dict[str, Any]) -> None:
        if parse_uuid(settings["modelid"]) is None:
            raise ValueError("the setting 'modelid' must be the id of a natural-bayes model")
        if not isinstance(settings["text"], str) or not settings["text"].strip():
            raise ValueError("the setting 'text' must be a non-empty template")

    def check_company(self, settings: dict[str, Any], company: Any) -> None:
        try:
            model = model_get(company=company, modelid=settings["modelid"])
        except ApplicationError as exc:
            raise ValueError(f"the setting 'modelid': {exc.message}") from exc
        if model.algorithm != Algorithm.NATURAL_BAYES:
            raise ValueError(f"the model '{model.name}' is a {model.algorithm} model, not a natural-bayes one")

    def run(self, step: Step) -> Outcome:
        modelid = str(step.settings["modelid"])
        text = step.render_text(step.settings["text"])
        used = {"modelid": modelid, "text": text}
        try:
            model = model_get(company=step.company, modelid=modelid)
            if model.algorithm != Algorithm.NATURAL_BAYES:
                raise OperatorFailed(f"The model '{model.name}' is not a natural-bayes model.", input=used)
            with time_limit(step.remaining()):
                output = model_test(company=step.company, actor=None, modelid=modelid, input=text)
        except ApplicationError as exc:
            raise OperatorFailed(f"{exc.message} ({modelid})", input=used) from exc
        intent = output.get("intent")
        result = f"{intent} ({output.get('score')})" if intent else "No intent recognised."
        return Outcome(output=output, result=result, input=used)
