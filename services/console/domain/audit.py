"""The console's audit log as a hash chain: each entry's hash covers its fields and the previous entry's
hash, so editing or deleting an entry breaks the chain from there on. Pure."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    target: str = ""
    detail: str = ""
    client: str = ""


def entry_hash(previous_hash: str, entry: AuditEntry) -> str:
    at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=timezone.utc)  # SQLite gives back naive UTC
    body = json.dumps([previous_hash, at.astimezone(timezone.utc).isoformat(), entry.actor, entry.action, entry.target, entry.detail, entry.client],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def first_break(chain: list[tuple[AuditEntry, str, str]]) -> int | None:
    """The index of the first entry (entry, previous_hash, hash) whose link or hash does not hold, or None."""
    previous = GENESIS
    for index, (entry, previous_hash, stored) in enumerate(chain):
        if previous_hash != previous or entry_hash(previous_hash, entry) != stored:
            return index
        previous = stored
    return None
