"""Two clinicians, two tabs: a page opened before a colleague saved the same tip, protocol or safety thresholds does
not quietly put back what they changed (recovery/admin/stale.py)."""

from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from recovery.models import Phase, Protocol, ProtocolStep, SafetyThresholds, Tip
from tests.admin_forms import form_data
from tests.factories import ClinicianFactory

pytestmark = pytest.mark.django_db

COLLEAGUE_SAVED = "after you opened this page, so saving now would put back what they changed"


def change_url(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


@pytest.fixture
def two_clinicians():
    """Two signed-in clinicians, the second called Sam Patel."""
    first, second = Client(), Client()
    first.force_login(ClinicianFactory())
    second.force_login(ClinicianFactory(first_name="Sam", last_name="Patel"))
    return first, second


def test_a_stale_safety_thresholds_page_does_not_undo_a_colleagues_stricter_alert_level(two_clinicians):
    mine, colleagues = two_clinicians
    thresholds = SafetyThresholds.current()
    my_page = form_data(mine.get(change_url(thresholds)))
    their_page = form_data(colleagues.get(change_url(thresholds)))
    assert colleagues.post(change_url(thresholds), their_page | {"alert_pain_from": 5}).status_code == 302

    response = mine.post(change_url(thresholds), my_page | {"inactive_after_days": 4})
    page = unescape(response.text)
    assert "Sam Patel saved this at" in page and COLLEAGUE_SAVED in page
    assert "what they changed (alert pain from)." in page.lower()
    thresholds.refresh_from_db()
    assert (thresholds.alert_pain_from, thresholds.inactive_after_days) == (5, 3)  # theirs kept, mine not saved
    assert 'value="4"' in response.text  # what I typed is still on the page

    # Saving again from that page is a choice, made knowing what it replaces.
    assert mine.post(change_url(thresholds), form_data(response)).status_code == 302
    thresholds.refresh_from_db()
    assert thresholds.inactive_after_days == 4


def test_a_stale_tip_page_does_not_put_back_the_wording_a_colleague_replaced(two_clinicians):
    mine, colleagues = two_clinicians
    tip = Tip.objects.get(slug="ice-therapy")
    my_page = form_data(mine.get(change_url(tip)))
    their_page = form_data(colleagues.get(change_url(tip)))
    colleagues.post(change_url(tip), their_page | {"summary": "Ice the sore hip, wrapped in a towel."})

    response = mine.post(change_url(tip), my_page | {"review_note": "Check the minutes against the new guidance."})
    assert COLLEAGUE_SAVED in unescape(response.text)
    tip.refresh_from_db()
    assert (tip.summary, tip.review_note) == ("Ice the sore hip, wrapped in a towel.", "")


def test_a_stale_protocol_page_does_not_undo_a_colleagues_change_to_a_step(two_clinicians):
    mine, colleagues = two_clinicians
    protocol = Protocol.objects.default()
    ice = protocol.steps.get(key="ice")
    my_page = form_data(mine.get(change_url(protocol)))
    their_page = form_data(colleagues.get(change_url(protocol)))
    index = next(
        name.split("-")[1] for name, value in their_page.items() if name.endswith("-id") and value == str(ice.pk)
    )
    assert colleagues.post(change_url(protocol), their_page | {f"steps-{index}-doses_per_day": "4"}).status_code == 302

    response = mine.post(change_url(protocol), my_page | {f"steps-{index}-last_day": "3"})
    assert COLLEAGUE_SAVED in unescape(response.text)
    ice.refresh_from_db()
    assert (ice.doses_per_day, ice.last_day) == (4, 2)


def test_a_colleagues_change_to_one_phase_on_its_own_page_makes_the_protocol_page_stale(two_clinicians):
    mine, colleagues = two_clinicians
    protocol = Protocol.objects.default()
    phase = Phase.objects.filter(protocol=protocol).order_by("position").first()
    my_page = form_data(mine.get(change_url(protocol)))
    their_page = form_data(colleagues.get(change_url(phase)))
    colleagues.post(change_url(phase), their_page | {"description": "Rest the hip: no running at all."})

    assert COLLEAGUE_SAVED in unescape(mine.post(change_url(protocol), my_page).text)


def test_pages_opened_after_a_save_are_not_refused(two_clinicians):
    mine, colleagues = two_clinicians
    step = ProtocolStep.objects.get(protocol=Protocol.objects.default(), key="ice")
    colleagues.post(change_url(step), form_data(colleagues.get(change_url(step))) | {"doses_per_day": "4"})
    page = form_data(mine.get(change_url(step)))
    assert mine.post(change_url(step), page | {"doses_per_day": "2"}).status_code == 302
    step.refresh_from_db()
    assert step.doses_per_day == 2
