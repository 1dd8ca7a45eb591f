"""One agency folder of rule data (OHS_RULES_DIR) for all four services: each reads its own part
(assessment the top level, the others their subfolder) and none trips over another's files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from services.assessment.bootstrap import bootstrap as assessment
from services.penalty.bootstrap import bootstrap as penalty
from services.registry.bootstrap import bootstrap as registry
from services.sampling.bootstrap import bootstrap as sampling
from shared.settings import settings_for

REPO = Path(__file__).resolve().parents[3]


def test_every_service_starts_on_one_agency_folder_and_uses_its_own_files(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    (rules / "penalty").mkdir(parents=True)
    (rules / "sampling").mkdir()
    rule_set = json.loads((REPO / "services/assessment/rules/national-2022.json").read_text(encoding="utf-8"))
    rule_set.update(jurisdiction="140000", version="2026.1")  # 山西's own copy of the 附件1–3 tables
    (rules / "shanxi.json").write_text(json.dumps(rule_set, ensure_ascii=False), encoding="utf-8")
    listing = json.loads((REPO / "services/penalty/rules/national-2021.json").read_text(encoding="utf-8"))
    listing.update(jurisdiction="140000", version="2026.1", effective_from="2026-01-01", provisional=False)
    listing["items"] = listing["items"][:2]
    (rules / "penalty" / "shanxi-no-penalty.json").write_text(json.dumps(listing, ensure_ascii=False), encoding="utf-8")
    defaults = json.loads((REPO / "services/sampling/rules/national-default.json").read_text(encoding="utf-8"))
    defaults.update(jurisdiction="140000", version="2026.1", effective_from="2026-01-01")
    (rules / "sampling" / "shanxi-sampling.json").write_text(json.dumps(defaults, ensure_ascii=False), encoding="utf-8")

    apps = {
        name: start(settings_for(name, data_dir=tmp_path / name, rules_dir=rules), create_topics=False)
        for name, start in (("assessment", assessment), ("registry", registry), ("sampling", sampling), ("penalty", penalty))
    }

    in_force = apps["penalty"].state.rulebook.no_penalty.in_force("141029", date(2026, 6, 1))
    assert (in_force.jurisdiction, [i.code for i in in_force.items]) == ("140000", ["70-1", "70-2a"])
    assert apps["penalty"].state.rulebook.no_penalty.in_force("330102", date(2026, 6, 1)).jurisdiction != "140000"
    for app in apps.values():
        app.state.runtime.engine.dispose()


def test_a_stray_file_in_a_service_folder_stops_that_service_naming_it(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    (rules / "penalty").mkdir(parents=True)
    (rules / "penalty" / "broken.json").write_text("{not json", encoding="utf-8")
    try:
        penalty(settings_for("penalty", data_dir=tmp_path, rules_dir=rules), create_topics=False)
    except ValueError as error:
        assert "broken.json" in str(error)
    else:
        raise AssertionError("a broken penalty rule file must stop the penalty service")
