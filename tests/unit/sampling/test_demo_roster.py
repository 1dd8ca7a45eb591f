"""`make run` seeds the demonstration roster (deploy/demo/inspectors.json) through the sampling API,
only for agencies whose roster is empty (deploy/run.py ``seed_rosters``)."""

from __future__ import annotations

import importlib.util
import socket
import threading
from pathlib import Path

import uvicorn
from fastapi.testclient import TestClient

from services.sampling.bootstrap import bootstrap
from shared.migrations import upgrade
from shared.settings import settings_for
from tests.support import TEST_AUTH_SECRET, auth, eventually_sync, token_for

REPO = Path(__file__).resolve().parents[3]
REGIONS_OF_RULES_9 = {"141000", "141029", "141081", "141022", "141021", "141033", "141002", "141023", "141024", "141025", "141026",
                      "141027", "141028", "141030", "141031", "141032", "141034", "141082"}


def load_run_module():  # noqa: ANN201
    spec = importlib.util.spec_from_file_location("deploy_run", REPO / "deploy" / "run.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_make_run_seeds_the_demo_roster_once_for_every_linfen_agency_and_xihu(tmp_path: Path) -> None:
    app = bootstrap(settings_for("sampling", data_dir=tmp_path, auth_secret=TEST_AUTH_SECRET), create_topics=False)
    upgrade("sampling", app.state.runtime.engine)
    client = TestClient(app)  # no lifespan: no Kafka; the roster endpoints publish nothing
    own = {"inspectors": [{"id": "mine-1", "name": "本地检查员"}, {"id": "mine-2", "name": "本地检查员2"}]}
    assert client.put("/inspectors/141029", json=own, headers=auth("county")).status_code == 200

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        eventually_sync(lambda: server.started, timeout=60, what="the sampling server started", interval=0.05)
        run = load_run_module()
        tokens = {"province": token_for("province"), "zhejiang_province": token_for("province", "330000")}
        run.seed_rosters(port, tokens)
        run.seed_rosters(port, tokens)  # a restart: nothing replaced
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    rosters = {region: client.get(f"/inspectors/{region}", headers=auth("province")).json()["inspectors"] for region in REGIONS_OF_RULES_9}
    assert [i["id"] for i in rosters["141029"]] == ["mine-1", "mine-2"], "an agency's own roster is kept"
    assert all(len(rosters[r]) == 4 for r in REGIONS_OF_RULES_9 - {"141029"})
    zhejiang = client.get("/inspectors/330106", headers=auth("province", "330000")).json()["inspectors"]
    assert len(zhejiang) == 4, "杭州市西湖区, for the non-site demonstration, with 浙江's token"
    app.state.runtime.engine.dispose()
