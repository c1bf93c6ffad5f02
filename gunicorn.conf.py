"""Gunicorn in production (deploy/apex-web.service; docs/DEPLOY.md): run from the project folder as ``gunicorn``.

Gunicorn reads ``./gunicorn.conf.py`` by itself. The address, the number of processes, the trusted proxy and the
log level come from the environment; anything else here is the same on every server. (The benchmark has its own:
bench/gunicorn.conf.py.)

- ``GUNICORN_BIND`` (default ``127.0.0.1:8000``): where the TLS proxy finds the portal. Keep it on the loopback
  or a private address: only the proxy talks to gunicorn.
- ``WEB_CONCURRENCY`` (default: the number of CPU cores, at least 2): sync worker processes. The pages are
  CPU-bound Python, so more processes than cores only queue. Each keeps its own PostgreSQL pool of up to
  ``DATABASE_POOL_MAX_SIZE`` connections: count them against PostgreSQL's ``max_connections`` as docs/DEPLOY.md
  ("Database connections") says, twice this number during a reload.
- ``GUNICORN_FORWARDED_ALLOW_IPS`` (default ``127.0.0.1``): the proxy's address, whose ``X-Forwarded-*`` headers
  gunicorn may believe.
- ``GUNICORN_LOG_LEVEL`` (default ``info``).
"""

import os


def _env_int(name, default, minimum=1):
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {value!r}.") from None
    if number < minimum:
        raise SystemExit(f"{name} must be at least {minimum}, not {number}.")
    return number


wsgi_app = "clinic.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "").strip() or "127.0.0.1:8000"
workers = _env_int("WEB_CONCURRENCY", max(2, os.cpu_count() or 1))
worker_class = "sync"
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "").strip() or "127.0.0.1"

# A request taking longer than this is stuck: its worker is restarted. The slowest page (the front desk's group
# intake of 5,000 patients) takes a few seconds.
timeout = 30
# On a restart (systemctl reload), requests under way get this long to finish.
graceful_timeout = 30
keepalive = 5
# A fresh process now and then returns whatever memory a long-lived one has piled up; but not often, since a new
# process spends about half a second of CPU importing the portal while requests queue behind it. Recycled every
# 2,000 requests, /today/'s p99 under load doubled and /healthz lost a quarter of its throughput; the workers'
# memory stays flat at about 75 MB from 40,000 to 150,000 requests (docs/BENCHMARKS.md, eighth round).
max_requests = 20000
max_requests_jitter = 2000

# Logs to standard error: systemd's journal keeps them (journalctl -u apex-web).
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "").strip() or "info"
# Who, what, the answer, its size and how long it took (%(M)s: milliseconds); the request line without its query
# string or the secret of an invitation or reset link (clinic/access_log.py).
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
logger_class = "clinic.access_log.PrivateAccessLogger"
