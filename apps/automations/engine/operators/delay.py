"""The `delay` operator: wait a number of seconds (the worker waits; long waits belong to schedules)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings as django_settings

from apps.automations.engine.operators.base import OperatorFailed, Outcome, Step
from apps.automations.engine.operators.logic import BuiltinOperator

# How often a waiting run looks whether it was cancelled.
CANCEL_CHECK_SECONDS = 2.0


class DelayOperator(BuiltinOperator):
    type = "delay"
    summary = "Waits `seconds` (a number, at most AUTOMATION_DELAY_MAX_SECONDS) before the next operators run."
    required = ("seconds",)

    def check(self, settings: dict[str, Any]) -> None:
        seconds = settings["seconds"]
        maximum = django_settings.AUTOMATION_DELAY_MAX_SECONDS
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= maximum:
            raise ValueError(f"the setting 'seconds' must be a number from 0 to {maximum}")

    def default_timeout(self, settings: dict[str, Any]) -> float:
        return float(settings.get("seconds") or 0) + 5.0

    def run(self, step: Step) -> Outcome:
        seconds = float(step.settings["seconds"])
        if seconds > step.remaining():
            raise OperatorFailed(f"A delay of {seconds:g} s does not fit in the {step.remaining():.0f} s left.")
        end = time.monotonic() + seconds
        last_check = time.monotonic()
        while (left := end - time.monotonic()) > 0:
            time.sleep(min(left, 0.5))
            if time.monotonic() - last_check >= CANCEL_CHECK_SECONDS:
                last_check = time.monotonic()
                if step.is_cancelled():
                    raise OperatorFailed("The run was cancelled while waiting.")
        return Outcome(output={"seconds": seconds}, result=f"Waited {seconds:g} s.", input={"seconds": seconds})
