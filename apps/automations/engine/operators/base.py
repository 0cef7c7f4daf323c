"""What an operator is, what it gets to work with, and the registry operators plug into.

An operator is a small object with a `type`, the settings it needs, a `check` run when a flow is
saved, and a `run` that gets a `Step` and returns an `Outcome` (or raises `OperatorFailed`).
Apps add operators by calling `register()` in their `AppConfig.ready()`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from apps.automations.engine import templates


class OperatorFailed(Exception):
    """The operator could not do its work; the message goes into the run's history (with the input used)."""

    def __init__(self, message: str, *, input: Any = None, output: Any = None) -> None:
        super().__init__(message)
        self.input = input
        self.output = output


@dataclass
class Outcome:
    """What an operator did: its output (JSON), a one-line result, the input it used, a branch."""

    output: Any
    result: str
    input: Any = None
    branch: str | None = None


@dataclass
class Step:
    """One operator's run: its settings, the scope templates see, and the time it has."""

    node_id: str
    name: str
    settings: dict[str, Any]
    scope: dict[str, Any]
    deadline: float  # time.monotonic() by which the operator must be done
    company: Any
    automation_id: Any
    automation_name: str
    run_id: Any
    is_cancelled: Callable[[], bool] = field(default=lambda: False)

    def remaining(self) -> float:
        """Seconds left before the operator's time limit."""
        return self.deadline - time.monotonic()

    def render(self, value: Any) -> Any:
        """Render the templates in a settings value (strings, lists and objects)."""
        return templates.render_value(value, self.scope, deadline=self.deadline)

    def render_text(self, value: Any) -> str:
        """Render a template to text."""
        rendered = self.render(value)
        return rendered if isinstance(rendered, str) else templates.json_value_text(rendered)

    def evaluate(self, expression: str) -> Any:
        """The value of a template expression."""
        return templates.evaluate(expression, self.scope, deadline=self.deadline)


class Operator(Protocol):
    """An operator type of the flow engine."""

    @property
    def type(self) -> str:
        """The name flows use for it."""

    @property
    def summary(self) -> str:
        """What it does, for the API's documentation."""

    @property
    def required(self) -> tuple[str, ...]:
        """Settings it needs."""

    @property
    def optional(self) -> tuple[str, ...]:
        """Settings it may have."""

    @property
    def templated(self) -> tuple[str, ...]:
        """Settings that are templates (checked on save); the rest are plain values."""

    @property
    def pure(self) -> bool:
        """True when running it again has no effect outside the run (no request, mail or write), so the
        runner need not save progress before it."""

    def check(self, settings: dict[str, Any]) -> None:
        """Refuse bad settings with ValueError (the message names the setting)."""

    def check_company(self, settings: dict[str, Any], company: Any) -> None:
        """Refuse settings naming what the company does not have (a model), with ValueError; run on save."""

    def default_timeout(self, settings: dict[str, Any]) -> float:
        """Seconds the operator may take when the node does not say."""

    def run(self, step: Step) -> Outcome:
        """Do the work."""


_REGISTRY: dict[str, Operator] = {}


def register(operator: Operator) -> None:
    """Make an operator type available to flows."""
    _REGISTRY[operator.type] = operator


def get(operator_type: str) -> Operator | None:
    return _REGISTRY.get(operator_type)


def types() -> list[str]:
    return sorted(_REGISTRY)


def all_operators() -> list[Operator]:
    return [_REGISTRY[name] for name in types()]
