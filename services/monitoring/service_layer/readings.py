"""Readings in, episodes out: the one use case behind ``POST /readings:batch`` and the gateway topic
``ohs.monitoring.readings``, the timer that closes shifts and finds silent devices, and the purge of old raw
readings. Each reading is accepted or refused with a code (never dropped); accepted ones are stored in bulk, the
device's shift aggregates advanced incrementally, and each episode opened or closed goes out as
``ExceedanceDetected`` through the outbox, in the same transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from services.monitoring.adapters.orm import Device, ExceedanceEpisode, ShiftAggregate
from services.monitoring.adapters.repository import as_utc, utc
from services.monitoring.domain.exceedance import Change, Detector, DeviceInfo, Episode, Shift, ShiftState, shift_of
from services.monitoring.domain.rules import FactorLimit, LimitBook, MonitoringLimits
from services.monitoring.service_layer.unit_of_work import MonitoringUnitOfWork
from shared import i18n
from shared.contracts import ExceedanceDetected, RuleSetRef, TraceEntry, utc_now
from shared.contracts.monitoring import EvidenceReading
from shared.dates import CHINA
from shared.rules_in_force import NoApplicableRules

PRODUCER = "monitoring"
REFUSALS = {
    "unknown_device": ("monitoring.reading.unknown_device", "device_id"),
    "unit": ("monitoring.reading.unit_mismatch", "unit"),
    "out_of_range": ("monitoring.reading.out_of_range", "value"),
    "instant": ("monitoring.reading.instant_out_of_range", "at"),
    "out_of_order": ("monitoring.reading.out_of_order", "at"),
    "duplicate": ("monitoring.reading.duplicate_instant", "at"),
    "shift_closed": ("monitoring.reading.shift_closed", "at"),
    "no_limits": ("monitoring.reading.no_limits", "device_id"),
}


@dataclass(frozen=True)
class ReadingIn:
    device_id: str
    at: datetime
    value: float
    unit: str | None = None


@dataclass
class BatchResult:
    accepted: int
    items: list[tuple[int, str, str | None, str | None]]  # (index, accepted|refused, code, field)
    published: int = 0

    def refused(self) -> list[tuple[int, str | None]]:
        return [(index, code) for index, status, code, _ in self.items if status == "refused"]


def device_info(device: Device) -> DeviceInfo:
    return DeviceInfo(device.device_id, device.credit_code, device.region_code, device.factor, device.post, device.unit,
                      utc(device.registered_at))  # type: ignore[arg-type]


DAY_MS = 86_400_000
CHINA_OFFSET_MS = 8 * 3_600_000
CHINA_EPOCH = date(1970, 1, 1)
_UNKNOWN = object()


def _ms(value: datetime | None) -> int | None:
    return None if value is None else round(value.timestamp() * 1000)


class _Screen:
    """What screening a device's readings needs, read once per batch (no ORM attribute per reading)."""

    def __init__(self, device: Device, allowed: bool):
        self.allowed, self.unit, self.region_code, self.factor = allowed, device.unit, device.region_code, device.factor
        self.last_ms, self.through_ms = _ms(utc(device.last_at)), _ms(utc(device.closed_through))
        self.ranges: dict[int, object] = {}  # China day number → (min, max) of the factor's physical range, or None


class _Limits:
    """The limits in force per (county, China day), asked once per batch."""

    def __init__(self, book: LimitBook):
        self.book, self.cache = book, {}  # type: ignore[var-annotated]

    def __call__(self, region_code: str, day: date) -> MonitoringLimits | None:
        key = (region_code, day)
        if key not in self.cache:
            try:
                self.cache[key] = self.book.in_force(region_code, day)
            except NoApplicableRules:
                self.cache[key] = None
        return self.cache[key]


EARLIEST_MS = round(datetime(2000, 1, 1, tzinfo=timezone.utc).timestamp() * 1000)
FUTURE_SLACK_MS = 5 * 60_000  # a gateway's clock may run this much ahead of the service's


def ingest(uow: MonitoringUnitOfWork, readings: Sequence[ReadingIn], book: LimitBook,
           may_send: Callable[[Device], bool] = lambda _: True, commit: bool = True, now: datetime | None = None) -> BatchResult:
    """Screen every reading (in the given order), store the accepted ones, advance the detectors and publish the
    episodes that opened or closed; commits unless ``commit`` is false (a Kafka handler: the consumer commits with
    the inbox mark). ``may_send(device)``: the caller's scope (a device outside it is refused as unknown, like one
    that does not exist). A reading from the future (past ``now`` + 5 minutes) is refused: accepted, it would make
    every later true reading of its device "out of order"."""
    arrived = now or utc_now()
    latest_ms = round(arrived.timestamp() * 1000) + FUTURE_SLACK_MS
    repo = uow.monitoring
    uow.begin_write()  # SQLite: the write lock before reading the devices' last readings (see MonitoringUnitOfWork)
    devices = repo.devices((r.device_id for r in readings), lock=True)
    limits_for = _Limits(book)
    items: list[tuple[int, str, str | None, str | None]] = []
    rows: list[dict[str, object]] = []
    accepted: dict[str, list[tuple[datetime, float]]] = {}
    screens = {d.device_id: _Screen(d, may_send(d)) for d in devices.values()}

    lost: dict[str, tuple[int, str]] = {}  # device → (readings refused, the last code); not for a caller outside its scope

    def refuse(index: int, why: str) -> None:
        code, field = REFUSALS[why]
        items.append((index, "refused", code, field))
        device_id = readings[index].device_id
        if (screen := screens.get(device_id)) is not None and screen.allowed:
            lost[device_id] = (lost.get(device_id, (0, ""))[0] + 1, code)

    for index, reading in enumerate(readings):
        screen = screens.get(reading.device_id)
        if screen is None or not screen.allowed:
            refuse(index, "unknown_device")
            continue
        if reading.unit is not None and reading.unit != screen.unit:
            refuse(index, "unit")
            continue
        at_ms = round(reading.at.timestamp() * 1000)
        if not EARLIEST_MS <= at_ms <= latest_ms:
            refuse(index, "instant")
            continue
        day = (at_ms + CHINA_OFFSET_MS) // DAY_MS
        bounds = screen.ranges.get(day, _UNKNOWN)
        if bounds is _UNKNOWN:
            limits = limits_for(screen.region_code, CHINA_EPOCH + timedelta(days=day))
            factor = limits.factor(screen.factor) if limits is not None else None
            bounds = screen.ranges[day] = (factor.range.min, factor.range.max) if factor is not None else None
        if bounds is None:
            refuse(index, "no_limits")
            continue
        if not bounds[0] <= reading.value <= bounds[1]:
            refuse(index, "out_of_range")
            continue
        if screen.last_ms is not None and at_ms <= screen.last_ms:
            refuse(index, "duplicate" if at_ms == screen.last_ms else "out_of_order")
            continue
        if screen.through_ms is not None and at_ms < screen.through_ms:
            refuse(index, "shift_closed")
            continue
        screen.last_ms = at_ms
        accepted.setdefault(reading.device_id, []).append((reading.at.astimezone(timezone.utc), reading.value))
        rows.append({"device_id": reading.device_id, "at_ms": at_ms, "value": reading.value})
        items.append((index, "accepted", None, None))
    repo.insert_readings(rows)
    published = 0
    if accepted:
        states = _load_states(uow, accepted)
        for device_id, device_readings in accepted.items():
            device = devices[device_id]
            published += _advance(uow, device, states.get(device_id, {}), device_readings, limits_for)
            device.last_at, device.last_value = as_utc(device_readings[-1][0]), device_readings[-1][1]
            device.received_at = as_utc(arrived)
            device.readings = (device.readings or 0) + len(device_readings)
            repo.add(device)
    for device_id, (count, code) in lost.items():
        _note_refused(devices[device_id], count, code)
    if commit:
        uow.commit()
    return BatchResult(len(rows), items, published)


def _note_refused(device: Device, count: int, code: str) -> None:
    device.refused = (device.refused or 0) + count
    device.last_refusal, device.last_refusal_at = code, utc_now()


def note_refused(uow: MonitoringUnitOfWork, device_id: str, count: int, code: str) -> None:
    """Readings of a device refused outside :func:`ingest` (a gateway record's readings naming another device)."""
    device = uow.monitoring.device(device_id)
    if device is not None and count:
        _note_refused(device, count, code)
        uow.monitoring.add(device)


def _load_states(uow: MonitoringUnitOfWork, accepted: dict[str, list[tuple[datetime, float]]]) -> dict[str, dict[datetime, tuple[ShiftState, ShiftAggregate]]]:
    found: dict[str, dict[datetime, tuple[ShiftState, ShiftAggregate]]] = {}
    for row in uow.monitoring.open_shifts(accepted):
        start = utc(row.shift_start)
        shift = Shift(row.shift_day, row.shift_index, start, utc(row.shift_end))  # type: ignore[arg-type]
        found.setdefault(row.device_id, {})[start] = (ShiftState.from_json(row.device_id, shift, row.state), row)  # type: ignore[index]
    return found


def _advance(uow: MonitoringUnitOfWork, device: Device, states: dict[datetime, tuple[ShiftState, ShiftAggregate]],
             readings: list[tuple[datetime, float]], limits_for: Callable[[str, date], MonitoringLimits | None]) -> int:
    """Feed one device's accepted readings (in time order) to its shift states; save them; publish the changes."""
    info = device_info(device)
    touched: dict[datetime, tuple[ShiftState, ShiftAggregate | None, MonitoringLimits, FactorLimit]] = {}
    out = _Outgoing(uow, info)
    for start, (state, row) in states.items():
        limits = limits_for(info.region_code, state.shift.day)
        factor = limits.factor(info.factor) if limits is not None else None
        if limits is not None and factor is not None:
            touched[start] = (state, row, limits, factor)
    current: tuple[ShiftState, ShiftAggregate | None, MonitoringLimits, FactorLimit] | None = None
    detector: Detector | None = None
    fed: set[datetime] = set()  # the shifts this batch's readings went to
    for at, value in readings:
        if current is None or not (current[0].shift.start <= at < current[0].shift.end):
            for start, (state, row, limits, factor) in sorted(touched.items()):
                if not state.closed and state.shift.end <= at:  # a reading after the shift: it is over
                    out.add(Detector(info, limits, factor).close(state), state, limits, factor)
                    device.closed_through = as_utc(max(utc(device.closed_through) or state.shift.end, state.shift.end))
            limits = limits_for(info.region_code, at.astimezone(CHINA).date())
            factor = limits.factor(info.factor) if limits is not None else None
            shift = shift_of(at, limits) if limits is not None else None
            if shift is None or limits is None or factor is None:
                current = None
                continue  # between shifts: stored, judged by no shift
            if shift.start not in touched:
                touched[shift.start] = (ShiftState(info.device_id, shift), None, limits, factor)
            current = touched[shift.start]
            detector = Detector(info, current[2], current[3])
        state, _, limits, factor = current
        fed.add(state.shift.start)
        found = detector.add(state, at, value)  # type: ignore[union-attr]
        if found:
            out.add(found, state, limits, factor)
    for start in fed:  # an open episode the batch added to (more evidence, a later end, a new TWA): its read model too
        state, _, limits, factor = touched[start]
        out.refresh([e for e in state.episodes.values() if e.status == "open"], state, limits, factor)
    for start, (state, row, limits, _) in touched.items():
        out.new_shift = _save_state(uow, state, row, limits) or out.new_shift
    return out.finish()


def _save_state(uow: MonitoringUnitOfWork, state: ShiftState, row: ShiftAggregate | None, limits: MonitoringLimits) -> bool:
    """Store the shift's aggregate and detector state; True when the shift had no row yet."""
    created = False
    if row is None:
        row = uow.monitoring.shift(state.device_id, state.shift.start)
    if row is None:
        created = True
        row = ShiftAggregate(device_id=state.device_id, shift_start=as_utc(state.shift.start), shift_end=as_utc(state.shift.end),
                             shift_day=state.shift.day, shift_index=state.shift.index, limits_version=limits.label(), state={})
    row.closed, row.count, row.mean, row.min_value, row.max_value = state.closed, state.count, state.mean, state.min_value, state.max_value
    row.twa, row.state, row.updated_at = state.twa, state.to_json(), utc_now()
    uow.monitoring.add(row)
    return created


class _Outgoing:
    """The changes of one device's episodes: each published at once, as the episode stands at that moment (an open
    event is not coloured by what later readings of the same batch add), and the read model saved at the end."""

    def __init__(self, uow: MonitoringUnitOfWork, info: DeviceInfo):
        self.uow, self.info, self.count = uow, info, 0
        self.new_shift = False  # a shift of the device got its first row (the employer's coverage counts reporting devices)
        self.latest: dict[str, tuple[Episode, ShiftState, MonitoringLimits, FactorLimit]] = {}

    def add(self, changes: list[Change], state: ShiftState, limits: MonitoringLimits, factor: FactorLimit) -> None:
        for change in changes:
            episode = state.episodes[change.measure]
            self.uow.publish(exceedance_event(self.info, episode, change.status, state.shift, limits, factor))
            self.latest[episode.episode_id] = (episode, state, limits, factor)
            self.count += 1

    def refresh(self, episodes: list[Episode], state: ShiftState, limits: MonitoringLimits, factor: FactorLimit) -> None:
        """Episodes whose read model is saved at the end although nothing is published for them (an open episode grows)."""
        for episode in episodes:
            self.latest.setdefault(episode.episode_id, (episode, state, limits, factor))

    def finish(self) -> int:
        for episode, state, limits, factor in self.latest.values():
            save_episode(self.uow, self.info, episode, state.shift, limits, factor)
        if self.count or self.new_shift:
            self.uow.monitoring.mark_coverage_stale([self.info.credit_code])
        return self.count


TRACE_CODES = {"twa": "monitoring.trace.twa", "stel": "monitoring.trace.stel", "peak": "monitoring.trace.peak", "silent": "monitoring.trace.silent"}


def trace_of(info: DeviceInfo, episode: Episode, limits: MonitoringLimits, factor: FactorLimit) -> list[TraceEntry]:
    params: dict[str, Any] = {"factor": info.factor, "post": info.post, "device_id": info.device_id, "unit": factor.unit,
                              "limit": episode.limit, "observed": episode.observed, "minutes": limits.silent_after_minutes,
                              "stel_minutes": limits.stel_minutes, "row": factor.row, "version": limits.label()}
    code = TRACE_CODES[episode.measure]
    rule = f"{limits.label()} · {factor.row}" if episode.measure != "silent" else f"{limits.label()} · silent_after_minutes"
    return [TraceEntry(rule=rule, code=code, params=params, detail=i18n.text(code, params))]


def exceedance_event(info: DeviceInfo, episode: Episode, status: str, shift: Shift, limits: MonitoringLimits,
                     factor: FactorLimit) -> ExceedanceDetected:
    return ExceedanceDetected(
        producer=PRODUCER, credit_code=info.credit_code, episode_id=episode.episode_id, status=status, region_code=info.region_code,  # type: ignore[arg-type]
        device_id=info.device_id, factor=info.factor, kind=factor.kind, post=info.post, measure=episode.measure,  # type: ignore[arg-type]
        limit=episode.limit, unit=factor.unit, observed=episode.observed, started_at=episode.started_at,
        ended_at=episode.ended_at if status == "closed" or episode.measure != "twa" else None, shift_day=shift.day,
        evidence=[EvidenceReading(at=at, value=value) for at, value in _strongest_first(episode)],
        rule_set=RuleSetRef(jurisdiction=limits.jurisdiction, version=limits.version, effective_from=limits.effective_from,
                            provisional=limits.provisional or factor.provisional),
        trace=trace_of(info, episode, limits, factor))


def _strongest_first(episode: Episode) -> list[tuple[datetime, float]]:
    return sorted(episode.evidence, key=lambda r: (-r[1], r[0]))[:200]


def save_episode(uow: MonitoringUnitOfWork, info: DeviceInfo, episode: Episode, shift: Shift, limits: MonitoringLimits, factor: FactorLimit) -> None:
    row = uow.monitoring.episode(episode.episode_id) or ExceedanceEpisode(
        episode_id=episode.episode_id, device_id=info.device_id, credit_code=info.credit_code, region_code=info.region_code,
        factor=info.factor, kind=factor.kind, post=info.post, measure=episode.measure, unit=factor.unit, status=episode.status,
        started_at=as_utc(episode.started_at), shift_day=shift.day, rule_set={}, trace=[])
    row.limit, row.observed, row.status = episode.limit, episode.observed, episode.status
    row.started_at, row.ended_at = as_utc(episode.started_at), as_utc(episode.ended_at)
    row.evidence = [{"at": at.isoformat(), "value": value} for at, value in _strongest_first(episode)]
    row.rule_set = {**limits.ref(), "provisional": limits.provisional or factor.provisional}
    row.trace = [entry.model_dump(mode="json") for entry in trace_of(info, episode, limits, factor)]
    row.updated_at = utc_now()
    uow.monitoring.add(row)


# --------------------------------------------------------------------------- the timer


SWEEP_CHUNK = 500  # devices per transaction of the timer: a batch of readings waits for one chunk, not for the whole pass


def sweep(uow: MonitoringUnitOfWork, book: LimitBook, now: datetime, chunk: int = SWEEP_CHUNK) -> int:
    """Close the shifts that are over (``late_allowance_minutes`` after their end, so a reading delivered late still
    counts) and open the silent episode of a device whose current shift has a gap longer than ``silent_after_minutes
    + late_allowance_minutes`` up to ``now``. Deterministic on the stored readings and ``now``. Reads only the devices
    due (indexed queries, not every device), then handles them ``chunk`` at a time, each chunk its own short
    transaction (committed), so readings never wait long for the timer. Answers how many changes were published."""
    due = sorted(due_devices(uow, book, now))
    published = 0
    for first in range(0, len(due), chunk):
        published += _sweep_devices(uow, due[first:first + chunk], _Limits(book), now)
        uow.commit()
    uow.commit()  # nothing due: the read transaction ends all the same
    return published


def due_devices(uow: MonitoringUnitOfWork, book: LimitBook, now: datetime) -> set[str]:
    """The devices the timer may have something to do for (a superset, re-checked under the lock): an open shift
    over by the smallest late allowance in the book, or a gap of the current shift long enough, per county."""
    repo = uow.monitoring
    limits_for = _Limits(book)
    allowance = min((limits.late_allowance_minutes for limits in book.limits), default=0)
    due = {device_id for device_id, _, _ in repo.open_shift_ends(now - timedelta(minutes=allowance))}
    today = now.astimezone(CHINA).date()
    for region_code in repo.device_regions():
        limits = limits_for(region_code, today)
        current = shift_of(now, limits) if limits is not None else None
        if limits is None or current is None:
            continue
        cut = min(now, current.end) - timedelta(minutes=limits.silent_after_minutes + limits.late_allowance_minutes)
        due.update(repo.sweep_candidates(region_code, current.start, cut))
    return due


def _sweep_devices(uow: MonitoringUnitOfWork, due: list[str], limits_for: _Limits, now: datetime) -> int:
    """One chunk of the timer's devices, in one write transaction: locked (a batch of their readings waits) and read
    again, checked again (a batch may have come since the first look), then their shifts closed or found silent."""
    repo = uow.monitoring
    uow.begin_write()
    published = 0
    devices = list(repo.devices(due, lock=True, fresh=True).values())
    open_rows: dict[str, list[ShiftAggregate]] = {}
    for row in repo.open_shifts(due, fresh=True):
        open_rows.setdefault(row.device_id, []).append(row)
    for device in devices:
        rows = open_rows.get(device.device_id, [])
        if not _due(device, [(row.shift_day, utc(row.shift_end)) for row in rows], limits_for, now):  # type: ignore[misc]
            continue
        info = device_info(device)
        out = _Outgoing(uow, info)
        today_limits = limits_for(info.region_code, now.astimezone(CHINA).date())
        current = shift_of(now, today_limits) if today_limits is not None else None
        have_current = False
        for row in rows:
            limits = limits_for(info.region_code, row.shift_day)
            factor = limits.factor(info.factor) if limits is not None else None
            if limits is None or factor is None:
                continue
            state = ShiftState.from_json(row.device_id, Shift(row.shift_day, row.shift_index, utc(row.shift_start), utc(row.shift_end)), row.state)  # type: ignore[arg-type]
            detector = Detector(info, limits, factor)
            before = out.count
            if _over(device, state.shift.end, limits, now):
                out.add(detector.close(state), state, limits, factor)
                device.closed_through = as_utc(max(utc(device.closed_through) or state.shift.end, state.shift.end))
                repo.add(device)
            elif now >= state.shift.end + timedelta(minutes=limits.late_allowance_minutes):
                continue  # a past shift a back-fill is still filling: judged once its readings stop arriving
            else:
                have_current = have_current or (current is not None and state.shift.start == current.start)
                out.add(detector.silent_now(state, now), state, limits, factor)
            if out.count > before:
                _save_state(uow, state, row, limits)
        if current is not None and not have_current and today_limits is not None and utc(device.registered_at) <= current.start:  # type: ignore[operator]
            factor = today_limits.factor(info.factor)
            existing = repo.shift(device.device_id, current.start)
            if factor is not None and existing is None:
                state = ShiftState(info.device_id, current)
                found = Detector(info, today_limits, factor).silent_now(state, now)
                if found:
                    out.add(found, state, today_limits, factor)
                    out.new_shift = _save_state(uow, state, None, today_limits)
        published += out.finish()
    return published


def _over(device: Device, shift_end: datetime, limits: MonitoringLimits, now: datetime) -> bool:
    """May the timer close a shift that ended at ``shift_end``: ``late_allowance_minutes`` after its end, and as long
    after the device's readings last arrived — a gateway back-filling a past day is not cut off half-way through a shift
    (its own reading after the shift's end closes it)."""
    allowance = timedelta(minutes=limits.late_allowance_minutes)
    received = utc(device.received_at)
    return now >= shift_end + allowance and (received is None or now >= received + allowance)


def _due(device: Device, shifts: list[tuple[date, datetime]], limits_for: _Limits, now: datetime) -> bool:
    """Has the timer anything to do for the device: a shift to close, or a gap of the current shift to look at?"""
    for day, end in shifts:
        limits = limits_for(device.region_code, day)
        if limits is not None and _over(device, end, limits, now):
            return True
    limits = limits_for(device.region_code, now.astimezone(CHINA).date())
    current = shift_of(now, limits) if limits is not None else None
    if current is None or limits is None:
        return False
    last, registered = utc(device.last_at), utc(device.registered_at)
    gap_start = last if last is not None and last >= current.start else (current.start if registered is not None and registered <= current.start else None)
    return gap_start is not None and (min(now, current.end) - gap_start).total_seconds() > (limits.silent_after_minutes + limits.late_allowance_minutes) * 60


PURGE_WINDOW_MS = 60_000  # a minute of readings per transaction (~48,000 at a province's 800/s)


def purge(uow: MonitoringUnitOfWork, now: datetime, raw_days: int, window_ms: int = PURGE_WINDOW_MS) -> int:
    """Forget raw readings older than ``raw_days`` (the shift aggregates and episodes stay), oldest first, a window
    of ``window_ms`` per committed transaction (a batch of readings never waits for the whole purge)."""
    repo = uow.monitoring
    cutoff = round((now - timedelta(days=raw_days)).timestamp() * 1000)
    removed = 0
    oldest = repo.oldest_reading_ms()
    while oldest is not None and oldest < cutoff:
        uow.begin_write()
        removed += repo.purge_readings(min(oldest + window_ms, cutoff))
        uow.commit()
        oldest = repo.oldest_reading_ms()
    uow.commit()
    return removed
