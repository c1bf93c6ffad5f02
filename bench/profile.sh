#!/usr/bin/env bash
# make bench-profile PAGE=today: profile one page with pyinstrument against the benchmark database, with the
# settings and sessions of the last make bench (run that first).
set -euo pipefail
cd "$(dirname "$0")/.."
test -f bench/results/env.sh || { echo "Run make bench first: it fills the database and makes the sessions." >&2; exit 1; }
# shellcheck source=/dev/null
. bench/results/env.sh
exec .venv/bin/python bench/profile_page.py "$@"
