"""Monitoring HTTP API: devices, readings in batches, exceedance episodes. Parse, authorise, delegate: the use
cases are in ``service_layer``, the read models in ``views``.

Who may do what is decided by the token and the data: county, city and province staff for the employers of
their jurisdiction, an employer for itself (devices, episodes); readings are sent by staff whose jurisdiction
covers the device's county — the provincial gateway sends with a province token. Anything outside the caller's
scope answers 404 like what does not exist; a reading for a device outside it is refused as unknown."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import Field, field_validator

from services.monitoring import views
from services.monitoring.service_layer import devices, readings
from shared.auth import Principal
from shared.contracts import RequestModel, utc_now
from shared.contracts.monitoring import DEVICE_ID_MAX, READINGS_PER_RECORD_MAX
from shared.errors import Refusal, once_more_after_a_race
from shared.http import CurrentPrincipal, LimitQuery, OffsetQuery, StaffPrincipal, UnitOfWorkDep
from shared.identifiers import credit_code_problem
from shared.limits import route_body_limit
from shared.problems import refusal

router = APIRouter()
log = logging.getLogger(__name__)

DEVICE_PATTERN = r"^[A-Za-z0-9._:-]+$"
BATCH_BODY_BYTES = 4 * 1024 * 1024  # 10,000 readings of ~120 bytes, with room


def _credit_code(value: str, field: str = "credit_code") -> str:
    if problem := credit_code_problem(value):
        raise Refusal(422, problem.code, problem.params, field=field)
    return value


class DeviceIn(RequestModel):
    device_id: str = Field(min_length=1, max_length=DEVICE_ID_MAX, pattern=DEVICE_PATTERN, description="the gateway's id of the device")
    credit_code: str = Field(min_length=1, max_length=64, description="the employer's 统一社会信用代码")
    factor: str = Field(min_length=1, max_length=64, description="a hazard factor the limit rule data knows, e.g. 矽尘, 噪声")
    post: str = Field(min_length=1, max_length=100, description="the post (岗位) the device watches")
    unit: str = Field(min_length=1, max_length=16, description="the unit of the factor's limit, e.g. mg/m³, dB(A), °C")


class ReadingItem(RequestModel):
    device_id: str = Field(min_length=1, max_length=DEVICE_ID_MAX, pattern=DEVICE_PATTERN)
    at: datetime = Field(strict=False, description="the instant with its offset, e.g. 2026-12-06T08:00:00+08:00")
    value: float = Field(strict=False, allow_inf_nan=False, ge=-1e9, le=1e9)
    unit: str | None = Field(default=None, min_length=1, max_length=16, description="optional; refused when not the device's unit")

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise refusal("errors.field.timezone_aware")
        if not 2000 <= value.year <= 9000:  # else its UTC instant may not exist (9999-12-31T23:00-12:00); per-item checks do the rest
            raise refusal("errors.field.instant_years")
        return value


class ReadingsBatch(RequestModel):
    readings: list[ReadingItem] = Field(min_length=1, max_length=READINGS_PER_RECORD_MAX,
                                        description=f"at most {READINGS_PER_RECORD_MAX:,} readings, each device's in time order")


def _readable_employer(u: Any, principal: Principal, credit_code: str) -> None:
    """404 unless the caller may read the employer where the service has it (its county as announced)."""
    employer = u.monitoring.employer(credit_code)
    if not principal.can_read(credit_code, employer.region_code if employer else None):
        raise Refusal(404, "monitoring.error.employer_not_found", {"credit_code": credit_code}, field="credit_code")


def _limits(request: Request) -> Any:
    return request.app.state.limits


def _may_register(principal: Principal, credit_code: str):  # noqa: ANN202
    if principal.role == "auditor":
        raise Refusal(403, "monitoring.error.auditor_reads_only")
    return lambda employer: principal.can_act_for(credit_code, employer.region_code)


@router.post("/devices", tags=["devices 监测设备"], status_code=201, summary="Register an online monitoring device at an employer's post",
             responses={404: {"description": "the employer is unknown to the service, or outside the caller's jurisdiction"},
                        409: {"description": "the device id is registered otherwise"},
                        422: {"description": "a factor the limits do not know, or not the unit of its limit"}},
             description="County, city or province staff of the employer's jurisdiction, or the employer for itself. The employer "
             "must be known (its archive announcement or classified report consumed). Registering the same device again answers it.")
async def post_device(body: DeviceIn, request: Request, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> dict[str, Any]:
    _credit_code(body.credit_code)
    may = _may_register(principal, body.credit_code)
    book = _limits(request)

    async def register() -> dict[str, Any]:
        return await uow.run(lambda u: views.device_view(devices.register_device(
            u, device_id=body.device_id, credit_code=body.credit_code, factor=body.factor, post=body.post, unit=body.unit,
            may_register=may, by=principal.describe(), book=book, now=utc_now())))

    try:
        return await once_more_after_a_race(register)
    except devices.DeviceRefused as refused:
        raise Refusal(refused.status, refused.code, refused.params, field=refused.field) from None


@router.get("/devices", tags=["devices 监测设备"], summary="An employer's monitoring devices",
            responses={404: {"description": "outside the caller's jurisdiction"}})
async def get_devices(principal: CurrentPrincipal, uow: UnitOfWorkDep,
                      credit_code: Annotated[str, Query(min_length=1, max_length=64, description="统一社会信用代码")]) -> dict[str, Any]:
    _credit_code(credit_code)

    def read(u: Any) -> dict[str, Any]:
        _readable_employer(u, principal, credit_code)
        return views.devices_of(u.session, credit_code)

    return await uow.run(read)


@router.get("/devices/{device_id}", tags=["devices 监测设备"], summary="A monitoring device",
            responses={404: {"description": "no such device, or outside the caller's jurisdiction"}})
async def get_device(device_id: Annotated[str, Path(min_length=1, max_length=DEVICE_ID_MAX)], principal: CurrentPrincipal,
                     uow: UnitOfWorkDep) -> dict[str, Any]:
    def read(u: Any) -> dict[str, Any]:
        device = u.monitoring.device(device_id)
        if device is None or not principal.can_read(device.credit_code, device.region_code):
            raise Refusal(404, "monitoring.error.device_not_found", {"device_id": device_id})
        return views.device_view(device)

    return await uow.run(read)


@router.post("/readings:batch", tags=["readings 监测数据"], summary="Readings of monitoring devices, up to 10,000 at once",
             openapi_extra=route_body_limit(BATCH_BODY_BYTES),
             description="Staff whose jurisdiction covers each device's county (the provincial gateway: a province token). Every "
             "reading is answered in `items` (by `index`): `accepted`, or `refused` with a `code` and the `field` at fault — an "
             "unknown device (or one outside the caller's jurisdiction), a unit not the device's, a value outside the factor's "
             "physical range, an instant not after the device's last accepted reading (`out_of_order`, `duplicate_instant`), or "
             "in a shift already judged. Accepted readings are stored and judged against the limits in force; episodes go out "
             "on `ohs.monitoring.exceedances`.")
async def post_readings(body: ReadingsBatch, request: Request, principal: StaffPrincipal, uow: UnitOfWorkDep) -> Response:
    batch = [readings.ReadingIn(r.device_id, r.at, r.value, r.unit) for r in body.readings]
    book = _limits(request)

    async def ingest() -> readings.BatchResult:
        return await uow.run(lambda u: readings.ingest(u, batch, book, lambda device: principal.covers_region(device.region_code)))

    result = await once_more_after_a_race(ingest)
    items = [{"index": i, "status": s, "code": c, "field": f} for i, s, c, f in result.items]
    return Response(json.dumps({"accepted": result.accepted, "refused": len(batch) - result.accepted, "items": items}, ensure_ascii=False),
                    media_type="application/json")


@router.get("/exceedances", tags=["exceedances 超标"], summary="An employer's exceedance episodes, newest first",
            responses={404: {"description": "outside the caller's jurisdiction"}},
            description="One item per episode (device, measure, shift): `open` while its shift runs, then `closed`.")
async def get_exceedances(principal: CurrentPrincipal, uow: UnitOfWorkDep,
                          credit_code: Annotated[str, Query(min_length=1, max_length=64, description="统一社会信用代码")],
                          limit: LimitQuery = 100, offset: OffsetQuery = 0) -> dict[str, Any]:
    _credit_code(credit_code)

    def read(u: Any) -> dict[str, Any]:
        _readable_employer(u, principal, credit_code)
        return views.exceedances_of(u.session, credit_code, limit, offset)

    return await uow.run(read)
