"""Command options are checked before anything runs: a clear error and exit code 2, never a traceback
(issue 12, item 20)."""

import pytest
from sqlalchemy import select

from telecollect.programs.models import ReliefProgram

PROGRAM = ["programs", "add", "UJI", "--name", "Uji", "--from", "2026-12-01", "--max-installments", "12"]


def invoke(runner, args):
    result = runner.invoke(args=args)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_min_months_above_max_months_is_refused(runner, db):
    result = invoke(runner, [*PROGRAM, "--min-months", "24", "--max-months", "4"])
    assert result.exit_code == 2 and "--min-months" in result.output
    assert db.session.scalar(select(ReliefProgram).where(ReliefProgram.code == "UJI")) is None


def test_a_program_that_ends_before_it_starts_is_refused(runner, db):
    result = invoke(runner, [*PROGRAM, "--min-months", "4", "--to", "2026-11-30"])
    assert result.exit_code == 2 and "--to" in result.output


def test_a_sensible_program_is_added(runner, db):
    result = invoke(runner, [*PROGRAM, "--min-months", "4", "--max-months", "24", "--to", "2027-12-31"])
    assert result.exit_code == 0
    program = db.session.scalar(select(ReliefProgram).where(ReliefProgram.code == "UJI"))
    assert (program.min_months, program.max_months, program.effective_to.isoformat()) == (4, 24, "2027-12-31")


@pytest.mark.parametrize(
    "args",
    [
        [
            "programs",
            "add",
            "UJI",
            "--name",
            "U",
            "--from",
            "0001-01-01",
            "--min-months",
            "1",
            "--max-installments",
            "1",
        ],
        [
            "programs",
            "add",
            "UJI",
            "--name",
            "U",
            "--from",
            "9999-12-31",
            "--min-months",
            "1",
            "--max-installments",
            "1",
        ],
        [*PROGRAM, "--min-months", "4", "--max-installments", "99999999999999999999"],
        [*PROGRAM, "--min-months", "99999999999999999999"],
        [
            "programs",
            "add",
            "UJI",
            "--name",
            "U",
            "--kind",
            "relaxation",
            "--from",
            "2026-12-01",
            "--min-months",
            "1",
            "--pay-months",
            "6",
            "--settle-by",
            "10000-01-01",
        ],
        ["payments", "settle", "--on", "0001-01-01"],
        ["payments", "settle", "--on", "9999-12-31"],
        ["payments", "settle", "--on", "kemarin"],
        ["jobs", "run-once", "--now", "9999-12-31T23:59:59+00:00"],
        ["jobs", "run-once", "--now", "0001-01-01T00:00:00+00:00"],
        ["report", "outcomes", "--by", "user", "--from", "0001-01-01", "--to", "9999-12-31"],
    ],
)
def test_extreme_dates_and_numbers_are_usage_errors(runner, db, args):
    result = invoke(runner, args)
    assert result.exit_code == 2, result.output
