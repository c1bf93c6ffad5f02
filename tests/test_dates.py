"""|day (clinic/dates.py): days named as Django's date filter names them, whatever was asked before."""

import datetime

import pytest
from django.template import Context, Template
from django.test.utils import override_settings
from django.utils import translation


def render(source, **context):
    return Template(source).render(Context(context))


def test_a_day_is_named_as_the_date_filter_names_it():
    thursday = datetime.date(2026, 11, 26)
    assert render('{{ d|day:"l j F" }} · {{ d|day:"D j M" }}', d=thursday) == "Thursday 26 November · Thu 26 Nov"
    assert render('{{ d|day:"l j F" }}', d=thursday + datetime.timedelta(days=1)) == "Friday 27 November"


def test_a_remembered_name_follows_the_language():
    thursday = datetime.date(2026, 11, 26)
    assert render('{{ d|day:"l" }}', d=thursday) == "Thursday"
    with translation.override("fr"):
        assert render('{{ d|day:"l" }}', d=thursday) == "jeudi"


@override_settings(TIME_ZONE="Europe/London")
def test_a_date_and_time_is_shown_in_the_clinics_time_zone_as_with_date():
    late = datetime.datetime(2026, 6, 30, 23, 30, tzinfo=datetime.UTC)  # already 1 July in London (BST)
    assert render('{{ t|day:"j F" }}', t=late) == render('{{ t|date:"j F" }}', t=late) == "1 July"


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (0, "until today"),
        (1, "until tomorrow"),
        (3, "until Saturday"),
        (7, "until Wednesday 2 December"),  # a week of eight days ends on the weekday it began: the date says which
        (-1, "ended Tuesday"),  # an earlier day's page, its week over
    ],
)
def test_a_weekly_tasks_week_says_when_it_ends_from_today(days, words):
    from clinic.dates import until

    today = datetime.date(2026, 11, 25)  # a Wednesday
    assert until(today + datetime.timedelta(days=days), today) == words
