"""Cron schedules (UTC, five fields: minute hour day-of-month month day-of-week) and the minute tick."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.schedules import crontab

from apps.core.exceptions import InvalidInput

# Days looked ahead for the next match; four years and a day cover 29 February.
SEARCH_DAYS = 4 * 366 + 1


@dataclass(frozen=True)
class Cron:
    """A parsed cron expression: the allowed values of each field."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday, as in cron
    days_restricted: bool
    weekdays_restricted: bool

    def _day_matches(self, moment: datetime) -> bool:
        if moment.month not in self.months:
            return False
        day_ok = moment.day in self.days
        weekday_ok = (moment.weekday() + 1) % 7 in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return day_ok or weekday_ok  # cron's rule: either restricted day field may match
        return day_ok and weekday_ok

    def next_after(self, moment: datetime) -> datetime:
        """The first matching minute strictly after `moment`."""
        start = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        hours = sorted(self.hours)
        minutes = sorted(self.minutes)
        for offset in range(SEARCH_DAYS):
            candidate_day = day + timedelta(days=offset)
            if not self._day_matches(candidate_day):
                continue
            for hour in hours:
                for minute in minutes:
                    candidate = candidate_day.replace(hour=hour, minute=minute)
                    if candidate >= start:
                        return candidate
        raise InvalidInput(f"Invalid schedule: {self.expression!r} never matches a date.")


def cron_parse(expression: str) -> Cron:
    """Parse a five-field cron expression; the error says what is wrong."""
    fields = expression.split()
    if len(fields) != 5:
        raise InvalidInput(
            "Invalid schedule: a cron expression has five fields (minute hour day-of-month month day-of-week), "
            f"got {expression!r}."
        )
    minute, hour, day, month, weekday = fields
    try:
        spec = crontab(minute=minute, hour=hour, day_of_month=day, month_of_year=month, day_of_week=weekday)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise InvalidInput(f"Invalid schedule: {expression!r}: {exc}") from exc
    cron = Cron(
        expression=" ".join(fields),
        minutes=frozenset(spec.minute),
        hours=frozenset(spec.hour),
        days=frozenset(spec.day_of_month),
        months=frozenset(spec.month_of_year),
        weekdays=frozenset(spec.day_of_week),
        days_restricted=day != "*",
        weekdays_restricted=weekday != "*",
    )
    cron.next_after(datetime(2000, 1, 1))  # noqa: DTZ001 - refuses expressions that never match
    return cron


def schedule_next(expression: str, after: datetime) -> datetime | None:
    """When a schedule next fires after `after`; None for no schedule."""
    if not expression:
        return None
    return cron_parse(expression).next_after(after)
