"""One short line now and then while Redis is away, not a traceback per command (docs/OPERATIONS.md, "When Redis
is away").

django-redis turns each failed command into a miss and logs it with ``logger.exception("Exception ignored")``: a
traceback of three chained exceptions, about 560 lines for one page view with Redis down, so many that the
journal's rate limit then dropped the lines that mattered. This filter, on django-redis's logger, makes each such
record one WARNING line without the traceback, and lets at most one through every ``EVERY_SECONDS`` in a process,
saying how many it left out since the last.
"""

import logging
import time

EVERY_SECONDS = 60


class RedisAwayFilter(logging.Filter):
    def __init__(self, every=EVERY_SECONDS):
        super().__init__()
        self.every = every
        self.reset()

    def reset(self):
        self.last_at = None
        self.left_out = 0

    def filter(self, record):
        if not record.exc_info:
            return True
        now = time.monotonic()
        if self.last_at is not None and now - self.last_at < self.every:
            self.left_out += 1
            return False
        left_out, self.last_at, self.left_out = self.left_out, now, 0
        # django-redis's ConnectionInterrupted reads "Redis ConnectionError: Error 111 connecting to …".
        since = f"; {left_out} more since the last line" if left_out else ""
        record.msg = (
            f"Redis is away ({record.exc_info[1]}): its reads are misses and pages read the database. Said at most "
            f"once every {self.every} seconds per process{since}."
        )
        record.args = ()
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info, record.exc_text = None, None
        return True
