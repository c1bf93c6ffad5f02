"""Gunicorn for the benchmark (``make bench``): the portal as production runs it, on one small machine.

Two sync workers for two cores: the pages are CPU-bound Python, so more processes than cores only queue, and
threads would share one interpreter lock. Each worker keeps its own psycopg pool (clinic/settings.py).
"""

import os

bind = f"127.0.0.1:{os.environ.get('BENCH_PORT', '8093')}"
workers = int(os.environ.get("BENCH_WORKERS", "2"))
worker_class = "sync"
# The load generator keeps a few requests waiting per worker; the backlog holds them.
backlog = 256
timeout = 30
graceful_timeout = 5
# No access log: writing a line per request would be part of what is measured.
accesslog = None
errorlog = "-"
loglevel = "warning"
