"""Operators that compute: `condition` (branch on an expression) and `transform` (build a JSON value)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings as django_settings

from apps.automations.engine import templates
from apps.automations.engine.operators.base import Outcome, Step


class BuiltinOperator:
    """Defaults for the built-in operators."""

    type: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    required: ClassVar[tuple[str, ...]] = ()
    optional: ClassVar[tuple[str, ...]] = ()
    templated: ClassVar[tuple[str, ...]] = ()
    pure: ClassVar[bool] = False

    def check(self, settings: dict[str, Any]) -> None:
        return None

    def check_company(self, settings: dict[str, Any], company: Any) -> None:
        return None

    def default_timeout(self, settings: dict[str, Any]) -> float:
        return float(django_settings.AUTOMATION_OPERATOR_TIMEOUT_SECONDS)


def summarize(value: Any, limit: int = 200) -> str:
    text = templates.json_value_text(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ConditionOperator(BuiltinOperator):
    type = "condition"
    summary = (
        "Evaluates `expression` (a template expression, without braces, e.g. `input.total > 100`) and takes "
        'the outgoing edges whose `when` is "true" or "false" accordingly (edges without `when` always).'
    )
    required = ("expression",)
    pure = True

    def check(self, settings: dict[str, Any]) -> None:
        expression = settings["expression"]
        if not isinstance(expression, str) or not expression.strip():
            raise ValueError("the setting 'expression' must be a non-empty expression")
        try:
            templates.check_expression(expression)
        except templates.TemplateFailure as exc:
            raise ValueError(f"the expression does not parse: {exc}") from exc

    def run(self, step: Step) -> Outcome:
        value = bool(step.evaluate(step.settings["expression"]))
        branch = "true" if value else "false"
        return Outcome(
            output={"value": value}, result=branch, input={"expression": step.settings["expression"]}, branch=branch
        )


class TransformOperator(BuiltinOperator):
    type = "transform"
    summary = (
        "Builds `value`, any JSON value whose strings are templates; a string that is exactly one "
        "`{{ expression }}` keeps the expression's type (a list stays a list). The output is the built value."
    )
    required = ("value",)
    templated = ("value",)
    pure = True

    def run(self, step: Step) -> Outcome:
        value = step.render(step.settings["value"])
        return Outcome(output=value, result=summarize(value), input={"value": step.settings["value"]})
