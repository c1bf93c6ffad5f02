"""The three journeys in a real browser, with axe-core on every page they pass:

reception enrols a patient → the patient opens the link from the e-mail, chooses a password and consents → ticks
tasks (the row changes, the page does not reload) → checks in with pain 8 → sees the stop screen → the clinician
sees the alert in the admin and acknowledges it with a note. The patient's part runs again on a phone.
"""

import datetime
import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.frontdesk.services import patient_enrol
from accounts.models import User
from recovery.care import plan_set_status
from recovery.clock import clinic_today
from recovery.models import Alert, Completion, Protocol, RecoveryPlan
from tests.browser.axe import assert_accessible
from tests.browser.conftest import DESKTOP, PHONE
from tests.factories import PASSWORD, CheckInFactory, ClinicianFactory, PatientFactory, ReceptionFactory, make_plan

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

LINK = re.compile(r"^(https?://\S+/welcome/[^/\s]+/[^/\s]+/)$", re.MULTILINE)
NEW_PASSWORD = "blue heron over the river"


def luminance(css_colour):
    channels = [int(part) / 255 for part in css_colour[css_colour.index("(") + 1 : -1].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(css_colour, background="rgb(255, 255, 255)"):
    """WCAG's contrast ratio of two "rgb(r, g, b)" colours (against white unless said)."""
    lighter, darker = sorted([luminance(css_colour), luminance(background)], reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def contrast_on_white(css_colour):
    return contrast(css_colour)


def log_in(page, site, email, password=PASSWORD, *, check=None):
    page.goto(f"{site}/accounts/login/")
    if check:
        assert_accessible(page, "the login page")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()


def log_out(page):
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()


def invitation_link(email):
    [message] = [message for message in mail.outbox if message.to == [email]]
    [link] = LINK.findall(message.body)
    return link


# -- Reception ----------------------------------------------------------------------------------------------------


def reception_enrols(page, site, clinician):
    desk = ReceptionFactory(email="desk@example.com")
    log_in(page, site, desk.email)
    expect(page).to_have_url(f"{site}/front-desk/")
    assert_accessible(page, "the front desk")

    page.get_by_role("link", name="Enrol a patient").click()
    expect(page.get_by_role("heading", name="Enrol a patient")).to_be_visible()
    assert_accessible(page, "the enrolment form")
    page.fill("#id_first_name", "Dana")
    page.fill("#id_last_name", "Miles")
    page.fill("#id_email", "dana@example.com")
    page.fill("#id_date_of_birth", "1988-03-14")
    page.fill("#id_phone", "07700 900123")
    page.fill("#id_race_date", (clinic_today() - datetime.timedelta(days=1)).isoformat())
    page.select_option("#id_clinician", label=clinician.get_full_name())
    with page.expect_navigation():
        page.get_by_role("button", name="Enrol and send the invitation").click()
    expect(page.get_by_text("Dana Miles is enrolled")).to_be_visible()
    assert_accessible(page, "a patient's manage page")

    page.get_by_role("link", name="Print the welcome sheet").click()
    expect(page.locator("svg.qr-code")).to_be_visible()
    expect(page.get_by_role("button", name="Print the sheet")).to_be_visible()  # shown by its script
    expect(page.get_by_text("Print this page with your browser's Print command")).to_be_hidden()  # said once
    assert_accessible(page, "the welcome sheet")

    page.goto(f"{site}/front-desk/import/")
    assert_accessible(page, "the CSV intake")
    race = (clinic_today() - datetime.timedelta(days=2)).isoformat()
    csv = f"first_name,last_name,email,phone,race_date\nEli,Stone,eli@example.com,,{race}\nFay,Moss,nobody,,{race}\n"
    page.set_input_files("#id_file", {"name": "patients.csv", "mimeType": "text/csv", "buffer": csv.encode()})
    with page.expect_navigation():
        page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("cell", name=re.compile("is not an e-mail address"))).to_be_visible()
    assert_accessible(page, "the CSV intake's preview")
    log_out(page)
    return User.objects.get(email="dana@example.com")


# -- The patient --------------------------------------------------------------------------------------------------


def tick(page, key):
    """Press the task's "done" button and wait for htmx to swap its row; return the row's new data-done."""
    row = page.locator(f'li[data-task="{key}"]')
    done = int(row.get_attribute("data-done"))
    row.locator("form button[type=submit]").first.click()
    expect(page.locator(f'li[data-task="{key}"]')).to_have_attribute("data-done", str(done + 1))
    return done + 1


def patient_journey(page, site, email, *, check_accessibility):
    axe = assert_accessible if check_accessibility else lambda page, what: None

    page.goto(invitation_link(email))
    # The link's token moves into the session; the page asks for a password and the consent.
    expect(page.get_by_role("heading", name=re.compile("Welcome to"))).to_be_visible()
    axe(page, "the invitation's set-password page")
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.check("#id_consent")
    with page.expect_navigation():
        page.get_by_role("button", name="Save my password and start").click()
    expect(page).to_have_url(f"{site}/today/")
    axe(page, "today's checklist")

    # Ticks swap their row in place: a marker set on this very page survives them (no reload, no navigation).
    page.evaluate("window.stillTheSamePage = true")
    assert tick(page, "ice") == 1
    assert tick(page, "ice") == 2
    assert tick(page, "rest") == 1
    expect(page.locator('li[data-task="rest"]')).to_have_attribute("data-complete", "true")
    assert page.evaluate("window.stillTheSamePage") is True
    patient = User.objects.get(email=email)
    done = dict(Completion.objects.filter(plan__patient=patient).values_list("step_key", "count"))
    assert done == {"ice": 2, "rest": 1}
    axe(page, "today's checklist after ticks")

    page.get_by_role("link", name="Check-in").first.click()
    expect(page.get_by_role("heading", name="How is your hip today?")).to_be_visible()
    axe(page, "the check-in")
    page.locator("label[for=id_pain_8]").click()
    expect(page.locator("#id_pain_8")).to_be_checked()
    with page.expect_navigation():
        page.get_by_role("button", name="Save today's check-in").click()
    stop = page.locator("[data-alert]")
    expect(stop).to_be_visible()
    expect(stop.get_by_role("heading", name="Stop, and call us today")).to_be_visible()
    axe(page, "the check-in's stop screen")
    assert Alert.objects.filter(plan__patient=patient, kind=Alert.Kind.HIGH_PAIN).count() == 1

    for name in ["Progress", "Tips", "Account"]:
        page.get_by_role("link", name=name, exact=True).first.click()
        page.wait_for_load_state()
        expect(page.locator("h1").first).to_be_visible()
        axe(page, f"the {name.lower()} page")
        if name == "Tips":
            page.locator("main a[href^='/tips/']").first.click()
            page.wait_for_load_state()
            expect(page.locator("h1").first).to_be_visible()
            axe(page, "a tip")
    log_out(page)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    return patient


# -- The clinician ------------------------------------------------------------------------------------------------


def clinician_acknowledges(page, site, clinician, patient):
    log_in(page, site, clinician.email)
    # The workspace opens on what waits: the patient's high-pain alert, one of the clinician's own patients.
    attention = page.locator(".apex-attention")
    expect(attention.get_by_role("row", name="All alerts not yet acknowledged")).to_contain_text("1")
    expect(attention.get_by_role("row", name="My patients with open alerts")).to_contain_text("1")
    assert_accessible(page, "the clinic workspace's home page")
    page.goto(f"{site}/admin/recovery/recoveryplan/")
    plan_row = page.locator("#result_list tbody tr", has_text=patient.get_full_name())
    expect(plan_row).to_have_count(1)
    assert_accessible(page, "the clinician's patients list")
    plan_row.get_by_role("link", name=patient.get_full_name()).click()
    expect(page.locator("svg.pain-chart")).to_be_visible()
    assert_accessible(page, "a patient's page in the admin")
    plan_page = page.url
    for link, what in [("Change a step", "the form that tailors a step"), ("Add a step", "the form that adds a step"),
                       ("Visit summary", "the visit summary")]:  # fmt: skip
        page.get_by_role("link", name=link).click()
        assert_accessible(page, what)
        page.goto(plan_page)
    page.goto(f"{site}/admin/recovery/tip/")
    page.locator("#result_list tbody tr a").first.click()
    assert_accessible(page, "a tip in the admin")
    page.goto(f"{site}/admin/recovery/protocol/{Protocol.objects.default().pk}/change/")
    expect(page.get_by_label("Gate").first).to_be_visible()  # each field of the phases' and steps' tables named
    assert_accessible(page, "the recovery protocol with its phases and steps")
    page.goto(f"{site}/admin/recovery/alert/")
    row = page.locator("#result_list tbody tr", has_text=patient.get_full_name())
    expect(row).to_have_count(1)
    expect(row).to_contain_text("open")
    assert_accessible(page, "the alerts queue")
    row.get_by_role("link", name="High pain").click()
    assert_accessible(page, "an alert")
    page.fill("#id_acknowledgement_note", "Phoned Dana: resting, seen in clinic tomorrow.")
    with page.expect_navigation():
        page.locator("input[name=_save]").click()
    expect(page.locator("#result_list tbody tr", has_text=patient.get_full_name())).not_to_contain_text("open")
    alert = Alert.objects.get(plan__patient=patient, kind=Alert.Kind.HIGH_PAIN)
    assert alert.acknowledged_by == clinician and alert.acknowledged_at is not None
    assert alert.acknowledgement_note == "Phoned Dana: resting, seen in clinic tomorrow."


# -- The journeys -------------------------------------------------------------------------------------------------


def test_reception_enrols_the_patient_follows_the_plan_and_the_clinician_acknowledges_the_alert(site, new_page):
    clinician = ClinicianFactory(email="physio@example.com", first_name="Sam", last_name="Reed")
    patient = reception_enrols(new_page(DESKTOP), site, clinician)
    patient_page = new_page(DESKTOP)
    patient = patient_journey(patient_page, site, patient.email, check_accessibility=True)
    assert_accessible(patient_page, "the login page")
    clinician_acknowledges(new_page(DESKTOP), site, clinician, patient)


def test_the_patients_journey_on_a_phone(site, new_page):
    patient = patient_enrol(
        first_name="Pat",
        last_name="Small",
        email="pat@example.com",
        race_date=clinic_today() - datetime.timedelta(days=1),
        protocol=Protocol.objects.default(),
    )
    page = new_page(PHONE, is_mobile=True, has_touch=True)
    patient_journey(page, site, patient.email, check_accessibility=True)
    # The pages fit the phone: nothing wider than the screen.
    page.goto(f"{site}/accounts/login/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def patient_on_a_phone(site, new_page, email, *, days_since_race=1):
    """A patient enrolled ``days_since_race`` after the race, signed in on a phone."""
    patient = patient_enrol(
        first_name="Lee",
        last_name="Quinn",
        email=email,
        race_date=clinic_today() - datetime.timedelta(days=days_since_race),
        protocol=Protocol.objects.default(),
    )
    patient.set_password(PASSWORD)
    patient.save()
    page = new_page(PHONE, is_mobile=True, has_touch=True)
    log_in(page, site, patient.email)
    return patient, page


MENU = [("link", "Today"), ("link", "Check-in"), ("link", "Progress"), ("link", "Tips"), ("link", "Account"),
        ("button", "Log out")]  # fmt: skip


def test_on_a_phone_the_menu_is_two_rows_under_the_name_and_the_day_starts_close_below(site, new_page):
    _patient, page = patient_on_a_phone(site, new_page, "max@example.com")
    brand = page.locator(".navbar-brand").bounding_box()
    links = [page.get_by_role("navigation", name="Main").get_by_role(role, name=name) for role, name in MENU]
    boxes = [link.bounding_box() for link in links]
    assert all(box["y"] >= brand["y"] + brand["height"] for box in boxes)  # under the name, not squeezed beside it
    assert len({round(box["y"]) for box in boxes}) == 2  # two rows of three
    assert all(box["height"] >= 44 for box in boxes)  # still a thumb's target
    heading = page.get_by_role("heading", name="Today", exact=True).bounding_box()
    assert heading["y"] < 200, heading  # the menu used to push the day down by three rows
    page.evaluate("document.documentElement.style.fontSize = '200%'")  # large text: the rows wrap, never off screen
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert all(link.is_visible() for link in links)


NARROW_PHONE = {"width": 320, "height": 740}


def sideways(page, path):
    """How far ``path`` scrolls sideways at twice the text size (a phone's largest text): 0 when it fits."""
    page.goto(path)
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_at_twice_the_text_size_a_narrow_phones_pages_never_scroll_sideways(site, new_page):
    """The calendar pushed Sunday off screen, the CSV button ran past the edge, and between 576 and 660 pixels the
    menu squeezed beside the name."""
    _patient, page = patient_on_a_phone(site, new_page, "ned@example.com", days_since_race=12)
    page.set_viewport_size(NARROW_PHONE)
    assert {path: sideways(page, f"{site}{path}") for path in ("/progress/", "/account/")} == {
        "/progress/": 0,
        "/account/": 0,
    }
    page.set_viewport_size({"width": 600, "height": 740})  # a small tablet, or a phone on its side
    assert sideways(page, f"{site}/today/") == 0
    brand = page.locator(".navbar-brand").bounding_box()
    menu = page.get_by_role("navigation", name="Main").get_by_role("link", name="Today").bounding_box()
    assert menu["y"] >= brand["y"] + brand["height"]  # the phone's menu, under the name: not squeezed beside it


def test_standalone_links_on_a_phone_are_a_thumbs_target(site, new_page):
    patient, page = patient_on_a_phone(site, new_page, "tom@example.com", days_since_race=3)
    for days_ago in (1, 2):  # pain scores for the chart, and its table
        CheckInFactory(plan=patient.plans.get(), date=clinic_today() - datetime.timedelta(days=days_ago), pain=3)
    heights = {}
    page.goto(f"{site}/tips/")
    page.locator("main a[href^='/tips/']").first.click()
    heights["All tips"] = page.get_by_role("link", name="All tips").bounding_box()["height"]
    page.goto(f"{site}/progress/")
    heights["the scores' table"] = page.get_by_text("Show the scores as a table").bounding_box()["height"]
    log_out(page)
    page.goto(f"{site}/accounts/login/")
    heights["Forgotten"] = page.get_by_role("link", name="Forgotten your password?").bounding_box()["height"]
    page.goto(f"{site}/no-such-page/")
    heights["the 404's way back"] = page.get_by_role("link", name="Back to the start").bounding_box()["height"]
    heights["the 404's phone"] = page.locator("footer a[href^='tel:']").bounding_box()["height"]
    log_in(page, site, patient.email)
    heights["Why this helps"] = page.locator("a.tap-link", has_text="Why this helps").first.bounding_box()["height"]
    assert all(height >= 44 for height in heights.values()), heights


def test_the_numbness_button_on_a_done_compression_row_can_be_read(site, new_page):
    _patient, page = patient_on_a_phone(site, new_page, "ivy@example.com")
    row = page.locator('li[data-task="compression"]')
    row.get_by_role("button", name="Done, all fine").click()
    expect(row).to_have_attribute("data-complete", "true")
    button = row.get_by_role("button", name="I feel tingling or numbness")
    colour = button.evaluate("button => getComputedStyle(button).color")
    tint = row.evaluate("row => getComputedStyle(row).backgroundColor")
    assert contrast(colour, tint) >= 4.5, (colour, tint)  # Bootstrap's red was 4.2:1 on the done row's green


def test_reporting_numbness_by_keyboard_puts_the_focus_on_the_advice(site, new_page):
    """The button pressed is gone after the swap: focus fell to the page's top, the advice unread there."""
    _patient, page = patient_on_a_phone(site, new_page, "una@example.com")
    row = page.locator('li[data-task="compression"]')
    row.get_by_role("button", name="I feel tingling or numbness").focus()
    page.keyboard.press("Enter")
    expect(page.locator("[data-compression-advice]")).to_be_focused()


def test_the_number_to_call_is_a_big_button_that_stays_on_screen_at_twice_the_text_size(site, new_page):
    _patient, page = patient_on_a_phone(site, new_page, "viv@example.com", days_since_race=5)
    page.goto(f"{site}/check-in/")
    page.locator("label[for=id_pain_8]").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Save today's check-in").click()
    call = page.locator("[data-call-first] a")
    assert call.bounding_box()["height"] >= 44
    page.evaluate("document.documentElement.style.fontSize = '200%'")  # a phone's largest text
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("link", name="Today", exact=True).first.click()
    assert page.locator("[data-warning] .stop-phone").bounding_box()["height"] >= 44


def test_the_chosen_pain_score_shows_in_a_contrast_theme_and_not_only_by_its_colour(site, new_page):
    """Windows contrast themes drop backgrounds, and the radio is hidden: the chosen score looked like the others."""
    _patient, page = patient_on_a_phone(site, new_page, "zoe@example.com")
    page.goto(f"{site}/check-in/")
    page.locator("label[for=id_pain_5]").click()
    chosen, other = page.locator("label[for=id_pain_5]"), page.locator("label[for=id_pain_4]")

    def style(label, name):
        return label.evaluate(f"label => getComputedStyle(label).{name}")

    assert style(chosen, "borderTopWidth") != style(other, "borderTopWidth")  # a thicker edge, whatever the colours
    page.emulate_media(forced_colors="active")
    assert style(chosen, "backgroundColor") != style(other, "backgroundColor")


def test_a_wrong_password_is_where_the_focus_starts(site, new_page):
    """It was a plain box: a screen reader heard only "E-mail address, edit" after a failed sign-in."""
    patient, page = patient_on_a_phone(site, new_page, "wyn@example.com")
    log_out(page)
    page.goto(f"{site}/accounts/login/")
    page.fill("#id_username", patient.email)
    page.fill("#id_password", "not the password at all")
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_focused()
    expect(page.get_by_role("alert")).to_contain_text("do not match our records")


def test_a_late_enrolments_welcome_sheet_prints_on_one_a4_page_in_11_point_type(site, new_page):
    """The week ahead from day 20 is the longest (the running steps wait for the sign-off, each with its words)."""
    desk = ReceptionFactory(email="desk@example.com")
    patient = patient_enrol(
        first_name="Maximiliana",
        last_name="Longname-Worthington",
        email="maxi@example.com",
        race_date=clinic_today() - datetime.timedelta(days=20),
        protocol=Protocol.objects.default(),
    )
    page = new_page(DESKTOP)
    log_in(page, site, desk.email)
    page.goto(f"{site}/front-desk/patients/{patient.pk}/welcome/")
    page.emulate_media(media="print")
    assert page.locator(".qr-code").count() == 1  # the invitation's code takes its room too
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 11 * 96 / 72  # 11pt in px
    pdf = page.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1


def test_a_tick_after_being_signed_out_brings_the_login_page_then_the_same_day(site, new_page):
    patient, page = patient_on_a_phone(site, new_page, "lee@example.com")
    page.goto(f"{site}/today/?back=1")
    page.context.clear_cookies()  # the session ends meanwhile (signed out in another tab, or expired)
    with page.expect_navigation(url=re.compile(r"/accounts/login/")):
        page.locator('li[data-task="ice"] form button[type=submit]').first.click()
    expect(page.locator("li.task")).to_have_count(0)  # the login page whole, not inside a task's row
    assert page.url.endswith("/accounts/login/?next=/today/%3Fback%3D1")  # the day's page, not the POST-only tick
    page.fill("#id_username", patient.email)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{site}/today/?back=1")  # back on the day the patient was ticking
    assert not Completion.objects.filter(plan__patient=patient).exists()  # the tap before signing in saved nothing


def test_a_warning_sign_in_the_check_in_puts_todays_exercises_on_hold(site, new_page):
    _patient, page = patient_on_a_phone(site, new_page, "kim@example.com", days_since_race=5)
    page.goto(f"{site}/check-in/")
    page.locator("label[for=id_pain_1]").click()
    edge = page.get_by_label("Pain at night").evaluate("box => getComputedStyle(box).borderTopColor")
    assert contrast_on_white(edge) >= 3, edge  # an empty warning-sign box can be seen
    page.get_by_label("Pain at night").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save today's check-in").click()
    expect(page.locator("[data-alert]")).to_be_visible()
    expect(page.locator("[data-alert]")).to_be_focused()  # a screen reader starts at the advice, not the menu
    page.get_by_role("link", name="Today", exact=True).first.click()
    expect(page.locator("[data-warning]")).to_contain_text("You reported a warning sign")
    expect(page.locator('li[data-task="stretch"]')).to_have_attribute("data-locked", "true")
    expect(page.locator('li[data-task="stretch"] form')).to_have_count(0)  # nothing to tick while on hold
    assert_accessible(page, "today's checklist after a warning sign")


def test_a_new_phase_and_the_clinicians_note_read_well_on_a_phone(site, new_page):
    patient, page = patient_on_a_phone(site, new_page, "ray@example.com", days_since_race=15)
    RecoveryPlan.objects.filter(patient=patient).update(note_to_patient="Squats to chair height only.\nSee you Monday.")
    page.goto(f"{site}/today/")
    expect(page.locator("[data-note-to-patient]")).to_contain_text("Squats to chair height only.")
    expect(page.locator("[data-new-phase]")).to_contain_text("Today you start the Strengthen phase.")
    expect(page.locator('li[data-task="strength"] [data-new-task]')).to_have_text("New")
    assert_accessible(page, "today's checklist on the first day of a phase, with a note")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("link", name="Progress", exact=True).first.click()
    expect(page.locator('[data-stage="current"]')).to_contain_text("Strengthen")
    assert_accessible(page, "the progress page's phases")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def swapped(page, key, done):
    """Wait until htmx has swapped the task's row in with ``done`` doses, and has finished with it."""
    expect(page.locator(f'li[data-task="{key}"]')).to_have_attribute("data-done", str(done))
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


def test_a_keyboard_user_stays_on_the_task_they_ticked(site, new_page):
    """htmx swaps the row the focused button was in: the focus comes back to the same button, while it is there."""
    _, page = patient_on_a_phone(site, new_page, "kim@example.com")
    page.goto(f"{site}/today/")
    ice = page.locator('li[data-task="ice"]')
    ice.get_by_role("button", name="Done one more (1 of 3)").focus()
    for done in (1, 2):
        page.keyboard.press("Enter")
        swapped(page, "ice", done)
        expect(page.locator("#task-ice-tick")).to_be_focused()
        # The day's count, swapped beside the row, sits in a live region that stays: screen readers hear it.
        expect(page.locator("[aria-live=polite] #day-summary")).to_have_count(1)
    # Undo at 2 of 3: the focus stays on "Undo one" (it fell to the page's top: only some rows' Undo had the id).
    page.locator("#task-ice-undo").focus()
    page.keyboard.press("Enter")
    swapped(page, "ice", 1)
    expect(page.locator("#task-ice-undo")).to_be_focused()


def test_pressing_enter_twice_on_a_tick_never_takes_it_back_nor_reports_numbness(site, new_page):
    """The second Enter went to the button that took the first one's place: "Undo one" after "Mark as done", "I
    feel tingling or numbness" (an alert for the clinic) after "Done, all fine". Now the focus goes to the count."""
    patient, page = patient_on_a_phone(site, new_page, "ada@example.com")
    for key, button in (("rest", "Mark as done"), ("compression", "Done, all fine")):
        page.locator(f'li[data-task="{key}"]').get_by_role("button", name=button).focus()
        page.keyboard.press("Enter")
        swapped(page, key, 1)
        page.keyboard.press("Enter")
        page.wait_for_timeout(300)  # time enough for a request the second Enter would have sent
        swapped(page, key, 1)
        expect(page.locator(f"#task-{key}-status")).to_be_focused()
    assert sorted(Completion.objects.filter(plan__patient=patient).values_list("step_key", "count")) == [
        ("compression", 1),
        ("rest", 1),
    ]
    assert not Alert.objects.exists()
    # Undo once the task is done: its Undo is gone too, and the focus stays in the row (it fell to the page's top).
    page.locator("#task-compression-undo").focus()
    page.keyboard.press("Enter")
    swapped(page, "compression", 0)
    expect(page.locator("#task-compression-status")).to_be_focused()


def test_a_tick_that_never_reaches_the_server_says_so_in_its_row(site, new_page):
    """No signal (or a proxy's 502): nothing happened on the page, and the patient believed the tick saved."""
    patient, page = patient_on_a_phone(site, new_page, "eve@example.com")
    rest = page.locator('li[data-task="rest"]')
    for failure in (lambda route: route.abort("internetdisconnected"), lambda route: route.fulfill(status=502)):
        page.route("**/tick/", failure)
        rest.get_by_role("button", name="Mark as done").focus()
        page.keyboard.press("Enter")
        expect(rest.get_by_role("alert")).to_have_text("Not saved. Check your connection and tap again.")
        expect(rest.get_by_role("alert")).to_be_focused()
        expect(rest.get_by_role("button", name="Mark as done")).to_be_visible()  # still there to tap again
        page.unroute("**/tick/")
    rest.get_by_role("button", name="Mark as done").click()  # the signal back: it works, and the words go
    swapped(page, "rest", 1)
    expect(rest.get_by_role("alert")).to_have_count(0)
    assert Completion.objects.get(plan__patient=patient).step_key == "rest"


def test_the_front_desk_fits_a_320_pixel_screen_and_its_badges_wrap_at_twice_the_text_size(site, new_page):
    """The intake's help text, a list of column names without a space, and "Invited, e-mail waiting to go" at twice
    the text size pushed the page sideways."""
    desk = ReceptionFactory(email="desk@example.com")
    patient = patient_enrol(
        first_name="Ola", last_name="Berg", email="ola@example.com", race_date=clinic_today(),
        protocol=Protocol.objects.default(),
    )  # fmt: skip
    User.objects.filter(pk=patient.pk).update(invitation_sent_at=None)  # the invitation's e-mail still to go
    page = new_page({"width": 320, "height": 700})
    log_in(page, site, desk.email)
    page.goto(f"{site}/front-desk/import/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.goto(f"{site}/front-desk/patients/{patient.pk}/")
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    badge = page.get_by_text("Invited, e-mail waiting to go").bounding_box()
    assert badge["x"] + badge["width"] <= 320


def test_on_a_tablet_the_front_desks_resend_button_stays_in_view(site, new_page):
    """Long addresses, names typed without a space and e-mail states wrap, so the row's button is not cut off at the
    table's edge."""
    desk = ReceptionFactory(email="desk@example.com")
    patient_enrol(
        first_name="Jo" + "hannaelisabeth" * 8,
        last_name="Tester",
        email="jo.tester.with.a.long.address@example.com",
        race_date=clinic_today() - datetime.timedelta(days=3),
        protocol=Protocol.objects.default(),
    )
    page = new_page({"width": 820, "height": 1180})
    log_in(page, site, desk.email)
    page.goto(f"{site}/front-desk/")
    button = page.get_by_role("button", name=re.compile(r"^(Resend|Try sending again)"))
    box = button.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 820 - 16, box  # inside the page's margin


def test_the_patients_list_fits_a_1280_pixel_screen_beside_the_menu_and_the_filters_and_a_tablet(site, new_page):
    clinician = ClinicianFactory(email="physio@example.com", first_name="Sam", last_name="Reed")
    long_address = PatientFactory(
        email="alexandra.montgomery-richardson@example-running-club.co.uk",
        first_name="Alexandra",
        last_name="Montgomery-Richardson",
    )
    long_plan = make_plan(long_address, days_since_race=12, enrolled_days_ago=12, clinician=clinician)
    Alert.objects.create(plan=long_plan, kind="high_pain", severity=2, date=clinic_today(), reason="Pain 7/10.")
    paused = PatientFactory(
        email="christopher.featherstonehaugh@example.org", first_name="Christopher", last_name="Featherstonehaugh"
    )
    plan_set_status(plan=make_plan(paused, days_since_race=4), status="paused", today=clinic_today())
    page = new_page(DESKTOP)
    log_in(page, site, clinician.email)
    for sorted_by in ("", "?o=3"):  # sorted by the share done, its header carries the sort's buttons too
        page.goto(f"{site}/admin/recovery/recoveryplan/{sorted_by}")
        table, box = page.evaluate(
            "[document.querySelector('#result_list').scrollWidth, document.querySelector('.results').clientWidth]"
        )
        widths = page.evaluate("[...document.querySelectorAll('#result_list thead th')].map(th => th.offsetWidth)")
        assert table <= box + 4, (sorted_by, table, box, widths)  # no sideways scroll to reach the last column
    expect(page.locator("#result_list")).to_contain_text("Paused")  # the status, under the day
    page.set_viewport_size({"width": 820, "height": 1180})  # a tablet: the table takes the width, filters below it
    for list_page in ("recoveryplan", "alert"):
        page.goto(f"{site}/admin/recovery/{list_page}/")
        table, box = page.evaluate(
            "[document.querySelector('#result_list').scrollWidth, document.querySelector('.results').clientWidth]"
        )
        assert table <= box + 4 and box > 700, (list_page, table, box)


def enrolment_typed(site, new_page, viewport):
    """Reception at the enrolment form with Dana's details typed, not yet sent."""
    desk = ReceptionFactory(email="desk@example.com")
    page = new_page(viewport)
    log_in(page, site, desk.email)
    page.goto(f"{site}/front-desk/enroll/")
    page.fill("#id_first_name", "Dana")
    page.fill("#id_last_name", "Scully")
    page.fill("#id_email", "dana@example.com")
    page.fill("#id_race_date", (clinic_today() - datetime.timedelta(days=1)).isoformat())
    return page


def test_a_double_click_on_enrol_enrols_once_and_says_so(site, new_page):
    page = enrolment_typed(site, new_page, DESKTOP)
    # Two presses before the first answer: the browser would show the second one's.
    page.get_by_role("button", name="Enrol and send the invitation").evaluate(
        "button => { button.form.requestSubmit(button); setTimeout(() => button.form.requestSubmit(button), 30); }"
    )

    expect(page.get_by_role("heading", level=1)).to_have_text("Dana Scully")
    expect(page.locator("body")).to_contain_text("Dana Scully is enrolled")
    expect(page.locator("body")).not_to_contain_text("already has an account")
    assert User.objects.filter(email="dana@example.com").count() == 1


def test_enter_in_the_plan_form_saves_and_never_clears_to_run(site, new_page):
    clinician = ClinicianFactory(email="physio@example.com")
    plan = make_plan(days_since_race=10)
    page = new_page(DESKTOP)
    log_in(page, site, clinician.email)
    page.goto(f"{site}/admin/recovery/recoveryplan/{plan.pk}/change/")
    page.fill("#id_note_to_patient", "Keep the stretches gentle.")
    with page.expect_navigation():
        page.press("#id_race_date", "Enter")

    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    plan.refresh_from_db()
    assert plan.note_to_patient == "Keep the stretches gentle." and plan.cleared_to_run_on is None


def test_a_clinician_typing_a_long_note_tells_the_server_they_are_still_there(site, new_page):
    """Typing sends nothing: after 30 minutes of it the staff session ended and the note was lost on Save."""
    clinician = ClinicianFactory(email="physio@example.com")
    plan = make_plan(days_since_race=10)
    page = new_page(DESKTOP)
    page.clock.install()
    log_in(page, site, clinician.email)
    page.goto(f"{site}/admin/recovery/recoveryplan/{plan.pk}/change/")
    page.type("#id_note_to_patient", "Keep the")
    page.clock.fast_forward("05:00")
    with page.expect_request(lambda request: request.url.endswith("/accounts/still-here/")) as ping:
        page.type("#id_note_to_patient", " stretches gentle.")
    assert ping.value.method == "POST"
    assert ping.value.response().status == 204  # CSRF and CSP let it through
    expect(page.locator("[data-signed-out]")).to_have_count(0)

    page.context.clear_cookies(name="sessionid")  # thirty minutes away from the keyboard, or signed out elsewhere
    page.clock.fast_forward("05:00")
    page.type("#id_note_to_patient", " See you")
    expect(page.locator("[data-signed-out]")).to_contain_text("Copy what you typed")  # told before pressing Save


def test_reception_starts_a_returning_runners_new_plan_and_enrols_a_files_ready_lines(site, new_page):
    """The front desk's newer pages, with axe on each: a returning runner's new plan and welcome sheet, a group
    file with a mistyped address and a bad line, its ready lines enrolled, and the lines to fix offered."""
    desk = ReceptionFactory(email="desk@example.com")
    runner = PatientFactory(email="jo@example.com", first_name="Jo", last_name="Strider")
    spring = make_plan(runner, days_since_race=200)
    plan_set_status(plan=spring, status=RecoveryPlan.Status.COMPLETED, today=clinic_today())
    page = new_page(DESKTOP)
    log_in(page, site, desk.email)
    page.fill("#id_q", "Strider")
    with page.expect_navigation():
        page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("cell", name="None open")).to_be_visible()
    page.get_by_role("link", name="Jo Strider").first.click()  # the search result (the recent list has her too)
    page.get_by_role("link", name="Start a new plan").click()
    expect(page.locator("#id_race_date")).to_be_focused()
    assert_accessible(page, "the new plan form")
    page.fill("#id_race_date", (clinic_today() - datetime.timedelta(days=1)).isoformat())
    with page.expect_navigation():
        page.get_by_role("button", name="Start the new plan").click()
    expect(page.get_by_role("link", name="Print the welcome sheet")).to_be_focused()
    page.get_by_role("link", name="Print the welcome sheet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome back, Jo Strider")

    race = (clinic_today() - datetime.timedelta(days=2)).isoformat()
    csv = (
        "first_name,last_name,email,phone,race_date\n"
        f"Eli,Stone,eli@gmial.com,,{race}\nFay,Moss,nobody,,{race}\nGus,Hill,gus@example.com,,{race}\n"
    )
    page.goto(f"{site}/front-desk/import/")
    page.set_input_files("#id_file", {"name": "club.csv", "mimeType": "text/csv", "buffer": csv.encode()})
    with page.expect_navigation():
        page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_text("Did you mean eli@gmail.com?").first).to_be_visible()
    assert_accessible(page, "a group file's preview with a mistyped address and a line to fix")
    with page.expect_navigation():
        page.get_by_role("button", name="Enrol the 2 ready now and send their invitations").click()
    expect(page.get_by_role("link", name="Download it")).to_be_visible()
    assert_accessible(page, "the upload page with the line to fix")
    page.get_by_role("link", name="Print their welcome sheets").click()
    expect(page.locator("article.welcome-sheet")).to_have_count(2)
    expect(page.get_by_role("button", name="Print the sheets")).to_be_focused()
    assert_accessible(page, "a group's welcome sheets")
    assert set(User.objects.filter(email__in=["eli@gmial.com", "gus@example.com"]).values_list("email", flat=True)) == {
        "eli@gmial.com",
        "gus@example.com",
    }


def test_on_a_tablet_after_enrolling_the_message_and_the_print_button_are_both_in_view(site, new_page):
    page = enrolment_typed(site, new_page, {"width": 820, "height": 1180})
    with page.expect_navigation():
        page.get_by_role("button", name="Enrol and send the invitation").click()

    expect(page.get_by_role("link", name="Print the welcome sheet")).to_be_focused()
    expect(page.get_by_role("link", name="Print the welcome sheet")).to_be_in_viewport()
    expect(page.get_by_text("Dana Scully is enrolled")).to_be_in_viewport()


def test_on_a_phone_the_welcome_page_says_whose_invitation_it_is_on_the_first_screen(site, new_page):
    """An invitation sent to a mistyped address: the stranger who opens it must read, before the password field
    and without scrolling, that it is for someone else and whom to call."""
    patient_enrol(
        first_name="Mary",
        last_name="Smith",
        email="mary.smiht@example.com",
        race_date=clinic_today() - datetime.timedelta(days=1),
        protocol=Protocol.objects.default(),
    )
    page = new_page(PHONE, is_mobile=True, has_touch=True)
    page.goto(invitation_link("mary.smiht@example.com"))
    warning = page.locator("[data-invited-person]")
    expect(warning).to_contain_text("This invitation is for Mary S.")
    expect(warning).to_contain_text("If that is not you, do not continue: call us on")
    expect(warning).to_be_in_viewport(ratio=1)
    assert warning.bounding_box()["y"] < page.locator("#id_new_password1").bounding_box()["y"]
    expect(page.get_by_text("under Account, in My reminders")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page, "the invitation's set-password page on a phone")
