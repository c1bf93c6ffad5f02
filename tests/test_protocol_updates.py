"""Bringing a protocol's edits to the patients already on it (recovery/protocol_updates.py and its admin page)."""

import datetime
import importlib
import re
from contextlib import contextmanager
from html import unescape

import pytest
import time_machine
from django.apps import apps
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from recovery import care, protocol_updates
from recovery.care import plan_set_status, plan_step_add, plan_step_change
from recovery.clock import clinic_today
from recovery.models import PlanStep, Protocol, ProtocolStep, RecoveryPlan, Tip
from recovery.protocol_updates import protocol_pending, protocol_update
from recovery.services import Refused
from tests.admin_forms import form_data, inline_prefix
from tests.factories import (
    CompletionFactory,
    PatientFactory,
    ReceptionFactory,
    insert_as_the_release_before,
    make_plan,
)

pytestmark = pytest.mark.django_db

ICE_INSTRUCTION = "Ice the sore spot for 15 minutes, with a cloth between the ice and your skin."


def update_url(protocol):
    return reverse("admin:recovery_protocol_update_plans", args=[protocol.pk])


def bring(client, protocol, **kwargs):
    """Press "Bring these changes" on the preview, as shown now (it carries the protocol's version)."""
    from recovery.admin.stale import version_of
    from recovery.models import Phase, ProtocolStep

    return client.post(update_url(protocol), {"version": version_of(protocol, Phase, ProtocolStep)}, **kwargs)


def edit_ice(protocol, **changes):
    ProtocolStep.objects.filter(protocol=protocol, key="ice").update(**({"instruction": ICE_INSTRUCTION} | changes))


def versions(plan, key):
    oldest_first = F("valid_from").asc(nulls_first=True)  # the version from enrolment has no start date
    rows = plan.steps.filter(key=key).order_by(oldest_first)
    return list(rows.values_list("valid_from", "valid_until", "instruction"))


def task_instruction(client, key, back=0):
    html = client.get(f"/today/?back={back}").content.decode()
    row = html[html.index(f'data-task="{key}"') :].split("</li>")[0]
    return re.findall(r'<p class="mb-1">([^<]*)</p>', row)[0]


@contextmanager
def on_the_day_after():
    """The clinic's clock at noon tomorrow."""
    tomorrow = clinic_today() + datetime.timedelta(days=1)
    with time_machine.travel(timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time(12))), tick=False):
        yield


def step_prefix(data, protocol, key):
    return inline_prefix(data, "steps", protocol.steps.get(key=key).pk)


@pytest.fixture
def protocol():
    return Protocol.objects.default()


@pytest.fixture
def tomorrow():
    return clinic_today() + datetime.timedelta(days=1)


def test_an_edited_step_reaches_the_plans_from_tomorrow_and_today_keeps_its_own(protocol, client, patient, tomorrow):
    plan = make_plan(patient, days_since_race=1)
    old_instruction = plan.steps.get(key="ice").instruction
    edit_ice(protocol)
    today = clinic_today()
    assert versions(plan, "ice") == [(None, None, old_instruction)]  # an edit alone reaches new enrolments only

    [update] = protocol_update(protocol=protocol, today=today)

    assert (update.key, update.kind, update.plans) == ("ice", "change", 1)
    assert [name for name, _now, _becomes in update.changes()] == ["instruction"]
    assert versions(plan, "ice") == [(None, tomorrow, old_instruction), (tomorrow, None, ICE_INSTRUCTION)]
    client.force_login(patient)
    assert task_instruction(client, "ice") == old_instruction.replace("'", "&#x27;")  # today stays as it was
    assert "data-updated-task" not in client.get("/today/").content.decode()
    with on_the_day_after():
        assert task_instruction(client, "ice") == ICE_INSTRUCTION
        assert "data-updated-task>Updated</span>" in client.get("/today/").content.decode()  # pointed out then
        assert task_instruction(client, "ice", back=1) == old_instruction.replace("'", "&#x27;")
    assert protocol_update(protocol=protocol, today=today) == []  # a second update finds nothing left to do


def test_a_step_the_clinician_tailored_for_a_patient_stays_as_they_set_it(protocol, clinician, tomorrow):
    today = clinic_today()
    tailored = make_plan(days_since_race=1)
    plan_step_change(plan=tailored, key="ice", from_date=today, today=today, doses_per_day=2)
    follows = make_plan(days_since_race=1)
    edit_ice(protocol)

    [pending] = protocol_pending(protocol=protocol, today=today)
    assert (pending.plans, pending.tailored) == (1, 1)
    protocol_update(protocol=protocol, today=today)

    assert tailored.steps.get(key="ice", valid_from=today).doses_per_day == 2
    assert ICE_INSTRUCTION not in {instruction for *_dates, instruction in versions(tailored, "ice")}
    assert follows.steps.get(key="ice", valid_from=tomorrow).instruction == ICE_INSTRUCTION


def test_a_plan_the_protocol_updated_still_hears_of_its_next_edit(protocol, tomorrow):
    plan = make_plan(days_since_race=0)  # ice on days 0 to 2: still on the day after tomorrow
    today = clinic_today()
    edit_ice(protocol)
    protocol_update(protocol=protocol, today=today)
    edit_ice(protocol, doses_per_day=2)  # the same day: the version from tomorrow is brought up to date in place
    protocol_update(protocol=protocol, today=today)
    assert plan.steps.get(key="ice", valid_from=tomorrow).doses_per_day == 2
    assert plan.steps.filter(key="ice").count() == 2
    day_after = tomorrow + datetime.timedelta(days=1)
    edit_ice(protocol, doses_per_day=4)
    [update] = protocol_update(protocol=protocol, today=tomorrow)
    assert update.plans == 1 and plan.steps.get(key="ice", valid_from=day_after).doses_per_day == 4


def test_a_new_step_is_added_and_a_removed_one_stopped_from_tomorrow(protocol, client, patient):
    make_plan(patient, days_since_race=1)
    today = clinic_today()
    ProtocolStep.objects.filter(protocol=protocol, key="elevate").delete()
    ProtocolStep.objects.create(
        protocol=protocol, key="walk", tip=Tip.objects.get(slug="rest-and-recovery"), label="A short easy walk",
        instruction="Walk for ten minutes at an easy pace.", position=3, first_day=0,
    )  # fmt: skip
    updates = {update.key: update.kind for update in protocol_update(protocol=protocol, today=today)}
    assert updates == {"walk": "add", "elevate": "stop"}
    client.force_login(patient)
    html = client.get("/today/").content.decode()
    assert 'data-task="walk"' not in html and 'data-task="elevate"' in html  # today stays as it was
    with on_the_day_after():
        html = client.get("/today/").content.decode()
        assert 'data-task="walk"' in html and 'data-task="elevate"' not in html
        assert 'data-task="elevate"' in client.get("/today/?back=1").content.decode()  # the day before keeps it


def test_only_open_plans_on_the_protocol_change_and_steps_already_over_are_left_alone(protocol):
    today = clinic_today()
    discharged = make_plan(days_since_race=1)
    plan_set_status(plan=discharged, status=RecoveryPlan.Status.COMPLETED, today=today)
    paused = make_plan(days_since_race=1)
    plan_set_status(plan=paused, status=RecoveryPlan.Status.PAUSED, today=today)
    past_the_ice = make_plan(days_since_race=10)  # ice ends on day 2
    other = Protocol.objects.create(name="Another protocol")
    edit_ice(protocol)

    [update] = protocol_update(protocol=protocol, today=today)

    assert update.plans == 1
    assert PlanStep.objects.filter(key="ice", instruction=ICE_INSTRUCTION).get().plan == paused
    assert len(versions(discharged, "ice")) == len(versions(past_the_ice, "ice")) == 1
    assert protocol_update(protocol=other, today=today) == []


def test_the_clinician_sees_what_changes_before_anything_is_written(protocol, clinician_client):
    plan = make_plan(days_since_race=1)
    page = clinician_client.get(reverse("admin:recovery_protocol_change", args=[protocol.pk]))
    assert "The 1 patient already on this protocol keeps their steps as they were" in page.content.decode()
    assert update_url(protocol) in page.content.decode()
    data = form_data(page)

    # Saving the protocol with only its description changed: its steps, and so the plans, are as they were.
    saved = clinician_client.post(page.request["PATH_INFO"], data | {"description": "Reworded."}, follow=True)
    assert "already on this protocol keep" not in saved.content.decode()

    # The clinician corrects the ice instruction in the protocol's steps: the admin says who does not get it yet.
    data = form_data(clinician_client.get(page.request["PATH_INFO"]))  # the page as the save left it
    ice = step_prefix(data, protocol, "ice")
    edited = data | {f"{ice}-instruction": ICE_INSTRUCTION}
    saved = clinician_client.post(page.request["PATH_INFO"], edited, follow=True)
    assert "One patient already on this protocol keeps their plan as it was" in saved.content.decode()
    assert update_url(protocol) in saved.content.decode()

    preview = clinician_client.get(update_url(protocol)).content.decode()
    row = re.search(r'<tr data-step="ice">(.*?)</tr>', preview, re.S)[1]
    old_instruction = plan.steps.get(key="ice").instruction
    assert f"Instruction: “{old_instruction}” becomes “{ICE_INSTRUCTION}”" in unescape(row)
    assert re.search(r"<td data-plans>1</td>", row)
    assert len(versions(plan, "ice")) == 1  # the preview wrote nothing

    response = bring(clinician_client, protocol, follow=True)
    assert "The plans follow the protocol from tomorrow: Ice the hip for 15–20 minutes (1 plan)." in (
        response.content.decode()
    )
    assert len(versions(plan, "ice")) == 2
    assert "there is nothing to bring" in clinician_client.get(update_url(protocol)).content.decode()


def test_only_clinicians_may_bring_protocol_changes_to_the_plans(protocol, client):
    plan = make_plan(days_since_race=1)
    edit_ice(protocol)
    client.force_login(ReceptionFactory())
    assert client.post(update_url(protocol)).status_code in (302, 403)
    client.force_login(PatientFactory())
    assert client.post(update_url(protocol)).status_code in (302, 403)
    assert len(versions(plan, "ice")) == 1


@pytest.mark.parametrize("plans", [2, 20])
def test_an_update_takes_a_fixed_number_of_queries_however_many_plans(protocol, django_assert_num_queries, plans):
    for _ in range(plans):
        make_plan(days_since_race=1)
    edit_ice(protocol, doses_per_day=2)
    # Expect 8 queries: savepoint, the protocol (locked: one update at a time), its steps, its open plans, their
    # steps (locked), the old versions ended tomorrow, the new versions from tomorrow, release (three more for each
    # further thousand plans).
    with django_assert_num_queries(8):
        [update] = protocol_update(protocol=protocol, today=clinic_today())
    assert update.plans == plans


def test_steps_tailored_before_this_release_are_marked_tailored_by_the_migration(protocol):
    plan = make_plan(days_since_race=1)
    today = clinic_today()
    plan_step_change(plan=plan, key="ice", from_date=today, today=today, doses_per_day=2)
    PlanStep.objects.update(tailored=False)  # as the rows stood before the field existed
    migration = importlib.import_module("recovery.migrations.0008_plan_step_tailored")
    migration.mark_tailored(apps, None)
    assert set(plan.steps.filter(tailored=True).values_list("key", flat=True)) == {"ice"}
    edit_ice(protocol)
    assert protocol_pending(protocol=protocol, today=today)[0].tailored == 1


def test_plans_are_updated_a_chunk_at_a_time_and_all_of_them(protocol, monkeypatch):
    monkeypatch.setattr("recovery.protocol_updates.PLANS_PER_CHUNK", 2)
    plans = [make_plan(days_since_race=1) for _ in range(5)]
    edit_ice(protocol)
    assert protocol_pending(protocol=protocol, today=clinic_today())[0].plans == 5
    [update] = protocol_update(protocol=protocol, today=clinic_today())
    assert update.plans == 5
    assert all(plan.steps.filter(key="ice", instruction=ICE_INSTRUCTION).exists() for plan in plans)


def test_the_preview_says_what_each_changed_field_is_now_and_becomes(protocol):
    plan = make_plan(days_since_race=1)
    ice = plan.steps.get(key="ice")
    edit_ice(protocol, doses_per_day=2, gate="pain", gate_pain_max=3)
    [update] = protocol_pending(protocol=protocol, today=clinic_today())
    assert update.changes() == [
        ("instruction", [(ice.instruction, 1)], ICE_INSTRUCTION),
        ("doses per day", [(3, 1)], 2),
        ("gate", [("Always open", 1)], "Pain at most N"),
        ("pain limit", [("–", 1)], 3),
    ]


def test_the_preview_counts_the_plans_for_each_value_they_have_now(protocol, clinician_client):
    """Plans enrolled before and after an earlier edit that was never brought to them hold different doses."""
    make_plan(days_since_race=1)
    edit_ice(protocol, doses_per_day=2)
    make_plan(days_since_race=1)
    make_plan(days_since_race=1)
    edit_ice(protocol, doses_per_day=1)
    [update] = protocol_pending(protocol=protocol, today=clinic_today())
    assert update.changes()[1] == ("doses per day", [(2, 2), (3, 1)], 1)
    preview = clinician_client.get(update_url(protocol)).content.decode()
    row = unescape(re.search(r'<tr data-step="ice">(.*?)</tr>', preview, re.S)[1])
    assert "Doses per day: “2” in 2 plans; “3” in 1 plan becomes “1”" in row
    # The first edit brought a new instruction too, which the later plans already have: one plan's changes.
    assert re.search(r"Instruction: “[^”]+” in 1 plan becomes", row)


def test_a_step_has_one_version_without_an_end_at_most(protocol):
    plan = make_plan(days_since_race=1)
    ice = plan.steps.get(key="ice")
    ice.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        ice.save()  # a second open version of the same step
    assert plan.steps.filter(key="ice").count() == 1


def test_a_colleague_adding_the_same_step_at_that_moment_leaves_every_plan_as_it_was(
    protocol, clinician_client, monkeypatch
):
    plans = [make_plan(days_since_race=1) for _ in range(2)]
    ProtocolStep.objects.create(
        protocol=protocol, key="walk", tip=Tip.objects.get(slug="rest-and-recovery"), label="A short easy walk",
        instruction="Walk for ten minutes at an easy pace.", position=3, first_day=0,
    )  # fmt: skip
    edit_ice(protocol)
    real_write = protocol_updates._write

    def write_after_a_colleague(writes, today):
        # Between the update's survey and its writes, a clinician adds "walk" to the second patient's plan.
        plan_step_add(plan=plans[1], from_date=today, today=today, key="walk", tip=Tip.objects.first(), label="Walk",
                      instruction="Walk.", first_day=0)  # fmt: skip
        real_write(writes, today)

    monkeypatch.setattr(protocol_updates, "_write", write_after_a_colleague)
    response = bring(clinician_client, protocol, follow=True)

    assert "A colleague changed one of these plans at that moment: nothing was changed." in response.content.decode()
    assert all(len(versions(plan, "ice")) == 1 for plan in plans)  # the whole update rolled back
    assert not plans[0].steps.filter(key="walk").exists()


def test_a_step_added_by_someone_else_after_the_check_is_refused_in_plain_words(monkeypatch):
    plan = make_plan(days_since_race=1)
    today = clinic_today()
    real_validated = care._validated

    def validated_after_a_colleague(step):
        if not PlanStep.objects.filter(plan=plan, key="walk").exists():  # the colleague's step, added meanwhile
            PlanStep.objects.create(plan=plan, key="walk", tip=step.tip, label="Walk", instruction="Walk.",
                                    position=99, first_day=0, valid_from=today, tailored=True)  # fmt: skip
        return real_validated(step)

    monkeypatch.setattr(care, "_validated", validated_after_a_colleague)
    with pytest.raises(Refused, match="The plan already has a step called “walk” on that date"):
        plan_step_add(plan=plan, from_date=today, today=today, key="walk", tip=Tip.objects.first(), label="Walk",
                      instruction="Walk for ten minutes.", first_day=0)  # fmt: skip


def test_the_release_before_this_one_still_enrols_while_it_runs_on_the_new_schema():
    # Between `migrate` and the reload, the running release inserts plan steps (an enrolment) without the column
    # it does not know: the database fills it in (docs/DEPLOY.md).
    plan = make_plan(days_since_race=1)
    ice = plan.steps.get(key="ice")
    ice.key = "ice-copy"
    insert_as_the_release_before(ice, "tailored")
    assert plan.steps.get(key="ice-copy").tailored is False


def test_a_change_only_tailored_plans_would_take_says_so_and_offers_nothing_to_bring(protocol, clinician_client):
    today = clinic_today()
    plan = make_plan(days_since_race=1)
    plan_step_change(plan=plan, key="ice", from_date=today, today=today, doses_per_day=2)
    edit_ice(protocol)
    preview = clinician_client.get(update_url(protocol)).content.decode()
    row = re.search(r'<tr data-step="ice">(.*?)</tr>', preview, re.S)[1]
    assert "Nothing: every plan it would change has its own, tailored" in row
    assert re.search(r"<td data-tailored>1</td>", row)
    assert "Bring these changes" not in preview and "There is nothing to bring" in preview


def test_saving_a_step_whose_days_are_over_for_everyone_says_nobody_is_affected(protocol, clinician_client):
    make_plan(days_since_race=5)  # the ice of days 0 to 2 is over
    page = clinician_client.get(reverse("admin:recovery_protocol_change", args=[protocol.pk]))
    data = form_data(page)
    ice = step_prefix(data, protocol, "ice")
    saved = clinician_client.post(page.request["PATH_INFO"], data | {f"{ice}-doses_per_day": "4"}, follow=True)
    assert "The patients already on this protocol are not affected" in saved.content.decode()
    assert update_url(protocol) not in saved.content.decode()


def done_today(client):
    """The line at the top of Today: "3 of 5 tasks done"."""
    return re.search(r"\d+ of \d+ tasks? done", client.get("/today/").content.decode())[0]


def test_a_step_shortened_for_everyone_stays_ticked_today_and_ends_from_tomorrow(
    protocol, clinician_client, client, patient
):
    # Day 5: the patient has ticked rest from running, their meals and drinks when the clinician cuts the
    # rest from running to days 0 to 3 and brings it to the patients.
    plan = make_plan(patient, days_since_race=5)
    for key in ("rest", "nutrition", "hydrate"):
        CompletionFactory(plan=plan, step_key=key)
    client.force_login(patient)
    before = done_today(client)
    assert before == "3 of 4 tasks done"  # the stretches wait for a check-in

    page = clinician_client.get(reverse("admin:recovery_protocol_change", args=[protocol.pk]))
    data = form_data(page)
    saved = clinician_client.post(
        page.request["PATH_INFO"], data | {f"{step_prefix(data, protocol, 'rest')}-last_day": "3"}
    )
    assert saved.status_code == 302
    assert "Rest from running" in clinician_client.get(update_url(protocol)).content.decode()
    bring(clinician_client, protocol)

    assert done_today(client) == before  # not "0 of 5": today's ticked rest is still there, ticked
    assert 'data-task="rest"' in client.get("/today/").content.decode()
    with on_the_day_after():
        assert 'data-task="rest"' not in client.get("/today/").content.decode()


def test_the_preview_says_the_changes_start_tomorrow_and_why(protocol, clinician_client, tomorrow):
    make_plan(days_since_race=1)
    edit_ice(protocol)
    preview = unescape(clinician_client.get(update_url(protocol)).content.decode())
    assert f"from tomorrow ({tomorrow:%A} {tomorrow.day} {tomorrow:%b %Y})" in preview
    assert "nothing a patient sees or has ticked today changes under them" in preview
    assert 'value="Bring these changes to the plans from tomorrow"' in preview


def test_a_steps_key_is_fixed_once_the_step_exists_so_its_ticks_stay_with_it(protocol, clinician_client):
    page = clinician_client.get(reverse("admin:recovery_protocol_change", args=[protocol.pk]))
    html = page.content.decode()
    ice = protocol.steps.get(key="ice")
    assert re.search(r'<input[^>]*name="steps-\d+-key"[^>]*value="ice"[^>]*disabled', html)
    assert "fixed then: patients&#x27; ticks are recorded under it" in html  # said why, under the table too
    data = form_data(page)
    prefix = step_prefix(data, protocol, "ice")
    saved = clinician_client.post(page.request["PATH_INFO"], data | {f"{prefix}-key": "ice-hip"})
    assert saved.status_code == 302
    ice.refresh_from_db()
    assert ice.key == "ice"  # a rename posted by hand is ignored

    # A new step still gets its key; on the step's own page the key is shown, not editable.
    assert 'name="steps-__prefix__-key"' in html and not re.search(r'name="steps-__prefix__-key"[^>]*disabled', html)
    own_page = clinician_client.get(reverse("admin:recovery_protocolstep_change", args=[ice.pk])).content.decode()
    assert 'name="key"' not in own_page
    key_row = re.search(r'<div class="form-row field-key">(?:(?!form-row).)*', own_page, re.S)
    assert key_row and '<div class="readonly">ice</div>' in key_row[0]  # its row, not "device-width" in the head


def test_a_step_only_moved_in_the_list_is_not_marked_updated(protocol, client, patient):
    make_plan(patient, days_since_race=0)
    ProtocolStep.objects.filter(protocol=protocol, key="ice").update(position=20)
    ProtocolStep.objects.filter(protocol=protocol, key="elevate").update(instruction="Raise your legs on a pillow.")
    protocol_update(protocol=protocol, today=clinic_today())
    client.force_login(patient)
    with on_the_day_after():
        html = client.get("/today/").content.decode()
    rows = dict(re.findall(r'data-task="([^"]+)"(.*?)</li>', html, re.S))
    assert "data-updated-task" not in rows["ice"]  # a new version, but nothing to read in it
    assert "data-updated-task" in rows["elevate"]
