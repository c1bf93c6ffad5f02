"""Turn wrk's results into the benchmark's table: printed, as JSON, and in docs/BENCHMARKS.md.

Run by bench/run.sh; reads the RESULT lines of bench/load.lua and the workers' peak memory.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "BENCHMARKS.md"
START, END = "<!-- bench:latest:start -->", "<!-- bench:latest:end -->"

PAGES = {
    "healthz": ("/healthz (baseline)", "GET /healthz"),
    "tips": ("/tips/ (reference, no target)", "GET /tips/: the lightest signed-in page"),
    "today": ("/today/", "GET /today/"),
    "tick": ("a tick", "POST /today/steps/<id>/tick/ (htmx)"),
    "progress": ("/progress/", "GET /progress/"),
    "check-in": ("/check-in/", "GET /check-in/"),
    "admin": ("patients list", "GET /admin/recovery/recoveryplan/ as a clinician"),
    "admin-alone": ("patients list, 1 connection", "the same, one request at a time"),
}
# Throughput as a share of the baseline's, latency in milliseconds, memory in MB (issue 9).
RATIO_TARGETS = {"today": 0.30, "tick": 0.30, "progress": 0.20}
ADMIN_P95_MS = 250
WORKER_MB = 150


def _cpu():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _commit():
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
        return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")
    except OSError:
        return "unknown"


def _page(entry):
    run = entry["run"]
    seconds = run["duration_us"] / 1e6
    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
    app_ms = entry["app_cpu_ticks"] * tick_ms / max(run["requests"], 1)
    db_ms = entry["db_cpu_ticks"] * tick_ms / max(run["requests"], 1)
    return {
        # CPU per request of the gunicorn workers and of their PostgreSQL backends (from /proc).
        "app_cpu_ms": round(app_ms, 2),
        "db_cpu_ms": round(db_ms, 2),
        "cpu_ms": round(app_ms + db_ms, 2),
        "requests": run["requests"],
        "seconds": round(seconds, 2),
        "rps": round(run["requests"] / seconds, 1),
        "p50_ms": round(run["p50_us"] / 1000, 1),
        "p95_ms": round(run["p95_us"] / 1000, 1),
        "p99_ms": round(run["p99_us"] / 1000, 1),
        "max_ms": round(run["max_us"] / 1000, 1),
        "not_200": run["not_200"],
        "socket_errors": run["socket_errors"],
        "timeouts": run["timeouts"],
    }


def build(args):
    runs = [json.loads(line) for line in Path(args.runs).read_text().splitlines() if line.strip()]
    pages = {}
    baselines = []
    for entry in runs:
        result = _page(entry)
        if entry["page"] == "healthz":
            baselines.append(result)
        else:
            pages[entry["page"]] = result
    # The baseline is measured first and last; the mean of the two evens out drift during the run.
    baseline_rps = sum(run["rps"] for run in baselines) / len(baselines)
    pages = {
        "healthz": {**baselines[0], "rps": round(baseline_rps, 1), "rps_first_last": [b["rps"] for b in baselines]},
        **pages,
    }
    baseline_cpu = sum(run["cpu_ms"] for run in baselines) / len(baselines)
    for result in pages.values():
        result["ratio"] = round(result["rps"] / baseline_rps, 3)
        # The same ratio from CPU cost alone: what the page would get on a machine with nothing else running.
        result["cpu_ratio"] = round(baseline_cpu / result["cpu_ms"], 3) if result["cpu_ms"] else None
    workers = []
    for line in Path(args.workers).read_text().splitlines():
        pid, kilobytes = line.split()
        workers.append({"pid": int(pid), "peak_rss_mb": round(int(kilobytes) / 1024, 1)})
    peak = max((worker["peak_rss_mb"] for worker in workers), default=None)

    targets = []
    for name, share in RATIO_TARGETS.items():
        if name in pages:
            ratio = pages[name]["ratio"]
            targets.append({"target": f"{PAGES[name][0]} ≥ {share:.0%} of the baseline", "measured": f"{ratio:.0%}",
                            "met": ratio >= share})  # fmt: skip
    # Latency is judged with one request at a time: with more connections than workers every request also waits
    # for the one before it, which measures the queue, not the page. Both are shown.
    saturated = f"{args.connections} connections on {len(workers)} workers, saturated"
    for name, how in [("admin-alone", "one clinician at a time"), ("admin", saturated)]:
        if name in pages:
            p95 = pages[name]["p95_ms"]
            targets.append({"target": f"patients list p95 < {ADMIN_P95_MS} ms ({how})", "measured": f"{p95:g} ms",
                            "met": p95 < ADMIN_P95_MS})  # fmt: skip
    if peak is not None:
        targets.append({"target": f"a worker's peak memory < {WORKER_MB} MB", "measured": f"{peak:g} MB",
                        "met": peak < WORKER_MB})  # fmt: skip
    for result in pages.values():
        if result["not_200"] or result["socket_errors"] or result["timeouts"]:
            targets.append({"target": "every response 200", "measured": "failures: see pages", "met": False})
            break
    return {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "cpu": _cpu(),
            "python": platform.python_version(),
            # Other programs on the machine slow every page, the baseline included: say how busy it was.
            "load_average_1_5_15": [round(load, 2) for load in os.getloadavg()],
        },
        "setup": {
            "patients": args.patients,
            "days_of_history": args.days,
            "patients_with_sessions": args.sessions,
            "seconds_per_page": args.duration,
            "connections": args.connections,
            "gunicorn": f"{len(workers)} sync workers",
            "load_generator": "wrk, 1 thread, on the same machine",
        },
        "pages": pages,
        "workers": workers,
        "worker_peak_rss_mb": peak,
        "targets": targets,
    }


def table(result):
    lines = [
        "| page | requests/s | p50 ms | p95 ms | p99 ms | × baseline | CPU ms/request (app + db) "
        "| × baseline by CPU | not 200 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, page in result["pages"].items():
        label = PAGES[name][0]
        lines.append(
            f"| {label} | {page['rps']:.0f} | {page['p50_ms']:g} | {page['p95_ms']:g} | {page['p99_ms']:g} | "
            f"{page['ratio']:.0%} | {page['cpu_ms']:.1f} ({page['app_cpu_ms']:.1f} + {page['db_cpu_ms']:.1f}) | "
            f"{page['cpu_ratio']:.0%} | {page['not_200'] + page['socket_errors'] + page['timeouts']} |"
        )
    lines.append("")
    workers = ", ".join(f"{worker['peak_rss_mb']:g} MB" for worker in result["workers"])
    lines.append(f"Peak memory (VmHWM) of the gunicorn workers: {workers}.")
    lines.append("")
    lines.append("| target | measured | met |")
    lines.append("| --- | ---: | :---: |")
    for target in result["targets"]:
        lines.append(f"| {target['target']} | {target['measured']} | {'yes' if target['met'] else '**no**'} |")
    setup = result["setup"]
    machine = result["machine"]
    baseline = result["pages"]["healthz"]
    lines += [
        "",
        f"Run of {result['when']} at commit {result['commit']} on {machine['cpus']} × {machine['cpu']}, Python "
        f"{machine['python']} (load average at the end {machine['load_average_1_5_15'][1]:g} over 5 minutes, "
        f"{machine['load_average_1_5_15'][2]:g} over 15): {setup['patients']:,} patients with "
        f"{setup['days_of_history']} days of history, "
        f"{setup['patients_with_sessions']:,} of them taking turns, {setup['seconds_per_page']} s per page with "
        f"{setup['connections']} connections ({setup['load_generator']}; {setup['gunicorn']}). The baseline is the "
        f"mean of /healthz at the start and at the end ({' and '.join(f'{r:.0f}' for r in baseline['rps_first_last'])}"
        " requests/s).",
    ]
    return "\n".join(lines)


def write_docs(text):
    if not DOCS.exists():
        raise SystemExit(f"{DOCS} is missing: cannot write the table into it.")
    current = DOCS.read_text()
    if START not in current or END not in current:
        raise SystemExit(f"{DOCS} has no {START} … {END} markers for the table.")
    before, rest = current.split(START, 1)
    _, after = rest.split(END, 1)
    DOCS.write_text(f"{before}{START}\n{text}\n{END}{after}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", required=True)
    parser.add_argument("--workers", required=True)
    parser.add_argument("--json", required=True)
    parser.add_argument("--no-docs", action="store_true")
    for name in ("patients", "days", "sessions", "duration", "connections"):
        parser.add_argument(f"--{name}", type=int, required=True)
    args = parser.parse_args()
    result = build(args)
    text = table(result)
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    print()
    print(text)
    if not args.no_docs:
        write_docs(text)
        print(f"\nWritten to {args.json} and {DOCS.relative_to(ROOT)}.")
    else:
        print(f"\nWritten to {args.json}.")


if __name__ == "__main__":
    main()
