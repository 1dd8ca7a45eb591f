"""Read models of the monitoring service: devices and episodes as the API answers them."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from services.monitoring.adapters.orm import Device, ExceedanceEpisode
from services.monitoring.adapters.repository import utc


def _instant(value: Any) -> str | None:
    return utc(value).isoformat() if value is not None else None  # type: ignore[union-attr]


def device_view(device: Device) -> dict[str, Any]:
    return {"device_id": device.device_id, "credit_code": device.credit_code, "region_code": device.region_code, "factor": device.factor,
            "kind": device.kind, "post": device.post, "unit": device.unit, "registered_at": _instant(device.registered_at),
            "registered_by": device.registered_by, "last_reading_at": _instant(device.last_at), "last_value": device.last_value,
            "readings": device.readings, "refused": device.refused or 0,
            "last_refusal": {"code": device.last_refusal, "at": _instant(device.last_refusal_at)} if device.last_refusal else None}


def devices_of(session: Session, credit_code: str) -> dict[str, Any]:
    rows = session.exec(select(Device).where(Device.credit_code == credit_code).order_by(Device.device_id))
    return {"items": [device_view(d) for d in rows]}


def episode_view(row: ExceedanceEpisode) -> dict[str, Any]:
    return {"episode_id": row.episode_id, "status": row.status, "device_id": row.device_id, "credit_code": row.credit_code,
            "region_code": row.region_code, "factor": row.factor, "kind": row.kind, "post": row.post, "measure": row.measure,
            "limit": row.limit, "observed": row.observed, "unit": row.unit, "started_at": _instant(row.started_at),
            "ended_at": _instant(row.ended_at), "shift_day": row.shift_day.isoformat(), "evidence": row.evidence,
            "rule_set": row.rule_set, "trace": row.trace}


def exceedances_of(session: Session, credit_code: str, limit: int, offset: int) -> dict[str, Any]:
    rows = session.exec(select(ExceedanceEpisode).where(ExceedanceEpisode.credit_code == credit_code)
                        .order_by(col(ExceedanceEpisode.started_at).desc(), ExceedanceEpisode.measure).offset(offset).limit(limit))
    return {"items": [episode_view(r) for r in rows]}
