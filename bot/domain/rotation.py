"""Who is on call: a rotation in the team's local time, with overrides.

A rotation hands over at a local wall-clock time (e.g. Monday 09:00 in Europe/London)
every `period_days` local calendar days, so the hand-over stays at 09:00 local across
daylight-saving changes (the shift around a change is an hour shorter or longer).

Hand-over instants follow one rule: **the hand-over happens at the first instant at
which the team's wall clock shows the hand-over date and time, or later.**

- Ordinary day: exactly that wall time.
- Clocks go back (the wall time happens twice, e.g. 01:30 on the first Sunday of
  November in New York): the first occurrence (01:30 EDT), never the repeat.
- Clocks go forward and the wall time does not exist that day (e.g. 02:30 on the
  spring-forward Sunday in New York): the moment the clocks jump, i.e. 03:00 EDT
  (07:00 UTC). The outgoing person's shift ends as soon as the wall clock is past the
  hand-over time and is never stretched past it. (This differs from the RFC 5545 /
  `fold=0` convention, which would land at 03:30, half an hour after the wall clock
  passed 02:30.) The same rule covers whole skipped days (Pacific/Apia, 30 Dec 2011).

The first hand-over (shift 0, `user_ids[0]`) is at the first date on or after `anchor`
falling on `handover_weekday` (or on `anchor` itself when that is None); shift k goes
to `user_ids[k % len(user_ids)]`. The cycle also runs backwards before the first
hand-over, so someone is always on call.

A rotation set by a person ("`@first @second`, in rotation order") means the first one
named is on call from the moment it is set until the next hand-over: `starting_at(set_at)`
turns the order so that the shift in force at `set_at` is `user_ids[0]`'s (without it,
a rotation set mid-week would start with the last person named until the hand-over).

Overrides win over the rotation while they last ([start, end)); when several overlap,
the one created last wins — pass overrides in creation order, oldest first (as stored).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)
MAX_PERIOD_DAYS = 366
_TICK = timedelta(microseconds=1)


def _require_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def load_zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or ValueError naming it (rotations are configuration, so a
    bad zone is refused when the rotation is made, not guessed)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError) as error:
        raise ValueError(f"{name!r} is not an IANA time zone name") from error


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The first instant (in UTC) at which the wall clock in `zone` shows `day` `at` or later.

    See the module docstring: the earlier of two repeated wall times, and the moment the
    clocks jump for a wall time skipped by a spring-forward change.
    """
    wall = datetime.combine(day, at)
    candidates = [wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]
    existing = [c for c in candidates if _wall(c, zone) == wall]
    if existing:
        return min(existing)
    # In a gap: the earlier candidate reads before `wall`, the later one after it.
    # The transition lies between; find the first instant reading `wall` or later.
    lo, hi = min(candidates), max(candidates)
    while hi - lo > _TICK:
        mid = lo + (hi - lo) // 2
        if _wall(mid, zone) >= wall:
            hi = mid
        else:
            lo = mid
    return hi


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class Rotation:
    """An ordered on-call rotation (a user may appear more than once in the order)."""

    user_ids: tuple[str, ...]
    tz: str
    anchor: date
    handover_weekday: int | None = MONDAY
    handover_time: time = time(9, 0)
    period_days: int = 7

    def __post_init__(self) -> None:
        if isinstance(self.user_ids, str) or not isinstance(self.user_ids, Sequence):
            raise TypeError("user_ids must be a sequence of user ids")
        users = tuple(self.user_ids)
        if not users:
            raise ValueError("a rotation needs at least one person")
        if not all(isinstance(u, str) and u.strip() for u in users):
            raise ValueError("user ids must be non-empty strings")
        object.__setattr__(self, "user_ids", users)
        load_zone(self.tz)
        if isinstance(self.anchor, datetime) or not isinstance(self.anchor, date):
            raise TypeError("anchor must be a date (not a datetime)")
        weekday = self.handover_weekday
        if weekday is not None and (isinstance(weekday, bool) or weekday not in range(7)):
            raise ValueError("handover_weekday must be 0 (Monday) .. 6 (Sunday) or None")
        if not isinstance(self.handover_time, time) or self.handover_time.tzinfo is not None:
            raise ValueError("handover_time must be a local time without tzinfo")
        period = self.period_days
        if isinstance(period, bool) or not isinstance(period, int):
            raise TypeError("period_days must be an int")
        if not 1 <= period <= MAX_PERIOD_DAYS:
            raise ValueError(f"period_days must be 1 .. {MAX_PERIOD_DAYS}")

    @classmethod
    def weekly(cls, user_ids: Sequence[str], tz: str, anchor: date,
               weekday: int = MONDAY, at: time = time(9, 0)) -> Rotation:
        return cls(tuple(user_ids), tz, anchor, weekday, at, 7)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def first_handover_date(self) -> date:
        if self.handover_weekday is None:
            return self.anchor
        ahead = (self.handover_weekday - self.anchor.weekday()) % 7
        return self.anchor + timedelta(days=ahead)

    def handover_at(self, index: int) -> datetime:
        """The UTC instant shift `index` starts (0 is the first; negative indices lie
        before it). Strictly increasing in `index`."""
        day = self.first_handover_date + timedelta(days=index * self.period_days)
        return local_instant(day, self.handover_time, self.zone)

    def shift_index(self, now: datetime) -> int:
        """The index k of the shift in force at `now`: handover_at(k) <= now < handover_at(k+1)."""
        _require_aware("now", now)
        local_day = now.astimezone(self.zone).date()
        k = (local_day - self.first_handover_date).days // self.period_days
        while self.handover_at(k) > now:
            k -= 1
        while self.handover_at(k + 1) <= now:
            k += 1
        return k

    def user_for(self, index: int) -> str:
        return self.user_ids[index % len(self.user_ids)]

    def starting_at(self, set_at: datetime) -> Rotation:
        """The same rotation, its order turned so that the first person named holds the
        shift in force at `set_at` (when the rotation was set) and the others follow in
        order at each hand-over after it."""
        _require_aware("set_at", set_at)
        k, count = self.shift_index(set_at), len(self.user_ids)
        turned = tuple(self.user_ids[(i - k) % count] for i in range(count))
        return replace(self, user_ids=turned)


@dataclass(frozen=True, slots=True)
class Override:
    """`user_id` is on call from `start` (inclusive) to `end` (exclusive)."""

    user_id: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.user_id, str) or not self.user_id.strip():
            raise ValueError("an override needs a user id")
        _require_aware("start", self.start)
        _require_aware("end", self.end)
        if self.end <= self.start:
            raise ValueError("an override must end after it starts")

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True, slots=True)
class OnCall:
    """`user_id` is on call from `since` until `until` (both UTC).

    Consecutive stretches of the same person are one stretch, whether they come from
    the rotation or an override. None means "no change in either direction, ever":
    only possible when one person is the whole rotation and no override intervenes.
    `via_override` says whether the person holds the stretch by override at the
    instant asked about (for `next_on_call`: at `since`).
    """

    user_id: str
    since: datetime | None
    until: datetime | None
    via_override: bool = False


def _user_at(rotation: Rotation, overrides: Sequence[Override],
             moment: datetime) -> tuple[str, bool]:
    for override in reversed(overrides):  # created last wins
        if override.covers(moment):
            return override.user_id, True
    return rotation.user_for(rotation.shift_index(moment)), False


def who_is_on_call(rotation: Rotation, overrides: Sequence[Override],
                   now: datetime) -> OnCall:
    """Who is on call at `now`, since when and until when."""
    _require_aware("now", now)
    overrides = tuple(overrides)
    user, via_override = _user_at(rotation, overrides, now)
    boundaries = sorted({b for o in overrides for b in (o.start, o.end)})
    index = rotation.shift_index(now)
    since = _search(rotation, overrides, user, index, now, boundaries, forward=False)
    until = _search(rotation, overrides, user, index, now, boundaries, forward=True)
    return OnCall(user, since, until, via_override)


def _search(rotation: Rotation, overrides: Sequence[Override], user: str, index: int,
            now: datetime, boundaries: list[datetime], *, forward: bool) -> datetime | None:
    """Walk change points (hand-overs and override edges) away from `now` until the
    person changes. After the last override edge, a full cycle of hand-overs without a
    change means the rotation is one person: no change ever (None)."""
    if forward:
        edges = [b for b in boundaries if b > now]
        step, next_index = 1, index + 1
    else:
        edges = [b for b in reversed(boundaries) if b <= now]
        step, next_index = -1, index
    position, quiet_handovers = 0, 0
    while quiet_handovers <= len(rotation.user_ids):
        handover = rotation.handover_at(next_index)
        edge = edges[position] if position < len(edges) else None
        if edge is not None and (edge <= handover if forward else edge >= handover):
            point = edge
            position += 1
        else:
            point = handover
            next_index += step
            if edge is None:
                quiet_handovers += 1
        # Forward: who holds it from `point` on. Backward: who held it just before `point`.
        probe = point if forward else point - _TICK
        if _user_at(rotation, overrides, probe)[0] != user:
            return point.astimezone(UTC)
    return None


def next_on_call(rotation: Rotation, overrides: Sequence[Override],
                 now: datetime) -> OnCall | None:
    """The next person to take over after `now` and when (`since`); None if nobody ever
    takes over (a one-person rotation with no override ahead)."""
    current = who_is_on_call(rotation, overrides, now)
    if current.until is None:
        return None
    return who_is_on_call(rotation, overrides, current.until)


def schedule(rotation: Rotation, overrides: Sequence[Override], now: datetime,
             count: int) -> list[OnCall]:
    """The current stretch and the ones after it, `count` in all (fewer if it ends)."""
    if count < 0:
        raise ValueError("count must not be negative")
    result: list[OnCall] = []
    current: OnCall | None = who_is_on_call(rotation, overrides, now)
    while current is not None and len(result) < count:
        result.append(current)
        current = (who_is_on_call(rotation, overrides, current.until)
                   if current.until is not None else None)
    return result


__all__ = [
    "FRIDAY",
    "MONDAY",
    "SATURDAY",
    "SUNDAY",
    "THURSDAY",
    "TUESDAY",
    "WEDNESDAY",
    "OnCall",
    "Override",
    "Rotation",
    "load_zone",
    "local_instant",
    "next_on_call",
    "schedule",
    "who_is_on_call",
]
