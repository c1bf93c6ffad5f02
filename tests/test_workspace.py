"""The clinic workspace's home page: "Needs attention" counts what is waiting and links to the list behind each."""

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from recovery.care import plan_set_status
from recovery.clock import clinic_today
from recovery.models import Alert, RecoveryPlan, Tip
from recovery.summaries import last_week_store
from tests.factories import PatientFactory, UserFactory, make_plan
from tests.test_clinician_admin import alert_for

pytestmark = pytest.mark.django_db

HOME = "/admin/"


def panel(client):
    html = client.get(HOME).content.decode()
    match = re.search(r'<div class="module apex-attention">(.*?)</div>', html, re.S)
    if match is None:
        return None
    rows = re.findall(
        r'<th scope="row"><a href="([^"]+)">([^<]+)</a></th>\s*<td class="apex-count">(.*?)</td>', match[1]
    )
    return {label: (re.sub(r"<[^>]+>", "", count), href.replace("&amp;", "&"), count) for href, label, count in rows}


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_clinician_sees_what_waits_and_where_it_is(clinician):
    mine = make_plan(PatientFactory(), clinician=clinician)
    other = make_plan(PatientFactory())
    alert_for(mine, Alert.Kind.RED_FLAG, Alert.Severity.URGENT)
    alert_for(other)
    done = alert_for(other, Alert.Kind.RISING_PAIN, Alert.Severity.URGENT, days_ago=1)
    Alert.objects.filter(pk=done.pk).update(acknowledged_at=timezone.now(), acknowledged_by=clinician)
    quiet = make_plan(PatientFactory(), days_since_race=10)
    RecoveryPlan.objects.filter(pk=quiet.pk).update(last_activity_on=clinic_today() - datetime.timedelta(days=5))
    flagged_by_the_sheet = Tip.objects.exclude(review_note="").count()  # the tip sheet's own doubts
    Tip.objects.filter(review_note="").filter(pk=Tip.objects.filter(review_note="").first().pk).update(
        review_note="The ice advice needs a source."
    )

    lines = panel(signed_in(clinician))
    assert lines["Urgent alerts not yet acknowledged"][:2] == (
        "1",
        "/admin/recovery/alert/?state=open&severity__exact=3",
    )
    assert "apex-severity-3" in lines["Urgent alerts not yet acknowledged"][2]  # red while something waits
    assert lines["All alerts not yet acknowledged"][:2] == ("2", "/admin/recovery/alert/?state=open")
    assert lines["My patients with open alerts"][:2] == ("1", "/admin/recovery/recoveryplan/?mine=yes&alerts=open")
    assert lines["Patients with nothing logged for 3 days or more"][:2] == (
        "1",
        "/admin/recovery/recoveryplan/?activity=inactive",
    )
    assert lines["Tips flagged for review"][:2] == (
        str(flagged_by_the_sheet + 1),
        "/admin/recovery/tip/?review=flagged",
    )
    assert lines["Patients due for their return-to-running sign-off"][:2] == (
        "0",
        "/admin/recovery/recoveryplan/?clearance=due",
    )
    assert lines["Plans on hold (paused)"][:2] == ("0", "/admin/recovery/recoveryplan/?status__exact=paused")
    assert list(lines)[0] == "Urgent alerts not yet acknowledged"  # the most pressing first


def test_patients_past_day_21_not_yet_cleared_are_due_for_their_sign_off(clinician):
    due = make_plan(PatientFactory(email="due@example.com"), days_since_race=21)
    make_plan(PatientFactory(email="early@example.com"), days_since_race=20)
    cleared = make_plan(PatientFactory(email="cleared@example.com"), days_since_race=30)
    RecoveryPlan.objects.filter(pk=cleared.pk).update(cleared_to_run_on=clinic_today(), cleared_by=clinician)
    paused = make_plan(PatientFactory(email="paused@example.com"), days_since_race=25)
    plan_set_status(plan=paused, status=RecoveryPlan.Status.PAUSED, today=clinic_today())
    client = signed_in(clinician)
    count, href, _ = panel(client)["Patients due for their return-to-running sign-off"]
    assert count == "1"
    listed = client.get(href).context["cl"].result_list
    assert [plan.pk for plan in listed] == [due.pk]


def test_each_link_opens_a_list_of_as_many_as_it_counts(clinician):
    mine = make_plan(PatientFactory(), clinician=clinician)
    alert_for(mine, Alert.Kind.RED_FLAG, Alert.Severity.URGENT)
    alert_for(mine, Alert.Kind.HIGH_PAIN, Alert.Severity.HIGH, days_ago=1)
    alert_for(make_plan(PatientFactory()))
    quiet = make_plan(PatientFactory(), days_since_race=10, enrolled_days_ago=10)
    RecoveryPlan.objects.filter(pk=quiet.pk).update(last_activity_on=clinic_today() - datetime.timedelta(days=5))
    due = make_plan(PatientFactory(), days_since_race=22, enrolled_days_ago=22)
    RecoveryPlan.objects.filter(pk=due.pk).update(last_activity_on=clinic_today())
    plan_set_status(plan=make_plan(PatientFactory()), status=RecoveryPlan.Status.PAUSED, today=clinic_today())
    last_week_store(today=clinic_today())  # the quiet and the due did nothing last week; the others are new
    client = signed_in(clinician)
    lines = panel(client)
    assert [count for count, _, _ in lines.values()][:7] == ["1", "3", "1", "1", "2", "1", "1"]
    for label, (count, href, _) in lines.items():
        page = client.get(href)
        assert page.status_code == 200 and page.context["cl"].result_count == int(count), label


def test_a_quiet_day_shows_zeros_without_red(clinician):
    lines = panel(signed_in(clinician))
    assert lines["Urgent alerts not yet acknowledged"] == ("0", lines["Urgent alerts not yet acknowledged"][1], "0")
    assert "My patients with open alerts" not in lines  # a clinician with no patients of their own


def test_someone_who_may_not_see_alerts_is_not_shown_their_count(clinician):
    editor = UserFactory(is_staff=True)
    editor.user_permissions.add(*clinician.groups.get().permissions.filter(codename__endswith="_tip"))
    lines = panel(signed_in(editor))
    assert list(lines) == ["Tips flagged for review"]


def test_the_home_page_reads_a_fixed_number_of_queries(clinician, django_assert_max_num_queries):
    for _ in range(5):
        alert_for(make_plan(PatientFactory(), clinician=clinician))
    client = signed_in(clinician)
    client.get(HOME)
    # Session, user, two for permissions, four for the app list (the single-row records' add buttons), the log of
    # recent actions, and the panel's seven at most, however many alerts and patients there are.
    with django_assert_max_num_queries(16):
        client.get(HOME)
