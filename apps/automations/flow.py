"""The flow: a JSON graph of operator nodes and edges, checked on save and ordered for a run.

```
{"nodes": [{"id": "check", "type": "condition", "name": "Big order?", "description": "",
            "settings": {"expression": "input.total > 100"}, "timeout": 10, "continue_on_error": false}],
 "edges": [{"from": "check", "to": "notify", "when": "true"}],
 "sample_input": {"total": 120}, "time_limit": 300}
```
A node runs once every node before it is decided, when at least one incoming edge is taken (an
edge is taken when its source ran, succeeded or continued on error, and — for a condition's edge
with `when` — the condition went that way). Nodes without incoming edges start the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from apps.automations.engine import operators, templates

NODE_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
NODE_KEYS = {"id", "type", "name", "description", "settings", "timeout", "continue_on_error", "meta"}
EDGE_KEYS = {"from", "to", "when", "meta"}
FLOW_KEYS = {"nodes", "edges", "sample_input", "time_limit", "meta"}
WHEN_VALUES = ("true", "false")


class FlowInvalid(ValueError):
    """The flow is not valid; the message names the node or edge."""


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    name: str
    description: str
    settings: dict[str, Any]
    timeout: float
    continue_on_error: bool


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    when: str | None


@dataclass
class Flow:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    sample_input: Any = None
    time_limit: float | None = None

    def incoming(self, node_id: str) -> list[Edge]:
        return [edge for edge in self.edges if edge.target == node_id]


def _fail(message: str) -> FlowInvalid:
    return FlowInvalid(f"Invalid flow: {message}")


def _node(raw: Any, index: int) -> Node:
    if not isinstance(raw, dict):
        raise _fail(f"node {index + 1} must be an object.")
    node_id = raw.get("id")
    if not isinstance(node_id, str) or not NODE_ID.match(node_id):
        raise _fail(
            f"node {index + 1} needs an `id` of letters, digits, '_' or '-' (starting with a letter or '_', "
            "at most 64 characters)."
        )
    unknown = set(raw) - NODE_KEYS
    if unknown:
        raise _fail(f"node '{node_id}' has unknown keys: {', '.join(sorted(unknown))}.")
    op_type = raw.get("type")
    operator = operators.get(op_type) if isinstance(op_type, str) else None
    if operator is None or not isinstance(op_type, str):
        raise _fail(
            f"node '{node_id}' has an unknown operator {op_type!r}. Known operators: {', '.join(operators.types())}."
        )
    node_settings = raw.get("settings", {})
    if not isinstance(node_settings, dict):
        raise _fail(f"node '{node_id}' ({op_type}): `settings` must be an object.")
    for name in operator.required:
        if name not in node_settings or node_settings[name] is None:
            raise _fail(f"node '{node_id}' ({op_type}) is missing the setting '{name}'.")
    allowed = set(operator.required) | set(operator.optional)
    unknown = set(node_settings) - allowed
    if unknown:
        raise _fail(f"node '{node_id}' ({op_type}) has unknown settings: {', '.join(sorted(unknown))}.")
    try:
        operator.check(node_settings)
        for name in operator.templated:
            if name in node_settings:
                templates.check_value(node_settings[name])
    except templates.TemplateFailure as exc:
        raise _fail(f"node '{node_id}' ({op_type}): a template does not parse: {exc}") from exc
    except ValueError as exc:
        raise _fail(f"node '{node_id}' ({op_type}): {exc}.") from exc
    timeout = raw.get("timeout", operator.default_timeout(node_settings))
    maximum = settings.AUTOMATION_OPERATOR_MAX_TIMEOUT_SECONDS
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= maximum:
        raise _fail(f"node '{node_id}' ({op_type}): `timeout` must be a number of seconds above 0, at most {maximum}.")
    continue_on_error = raw.get("continue_on_error", False)
    if not isinstance(continue_on_error, bool):
        raise _fail(f"node '{node_id}' ({op_type}): `continue_on_error` must be true or false.")
    for key in ("name", "description"):
        if key in raw and not isinstance(raw[key], str):
            raise _fail(f"node '{node_id}' ({op_type}): `{key}` must be a string.")
    return Node(
        id=node_id,
        type=op_type,
        name=(raw.get("name") or node_id)[:200],
        description=(raw.get("description") or "")[:2000],
        settings=node_settings,
        timeout=float(timeout),
        continue_on_error=continue_on_error,
    )


def _edge(raw: Any, index: int, nodes: dict[str, Node]) -> Edge:
    if not isinstance(raw, dict):
        raise _fail(f"edge {index + 1} must be an object.")
    unknown = set(raw) - EDGE_KEYS
    if unknown:
        raise _fail(f"edge {index + 1} has unknown keys: {', '.join(sorted(unknown))}.")
    source, target = raw.get("from"), raw.get("to")
    for end, value in (("from", source), ("to", target)):
        if not isinstance(value, str) or value not in nodes:
            raise _fail(f"edge {index + 1} has `{end}` {value!r}, which is not a node of the flow.")
    when = raw.get("when")
    if isinstance(when, bool):
        when = "true" if when else "false"
    if when is not None:
        if when not in WHEN_VALUES:
            raise _fail(f'edge {index + 1} from \'{source}\': `when` must be "true" or "false".')
        if nodes[source].type != "condition":  # type: ignore[index]
            raise _fail(f"edge {index + 1} from '{source}' has `when`, but only condition nodes branch.")
    return Edge(source=source, target=target, when=when)  # type: ignore[arg-type]


def _ordered(nodes: list[Node], edges: list[Edge]) -> list[Node]:
    """Nodes in an order where each comes after every node with an edge to it (stable by position)."""
    position = {node.id: index for index, node in enumerate(nodes)}
    indegree = {node.id: 0 for node in nodes}
    outgoing: dict[str, list[str]] = {node.id: [] for node in nodes}
    for edge in edges:
        indegree[edge.target] += 1
        outgoing[edge.source].append(edge.target)
    ready = sorted((nid for nid, degree in indegree.items() if degree == 0), key=position.__getitem__)
    order: list[str] = []
    while ready:
        current = ready.pop(0)
        order.append(current)
        for target in outgoing[current]:
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
                ready.sort(key=position.__getitem__)
    if len(order) < len(nodes):
        raise _fail(f"the flow has a cycle through {_cycle(nodes, edges, set(order))}.")
    by_id = {node.id: node for node in nodes}
    return [by_id[nid] for nid in order]


def _cycle(nodes: list[Node], edges: list[Edge], done: set[str]) -> str:
    """A readable cycle among the nodes that could not be ordered: 'a' → 'b' → 'a'."""
    successors = {node.id: [e.target for e in edges if e.source == node.id and e.target not in done] for node in nodes}
    start = next(node.id for node in nodes if node.id not in done)
    path, seen = [start], {start: 0}
    current = start
    while True:
        current = successors[current][0]
        if current in seen:
            loop = [*path[seen[current] :], current]
            return " → ".join(f"'{nid}'" for nid in loop)
        seen[current] = len(path)
        path.append(current)


def parse_flow(raw: Any) -> Flow:
    """Check a flow as stored or sent; nodes come back in run order."""
    if raw is None or raw == {}:
        return Flow()
    if not isinstance(raw, dict):
        raise _fail("it must be a JSON object with `nodes` and `edges`.")
    unknown = set(raw) - FLOW_KEYS
    if unknown:
        raise _fail(f"unknown keys: {', '.join(sorted(unknown))}.")
    raw_nodes = raw.get("nodes", [])
    raw_edges = raw.get("edges", [])
    if not isinstance(raw_nodes, list) or not isinstance(raw_edges, list):
        raise _fail("`nodes` and `edges` must be lists.")
    if len(raw_nodes) > settings.AUTOMATION_MAX_NODES:
        raise _fail(f"at most {settings.AUTOMATION_MAX_NODES} nodes are allowed.")
    nodes: dict[str, Node] = {}
    for index, item in enumerate(raw_nodes):
        node = _node(item, index)
        if node.id in nodes:
            raise _fail(f"the node id '{node.id}' is used twice.")
        nodes[node.id] = node
    edges = [_edge(item, index, nodes) for index, item in enumerate(raw_edges)]
    time_limit = raw.get("time_limit")
    maximum = settings.AUTOMATION_RUN_MAX_TIME_LIMIT_SECONDS
    if time_limit is not None and (
        isinstance(time_limit, bool) or not isinstance(time_limit, int | float) or not 0 < time_limit <= maximum
    ):
        raise _fail(f"`time_limit` must be a number of seconds above 0, at most {maximum}.")
    return Flow(
        nodes=_ordered(list(nodes.values()), edges),
        edges=edges,
        sample_input=raw.get("sample_input"),
        time_limit=float(time_limit) if time_limit is not None else None,
    )


def flow_check_company(flow: Flow, company: Any) -> None:
    """Check what the flow's settings name in the company (models): a clear error naming the node."""
    for node in flow.nodes:
        operator = operators.get(node.type)
        if operator is None:
            continue
        try:
            operator.check_company(node.settings, company)
        except ValueError as exc:
            raise _fail(f"node '{node.id}' ({node.type}): {exc}.") from exc
