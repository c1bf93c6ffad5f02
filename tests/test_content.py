"""The clinic's tips and default protocol as loaded by the data migration, and editing them in the admin."""

import re
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from recovery.clock import clinic_today
from recovery.models import Disclaimer, Gate, Phase, Protocol, ProtocolStep, Tip
from tests.admin_forms import form_data, inline_prefix
from tests.factories import ClinicianFactory, make_plan

REPO = Path(settings.BASE_DIR)
SHEET = REPO / "docs" / "apex-hip-recovery-tips.txt"
CLINIC_SHEET = REPO.parent / "shared" / "seeds" / "apex-hip-recovery-tips.txt"

ITEM = re.compile(r"^(\d+)\. ([^:]+): (.+)$")


def read_sheet():
    """The sheet as printed: two numbered lists (recovery, then prevention) and a closing paragraph."""
    paragraphs = [p.strip() for p in SHEET.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    tips, kind, closing = [], None, []
    for paragraph in paragraphs:
        match = ITEM.match(paragraph)
        if not match:
            if kind is not None:
                closing.append(paragraph)
            continue
        number, title, body = int(match[1]), match[2], match[3]
        if number == 1:
            kind = "recovery" if kind is None else "prevention"
        tips.append({"kind": kind, "position": number, "title": title, "body": body})
    return tips, closing


@pytest.fixture
def editor(db):
    return ClinicianFactory(email="robin.physio@example.com", first_name="Robin", last_name="Okafor")


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def change_url(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def sheet_order(queryset):
    # The sheet lists recovery tips before prevention tips; within each kind, by position.
    return sorted(queryset, key=lambda tip: (tip.kind != Tip.Kind.RECOVERY, tip.position))


# The tips as loaded


def test_the_repository_sheet_is_the_clinics_own_copy_byte_for_byte():
    assert CLINIC_SHEET.exists(), f"the clinic's sheet should be at {CLINIC_SHEET}"
    assert SHEET.read_bytes() == CLINIC_SHEET.read_bytes()


def test_the_fourteen_tips_match_the_sheet_in_title_kind_order_and_text(db):
    sheet, _closing = read_sheet()
    assert len(sheet) == 14
    assert [tip["kind"] for tip in sheet] == ["recovery"] * 10 + ["prevention"] * 4

    loaded = [
        {"kind": tip.kind, "position": tip.position, "title": tip.title, "body": tip.body}
        for tip in sheet_order(Tip.objects.all())
    ]
    assert loaded == sheet


def test_every_tip_is_published_with_a_summary_taken_from_its_own_text(db):
    for tip in Tip.objects.all():
        assert tip.published, tip.title
        assert tip.summary, tip.title
        assert tip.body.startswith(tip.summary), tip.title


def test_the_two_strength_training_tips_have_distinct_slugs(db):
    strength = Tip.objects.filter(title="Strength Training").order_by("kind")
    assert [tip.kind for tip in strength] == [Tip.Kind.PREVENTION, Tip.Kind.RECOVERY]
    assert len({tip.slug for tip in strength}) == 2


def test_the_hydration_tip_is_flagged_for_review_and_its_task_says_drink_to_thirst(db):
    hydration = Tip.objects.get(title="Hydration")
    assert "Drink lots of water" in hydration.body  # the sheet's words are kept...
    assert "hyponatraemia" in hydration.review_note  # ...and a clinician is asked to review them
    assert list(Tip.objects.exclude(review_note="")) == [hydration]

    step = Protocol.objects.default().steps.get(key="hydrate")
    assert step.tip == hydration
    assert step.label == "Drink to thirst"
    assert "lots of water" not in step.instruction.lower()


def test_the_standing_disclaimer_is_the_sheets_closing_paragraph(db):
    _sheet, closing = read_sheet()
    assert len(closing) == 1
    assert Disclaimer.current() == closing[0]
    assert "medical professional" in Disclaimer.current()


def test_every_loaded_tip_has_a_first_history_entry_to_revert_to(db):
    for tip in Tip.objects.all():
        first = tip.history.earliest("history_date")
        assert first.body == tip.body


# The default protocol


def test_the_default_protocol_covers_every_tip_with_at_least_one_step(db):
    protocol = Protocol.objects.default()
    assert protocol.name == "Post-marathon hip recovery"
    covered = set(protocol.steps.values_list("tip__slug", flat=True))
    assert covered == set(Tip.objects.values_list("slug", flat=True))


def test_the_default_protocol_has_four_phases_in_order_from_race_day(db):
    phases = list(Protocol.objects.default().phases.order_by("position"))
    assert [phase.name for phase in phases] == ["Protect", "Early recovery", "Strengthen", "Return to running"]
    assert phases[0].first_day == 0
    first_days = [phase.first_day for phase in phases]
    assert first_days == sorted(set(first_days)), "each phase starts after the one before"
    assert phases[-1].gate == Gate.CLEARANCE


def test_each_step_has_a_unique_stable_key(db):
    keys = list(Protocol.objects.default().steps.values_list("key", flat=True))
    assert len(keys) == len(set(keys)) >= 14
    assert {"ice", "compression", "elevate", "stretch", "hydrate", "check-in"} <= set(keys)


def test_ice_is_three_times_a_day_for_the_first_48_hours(db):
    ice = Protocol.objects.default().steps.get(key="ice")
    assert ice.tip.slug == "ice-therapy"
    assert (ice.first_day, ice.last_day, ice.doses_per_day, ice.times_per_week) == (0, 2, 3, None)
    assert "15–20 minutes" in ice.label


def test_compression_and_elevation_start_on_race_day_and_stop_within_days(db):
    steps = Protocol.objects.default().steps
    for key in ["compression", "elevate"]:
        step = steps.get(key=key)
        assert step.first_day == 0, key
        assert step.last_day is not None and step.last_day <= 7, key
    assert "numbness" in steps.get(key="compression").instruction


def test_stretching_waits_until_pain_is_at_most_three(db):
    stretch = Protocol.objects.default().steps.get(key="stretch")
    assert stretch.tip.slug == "gentle-stretching"
    assert (stretch.gate, stretch.gate_pain_max) == (Gate.PAIN, 3)


def test_strength_work_is_a_few_times_a_week_from_the_second_week(db):
    for step in Protocol.objects.default().steps.filter(tip__slug="strength-training"):
        assert step.first_day >= 7, step.key
        assert step.times_per_week in (2, 3), step.key


def test_prevention_steps_wait_for_clearance_to_run(db):
    prevention = Protocol.objects.default().steps.filter(tip__kind=Tip.Kind.PREVENTION)
    assert prevention.count() == 4
    for step in prevention:
        assert step.gate == Gate.CLEARANCE, step.key
    # ...and nothing else does: recovery work never waits for a sign-off.
    assert not Protocol.objects.default().steps.filter(tip__kind=Tip.Kind.RECOVERY, gate=Gate.CLEARANCE).exists()


# Editing tips in the admin, as a clinician


def test_a_tip_edit_shows_in_its_history_with_the_editor(editor_client, editor):
    tip = Tip.objects.get(slug="compression")
    original = tip.body
    data = form_data(editor_client.get(change_url(tip)))
    data["body"] = tip.body + " Ask us if you are unsure which size to buy."
    response = editor_client.post(change_url(tip), data)
    assert response.status_code == 302

    tip.refresh_from_db()
    assert tip.body.endswith("which size to buy.")
    latest = tip.history.latest("history_date")
    assert latest.history_user == editor
    assert latest.history_type == "~"

    history = editor_client.get(reverse("admin:recovery_tip_history", args=[tip.pk]))
    assert history.status_code == 200
    page = history.content.decode()
    assert "Robin Okafor" in page
    assert "which size to buy." in page  # the change itself is listed
    assert original in unescape(page) and "chars]" not in page  # the wording it replaced, whole


def test_reverting_through_the_history_form_restores_the_old_text(editor_client, editor):
    tip = Tip.objects.get(slug="elevate-your-legs")
    original = tip.body
    data = form_data(editor_client.get(change_url(tip)))
    data["body"] = "Put your feet up."
    editor_client.post(change_url(tip), data)
    tip.refresh_from_db()
    assert tip.body == "Put your feet up."

    first = tip.history.earliest("history_date")
    revert_url = reverse("admin:recovery_tip_simple_history", args=[tip.pk, first.history_id])
    page = editor_client.get(revert_url)
    assert page.status_code == 200
    revert = form_data(page)
    assert revert["body"] == original
    response = editor_client.post(revert_url, revert)
    assert response.status_code == 302

    tip.refresh_from_db()
    assert tip.body == original
    assert tip.history.latest("history_date").history_user == editor


def test_a_tip_with_an_empty_title_is_refused_and_nothing_is_lost(editor_client):
    tip = Tip.objects.get(slug="cross-training")
    versions = tip.history.count()
    data = form_data(editor_client.get(change_url(tip)))
    data["title"] = "   "
    data["body"] = "Half-finished edit."
    response = editor_client.post(change_url(tip), data)
    assert response.status_code == 200
    assert "This field is required." in response.context["adminform"].form.errors["title"]

    tip.refresh_from_db()
    assert tip.title == "Cross-Training"
    assert tip.body.startswith("To keep up your fitness")
    assert tip.history.count() == versions


def test_unpublishing_a_tip_says_how_many_patients_lose_its_link(editor_client):
    make_plan(days_since_race=1)
    make_plan(days_since_race=3)
    tip = Tip.objects.get(slug="ice-therapy")
    data = form_data(editor_client.get(change_url(tip)))
    data.pop("published")  # the box unticked
    response = editor_client.post(change_url(tip), data, follow=True)
    assert "2 patients' plans have a step this tip explains: their Today page no longer links to it." in unescape(
        response.content.decode()
    )


def test_a_tip_used_by_a_step_cannot_be_deleted_and_the_page_says_why(editor_client):
    tip = Tip.objects.get(slug="ice-therapy")
    delete_url = reverse("admin:recovery_tip_delete", args=[tip.pk])
    page = editor_client.get(delete_url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "would require deleting the following protected related objects" in text
    assert "Ice the hip for 15–20 minutes" in text  # names the step that uses it

    response = editor_client.post(delete_url, {"post": "yes"})
    assert response.status_code == 200
    assert Tip.objects.filter(pk=tip.pk).exists()
    assert ProtocolStep.objects.filter(tip=tip).exists()


def test_a_tip_no_step_uses_can_be_deleted(editor_client):
    spare = Tip.objects.create(
        title="Sleep", slug="sleep", kind=Tip.Kind.RECOVERY, position=11, summary="Sleep well.", body="Sleep well."
    )
    response = editor_client.post(reverse("admin:recovery_tip_delete", args=[spare.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Tip.objects.filter(pk=spare.pk).exists()


def test_the_tip_list_lists_by_kind_and_position_and_searches(editor_client):
    response = editor_client.get(reverse("admin:recovery_tip_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == 14

    found = editor_client.get(reverse("admin:recovery_tip_changelist"), {"q": "hamstring"})
    assert [tip.slug for tip in found.context["cl"].result_list] == ["gentle-stretching"]

    flagged = editor_client.get(reverse("admin:recovery_tip_changelist"), {"review": "flagged"})
    assert [tip.slug for tip in flagged.context["cl"].result_list] == ["hydration"]


def test_mark_reviewed_records_who_reviewed_and_when(editor_client, editor):
    tips = list(Tip.objects.filter(slug__in=["ice-therapy", "compression"]))
    response = editor_client.post(
        reverse("admin:recovery_tip_changelist"),
        {"action": "mark_reviewed", ACTION_CHECKBOX_NAME: [str(tip.pk) for tip in tips]},
        follow=True,
    )
    assert "2 tips marked as reviewed by you today." in unescape(response.content.decode())
    for tip in tips:
        tip.refresh_from_db()
        assert tip.last_reviewed_by == editor
        assert tip.last_reviewed_on == clinic_today()
        assert tip.history.latest("history_date").history_change_reason == "Reviewed"
    untouched = Tip.objects.get(slug="elevate-your-legs")
    assert untouched.last_reviewed_by is None and untouched.last_reviewed_on is None


def test_mark_reviewed_leaves_a_flagged_tip_flagged_and_unstamped_and_says_why(editor_client):
    hydration, compression = Tip.objects.get(slug="hydration"), Tip.objects.get(slug="compression")
    response = editor_client.post(
        reverse("admin:recovery_tip_changelist"),
        {"action": "mark_reviewed", ACTION_CHECKBOX_NAME: [str(hydration.pk), str(compression.pk)]},
        follow=True,
    )
    text = unescape(response.content.decode())
    assert (
        "“Hydration” has an open review note: edit it, change what patients read if needed, and clear the note." in text
    )
    assert "1 tip marked as reviewed by you today." in text and "tip(s)" not in text
    hydration.refresh_from_db()
    assert hydration.review_note and hydration.last_reviewed_on is None  # no fresh stamp beside the open note
    compression.refresh_from_db()
    assert compression.last_reviewed_on == clinic_today()


def test_the_preview_shows_the_tip_as_patients_read_it(editor_client):
    tip = Tip.objects.get(slug="gentle-stretching")
    response = editor_client.get(reverse("admin:recovery_tip_preview", args=[tip.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert tip.title in text
    assert tip.body in text
    assert Disclaimer.current() in text


def test_patients_cannot_open_the_preview(client, patient):
    client.force_login(patient)
    tip = Tip.objects.get(slug="gentle-stretching")
    response = client.get(reverse("admin:recovery_tip_preview", args=[tip.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# Editing the protocol in the admin


def test_a_clinician_can_change_a_step_inline_on_the_protocol(editor_client, editor):
    protocol = Protocol.objects.default()
    page = editor_client.get(change_url(protocol))
    data = form_data(page)
    index = step_form_index(data, "ice")
    data[f"steps-{index}-last_day"] = "3"
    response = editor_client.post(change_url(protocol), data)
    assert response.status_code == 302, errors_of(response)

    ice = protocol.steps.get(key="ice")
    assert ice.last_day == 3
    assert ice.history.latest("history_date").history_user == editor


def test_a_step_whose_last_day_is_before_its_first_is_refused_inline(editor_client):
    protocol = Protocol.objects.default()
    ice = protocol.steps.get(key="ice")
    versions = ice.history.count()
    data = form_data(editor_client.get(change_url(protocol)))
    assert data["steps-TOTAL_FORMS"] == data["steps-INITIAL_FORMS"] == str(protocol.steps.count())
    index = step_form_index(data, "ice")
    data[f"steps-{index}-first_day"] = "5"
    data[f"steps-{index}-last_day"] = "2"
    data[f"steps-{index}-label"] = "Changed label that must not be saved"
    response = editor_client.post(change_url(protocol), data)
    assert response.status_code == 200
    assert "The last day cannot be before the first day." in response.content.decode()

    ice.refresh_from_db()
    assert (ice.first_day, ice.last_day, ice.label) == (0, 2, "Ice the hip for 15–20 minutes")
    assert ice.history.count() == versions


def test_a_step_whose_last_day_is_before_its_first_is_refused_on_its_own_page(editor_client):
    ice = ProtocolStep.objects.get(protocol__is_default=True, key="ice")
    data = form_data(editor_client.get(change_url(ice)))
    data["last_day"] = "0"
    data["first_day"] = "1"
    response = editor_client.post(change_url(ice), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["last_day"] == ["The last day cannot be before the first day."]
    ice.refresh_from_db()
    assert (ice.first_day, ice.last_day) == (0, 2)


def test_a_pain_gate_without_a_limit_is_refused(editor_client):
    stretch = ProtocolStep.objects.get(protocol__is_default=True, key="stretch")
    data = form_data(editor_client.get(change_url(stretch)))
    data["gate_pain_max"] = ""
    response = editor_client.post(change_url(stretch), data)
    assert response.status_code == 200
    assert "gate_pain_max" in response.context["adminform"].form.errors
    stretch.refresh_from_db()
    assert stretch.gate_pain_max == 3


def test_phases_are_edited_inline_in_order(editor_client):
    protocol = Protocol.objects.default()
    page = editor_client.get(change_url(protocol))
    text = page.content.decode()
    positions = [text.index(f'value="{name}"') for name in ["Protect", "Early recovery", "Strengthen"]]
    assert positions == sorted(positions)

    data = form_data(page)
    strengthen = next(
        key.removesuffix("-name") for key, value in data.items() if key.startswith("phases-") and value == "Strengthen"
    )
    data[f"{strengthen}-first_day"] = "14"
    assert editor_client.post(change_url(protocol), data).status_code == 302
    assert Phase.objects.get(protocol=protocol, name="Strengthen").first_day == 14


def test_the_protocol_list_counts_phases_and_steps_in_a_fixed_number_of_queries(
    database_only, editor_client, django_assert_max_num_queries
):
    for copy in range(20):
        Protocol.objects.create(name=f"Spare protocol {copy}")
    # Expect 9 queries, however many protocols: session, user, the user's own and group permissions (2),
    # the filtered and total counts (2), the sidebar's "can add" checks for the two singletons (2), and one for
    # the page of protocols with their phase and step counts annotated.
    with django_assert_max_num_queries(9):
        response = editor_client.get(reverse("admin:recovery_protocol_changelist"))
    assert response.status_code == 200
    default = next(p for p in response.context["cl"].result_list if p.is_default)
    assert (default.phase_total, default.step_total) == (4, 15)
    assert "Post-marathon hip recovery" in response.content.decode()


def step_form_index(data, key):
    step = ProtocolStep.objects.get(protocol__is_default=True, key=key)
    return int(inline_prefix(data, "steps", step.pk).split("-")[1])


def errors_of(response):
    if response.context is None:
        return response
    formsets = response.context["inline_admin_formsets"]
    return [
        response.context["adminform"].form.errors,
        *[(fs.formset.errors, fs.formset.non_form_errors()) for fs in formsets],
    ]


# The phases: shared by every plan, checked together


def phase_prefix(data, name):
    return inline_prefix(data, "phases", Phase.objects.get(protocol__is_default=True, name=name).pk)


def protocol_page(client):
    protocol = Protocol.objects.default()
    page = client.get(change_url(protocol))
    return change_url(protocol), form_data(page), page.content.decode()


def first_days():
    return dict(Phase.objects.filter(protocol__is_default=True).values_list("name", "first_day"))


def test_the_page_says_above_the_phases_that_a_phase_edit_reaches_every_patient_at_once(editor_client):
    make_plan(days_since_race=3)
    make_plan(days_since_race=9)
    _url, _data, html = protocol_page(editor_client)
    notice = html.index("data-phases-shared")
    assert notice < html.index('id="phases-group"')
    text = unescape(re.sub(r"<[^>]+>|\s+", " ", html[notice : html.index('id="phases-group"')]))
    assert "Phases are shared, not copied into each plan." in text
    assert "reaches both patients on this protocol at once, including the phase shown for days already past" in text
    top = unescape(re.sub(r"<[^>]+>|\s+", " ", html[html.index("data-protocol-reach") : notice]))
    assert "Steps: a change applies to patients enrolled from now on." in re.sub(" +", " ", top)
    assert "Edits here apply to patients enrolled from now on" not in top  # not true of the phases


def test_saving_a_phase_change_warns_how_many_current_patients_it_reached(editor_client):
    for _ in range(3):
        make_plan(days_since_race=3)
    url, data, _html = protocol_page(editor_client)
    saved = editor_client.post(url, data | {f"{phase_prefix(data, 'Strengthen')}-first_day": "14"}, follow=True)
    assert first_days()["Strengthen"] == 14
    assert (
        "The phase change reached all 3 patients already on this protocol at once, including the phase shown for "
        "days already past." in unescape(saved.content.decode())
    )
    # A change of the steps alone says nothing of the phases.
    url, data, _html = protocol_page(editor_client)
    saved = editor_client.post(url, data | {f"steps-{step_form_index(data, 'ice')}-doses_per_day": "2"}, follow=True)
    assert "The phase change reached" not in saved.content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (  # out of order: patients on days 2 and 3 would read "Strengthen"
            {"Strengthen": "2"},
            "“Strengthen” (position 3) starts on day 2, which is not after “Early recovery” (position 2, from day "
            "4): each phase must start on a later day than the one before it.",
        ),
        (  # two phases from the same day: the later one hides the other
            {"Strengthen": "4"},
            "“Strengthen” (position 3) starts on day 4, which is not after “Early recovery” (position 2, from day 4)",
        ),
    ],
)
def test_phases_whose_first_days_do_not_rise_with_their_position_are_refused_in_plain_words(
    editor_client, changes, message
):
    url, data, _html = protocol_page(editor_client)
    for name, first_day in changes.items():
        data[f"{phase_prefix(data, name)}-first_day"] = first_day
    response = editor_client.post(url, data)
    assert response.status_code == 200
    assert message in unescape(response.content.decode())
    assert first_days()["Strengthen"] == 15


def test_a_phase_without_a_description_is_refused(editor_client):
    url, data, _html = protocol_page(editor_client)
    data[f"{phase_prefix(data, 'Protect')}-description"] = ""
    response = editor_client.post(url, data)
    assert response.status_code == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", unescape(response.content.decode())))
    assert "Phase “Protect”: description: required." in text
    assert Phase.objects.get(name="Protect").description


def test_a_phase_after_the_running_sign_off_must_wait_for_it_too(editor_client):
    # Otherwise a patient not yet cleared to run would be told "Today you start the Maintenance phase" on day 30.
    url, data, _html = protocol_page(editor_client)
    new = f"phases-{data['phases-TOTAL_FORMS']}"
    data |= {"phases-TOTAL_FORMS": str(int(data["phases-TOTAL_FORMS"]) + 1), f"{new}-position": "5",
             f"{new}-name": "Maintenance", f"{new}-first_day": "30", f"{new}-gate": "none",
             f"{new}-description": "Keep up the strength work."}  # fmt: skip
    response = editor_client.post(url, data)
    assert response.status_code == 200
    assert "“Maintenance” comes after “Return to running”, which waits for a clinician's sign-off to run" in (
        unescape(response.content.decode())
    )
    data[f"{new}-gate"] = "clearance"
    assert editor_client.post(url, data).status_code == 302
    assert first_days()["Maintenance"] == 30


def test_a_phase_edited_on_its_own_page_is_checked_with_the_others(editor_client):
    strengthen = Phase.objects.get(protocol__is_default=True, name="Strengthen")
    data = form_data(editor_client.get(change_url(strengthen)))
    response = editor_client.post(change_url(strengthen), data | {"first_day": "3"})
    assert response.status_code == 200
    assert "“Strengthen” (position 3) starts on day 3, which is not after “Early recovery”" in unescape(
        response.content.decode()
    )
    assert first_days()["Strengthen"] == 15


def test_two_phases_can_swap_positions(editor_client):
    # Protect 1 <-> Early recovery 2, with their first days, so that the order still holds.
    url, data, _html = protocol_page(editor_client)
    protect, early = phase_prefix(data, "Protect"), phase_prefix(data, "Early recovery")
    versions = Phase.history.count()
    data |= {f"{protect}-position": "2", f"{protect}-first_day": "4",
             f"{early}-position": "1", f"{early}-first_day": "0"}  # fmt: skip
    response = editor_client.post(url, data)
    assert response.status_code == 302, errors_of(response)
    phases = Phase.objects.filter(protocol__is_default=True).order_by("position")
    assert [(phase.name, phase.first_day) for phase in phases][:2] == [("Early recovery", 0), ("Protect", 4)]
    assert Phase.history.count() == versions + 2  # one version each, none with the position held for a moment
    assert {version.position for version in Phase.history.all()} <= {1, 2, 3, 4}


def test_phases_can_be_renumbered_to_make_room_for_one_before_them(editor_client):
    url, data, _html = protocol_page(editor_client)
    for name, position in [("Protect", 2), ("Early recovery", 3), ("Strengthen", 4), ("Return to running", 5)]:
        data[f"{phase_prefix(data, name)}-position"] = str(position)
    data[f"{phase_prefix(data, 'Protect')}-first_day"] = "1"
    new = f"phases-{data['phases-TOTAL_FORMS']}"
    data |= {"phases-TOTAL_FORMS": str(int(data["phases-TOTAL_FORMS"]) + 1), f"{new}-position": "1",
             f"{new}-name": "Race day", f"{new}-first_day": "0", f"{new}-gate": "none",
             f"{new}-description": "Rest and drink to thirst."}  # fmt: skip
    response = editor_client.post(url, data)
    assert response.status_code == 302, errors_of(response)
    names = Phase.objects.filter(protocol__is_default=True).order_by("position").values_list("name", flat=True)
    assert list(names) == ["Race day", "Protect", "Early recovery", "Strengthen", "Return to running"]


def test_the_rows_with_errors_are_named_at_the_top_of_the_page(editor_client):
    # The steps' table is wider than the page: an error in its doses column is off to the side.
    url, data, _html = protocol_page(editor_client)
    index = step_form_index(data, "ice")
    data[f"steps-{index}-doses_per_day"] = "20"
    data[f"{phase_prefix(data, 'Strengthen')}-first_day"] = "2"
    html = editor_client.post(url, data).content.decode()
    summary = html[html.index("data-row-problems") : html.index('id="phases-group"')]
    assert html.index("data-row-problems") < html.index("data-phases-shared")  # at the top
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", unescape(summary)))
    assert "Step “Ice the hip for 15–20 minutes”: doses per day: at most 12." in text
    assert "Phases: “Strengthen” (position 3) starts on day 2" in text
    # To the field at fault, which the browser scrolls the wide table sideways to (and that field exists).
    assert f'href="#id_steps-{index}-doses_per_day"' in summary and f'id="id_steps-{index}-doses_per_day"' in html


def test_each_column_of_the_phases_and_steps_is_explained_under_its_table(editor_client):
    _url, _data, html = protocol_page(editor_client)
    for prefix, explained in [
        ("phases", ["Position", "First day", "Pain limit", "Description"]),
        ("steps", ["Position", "Key", "Doses per day", "Pain limit"]),
    ]:
        legend = html[html.index(f'data-legend="{prefix}"') :].split("</details>")[0]
        assert html.index(f'id="{prefix}-group"') < html.index(f'data-legend="{prefix}"')
        assert [term for term in explained if f"<dt>{term}</dt>" in legend] == explained
    text = unescape(html)
    assert "A phase lasts until the next one starts. A change reaches every current patient at once." in text
    assert "Patients read it on their Today and Progress pages." in text
    assert "How many times a day the patient does it and ticks it (1 to 12)." in text
    assert "Only for the gate “Pain at most N”: the highest pain score (0 to 10) at which it opens." in text
