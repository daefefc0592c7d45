"""Timer schedules, as Azure Functions writes them: NCRONTAB with seconds (six fields,
``"0 */5 * * * *"``), the usual five-field cron (``"*/5 * * * *"``), or an interval as a
TimeSpan (``"00:05:00"``, ``"1.00:00:00"``).

Occurrences are computed, never remembered: any worker computes the same next occurrence
from the same schedule, which is what lets the database claim each one exactly once. An
interval's occurrences are the multiples of the interval since the Unix epoch (UTC), so that
they too are the same everywhere. Cron schedules are read in the time zone of
``PERDURA_TIMER_TIME_ZONE`` (UTC by default), daylight saving included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, croniter

_TIMESPAN = re.compile(r"^(?:(?P<days>\d+)\.)?(?P<hours>\d{1,2}):(?P<minutes>\d{2}):(?P<seconds>\d{2})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ScheduleError(ValueError):
    """A schedule that cannot be parsed."""


@dataclass(frozen=True)
class Schedule:
    expression: str
    time_zone: str = "UTC"
    interval: timedelta | None = None

    @property
    def is_interval(self) -> bool:
        return self.interval is not None

    def next_after(self, moment: datetime) -> datetime:
        """The first occurrence strictly after ``moment`` (aware), in UTC."""
        moment = moment.astimezone(UTC)
        if self.interval is not None:
            step = self.interval.total_seconds()
            elapsed = (moment - _EPOCH).total_seconds()
            return _EPOCH + timedelta(seconds=(int(elapsed // step) + 1) * step)
        zone = ZoneInfo(self.time_zone)
        local = moment.astimezone(zone)
        following = croniter(self._cron, local, second_at_beginning=self._has_seconds).get_next(datetime)
        return following.astimezone(UTC)

    def latest_at_or_before(self, moment: datetime) -> datetime:
        """The last occurrence at or before ``moment``, in UTC."""
        moment = moment.astimezone(UTC)
        if self.interval is not None:
            step = self.interval.total_seconds()
            elapsed = (moment - _EPOCH).total_seconds()
            return _EPOCH + timedelta(seconds=int(elapsed // step) * step)
        zone = ZoneInfo(self.time_zone)
        local = (moment + timedelta(microseconds=1)).astimezone(zone)
        previous = croniter(self._cron, local, second_at_beginning=self._has_seconds).get_prev(datetime)
        return previous.astimezone(UTC)

    def upcoming(self, moment: datetime, count: int) -> list[datetime]:
        occurrences = []
        for _ in range(count):
            moment = self.next_after(moment)
            occurrences.append(moment)
        return occurrences

    @property
    def _cron(self) -> str:
        return " ".join(self.expression.split())

    @property
    def _has_seconds(self) -> bool:
        return len(self.expression.split()) == 6


def parse_schedule(expression: str, time_zone: str = "UTC") -> Schedule:
    """Parse a schedule, or raise ``ScheduleError`` saying what is wrong with it."""
    if not isinstance(expression, str) or not expression.strip():
        raise ScheduleError("a schedule is a non-empty string: NCRONTAB (6 fields), cron (5 fields) or hh:mm:ss")
    text = expression.strip()
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"the time zone {time_zone!r} is unknown (PERDURA_TIMER_TIME_ZONE)") from None
    interval = _timespan(text)
    if interval is not None:
        if interval <= timedelta(0):
            raise ScheduleError(f"the interval {text!r} must be longer than zero")
        return Schedule(text, time_zone, interval)
    fields = text.split()
    if len(fields) not in (5, 6):
        raise ScheduleError(
            f"the schedule {text!r} has {len(fields)} fields: write NCRONTAB with seconds "
            "('0 */5 * * * *'), five-field cron ('*/5 * * * *') or an interval ('00:05:00')"
        )
    try:
        valid = croniter.is_valid(" ".join(fields), second_at_beginning=len(fields) == 6)
        if valid:
            croniter(" ".join(fields), datetime.now(UTC), second_at_beginning=len(fields) == 6).get_next(datetime)
    except (CroniterBadCronError, ValueError, KeyError):
        valid = False
    if not valid:
        raise ScheduleError(f"the schedule {text!r} is not a valid cron expression")
    return Schedule(text, time_zone)


def _timespan(text: str) -> timedelta | None:
    found = _TIMESPAN.match(text)
    if found is None:
        return None
    hours, minutes, seconds = int(found["hours"]), int(found["minutes"]), int(found["seconds"])
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ScheduleError(f"the interval {text!r} is not a valid d.hh:mm:ss time span")
    return timedelta(days=int(found["days"] or 0), hours=hours, minutes=minutes, seconds=seconds)
