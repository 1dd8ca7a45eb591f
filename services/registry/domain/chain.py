"""The hash chain of classification changes (RULES §8: every change attributable and
tamper-evident): pure functions, no I/O.

Each county (region_code) has one chain. An entry's hash is SHA-256 over the canonical JSON of
its fields (``HASHED_FIELDS``: sorted keys, UTF-8, no spaces, ``recorded_at`` as an ISO 8601
UTC string) and includes ``prev_hash``, the hash of the region's previous entry (64 zeros for
the first). Editing any field of an entry breaks its own hash; recomputing that hash breaks the
next entry's link; deleting an entry breaks the link of the one after it; deleting the last
entries is caught against the chain head (the region's ``last_seq`` / ``last_hash``) when one is
given. Rewriting a whole tail, head included, is only caught against a head hash recorded
elsewhere (an auditor's copy, an export): compare ``VerifyResult.head_hash``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

GENESIS_HASH = "0" * 64

HASHED_FIELDS: tuple[str, ...] = (
    "seq",
    "region_code",
    "credit_code",
    "change",
    "category_before",
    "category_after",
    "actor",
    "reason",
    "payload",
    "recorded_at",
    "prev_hash",
)


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.utcoffset() is None:  # stored without an offset: UTC by convention
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat()
    return value


def hashed_fields(entry: Any) -> dict[str, Any]:
    """The hashed fields of an entry given as a mapping or as an object with those attributes."""
    if isinstance(entry, Mapping):
        return {name: entry[name] for name in HASHED_FIELDS}
    return {name: getattr(entry, name) for name in HASHED_FIELDS}


def canonical_bytes(entry_fields: Mapping[str, Any]) -> bytes:
    """Canonical JSON of exactly the hashed fields: sorted keys, no spaces, UTF-8."""
    missing = [name for name in HASHED_FIELDS if name not in entry_fields]
    if missing:
        raise ValueError(f"chain entry lacks {', '.join(missing)}")
    document = {name: _iso(entry_fields[name]) for name in HASHED_FIELDS}
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def entry_hash(entry_fields: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical bytes."""
    return hashlib.sha256(canonical_bytes(entry_fields)).hexdigest()


@dataclass(frozen=True)
class ChainHead:
    """What the registry recorded as a region's last entry when it appended it."""

    last_seq: int
    last_hash: str


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int  # entries examined (all of them when ok; up to and including the broken one otherwise)
    first_broken: int | None = None  # seq of the first entry that fails
    credit_code: str | None = None  # that entry's employer
    reason: str | None = None  # in English, as logs and the operator's tools read it
    head_hash: str | None = None  # hash of the last entry examined: record it to detect a rewritten tail later
    code: str | None = None  # the reason as a message code (registry.chain.*) and its values, for people in their language
    params: dict[str, Any] = field(default_factory=dict)


def verify(entries: Iterable[Any], head: ChainHead | None = None) -> VerifyResult:
    """Check one region's chain, entries in ``seq`` order (mappings or objects with the hashed
    fields and ``hash``). Stops at the first broken entry."""
    checked = 0
    previous_seq: int | None = None
    previous_hash = GENESIS_HASH
    for entry in entries:
        fields = hashed_fields(entry)
        stored = entry["hash"] if isinstance(entry, Mapping) else entry.hash
        seq = fields["seq"]
        checked += 1

        def broken(code: str, reason: str, **params: Any) -> VerifyResult:
            return VerifyResult(False, checked, seq, fields["credit_code"], reason, previous_hash if previous_seq is not None else None,
                                code, params)

        if previous_seq is not None and seq <= previous_seq:
            return broken("registry.chain.out_of_order", f"sequence gap: entry {seq} follows entry {previous_seq} (out of order or duplicated)",
                          seq=seq, previous=previous_seq)
        if entry_hash(fields) != stored:
            return broken("registry.chain.hash_mismatch", f"hash mismatch: entry {seq}'s stored hash differs from its content", seq=seq)
        if fields["prev_hash"] != previous_hash:
            if previous_seq is None:
                return broken("registry.chain.link_genesis",
                              f"link broken: entry {seq}'s prev_hash is not the genesis hash (the entries before it are missing)", seq=seq)
            return broken("registry.chain.link_broken", f"link broken: entry {seq}'s prev_hash is not entry {previous_seq}'s hash",
                          seq=seq, previous=previous_seq)
        previous_seq, previous_hash = seq, stored

    if head is not None and (head.last_seq != (previous_seq or 0) or head.last_hash != previous_hash):
        last = previous_seq if previous_seq is not None else "none"
        return VerifyResult(
            False,
            checked,
            head.last_seq,
            None,
            f"sequence gap: the chain head records entry {head.last_seq} as the last but the last entry found is {last}",
            previous_hash if previous_seq is not None else None,
            "registry.chain.head_gap", {"head_seq": head.last_seq, "last": last},
        )
    return VerifyResult(True, checked, head_hash=previous_hash if previous_seq is not None else None)
