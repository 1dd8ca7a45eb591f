"""The registry's texts for people as message codes and parameters (catalogue ``registry``, ``shared.i18n``).

A reason, a note, a step's detail or a line of a trace is a :class:`Said`: its code and parameters, a
parameter possibly itself a ``Said`` (the basis a reason names, the parts of a portrait change). Its
:meth:`Said.text` is the text in Chinese (the default) or English; what the registry stores in a row (a
version's reason, a history note) is the Chinese text, what it announces carries the code and parameters
beside it (``shared.contracts.registry``: ``code``/``params`` of each event, rendered by ``render``).

A text several things make up (a change-log reason and its notes) is :func:`joined`: ``；`` in Chinese,
``; `` in English; as a parameter of another text, :class:`Parts`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared import i18n
from shared.contracts.registry import PARTS_SEPARATOR, render


def _json(value: Any) -> Any:
    if isinstance(value, Said):
        return value.message
    if isinstance(value, Parts):
        return {"parts": [_json(part) for part in value.parts]}
    if isinstance(value, (list, tuple)):
        return [_json(item) for item in value]
    return value


@dataclass(frozen=True)
class Parts:
    """Several texts read as one parameter: ``；`` between them in Chinese, ``; `` in English."""

    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Said:
    """A text for people: a message code and its parameters (JSON values; a nested ``Said`` is kept as
    ``{"code", "params"}``)."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", {name: _json(value) for name, value in self.params.items()})

    def text(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        return render(self.code, self.params, self.code, locale)

    def __str__(self) -> str:
        return self.text()

    @property
    def message(self) -> dict[str, Any]:
        """``{"code", "params"}``: what an event carries beside its text (``Event(reason=said.text(), **said.message)``)."""
        return {"code": self.code, "params": dict(self.params)}


def say(code: str, **params: Any) -> Said:
    """``say("registry.archive.reason.first", submission_id=…)``."""
    return Said(code, params)


def joined(parts: Iterable[Said | str], locale: str = i18n.DEFAULT_LOCALE) -> str:
    """Several texts read as one: ``；`` in Chinese, ``; `` in English (a ``str`` part as it is)."""
    return PARTS_SEPARATOR.get(locale, PARTS_SEPARATOR[i18n.ZH]).join(p.text(locale) if isinstance(p, Said) else str(p) for p in parts)


def days(count: int) -> Said:
    """``1 day`` / ``3 days`` (日)."""
    return say("registry.common.one_day") if count == 1 else say("registry.common.days", days=count)


def working_days(count: int) -> Said:
    """``1 working day`` / ``3 working days`` (个工作日)."""
    return say("registry.common.one_working_day") if count == 1 else say("registry.common.working_days", days=count)
