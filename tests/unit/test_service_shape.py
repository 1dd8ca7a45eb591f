"""Every service has the same shape (docs/architecture.md), and the layers keep their roles:
the domain does no I/O, entrypoints never commit or publish, and only the unit of work commits."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("assessment", "registry", "sampling", "penalty", "notification", "console", "monitoring")
WITHOUT_RULE_DATA = {"console"}  # the console decides nothing of the domain: it shows what the services decided
# what a pure domain module may not import: databases, files, the network, the rule-file reader
IO_MODULES = ("sqlmodel", "sqlalchemy", "pathlib", "os", "shutil", "httpx", "aiokafka", "faststream", "fastapi",
              "openpyxl", "xlrd", "reportlab", "shared.rule_data", "shared.db", "shared.runtime", "shared.messaging")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def calls(path: Path) -> set[str]:
    """Attribute calls like ``session.commit`` → 'commit', and plain calls like ``enqueue(…)``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            found.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_the_same_folders(service: str) -> None:
    root = REPO / "services" / service
    for part in ("domain", "service_layer", "adapters", "entrypoints"):
        assert (root / part).is_dir(), f"services/{service}/{part}/"
    modules = ["views.py", "bootstrap.py", "service_layer/unit_of_work.py", "adapters/rules.py", "adapters/repository.py",
               "entrypoints/cli.py", "entrypoints/http.py"]
    if service in WITHOUT_RULE_DATA:
        modules.remove("adapters/rules.py")
    for module in modules:
        assert (root / module).is_file(), f"services/{service}/{module}"


@pytest.mark.parametrize("path", sorted(REPO.glob("services/*/domain/*.py")), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_the_domain_does_no_io(path: Path) -> None:
    bad = sorted(name for name in imported(path) if name.split(".")[0] in IO_MODULES or any(name.startswith(m) for m in IO_MODULES if "." in m))
    assert not bad, f"{path.relative_to(REPO)} imports {bad}"
    assert "open" not in calls(path), f"{path.relative_to(REPO)} opens files"


@pytest.mark.parametrize("path", sorted(REPO.glob("services/*/entrypoints/*.py")), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_entrypoints_only_parse_authorise_and_delegate(path: Path) -> None:
    done = calls(path) & {"commit", "rollback", "flush", "enqueue", "enqueue_payload", "publish", "in_session"}
    assert not done, f"{path.relative_to(REPO)} calls {sorted(done)}: that belongs in the service layer"


@pytest.mark.parametrize("path", sorted(REPO.glob("services/*/service_layer/*.py")), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_the_service_layer_does_not_import_entrypoints(path: Path) -> None:
    upside_down = sorted(name for name in imported(path) if ".entrypoints" in name)
    assert not upside_down, f"{path.relative_to(REPO)} imports {upside_down}"
