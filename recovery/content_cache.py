"""Plan and protocol content that changes rarely, read from the shared cache instead of the database on every
page: each plan's steps (with their tips' slugs and titles), each protocol's phases, the published tips and the
disclaimer.

Every entry carries the content *generation* it was read under. A save or delete of any step, phase, tip or the
disclaimer (through the services, the admin, a revert, a migration) starts a new generation, and again when it
commits, so from then on every older entry is ignored, by every process on every
server. A reader that races a change stores its rows under the generation it saw *before* it read the database, so
rows read before the commit can never pass as current after it.

Changes are rare (a clinician tailoring a plan, an edit of the tip sheet), reads are many: one cache round trip
replaces two queries on each patient's page and on the clinicians' list, and both queries of the tip pages
(docs/BENCHMARKS.md).

Only with a shared cache (Redis, ``REDIS_URL``): a process's private memory would not hear of another's changes,
so without one everything is read from the database, as before.
"""

import hashlib
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

GENERATION_KEY = "content:generation"
ENTRY_SECONDS = 24 * 60 * 60  # an entry nobody reads for a day makes room for others


def enabled():
    return settings.CONTENT_CACHE


def rows_by_id(kind, fields, ids, load):
    """``load(ids)`` (a dict of row lists by id), served from the cache where it holds the current generation.

    ``fields`` names the columns of each row: a change to them (a new release) changes the keys, so rows of
    another shape are never read back.
    """
    ids = list(dict.fromkeys(ids))
    if not ids or not enabled():
        return load(ids)
    shape = hashlib.blake2s(",".join(fields).encode(), digest_size=4).hexdigest()
    keys = {f"content:{kind}:{shape}:{pk}": pk for pk in ids}
    found = cache.get_many([GENERATION_KEY, *keys])
    generation = found.pop(GENERATION_KEY, None) or _first_generation()
    rows = {keys[key]: entry[1] for key, entry in found.items() if entry[0] == generation}
    missing = [pk for pk in ids if pk not in rows]
    if missing:
        loaded = load(missing)
        rows.update(loaded)
        if generation is not None:  # None: the cache is away, keep nothing
            fresh = {key: (generation, loaded.get(pk, [])) for key, pk in keys.items() if pk in missing}
            cache.set_many(fresh, ENTRY_SECONDS)
    return rows


def rows(kind, fields, load):
    """``load()`` (a list of rows), served from the cache as ``rows_by_id`` serves one id's: one entry in all."""
    return rows_by_id(kind, fields, [0], lambda ids: {0: load()})[0]


def _first_generation():
    # add() rather than set(): of two processes starting at once, one generation wins and both use it.
    cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    return cache.get(GENERATION_KEY)


def content_changed(**kwargs):
    """A signal receiver: every cached entry is out of date, now and again once the change is committed.

    Now, so that this transaction's own later reads see the change; again after the commit, because a reader
    in between read the rows as they were before it and stored them under the generation started now.
    """
    if enabled():
        _new_generation()
        transaction.on_commit(_new_generation)


def _new_generation():
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
