"""Where the registry's archive has each employer: a projection other services keep of
``ohs.registry.classification-changed`` (the highest archive version wins), so that the employer's
jurisdiction is the archive's, never a caller's claim (RULES §5a). Assessment decides who may
submit an employer's reports by it, penalty the county of a case.

Each service keeps it in a table of its own (``<service>_archived_employer``, a subclass of
:class:`ArchivedEmployerBase`); this module holds the columns, the repository and the rule once."""

from __future__ import annotations

import abc
from typing import Any, Generic, TypeVar

from sqlmodel import Field, Session, SQLModel

from shared.contracts import ClassificationChanged
from shared.db import lookup, preload, remember


class ArchivedEmployerBase(SQLModel):
    credit_code: str = Field(primary_key=True, max_length=18)
    region_code: str = Field(max_length=6)  # the county the archive has the employer in
    archive_version: int


E = TypeVar("E", bound=ArchivedEmployerBase)


class AbstractArchivedEmployers(abc.ABC, Generic[E]):
    model: type[E]

    @abc.abstractmethod
    def get(self, credit_code: str) -> E | None: ...

    @abc.abstractmethod
    def add(self, employer: E) -> None: ...

    def preload(self, credit_codes: list[str]) -> None:
        """Load these employers at once (a batch); a store held in memory has nothing to do."""


class SqlArchivedEmployers(AbstractArchivedEmployers[E]):
    def __init__(self, session: Session, model: type[E]) -> None:
        self.session, self.model = session, model

    def get(self, credit_code: str) -> E | None:
        return lookup(self.session, self.model, credit_code)

    def add(self, employer: E) -> None:
        remember(self.session, employer)

    def preload(self, credit_codes: list[str]) -> None:
        preload(self.session, self.model, credit_codes)


def preload_archived_employers(uow: Any, events: list[ClassificationChanged]) -> None:
    """Before a batch of announcements (a subscription's ``prepare``): the employers held, in one query."""
    uow.archived_employers.preload([event.credit_code for event in events])


def remember_archive_region(employers: AbstractArchivedEmployers[E], event: ClassificationChanged) -> None:
    """Keep the region of the highest archive version; an older announcement arriving late changes nothing."""
    known = employers.get(event.credit_code)
    if known is not None and known.archive_version >= event.archive_version:
        return
    known = known or employers.model(credit_code=event.credit_code, region_code=event.region_code, archive_version=event.archive_version)
    known.region_code, known.archive_version = event.region_code, event.archive_version
    employers.add(known)
