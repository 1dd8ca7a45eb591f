"""The monitoring service's repositories over the unit of work's session: devices, raw readings (bulk), shift
aggregates with the detector's state, episodes and employers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timezone

from sqlalchemy import and_, delete, func, insert, or_, update
from sqlmodel import Session, col, select

from services.monitoring.adapters.orm import Device, ExceedanceEpisode, MonitoredEmployer, RawReading, ShiftAggregate


def utc(value: datetime | None) -> datetime | None:
    """An instant read back from the database as an aware UTC datetime."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """An instant to store (the columns keep aware UTC instants)."""
    return None if value is None else value.astimezone(timezone.utc)


class SqlMonitoringRepository:
    def __init__(self, session: Session):
        self.session = session

    # ------------------------------------------------------------------ devices
    def device(self, device_id: str) -> Device | None:
        return self.session.get(Device, device_id)

    def devices(self, device_ids: Iterable[str], lock: bool = False, fresh: bool = False) -> dict[str, Device]:
        ids = sorted(set(device_ids))
        if not ids:
            return {}
        query = select(Device).where(col(Device.device_id).in_(ids)).order_by(Device.device_id)
        if lock:
            query = query.with_for_update()  # two batches for one device take turns (PostgreSQL; SQLite writes one at a time)
        if fresh:
            query = query.execution_options(populate_existing=True)
        return {d.device_id: d for d in self.session.exec(query)}

    def devices_of(self, credit_code: str) -> list[Device]:
        return list(self.session.exec(select(Device).where(Device.credit_code == credit_code).order_by(Device.device_id)))

    def add(self, row: object) -> None:
        self.session.add(row)

    def begin_write(self) -> None:
        """SQLite: open the session's transaction as a writer (``BEGIN IMMEDIATE``) unless it is in one already; see
        :meth:`MonitoringUnitOfWork.begin_write`. Elsewhere nothing (row locks)."""
        connection = self.session.connection()
        if connection.dialect.name != "sqlite":
            return
        if not connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    def sweep_candidates(self, region_code: str, shift_start: datetime, cut: datetime) -> list[str]:
        """The devices of a county that may have gone silent in the current shift (started ``shift_start``): no reading
        since before ``cut`` (their last one in the shift, or none in it and registered before it), and no silent
        episode of the shift yet. Indexed: (region, last reading) of the devices, (device, measure, start) of the
        episodes — the timer reads the few devices due, not every device."""
        episode = ExceedanceEpisode.__table__.c  # type: ignore[attr-defined]
        device = Device.__table__.c  # type: ignore[attr-defined]
        judged = (select(episode.episode_id).where(episode.device_id == device.device_id, episode.measure == "silent",
                                                    episode.started_at >= as_utc(shift_start)).exists())
        start, cut = as_utc(shift_start), as_utc(cut)
        gap = and_(device.last_at >= start, device.last_at < cut)
        if start < cut:  # the shift itself is older than the allowed gap: a device silent since its start is due too
            gap = or_(gap, and_(or_(device.last_at.is_(None), device.last_at < start), device.registered_at <= start))
        query = select(device.device_id).where(device.region_code == region_code, gap, ~judged)
        return list(self.session.execute(query).scalars())

    def device_regions(self) -> list[str]:
        return list(self.session.execute(select(Device.__table__.c.region_code).distinct()).scalars())  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ readings
    def insert_readings(self, rows: list[dict[str, object]]) -> None:
        """Bulk insert, no ORM objects: COPY on PostgreSQL (in the unit of work's transaction), one executemany elsewhere."""
        if not rows:
            return
        connection = self.session.connection()
        if connection.dialect.name == "postgresql":
            raw = connection.connection.driver_connection  # psycopg 3, in the session's transaction
            with raw.cursor() as cursor, cursor.copy("COPY monitoring_reading (device_id, at_ms, value) FROM STDIN") as copy:  # type: ignore[union-attr]
                for row in rows:
                    copy.write_row((row["device_id"], row["at_ms"], row["value"]))
            return
        self.session.execute(insert(RawReading.__table__), rows)

    def oldest_reading_ms(self) -> int | None:
        return self.session.execute(select(func.min(RawReading.__table__.c.at_ms))).scalar()  # type: ignore[attr-defined]

    def purge_readings(self, before_ms: int) -> int:
        result = self.session.execute(delete(RawReading.__table__).where(RawReading.__table__.c.at_ms < before_ms))
        return int(result.rowcount or 0)

    # ------------------------------------------------------------------ shifts
    def open_shifts(self, device_ids: Iterable[str], fresh: bool = False) -> list[ShiftAggregate]:
        ids = sorted(set(device_ids))
        if not ids:
            return []
        query = select(ShiftAggregate).where(col(ShiftAggregate.device_id).in_(ids), col(ShiftAggregate.closed).is_(False)).order_by(ShiftAggregate.shift_start)
        return list(self.session.exec(query.execution_options(populate_existing=True) if fresh else query))

    def open_shift_ends(self, ended_by: datetime) -> list[tuple[str, date, datetime]]:
        """(device, shift day, shift end) of the shifts not yet closed that ended by ``ended_by``, without the detector
        states (the timer's first look; indexed by (closed, end))."""
        query = select(ShiftAggregate.device_id, ShiftAggregate.shift_day, ShiftAggregate.shift_end).where(
            col(ShiftAggregate.closed).is_(False), col(ShiftAggregate.shift_end) <= as_utc(ended_by))
        return [(device_id, day, utc(end)) for device_id, day, end in self.session.exec(query)]  # type: ignore[misc]

    def shift(self, device_id: str, shift_start: datetime) -> ShiftAggregate | None:
        return self.session.get(ShiftAggregate, (device_id, as_utc(shift_start)))

    def reporting_devices(self, device_ids: list[str], since: datetime) -> set[str]:
        """Which of the devices have a shift with readings since ``since`` (no detector states read: the primary key)."""
        if not device_ids:
            return set()
        query = select(ShiftAggregate.device_id).where(col(ShiftAggregate.device_id).in_(device_ids), col(ShiftAggregate.shift_start) >= as_utc(since),
                                                       col(ShiftAggregate.count) > 0).distinct()
        return set(self.session.exec(query))

    # ------------------------------------------------------------------ episodes
    def episode(self, episode_id: str) -> ExceedanceEpisode | None:
        return self.session.get(ExceedanceEpisode, episode_id)

    def first_data_day(self, device_ids: list[str]) -> date | None:
        """The earliest shift day with readings of any of the devices (the primary key (device, shift start))."""
        if not device_ids:
            return None
        query = select(func.min(ShiftAggregate.shift_day)).where(col(ShiftAggregate.device_id).in_(device_ids), col(ShiftAggregate.count) > 0)
        return self.session.exec(query).one()  # type: ignore[call-overload,no-any-return]

    def exceedances_by_factor(self, credit_code: str, since_day: date) -> dict[str, int]:
        """The employer's episodes (not silences) of the shifts from ``since_day`` on, counted by factor (the index on
        (employer, shift day); no evidence read)."""
        episode = ExceedanceEpisode.__table__.c  # type: ignore[attr-defined]
        query = (select(episode.factor, func.count()).where(episode.credit_code == credit_code, episode.shift_day >= since_day,
                                                             episode.measure != "silent").group_by(episode.factor))
        return {factor: count for factor, count in self.session.execute(query)}

    # ------------------------------------------------------------------ employers
    def employer(self, credit_code: str) -> MonitoredEmployer | None:
        return self.session.get(MonitoredEmployer, credit_code)

    def coverage_due(self, today: date) -> list[str]:
        """The monitored employers (with a device) whose coverage is stale or not yet published today."""
        employer, device = MonitoredEmployer.__table__.c, Device.__table__.c  # type: ignore[attr-defined]
        monitored = select(device.device_id).where(device.credit_code == employer.credit_code).exists()
        due = or_(employer.coverage_stale.is_(True), employer.coverage_published_on.is_(None), employer.coverage_published_on < today)
        return list(self.session.execute(select(employer.credit_code).where(due, monitored).order_by(employer.credit_code)).scalars())

    def mark_coverage_stale(self, credit_codes: Iterable[str]) -> None:
        codes = sorted(set(credit_codes))
        if codes:
            self.session.execute(update(MonitoredEmployer.__table__).where(MonitoredEmployer.__table__.c.credit_code.in_(codes))  # type: ignore[attr-defined]
                                 .values(coverage_stale=True))
