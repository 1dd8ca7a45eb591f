"""What a sampling use case refuses with; the HTTP routes answer 422 and 409."""

from __future__ import annotations


class Invalid(Exception):
    """422: the request cannot be carried out as given; ``errors`` name the fields."""

    def __init__(self, errors: list[dict[str, str]], detail: str = "the request is invalid"):
        self.errors, self.detail = errors, detail
        super().__init__(detail)


class Conflict(Exception):
    """409: the request contradicts what is stored."""
