"""Loading a plan's facts: the ticks, days off and pain scores of the window, and the latest pain score before
it, for each plan and only its own, in a fixed number of queries (on SQLite here, on PostgreSQL in CI)."""

import datetime

import pytest
from django.db import connection

from recovery.clock import clinic_today
from recovery.facts import facts_for_plan, facts_for_plans
from recovery.models import ExcusedDay
from tests.factories import CheckInFactory, CompletionFactory, make_plan

pytestmark = pytest.mark.django_db

TODAY = clinic_today()


def day(back):
    return TODAY - datetime.timedelta(days=back)


@pytest.fixture
def two_plans():
    """Alice's plan with history in and around the window (the last 7 days); Bob's with his own, on the same days."""
    alice, bob = make_plan(days_since_race=20), make_plan(days_since_race=20)
    CompletionFactory(plan=alice, step_key="stretch", date=day(2), count=1)
    CompletionFactory(plan=alice, step_key="nutrition", date=day(6), count=3)
    CompletionFactory(plan=alice, step_key="stretch", date=day(7), count=1)  # the day before the window
    ExcusedDay.objects.create(plan=alice, date=day(4), reason="flu")
    ExcusedDay.objects.create(plan=alice, date=day(9))
    CheckInFactory(plan=alice, date=day(12), pain=6)
    CheckInFactory(plan=alice, date=day(8), pain=5)  # the latest before the window
    CheckInFactory(plan=alice, date=day(1), pain=2)
    CompletionFactory(plan=bob, step_key="stretch", date=day(2), count=1)
    ExcusedDay.objects.create(plan=bob, date=day(3))
    CheckInFactory(plan=bob, date=day(10), pain=7)
    return alice, bob


def test_the_window_holds_its_ticks_days_off_and_pain_and_the_latest_pain_before_it(two_plans):
    alice, _bob = two_plans

    facts = facts_for_plan(alice, day(6), TODAY)

    assert facts.done == {("stretch", day(2)): 1, ("nutrition", day(6)): 3}
    assert facts.excused == {day(4)}
    assert facts.pain_by_date == {day(1): 2}
    assert facts.pain_before == 5
    assert facts.latest_pain(day(3)) == 5 and facts.latest_pain(TODAY) == 2


def test_the_window_knows_which_check_ins_reported_a_warning_sign_and_whether_the_one_before_it_did(two_plans):
    alice, bob = two_plans
    CheckInFactory(plan=alice, date=day(3), pain=1, night_pain=True)
    CheckInFactory(plan=bob, date=day(9), pain=2, cola_coloured_urine=True)  # Bob's latest before the window

    facts = facts_for_plans([alice, bob], day(6), TODAY)

    assert facts[alice.pk].warned_on == {day(3)} and not facts[alice.pk].warned_before
    assert facts[alice.pk].warned(day(3)) and not facts[alice.pk].warned(day(1))  # day 1's check-in had none
    assert facts[bob.pk].warned_on == set() and facts[bob.pk].warned_before
    assert facts[bob.pk].warned(day(5))


def test_plans_loaded_together_each_get_only_their_own(two_plans, django_assert_max_num_queries):
    alice, bob = two_plans

    with django_assert_max_num_queries(3):  # steps, phases, and the rest in one query
        facts = facts_for_plans([alice, bob], day(6), TODAY)

    assert facts[bob.pk].done == {("stretch", day(2)): 1}
    assert facts[bob.pk].excused == {day(3)}
    assert facts[bob.pk].pain_by_date == {}
    assert facts[bob.pk].pain_before == 7
    assert facts[alice.pk].pain_before == 5
    assert [step.key for step in facts[alice.pk].steps] == [step.key for step in facts[bob.pk].steps]


def test_a_plan_without_history_has_empty_facts_and_no_pain_before():
    plan = make_plan(days_since_race=0)

    facts = facts_for_plan(plan, day(6), TODAY)

    assert (facts.done, facts.excused, facts.pain_by_date, facts.pain_before) == ({}, set(), {}, None)
    assert facts.steps


def test_no_plans_need_no_query(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert facts_for_plans([], day(6), TODAY) == {}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_postgresql_plans_a_patients_daily_rows_once_per_connection(two_plans):
    # Server-side parameters and psycopg's prepare threshold (clinic/settings.py): the query text is the same for
    # every patient, so from its second run PostgreSQL reuses its plan instead of parsing and planning it again.
    alice, bob = two_plans
    for plan in (alice, bob, alice):
        facts_for_plan(plan, day(6), TODAY)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert any("recovery_completion" in statement and "recovery_checkin" in statement for statement in prepared)
    # Parameters are sent apart from the SQL: the stored statement holds placeholders ($1, $2, …), not the window's
    # dates. (Checking for the plan's id instead would also match a placeholder such as $12.)
    daily = [statement for statement in prepared if "UNION ALL" in statement]
    assert daily and all("$1" in statement and TODAY.isoformat() not in statement for statement in daily)
