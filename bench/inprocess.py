"""The lesson page against the bare page, and an answer's autosave against the bare insert, in one process
through Flask's test client: no server, no network, no load generator sharing the cores.

Each is timed in short alternating slices (A B A B ...) and the ratio is taken slice by slice, so a shared
machine's drift cancels out: on a machine whose speed moved by half between two runs the ratio moved by a few
per cent. Use it to see what a change to the signed-in request path buys before a full run of ``run.py``.

Run: python bench/inprocess.py [--database-url postgresql://...] [--slices 15] [--requests 200]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from baseline import make_app  # noqa: E402
from run import empty_postgresql, fill  # noqa: E402
from werkzeug.datastructures import MultiDict  # noqa: E402

from cbt import create_app  # noqa: E402
from cbt.demo import USERS  # noqa: E402


def _timed(request: Callable[[], object], count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        request()
    return (time.perf_counter() - start) / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="PostgreSQL URL (emptied!); default: a new SQLite file")
    parser.add_argument("--slices", type=int, default=15)
    parser.add_argument("--requests", type=int, default=200, help="requests per slice")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cbt-inprocess-"))
    bare = make_app(7000, str(work / "baseline.sqlite3")).test_client()
    app = create_app({"INSTANCE_PATH": str(work), "DATABASE_URL": args.database_url or f"sqlite:///{work}/cbt.sqlite3"})
    if args.database_url:
        empty_postgresql(args.database_url)
    runner = app.test_cli_runner()
    for command in (["db", "upgrade"], ["demo"]):
        result = runner.invoke(args=command)
        if result.exit_code:
            raise SystemExit(result.output)
    client = app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    username, password = next((u[0], u[1]) for u in USERS if u[2] == "trainee")
    client.post("/login", data={"username": username, "password": password, "csrf_token": token.group(1)})
    course = re.search(r'href="(/learn/courses/[^"/]+)"', client.get("/learn/").get_data(as_text=True))
    course_page = client.get(course.group(1)).get_data(as_text=True)
    page = re.search(r'href="(/learn/courses/[^"]+/lessons/\d+)"', course_page).group(1)
    if client.get(page).status_code != 200:
        raise SystemExit(f"{page} did not open")

    quiz = re.search(r'href="(/quiz/\d+)"', course_page)
    start = re.search(r'action="(/quiz/\d+/start)"[\s\S]*?name="csrf_token"[^>]* value="([^"]+)"',
                      client.get(quiz.group(1)).get_data(as_text=True))
    question_url = client.post(start.group(1), data={"csrf_token": start.group(2)}).headers["Location"]
    question = client.get(question_url).get_data()
    save = {"csrf_token": re.search(rb'name="csrf_token" value="([^"]+)"', question).group(1).decode(),
            "question": re.search(rb'name="question" value="(\d+)"', question).group(1).decode(),
            "seq": "0"}
    answer = fill(question)
    autosave_url = re.sub(r"/\d+$", "/autosave", question_url)

    def autosave() -> object:
        reply = client.post(autosave_url, data=MultiDict([*save.items(), *answer])).get_json()
        if reply.get("status") != "saved":
            raise SystemExit(f"autosave answered {reply}")
        save["seq"] = str(reply["seq"])
        return reply

    pairs_of = {
        "lesson page / bare page": (lambda: bare.get("/page"), lambda: client.get(page)),
        "autosave / bare insert": (lambda: bare.post("/insert", data={"value": "x"}), autosave),
    }
    engine = app.extensions["cbt.db"].engine.dialect.name
    for name, (baseline, measured) in pairs_of.items():
        for _ in range(3):  # warm both: caches, page shells, connection pools
            _timed(baseline, args.requests)
            _timed(measured, args.requests)
        pairs = [(_timed(baseline, args.requests), _timed(measured, args.requests)) for _ in range(args.slices)]
        ratios = [base / timed for base, timed in pairs]
        print(f"{engine}: {name}: {statistics.median(m for _, m in pairs):.3f} ms / "
              f"{statistics.median(b for b, _ in pairs):.3f} ms, "
              f"ratio {statistics.median(ratios):.3f} x (slices {min(ratios):.3f}-{max(ratios):.3f})")


if __name__ == "__main__":
    main()
