"""Executes a run: claim it, run its operators in order with checkpoints, finish it exactly once.

A run row is the job's state. A worker claims it by setting a fresh `lease_token` (under a row
lock) when no live lease exists; before each operator it extends the lease by that operator's
time limit plus a grace period and saves the history so far, and it finishes the run with an
update conditional on its token. A worker that dies leaves a lease that expires; the next
delivery (the broker's, a retry, or the recovery sweep) claims the run and resumes after the last
saved operator. An operator in flight when its worker died runs again (at least once), the run
completes once. A cancelled run fails every later conditional update, so its worker stops.

Pure operators (transform, condition: nothing happens outside the run) are not preceded by a
save while the lease still covers their time limit: the claim's lease covers the longest of
them, so a flow of pure operators costs one write to claim and one to finish.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.automations.engine import operators, templates
from apps.automations.engine.limits import OperatorTimeout
from apps.automations.flow import Flow, FlowInvalid, Node, parse_flow
from apps.automations.models import AutomationEvent, AutomationRun
from apps.automations.progress import run_progress_send

logger = logging.getLogger(__name__)

RUNNING = AutomationRun.Status.RUNNING
SUCCESS, FAILED = "Success", "Failed"


class RunBusy(Exception):
    """Another worker holds the run's lease; try again in `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"run leased for {seconds:.1f} s more")
        self.seconds = seconds


def _grace() -> timedelta:
    return timedelta(seconds=settings.AUTOMATION_LEASE_GRACE_SECONDS)


def _claim(run_id: Any) -> tuple[AutomationRun, str] | None:
    """Take the run's lease; None when the run is finished (or unknown), RunBusy when another worker has it.

    The lease first covers the longest pure operator of the flow (see the module's docstring). The
    conditional update is the claim: of two workers reading the same free run, one updates it.
    """
    # A job is addressed by id alone: it is the row's own state that it works on.
    run = AutomationRun.objects.select_related("automation", "company").filter(pk=run_id).first()
    if run is None or run.status != RUNNING:
        return None
    now = timezone.now()
    if run.lease_token and run.lease_until and run.lease_until > now:
        raise RunBusy((run.lease_until - now).total_seconds())
    token = uuid.uuid4().hex
    lease = min(now + _grace() + timedelta(seconds=_longest_pure_timeout(run.flow)), run.deadline + _grace())
    claimed = (
        AutomationRun.objects.filter(pk=run.pk, status=RUNNING, lease_token=run.lease_token)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
        .update(lease_token=token, lease_until=lease, attempts=F("attempts") + 1, updated_at=now)
    )
    if not claimed:
        _claim_lost(run_id)
        return None
    run.lease_token, run.lease_until, run.attempts = token, lease, run.attempts + 1
    return run, token


def _claim_lost(run_id: Any) -> None:
    """Another worker claimed the run between our read and our update."""
    current = AutomationRun.objects.filter(pk=run_id).values("status", "lease_until").first()
    if current is None or current["status"] != RUNNING:
        return None
    remaining = (current["lease_until"] - timezone.now()).total_seconds() if current["lease_until"] else 1.0
    raise RunBusy(max(remaining, 1.0))


def _longest_pure_timeout(raw_flow: Any) -> float:
    try:
        nodes = parse_flow(raw_flow).nodes
    except FlowInvalid:
        return 0.0
    return max((node.timeout for node in nodes if _is_pure(node)), default=0.0)


def _is_pure(node: Node) -> bool:
    operator = operators.get(node.type)
    return bool(operator is not None and operator.pure)


def _progress(run: AutomationRun, token: str, history: list[dict[str, Any]], node_id: str, lease: float) -> bool:
    """Save the history so far and extend the lease for the next operator; False when the run is no longer ours."""
    now = timezone.now()
    updated = AutomationRun.objects.filter(pk=run.pk, status=RUNNING, lease_token=token).update(
        operator_history=history,
        current_node=node_id,
        lease_until=now + timedelta(seconds=lease) + _grace(),
        updated_at=now,
    )
    return bool(updated)


def _finish(
    run: AutomationRun, token: str, status: str, explanation: str, history: list[dict[str, Any]], progress: int
) -> bool:
    """The run's one final transition, pushed to the company's sockets; False when it was already finished or
    taken over."""
    now = timezone.now()
    with transaction.atomic():
        updated = AutomationRun.objects.filter(pk=run.pk, status=RUNNING, lease_token=token).update(
            status=status,
            explanation=explanation,
            ended_at=now,
            operator_history=history,
            current_node="",
            lease_token="",
            lease_until=None,
            updated_at=now,
        )
        if updated:
            seconds = (now - run.started_at).total_seconds()
            summary = f"{run.get_mode_display().capitalize()} run {status.lower()} in {seconds:.2f} s"
            if status != AutomationRun.Status.COMPLETED:
                summary += f": {explanation}"
            AutomationEvent.objects.create(
                company_id=run.company_id,
                automation_id=run.automation_id,
                kind=AutomationEvent.Kind.RUN,
                event=summary[:500],
            )
    if updated:
        completed = status == AutomationRun.Status.COMPLETED
        error = "" if completed else explanation
        run_progress_send(run, state=status, progress=100 if completed else progress, error=error)
    return bool(updated)


def _percent(done: int, total: int) -> int:
    return 100 if total == 0 else min(100, round(100 * done / total))


def _reached(node: Node, flow: Flow, done: dict[str, dict[str, Any]]) -> bool:
    incoming = flow.incoming(node.id)
    if not incoming:
        return True
    for edge in incoming:
        entry = done.get(edge.source)
        if entry is None:
            continue
        if edge.when is None or entry.get("branch") == edge.when:
            return True
    return False


def _is_cancelled(run_id: Any) -> bool:
    return not AutomationRun.objects.filter(pk=run_id, status=RUNNING).exists()


def _execute(node: Node, run: AutomationRun, scope: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run one operator; its history entry (the spec's fields plus input, output, elapsed)."""
    operator = operators.get(node.type)
    started = timezone.now()
    clock = time.monotonic()
    entry: dict[str, Any] = {
        "node": node.id,
        "type": node.type,
        "name": node.name,
        "description": node.description,
        "started": started.isoformat().replace("+00:00", "Z"),
    }
    status, explanation, result, used, output, branch = FAILED, "", "", None, None, None
    try:
        if operator is None:
            raise operators.OperatorFailed(f"The operator {node.type!r} is not available.")
        step = operators.Step(
            node_id=node.id,
            name=node.name,
            settings=node.settings,
            scope=scope,
            deadline=clock + timeout,
            company=run.company,
            automation_id=run.automation_id,
            automation_name=run.automation.name,
            run_id=run.pk,
            is_cancelled=lambda: _is_cancelled(run.pk),
        )
        outcome = operator.run(step)
        output = templates.json_value(outcome.output)
        used = templates.json_value(outcome.input)
        size = len(json.dumps(output))
        if size > settings.AUTOMATION_OUTPUT_MAX_BYTES:
            output = None
            raise operators.OperatorFailed(
                f"The output is {size} bytes, more than the limit of {settings.AUTOMATION_OUTPUT_MAX_BYTES}."
            )
        status, explanation, result, branch = SUCCESS, "Completed without issues.", outcome.result, outcome.branch
    except operators.OperatorFailed as exc:
        explanation = str(exc)
        used = templates.json_value(exc.input) if exc.input is not None else used
        output = templates.json_value(exc.output) if exc.output is not None else output
    except templates.TemplateFailure as exc:
        explanation = f"Template error: {exc}"
    except OperatorTimeout:
        if timeout < node.timeout:
            explanation = f"The operator did not finish within the time left to the run ({timeout:.3g} s)."
        else:
            explanation = f"The operator did not finish within its time limit of {timeout:g} s."
    except Exception:
        logger.exception("Operator %s (%s) of run %s failed unexpectedly", node.id, node.type, run.pk)
        explanation = "The operator failed unexpectedly; the error has been logged."
    entry.update(
        status=status,
        explanation=explanation,
        result=result if status == SUCCESS else explanation,
        input=used,
        output=output,
        elapsed=round(time.monotonic() - clock, 4),
    )
    if branch is not None:
        entry["branch"] = branch
    return entry


def _scope(run: AutomationRun, results: dict[str, Any]) -> dict[str, Any]:
    return {
        "input": run.input,
        "results": results,
        "run": {
            "id": str(run.pk),
            "mode": run.mode,
            "started": run.started_at.isoformat().replace("+00:00", "Z"),
        },
        "automation": {"id": str(run.automation_id), "name": run.automation.name},
    }


def run_execute(*, run_id: Any) -> None:
    """Run (or resume) one automation run; see the module's docstring for the guarantees."""
    claimed = _claim(run_id)
    if claimed is None:
        return
    run, token = claimed
    lease_until = run.lease_until or timezone.now()
    history: list[dict[str, Any]] = list(run.operator_history)
    try:
        flow = parse_flow(run.flow)
    except FlowInvalid as exc:
        _finish(run, token, AutomationRun.Status.FAILED, str(exc), history, 0)
        return
    done = {entry["node"]: entry for entry in history}
    results: dict[str, Any] = {node_id: entry.get("output") for node_id, entry in done.items()}
    scope = _scope(run, results)
    total = len(flow.nodes)
    # Progress counts the nodes decided (run or passed by) in run order; a resumed run starts after its last save.
    resumed_at = max((index + 1 for index, node in enumerate(flow.nodes) if node.id in done), default=0)
    progress = _percent(resumed_at, total)
    run_progress_send(run, state=RUNNING, progress=progress)
    for index, node in enumerate(flow.nodes):
        if node.id in done or not _reached(node, flow, done):
            continue
        left = (run.deadline - timezone.now()).total_seconds()
        if left <= 0:
            limit = (run.deadline - run.started_at).total_seconds()
            explanation = f"The run did not finish within its time limit of {limit:g} s."
            _finish(run, token, AutomationRun.Status.FAILED, explanation, history, progress)
            return
        timeout = min(node.timeout, left)
        covered = _is_pure(node) and lease_until - timezone.now() >= timedelta(seconds=timeout)
        if not covered:
            if not _progress(run, token, history, node.id, timeout):
                return  # cancelled, or another worker took the run over
            lease_until = timezone.now() + timedelta(seconds=timeout) + _grace()
        entry = _execute(node, run, scope, timeout)
        history.append(entry)
        done[node.id] = entry
        results[node.id] = entry["output"]
        if entry["status"] == FAILED and not node.continue_on_error:
            explanation = f"Operator '{node.name}' failed: {entry['explanation']}"
            _finish(run, token, AutomationRun.Status.FAILED, explanation, history, progress)
            return
        progress = _percent(index + 1, total)
        run_progress_send(run, state=RUNNING, progress=progress, operator=node.id, operator_status=entry["status"])
    failed = sum(1 for entry in history if entry["status"] == FAILED)
    explanation = "Automation completed successfully."
    if failed:
        explanation = f"Automation completed; {failed} operator(s) failed and the flow continued past them."
    _finish(run, token, AutomationRun.Status.COMPLETED, explanation, history, 100)
