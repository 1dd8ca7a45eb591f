"""Kafka subscriptions of the monitoring service: the archive's and the assessment's announcements (what it knows of
employers), and the gateways' readings, which go through the same use case as ``POST /readings:batch``."""

from __future__ import annotations

import logging

from services.monitoring.domain.rules import LimitBook
from services.monitoring.service_layer import readings
from services.monitoring.service_layer.devices import remember_employer, remember_hazards  # noqa: F401 (subscribed by bootstrap)
from services.monitoring.service_layer.unit_of_work import MonitoringUnitOfWork
from shared.contracts import DeviceReadings

__all__ = ["RecordRefused", "remember_employer", "remember_hazards", "take_gateway_readings"]
log = logging.getLogger(__name__)
OTHER_DEVICE = "monitoring.reading.other_device"


class RecordRefused(ValueError):
    """A gateway record none of whose readings could be accepted: dead-lettered with the reasons (retrying cannot fix it)."""


def take_gateway_readings(uow: MonitoringUnitOfWork, event: DeviceReadings, *, limits: LimitBook) -> None:
    """A gateway's record: its readings through the batch use case. A record all of whose readings are refused raises
    :class:`RecordRefused` naming the codes (the consumer retries, then dead-letters it with that reason); a record
    with some accepted is applied, its refusals counted on the device (``refused``, ``last_refusal``) and logged with
    their codes (the HTTP batch answers them instead).
    The consumer commits: a later record of the batch failing rolls this one back too, to be applied on its own."""
    batch = [readings.ReadingIn(event.device_id, r.at, r.value) for r in event.readings if r.device_id == event.device_id]
    foreign = len(event.readings) - len(batch)
    result = readings.ingest(uow, batch, limits, commit=False) if batch else readings.BatchResult(0, [])
    refused = result.refused()
    codes = ", ".join(sorted({code or "" for _, code in refused} | ({OTHER_DEVICE} if foreign else set())))
    if result.accepted == 0:
        raise RecordRefused(f"gateway {event.gateway_id}: all {len(event.readings)} readings of device {event.device_id} refused: {codes}")
    if foreign:  # counted on the record's device like its other refusals (GET /devices/{id}: refused, last_refusal)
        readings.note_refused(uow, event.device_id, foreign, OTHER_DEVICE)
    if refused or foreign:
        log.warning("gateway %s, device %s: %d of %d readings refused (%s)", event.gateway_id, event.device_id, len(refused) + foreign,
                    len(event.readings), codes)
