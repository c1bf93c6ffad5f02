"""Group intake: reading and checking a CSV line by line, the preview, and enrolling all rows or none."""

import codecs
import datetime
import html
import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.frontdesk import intake
from accounts.models import User
from accounts.roles import Role
from recovery.clock import clinic_today
from recovery.models import PlanStep, Protocol, RecoveryPlan
from tests.factories import PatientFactory

HEADER = "first_name,last_name,email,phone,race_date\n"
TODAY = datetime.date(2026, 5, 10)


def race_day(days_ago=1):
    return (clinic_today() - datetime.timedelta(days=days_ago)).isoformat()


def csv_file(rows, *, header=HEADER, name="runners.csv"):
    return SimpleUploadedFile(name, (header + "".join(rows)).encode(), content_type="text/csv")


def runners(count, *, start=0):
    return [f"Runner,Number{n},runner{n}@example.com,07700 {n:06d},{race_day()}\n" for n in range(start, start + count)]


def upload(desk, file, **extra):
    return desk.post("/front-desk/import/", {"file": file, "protocol": Protocol.objects.default().pk, **extra})


def confirm(desk, capture, preview):
    with capture(execute=True):
        return desk.post("/front-desk/import/confirm/", {"intake": preview.context["intake_id"]})


def checked(text, *, taken=(), today=TODAY):
    return intake.check_rows(intake.read_rows(text.encode()), today=today, taken_emails=set(taken))


def problems_by_line(rows):
    return {row.line: row.problems for row in rows if row.problems}


# Reading and checking, without the database


def test_an_address_pasted_with_an_invisible_character_is_the_address_its_owner_types():
    """A zero-width space or word joiner after a paste: the account could never be logged into by typing."""
    rows = checked(
        HEADER + "Ben,Zw,ben.zw@example.com\u200b,,2026-05-01\nCat,Lee,\ufeffcat@example.com\u2060,,2026-05-01\n"
    )
    assert problems_by_line(rows) == {}
    assert [row.email for row in rows] == ["ben.zw@example.com", "cat@example.com"]


def test_a_good_file_has_no_problems():
    rows = checked(
        HEADER + "Ann,Smith,Ann@Example.com,07700 900123,2026-05-01\nBob,Jones,bob@example.com,,01/05/2026\n"
    )
    assert problems_by_line(rows) == {}
    assert [(row.line, row.email, row.race_date) for row in rows] == [
        (2, "ann@example.com", datetime.date(2026, 5, 1)),
        (3, "bob@example.com", datetime.date(2026, 5, 1)),
    ]


def test_every_problem_is_named_by_its_line():
    rows = checked(
        HEADER
        + "Ann,Smith,ann@example.com,,2026-05-01\n"  # 2: fine
        + "Bad,Mail,not-an-address,,2026-05-01\n"  # 3
        + "Ann,Again,ANN@example.com,,2026-05-01\n"  # 4: same address as line 2
        + "Old,Friend,taken@example.com,,2026-05-01\n"  # 5: already has an account
        + "Too,Early,early@example.com,,2026-06-01\n"  # 6: in the future
        + "Too,Late,late@example.com,,2025-05-09\n"  # 7: more than a year ago
        + ",,nameless@example.com,,2026-05-01\n"  # 8: no names
        + "No,Date,nodate@example.com,,\n"  # 9
        + "Bad,Date,baddate@example.com,,next tuesday\n"  # 10
        + "Bad,Phone,phone@example.com,call me,2026-05-01\n"  # 11
        + "Short,Line,short@example.com\n"  # 12
        + "Short,Phone,shortphone@example.com,123,2026-05-01\n"  # 13: refused at the desk too
        + "Bell\x07,Name,bell@example.com,,2026-05-01\n",  # 14: a control character
        taken={"taken@example.com"},
    )
    problems = problems_by_line(rows)
    assert set(problems) == {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}
    assert problems[14] == ["The first name holds a character that cannot be printed: retype it."]
    assert problems[3] == ["“not-an-address” is not an e-mail address."]
    assert problems[4] == ["The same e-mail address is on line 2."]
    assert problems[5] == ["Someone with this e-mail address already has an account."]
    assert problems[6] == ["The race date is in the future. A plan starts on race day: choose the day they ran."]
    assert problems[7] == ["The race date is more than a year ago. Check the year."]
    assert problems[8] == ["The first name is missing.", "The last name is missing."]
    assert problems[9] == ["The race date is missing."]
    assert "is not a date" in problems[10][0]
    assert "phone number" in problems[11][0]
    assert problems[12][0] == "This line has 3 values; the first line names 5 columns."
    assert "The race date is missing." in problems[12]
    assert problems[13] == ["This phone number is too short."]


def test_a_race_exactly_a_year_ago_is_accepted():
    assert problems_by_line(checked(HEADER + "A,B,a@example.com,,2025-05-10\n")) == {}


def test_line_numbers_follow_the_file_even_with_blank_lines_and_quoted_newlines():
    rows = checked(HEADER + '\n"Ann\nMarie",Smith,ann@example.com,,2026-05-01\nBob,Jones,bad,,2026-05-01\n')
    assert problems_by_line(rows) == {5: ["“bad” is not an e-mail address."]}
    assert rows[0].first_name == "Ann Marie"  # the cell's line break, a space in the name


def test_columns_may_come_in_any_order_with_extra_ones_and_spreadsheet_habits():
    text = "\ufeffEmail;Race Date;First Name;Last Name;Phone;Notes\nann@example.com;01/05/2026;Ann;Smith;;vip\n"
    rows = checked(text)
    assert problems_by_line(rows) == {}
    assert (rows[0].first_name, rows[0].race_date) == ("Ann", datetime.date(2026, 5, 1))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_file_saved_as_unicode_text_is_read(encoding):
    """Refused as "not a CSV file (it looks like a spreadsheet)": it is text, with a byte-order mark to say so."""
    data = (HEADER + "Zoë,Brontë,zoe@example.com,,2026-05-01\n").encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    [row] = intake.check_rows(intake.read_rows(data), today=TODAY, taken_emails=set())
    assert (row.first_name, row.last_name, row.problems) == ("Zoë", "Brontë", [])


def test_a_letter_the_windows_character_set_cannot_read_is_a_line_to_fix_not_a_name_printed_with_a_question_mark():
    data = HEADER.encode() + b"Zo\x81,Bront\x8d,zoe@example.com,,2026-05-01\n"  # bytes cp1252 has no letter for
    [row] = intake.check_rows(intake.read_rows(data), today=TODAY, taken_emails=set())
    assert row.problems[0].startswith("The first name has a letter that could not be read (“Zo�”)")
    assert "save the file as “CSV UTF-8”" in row.problems[0]


def test_a_file_from_old_excel_in_the_windows_character_set_is_read():
    data = (HEADER + "Zoë,Brontë,zoe@example.com,,2026-05-01\n").encode("cp1252")
    [row] = intake.read_rows(data)
    assert row.first_name == "Zoë"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This file is not a CSV file"),
        (b"PK\x03\x04\x14\x00\x06\x00", "This file is not a CSV file"),
        (b"", "This file is empty."),
        (b"   \n\n", "This file is empty."),
        (b"name,email\nAnn,ann@example.com\n", "The file is missing the columns first_name, last_name, phone"),
        (b"first_name,last_name,email,phone\nA,B,a@example.com,1\n", "The file is missing the column race_date."),
        (HEADER.encode(), "This file has no patients in it"),
        (b"x" * (intake.MAX_BYTES + 1), "This file is too big"),
        ((HEADER + "A,B,a@x.org,,2026-05-01\n" * (intake.MAX_ROWS + 1)).encode(), "more than 5,000 patients"),
        ((HEADER + 'A,"B,a@x.org,,2026-05-01\n').encode(), "could not be read as CSV"),
    ],
)
def test_a_file_that_cannot_be_read_gets_a_plain_message(data, message):
    with pytest.raises(intake.IntakeFileError, match=message):
        intake.read_rows(data)


# Through the pages


def test_a_file_of_one_patient_is_spoken_of_in_the_singular(desk):
    page = upload(desk, csv_file(runners(1))).text
    assert "The line is ready." in page and "Enrol the patient and send the invitation" in page
    assert "All 1 line" not in page


def test_reception_enrols_a_group_in_bulk_queries_with_an_invitation_task_per_hundred_patients(
    desk, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    preview = upload(desk, csv_file(runners(200)))
    assert preview.status_code == 200
    assert preview.context["problem_rows"] == []
    assert "All 200 lines are ready" in preview.content.decode()
    assert User.objects.filter(email__startswith="runner").count() == 0  # nothing before the confirmation

    # Expect 25 queries, none per patient: the session, the receptionist and their groups, the protocol, the
    # addresses already taken; in one transaction (its savepoints: 4 queries) the Patient group, the users and their
    # memberships (one INSERT each up to 500 and 1,000 rows), the protocol's steps, the plans (one INSERT up to 500)
    # and their steps (one per 1,000 rows: 3); the audit log's INSERT and the session's UPDATE (with a savepoint:
    # 3); then one invitation task per hundred patients, 2 here (each: read the users, record who was sent).
    with django_assert_max_num_queries(25):
        response = confirm(desk, django_capture_on_commit_callbacks, preview)

    assert response.status_code == 302 and response["Location"] == "/front-desk/"
    patients = User.objects.filter(email__startswith="runner")
    assert patients.count() == 200
    assert patients.filter(groups__name=Role.PATIENT).count() == 200
    assert all(not patient.has_usable_password() for patient in patients)
    assert RecoveryPlan.objects.open().filter(patient__in=patients).count() == 200
    steps = Protocol.objects.default().steps.count()
    assert PlanStep.objects.filter(plan__patient__in=patients).count() == 200 * steps
    assert len(mail.outbox) == 200
    assert patients.filter(invitation_sent_at__isnull=False).count() == 200
    runner7 = User.objects.get(email="runner7@example.com")
    assert (runner7.first_name, runner7.last_name, runner7.phone) == ("Runner", "Number7", "07700 000007")
    assert RecoveryPlan.objects.get(patient=runner7).race_date == clinic_today() - datetime.timedelta(days=1)
    assert "200 patients are enrolled" in desk.get("/front-desk/").content.decode()


def test_a_group_intake_plan_is_the_same_as_a_single_enrolment(desk, django_capture_on_commit_callbacks):
    """One code path for what a plan copies: the bulk plans carry the same steps as plan_enrol's."""
    from tests.factories import make_plan

    single = make_plan(PatientFactory(), days_since_race=1)
    confirm(desk, django_capture_on_commit_callbacks, upload(desk, csv_file(runners(1))))
    bulk = RecoveryPlan.objects.get(patient__email="runner0@example.com")
    fields = ["key", "tip_id", "label", "instruction", "position", "first_day", "last_day", "doses_per_day"]
    fields += ["times_per_week", "gate", "gate_pain_max", "valid_from", "valid_until"]
    assert list(bulk.steps.values(*fields)) == list(single.steps.values(*fields))
    assert (bulk.protocol, bulk.status, bulk.clinician) == (single.protocol, single.status, single.clinician)


def test_the_intake_can_name_a_clinician_for_everyone(desk, clinician, django_capture_on_commit_callbacks):
    preview = upload(desk, csv_file(runners(3)), clinician=clinician.pk)
    confirm(desk, django_capture_on_commit_callbacks, preview)
    assert RecoveryPlan.objects.filter(clinician=clinician).count() == 3


def test_one_bad_row_enrols_nobody(desk, django_capture_on_commit_callbacks):
    rows = runners(1000)
    rows[500] = f"Runner,Bad,not-an-email,,{race_day()}\n"
    preview = upload(desk, csv_file(rows))
    assert preview.status_code == 200
    page = html.unescape(preview.content.decode())
    assert "1 line needs fixing. Nobody has been enrolled." in page
    assert "Line 502 (not-an-email): “not-an-email” is not an e-mail address." in page
    assert "Enrol all" not in page

    # Even a forged confirmation enrols nobody: the stored rows are checked again.
    response = confirm(desk, django_capture_on_commit_callbacks, preview)
    assert response.status_code == 200
    assert User.objects.filter(email__startswith="runner").count() == 0
    assert RecoveryPlan.objects.count() == 0
    assert mail.outbox == []


def test_duplicates_and_existing_patients_are_shown_by_line(desk, patient):
    rows = runners(3) + ["Alice,Again,ALICE@example.com,,2026-01-01\n", "Dup,Runner,Runner1@example.com,,2026-01-01\n"]
    preview = upload(desk, csv_file(rows))
    problems = problems_by_line(preview.context["rows"])
    assert problems[5][0] == "Someone with this e-mail address already has an account."
    assert "The same e-mail address is on line 3." in problems[6]


def test_the_table_of_every_line_can_be_scrolled_by_keyboard(desk):
    """On a tablet it is wider than the screen: a region that takes the focus, named by its heading."""
    html = upload(desk, csv_file(runners(2))).text
    region = re.search(r'<div class="table-responsive"[^>]*>', html)[0]
    assert 'tabindex="0"' in region and 'role="region"' in region and 'aria-labelledby="every-line-heading"' in region
    assert 'id="every-line-heading">Every line<' in html


def test_the_lines_to_fix_keep_a_file_name_in_another_script(desk):
    """Sent raw in the header, "東京-to-fix.csv" came as "=?utf-8?b?…?=": RFC 6266's filename* keeps it."""
    upload(desk, csv_file([f"Runner,Bad,runner@example,,{race_day()}\n"], name="東京.csv"))
    to_fix = desk.get("/front-desk/import/to-fix.csv")
    assert "filename*=utf-8''%E6%9D%B1%E4%BA%AC-to-fix.csv" in to_fix["Content-Disposition"]
    assert "=?utf-8?" not in to_fix["Content-Disposition"]


def test_an_address_taken_between_preview_and_confirmation_enrols_nobody(desk, django_capture_on_commit_callbacks):
    preview = upload(desk, csv_file(runners(10)))
    assert preview.context["problem_rows"] == []
    PatientFactory(email="runner4@example.com")
    response = confirm(desk, django_capture_on_commit_callbacks, preview)
    assert response.status_code == 200
    assert problems_by_line(response.context["rows"]) == {
        6: ["Someone with this e-mail address already has an account."]
    }
    assert User.objects.filter(email__startswith="runner").count() == 1
    assert mail.outbox == []


def test_a_failure_half_way_rolls_everything_back(desk, django_capture_on_commit_callbacks, monkeypatch):
    from accounts.frontdesk import services

    def fail(**kwargs):
        raise RuntimeError("the database went away half way")

    preview = upload(desk, csv_file(runners(50)))
    monkeypatch.setattr(services, "plan_enrol_many", fail)
    desk.raise_request_exception = False
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post("/front-desk/import/confirm/", {"intake": preview.context["intake_id"]})
    assert response.status_code == 500
    assert User.objects.filter(email__startswith="runner").count() == 0
    assert not Group.objects.get(name=Role.PATIENT).user_set.filter(email__startswith="runner").exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "This file is not a CSV file"),
        (b"name,email\nAnn,ann@example.com\n", "The file is missing the columns"),
        (b"x" * (intake.MAX_BYTES + 10), "This file is too big"),
    ],
)
def test_a_bad_file_gets_a_plain_message_and_enrols_nobody(desk, content, message):
    response = upload(desk, SimpleUploadedFile("upload.csv", content))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["form"].errors["file"]
    assert User.objects.filter(groups__name=Role.PATIENT).count() == 0
    assert "frontdesk_intake" not in desk.session


def test_an_upload_without_a_file_is_refused_plainly(desk):
    response = desk.post("/front-desk/import/", {"protocol": Protocol.objects.default().pk})
    assert "Choose the CSV file to upload." in response.content.decode()


def test_confirming_without_a_waiting_upload_enrols_nobody(desk, django_capture_on_commit_callbacks):
    response = desk.post("/front-desk/import/confirm/", {"intake": "made-up"})
    assert response.status_code == 302 and response["Location"] == "/front-desk/import/"
    preview = upload(desk, csv_file(runners(2)))
    response = desk.post("/front-desk/import/confirm/", {"intake": "not-" + preview.context["intake_id"]})
    assert response.status_code == 302
    assert User.objects.filter(email__startswith="runner").count() == 0


def test_a_confirmation_works_once(desk, django_capture_on_commit_callbacks):
    preview = upload(desk, csv_file(runners(2)))
    confirm(desk, django_capture_on_commit_callbacks, preview)
    assert "2 patients are enrolled. Their invitations are on their way." in desk.get("/front-desk/").text
    again = confirm(desk, django_capture_on_commit_callbacks, preview)
    assert again.status_code == 302 and again["Location"] == "/front-desk/import/"
    assert User.objects.filter(email__startswith="runner").count() == 2


def test_patients_cannot_use_the_intake(client, patient):
    client.force_login(patient)
    assert client.post("/front-desk/import/", {"file": csv_file(runners(1))})["Location"] == "/"
    assert client.post("/front-desk/import/confirm/", {"intake": "x"})["Location"] == "/"
    assert User.objects.filter(email__startswith="runner").count() == 0


def test_one_patient_enrolled_from_a_file_is_said_in_the_singular(desk, django_capture_on_commit_callbacks):
    confirm(desk, django_capture_on_commit_callbacks, upload(desk, csv_file(runners(1))))
    assert "1 patient is enrolled. Their invitation is on their way." in desk.get("/front-desk/").text


# Enrolling the ready lines while the others are fixed


def test_the_ready_lines_are_enrolled_and_the_others_come_back_as_a_file_to_fix(
    desk, django_capture_on_commit_callbacks
):
    rows = runners(10)
    rows[3] = f"Runner,Bad,runner3@example,,{race_day()}\n"
    rows[7] = "Runner,Late,runner7@example.com,,2999-01-01\n"
    preview = upload(desk, csv_file(rows, name="club runners.csv"))
    page = html.unescape(preview.text)
    assert "2 lines need fixing. Nobody has been enrolled." in page
    assert "or enrol the 8 lines that are ready now and correct the others after." in page
    assert "Enrol the 8 ready now and send their invitations" in page
    assert "Download the lines to fix" not in page  # a new upload first would drop the 8: offered after them

    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post(
            "/front-desk/import/confirm/", {"intake": preview.context["intake_id"], "ready_only": "1"}, follow=True
        )

    assert response.redirect_chain[-1][0] == "/front-desk/import/"
    page = html.unescape(response.text)
    assert "8 patients are enrolled. Their invitations are on their way." in page
    assert "2 lines with problems are not enrolled yet. " in page
    assert '<a href="/front-desk/import/to-fix.csv">Download them</a>' in page
    assert set(User.objects.filter(email__startswith="runner").values_list("email", flat=True)) == {
        f"runner{n}@example.com" for n in (0, 1, 2, 4, 5, 6, 8, 9)
    }
    assert len(mail.outbox) == 8

    to_fix = desk.get("/front-desk/import/to-fix.csv")
    assert to_fix["Content-Disposition"] == 'attachment; filename="club-runners-to-fix.csv"'
    lines = to_fix.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "first_name,last_name,email,phone,race_date,problem"
    assert lines[1] == f"Runner,Bad,runner3@example,,{race_day()},“runner3@example” is not an e-mail address."
    assert lines[2].startswith("Runner,Late,runner7@example.com,,2999-01-01,The race date is in the future.")
    assert len(lines) == 3

    # Corrected in a spreadsheet (the problem column left in) and uploaded again: the two are enrolled.
    corrected = to_fix.content.decode("utf-8-sig").replace("runner3@example,", "runner3@example.com,")
    corrected = corrected.replace("2999-01-01", race_day())
    preview = upload(desk, csv_file([], header=corrected))
    assert preview.context["problem_rows"] == []
    confirm(desk, django_capture_on_commit_callbacks, preview)
    assert User.objects.filter(email__startswith="runner").count() == 10


def test_a_file_of_only_problems_offers_nothing_to_enrol(desk, django_capture_on_commit_callbacks):
    preview = upload(desk, csv_file(["Runner,Bad,runner@example,,2026-01-01\n"]))
    page = html.unescape(preview.text)
    assert "ready now" not in page
    assert '<a href="/front-desk/import/to-fix.csv">Download the line to fix</a>' in page

    with django_capture_on_commit_callbacks(execute=True):
        desk.post("/front-desk/import/confirm/", {"intake": preview.context["intake_id"], "ready_only": "1"})

    assert not User.objects.filter(email__startswith="runner").exists()


def test_lines_to_fix_without_a_waiting_upload_send_reception_to_upload_one(desk):
    response = desk.get("/front-desk/import/to-fix.csv", follow=True)

    assert response.redirect_chain[-1][0] == "/front-desk/import/"
    assert "No upload is waiting. Please upload the file again." in html.unescape(response.text)


def test_a_second_confirmation_of_an_enrolled_file_says_so_not_that_nobody_was_enrolled(
    desk, django_capture_on_commit_callbacks
):
    preview = upload(desk, csv_file(runners(5)))
    stale = dict(desk.session)  # a double click: the second request read the session before the first saved it
    confirm(desk, django_capture_on_commit_callbacks, preview)
    session = desk.session
    session.update(stale)
    session.save()

    response = desk.post("/front-desk/import/confirm/", {"intake": preview.context["intake_id"]}, follow=True)

    page = html.unescape(response.text)
    assert "This file is being enrolled, or just was: its patients are on the front desk." in page
    assert "Nobody has been enrolled" not in page
    assert User.objects.filter(email__startswith="runner").count() == 5


def test_a_confirmation_that_enrolled_nobody_can_be_sent_again(desk, django_capture_on_commit_callbacks):
    rows = runners(3)
    rows[1] = "Runner,Bad,runner@example,,2026-01-01\n"
    preview = upload(desk, csv_file(rows))
    assert confirm(desk, django_capture_on_commit_callbacks, preview).status_code == 200  # the preview again

    with django_capture_on_commit_callbacks(execute=True):
        desk.post("/front-desk/import/confirm/", {"intake": preview.context["intake_id"], "ready_only": "1"})

    assert User.objects.filter(email__startswith="runner").count() == 2


def test_a_likely_mistyped_address_in_a_file_is_pointed_out_and_can_still_be_enrolled(
    desk, django_capture_on_commit_callbacks
):
    rows = [*runners(2), f"Cat,Good,cat.good@gmial.com,,{race_day()}\n"]
    preview = upload(desk, csv_file(rows))

    page = html.unescape(preview.text)
    assert "1 e-mail address may be mistyped" in page
    assert "Line 4 (cat.good@gmial.com): Did you mean cat.good@gmail.com? If so, correct it in the file" in page
    assert "All 3 lines are ready." in page
    confirm(desk, django_capture_on_commit_callbacks, preview)
    assert User.objects.filter(email="cat.good@gmial.com").exists()  # the patient's address, as given


def focused_on_load(page):
    """The first words static/js/focus.js gives the keyboard's focus as the page opens, tags and spaces aside."""
    start = page.index("data-focus-on-load")
    block = page[page.index(">", start) + 1 : page.index("</div>", start)]
    return " ".join(re.sub(r"<[^>]+>", "", html.unescape(block)).split())


def test_the_outcome_of_a_check_and_of_an_enrolment_is_read_out_first(desk, django_capture_on_commit_callbacks):
    """The focus stayed at the page's top, and the "needs fixing" alert, there as the page opened, went unread."""
    ready = [*runners(3)]
    assert focused_on_load(upload(desk, csv_file(ready)).text).startswith("All 3 lines are ready.")
    mistyped = focused_on_load(upload(desk, csv_file([*ready, f"Cat,Good,cat@gmial.com,,{race_day()}\n"])).text)
    assert mistyped.startswith("1 e-mail address may be mistyped")
    preview = upload(desk, csv_file([*ready, f"Runner,Bad,runner9@example,,{race_day()}\n"]))
    assert focused_on_load(preview.text).startswith("1 line needs fixing. Nobody has been enrolled.")
    assert preview.text.count("data-focus-on-load") == 1

    with django_capture_on_commit_callbacks(execute=True):
        done = desk.post("/front-desk/import/confirm/", {"intake": preview.context["intake_id"], "ready_only": "1"})
    page = desk.get(done["Location"]).text
    alerts = re.findall(r'role="alert" tabindex="-1" data-focus-on-load>(.*?)</div>', page)
    assert [alert.split(".")[0] for alert in alerts] == [
        "3 patients are enrolled",
        "1 line with a problem is not enrolled yet",
    ]


def test_a_returning_patients_line_links_to_their_page_and_a_staff_address_to_nothing(desk, patient, clinician):
    rows = [*runners(1), "Alice,Again,ALICE@example.com,,2026-01-01\n", f"Staff,Member,{clinician.email},,2026-01-01\n"]
    page = upload(desk, csv_file(rows)).text

    assert f'<a href="/front-desk/patients/{patient.pk}/">Open their page</a> to start a new plan.' in page
    assert f"/front-desk/patients/{clinician.pk}/" not in page


# A group's welcome sheets, printed in one go


def enrol_group(desk, capture, count):
    preview = upload(desk, csv_file(runners(count)))
    with capture(execute=True):
        return desk.post("/front-desk/import/confirm/", {"intake": preview.context["intake_id"]}, follow=True)


def test_a_groups_welcome_sheets_print_in_one_go(desk, django_capture_on_commit_callbacks):
    response = enrol_group(desk, django_capture_on_commit_callbacks, 3)
    assert '<a href="/front-desk/import/sheets/">Print their welcome sheets</a>' in response.text

    page = desk.get("/front-desk/import/sheets/").text

    assert page.count('<article class="welcome-sheet"') == 3
    assert page.count('class="qr-code"') == 3  # each their own link to choose a password
    for n in range(3):
        assert f"Welcome, Runner Number{n}</h2>" in page
    assert "Your first week" in page or "Your week ahead" in page


def test_a_groups_sheets_page_has_one_h1_and_each_sheet_is_an_article_named_after_its_patient(
    desk, django_capture_on_commit_callbacks
):
    """Each sheet had its own <h1>, and its parts were landmarks of the same names: "Start your plan online" three
    times over in a screen reader's list, nothing to tell the patients apart."""
    enrol_group(desk, django_capture_on_commit_callbacks, 3)
    page = desk.get("/front-desk/import/sheets/").text
    assert page.count("<h1") == 1
    names = []
    for labelled_by in re.findall(r'<article class="welcome-sheet" aria-labelledby="([^"]+)">', page):
        names.append(re.search(rf'<h2 id="{labelled_by}"[^>]*>(.*?)</h2>', page)[1])
    assert names == [f"Welcome, Runner Number{n}" for n in range(3)]
    assert "<section" in page and not re.search(r"<section[^>]*aria-label", page)  # headings, not landmarks
    single = desk.get(f"/front-desk/patients/{User.objects.get(email='runner0@example.com').pk}/welcome/").text
    assert single.count("<h1") == 1
    assert re.search(r'<h1 id="sheet-heading-\d+"[^>]*>Welcome, Runner Number0</h1>', single)


def test_a_groups_sheets_cost_the_same_queries_for_3_or_12(
    desk, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    """The session, the user and their groups, the patients, their plans, the day's facts (3 queries at most: the
    steps and phases come from the cache when it has them), the audit log's entries (one INSERT): 10 at most."""
    enrol_group(desk, django_capture_on_commit_callbacks, 3)
    with django_assert_max_num_queries(10):
        desk.get("/front-desk/import/sheets/")
    preview = upload(desk, csv_file(runners(12, start=100)))
    with django_capture_on_commit_callbacks(execute=True):
        desk.post("/front-desk/import/confirm/", {"intake": preview.context["intake_id"]})
    with django_assert_max_num_queries(10):
        page = desk.get("/front-desk/import/sheets/").text
    assert page.count('<article class="welcome-sheet"') == 12


def test_sheets_go_fifty_to_a_page(desk, django_capture_on_commit_callbacks):
    enrol_group(desk, django_capture_on_commit_callbacks, 55)

    first = desk.get("/front-desk/import/sheets/")
    second = desk.get("/front-desk/import/sheets/", {"page": "2"})

    assert first.text.count('<article class="welcome-sheet"') == 50
    assert "1–50 of 55, by last name." in html.unescape(first.text)
    assert second.text.count('<article class="welcome-sheet"') == 5


def test_without_a_group_the_sheets_page_sends_reception_to_the_intake(desk):
    response = desk.get("/front-desk/import/sheets/", follow=True)
    assert response.redirect_chain[-1][0] == "/front-desk/import/"
    assert "No group file has been enrolled here yet" in html.unescape(response.text)
