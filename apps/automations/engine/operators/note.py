"""The `note` operator: write a note on a record of the automation's company."""

from __future__ import annotations

from typing import Any

from apps.automations.engine.operators.base import OperatorFailed, Outcome, Step
from apps.automations.engine.operators.logic import BuiltinOperator
from apps.core.exceptions import ApplicationError
from apps.notes.services import note_save


class NoteOperator(BuiltinOperator):
    type = "note"
    summary = (
        "Writes `note` on the record `recordid` (any record of the company: activity, actor, automation, "
        "user, ...) in `category` (default `automation`); all are templates. The output is `{noteid, recordid}`."
    )
    required = ("recordid", "note")
    optional = ("category",)
    templated = ("recordid", "note", "category")

    def check(self, settings: dict[str, Any]) -> None:
        for name in ("recordid", "note", "category"):
            if name in settings and not isinstance(settings[name], str):
                raise ValueError(f"the setting '{name}' must be a string")

    def run(self, step: Step) -> Outcome:
        record_id = step.render_text(step.settings["recordid"]).strip()
        text = step.render_text(step.settings["note"])
        category = step.render_text(step.settings.get("category", "automation")).strip()
        used = {"recordid": record_id, "category": category, "note": text}
        try:
            note = note_save(
                company=step.company,
                actor=None,
                record_id=record_id,
                category=category,
                note=text,
                author_label=f"Automation: {step.automation_name}",
            )
        except ApplicationError as exc:
            raise OperatorFailed(f"{exc.message} ({record_id or 'no record id'})", input=used) from exc
        return Outcome(
            output={"noteid": str(note.pk), "recordid": record_id},
            result=f"Note saved on {note.record_kind} {record_id}.",
            input=used,
        )
