"""`make run`: the whole system on this machine, in the foreground.

Starts the Kafka broker (deploy/kafka/kafka.sh, unless KAFKA_BOOTSTRAP_SERVERS names another
cluster), creates the topics, starts the five services with SQLite files under .run/data,
waits until each answers /readyz, prints their URLs, and stops everything, broker included,
on Ctrl-C. A service (or the broker) that dies is started again. Logs go to
.run/logs/<service>.log; data survives restarts.

Access: a random token-signing secret is made once into .run/auth_secret (mode 0600; or
OHS_AUTH_SECRET from the environment) and handed to every service; one bearer token per role is
written to .run/tokens.json and kept across restarts while it still verifies.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from shared.auth import InvalidToken, auth_secret_problem, issue_token, verify_token  # noqa: E402

RUN = Path(os.environ.get("OHS_RUN_DIR", REPO / ".run"))  # tests run a second system beside a developer's
_PORT_OFFSET = int(os.environ.get("OHS_RUN_PORT_OFFSET", "0"))
SERVICES = {name: port + _PORT_OFFSET for name, port in {"console": 8000, "assessment": 8001, "registry": 8002, "sampling": 8003,
                                                        "penalty": 8004, "monitoring": 8005, "notification": 8006}.items()}
STATE_FILE = RUN / "services.json"  # each service's pid and port, rewritten whenever one (re)starts
SECRET_FILE = RUN / "auth_secret"
TOKENS_FILE = RUN / "tokens.json"
DEMO_RULES = REPO / "deploy" / "demo" / "rules"  # an agency's rule folder, as $OHS_RULES_DIR: see deploy/demo/rules/README.md
ACCOUNTS_FILE = RUN / "accounts.json"  # the console's demonstration accounts: {role: {"username", "password"}}
EXAMPLE_EMPLOYER = "91141029MA0GRT8U3L"  # 乡宁县示例水泥有限公司, the README's example report
DEMO_ORGANISATION = "91330100MA0JC0001T"  # 杭州示例职业卫生检测有限公司 (fictitious), accredited in 浙江 330000
# key in tokens.json -> (role, name shown in logs, region code, credit code): staff and auditors have a region, an
# employer its credit code, an organisation both (the region it is accredited in). The 浙江 tokens try the non-site
# supervision whose rule data is 浙江's (deploy/demo/non_site.py).
SEED_TOKENS = {
    "province": ("province", "山西省 示例用户", "140000", None),
    "city": ("city", "临汾市 示例用户", "141000", None),
    "county": ("county", "乡宁县 示例用户", "141029", None),
    "employer": ("employer", "乡宁县示例水泥有限公司", None, EXAMPLE_EMPLOYER),
    "auditor": ("auditor", "临汾市 审计示例用户", "141000", None),
    "zhejiang_province": ("province", "浙江省 示例用户", "330000", None),
    "zhejiang_county": ("county", "杭州市西湖区 示例用户", "330106", None),
    "organisation": ("organisation", "杭州示例职业卫生检测有限公司", "330000", DEMO_ORGANISATION),
}


def _shown(path: Path) -> str:
    """A path as the operator reads it: relative to the repository when it is inside."""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def say(message: str) -> None:
    print(f"[run] {message}", flush=True)


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def auth_secret() -> str:
    """OHS_AUTH_SECRET from the environment, else .run/auth_secret, made once (0600) and reused."""
    if os.environ.get("OHS_AUTH_SECRET"):
        return os.environ["OHS_AUTH_SECRET"]
    if SECRET_FILE.exists():
        secret = SECRET_FILE.read_text().strip()
        if auth_secret_problem(secret) is None:
            return secret
        say(f"{_shown(SECRET_FILE)} is unusable ({auth_secret_problem(secret)}); making a new one")
    secret = secrets.token_urlsafe(32)
    fd = os.open(SECRET_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    SECRET_FILE.chmod(0o600)
    return secret


def seed_tokens(secret: str) -> None:
    """.run/tokens.json: one token per role; kept when every token in it still verifies with the secret."""
    try:
        existing = json.loads(TOKENS_FILE.read_text())
        if set(existing) == set(SEED_TOKENS) and all(
            verify_token(secret, existing[key]).role == role for key, (role, *_) in SEED_TOKENS.items()
        ):
            return
    except (OSError, ValueError, InvalidToken, TypeError, AttributeError):
        pass
    tokens = {}
    for key, (role, name, region_code, credit_code) in SEED_TOKENS.items():
        where = {k: v for k, v in (("region_code", region_code), ("credit_code", credit_code)) if v}
        tokens[key] = issue_token(secret, role, name, subject=f"make-run-{key}", valid_days=365, **where)  # type: ignore[arg-type]
    fd = os.open(TOKENS_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(tokens, out, indent=2)
        out.write("\n")
    say(f"new bearer tokens written to {_shown(TOKENS_FILE)}")


# the console's demonstration accounts: role -> (username, name shown, scope, administrator)
# key in accounts.json -> (role, username, name, scope, admin); 西湖区's account sees the non-site demonstration
DEMO_ACCOUNTS = {
    "province": ("province", "demo-province", "山西省卫生监督所 示例管理员", "140000", True),
    "city": ("city", "demo-city", "临汾市卫生监督所 示例管理员", "141000", True),
    "county": ("county", "demo-county", "乡宁县卫生监督所 示例用户", "141029", False),
    "employer": ("employer", "demo-employer", "乡宁县示例水泥有限公司", EXAMPLE_EMPLOYER, False),
    "auditor": ("auditor", "demo-auditor", "临汾市 审计示例用户", "141000", False),
    "zhejiang_county": ("county", "demo-xihu", "杭州市西湖区卫生监督所 示例用户", "330106", False),
}


def seed_accounts(env: dict[str, str]) -> dict[str, dict[str, str]]:
    """.run/accounts.json: one console account per role, made (or given a new password) with ``ohs console
    create-account --replace`` when the file is missing or does not name them all; kept across restarts."""
    try:
        existing = json.loads(ACCOUNTS_FILE.read_text(encoding="utf-8"))
        if set(existing) == set(DEMO_ACCOUNTS) and all(existing[k]["username"] == DEMO_ACCOUNTS[k][1] for k in DEMO_ACCOUNTS):
            return existing
    except (OSError, ValueError, KeyError, TypeError):
        pass
    accounts = {}
    for key, (role, username, name, scope, admin) in DEMO_ACCOUNTS.items():
        password = "ohs-" + secrets.token_urlsafe(12)
        command = [sys.executable, "-m", "services.cli", "console", "create-account", "--username", username, "--name", name,
                   "--role", role, "--scope", scope, "--replace", *(["--admin"] if admin else [])]
        subprocess.run(command, check=True, cwd=REPO, env=dict(env, OHS_NEW_PASSWORD=password), stdout=subprocess.DEVNULL)
        accounts[key] = {"username": username, "password": password}
    fd = os.open(ACCOUNTS_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(accounts, out, indent=2, ensure_ascii=False)
        out.write("\n")
    say(f"console demonstration accounts written to {_shown(ACCOUNTS_FILE)}")
    return accounts


DEMO_ROSTER = REPO / "deploy" / "demo" / "inspectors.json"


def seed_rosters(port: int, tokens: dict[str, str]) -> None:
    """A demonstration inspector roster (deploy/demo/inspectors.json) for every 临汾 agency and for 杭州市西湖区 whose
    roster is empty, put through the sampling API with its province's token; existing rosters stay."""
    agencies = json.loads(DEMO_ROSTER.read_text(encoding="utf-8"))["agencies"]
    loaded = []
    for region, inspectors in agencies.items():
        token = tokens["zhejiang_province" if region.startswith("33") else "province"]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        url = f"http://127.0.0.1:{port}/inspectors/{region}"
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
            if json.loads(response.read())["inspectors"]:
                continue
        body = json.dumps({"inspectors": inspectors}, ensure_ascii=False).encode("utf-8")
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers, method="PUT"), timeout=10):
            loaded.append(region)
    if loaded:
        say(f"demonstration inspector rosters loaded for {len(loaded)} agencies ({DEMO_ROSTER.relative_to(REPO)})")


def supervise(processes: dict[str, subprocess.Popen[bytes]], start, own_broker: bool, kafka_sh: list[str],  # noqa: ANN001
              env: dict[str, str]) -> None:
    """Keep everything running until Ctrl-C: a service that exits is started again (after 1 s, then
    2, 4 … up to 30 s while it keeps failing within a minute of its start); so is our own broker."""
    failures: dict[str, int] = {name: 0 for name in processes}
    due: dict[str, float] = {}  # service -> when to start it again
    started: dict[str, float] = {name: time.monotonic() for name in processes}
    broker_pid = RUN / "kafka" / "broker.pid"
    while True:
        now = time.monotonic()
        for name, process in processes.items():
            if name in due or process.poll() is None:
                continue
            failures[name] = failures[name] + 1 if now - started[name] < 60 else 1
            delay = min(2 ** (failures[name] - 1), 30)
            say(f"{name} exited with code {process.returncode} (see .run/logs/{name}.log); starting it again in {delay} s")
            due[name] = now + delay
        for name, when in list(due.items()):
            if now >= when:
                del due[name]
                start(name)
                started[name] = time.monotonic()
                say(f"{name} started again (pid {processes[name].pid})")
        if own_broker and not _alive(broker_pid):
            say("the Kafka broker is not running; starting it again")
            subprocess.run([*kafka_sh, "start"], check=False, env=dict(env, KAFKA_DATA_DIR=str(RUN / "kafka")), start_new_session=True)
        time.sleep(1)


def _alive(pid_file: Path) -> bool:
    try:
        os.kill(int(pid_file.read_text().strip()), 0)
        return True
    except (OSError, ValueError):
        return False


def main() -> int:
    (RUN / "logs").mkdir(parents=True, exist_ok=True)
    (RUN / "data").mkdir(parents=True, exist_ok=True)
    own_broker = "KAFKA_BOOTSTRAP_SERVERS" not in os.environ
    kafka_sh = [str(REPO / "deploy/kafka/kafka.sh")]
    secret = auth_secret()
    if problem := auth_secret_problem(secret):
        say(f"error: {problem}")
        return 1
    seed_tokens(secret)
    env = dict(os.environ, OHS_DATA_DIR=str(RUN / "data"), PYTHONUNBUFFERED="1", OHS_AUTH_SECRET=secret)
    env.setdefault("OHS_LOG_FORMAT", "text")  # .run/logs are read by a person; a deployment keeps JSON lines (the default)
    # the demonstration's agency rule data (deploy/demo/rules: 浙江's monitoring limits with three 8-hour shifts, so the
    # non-site demonstration judges readings at any hour); an operator's own folder replaces it
    env.setdefault("OHS_RULES_DIR", str(DEMO_RULES))
    for name, port in SERVICES.items():  # where the console finds the other services (a second system runs at an offset)
        env[f"OHS_{name.upper()}_URL"] = f"http://127.0.0.1:{port}"
    accounts = seed_accounts(env)
    processes: dict[str, subprocess.Popen[bytes]] = {}

    def stop_all() -> None:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        for name, process in processes.items():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for name, process in processes.items():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                say(f"{name} did not stop in 20 s; killing it")
                process.kill()
        if own_broker:
            subprocess.run([*kafka_sh, "stop"], check=False, env=dict(env, KAFKA_DATA_DIR=str(RUN / "kafka")))
        say("everything stopped")

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    # Installed explicitly: a job started in the background inherits SIGINT as ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)
    try:
        if own_broker:
            say("starting Kafka (first run downloads the broker jars with Maven)")
            # own session: a Ctrl-C in the terminal reaches us, and we stop the broker last
            subprocess.run([*kafka_sh, "start"], check=True, env=dict(env, KAFKA_DATA_DIR=str(RUN / "kafka")), start_new_session=True)
            env["KAFKA_BOOTSTRAP_SERVERS"] = "127.0.0.1:9092"
        say(f"Kafka at {env['KAFKA_BOOTSTRAP_SERVERS']}; creating topics")
        subprocess.run([sys.executable, "-m", "shared.kafka_admin", "create-topics", "--bootstrap", env["KAFKA_BOOTSTRAP_SERVERS"]], check=True, env=env, cwd=REPO)

        def start(name: str) -> None:
            log = open(RUN / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
            processes[name] = subprocess.Popen(
                [sys.executable, "-m", f"services.{name}"], cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                env=dict(env, OHS_HTTP_PORT=str(SERVICES[name])), start_new_session=True,
            )
            STATE_FILE.write_text(json.dumps({n: {"pid": p.pid, "port": SERVICES[n]} for n, p in processes.items()}))

        for name in SERVICES:
            start(name)
        deadline = time.monotonic() + 90
        waiting = dict(SERVICES)
        while waiting and time.monotonic() < deadline:
            for name, port in list(waiting.items()):
                if processes[name].poll() is not None:
                    raise RuntimeError(f"{name} exited during start-up; see .run/logs/{name}.log")
                if healthy(port):
                    del waiting[name]
            time.sleep(0.5)
        if waiting:
            raise RuntimeError(f"not healthy after 90 s: {', '.join(waiting)}; see {_shown(RUN / 'logs')}/")
        try:
            seed_rosters(SERVICES["sampling"], json.loads(TOKENS_FILE.read_text()))
        except (OSError, ValueError, KeyError) as error:  # a demo convenience: never stops the system
            say(f"could not load the demonstration inspector rosters: {error}")
        say("ready:")
        for name, port in SERVICES.items():
            if name == "console":
                print(f"  {name:<12} http://127.0.0.1:{port}   (sign in in a browser; the public 一公开 pages need none)", flush=True)
            else:
                print(f"  {name:<12} http://127.0.0.1:{port}   (API docs: http://127.0.0.1:{port}/docs)", flush=True)
        say(f"console accounts (also in {_shown(ACCOUNTS_FILE)}):")
        for role, account in accounts.items():
            print(f"  {role:<15} {DEMO_ACCOUNTS[role][3]:<18} username {account['username']:<15} password {account['password']}", flush=True)
        say(f"bearer tokens (province 140000, city 141000, county 141029, employer {EXAMPLE_EMPLOYER}, auditor 141000; "
            f"zhejiang_province 330000, zhejiang_county 330106, organisation {DEMO_ORGANISATION}) "
            f"in {_shown(TOKENS_FILE)}, e.g. -H \"Authorization: Bearer $(jq -r .county {_shown(TOKENS_FILE)})\"")
        say(f"logs in {_shown(RUN / 'logs')}/, data in {_shown(RUN / 'data')}/; Ctrl-C stops everything")
        supervise(processes, start, own_broker, kafka_sh, env)
    except KeyboardInterrupt:
        say("stopping")
        stop_all()
        return 0
    except (RuntimeError, subprocess.CalledProcessError) as error:
        say(f"error: {error}")
        stop_all()
        return 1


if __name__ == "__main__":
    sys.exit(main())
