"""The operators of the flow engine: the Protocol and registry in `base`, the built-in operators here."""

from apps.automations.engine.operators.base import (
    Operator,
    OperatorFailed,
    Outcome,
    Step,
    all_operators,
    get,
    register,
    types,
)
from apps.automations.engine.operators.classify import ClassifyOperator
from apps.automations.engine.operators.delay import DelayOperator
from apps.automations.engine.operators.email import EmailOperator
from apps.automations.engine.operators.http import HttpRequestOperator
from apps.automations.engine.operators.llm import LlmOperator
from apps.automations.engine.operators.logic import ConditionOperator, TransformOperator
from apps.automations.engine.operators.note import NoteOperator
from apps.automations.engine.operators.transcribe import TranscribeOperator


def register_builtins() -> None:
    """Register the operators this app ships; another app adds its own with `register()` in its ready()."""
    builtins: tuple[Operator, ...] = (
        ConditionOperator(),
        TransformOperator(),
        DelayOperator(),
        HttpRequestOperator(),
        NoteOperator(),
        EmailOperator(),
        LlmOperator(),
        ClassifyOperator(),
        TranscribeOperator(),
    )
    for operator in builtins:
        register(operator)


__all__ = [
    "Operator",
    "OperatorFailed",
    "Outcome",
    "Step",
    "all_operators",
    "get",
    "register",
    "register_builtins",
    "types",
]
