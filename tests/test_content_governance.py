"""Content governance: who changed a tip or a step and what, restore in one click, tips due for review."""

import datetime
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from recovery.clock import clinic_today
from recovery.models import Phase, ProtocolStep, Tip
from tests.factories import make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinician_client(clinician):
    client = Client()
    client.force_login(clinician)
    return client


def edit_tip(client, tip, **changes):
    data = {
        "title": tip.title, "slug": tip.slug, "kind": tip.kind, "position": tip.position,
        "published": "on" if tip.published else "", "summary": tip.summary, "body": tip.body,
        "review_note": tip.review_note, **changes,
    }  # fmt: skip
    return client.post(reverse("admin:recovery_tip_change", args=[tip.pk]), data)


def test_the_history_shows_who_changed_what_with_a_readable_diff(clinician_client, clinician):
    tip = Tip.objects.get(slug="ice-therapy")
    assert edit_tip(clinician_client, tip, summary="Ice the sore hip, wrapped in a towel.").status_code == 302
    html = clinician_client.get(reverse("admin:recovery_tip_history", args=[tip.pk])).content.decode()
    assert str(clinician) in html
    assert "<strong>Summary:</strong>" in html and "Ice the sore hip, wrapped in a towel." in html
    assert "Restore this version" in html
    assert "Choose a date from the list below to revert" not in html  # there is no list of dates to choose from
    # The version the tip sheet was loaded with was saved by no person: the page says so instead of "None".
    assert "the portal (its set-up or a command), not a person" in html


def test_saving_the_safety_thresholds_says_so_in_plain_words(clinician_client):
    from recovery.models import SafetyThresholds

    thresholds = SafetyThresholds.current()
    data = {name: getattr(thresholds, name) for name in
            ("ease_off_pain_from", "alert_pain_from", "pain_rise_points", "inactive_after_days")}  # fmt: skip
    url = reverse("admin:recovery_safetythresholds_change", args=[thresholds.pk])
    response = clinician_client.post(url, data | {"alert_pain_from": 7}, follow=True)
    assert "The safety thresholds are saved." in response.text
    assert "was changed successfully" not in response.text
    assert SafetyThresholds.current().alert_pain_from == 7


def test_one_click_restores_an_earlier_version_and_keeps_that_in_the_history(clinician_client):
    tip = Tip.objects.get(slug="ice-therapy")
    original = tip.body
    edit_tip(clinician_client, tip, body="A wrong body.")
    first_version = tip.history.order_by("history_date").first()
    response = clinician_client.post(reverse("admin:recovery_tip_revert", args=[tip.pk, first_version.pk]))
    assert response.status_code == 302
    tip.refresh_from_db()
    assert tip.body == original
    assert tip.history.first().history_change_reason.startswith("Restored the version of")


def test_a_restore_names_the_version_by_the_clinics_time(clinician_client):
    tip = Tip.objects.get(slug="ice-therapy")
    edit_tip(clinician_client, tip, body="A wrong body.")
    first_version = tip.history.order_by("history_date").first()
    summer_morning = datetime.datetime(2026, 7, 1, 8, 10, tzinfo=datetime.UTC)  # 09:10 in London (BST)
    type(first_version).objects.filter(pk=first_version.pk).update(history_date=summer_morning)
    clinician_client.post(reverse("admin:recovery_tip_revert", args=[tip.pk, first_version.pk]))
    assert tip.history.first().history_change_reason == "Restored the version of 01 Jul 2026 09:10"


def test_restore_is_post_only(clinician_client):
    tip = Tip.objects.get(slug="ice-therapy")
    version = tip.history.first()
    assert clinician_client.get(reverse("admin:recovery_tip_revert", args=[tip.pk, version.pk])).status_code == 405


def test_restoring_a_deleted_tip_gives_a_plain_message(clinician_client):
    tip = Tip.objects.create(title="Temporary", slug="temporary", kind="recovery", position=99, summary="s", body="b")
    tip_id, version = tip.pk, tip.history.first()
    tip.delete()
    response = clinician_client.post(reverse("admin:recovery_tip_revert", args=[tip_id, version.pk]), follow=True)
    assert response.status_code == 200
    assert "was deleted, so there is nothing to restore" in response.content.decode()
    assert not Tip.objects.filter(slug="temporary").exists()


def test_restoring_a_step_version_whose_tip_was_deleted_gives_a_plain_message(clinician_client):
    spare = Tip.objects.create(title="Spare", slug="spare", kind="recovery", position=98, summary="s", body="b")
    step = ProtocolStep.objects.get(key="elevate")
    step.tip = spare
    step.save()
    old_version = step.history.first()  # points at the spare tip
    step.tip = Tip.objects.get(slug="elevate-your-legs")
    step.save()
    spare.delete()
    response = clinician_client.post(
        reverse("admin:recovery_protocolstep_revert", args=[step.pk, old_version.pk]), follow=True
    )
    assert response.status_code == 200
    assert "cannot be restored" in response.content.decode()
    step.refresh_from_db()
    assert step.tip.slug == "elevate-your-legs"


def test_reception_cannot_restore(client, reception):
    client.force_login(reception)
    tip = Tip.objects.get(slug="ice-therapy")
    response = client.post(reverse("admin:recovery_tip_revert", args=[tip.pk, tip.history.first().pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_tips_not_reviewed_for_a_year_are_listed(clinician_client, clinician):
    Tip.objects.update(last_reviewed_on=clinic_today(), last_reviewed_by=clinician)
    Tip.objects.filter(slug="compression").update(last_reviewed_on=clinic_today() - datetime.timedelta(days=400))
    Tip.objects.filter(slug="hydration").update(last_reviewed_on=None)
    html = clinician_client.get(reverse("admin:recovery_tip_changelist") + "?review=overdue").content.decode()
    assert "Compression" in html and "Hydration" in html and "Ice Therapy" not in html


def test_a_tip_longer_than_five_thousand_characters_is_refused_in_plain_words(clinician_client):
    tip = Tip.objects.get(slug="ice-therapy")
    response = edit_tip(clinician_client, tip, body="Ice. " * 60_000)  # 300,000 characters (the phone page timed out)
    assert response.status_code == 200
    assert "A tip can be at most 5,000 characters long (this one has 299999)" in unescape(response.text)
    tip.refresh_from_db()
    assert tip.body.startswith("Using ice packs")
    # The longest the clinic writes fits, and the form says what a patient sees of the text.
    assert edit_tip(clinician_client, tip, body="x" * 5_000).status_code == 302
    page = clinician_client.get(reverse("admin:recovery_tip_change", args=[tip.pk])).text
    assert "Plain text, as patients read it" in page


def test_every_tip_of_the_clinics_sheet_fits_the_length_limit(db):
    for tip in Tip.objects.all():
        tip.full_clean()  # raises for a body over the limit
    assert max(len(tip.body) for tip in Tip.objects.all()) < 5_000


def test_restoring_a_protocol_step_says_who_keeps_their_plan_with_the_link_to_bring_it(clinician_client):
    step = ProtocolStep.objects.get(key="ice")
    first_version = step.history.earliest("history_date")
    step.instruction = "Ice the hip for ten minutes."
    step.save()
    make_plan(days_since_race=1)  # enrolled with the ten minutes
    url = reverse("admin:recovery_protocolstep_revert", args=[step.pk, first_version.pk])
    response = clinician_client.post(url, follow=True)
    text = unescape(response.content.decode())
    assert "Restored “Ice the hip for 15–20 minutes”" in text
    update_url = reverse("admin:recovery_protocol_update_plans", args=[step.protocol_id])
    assert "One patient already on this protocol keeps their plan as it was" in text
    assert f'<a href="{update_url}">see what would change and bring it to them from tomorrow</a>' in text


def test_restoring_a_step_keeps_the_key_its_ticks_are_recorded_under(clinician_client):
    step = ProtocolStep.objects.get(key="ice")
    step.key = "ice-old"  # a version from before keys were fixed once a step exists
    step.save()
    renamed = step.history.first()
    step.key = "ice"
    step.save()
    clinician_client.post(reverse("admin:recovery_protocolstep_revert", args=[step.pk, renamed.pk]))
    step.refresh_from_db()
    assert step.key == "ice"
    assert step.history.first().history_change_reason.startswith("Restored the version of")


def test_restoring_a_phase_that_would_be_out_of_order_now_is_refused_and_a_restore_says_whom_it_reached(
    clinician_client,
):
    make_plan(days_since_race=3)
    strengthen, early = Phase.objects.get(name="Strengthen"), Phase.objects.get(name="Early recovery")
    from_day_15 = strengthen.history.first()
    strengthen.first_day = 20
    strengthen.save()
    early.first_day = 17
    early.save()
    url = reverse("admin:recovery_phase_revert", args=[strengthen.pk, from_day_15.pk])
    text = unescape(clinician_client.post(url, follow=True).content.decode())
    assert "cannot be restored: “Strengthen” (position 3) starts on day 15, which is not after “Early recovery”" in text
    strengthen.refresh_from_db()
    assert strengthen.first_day == 20

    early.first_day = 4
    early.save()
    text = unescape(clinician_client.post(url, follow=True).content.decode())
    assert "Restored “Strengthen (from day 15)”" in text
    assert "The phase change reached the 1 patient already on this protocol at once" in text
