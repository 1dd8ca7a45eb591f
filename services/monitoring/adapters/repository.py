"""The monitoring service's repositories over the unit of work's session: devices, raw readings (bulk), shift
aggregates with the detector's state, episodes and employers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timezone

from sqlalchemy import delete, insert
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

    def all_devices(self) -> list[Device]:
        return list(self.session.exec(select(Device).order_by(Device.device_id)))

    def add(self, row: object) -> None:
        self.session.add(row)

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

    def open_shift_ends(self) -> list[tuple[str, date, datetime]]:
        """(device, shift day, shift end) of every shift not yet closed, without the detector states (the timer's first look)."""
        query = select(ShiftAggregate.device_id, ShiftAggregate.shift_day, ShiftAggregate.shift_end).where(col(ShiftAggregate.closed).is_(False))
        return [(device_id, day, utc(end)) for device_id, day, end in self.session.exec(query)]  # type: ignore[misc]

    def shift(self, device_id: str, shift_start: datetime) -> ShiftAggregate | None:
        return self.session.get(ShiftAggregate, (device_id, as_utc(shift_start)))

    def shifts_since(self, device_ids: list[str], since: datetime) -> list[ShiftAggregate]:
        if not device_ids:
            return []
        return list(self.session.exec(select(ShiftAggregate).where(col(ShiftAggregate.device_id).in_(device_ids),
                                                                   col(ShiftAggregate.shift_start) >= as_utc(since))))

    # ------------------------------------------------------------------ episodes
    def episode(self, episode_id: str) -> ExceedanceEpisode | None:
        return self.session.get(ExceedanceEpisode, episode_id)

    def episodes_of(self, credit_code: str, since: datetime | None = None) -> list[ExceedanceEpisode]:
        query = select(ExceedanceEpisode).where(ExceedanceEpisode.credit_code == credit_code)
        if since is not None:
            query = query.where(col(ExceedanceEpisode.started_at) >= as_utc(since))
        return list(self.session.exec(query.order_by(col(ExceedanceEpisode.started_at), ExceedanceEpisode.measure)))

    # ------------------------------------------------------------------ employers
    def employer(self, credit_code: str) -> MonitoredEmployer | None:
        return self.session.get(MonitoredEmployer, credit_code)

    def monitored_employers(self) -> list[str]:
        return sorted(set(self.session.exec(select(Device.credit_code))))
