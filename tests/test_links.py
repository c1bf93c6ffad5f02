"""{% link %} (clinic/links.py): the portal's links, reversed once and then remembered, must stay right links."""

import pytest
from django.template import Context, Template
from django.test.utils import override_script_prefix
from django.urls import NoReverseMatch, reverse

from clinic.links import link_to
from recovery.models import PlanStep
from tests.factories import make_plan


def render(source, **context):
    return Template(source).render(Context(context))


def test_a_link_is_the_address_url_gives():
    assert render("{% link 'recovery:today' %}") == reverse("recovery:today") == "/today/"
    assert render("{% link 'recovery:tip' slug %}", slug="ice") == reverse("recovery:tip", args=["ice"])
    assert render("{% link 'recovery:tick' 7 as tick %}[{{ tick }}]") == f"[{reverse('recovery:tick', args=[7])}]"


def test_each_step_gets_its_own_link_however_often_the_page_is_shown():
    links = [render("{% link 'recovery:tick' step %}", step=step) for step in (1, 2, 1, 2)]
    assert links == ["/today/steps/1/tick/", "/today/steps/2/tick/"] * 2


def test_python_code_gets_the_same_links():
    assert link_to("admin:recovery_alert_changelist") == reverse("admin:recovery_alert_changelist")
    assert link_to("recovery:tip", "ice") == reverse("recovery:tip", args=["ice"])
    with override_script_prefix("/portal/"):
        assert link_to("recovery:tip", "ice") == "/portal/tips/ice/"


def test_an_unknown_page_is_an_error_as_with_url():
    with pytest.raises(NoReverseMatch):
        render("{% link 'recovery:no-such-page' %}")


def test_links_follow_the_address_the_portal_is_served_under(patient_client, patient):
    # Behind a proxy that serves the portal under /portal/, every link must carry it, even after the same links
    # were made for the root.
    plan = make_plan(patient)
    step = PlanStep.objects.get(plan=plan, key="rest")  # on the checklist from day 0
    at_root = patient_client.get("/today/").content.decode()
    with override_script_prefix("/portal/"):  # as Django sets it from the proxy's SCRIPT_NAME
        under_portal = patient_client.get("/today/").content.decode()
    assert f'action="/today/steps/{step.pk}/tick/"' in at_root
    assert f'action="/portal/today/steps/{step.pk}/tick/"' in under_portal
    assert 'href="/portal/progress/"' in under_portal and 'href="/progress/"' not in under_portal
