"""The one ``ohs`` command: every service's group is mounted, and each documented command answers --help."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from services.cli import app

COMMANDS = [
    ["bulk", "template"], ["bulk", "employers"], ["bulk", "reports"],
    ["registry", "chain", "verify"], ["registry", "sweep", "exemptions"], ["registry", "sweep", "reminders"],
    ["sampling", "verify"], ["sampling", "roster", "import"], ["sampling", "roster", "export"],
    ["penalty", "sweep"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_documented_command_is_there(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], prog_name="ohs")
    assert result.exit_code == 0, result.output
    assert "Usage: ohs " + " ".join(command) in " ".join(result.output.split())


def test_an_unknown_group_is_refused_naming_it() -> None:
    result = CliRunner().invoke(app, ["nosuch"])
    assert result.exit_code == 2
    assert "nosuch" in result.output
