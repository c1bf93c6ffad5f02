"""Backups restore: bin/backup-restore-check dumps the database with pg_dump, restores it into a fresh database
with pg_restore and finds every row of every table (docs/OPERATIONS.md)."""

import importlib.machinery
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from recovery.checkins import check_in_save
from recovery.clock import clinic_today
from recovery.services import completion_set
from tests.factories import ClinicianFactory, PatientFactory, ReceptionFactory, make_plan
from tests.live import database_url

SCRIPT = Path(settings.BASE_DIR) / "bin" / "backup-restore-check"


def load_script():
    loader = importlib.machinery.SourceFileLoader("backup_restore_check", str(SCRIPT))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump and pg_restore need PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_backup_restores_into_a_fresh_database_with_every_row(tmp_path):
    # A little of everything, committed: people of each role, plans, ticks, a check-in with its alerts.
    today = clinic_today()
    ReceptionFactory()
    clinician = ClinicianFactory()
    for days in (1, 5, 10):
        plan = make_plan(PatientFactory(), days_since_race=days, clinician=clinician)
        completion_set(plan=plan, step_key="rest", date=today, count=1, today=today)
    check_in_save(plan=plan, date=today, data={"pain": 8, "note": "Ça fait mal — «ouch»\n"}, today=today)

    dump = tmp_path / "apex.dump"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--keep-dump", str(dump), database_url(connection.settings_dict)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Restore check passed" in result.stdout
    assert dump.stat().st_size > 0
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines() if "backed up" in line}
    # Every table of the schema is listed, with the rows the database holds.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        assert len(lines) == cursor.fetchone()[0]
    for table in ["accounts_user", "recovery_recoveryplan", "recovery_completion", "recovery_checkin",
                  "recovery_alert", "recovery_tip", "auth_group"]:  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")
            rows = cursor.fetchone()[0]
        assert rows > 0 and lines[table][1] == lines[table][4] == str(rows), lines[table]


def test_the_check_reports_every_kind_of_difference():
    script = load_script()
    before = {"a": (3, "x"), "b": (1, "y"), "c": (2, "z")}
    assert script.compare(before, dict(before)) == []
    assert script.compare(before, {"a": (2, "x"), "b": (1, "other"), "d": (0, "")}) == [
        "a: 3 rows backed up, 2 restored",
        "b: the same number of rows, different contents",
        "c: missing from the restored database",
        "d: in the restored database only",
    ]


def test_the_check_wants_a_postgresql_url(capsys):
    with pytest.raises(SystemExit) as exit:
        load_script().main(["sqlite:///db.sqlite3"])
    assert exit.value.code == 2
    assert "PostgreSQL DATABASE_URL" in capsys.readouterr().err
