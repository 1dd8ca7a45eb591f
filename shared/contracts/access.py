"""Access events: a person's access to the APIs ended (an account disabled in the console).

Every service keeps the subjects it must refuse (``shared.revocations``): a token of a revoked subject
issued before ``not_before`` answers 401 ``errors.auth.token_revoked``, whatever its expiry says."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from shared.contracts.envelope import Envelope
from shared.topics import ACCESS_REVOKED


class AccessRevoked(Envelope):
    """Tokens of ``subject`` issued before ``not_before`` are no longer honoured. A later token (the
    account enabled again, or a new sign-in) is: the console mints them only for accounts in good standing."""

    topic: ClassVar[str] = ACCESS_REVOKED
    key_description: ClassVar[str] = "the token subject (sub) whose access ended"

    subject: str = Field(min_length=1, max_length=200, description="the token subject, e.g. console:3f…")
    not_before: datetime = Field(description="tokens issued (iat) before this instant are refused")
    reason: str = Field(default="", max_length=200, description="why, for the operators' logs (e.g. account disabled)")
    by: str = Field(default="", max_length=200, description="who ended the access")

    @property
    def partition_key(self) -> str:
        return self.subject
