"""N simulated benches x 24 positions streaming into one lab server: rows stored per second
and page latency while they stream.

    python benchmarks/lab_load.py [--benches 3] [--time-scale 1000] [--db PATH|URL | --postgres]

Each bench is the shipped simulated 24-position bench under its own id, run by its own bench
worker process that `meterbench serve` starts through the JSON API; all write into one
results database: an SQLite file, a lab's ``postgresql://`` URL, or with ``--postgres`` a
throwaway PostgreSQL cluster started for the measurement (as the test suite starts one).
While they run, one client keeps loading a run page, the live state (JSON) and the runs list.
Prints: rows stored per second (readings, conclusions, events, every chained row), and the
page latencies (median, 95th percentile, max).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "host"))
sys.path.insert(0, str(ROOT / "protocols"))
sys.path.insert(0, str(ROOT / "host" / "tests"))  # the suite's throwaway PostgreSQL cluster

from meterbench.results import schema  # noqa: E402
from meterbench.web import auth  # noqa: E402
from meterbench.web.access import LabStore  # noqa: E402

PASSWORD = "load-test-password"
PLAN = """
[plan]
id = "load-short"
title = "load test: communication and three load points"
regulation = "jjg596-2012"
verification = "initial"
kind = "electricity"

[[items]]
type = "communication"
checks = ["read_address", "read_energy"]

[[items]]
type = "basic_error"
points = [
    { current = "Ib", pf = "1.0" },
    { current = "Imax", pf = "1.0" },
    { current = "Ib", pf = "0.5L" },
]
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _configs(work: Path, benches: int) -> tuple[list[Path], Path, Path]:
    configs = work / "bench_configs"
    shutil.copytree(ROOT / "bench_configs", configs)
    template = (configs / "sim-1p-24.toml").read_text(encoding="utf-8")
    files = []
    for index in range(1, benches + 1):
        path = configs / f"load-{index}.toml"
        path.write_text(
            template.replace('id = "SIM-1P-24"', f'id = "LOAD-{index:02d}"'), encoding="utf-8"
        )
        files.append(path)
    plan = configs / "plans" / "load-short.toml"
    plan.write_text(PLAN, encoding="utf-8")
    return files, plan, configs / "meters" / "sim-1p-24.csv"


class Client:
    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.csrf = ""

    def call(self, method: str, path: str, body: object | None = None) -> tuple[float, bytes]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.csrf:
            request.add_header("X-CSRF-Token", self.csrf)
        start = time.perf_counter()
        with self.opener.open(request, timeout=120) as answer:
            content = answer.read()
        return time.perf_counter() - start, content

    def log_in(self) -> None:
        _, content = self.call("POST", "/api/session", {"username": "load", "password": PASSWORD})
        self.csrf = json.loads(content)["csrf_token"]


def _rows(db: str) -> int:
    store = LabStore(db)
    try:
        run = store.results.connector.execute
        return sum(int(run(f"SELECT COUNT(*) FROM {t.name}")[0][0]) for t in schema.TABLES)
    finally:
        store.close()


def _stats(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    median = statistics.median(ms)
    return f"median {median:7.1f} ms  p95 {p95:7.1f} ms  max {ms[-1]:7.1f} ms  (n={len(ms)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--benches", type=int, default=3)
    parser.add_argument("--time-scale", type=float, default=1000.0)
    parser.add_argument(
        "--db", default=None, help="SQLite file or postgresql:// URL (default: a fresh file)"
    )
    parser.add_argument(
        "--postgres", action="store_true", help="a throwaway PostgreSQL cluster for the run"
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lab-load-"))
    cluster = None
    if args.postgres:
        from pg_cluster import start_cluster

        cluster = start_cluster()
    db = cluster.new_database() if cluster else (args.db or str(work / "lab.db"))
    benches, plan, meters = _configs(work, args.benches)
    store = LabStore(db)
    if store.user("load") is None:
        auth.add_user(store, "load", "Load Test", ["operator", "verifier", "admin"], PASSWORD)
    store.close()
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "meterbench.cli",
        "serve",
        "--db",
        str(db),
        "--port",
        str(port),
    ]
    command += [x for b in benches for x in ("--bench", str(b))] + ["--plan", str(plan)]
    command += ["--time-scale", repr(args.time_scale)]
    env = dict(os.environ, PYTHONPATH=f"{ROOT / 'host'}:{ROOT / 'protocols'}")
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    client = Client(f"http://127.0.0.1:{port}")
    try:
        while True:
            try:
                client.log_in()
                break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.1)
        rows_before = _rows(db)
        started = time.perf_counter()
        csv_text = meters.read_text(encoding="utf-8")
        for index in range(1, args.benches + 1):
            client.call(
                "POST",
                "/api/runs",
                {"bench": f"LOAD-{index:02d}", "plan": "load-short", "meter_list": csv_text},
            )
        pages: dict[str, list[float]] = {"run page": [], "live state": [], "runs list": []}
        while True:
            _, content = client.call("GET", "/api/benches")
            state = json.loads(content)
            running = [b["run_id"] for b in state if b["run_id"] or b["worker"]]
            if not any(b["worker"] for b in state):
                break
            run_id = next((r for r in running if r), None)
            if run_id:
                pages["run page"].append(client.call("GET", f"/runs/{run_id}")[0])
                pages["live state"].append(client.call("GET", f"/api/runs/{run_id}/state")[0])
            pages["runs list"].append(client.call("GET", "/runs")[0])
        elapsed = time.perf_counter() - started
        rows = _rows(db) - rows_before
        _, content = client.call("GET", "/api/runs")
        done = [r for r in json.loads(content) if r["status"] == "completed"]
    finally:
        server.terminate()
        server.wait()
        if cluster is not None:
            cluster.stop()
    where = "PostgreSQL" if cluster or db.startswith("postgres") else f"SQLite {db}"
    print(f"{args.benches} benches x 24 positions, time scale {args.time_scale:g}, {where}")
    print(f"runs completed: {len(done)} of {args.benches}, wall time {elapsed:.1f} s")
    print(f"rows stored: {rows}  ->  {rows / elapsed:.0f} rows/s (readings, conclusions, events)")
    for name, values in pages.items():
        if values:
            print(f"{name:>11}: {_stats(values)}")
    if args.db is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
