"""The `db` fixture: a test's commits, its requests' and its CLI commands' stay in one transaction that is
rolled back; a `committing` test's commits are real."""

import pytest
from sqlalchemy import func, select, text

from telecollect.auth.models import User


def users_seen_by_another_connection(db) -> int:
    with db.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(User))


def test_commits_stay_in_the_test_and_its_requests_see_them(db, client, login, make_user):
    user = make_user("supervisor")  # commits
    assert login(user).status_code == 302  # the request's own session reads the committed user
    db.session.expire_all()
    assert db.session.scalar(select(User.last_login_at).where(User.id == user.id)) is not None  # the request's commit
    assert users_seen_by_another_connection(db) == 0  # nothing reached the database


def test_a_cli_command_joins_the_test_transaction(db, runner, make_user):
    make_user("supervisor", username="kabid")
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0 and "kabid" in result.output, result.output
    assert users_seen_by_another_connection(db) == 0


def test_a_failed_statement_rolls_back_to_the_savepoint_only(db, make_user):
    make_user("supervisor")
    with pytest.raises(Exception):  # noqa: B017 (the driver's error differs per engine)
        db.session.execute(text("SELECT * FROM no_such_table"))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.committing
def test_a_committing_test_commits_for_real(db, make_user):
    make_user("supervisor")
    assert users_seen_by_another_connection(db) == 1
