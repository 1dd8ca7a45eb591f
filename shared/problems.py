"""Why a value is refused, said with a message code (``shared.i18n``), for every checker of the platform.

A :class:`Problem` is the answer of a ``*_problem`` check (``shared.identifiers.credit_code_problem`` …):
a ``str`` holding the English text, so every caller that writes it into a log or a sentence keeps
working, with the **code** and **parameters** beside it, so an answer to a person renders it in their
language (``problem.text("zh_CN")``) and a program reads the code.

In a pydantic validator, ``raise problem.error()`` (or ``raise refusal("errors.…", **params)``): a
:class:`pydantic_core.PydanticCustomError` whose ``type`` IS the message code and whose ``ctx`` holds the
parameters. The one error body (``shared/errors.py``) renders such an error from its code in the
reader's language; pydantic's own ``msg`` of it is the Chinese text (what a spreadsheet row or a log
shows without asking for a language; ``shared.errors.issue_of(error).message(locale)`` for another).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic_core import PydanticCustomError

from shared import i18n


class Problem(str):
    """A refusal's English text (the ``str``), with its message ``code`` and ``params`` (JSON values)."""

    code: str
    params: dict[str, Any]

    def __new__(cls, code: str, /, **params: Any) -> "Problem":
        problem = super().__new__(cls, i18n.text(code, params, i18n.EN))
        problem.code = code
        problem.params = params
        return problem

    def text(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        """The problem in ``locale`` (zh_CN, the default, or en)."""
        return i18n.text(self.code, self.params, locale)

    def error(self) -> PydanticCustomError:
        """The problem as pydantic's validation error: ``type`` the code, ``ctx`` the parameters, ``msg`` the Chinese text."""
        return PydanticCustomError(self.code, self.text(), self.params)


def refusal(code: str, /, **params: Any) -> PydanticCustomError:
    """A validator's refusal said with a message code: ``raise refusal("errors.field.nul_character")``."""
    return Problem(code, **params).error()



@dataclass(frozen=True)
class InputProblem:
    """What is wrong with one input (``field``, dotted as the client sent it), as a message code and its
    parameters; ``message`` is the Chinese text (the interface of ``shared.contracts.FieldProblem``)."""

    field: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return i18n.text(self.code, self.params)

    def text(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        return i18n.text(self.code, self.params, locale)

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"
