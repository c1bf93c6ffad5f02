"""The shared cache (Redis, REDIS_URL): signed-in pages read the session and the plan's steps and phases from it,
a change to those shows at once, switching an account off clears its cached sessions too, and a cache that is
away never breaks a page. These tests use the Redis every developer
machine and CI runs (REDIS_URL, or 127.0.0.1:6379 database 15)."""

import datetime
import os

import pytest
import time_machine
from django.contrib.sessions.backends.cached_db import KEY_PREFIX as SESSION_KEY_PREFIX
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.env import env_cache
from recovery.care import plan_step_change
from recovery.clock import clinic_today
from recovery.content_cache import content_changed, rows_by_id
from recovery.models import Completion, Disclaimer, Phase, ProtocolStep, Tip
from recovery.protocol_updates import protocol_update
from tests.factories import PASSWORD, make_plan
from tests.test_today import task_attrs

pytestmark = pytest.mark.django_db

TEST_REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
NOBODY_LISTENS = "redis://127.0.0.1:9/0"  # the discard port: refused at once


def use_redis(settings, monkeypatch, url):
    """The settings clinic/settings.py makes of REDIS_URL=url: the cache, cached sessions, cached content."""
    monkeypatch.setenv("REDIS_URL", url)
    settings.CACHES = {"default": env_cache("REDIS_URL")}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    settings.CONTENT_CACHE = True
    cache.clear()


@pytest.fixture
def with_redis(settings, monkeypatch):
    use_redis(settings, monkeypatch, TEST_REDIS_URL)
    yield
    cache.clear()


def sign_in(email):
    client = Client()
    response = client.post("/accounts/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302, response
    return client


def session_queries(queries):
    return [query["sql"] for query in queries.captured_queries if "django_session" in query["sql"]]


def test_a_signed_in_page_reads_the_session_from_redis_not_the_database(with_redis, patient, plan):
    client = sign_in(patient.email)
    assert cache.get(SESSION_KEY_PREFIX + client.cookies["sessionid"].value)["_auth_user_id"] == str(patient.pk)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/today/")

    assert response.status_code == 200
    assert response.context["tasks"]  # her checklist, not the sign-in page
    assert session_queries(queries) == []


def test_a_cached_session_expires_with_the_session_fourteen_days_after_sign_in(with_redis, patient, plan):
    client = sign_in(patient.email)

    seconds_left = cache.ttl(SESSION_KEY_PREFIX + client.cookies["sessionid"].value)

    assert 14 * 24 * 60 * 60 - 60 < seconds_left <= 14 * 24 * 60 * 60


def test_a_session_missing_from_redis_is_read_from_the_database_and_cached_again(with_redis, patient, plan):
    client = sign_in(patient.email)
    cache.clear()  # e.g. Redis restarted

    assert client.get("/today/").status_code == 200
    assert cache.get(SESSION_KEY_PREFIX + client.cookies["sessionid"].value) is not None


def test_switching_an_account_off_ends_its_sessions_in_redis_too(with_redis, patient, plan, reception):
    patient_client = sign_in(patient.email)
    session_key = patient_client.cookies["sessionid"].value
    desk = Client()
    desk.force_login(reception)

    response = desk.post(f"/front-desk/patients/{patient.pk}/deactivate/")

    assert response.status_code == 302
    assert cache.get(SESSION_KEY_PREFIX + session_key) is None
    assert patient_client.get("/today/").status_code == 302  # to the sign-in page


def test_with_redis_away_patients_still_sign_in_and_tick_off_their_day(settings, monkeypatch, patient, plan):
    use_redis(settings, monkeypatch, NOBODY_LISTENS)
    client = sign_in(patient.email)

    page = client.get("/today/")
    assert page.status_code == 200
    task = page.context["open_tasks"][0]
    response = client.post(
        f"/today/steps/{task.step.ref.id}/tick/", {"date": page.context["date"].isoformat(), "count": 1}
    )

    assert response.status_code == 302
    assert plan.completions.get(step_key=task.key).count == 1


@pytest.fixture
def redis_away_log(settings, monkeypatch, caplog):
    """Redis refusing every command, its ignored errors logged as clinic/settings.py has them logged with
    REDIS_URL, and the once-a-minute filter of this process starting afresh."""
    import logging

    settings.DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    use_redis(settings, monkeypatch, NOBODY_LISTENS)
    for log_filter in logging.getLogger("django_redis.cache").filters:
        getattr(log_filter, "reset", lambda: None)()
    caplog.set_level(logging.INFO)
    caplog.clear()
    return caplog


def redis_lines(caplog):
    return [record for record in caplog.records if record.name.startswith("django_redis")]


def test_with_redis_away_a_page_view_logs_one_warning_line_without_a_traceback(redis_away_log, patient, plan):
    """Each failed command logged a three-exception traceback: about 560 lines per page, which flooded the journal
    until its rate limit dropped the lines that mattered."""
    client = Client()
    client.force_login(patient)
    assert client.get("/today/").status_code == 200

    [line] = redis_lines(redis_away_log)
    assert line.levelname == "WARNING" and line.exc_info is None
    assert line.getMessage().startswith("Redis is away (Redis ConnectionError: Error 111 connecting to 127.0.0.1:9.")
    assert "pages read the database" in line.getMessage()
    assert "Traceback" not in redis_away_log.text

    redis_away_log.clear()
    assert client.get("/today/").status_code == 200
    assert redis_lines(redis_away_log) == []  # at most one a minute


def test_the_next_line_a_minute_later_says_how_many_were_left_out(monkeypatch):
    import logging

    from clinic import cache_log

    clock = [1000.0]
    monkeypatch.setattr(cache_log.time, "monotonic", lambda: clock[0])
    away = cache_log.RedisAwayFilter(every=60)

    def failed_command():
        error = ConnectionError("Error 111 connecting to 127.0.0.1:9. Connection refused.")
        record = logging.LogRecord("django_redis.cache", logging.ERROR, __file__, 1, "Exception ignored", (), None)
        record.exc_info = (ConnectionError, error, None)
        return record

    first = failed_command()
    assert away.filter(first) and "Connection refused" in first.getMessage() and "more since" not in first.getMessage()
    assert not any(away.filter(failed_command()) for _ in range(40))
    clock[0] += 61
    later = failed_command()
    assert away.filter(later) and "; 40 more since the last line." in later.getMessage()


# -- Plans' steps, protocols' phases, tips and the disclaimer from the cache (recovery/content_cache.py) ----------


@pytest.fixture
def day_one(patient):
    """A plan the day after the race: ice, compression and rest are all on today's list."""
    return make_plan(patient, days_since_race=1)


def test_with_a_warm_cache_today_reads_only_what_changes_daily(
    with_redis, client, patient, day_one, django_assert_num_queries
):
    client.force_login(patient)
    first = client.get("/today/")  # the first visit reads the steps and phases and keeps them
    # The user, the open plan, then the week's ticks, days off and pain scores (and the stop level): the session,
    # the plan's steps and the protocol's phases come from Redis (6 queries without it: tests/test_today.py).
    with django_assert_num_queries(3):
        response = client.get("/today/")
    assert [task.key for task in response.context["tasks"]] == [task.key for task in first.context["tasks"]]
    # A tick finds its step among the cached steps: the user, the plan, a savepoint, the week, the upsert, the
    # plan's last activity and the savepoint's release (12 queries without Redis).
    ice = reverse("recovery:tick", args=[day_one.steps.get(key="ice").pk])
    with django_assert_num_queries(7):
        client.post(ice, {"date": clinic_today().isoformat(), "count": 1}, HTTP_HX_REQUEST="true")
    assert Completion.objects.get(plan=day_one, step_key="ice").count == 1


def test_a_step_a_clinician_tailors_shows_on_the_patients_next_visit(with_redis, client, patient, day_one):
    plan = day_one
    client.force_login(patient)
    assert task_attrs(client.get("/today/"), "ice")["data-target"] == "3"

    plan_step_change(plan=plan, key="ice", from_date=clinic_today(), today=clinic_today(), doses_per_day=2)

    assert task_attrs(client.get("/today/"), "ice")["data-target"] == "2"


def test_a_protocol_change_brought_to_the_plans_shows_on_the_patients_next_visit(with_redis, client, patient, day_one):
    client.force_login(patient)
    assert task_attrs(client.get("/today/"), "ice")["data-target"] == "3"
    ProtocolStep.objects.filter(protocol=day_one.protocol, key="ice").update(doses_per_day=2)

    protocol_update(protocol=day_one.protocol, today=clinic_today())  # bulk writes: no save signals of their own

    # From tomorrow (recovery/protocol_updates.py): the version the cache holds for today is no longer enough.
    tomorrow = clinic_today() + datetime.timedelta(days=1)
    with time_machine.travel(timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time(12))), tick=False):
        assert task_attrs(client.get("/today/"), "ice")["data-target"] == "2"


def test_a_tip_retitled_in_the_admin_shows_on_every_plan_at_once(with_redis, client, patient, day_one):
    plan = day_one
    client.force_login(patient)
    tip = plan.steps.get(key="ice").tip
    assert f"Why this helps: {tip.title}" in client.get("/today/").text

    tip.title = "Cold therapy, three times a day"
    tip.save()

    assert "Why this helps: Cold therapy, three times a day" in client.get("/today/").text


def test_a_tip_taken_back_for_review_leaves_no_link_to_a_missing_page(with_redis, client, patient, day_one):
    client.force_login(patient)
    tip = day_one.steps.get(key="ice").tip
    tip.published = False
    tip.save()
    html = client.get("/today/").text
    assert 'data-task="ice"' in html and f"Why this helps: {tip.title}" not in html
    assert reverse("recovery:tip", args=[tip.slug]) not in html  # which would be "No published tip…", a 404


def test_a_phase_renamed_in_the_protocol_shows_on_the_patients_next_visit(with_redis, client, patient, day_one):
    plan = day_one
    client.force_login(patient)
    phase = client.get("/today/").context["phase"]
    stored = Phase.objects.get(protocol=plan.protocol, position=phase.position)

    stored.name = "Settle and rest"
    stored.save()

    assert client.get("/today/").context["phase"].name == "Settle and rest"


def test_with_a_warm_cache_the_tip_pages_read_only_the_user_and_the_plan(
    with_redis, client, patient, plan, django_assert_num_queries
):
    client.force_login(patient)
    first = client.get("/tips/")
    tip = first.context["prevention_tips"][0]
    # The user and the open plan: the session, the published tips and the disclaimer come from Redis.
    with django_assert_num_queries(2):
        again = client.get("/tips/")
    with django_assert_num_queries(2):
        page = client.get(tip.get_absolute_url())

    assert [tip.title for tip in again.context["recovery_tips"]] == list(
        Tip.objects.published().filter(kind=Tip.Kind.RECOVERY).values_list("title", flat=True)
    )
    assert page.status_code == 200 and page.context["tip"].body == Tip.objects.get(pk=tip.pk).body
    assert Disclaimer.objects.get().text in again.text and Disclaimer.objects.get().text in page.text


def test_a_tip_edited_or_unpublished_shows_on_the_tip_pages_at_once(with_redis, client, patient, plan):
    client.force_login(patient)
    tip = Tip.objects.published().get(slug=client.get("/tips/").context["recovery_tips"][1].slug)
    assert client.get(tip.get_absolute_url()).status_code == 200

    tip.title = "Cold packs, wrapped in a towel"
    tip.save()
    assert "Cold packs, wrapped in a towel" in client.get("/tips/").text
    assert "Cold packs, wrapped in a towel" in client.get(tip.get_absolute_url()).text

    tip.published = False
    tip.save()
    assert "Cold packs, wrapped in a towel" not in client.get("/tips/").text
    assert client.get(tip.get_absolute_url()).status_code == 404


def test_the_disclaimer_edited_shows_on_the_tip_pages_at_once(with_redis, client, patient, plan):
    client.force_login(patient)
    assert Disclaimer.objects.get().text in client.get("/tips/").text

    disclaimer = Disclaimer.objects.get()
    disclaimer.text = "Every body heals at its own pace: ask us before you change your plan."
    disclaimer.save()

    assert "Every body heals at its own pace: ask us before you change your plan." in client.get("/tips/").text


def test_the_alert_level_changed_by_a_clinician_decides_the_days_stop_banner_at_once(with_redis, client, patient):
    from recovery.checkins import check_in_save
    from recovery.models import SafetyThresholds

    plan = make_plan(patient, days_since_race=3)
    client.force_login(patient)
    check_in_save(plan=plan, date=clinic_today(), data={"pain": 7}, today=clinic_today())
    assert 'data-warning="pain"' in client.get("/today/").text  # 7 is at or above the default level, 6

    thresholds = SafetyThresholds.current()
    thresholds.alert_pain_from = 8
    thresholds.save()

    assert "data-warning" not in client.get("/today/").text


def test_rows_read_while_a_change_commits_are_not_served_after_it(with_redis):
    # A reader loads the steps just before a colleague's change commits, and stores them after it: the next
    # reader must not be handed those rows.
    def load_then_change(ids):
        rows = {pk: [("as before",)] for pk in ids}
        content_changed()  # the change commits while the first reader still holds the old rows
        return rows

    assert rows_by_id("plan-steps", ["label"], [1], load_then_change) == {1: [("as before",)]}
    assert rows_by_id("plan-steps", ["label"], [1], lambda ids: {1: [("changed",)]}) == {1: [("changed",)]}
    # ...and the fresh rows are then served from the cache.
    assert rows_by_id("plan-steps", ["label"], [1], lambda ids: pytest.fail("read the database again")) == {
        1: [("changed",)]
    }


def test_without_a_shared_cache_content_is_always_read_from_the_database(database_only, patient, plan):
    loads = []

    def load(ids):
        loads.append(ids)
        return {pk: [] for pk in ids}

    rows_by_id("plan-steps", ["label"], [plan.pk], load)
    rows_by_id("plan-steps", ["label"], [plan.pk], load)

    assert loads == [[plan.pk], [plan.pk]]
