"""What a sampling use case refuses with; the HTTP routes answer 422 and 409. Each refusal is a message
code and its parameters (``shared.i18n``, catalogue ``sampling``): the route answers it in the reader's
language; ``str()`` and ``message`` are the Chinese text."""

from __future__ import annotations

from typing import Any

from shared import i18n
from shared.problems import InputProblem


Problem = InputProblem  # what is wrong with one input (shared.problems)


class Invalid(Exception):
    """422: the request cannot be carried out as given; ``problems`` name the fields, ``code`` says it in one sentence."""

    def __init__(self, problems: list[Problem], code: str = "sampling.error.invalid", params: dict[str, Any] | None = None):
        self.problems, self.code, self.params = problems, code, dict(params or {})
        super().__init__(i18n.text(code, self.params))

    @property
    def errors(self) -> list[dict[str, str]]:
        """The problems as the error body lists them (in Chinese)."""
        return [{"field": p.field, "code": p.code, "message": p.message} for p in self.problems]


class Conflict(Exception):
    """409: the request contradicts what is stored."""

    def __init__(self, code: str, params: dict[str, Any] | None = None):
        self.code, self.params = code, dict(params or {})
        super().__init__(i18n.text(code, self.params))
