"""The benchmark's clinic (manage.py bench_clinic): it never touches a database not meant for it, and what it
fills follows the plan's own rules. How fast the portal serves it is the benchmark's business, never a test's.
"""

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from recovery import rules, summaries
from recovery.clock import clinic_today
from recovery.facts import facts_for_plan
from recovery.models import Alert, CheckIn, Completion, RecoveryPlan

BENCH = "@bench.apex.test"


def test_it_refuses_a_database_not_named_for_the_benchmark(db):
    # SQLite: no COPY. PostgreSQL: the test database's name does not start with apex_bench.
    with pytest.raises(CommandError, match="needs PostgreSQL|Refusing to fill"):
        call_command("bench_clinic", patients=2, days=5)
    assert not RecoveryPlan.objects.filter(patient__email__endswith=BENCH).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # VACUUM runs outside a transaction
def test_it_fills_a_small_clinic_whose_ticks_follow_the_rules_and_logs_patients_in(tmp_path, client):
    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="needs PostgreSQL"):
            call_command("bench_clinic", patients=3, days=30)
        return
    name = connection.settings_dict["NAME"]
    sessions = tmp_path / "sessions.tsv"
    call_command("bench_clinic", patients=3, days=30, database_name=name, stdout=open(tmp_path / "out", "w"))
    call_command(
        "bench_clinic", patients=3, days=30, database_name=name, sessions=2, sessions_file=str(sessions),
        stdout=open(tmp_path / "out2", "w"),
    )  # fmt: skip
    assert "already holds 3 patients" in (tmp_path / "out2").read_text()  # kept, not filled twice

    today = clinic_today()
    plans = list(RecoveryPlan.objects.filter(patient__email__endswith=BENCH))
    assert len(plans) == 3
    assert CheckIn.objects.filter(plan__in=plans).exists() and Completion.objects.filter(plan__in=plans).exists()
    assert not Completion.objects.filter(plan__in=plans, date__gte=today).exists()  # today is still to do
    for plan in plans:
        assert plan.race_date == today - datetime.timedelta(days=30)
        facts = facts_for_plan(plan, plan.race_date, today)
        for (key, date), count in facts.done.items():
            task = next(task for task in rules.tasks_on(facts, date, today) if task.key == key)
            assert task.lock is None and 1 <= count <= task.target, (key, date)
    assert not Alert.objects.filter(plan__in=plans, date__lt=today - datetime.timedelta(days=3)).open().exists()
    # Last week's share stored, as the clinic's clock stores it each night, for the patients list to read.
    assert "Stored last week's share of 3 plans" in (tmp_path / "out").read_text()
    for plan in plans:
        facts = facts_for_plan(plan, plan.race_date, today)
        assert plan.last_week_ends_on == today - datetime.timedelta(days=1)
        assert plan.last_week_percent == summaries.last_week_percent(facts, today) is not None

    lines = [line.split("\t") for line in sessions.read_text().splitlines()]
    patients = [line for line in lines if line[0] == "patient"]
    assert len(patients) == 2 and len(lines) == 2 + 10  # and the ten clinicians
    role, key, csrf, step_id, date = patients[0]
    client.cookies["sessionid"] = key
    assert client.get("/today/").status_code == 200
    client.cookies["csrftoken"] = csrf
    response = client.post(
        f"/today/steps/{step_id}/tick/", {"date": date, "count": 1}, HTTP_X_CSRFTOKEN=csrf, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "text-danger" not in response.content.decode()
