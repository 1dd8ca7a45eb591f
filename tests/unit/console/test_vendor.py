"""The third-party files the console serves are the pinned ones, each with its licence, and are served locally."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[3] / "services" / "console" / "static" / "vendor"
TEMPLATES = VENDOR.parent.parent / "templates"


def test_every_vendored_file_matches_its_recorded_checksum_and_has_its_licence():
    rows = re.findall(r"`([^`]+\.js)` \([^)]*\) \| [^|]+\| ([0-9a-f]{64}) \|", (VENDOR / "README.md").read_text(encoding="utf-8"))
    assert len(rows) == 2
    for path, checksum in rows:
        file = VENDOR / path
        assert hashlib.sha256(file.read_bytes()).hexdigest() == checksum, path
        assert (file.parent / "LICENSE").is_file(), path


def test_no_page_loads_anything_from_another_site():
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r'(src|href)="(https?:)?//', text), f"{template.name} loads from another site"
