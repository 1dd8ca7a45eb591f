"""Versioned rule data in JSON files, read the same way by every rule book.

A rule file is one JSON document validated by a pydantic model. Errors name the file and list
every problem (``field.path: message``); two files with the same key (jurisdiction and version,
or year) are refused naming both; among jurisdictional data, :func:`in_force` picks the one that
applies to a region on a day by :func:`shared.jurisdiction.precedence`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from shared.rules_in_force import FromRuleFile, NoApplicableRules, RuleDataError, V, Versioned, in_force  # noqa: F401  (re-exported)

M = TypeVar("M", bound=BaseModel)


def agency_folder(rules_dir: Path | None, name: str) -> Path | None:
    """``<rules_dir>/<name>`` when the agency's rule folder has that subfolder, else None (nothing to add)."""
    if rules_dir is None:
        return None
    folder = Path(rules_dir) / name
    return folder if folder.is_dir() else None


def read_json(path: Path, what: str) -> Any:
    """The file's JSON; :class:`RuleDataError` ("<what> <path>: …") when it cannot be read or parsed."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RuleDataError(f"{what} {path}: cannot be read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise RuleDataError(f"{what} {path}: not valid JSON: {exc}") from exc


def validate(data: Any, model: type[M], path: Path, what: str) -> M:
    """``data`` as ``model``; :class:`RuleDataError` names the file and lists every problem."""
    try:
        loaded = model.model_validate(data)
    except ValidationError as exc:
        problems = "\n".join(
            f"  - {'.'.join(str(part) for part in item['loc']) or '(top level)'}: {item['msg'].removeprefix('Value error, ')}"
            for item in exc.errors(include_url=False)
        )
        raise RuleDataError(f"{what} {path} is invalid:\n{problems}") from exc
    if isinstance(loaded, FromRuleFile):
        loaded._origin = str(path)
    return loaded


def read_rule_file(path: Path, model: type[M], what: str) -> M:
    """Read and validate one rule file (``what``: "rule file", "calendar file", …)."""
    return validate(read_json(path, what), model, path, what)


def rule_files(folder: Path, what: str = "rules folder") -> list[Path]:
    """The folder's top-level *.json files, sorted; subfolders (even ones named *.json) are not rule files."""
    if not folder.is_dir():
        raise RuleDataError(f"{what} {folder} does not exist or is not a folder")
    return sorted(path for path in folder.glob("*.json") if path.is_file())


def read_all(
    paths: Iterable[Path], read: Callable[[Path], M | None], *, unique_by: tuple[str, ...] = (), what: str = "", advice: str = ""
) -> tuple[M, ...]:
    """``read`` every file (None: not this kind of data, skipped) and, with ``unique_by``, refuse two items with the
    same values of those fields, naming both files: "<what> <file>: year 2027 is already defined by <file><advice>".
    One :class:`RuleDataError` lists every bad file, then every clash."""
    problems: list[str] = []
    clashes: list[str] = []
    loaded: list[M] = []
    first_file: dict[tuple[Any, ...], Path] = {}
    for path in paths:
        try:
            item = read(path)
        except RuleDataError as exc:
            problems.append(str(exc))
            continue
        if item is None:
            continue
        key = tuple(getattr(item, field) for field in unique_by)
        if unique_by and key in first_file:
            label = " ".join(f"{field} {value}" for field, value in zip(unique_by, key))
            clashes.append(f"{what} {path}: {label} is already defined by {first_file[key]}{advice}")
            continue
        first_file.setdefault(key, path)
        loaded.append(item)
    if problems or clashes:
        raise RuleDataError("\n".join(problems + clashes))
    return tuple(loaded)


def load_rule_files(
    folders: Iterable[Path | None],
    model: type[M],
    *,
    what: str,
    kind: str | None = None,
    unique_by: tuple[str, ...] = ("jurisdiction", "version"),
    advice: str = "; give it a new version",
) -> tuple[M, ...]:
    """The one way a service loads versioned rule data: every top-level ``*.json`` of the folders
    that exist (the packaged folder first, then the agency's ``$OHS_RULES_DIR/<part>``), each
    validated as ``model``. With ``kind``, a file whose ``"kind"`` differs is another kind of data
    and skipped. Two files with the same ``unique_by`` values are refused naming both; one
    :class:`RuleDataError` names every bad file."""

    def read(path: Path) -> M | None:
        data = read_json(path, what)
        if kind is not None and (not isinstance(data, dict) or data.get("kind") != kind):
            return None
        return validate(data, model, path, what)

    paths = [path for folder in folders if folder is not None and Path(folder).is_dir() for path in rule_files(Path(folder), f"{what} folder")]
    return read_all(paths, read, unique_by=unique_by, what=what, advice=advice)
