"""Profile one page of the benchmark in-process with pyinstrument, against the benchmark database.

    make bench-profile PAGE=today        # or tick, progress, check-in, admin, healthz

Uses the sessions of the last ``make bench`` (bench/results/sessions.tsv) and the same production settings
(bench/run.sh exports them; run it through make). Prints the profile of ``--requests`` requests, each as a
different patient, plus the SQL each request ran.
"""

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("page", choices=["healthz", "tips", "today", "tick", "progress", "check-in", "admin"])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--sessions", default=str(ROOT / "bench" / "results" / "sessions.tsv"))
    parser.add_argument("--html", help="Also write the profile as HTML to this file.")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from pyinstrument import Profiler

    role = "clinician" if args.page == "admin" else "patient"
    rows = [line.split("\t") for line in Path(args.sessions).read_text().splitlines()]
    sessions = [row for row in rows if row[0] == role]
    paths = {"healthz": "/healthz", "today": "/today/", "progress": "/progress/", "check-in": "/check-in/",
             "admin": "/admin/recovery/recoveryplan/", "tips": "/tips/"}  # fmt: skip

    # One client, as one gunicorn worker loads the middleware once; each request comes as another patient.
    client = Client(SERVER_NAME="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")

    def one(number):
        _, key, csrf, step, date = sessions[number % len(sessions)]
        client.cookies["sessionid"] = key
        client.cookies["csrftoken"] = csrf
        if args.page == "tick":
            return client.post(
                f"/today/steps/{step}/tick/",
                {"date": date, "count": (number // len(sessions) + 1) % 2},
                HTTP_X_CSRFTOKEN=csrf,
                HTTP_ORIGIN="https://127.0.0.1",
                HTTP_HX_REQUEST="true",
            )
        return client.get(paths[args.page])

    for number in range(5):  # warm up: imports, templates, the pool
        one(number)
    with CaptureQueriesContext(connection) as queries:
        response = one(5)
    print(f"{args.page}: status {response.status_code}, {len(response.content)} bytes, {len(queries)} queries:")
    for query in queries.captured_queries:
        print(f"  {query['time']}s  {query['sql'][:160]}")
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for number in range(args.requests):
        one(number)
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=os.environ.get("PROFILE_ALL") == "1"))
    if args.html:
        Path(args.html).write_text(profiler.output_html())


if __name__ == "__main__":
    main()
