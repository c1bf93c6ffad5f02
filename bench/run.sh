#!/usr/bin/env bash
# make bench: a whole clinic on PostgreSQL, the portal under gunicorn with production settings, and wrk loading
# each page in turn from a second process on loopback. Prints the table, writes bench/results/latest.json and the
# table in docs/BENCHMARKS.md. See docs/BENCHMARKS.md for what is measured and why.
#
# Settings (environment): BENCH_DB (apex_bench), BENCH_PATIENTS (10000), BENCH_DAYS (90), BENCH_SESSIONS (2000),
# BENCH_DURATION seconds per page (15), BENCH_CONNECTIONS (4), BENCH_WORKERS (2), BENCH_PORT (8093),
# BENCH_RESET=1 to fill again, BENCH_WRITE_DOCS=0 to leave docs/BENCHMARKS.md alone, BENCH_REDIS_URL
# (redis://127.0.0.1:6379/2, emptied).
set -euo pipefail
cd "$(dirname "$0")/.."

DB="${BENCH_DB:-apex_bench}"
PATIENTS="${BENCH_PATIENTS:-10000}"
DAYS="${BENCH_DAYS:-90}"
SESSIONS="${BENCH_SESSIONS:-2000}"
DURATION="${BENCH_DURATION:-15}"
CONNECTIONS="${BENCH_CONNECTIONS:-4}"
REDIS="${BENCH_REDIS_URL:-redis://127.0.0.1:6379/2}"
export BENCH_PORT="${BENCH_PORT:-8093}"
PY=.venv/bin/python
RESULTS=bench/results
mkdir -p "$RESULTS"

case "$DB" in
    apex_bench*) ;;
    *) echo "BENCH_DB must start with apex_bench (got $DB): the benchmark deletes and writes thousands of rows." >&2; exit 2 ;;
esac

if ! command -v wrk >/dev/null; then
    echo "== Installing wrk (Debian package)"
    if ! apt-get install -y -qq wrk >/dev/null 2>&1; then
        apt-get update -qq && apt-get install -y -qq wrk >/dev/null
    fi
fi

if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    echo "PostgreSQL is down: starting it."
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
    for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
if ! psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $DB"
fi

# Production settings, as the deployment runs them behind its TLS proxy; a throwaway secret, mail never sent.
# Written to bench/results/env.sh (git-ignored) so that bench/profile.sh uses the same ones and sessions.
cat >"$RESULTS/env.sh" <<SETTINGS
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
export DJANGO_DEBUG=false
export DJANGO_SECRET_KEY="bench-$($PY -c 'import secrets; print(secrets.token_urlsafe(40))')"
export DJANGO_ALLOWED_HOSTS=127.0.0.1
export DJANGO_SITE_URL=https://127.0.0.1
export EMAIL_URL=smtp://127.0.0.1:25
export DJANGO_DEFAULT_FROM_EMAIL="Apex Sports Clinic <no-reply@bench.example>"
export CLINIC_DUTY_EMAIL=duty@bench.example
export DJANGO_LOG_LEVEL=WARNING
export REDIS_URL="$REDIS"
SETTINGS
# shellcheck source=/dev/null
. "$RESULTS/env.sh"

# Redis as production runs it (the shared cache, cached sessions); its database is emptied first, as the
# sessions are made anew below and plans may have been filled again under the same ids.
if ! command -v redis-cli >/dev/null; then
    echo "== Installing redis-cli (Debian's redis-tools)"
    apt-get install -y -qq redis-tools >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq redis-tools >/dev/null; }
fi
if ! redis-cli -u "$REDIS" ping >/dev/null 2>&1; then
    echo "Redis is not answering at $REDIS: start it (redis-server --daemonize yes) or set BENCH_REDIS_URL." >&2
    exit 1
fi
redis-cli -u "$REDIS" flushdb >/dev/null

echo "== Database $DB: migrate, static files, the clinic ($PATIENTS patients, $DAYS days)"
$PY manage.py migrate --noinput -v0
$PY manage.py collectstatic --noinput -v0
$PY manage.py bench_clinic --patients "$PATIENTS" --days "$DAYS" ${BENCH_RESET:+--reset}
$PY manage.py bench_clinic --patients "$PATIENTS" --days "$DAYS" --sessions "$SESSIONS" \
    --sessions-file "$RESULTS/sessions.tsv"

echo "== Gunicorn on 127.0.0.1:$BENCH_PORT"
if ss -ltn "sport = :$BENCH_PORT" | grep -q LISTEN; then
    echo "Port $BENCH_PORT is taken by another program: choose a free one with BENCH_PORT=..." >&2
    exit 1
fi
.venv/bin/gunicorn -c bench/gunicorn.conf.py clinic.wsgi:application >"$RESULTS/gunicorn.log" 2>&1 &
GUNICORN=$!
trap 'kill "$GUNICORN" 2>/dev/null; wait "$GUNICORN" 2>/dev/null || true' EXIT
URL="http://127.0.0.1:$BENCH_PORT"
for _ in $(seq 50); do
    curl -fsS -o /dev/null "$URL/healthz" 2>/dev/null && break
    sleep 0.2
done
curl -fsS -o /dev/null "$URL/healthz" || { cat "$RESULTS/gunicorn.log"; exit 1; }

cpu_ticks() {  # the CPU time (user + system, in clock ticks) used so far by the given processes
    local total=0 pid
    for pid in "$@"; do
        total=$((total + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
    done
    echo "$total"
}

run_page() {  # page, seconds, output file[, connections]
    # Besides wrk's throughput and latency, the CPU that the workers and their PostgreSQL backends spent on the
    # page: a cost per request that other programs on the machine cannot disturb as much as they disturb speed.
    local workers backends app_before db_before result
    workers=$(ps -o pid= --ppid "$GUNICORN" | xargs)
    backends=$(psql -h 127.0.0.1 -U postgres -tAc \
        "SELECT pid FROM pg_stat_activity WHERE datname = '$DB' AND backend_type = 'client backend' AND pid <> pg_backend_pid()" | xargs)
    app_before=$(cpu_ticks $workers)
    db_before=$(cpu_ticks $backends)
    result=$(wrk -t1 -c"${4:-$CONNECTIONS}" -d"$2s" --timeout 10s -s bench/load.lua "$URL" -- "${1%-alone}" \
        "$RESULTS/sessions.tsv" | sed -n 's/^RESULT //p')
    test -n "$result" || { echo "wrk gave no result for $1" >&2; exit 1; }
    echo "{\"page\": \"$1\", \"app_cpu_ticks\": $(($(cpu_ticks $workers) - app_before)), \"db_cpu_ticks\": $(($(cpu_ticks $backends) - db_before)), \"run\": $result}" >>"$3"
}

# /tips/ is no target: the lightest signed-in page (session, user, plan, a small template), for reference.
PAGES="healthz tips today tick progress check-in admin"
echo "== Warming up each page (2 s each, not counted)"
: >"$RESULTS/warmup.jsonl"
for page in $PAGES; do run_page "$page" 2 "$RESULTS/warmup.jsonl"; done

echo "== Loading each page for ${DURATION} s with $CONNECTIONS connections; /healthz first and last"
: >"$RESULTS/runs.jsonl"
for page in $PAGES healthz; do
    echo "   $page"
    run_page "$page" "$DURATION" "$RESULTS/runs.jsonl"
done
# The patients list's latency as one clinician sees it: one request at a time, none queued behind another.
echo "   admin, one connection"
run_page admin-alone "$DURATION" "$RESULTS/runs.jsonl" 1

# The peak memory (VmHWM) of each worker: the gunicorn master's children.
WORKERS=$(ps -o pid= --ppid "$GUNICORN")
: >"$RESULTS/workers.txt"
for pid in $WORKERS; do
    grep '^VmHWM:' "/proc/$pid/status" | awk -v pid="$pid" '{print pid, $2}' >>"$RESULTS/workers.txt"
done

$PY bench/report.py --runs "$RESULTS/runs.jsonl" --workers "$RESULTS/workers.txt" \
    --json "$RESULTS/latest.json" $([ "${BENCH_WRITE_DOCS:-1}" = 0 ] && echo --no-docs) \
    --patients "$PATIENTS" --days "$DAYS" --sessions "$SESSIONS" --duration "$DURATION" --connections "$CONNECTIONS"
