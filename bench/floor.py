"""The floor under every signed-in page, measured in-process against the benchmark's database (after make bench).

    make bench-floor

CPU time per request (``process_time``) through Django's WSGI handler, as gunicorn calls it, with the settings and
sessions of the last ``make bench``, of:

- ``/healthz``, the benchmark's baseline;
- **signed in, nothing else**: a view behind ``login_required`` that answers "ok": the session, the signed-in user
  and every middleware, which any page of a signed-in person pays;
- **a patient, nothing else**: the same behind ``plan_required``, which also finds the patient's open plan, as
  every patient page does first;
- the benchmark's patient pages.

Each as a share of ``/healthz``: the share of the baseline's throughput the page could reach if CPU were the only
limit, the benchmark's "× baseline by CPU". The two empty pages exist only in this process (their URLconf is this
script's), never in the portal. Rounds take the pages in turn and the best round of each page counts, so a busy
moment of the machine weighs on none (docs/BENCHMARKS.md, "The floor").
"""

import argparse
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

PAGES = {
    "healthz": "/healthz",
    "signed-in": "/bench-floor/signed-in/",
    "patient": "/bench-floor/patient/",
    "tips": "/tips/",
    "today": "/today/",
    "tick": None,  # a POST to the patient's own step, as bench/load.lua sends it
    "progress": "/progress/",
    "check-in": "/check-in/",
}
LABELS = {
    "healthz": "/healthz (baseline)",
    "signed-in": "signed in, nothing else",
    "patient": "a patient with a plan, nothing else",
    "tips": "/tips/",
    "today": "/today/",
    "tick": "a tick",
    "progress": "/progress/",
    "check-in": "/check-in/",
}


def _urlpatterns():
    from django.contrib.auth.decorators import login_required
    from django.http import HttpResponse
    from django.urls import path

    import clinic.urls
    from recovery.views.access import plan_required

    @login_required
    def signed_in(request):
        return HttpResponse("ok")

    @plan_required
    def patient(request):
        return HttpResponse("ok")

    return [
        path("bench-floor/signed-in/", signed_in),
        path("bench-floor/patient/", patient),
        *clinic.urls.urlpatterns,
    ]


def _environ(page, session, count):
    _, key, csrf, step, date = session
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": PAGES[page],
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "443",
        "HTTP_HOST": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_COOKIE": "" if page == "healthz" else f"sessionid={key}; csrftoken={csrf}",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
    }
    if page == "tick":
        body = f"date={date}&count={count}".encode()
        environ.update(
            REQUEST_METHOD="POST",
            PATH_INFO=f"/today/steps/{step}/tick/",
            CONTENT_TYPE="application/x-www-form-urlencoded",
            CONTENT_LENGTH=str(len(body)),
            HTTP_X_CSRFTOKEN=csrf,
            HTTP_ORIGIN="https://127.0.0.1",
            HTTP_HX_REQUEST="true",
        )
        environ["wsgi.input"] = io.BytesIO(body)
    return environ


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="requests per page and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sessions", default=str(ROOT / "bench" / "results" / "sessions.tsv"))
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    sessions = [line.split("\t") for line in Path(args.sessions).read_text().splitlines()]
    sessions = [row for row in sessions if row[0] == "patient"]
    module = type(sys)("bench_floor_urls")
    module.urlpatterns = _urlpatterns()
    sys.modules[module.__name__] = module

    with override_settings(ROOT_URLCONF=module.__name__):
        handler = WSGIHandler()
        statuses = {}
        ticks = [0] * len(sessions)

        def request(page, number):
            index = number % len(sessions)
            if page == "tick":  # a patient's step goes to 1, then back to 0 the next time round: insert, then delete
                ticks[index] += 1

            def start_response(status, headers, exc_info=None):
                statuses[page] = status

            answer = handler(_environ(page, sessions[index], ticks[index] % 2), start_response)
            b"".join(answer)
            answer.close()

        for page in PAGES:  # warm up: imports, templates, the pool, the caches
            for number in range(20):
                request(page, number)
        best = dict.fromkeys(PAGES, float("inf"))
        for round_number in range(args.rounds):
            for page in PAGES:
                start = time.process_time()
                for number in range(args.requests):
                    request(page, round_number * args.requests + number)
                best[page] = min(best[page], (time.process_time() - start) / args.requests * 1000)

    refused = {page: status for page, status in statuses.items() if not status.startswith("200")}
    if refused:
        raise SystemExit(f"Not every page answered 200: {refused}")
    baseline = best["healthz"]
    print("| page | CPU ms per request (in-process) | × baseline by CPU |")
    print("| --- | ---: | ---: |")
    for page, cpu_ms in best.items():
        print(f"| {LABELS[page]} | {cpu_ms:.2f} | {baseline / cpu_ms:.0%} |")
    print(
        f"\nBest of {args.rounds} rounds of {args.requests} requests per page, each as another of "
        f"{len(sessions):,} patients; Django's WSGI handler in one process (no gunicorn, no load generator)."
    )


if __name__ == "__main__":
    main()
