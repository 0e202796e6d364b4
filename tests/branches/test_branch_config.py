"""Values a branch sets for itself that the kernel's Settings does not hold (its daily call target, its letter
signatory, its retry delays) reach the pages and outcomes of its staff, not the installation's:
`runtime.acting_config()`, `runtime.retry_delays()`."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from telecollect.branches.services import set_branch_setting
from telecollect.queues.models import WorkItem
from tests.branches.test_acting_settings import _claim, _record, makassar  # noqa: F401 (a fixture)

#: Tuesday 1 December 2026, 10:00 WITA: inside any calling hours.
WORKDAY = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def test_a_branchs_own_daily_call_target_is_on_its_telecollectors_counter(clock, db, client, login, makassar):  # noqa: F811
    set_branch_setting(makassar["branch"], "DAILY_CALL_TARGET", "37")
    db.session.commit()
    clock.move_to(WORKDAY)
    login(makassar["tc"])
    page = client.get("/queue").text
    assert 'max="37"' in page  # the installation's is 100


def test_a_branchs_own_signatory_signs_its_cadres_letters(db, client, login, make_user, makassar):  # noqa: F811
    set_branch_setting(makassar["branch"], "LETTER_SIGNATORY_NAME", "Andi Makkasau")
    db.session.commit()
    login(make_user("cadre", branch_id=makassar["branch"].id, timezone="WITA"))
    assert "Andi Makkasau" in client.get("/cadre/letter").text


def test_a_branchs_own_retry_delay_schedules_its_unanswered_call(clock, db, client, login, makassar):  # noqa: F811
    set_branch_setting(makassar["branch"], "RETRY_DELAYS", "no_answer=1h")
    db.session.commit()
    clock.move_to(WORKDAY)
    login(makassar["tc"])
    item_id = _claim(client)
    _record(client, "api", item_id, outcome="no_answer")
    db.session.expire_all()
    item = db.session.scalar(select(WorkItem).where(WorkItem.id == item_id))
    assert item.next_action_at - WORKDAY <= timedelta(hours=1, minutes=1)


def test_a_branchs_retry_delays_are_checked_when_set_not_when_a_call_needs_them():
    import pytest

    from telecollect.errors import ServiceError
    from telecollect.runtime import check_branch_setting

    check_branch_setting("RETRY_DELAYS", "no_answer=1h,busy=30m")
    with pytest.raises(ServiceError) as refused:
        check_branch_setting("RETRY_DELAYS", "no_answer=soon")
    assert refused.value.code == "branch_setting_invalid"
