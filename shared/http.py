"""FastAPI dependencies every service's routes share (after Netflix dispatch's
``database/core.py``): declare what a route needs as a typed parameter, and the dependency
parses, authenticates or authorises it before the route body runs.

* ``CurrentPrincipal`` — the caller from a valid bearer token, else 401.
* ``StaffPrincipal`` — the caller, who must be supervision staff (county, city, province), else 403.
* ``ReaderPrincipal`` — staff or an auditor (region-wide reads), else 403.
* ``CreditCodePath`` — a ``{credit_code}`` path parameter that is a valid 统一社会信用代码, else 422.
* ``UnitOfWorkDep`` — the service's unit-of-work factory; the route hands it the use case.
* ``RuntimeDep`` — the service's runtime (settings, rule books on ``app.state``), for the rare
  route that needs more than the unit of work.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request

from shared.auth import Principal, authenticate
from shared.identifiers import credit_code_problem
from shared.unit_of_work import UnitOfWorkFactory

CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


async def require_staff(principal: CurrentPrincipal) -> Principal:
    """The caller, who must be supervision staff; anyone else gets 403 naming their role."""
    if not principal.is_staff:
        raise HTTPException(status_code=403, detail=f"only supervision staff may do this, not an {principal.role}'s token")
    return principal


StaffPrincipal = Annotated[Principal, Depends(require_staff)]


async def require_staff_or_auditor(principal: CurrentPrincipal) -> Principal:
    """The caller, who must be staff or an auditor (reads of a whole region); an employer gets 403."""
    if principal.role == "employer":
        raise HTTPException(status_code=403, detail="this is for supervision staff and auditors; an employer's token reads its own records only")
    return principal


ReaderPrincipal = Annotated[Principal, Depends(require_staff_or_auditor)]


def valid_credit_code(credit_code: Annotated[str, Path(min_length=1, max_length=64, description="统一社会信用代码 (GB 32100-2015)")]) -> str:
    """The ``{credit_code}`` path parameter, checked (length, alphabet, check character), else 422."""
    if problem := credit_code_problem(credit_code):
        raise HTTPException(status_code=422, detail=f"credit_code: 统一社会信用代码 {problem}")
    return credit_code


CreditCodePath = Annotated[str, Depends(valid_credit_code)]


def unit_of_work(request: Request) -> UnitOfWorkFactory[Any]:
    return request.app.state.runtime.uow


UnitOfWorkDep = Annotated[UnitOfWorkFactory[Any], Depends(unit_of_work)]


def runtime(request: Request) -> Any:
    return request.app.state.runtime


RuntimeDep = Annotated[Any, Depends(runtime)]
