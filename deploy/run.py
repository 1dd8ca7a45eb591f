"""`make run`: the whole system on this machine, in the foreground.

Starts the Kafka broker (deploy/kafka/kafka.sh, unless KAFKA_BOOTSTRAP_SERVERS names another
cluster), creates the topics, starts the four services with SQLite files under .run/data,
waits until each answers /healthz, prints their URLs, and stops everything, broker included,
on Ctrl-C. Logs go to .run/logs/<service>.log; data survives restarts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUN = REPO / ".run"
SERVICES = {"assessment": 8001, "registry": 8002, "sampling": 8003, "penalty": 8004}


def say(message: str) -> None:
    print(f"[run] {message}", flush=True)


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def main() -> int:
    (RUN / "logs").mkdir(parents=True, exist_ok=True)
    (RUN / "data").mkdir(parents=True, exist_ok=True)
    own_broker = "KAFKA_BOOTSTRAP_SERVERS" not in os.environ
    kafka_sh = [str(REPO / "deploy/kafka/kafka.sh")]
    env = dict(os.environ, OHS_DATA_DIR=str(RUN / "data"), PYTHONUNBUFFERED="1")
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
        for name, port in SERVICES.items():
            log = open(RUN / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
            processes[name] = subprocess.Popen(
                [sys.executable, "-m", f"services.{name}"], cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                env=dict(env, OHS_HTTP_PORT=str(port)), start_new_session=True,
            )
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
            raise RuntimeError(f"not healthy after 90 s: {', '.join(waiting)}; see .run/logs/")
        say("ready:")
        for name, port in SERVICES.items():
            print(f"  {name:<11} http://127.0.0.1:{port}   (API docs: http://127.0.0.1:{port}/docs)", flush=True)
        say("logs in .run/logs/, data in .run/data/; Ctrl-C stops everything")
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with code {process.returncode}; see .run/logs/{name}.log")
            time.sleep(1)
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
