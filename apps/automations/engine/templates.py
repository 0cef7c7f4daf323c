"""Templates in flows: Jinja2 in its immutable sandbox, with the trigger input and earlier results.

The sandbox refuses attribute access to Python internals (`__class__`, `mro`, functions' globals)
and calls of unsafe callables; the immutable variant also refuses changing the input and results
in place. A string that is exactly one `{{ expression }}` evaluates to the expression's value
(a list stays a list); any other string renders to text.
"""

from __future__ import annotations

import json
import math
import re
import time
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from apps.automations.engine.limits import time_limit

_SINGLE_EXPRESSION = re.compile(r"^\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}$", re.DOTALL)
MAX_RENDERED_CHARS = 1_000_000


class TemplateFailure(Exception):
    """A template could not be parsed or rendered; the message says why."""


def _tojson(value: Any) -> str:
    return json.dumps(json_value(value), ensure_ascii=False)


class FlowSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, where `input.items` means the key `items` of a JSON object before the dict method."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


_env = FlowSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_env.filters["tojson"] = _tojson
_env.filters["fromjson"] = json.loads


@lru_cache(maxsize=1024)
def _compiled_template(source: str) -> Any:
    return _env.from_string(source)


@lru_cache(maxsize=1024)
def _compiled_expression(source: str) -> Any:
    return _env.compile_expression(source, undefined_to_none=False)


def _describe(exc: Exception) -> str:
    if isinstance(exc, TemplateError) and getattr(exc, "lineno", None) and getattr(exc, "message", None):
        return f"{exc.message} (line {exc.lineno})"  # type: ignore[attr-defined]
    return str(exc) or exc.__class__.__name__


def check_template(source: str) -> None:
    """Parse a template (or a single-expression string) now, so a flow with a broken one is refused on save."""
    try:
        match = _SINGLE_EXPRESSION.match(source)
        if match:
            _compiled_expression(match.group("expr"))
        elif "{{" in source or "{%" in source or "{#" in source:
            _compiled_template(source)
    except TemplateError as exc:
        raise TemplateFailure(_describe(exc)) from exc


def check_expression(source: str) -> None:
    """Parse an expression now (condition settings)."""
    try:
        _env.parse("{{ " + source + " }}")
        _compiled_expression(source)
    except TemplateError as exc:
        raise TemplateFailure(_describe(exc)) from exc


def json_value(value: Any) -> Any:
    """A value made of JSON types only (what results and outputs are stored as)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset | range):
        return [json_value(item) for item in value]
    return str(value)


def _left(deadline: float) -> float:
    return deadline - time.monotonic()


def render_text(source: str, scope: dict[str, Any], *, deadline: float) -> str:
    """Render a template to text, by `deadline` (a time.monotonic() value)."""
    if "{{" not in source and "{%" not in source and "{#" not in source:
        return source
    try:
        with time_limit(_left(deadline)):
            text = _compiled_template(source).render(scope)
    except TemplateError as exc:
        raise TemplateFailure(_describe(exc)) from exc
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateFailure(f"{exc.__class__.__name__}: {exc}") from exc
    if len(text) > MAX_RENDERED_CHARS:
        raise TemplateFailure(f"The rendered text is longer than {MAX_RENDERED_CHARS} characters.")
    return str(text)


def evaluate(expression: str, scope: dict[str, Any], *, deadline: float) -> Any:
    """The value of an expression, by `deadline`; an undefined name is an error."""
    try:
        with time_limit(_left(deadline)):
            value = _compiled_expression(expression)(**scope)
            return json_value(value)
    except TemplateError as exc:
        raise TemplateFailure(_describe(exc)) from exc
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateFailure(f"{exc.__class__.__name__}: {exc}") from exc


def render_value(value: Any, scope: dict[str, Any], *, deadline: float) -> Any:
    """Render every string in a JSON value; a string that is one `{{ expression }}` keeps the value's type."""
    if isinstance(value, str):
        match = _SINGLE_EXPRESSION.match(value)
        if match:
            return evaluate(match.group("expr"), scope, deadline=deadline)
        return render_text(value, scope, deadline=deadline)
    if isinstance(value, dict):
        return {key: render_value(item, scope, deadline=deadline) for key, item in value.items()}
    if isinstance(value, list):
        return [render_value(item, scope, deadline=deadline) for item in value]
    return value


def check_value(value: Any) -> None:
    """Parse every template in a JSON value."""
    if isinstance(value, str):
        check_template(value)
    elif isinstance(value, dict):
        for item in value.values():
            check_value(item)
    elif isinstance(value, list):
        for item in value:
            check_value(item)


__all__ = [
    "TemplateFailure",
    "check_expression",
    "check_template",
    "check_value",
    "evaluate",
    "json_value",
    "render_text",
    "render_value",
]


def json_value_text(value: Any) -> str:
    """A rendered value as text: strings as they are, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(json_value(value), ensure_ascii=False, separators=(",", ":"))
