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
from apps.automations.engine.operators.delay import DelayOperator
from apps.automations.engine.operators.email import EmailOperator
from apps.automations.engine.operators.http import HttpRequestOperator
from apps.automations.engine.operators.logic import ConditionOperator, TransformOperator
from apps.automations.engine.operators.note import NoteOperator


def register_builtins() -> None:
    """Register the operators this app ships; other apps register theirs (llm, classify, ...) alike."""
    builtins: tuple[Operator, ...] = (
        ConditionOperator(),
        TransformOperator(),
        DelayOperator(),
        HttpRequestOperator(),
        NoteOperator(),
        EmailOperator(),
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
