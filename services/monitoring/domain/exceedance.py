"""Exceedance detection (pure: readings, a device and parsed limits in, episodes out; no I/O, no clock).

Per device and shift (``MonitoringLimits.shifts``, China time) a :class:`ShiftState` accumulates the readings in
time order:

* **twa** — the shift's exposure ``Σ f(value)·Δt`` (each reading holds until the next, for at most
  ``silent_after_minutes``; ``f`` is the value, or ``10^(L/10)`` for a level in dB: noise L_EX,8h) divided by the
  shift's length. It is decided as soon as it is certain — the exposure credited so far already exceeds
  ``f(limit) × shift`` — or at the shift's end;
* **stel** — the average of each ``stel_minutes`` block (from the shift's start) above the STEL, judged when the
  block is over (a later reading, or the shift's end);
* **peak** — a reading above the peak;
* **silent** — a gap longer than ``silent_after_minutes`` between readings of the shift (from the shift's start
  for a device registered before it, to the shift's end at its close); the timer finds an ongoing gap of the
  current shift from "now" only once it is longer than ``silent_after_minutes + late_allowance_minutes`` (a
  gateway may deliver late: a reading delivered within the allowance gives no episode a back-fill would not give).
  If delayed readings fill a gap the timer already judged, the episode stays (it was published) and ends at the
  reading that came: its ``observed`` is the gap the data shows.

ONE episode per device, measure and shift: opened once (an ``open`` change), extended by later findings of the
same shift, closed with the shift (a ``closed`` change). Its id is derived from device, measure and shift, and its
content from the shift's readings only, so the same readings as one back-fill batch or streamed one by one give the
same episodes.
"""

from __future__ import annotations

import heapq
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal

from services.monitoring.domain.rules import FactorLimit, MonitoringLimits
from shared.dates import CHINA

EVIDENCE_MAX = 200
EPISODE_NAMESPACE = uuid.UUID("6f1d7c1e-5b0a-4d7e-9a53-1c0f6a1e0b17")
Measure = Literal["twa", "stel", "peak", "silent"]


@dataclass(frozen=True)
class Shift:
    day: date  # the China day the shift starts on
    index: int  # which of the day's shifts
    start: datetime  # UTC
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def shift_of(at: datetime, limits: MonitoringLimits) -> Shift | None:
    """The shift an instant falls in (an overnight shift belongs to the day it starts), or None (between shifts)."""
    local = at.astimezone(CHINA)
    for day in (local.date(), local.date() - timedelta(days=1)):
        for index, definition in enumerate(limits.shifts):
            start = datetime.combine(day, definition.start, CHINA)
            end = start + timedelta(hours=definition.hours)
            if start <= at < end:
                return Shift(day, index, start.astimezone(timezone.utc), end.astimezone(timezone.utc))
    return None


@dataclass(frozen=True)
class DeviceInfo:
    device_id: str
    credit_code: str
    region_code: str
    factor: str
    post: str
    unit: str
    registered_at: datetime


@dataclass
class Episode:
    measure: str
    episode_id: str
    started_at: datetime
    limit: float | None
    ended_at: datetime | None = None
    observed: float | None = None
    status: str = "open"
    evidence: list[tuple[datetime, float]] = field(default_factory=list)

    def add_evidence(self, readings: list[tuple[datetime, float]], by_time: bool = False) -> None:
        merged = {at: value for at, value in self.evidence}
        merged.update(dict(readings))
        ordered = sorted(merged.items(), key=(lambda r: r[0]) if by_time else (lambda r: (-r[1], r[0])))
        self.evidence = ordered[:EVIDENCE_MAX] if not by_time else ordered[-EVIDENCE_MAX:]


@dataclass(frozen=True)
class Change:
    status: Literal["open", "closed"]
    measure: str
    shift: Shift


def episode_id(device_id: str, measure: str, shift: Shift) -> str:
    return str(uuid.uuid5(EPISODE_NAMESPACE, f"{device_id}|{measure}|{shift.start.isoformat()}"))


@dataclass
class ShiftState:
    """What is known of one device's shift so far (the per-shift aggregate is kept for good)."""

    device_id: str
    shift: Shift
    count: int = 0
    value_sum: float = 0.0
    min_value: float | None = None
    max_value: float | None = None
    dose: float = 0.0  # Σ f(value)·Δt credited, in f-units × seconds
    covered_s: float = 0.0
    last_at: datetime | None = None
    last_value: float | None = None
    top: list[tuple[float, int]] = field(default_factory=list)  # min-heap of the shift's highest readings (value, epoch ms)
    block: int | None = None
    block_sum: float = 0.0
    block_n: int = 0
    block_top: list[tuple[float, int]] = field(default_factory=list)
    closed: bool = False
    twa: float | None = None  # the shift's TWA (L_EX,8h) once closed
    episodes: dict[str, Episode] = field(default_factory=dict)

    # ------------------------------------------------------------------ serialisation (the adapters store it as JSON)
    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "value_sum": self.value_sum, "min": self.min_value, "max": self.max_value, "dose": self.dose,
                "covered_s": self.covered_s, "last_at": self.last_at.isoformat() if self.last_at else None, "last_value": self.last_value,
                "top": self.top, "block": self.block, "block_sum": self.block_sum, "block_n": self.block_n, "block_top": self.block_top,
                "closed": self.closed, "twa": self.twa,
                "episodes": {m: {"id": e.episode_id, "started_at": e.started_at.isoformat(), "ended_at": e.ended_at.isoformat() if e.ended_at else None,
                                 "limit": e.limit, "observed": e.observed, "status": e.status,
                                 "evidence": [[at.isoformat(), v] for at, v in e.evidence]} for m, e in self.episodes.items()}}

    @classmethod
    def from_json(cls, device_id: str, shift: Shift, data: dict[str, Any]) -> "ShiftState":
        def instant(text: str | None) -> datetime | None:
            return datetime.fromisoformat(text) if text else None

        state = cls(device_id, shift, data["count"], data["value_sum"], data["min"], data["max"], data["dose"], data["covered_s"],
                    instant(data["last_at"]), data["last_value"], [tuple(t) for t in data["top"]], data["block"], data["block_sum"],
                    data["block_n"], [tuple(t) for t in data["block_top"]], data["closed"], data["twa"])
        for measure, e in data["episodes"].items():
            state.episodes[measure] = Episode(measure, e["id"], instant(e["started_at"]), e["limit"], instant(e["ended_at"]), e["observed"],
                                              e["status"], [(datetime.fromisoformat(at), v) for at, v in e["evidence"]])
        return state

    @property
    def mean(self) -> float | None:
        return self.value_sum / self.count if self.count else None


def _push(heap: list[tuple[float, int]], value: float, at_ms: int) -> None:
    item = (value, at_ms)
    if len(heap) < EVIDENCE_MAX:
        heapq.heappush(heap, item)
    elif item > heap[0]:
        heapq.heapreplace(heap, item)


def _readings(heap: list[tuple[float, int]]) -> list[tuple[datetime, float]]:
    return [(datetime.fromtimestamp(at_ms / 1000, timezone.utc), value) for value, at_ms in heap]


class Detector:
    """Applies one device's readings (in time order) to its shift states, with the limits in force."""

    def __init__(self, device: DeviceInfo, limits: MonitoringLimits, factor: FactorLimit):
        self.device, self.limits, self.factor = device, limits, factor
        self.cap_s = limits.silent_after_minutes * 60.0
        self.judge_after_s = (limits.silent_after_minutes + limits.late_allowance_minutes) * 60.0
        self.block_s = limits.stel_minutes * 60.0

    # ------------------------------------------------------------------ episodes
    def _episode(self, state: ShiftState, measure: str, started_at: datetime, limit: float | None, changes: list[Change]) -> Episode:
        episode = state.episodes.get(measure)
        if episode is None:
            episode = Episode(measure, episode_id(self.device.device_id, measure, state.shift), started_at, limit)
            state.episodes[measure] = episode
            changes.append(Change("open", measure, state.shift))
        return episode

    def _silent(self, state: ShiftState, gap_start: datetime, gap_end: datetime | None, changes: list[Change]) -> None:
        episode = state.episodes.get("silent")
        fresh = episode is None
        episode = self._episode(state, "silent", gap_start, None, [] if not fresh else changes)
        if fresh:  # the evidence of an open that the timer or a reading makes is the same: the reading before the gap
            if state.last_at is not None:
                episode.add_evidence([(state.last_at, state.last_value or 0.0)], by_time=True)
        if gap_end is not None:
            episode.ended_at = gap_end if episode.ended_at is None else max(episode.ended_at, gap_end)
        gap = ((gap_end or gap_start) - gap_start).total_seconds() / 60
        episode.observed = max(episode.observed or 0.0, round(gap, 1)) if gap_end is not None else episode.observed

    def _close_block(self, state: ShiftState, changes: list[Change]) -> None:
        stel = self.factor.stel
        if stel is None or state.block is None or not state.block_n:
            return
        mean = self.factor.level(state.block_sum / state.block_n)
        if mean > stel:
            block_start = state.shift.start + timedelta(seconds=state.block * self.block_s)
            episode = self._episode(state, "stel", block_start, stel, changes)
            episode.ended_at = min(block_start + timedelta(seconds=self.block_s), state.shift.end)
            episode.observed = round(max(episode.observed or mean, mean), 4)
            episode.add_evidence(_readings(state.block_top))
        state.block, state.block_sum, state.block_n, state.block_top = None, 0.0, 0, []

    # ------------------------------------------------------------------ readings
    def add(self, state: ShiftState, at: datetime, value: float) -> list[Change]:
        changes: list[Change] = []
        factor, shift = self.factor, state.shift
        at_ms = round(at.timestamp() * 1000)
        gap_start = state.last_at or (shift.start if self.device.registered_at <= shift.start else None)
        if gap_start is not None and (at - gap_start).total_seconds() > self.cap_s:
            self._silent(state, gap_start, at, changes)
            state.episodes["silent"].add_evidence([(at, value)], by_time=True)
        elif gap_start is not None and (silent := state.episodes.get("silent")) is not None and silent.ended_at is None:
            self._silent(state, gap_start, at, changes)  # the timer judged the gap, late readings fill it: it ends here
            silent.add_evidence([(at, value)], by_time=True)
        if state.last_at is not None and state.last_value is not None:
            dt = min((at - state.last_at).total_seconds(), self.cap_s)
            state.dose += factor.dose(state.last_value) * dt
            state.covered_s += dt
        if factor.stel is not None:
            block = int((at - shift.start).total_seconds() // self.block_s)
            if state.block is not None and block != state.block:
                self._close_block(state, changes)
            state.block = block
            state.block_sum += factor.dose(value)
            state.block_n += 1
            _push(state.block_top, value, at_ms)
        if factor.peak is not None and value > factor.peak:
            episode = self._episode(state, "peak", at, factor.peak, changes)
            episode.ended_at = at
            episode.observed = max(episode.observed or value, value)
            episode.add_evidence([(at, value)])
        state.count += 1
        state.value_sum += value
        state.min_value = value if state.min_value is None else min(state.min_value, value)
        state.max_value = value if state.max_value is None else max(state.max_value, value)
        state.last_at, state.last_value = at, value
        _push(state.top, value, at_ms)
        if factor.twa is not None and "twa" not in state.episodes and state.dose > factor.dose(factor.twa) * shift.seconds:
            episode = self._episode(state, "twa", shift.start, factor.twa, changes)  # certain already: the rest cannot lower it
            episode.observed = round(factor.level(state.dose / shift.seconds), 4)
            episode.add_evidence(_readings(state.top))
        return changes

    def close(self, state: ShiftState) -> list[Change]:
        """The shift is over: the last reading's share, the trailing gap, the last STEL block, the TWA; every episode closed."""
        changes: list[Change] = []
        if state.closed:
            return changes
        factor, shift = self.factor, state.shift
        if state.last_at is not None and state.last_value is not None:
            dt = min((shift.end - state.last_at).total_seconds(), self.cap_s)
            state.dose += factor.dose(state.last_value) * dt
            state.covered_s += dt
        gap_start = state.last_at or (shift.start if self.device.registered_at <= shift.start else None)
        if gap_start is not None and (shift.end - gap_start).total_seconds() > self.cap_s:
            self._silent(state, gap_start, shift.end, changes)
        self._close_block(state, changes)
        if state.count:
            state.twa = round(factor.level(state.dose / shift.seconds), 4)
        if factor.twa is not None and state.twa is not None and state.twa > factor.twa:
            episode = self._episode(state, "twa", shift.start, factor.twa, changes)
        if (episode := state.episodes.get("twa")) is not None:
            episode.observed = state.twa
            episode.ended_at = shift.end
            episode.evidence = []
            episode.add_evidence(_readings(state.top))
        for measure, episode in state.episodes.items():
            episode.status = "closed"
            episode.ended_at = episode.ended_at or shift.end
            changes.append(Change("closed", measure, shift))
        state.closed = True
        return changes

    def silent_now(self, state: ShiftState, now: datetime) -> list[Change]:
        """The timer: an ongoing gap of the current shift longer than allowed plus the late allowance opens the silent
        episode (from the gap's start)."""
        gap_start = state.last_at or (state.shift.start if self.device.registered_at <= state.shift.start else None)
        if state.closed or gap_start is None or "silent" in state.episodes or (min(now, state.shift.end) - gap_start).total_seconds() <= self.judge_after_s:
            return []
        changes: list[Change] = []
        self._silent(state, gap_start, None, changes)
        return changes
