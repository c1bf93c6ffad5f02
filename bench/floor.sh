#!/usr/bin/env bash
# make bench-floor: CPU per request of /healthz, of a signed-in page that does nothing, of a patient page that only
# finds the plan, and of the benchmark's pages, in-process (bench/floor.py), with the settings and sessions of the
# last make bench (run that first).
set -euo pipefail
cd "$(dirname "$0")/.."
test -f bench/results/env.sh || { echo "Run make bench first: it fills the database and makes the sessions." >&2; exit 1; }
# shellcheck source=/dev/null
. bench/results/env.sh
exec .venv/bin/python bench/floor.py "$@"
