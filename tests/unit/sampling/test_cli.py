"""``ohs sampling``: verify a publication; import and export inspector rosters (the typer app)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from services.sampling.entrypoints.cli import app
from tests.unit.sampling.test_third_party import PUBLICATION

REPO = Path(__file__).resolve().parents[3]
LOCALE = {"LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None}
runner = CliRunner(env={**LOCALE, "LANG": "zh_CN.UTF-8"})  # the command line speaks Chinese, whatever this machine's LANG
english = CliRunner(env={**LOCALE, "LANG": "en_US.UTF-8"})


def test_verify_a_published_draw() -> None:
    result = runner.invoke(app, ["verify", str(PUBLICATION)])
    assert result.exit_code == 0 and result.stdout.startswith("一致：抽查计划"), result.output
    assert english.invoke(app, ["verify", str(PUBLICATION)]).stdout.startswith("match: plan")
    assert runner.invoke(app, ["verify", "/no/such/publication.json"]).exit_code == 2


def test_rosters_exported_are_imported_back_the_same(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    demo = REPO / "deploy" / "demo" / "inspectors.json"
    imported = runner.invoke(app, ["roster", "import", str(demo), "--database-url", url])
    assert imported.exit_code == 0 and "141029：已载入 4 名执法检查人员" in imported.stdout, imported.output

    everything = tmp_path / "rosters.json"
    assert runner.invoke(app, ["roster", "export", str(everything), "--database-url", url]).exit_code == 0
    agencies = json.loads(everything.read_text(encoding="utf-8"))["agencies"]
    assert set(agencies) == set(json.loads(demo.read_text(encoding="utf-8"))["agencies"])

    one = tmp_path / "141024.csv"
    assert runner.invoke(app, ["roster", "export", str(one), "--region", "141024", "--database-url", url]).exit_code == 0
    other = f"sqlite:///{tmp_path}/other.db"
    assert runner.invoke(app, ["roster", "import", str(one), "--region", "141024", "--database-url", other]).exit_code == 0
    again = runner.invoke(app, ["roster", "export", "-", "--region", "141024", "--database-url", other])
    assert json.loads(again.stdout)["agencies"]["141024"] == agencies["141024"]

    assert runner.invoke(app, ["roster", "export", str(tmp_path / "all.csv"), "--database-url", url]).exit_code == 2, "a CSV holds one agency"
