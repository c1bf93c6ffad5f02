"""Two clinicians, two tabs: a page opened before a colleague saved the same tip, protocol or safety thresholds
writes only what it changed, keeps the colleague's change, and refuses once a field both changed
(recovery/admin/stale.py)."""

from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from recovery.models import Phase, Protocol, SafetyThresholds, Tip
from tests.admin_forms import form_data
from tests.factories import ClinicianFactory, make_plan

pytestmark = pytest.mark.django_db

REFUSED = "Sam Patel saved a change to this at "


def change_url(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


@pytest.fixture
def two_clinicians():
    """Two signed-in clinicians, the second called Sam Patel."""
    first, second = Client(), Client()
    first.force_login(ClinicianFactory())
    second.force_login(ClinicianFactory(first_name="Sam", last_name="Patel"))
    return first, second


def opened(client, obj):
    return form_data(client.get(change_url(obj)))


def test_a_stale_thresholds_page_saves_its_own_change_and_keeps_a_colleagues_stricter_alert_level(two_clinicians):
    mine, colleagues = two_clinicians
    thresholds = SafetyThresholds.current()
    my_page, their_page = opened(mine, thresholds), opened(colleagues, thresholds)
    assert colleagues.post(change_url(thresholds), their_page | {"alert_pain_from": 5}).status_code == 302

    assert mine.post(change_url(thresholds), my_page | {"inactive_after_days": 4}).status_code == 302
    thresholds.refresh_from_db()
    assert (thresholds.alert_pain_from, thresholds.inactive_after_days) == (5, 4)  # theirs kept, mine saved


def test_a_field_both_changed_is_refused_once_naming_who_and_what_it_says_now(two_clinicians):
    mine, colleagues = two_clinicians
    thresholds = SafetyThresholds.current()
    my_page, their_page = opened(mine, thresholds), opened(colleagues, thresholds)
    colleagues.post(change_url(thresholds), their_page | {"alert_pain_from": 5, "pain_rise_points": 3})

    refused = mine.post(change_url(thresholds), my_page | {"alert_pain_from": 7})
    assert REFUSED in refused.text and "after you opened the page: it now says “5”." in unescape(refused.text)
    thresholds.refresh_from_db()
    assert thresholds.alert_pain_from == 5
    assert 'value="7"' in refused.text  # what I typed is still on the page

    # Saved again from that page, knowingly: my alert level, and still their rise in points.
    assert mine.post(change_url(thresholds), form_data(refused)).status_code == 302
    thresholds.refresh_from_db()
    assert (thresholds.alert_pain_from, thresholds.pain_rise_points) == (7, 3)


def test_a_stale_tip_page_keeps_the_wording_a_colleague_replaced(two_clinicians):
    mine, colleagues = two_clinicians
    tip = Tip.objects.get(slug="ice-therapy")
    my_page, their_page = opened(mine, tip), opened(colleagues, tip)
    colleagues.post(change_url(tip), their_page | {"summary": "Ice the sore hip, wrapped in a towel."})

    mine.post(change_url(tip), my_page | {"review_note": "Check the minutes against the new guidance."})
    tip.refresh_from_db()
    assert tip.summary == "Ice the sore hip, wrapped in a towel."
    assert tip.review_note == "Check the minutes against the new guidance."


def step_row(data, step):
    """The prefix of the step's row in the protocol page's steps table, e.g. "steps-1"."""
    ids = {name.removesuffix("-id"): value for name, value in data.items() if name.startswith("steps-")}
    return next(row for row, value in ids.items() if value == str(step.pk) and row.count("-") == 1)


def test_a_stale_protocol_page_keeps_a_colleagues_change_to_a_step(two_clinicians):
    mine, colleagues = two_clinicians
    protocol = Protocol.objects.default()
    ice = protocol.steps.get(key="ice")
    my_page, their_page = opened(mine, protocol), opened(colleagues, protocol)
    row = step_row(their_page, ice)
    assert colleagues.post(change_url(protocol), their_page | {f"{row}-doses_per_day": "4"}).status_code == 302

    # The same row, another field: both kept.
    assert mine.post(change_url(protocol), my_page | {f"{row}-last_day": "3"}).status_code == 302
    ice.refresh_from_db()
    assert (ice.doses_per_day, ice.last_day) == (4, 3)


def test_a_step_field_both_changed_is_refused_on_the_protocol_page(two_clinicians):
    mine, colleagues = two_clinicians
    protocol = Protocol.objects.default()
    ice = protocol.steps.get(key="ice")
    my_page, their_page = opened(mine, protocol), opened(colleagues, protocol)
    row = step_row(their_page, ice)
    colleagues.post(change_url(protocol), their_page | {f"{row}-doses_per_day": "4"})

    refused = mine.post(change_url(protocol), my_page | {f"{row}-doses_per_day": "2"})
    assert REFUSED in refused.text and "it now says “4”" in unescape(refused.text)
    ice.refresh_from_db()
    assert ice.doses_per_day == 4


def test_a_colleagues_change_to_a_phase_on_its_own_page_is_kept_by_a_stale_protocol_page(two_clinicians):
    mine, colleagues = two_clinicians
    protocol = Protocol.objects.default()
    phase = Phase.objects.filter(protocol=protocol).order_by("position").first()
    ice = protocol.steps.get(key="ice")
    my_page = opened(mine, protocol)
    colleagues.post(change_url(phase), opened(colleagues, phase) | {"description": "Rest the hip: no running at all."})

    mine.post(change_url(protocol), my_page | {f"{step_row(my_page, ice)}-doses_per_day": "2"})
    phase.refresh_from_db()
    ice.refresh_from_db()
    assert (phase.description, ice.doses_per_day) == ("Rest the hip: no running at all.", 2)


def test_bringing_changes_from_a_preview_a_colleague_made_stale_brings_nothing(two_clinicians):
    mine, colleagues = two_clinicians
    protocol = Protocol.objects.default()
    plan = make_plan(days_since_race=1)
    ice = protocol.steps.get(key="ice")
    data = opened(mine, protocol)
    mine.post(change_url(protocol), data | {f"{step_row(data, ice)}-instruction": "Ice for 15 minutes."})
    preview_url = reverse("admin:recovery_protocol_update_plans", args=[protocol.pk])
    preview = form_data(mine.get(preview_url), form_id="bring-changes")

    their_page = opened(colleagues, protocol)  # a colleague's edit after the preview was shown
    colleagues.post(change_url(protocol), their_page | {f"{step_row(their_page, ice)}-doses_per_day": "4"})

    response = mine.post(preview_url, preview, follow=True)
    assert "The protocol was changed after this preview was shown, so nothing was brought" in unescape(response.text)
    assert plan.steps.get(key="ice").doses_per_day == 3  # nothing reached the patient


def test_a_step_a_colleague_deleted_meanwhile_stays_deleted_and_the_rest_is_saved(two_clinicians):
    mine, _colleagues = two_clinicians
    protocol = Protocol.objects.default()
    warm_up, ice = protocol.steps.get(key="warm-up"), protocol.steps.get(key="ice")
    my_page = opened(mine, protocol)
    warm_up.delete()  # a colleague, on the step's own page

    response = mine.post(change_url(protocol), my_page | {f"{step_row(my_page, ice)}-doses_per_day": "2"}, follow=True)
    assert "Someone deleted “Warm up before you run” after you opened this page" in unescape(response.text)
    ice.refresh_from_db()
    assert ice.doses_per_day == 2 and not protocol.steps.filter(key="warm-up").exists()


def test_a_phase_a_colleague_added_at_the_same_position_is_named_not_an_error_page(two_clinicians):
    mine, colleagues = two_clinicians
    protocol = Protocol.objects.default()
    my_page, their_page = opened(mine, protocol), opened(colleagues, protocol)
    last = Phase.objects.filter(protocol=protocol).order_by("-position").first()

    def add_phase(page, name, first_day):
        total = int(page["phases-TOTAL_FORMS"])
        return page | {
            "phases-TOTAL_FORMS": str(total + 1), f"phases-{total}-position": str(last.position + 1),
            f"phases-{total}-name": name, f"phases-{total}-first_day": str(first_day),
            f"phases-{total}-gate": "clearance", f"phases-{total}-description": "Longer runs.",
            f"phases-{total}-protocol": str(protocol.pk),
        }  # fmt: skip

    assert colleagues.post(change_url(protocol), add_phase(their_page, "Back to racing", 70)).status_code == 302
    response = mine.post(change_url(protocol), add_phase(my_page, "Long runs", 80))
    assert response.status_code == 200
    said = f"Position {last.position + 1} is taken by “Back to racing”, which someone added after you opened this page"
    assert said in unescape(response.text)
    assert not Phase.objects.filter(name="Long runs").exists()


def test_the_phase_order_is_checked_with_a_phase_a_colleague_added(two_clinicians):
    mine, colleagues = two_clinicians
    protocol = Protocol.objects.default()
    my_page, their_page = opened(mine, protocol), opened(colleagues, protocol)
    last = Phase.objects.filter(protocol=protocol).order_by("-position").first()
    total = int(their_page["phases-TOTAL_FORMS"])
    added = their_page | {
        "phases-TOTAL_FORMS": str(total + 1), f"phases-{total}-position": str(last.position + 1),
        f"phases-{total}-name": "Back to racing", f"phases-{total}-first_day": str(last.first_day + 20),
        f"phases-{total}-gate": "clearance", f"phases-{total}-description": "Longer runs.",
        f"phases-{total}-protocol": str(protocol.pk),
    }  # fmt: skip
    assert colleagues.post(change_url(protocol), added).status_code == 302
    ids = {name.removesuffix("-id"): value for name, value in my_page.items() if name.endswith("-id")}
    row = next(row for row, value in ids.items() if row.startswith("phases-") and value == str(last.pk))
    response = mine.post(change_url(protocol), my_page | {f"{row}-first_day": str(last.first_day + 30)})
    assert "which is not after" in unescape(response.text)  # the colleague's phase now comes before it in days
    assert Phase.objects.get(pk=last.pk).first_day == last.first_day  # not saved


def test_the_refusal_names_who_changed_that_field_not_who_saved_last(two_clinicians):
    mine, colleagues = two_clinicians
    tip = Tip.objects.get(slug="ice-therapy")
    my_first_tab = opened(mine, tip)
    colleagues.post(change_url(tip), opened(colleagues, tip) | {"title": "Ice, wrapped"})
    mine.post(change_url(tip), opened(mine, tip) | {"summary": "Ice the sore hip."})  # my other tab, saved last

    refused = mine.post(change_url(tip), my_first_tab | {"title": "Cold therapy"})
    assert REFUSED in refused.text and "it now says “Ice, wrapped”" in unescape(refused.text)


def test_the_same_change_made_by_both_is_no_clash(two_clinicians):
    mine, colleagues = two_clinicians
    tip = Tip.objects.get(slug="ice-therapy")
    my_page, their_page = opened(mine, tip), opened(colleagues, tip)
    colleagues.post(change_url(tip), their_page | {"summary": "Ice the sore hip."})
    assert mine.post(change_url(tip), my_page | {"summary": "Ice the sore hip."}).status_code == 302


def test_a_text_stored_with_plain_line_breaks_is_not_taken_for_a_colleagues_change(two_clinicians):
    mine, _colleagues = two_clinicians
    tip = Tip.objects.get(slug="ice-therapy")
    Tip.objects.filter(pk=tip.pk).update(body="Line one.\nLine two.")  # written outside the admin
    page = opened(mine, tip)
    # As a browser sends a text box and its hidden twin: CRLF.
    sent = {name: value.replace("\n", "\r\n") if isinstance(value, str) else value for name, value in page.items()}
    response = mine.post(change_url(tip), sent | {"body": "Line one.\r\nLine two, added to."})
    assert response.status_code == 302  # not "Someone saved a change to this": nobody had
    tip.refresh_from_db()
    assert tip.body == "Line one.\nLine two, added to."
