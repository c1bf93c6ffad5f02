""" "Inactive" (DESIGN.md) is one rule, ``RecoveryPlan.quiet_since``: the list's filter, its order, each row's words,
the front desk's list and the workspace's count must say the same of the same plans."""

import datetime

import pytest
from django.utils import timezone

from recovery import rules
from recovery.care import plan_set_status
from recovery.checkins import check_in_save
from recovery.clock import clinic_today
from recovery.facts import facts_for_plan
from recovery.models import RecoveryPlan, SafetyThresholds
from recovery.services import completion_set
from recovery.summaries import inactive_q
from tests.factories import PatientFactory, make_plan

pytestmark = pytest.mark.django_db

PLANS_URL = "/admin/recovery/recoveryplan/"


def ago(days):
    return clinic_today() - datetime.timedelta(days=days)


def started(plan, days):
    RecoveryPlan.objects.filter(pk=plan.pk).update(created_at=timezone.now() - datetime.timedelta(days=days))


def tick(plan, date):
    """The patient ticks the first task open to them on ``date``, that day."""
    facts = facts_for_plan(plan, date - rules.WEEK_REACH, date)
    task = next(task for task in rules.tasks_on(facts, date, date) if task.lock is None)
    completion_set(plan=plan, step_key=task.key, date=date, count=1, today=date)


@pytest.fixture
def plans():
    """Each way a silence can start, with the inactive threshold at 3 days (quiet since before ``ago(3)``)."""
    thresholds = SafetyThresholds.current()
    thresholds.inactive_after_days = 3
    thresholds.save()
    made = {}
    for name in ["resumed", "resumed_long_ago", "check_ins", "ticks", "never", "new", "busy"]:
        made[name] = make_plan(PatientFactory(first_name=name, email=f"{name}@example.com"), days_since_race=40)
        started(made[name], 40)
    # Silent for 30 days, then on hold, resumed two days ago: the days on hold were no silence of theirs.
    for name, resumed in [("resumed", 2), ("resumed_long_ago", 12)]:
        plan = made[name]
        RecoveryPlan.objects.filter(pk=plan.pk).update(last_activity_on=ago(30))
        plan.refresh_from_db()
        plan_set_status(plan=plan, status=RecoveryPlan.Status.PAUSED, today=ago(25))
        plan_set_status(plan=plan, status=RecoveryPlan.Status.ACTIVE, today=ago(resumed))
    check_in_save(plan=made["check_ins"], date=ago(8), data={"pain": 2}, today=ago(8))
    tick(made["ticks"], ago(5))
    started(made["never"], 20)  # nothing since joining 20 days ago
    started(made["new"], 1)  # nothing since joining yesterday: not yet
    tick(made["busy"], ago(0))
    return made


def row_of(html, email):
    start = html.index(email)
    return html[html.rindex("<tr", 0, start) : html.index("</tr>", start)]


def test_the_list_its_filter_its_rows_and_the_front_desk_agree_on_who_is_inactive(plans, clinician_client, desk):
    names = {plan.pk: name for name, plan in plans.items()}
    inactive = ["never", "resumed_long_ago", "check_ins", "ticks"]  # the longest silent first
    listed = clinician_client.get(PLANS_URL)
    # No open alerts: the list's order is the longest silent first, silent as "inactive" counts it (a resume two
    # days ago comes after ticks five days ago, though its last entry was thirty days ago).
    rows = listed.context["cl"].result_list
    assert [names[row.pk] for row in rows] == [*inactive, "resumed", "new", "busy"]
    for name in plans:
        row = row_of(listed.text, f"{name}@example.com")
        assert ("apex-flag-inactive" in row) == (name in inactive), name
    assert f"quiet since resumed {ago(2):%d %b}" in row_of(listed.text, "resumed@example.com")
    assert f"quiet since resumed {ago(12):%d %b}" in row_of(listed.text, "resumed_long_ago@example.com")
    filtered = clinician_client.get(PLANS_URL, {"activity": "inactive"}).context["cl"].result_list
    assert [names[row.pk] for row in filtered] == inactive
    assert [names[plan.pk] for plan in desk.get("/front-desk/").context["inactive"]] == inactive


def test_quiet_since_counts_from_the_last_entry_the_start_or_a_resume(plans):
    quiet = {plan.patient.first_name: plan.quiet_since for plan in RecoveryPlan.objects.with_quiet_since()}
    assert quiet == {
        "resumed": ago(2),
        "resumed_long_ago": ago(12),
        "check_ins": ago(8),
        "ticks": ago(5),
        "never": ago(20),
        "new": ago(1),
        "busy": ago(0),
    }
    inactive = {plan.patient.first_name for plan in RecoveryPlan.objects.filter(inactive_q(clinic_today()))}
    assert inactive == {"resumed_long_ago", "check_ins", "ticks", "never"}
