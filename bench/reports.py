"""Report and export timings on scale data: the dashboard, and CSV/XLSX exports of 100,000 attempts.

    python bench/reports.py --database-url sqlite:////tmp/rep.sqlite3 --seed     # create, seed, measure
    python bench/reports.py --database-url sqlite:////tmp/rep.sqlite3            # measure an already seeded one
    python bench/reports.py --database-url postgresql://postgres@127.0.0.1:5432/cbt_repbench --seed

``--seed`` runs ``cbt db upgrade`` and ``cbt dev seed-scale`` (defaults: 10,000 users, 200,000 attempts) on the
database first (PostgreSQL: the schema is dropped first, so never point it at real data). The dashboard is
timed in-process through the Flask test client (the median of ``--repeat`` requests after one warm-up, with
its SQL statement count); each export runs as ``cbt export`` in a process of its own, so its wall time and
peak resident memory (``ru_maxrss``) are those of the whole command, interpreter and imports included. The
export period is chosen so that exactly the newest 100,000 attempts (or all, when fewer) fall in it.

Prints a Markdown table with wall and CPU time (on a shared machine the CPU time is the steadier figure;
the targets are wall times on a quiet one). The targets (issue "Performance"): dashboard < 300 ms, CSV
< 3 s and < 150 MB, XLSX < 15 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Bench-Admin-Pass-1"
ROWS = 100_000
DASHBOARDS = [
    ("dashboard, default grouping", "/reports/"),
    ("dashboard, all four dimensions", "/reports/?group=course&group=site&group=agency&group=country"),
    ("dashboard, one quarter", "/reports/?date_from={q_from}&date_to={q_to}"),
    ("dashboard, one site", "/reports/?site={site}"),
    ("dashboard, one cohort", "/reports/?cohort={cohort}"),
    ("course page", "/reports/courses/{course}"),
]


def cbt(env: dict[str, str], *args: str, stdin: str | None = None, check: bool = True) -> str:
    result = subprocess.run([sys.executable, "-m", "cbt", *args], env=env, input=stdin, text=True,
                            capture_output=True, check=False, cwd=ROOT)
    if check and result.returncode:
        raise RuntimeError(f"cbt {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout + result.stderr


def timed_process(env: dict[str, str], *args: str) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one ``cbt`` command.

    The peak is read from the child's own ``VmHWM`` while it runs, not from ``ru_maxrss``: Linux carries the
    parent's high-water mark into a child across fork and exec, so a large benchmark process made every
    command it started look as large as itself.
    """
    began, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen([sys.executable, "-m", "cbt", *args], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_kb = 0
    status_file = Path(f"/proc/{process.pid}/status")
    while process.poll() is None:
        try:
            for line in status_file.read_text().splitlines():
                # Until exec the child is still a copy of this process.
                if line.startswith("VmHWM:") and "\0-m\0cbt\0" in Path(f"/proc/{process.pid}/cmdline").read_text():
                    peak_kb = max(peak_kb, int(line.split()[1]))
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    elapsed = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if process.returncode:
        raise RuntimeError(f"cbt {' '.join(args)} failed: {process.stderr.read().decode() if process.stderr else ''}")
    return elapsed, cpu, peak_kb / 1024


def seed(env: dict[str, str], url: str, users: int, attempts: int) -> str:
    if url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
    elif url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    cbt(env, "db", "upgrade")
    return cbt(env, "dev", "seed-scale", "--users", str(users), "--attempts", str(attempts)).strip()


def facts(url: str) -> dict[str, Any]:
    """Parameters for the measured URLs and the export period, read from the seeded data."""
    from sqlalchemy import func, select

    from cbt.cohorts.models import Cohort, CohortMember
    from cbt.courses.models import Course
    from cbt.db import make_engine
    from cbt.org.models import Site
    from cbt.quiz.models import Attempt

    engine = make_engine(url)
    with engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(Attempt))
        newest = conn.scalar(select(func.max(Attempt.started_at)))
        cut = conn.scalar(select(Attempt.started_at).order_by(Attempt.started_at.desc()).offset(ROWS - 1).limit(1))
        site = conn.scalar(select(Site.id).where(Site.code.like("scale-site-%")).order_by(Site.code).limit(1))
        course = conn.scalar(select(Course.slug).order_by(Course.slug).limit(1))
        cohort = conn.scalar(select(CohortMember.cohort_id).join(Cohort).group_by(CohortMember.cohort_id)
                             .order_by(func.count().desc(), CohortMember.cohort_id).limit(1))
    engine.dispose()
    if isinstance(newest, str):  # SQLite without the column type (a scalar over an expression)
        from datetime import datetime

        newest = datetime.fromisoformat(newest)
    if isinstance(cut, str):
        from datetime import datetime

        cut = datetime.fromisoformat(cut)
    from datetime import timedelta

    return {"total": total, "from": (cut.date() if cut else None), "to": newest.date() if newest else None,
            "q_from": (newest - timedelta(days=90)).date().isoformat() if newest else "",
            "q_to": newest.date().isoformat() if newest else "", "site": site or "", "course": course or "",
            "cohort": cohort or ""}


def measure_dashboards(url: str, params: dict[str, Any], repeat: int) -> list[tuple[str, float, float, float, int]]:
    from sqlalchemy import event

    from cbt import create_app
    from tests.conftest import CSRF_RE

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "DEFAULT_LOCALE": "ru",
                      "INSTANCE_PATH": tempfile.mkdtemp(prefix="cbt-repbench-")})
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)  # type: ignore[union-attr]
    response = client.post("/login", data={"csrf_token": token, "username": "benchadmin", "password": PASSWORD})
    assert response.status_code in (302, 303), response.status_code
    statements: list[str] = []
    engine = app.extensions["cbt.db"].engine
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    results = []
    for label, template in DASHBOARDS:
        if "{cohort}" in template and not params["cohort"]:
            continue
        path = template.format(**params)
        assert client.get(path).status_code == 200, path  # warm-up (caches, the first connection)
        times, cpu = [], []
        for _ in range(repeat):
            statements.clear()
            began, began_cpu = time.perf_counter(), time.process_time()
            assert client.get(path).status_code == 200
            times.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)
        results.append((label, statistics.median(times), max(times), statistics.median(cpu), len(statements)))
    if params.get("exports"):
        # The same exports over HTTP, as the report page serves them: the server's start-up is not counted.
        for fmt in ("csv", "xlsx"):
            path = f"/reports/export/attempts.{fmt}?date_from={params['from'].isoformat()}"
            began, began_cpu = time.perf_counter(), time.process_time()
            response = client.get(path, buffered=False)
            size = sum(len(chunk) for chunk in response.response)
            response.close()
            results.append((f"GET {path.split('?')[0]} (100,000 rows, {size / 2**20:.1f} MiB)",
                            (time.perf_counter() - began) * 1000, 0.0, (time.process_time() - began_cpu) * 1000, 0))
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seed", action="store_true", help="empty the database, migrate and seed scale data")
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--attempts", type=int, default=200000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-exports", action="store_true")
    parser.add_argument("--skip-dashboard", action="store_true")
    args = parser.parse_args()
    url = args.database_url
    work = Path(tempfile.mkdtemp(prefix="cbt-repbench-"))
    env = {**os.environ, "CBT_DATABASE_URL": url, "CBT_INSTANCE_PATH": str(work / "instance"),
           "CBT_SECRET_KEY": "bench", "CBT_DEFAULT_LOCALE": "ru"}
    sys.path.insert(0, str(ROOT))
    if args.seed:
        print(seed(env, url, args.users, args.attempts), flush=True)
    # Fails harmlessly when the account exists from an earlier run.
    cbt(env, "users", "create", "benchadmin", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n",
        check=False)
    params = facts(url)
    engine = "postgresql" if url.startswith("postgresql") else "sqlite"
    load = os.getloadavg()[0]
    lines = [f"Engine: {engine}, {os.cpu_count()} cores, load average {load:.1f} at the start; "
             f"{params['total']} attempts in the database.", "",
             "| measurement | wall (median) | worst | CPU (median) | SQL statements / peak RSS |",
             "| --- | ---: | ---: | ---: | ---: |"]
    if not args.skip_dashboard:
        params["exports"] = not args.skip_exports and params["from"] is not None
        for label, median, worst, cpu, count in measure_dashboards(url, params, args.repeat):
            if label.startswith("GET"):
                lines.append(f"| {label} | {median / 1000:.2f} s | | {cpu / 1000:.2f} s | |")
            else:
                lines.append(f"| {label} | {median:.0f} ms | {worst:.0f} ms | {cpu:.0f} ms | {count} statements |")
    if not args.skip_exports:
        period = ["--from", params["from"].isoformat()] if params["from"] else []
        for fmt in ("csv", "xlsx"):
            target = work / f"attempts.{fmt}"
            seconds, cpu, rss = timed_process(env, "export", "attempts", "--format", fmt, *period, "--out",
                                              str(target))
            rows = ""
            if fmt == "csv":
                with target.open("rb") as handle:
                    rows = f", {sum(1 for _ in handle) - 1} rows"
            lines.append(f"| `cbt export attempts --format {fmt}`{rows}, {target.stat().st_size / 2**20:.1f} MiB | "
                         f"{seconds:.2f} s | | {cpu:.2f} s | {rss:.0f} MB |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
