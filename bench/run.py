"""CBT classroom-load benchmark: one command, a Markdown report in bench/results/.

    python bench/run.py                     # SQLite, 60 trainees, full scale data (about 5 minutes)
    python bench/run.py --quick             # smaller scale data and shorter runs (about 1 minute)
    python bench/run.py --database-url postgresql://postgres@127.0.0.1:5432/bench   # PostgreSQL
    python bench/run.py --workers 1         # one process (waitress), as cbt serve on Windows

It starts CBT with its production server (cbt serve: gunicorn with one worker per core, or waitress for one) and
the baselines (bench/baseline.py) with the same worker settings, drives them from threads on loopback (stdlib
http.client, keep-alive), and reports requests per second, p50/p95/p99 per endpoint, errors, throughput
ratios to the baselines and server memory.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reports as report_bench  # noqa: E402 - bench/reports.py, beside this file

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Bench-Trainee-Pass-1"


# --- HTTP client -------------------------------------------------------------------------------------------


class Client:
    """One browser: a keep-alive connection and a cookie jar."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        data: dict[str, str] | list[tuple[str, str]] | None = None,
    ) -> tuple[int, bytes, dict[str, str]]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                payload = response.read()
                break
            except (http.client.HTTPException, ConnectionError, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, payload, {k.lower(): v for k, v in response.getheaders()}

    def get(self, path: str) -> tuple[int, bytes, dict[str, str]]:
        return self.request("GET", path)

    def post(self, path: str, data: dict[str, str] | list[tuple[str, str]]) -> tuple[int, bytes, dict[str, str]]:
        return self.request("POST", path, data)


def empty_postgresql(url: str) -> None:
    """Drop everything in the benchmark's PostgreSQL database (the URL's owner asked for it to be emptied)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def checkpoint_postgresql(url: str) -> str | None:
    """Write the seeded data out before measuring; None, or why it could not be done.

    Left to itself, PostgreSQL writes the seed's hundreds of megabytes in its next timed checkpoint, spread over
    minutes, and its closing sync stalls the commits of whatever runs then (seen: an exam rush's p99 of 285 ms
    against 62 ms). On a real server the data was written long before a class sat an exam.
    """
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CHECKPOINT")
    except psycopg.Error as error:  # CHECKPOINT needs a superuser or pg_checkpoint
        return str(error).strip()
    return None


def csrf(page: bytes) -> str:
    match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    return match.group(1).decode() if match else ""


class Stats:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()

    def timed(self, name: str, fn, *args, ok=(200, 204, 302, 303)):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            result = fn(*args)
            status = result[0]
        except Exception:  # noqa: BLE001 - a failed request is counted, not fatal
            status, result = 599, (599, b"", {})
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.latencies[name].append(elapsed)
            if status not in ok:
                self.errors[name] += 1
        return result


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


# --- servers -----------------------------------------------------------------------------------------------


def disk_commits(folder: Path, count: int = 100) -> tuple[float, float]:
    """p50 and p99 ms of a durable one-row commit on this disk (SQLite, WAL, ``synchronous=FULL``, as CBT's).

    A class's writes queue for the disk's flush one after another; on a shared or slow disk that, not the
    application, sets the exam rush's latency, so each report says how fast the disk was before and after.
    """
    path = folder / "disk-probe.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE IF NOT EXISTS probe (n INTEGER)")
        times = []
        for n in range(count):
            started = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO probe VALUES (?)", (n,))
            conn.execute("COMMIT")
            times.append((time.perf_counter() - started) * 1000)
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return percentile(times, 0.5), percentile(times, 0.99)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, path: str = "/healthz") -> None:
    for _ in range(300):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on {port} did not start")


def rss_mb(pid: int) -> tuple[float, float]:
    """Current and peak resident memory of the process serving requests (Linux /proc).

    For gunicorn that is the largest worker, not the master (which only forks and watches them).
    """
    worker_pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _parent_of(p) == pid]
    readings = [_memory(p) for p in [pid, *worker_pids]]
    return max(r[0] for r in readings), max(r[1] for r in readings)


def _parent_of(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _memory(pid: int) -> tuple[float, float]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0, 0.0
    values = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", text, re.M))
    return int(values.get("VmRSS", 0)) / 1024, int(values.get("VmHWM", 0)) / 1024


def cbt(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "cbt", *args],
        env=env,
        input=stdin,
        text=True,
        capture_output=True,
        check=False,
        cwd=ROOT,
    )
    if result.returncode:
        raise RuntimeError(f"cbt {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


# --- scenarios ---------------------------------------------------------------------------------------------


#: Seconds a trainee spends between two clicks (reading, answering); 0 measures back-to-back requests.
THINK = {"mean": 0.0}


def think(scale: float = 1.0) -> None:
    """A person's pause before the next click: uniform around the mean, so arrivals spread out naturally."""
    mean = THINK["mean"] * scale
    if mean > 0:
        time.sleep(random.uniform(0.5 * mean, 1.5 * mean))


def sign_in(client: Client, stats: Stats, username: str) -> None:
    status, page, _ = stats.timed("GET /login", client.get, "/login")
    stats.timed(
        "POST /login",
        client.post,
        "/login",
        {"csrf_token": csrf(page), "username": username, "password": PASSWORD, "next": ""},
    )


def fill(page: bytes) -> list[tuple[str, str]]:
    """Some valid answer for whatever question is on the page."""
    text = page.decode("utf-8", "replace")
    data: list[tuple[str, str]] = []
    if re.search(r'type="radio" name="answer"', text) or re.search(r'name="answer" value="(true|false)"', text):
        value = re.search(r'name="answer" value="([^"]+)"', text)
        data.append(("answer", value.group(1) if value else "0"))
    elif re.search(r'type="checkbox" name="answer"', text):
        data.append(("answer", "0"))
    elif 'id="answer-number"' in text:
        data.append(("answer", "2"))
    elif 'id="answer-text"' in text:
        data.append(("answer", "TIR"))
    for index in re.findall(r'name="match-(\d+)"', text):
        data.append((f"match-{index}", "0"))
    positions = re.findall(r'name="position-(\d+)"', text)
    for index in positions:
        data.append((f"position-{index}", str(int(index) + 1)))
    if 'name="region"' in text:
        data.append(("region", "0"))
    return data


def take_quiz(client: Client, stats: Stats, quiz_id: int, label: str) -> None:
    status, page, _ = stats.timed(f"GET /quiz ({label})", client.get, f"/quiz/{quiz_id}")
    status, _, headers = stats.timed(
        f"POST start ({label})", client.post, f"/quiz/{quiz_id}/start", {"csrf_token": csrf(page)}
    )
    location = headers.get("location", "")
    for _ in range(40):
        if "/attempts/" not in location or location.endswith("/finish") or location.endswith("/result"):
            break
        path = urllib.parse.urlsplit(location).path
        status, page, _ = stats.timed(f"GET question ({label})", client.get, path)
        think()
        seq = re.search(rb'name="seq" value="(\d+)"', page)
        data = [("csrf_token", csrf(page)), ("seq", seq.group(1).decode() if seq else "0"), *fill(page)]
        step = b'value="step"' in page
        data.append(("action", "step" if step else "next"))
        status, _, headers = stats.timed(f"POST save ({label})", client.post, path, data)
        location = headers.get("location", "")
    if location.endswith("/finish"):
        path = urllib.parse.urlsplit(location).path
        status, page, _ = stats.timed(f"GET finish ({label})", client.get, path)
        think()
        stats.timed(
            f"POST submit ({label})", client.post, path.replace("/finish", "/submit"), {"csrf_token": csrf(page)}
        )


def trainee_journey(port: int, stats: Stats, username: str, course: str, lessons: list[str], quiz_id: int,
                    arrival: float = 0.0) -> None:
    """One officer's session; with think time, officers arrive over ``arrival`` seconds as a class does."""
    if arrival > 0 and THINK["mean"] > 0:
        time.sleep(random.uniform(0, arrival))
    client = Client(port)
    sign_in(client, stats, username)
    think()
    stats.timed("GET / (my learning)", client.get, "/")
    think()
    stats.timed("GET course", client.get, f"/learn/courses/{course}")
    for lesson in lessons:
        think()
        status, page, _ = stats.timed("GET lesson", client.get, lesson)
        think(2)
        stats.timed("POST lesson complete", client.post, lesson + "/complete", {"csrf_token": csrf(page)})
    think()
    take_quiz(client, stats, quiz_id, "practice")


def _loop(clients: list[Client], seconds: float, make_request, stats: Stats) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    """Every client looping for ``seconds``: (requests, elapsed seconds)."""
    stop = time.perf_counter() + seconds
    counts = [0] * len(clients)

    def loop(index: int) -> None:
        while time.perf_counter() < stop:
            make_request(clients[index], stats)
            counts[index] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(loop, range(len(clients))))
    return sum(counts), time.perf_counter() - started


def paired_throughput(runs: list[tuple[list[Client], object]], seconds: float,
                      rounds: int = 3) -> list[tuple[float, Stats]]:
    """Requests per second of each ``(clients, make_request)``, measured in alternating slices.

    A shared machine's speed drifts over a minute; taking the endpoint and its baseline in turns (A B A B A B)
    exposes both to the same drift, so their ratio is steadier than with one block after the other.
    """
    totals = [[0, 0.0, Stats()] for _ in runs]
    for _round in range(rounds):
        for total, (clients, make_request) in zip(totals, runs, strict=True):
            count, elapsed = _loop(clients, seconds / rounds, make_request, total[2])
            total[0] += count
            total[1] += elapsed
    return [(count / elapsed, stats) for count, elapsed, stats in totals]


# --- the run -----------------------------------------------------------------------------------------------


def main() -> None:  # noqa: C901 - one linear script reads best here
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trainees", type=int, default=60)
    parser.add_argument("--threads", type=int, default=8, help="server worker threads (CBT and baselines)")
    parser.add_argument("--workers", type=int, default=None,
                        help="server worker processes, CBT and baselines (default: as cbt serve, one per core)")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each throughput run")
    parser.add_argument("--think", type=float, default=2.0,
                        help="mean seconds between a trainee's clicks in the journey and the exam rush (0: none)")
    parser.add_argument("--arrival", type=float, default=30.0,
                        help="seconds over which the class arrives and signs in for the journey")
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--attempts", type=int, default=200000)
    parser.add_argument("--quick", action="store_true", help="1,000 users, 20,000 attempts, 5 s runs")
    parser.add_argument("--database-url", help="PostgreSQL URL (emptied!) to benchmark the central-server setup")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    THINK["mean"] = args.think
    random.seed(20261122)
    if args.quick:
        args.users, args.attempts, args.seconds = 1000, 20000, 5.0

    work = Path(tempfile.mkdtemp(prefix="cbt-bench-"))
    engine = "postgresql" if args.database_url else "sqlite"
    env = {
        **os.environ,
        "CBT_INSTANCE_PATH": str(work / "instance"),
        "CBT_DEFAULT_LOCALE": "ru",
        "CBT_DATABASE_URL": args.database_url or f"sqlite:///{work}/bench.sqlite3",
        "CBT_SECRET_KEY": "bench",
    }
    if args.database_url:
        empty_postgresql(args.database_url)
    notes: list[str] = []
    t0 = time.perf_counter()
    cbt(env, "db", "upgrade")
    cbt(env, "demo")
    print("seeding scale data...", flush=True)
    seed_output = cbt(env, "dev", "seed-scale", "--users", str(args.users), "--attempts", str(args.attempts))
    notes.append(seed_output.strip())
    for n in range(args.trainees):
        cbt(env, "users", "create", f"bench{n:03d}", "--password-stdin", stdin=PASSWORD + "\n")
    cbt(env, "users", "create", "benchadmin", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    if args.database_url and (refused := checkpoint_postgresql(args.database_url)):
        notes.append(f"The seeded data could not be checkpointed before measuring: {refused}")
    print(f"set-up done in {time.perf_counter() - t0:.0f} s", flush=True)

    port, base_port = free_port(), free_port()
    from cbt import serving

    if args.workers is None:
        args.workers = serving.default_workers()
    # cbt serve runs gunicorn for several workers and waitress for one; the baselines are served the same way.
    use_gunicorn = serving.uses_gunicorn(args.workers)
    server = subprocess.Popen(
        [sys.executable, "-m", "cbt", "serve", "--port", str(port), "--threads", str(args.threads),
         "--workers", str(args.workers)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server_name = (f"cbt serve: gunicorn, {args.workers} workers x {args.threads} threads" if use_gunicorn
                   else f"cbt serve: waitress, {args.threads} threads")

    def start_baseline(page_bytes: int = 7000) -> subprocess.Popen:  # type: ignore[type-arg]
        """The baselines, served by the same server as CBT with the same workers and threads."""
        db_path = str(work / "baseline.sqlite3")
        if use_gunicorn:
            gunicorn = shutil.which("gunicorn") or str(Path(sys.executable).with_name("gunicorn"))
            command = [gunicorn, "--workers", str(args.workers), "--threads", str(args.threads),
                       "--worker-class", "gthread", "--keep-alive", str(serving.IDLE_CONNECTION_S),
                       "--bind", f"127.0.0.1:{base_port}", "--pythonpath", str(ROOT / "bench"),
                       f"baseline:make_app({page_bytes}, {db_path!r})"]
        else:
            command = [sys.executable, str(ROOT / "bench" / "baseline.py"), "--port", str(base_port),
                       "--threads", str(args.threads), "--db", db_path, "--page-bytes", str(page_bytes)]
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    baseline = start_baseline()
    results: dict[str, object] = {}
    try:
        wait_for(port)
        wait_for(base_port, "/page")
        probe = Client(port)
        sign_in(probe, Stats(), "bench000")
        course = "vehicle-inspection"
        _, page, _ = probe.get(f"/learn/courses/{course}")
        lessons = re.findall(rb'href="(/learn/courses/' + course.encode() + rb'/lessons/\d+)"', page)
        lessons = [lesson.decode() for lesson in dict.fromkeys(lessons)]
        quiz_ids = [int(q) for q in dict.fromkeys(re.findall(rb'href="/quiz/(\d+)"', page))]
        practice_id, exam_id = quiz_ids[0], quiz_ids[-1]
        _, lesson_page, _ = probe.get(lessons[0])
        page_bytes = len(lesson_page)
        baseline.terminate()  # gunicorn's master stops its workers on TERM (KILL would orphan them)
        baseline.wait()
        baseline = start_baseline(page_bytes)
        wait_for(base_port, "/page")

        results["disk_before"] = disk_commits(work)

        # 1. The trainee path, N trainees at once.
        journey = Stats()
        started = time.perf_counter()
        with ThreadPoolExecutor(args.trainees) as pool:
            list(
                pool.map(
                    lambda n: trainee_journey(
                        port, journey, f"bench{n:03d}", course, lessons[:3], practice_id, args.arrival
                    ),
                    range(args.trainees),
                )
            )
        results["journey_seconds"] = time.perf_counter() - started
        results["journey"] = journey

        # 2. Lesson page vs the bare Jinja page.
        clients = []
        for n in range(args.trainees):
            client = Client(port)
            sign_in(client, Stats(), f"bench{n:03d}")
            clients.append(client)
        base_clients = [Client(base_port) for _ in range(args.trainees)]
        (lesson_rps, lesson_stats), (page_rps, page_stats) = paired_throughput(
            [(clients, lambda c, s: s.timed("GET lesson", c.get, lessons[1])),
             (base_clients, lambda c, s: s.timed("GET /page", c.get, "/page"))],
            args.seconds,
        )
        results["lesson"] = (lesson_rps, page_rps, lesson_stats, page_stats)

        # 3. Autosave vs the bare insert: every trainee saves answers into an open attempt of the practice quiz.
        targets = []
        for client in clients:
            _, page, _ = client.get(f"/quiz/{practice_id}")
            _, _, headers = client.post(f"/quiz/{practice_id}/start", {"csrf_token": csrf(page)})
            path = urllib.parse.urlsplit(headers.get("location", "")).path
            _, page, _ = client.get(path)
            question = re.search(rb'data-question="(\d+)"', page)
            seq = re.search(rb'name="seq" value="(\d+)"', page)
            attempt = re.search(r"/attempts/(\d+)/", path)
            targets.append(
                {
                    "url": f"/quiz/attempts/{attempt.group(1)}/autosave" if attempt else "/",
                    "question": question.group(1).decode() if question else "0",
                    "seq": seq.group(1).decode() if seq else "0",
                    "csrf": csrf(page),
                    "answer": fill(page),
                }
            )
        by_client = dict(zip(map(id, clients), targets, strict=True))

        def autosave(client: Client, stats: Stats) -> None:
            target = by_client[id(client)]
            status, body, _ = stats.timed(
                "POST autosave",
                client.post,
                target["url"],
                [
                    ("csrf_token", target["csrf"]),
                    ("question", target["question"]),
                    ("seq", target["seq"]),
                    *target["answer"],
                ],
            )
            try:
                reply = json.loads(body)
                target["seq"] = str(reply.get("seq", target["seq"]))
                if reply.get("status") not in ("saved", "locked"):
                    stats.errors["POST autosave"] += 1
            except ValueError:
                stats.errors["POST autosave"] += 1

        (save_rps, save_stats), (insert_rps, insert_stats) = paired_throughput(
            [(clients, autosave),
             (base_clients, lambda c, s: s.timed("POST /insert", c.post, "/insert", {"value": "x"}))],
            args.seconds,
        )
        results["autosave"] = (save_rps, insert_rps, save_stats, insert_stats)

        # 4. The exam rush: the whole classroom starts the exam within a second and submits within the minute.
        rush = Stats()
        barrier = threading.Barrier(args.trainees)

        def exam(index: int) -> None:
            barrier.wait()
            time.sleep(random.uniform(0, 1) if THINK["mean"] > 0 else 0)  # everyone starts within one second
            take_quiz(clients[index], rush, exam_id, "exam")

        started = time.perf_counter()
        with ThreadPoolExecutor(args.trainees) as pool:
            list(pool.map(exam, range(args.trainees)))
        results["rush_seconds"] = time.perf_counter() - started
        results["rush"] = rush
        results["disk_after"] = disk_commits(work)

        # 5. Administrator pages on the scale data (measured one at a time, as an administrator uses them): the
        # dashboards of bench/reports.py, and the exports of the newest 100,000 attempts (all, when fewer).
        params = report_bench.facts(env["CBT_DATABASE_URL"])
        admin = Client(port)
        sign_in(admin, Stats(), "benchadmin")
        admin_stats = Stats()
        for label, template in report_bench.DASHBOARDS:
            if "{cohort}" in template and not params["cohort"]:
                continue
            path = template.format(**params)
            admin.get(path)  # warm-up: the first view after seeding computes the report standings
            for _ in range(5):
                admin_stats.timed(f"GET {label}", admin.get, path, ok=(200,))
        since = f"?date_from={params['from'].isoformat()}" if params["from"] else ""
        rows = min(params["total"], report_bench.ROWS)
        for fmt in ("csv", "xlsx"):
            admin_stats.timed(f"{fmt.upper()} export, {rows} attempts", admin.get,
                              f"/reports/export/attempts.{fmt}{since}", ok=(200,))
        results["admin"] = admin_stats
        results["rss"] = rss_mb(server.pid)
    finally:
        server.terminate()
        baseline.terminate()
        server.wait(timeout=20)
        baseline.wait(timeout=20)

    # The same CSV export as a command of its own: its peak memory is that of the whole process.
    period = ["--from", params["from"].isoformat()] if params["from"] else []
    results["export_command"] = report_bench.timed_process(
        env, "export", "attempts", "--format", "csv", *period, "--out", str(work / "attempts.csv"))
    report = render_report(args, engine, server_name, results, notes)
    args.out.mkdir(parents=True, exist_ok=True)
    target = report_path(args.out, f"{datetime.now(UTC):%Y-%m-%d}", engine, args.quick)
    target.write_text(report, encoding="utf-8")
    print(report)
    print(f"written to {target}")
    shutil.rmtree(work, ignore_errors=True)


def report_path(folder: Path, day: str, engine: str, quick: bool) -> Path:
    """Where a run's report goes: a second run on the same day keeps the first's report (and its notes)."""
    stem = f"{day}-{engine}{'-quick' if quick else ''}"
    target, run = folder / f"{stem}.md", 1
    while target.exists():
        run += 1
        target = folder / f"{stem}-run{run}.md"
    return target


def table(stats: Stats) -> list[str]:
    lines = [
        "| endpoint | requests | p50 ms | p95 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, values in sorted(stats.latencies.items()):
        lines.append(
            f"| {name} | {len(values)} | {percentile(values, 0.5):.1f} | {percentile(values, 0.95):.1f} | "
            f"{percentile(values, 0.99):.1f} | {stats.errors.get(name, 0)} |"
        )
    return lines


def render_report(args, engine, server_name, results, notes) -> str:  # type: ignore[no-untyped-def]
    cores = os.cpu_count()
    memory = "?"
    try:
        total_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f"{total_kb / 1048576:.1f} GiB"
    except (OSError, AttributeError):
        pass
    lesson_rps, page_rps, lesson_stats, page_stats = results["lesson"]
    save_rps, insert_rps, save_stats, insert_stats = results["autosave"]
    journey, rush, admin = results["journey"], results["rush"], results["admin"]
    trainee_p99 = max((percentile(v, 0.99) for v in journey.latencies.values()), default=0)
    worst = max(journey.latencies, key=lambda k: percentile(journey.latencies[k], 0.99), default="")
    rush_worst = max(rush.latencies, key=lambda k: percentile(rush.latencies[k], 0.99), default="")
    rush_p99 = max((percentile(v, 0.99) for v in rush.latencies.values()), default=0)
    errors = (
        sum(journey.errors.values())
        + sum(rush.errors.values())
        + sum(save_stats.errors.values())
        + sum(lesson_stats.errors.values())
        + sum(admin.errors.values())
    )
    rss, peak = results["rss"]

    def mark(ok: bool) -> str:
        return "met" if ok else "**missed**"

    def admin_time(label: str) -> float:
        values = [v for k, v in admin.latencies.items() if k.startswith(label)]
        return max((statistics.median(v) for v in values), default=0.0)

    dashboard = admin_time("GET dashboard, default grouping")
    export_seconds, _export_cpu, export_rss = results["export_command"]
    csv_time, xlsx_time = admin_time("CSV export"), admin_time("XLSX export")
    lines = [
        f"# CBT benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC ({engine})",
        "",
        f"Machine: {cores} cores, {memory}, {platform.platform()}, Python {platform.python_version()}. "
        f"Server: {server_name}. Load: {args.trainees} simulated trainees on loopback, {args.seconds:.0f} s per "
        f"endpoint in the throughput runs (back to back, no pauses; endpoint and baseline in three alternating "
        f"slices); in the journey and the exam rush each trainee pauses "
        f"{args.think:g} s on average between clicks and the class arrives over {args.arrival:g} s. "
        f"Data: {notes[0] if notes else ''}" + "".join(f" {note}" for note in notes[1:]),
        "",
        "Disk: a durable one-row commit (SQLite, WAL, synchronous=FULL) took p50 {:.2f} ms, p99 {:.2f} ms before "
        "the load and p50 {:.2f} ms, p99 {:.2f} ms after the exam rush.".format(
            *results["disk_before"], *results["disk_after"]),
        "",
        "## Targets",
        "",
        "| target | measured | result |",
        "| --- | --- | --- |",
        f"| lesson page ≥ 0.5 × bare Flask+Jinja page | {lesson_rps:.0f} / {page_rps:.0f} req/s = "
        f"{lesson_rps / page_rps:.2f} × | {mark(lesson_rps >= 0.5 * page_rps)} |",
        f"| answer autosave ≥ 0.5 × bare SQLite insert | {save_rps:.0f} / {insert_rps:.0f} req/s = "
        f"{save_rps / insert_rps:.2f} × | {mark(save_rps >= 0.5 * insert_rps)} |",
        f"| p99 < 100 ms for trainee endpoints, {args.trainees} trainees at once | worst endpoint p99 "
        f"{trainee_p99:.0f} ms (journey: {worst}), {rush_p99:.0f} ms (exam rush: {rush_worst}) | "
        f"{mark(max(trainee_p99, rush_p99) < 100)} |",
        f"| 0 errors | {errors} | {mark(errors == 0)} |",
        f"| admin dashboard < 300 ms ({args.users} users, {args.attempts} attempts) | {dashboard:.0f} ms | "
        f"{mark(0 < dashboard < 300)} |",
        f"| CSV export of attempts < 3 s | {csv_time / 1000:.2f} s | {mark(0 < csv_time < 3000)} |",
        f"| CSV export < 150 MB peak RSS (`cbt export attempts`, the whole command) | {export_rss:.0f} MB "
        f"({export_seconds:.1f} s with start-up) | {mark(export_rss < 150)} |",
        f"| XLSX export of attempts < 15 s | {xlsx_time / 1000:.2f} s | {mark(0 < xlsx_time < 15000)} |",
        f"| < 150 MB RSS per worker after the run | {rss:.0f} MB (peak {peak:.0f} MB) | {mark(peak < 150)} |",
        "",
        f"## Trainee journey ({args.trainees} at once: sign in, catalog, course, 3 lessons, practice quiz) — "
        f"{results['journey_seconds']:.1f} s",
        "",
        *table(journey),
        "",
        f"## Exam rush ({args.trainees} start the exam within one second, answer and submit) — "
        f"{results['rush_seconds']:.1f} s",
        "",
        *table(rush),
        "",
        "## Throughput runs",
        "",
        *table(lesson_stats),
        *table(page_stats)[2:],
        *table(save_stats)[2:],
        *table(insert_stats)[2:],
        "",
        "## Administrator (one request at a time)",
        "",
        *table(admin),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
