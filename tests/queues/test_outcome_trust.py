"""Who may record an outcome, and what the contact policy does to a contact that already happened
(issue 12, items 1 and 18): only the holder of the live claim records on a call-queue family, a cadre
on a family of her list; a contact made outside hours or past a cap is recorded, flagged and audited;
an outcome's prompt is sent once per family and month."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from telecollect.audit.models import AuditEvent
from telecollect.contacts.models import Channel, ContactAttempt
from telecollect.contacts.outcomes import OUTCOMES
from telecollect.contacts.services import OutcomeInput
from telecollect.errors import Conflict
from telecollect.messaging.models import SmsKind, SmsMessage
from telecollect.policy.optouts import opt_out
from telecollect.policy.rules import ContactRules
from telecollect.programs.models import InstallmentPlan
from telecollect.queues.models import QueueName, WorkItem, WorkState
from telecollect.reasons import describe
from telecollect.workflows import queue_work
from tests.conftest import csrf_token
from tests.helpers import SETTINGS, csv_bytes, row, run_import
from tests.helpers_queue import families, queue_up

#: 08:00–20:00, Monday to Saturday, 3 a day, 7 a week.
RULES = ContactRules(480, 1200, frozenset(range(6)), 3, 7)


def _csrf(client):
    return {"X-CSRFToken": csrf_token(client.get("/participants").text)}


def _sign_in_as(client, login, user):
    client.post("/logout", data={"csrf_token": _csrf(client)["X-CSRFToken"]})
    login(user)


def _outcome(client, item_id, **body):
    return client.post(f"/api/v1/work-items/{item_id}/outcome", json=body, headers=_csrf(client))


def _state(db, item_id):
    db.session.expire_all()
    work = db.session.get(WorkItem, item_id)
    attempts = db.session.scalar(select(func.count()).select_from(ContactAttempt))
    return (work.state, work.close_reason, work.claimed_by_id, work.attempts, work.next_action_at, attempts)


@pytest.fixture
def claimed(clock, db, client, login, make_user):
    """Ani holds family 1 (claimed through the API); Budi is another telecollector."""
    families(db, 2)
    queue_up(db, QueueName.telecollect)
    ani, budi = make_user("telecollector"), make_user("telecollector")
    login(ani)
    work = client.post("/api/v1/queue/claim", headers=_csrf(client)).json["work_item"]
    return ani, budi, work["id"]


def test_another_telecollector_cannot_close_a_family_someone_else_holds(claimed, db, client, login):
    _ani, budi, item_id = claimed
    before = _state(db, item_id)
    _sign_in_as(client, login, budi)
    refused = _outcome(client, item_id, outcome="deceased", channel="phone")
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "outcome_claimed_by_other"
    assert refused.json["error"]["message"] == describe("outcome_claimed_by_other", {})
    assert _state(db, item_id) == before


def test_an_unclaimed_family_is_refused_through_the_api_and_the_call_screen(claimed, db, client, login):
    _ani, budi, claimed_id = claimed
    free_id = db.session.scalar(select(WorkItem.id).where(WorkItem.id != claimed_id))
    before = _state(db, free_id)
    _sign_in_as(client, login, budi)
    refused = _outcome(client, free_id, outcome="already_paid", channel="phone")
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "outcome_not_claimed")
    screen = client.post(
        f"/queue/items/{free_id}/outcome",
        data={"csrf_token": _csrf(client)["X-CSRFToken"], "outcome": "already_paid", "channel": "phone"},
        follow_redirects=True,
    )
    assert describe("outcome_not_claimed", {}) in screen.text  # flashed in the reader's language
    assert _state(db, free_id) == before


def test_a_lapsed_lease_is_refused(claimed, db, client, clock):
    _ani, _budi, item_id = claimed
    clock.move_to(datetime(2026, 11, 24, 2, 16, tzinfo=UTC))  # the 15-minute lease ran out
    before = _state(db, item_id)
    refused = _outcome(client, item_id, outcome="no_answer", channel="phone")
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "outcome_lease_lapsed")
    assert _state(db, item_id) == before


def test_the_holder_records_and_the_claim_is_freed(claimed, db, client):
    _ani, _budi, item_id = claimed
    assert _outcome(client, item_id, outcome="no_answer", channel="phone").status_code == 201
    assert _state(db, item_id)[2:4] == (None, 1)


def test_a_rehab_plan_is_registered_only_by_the_holder(claimed, db, client, login, make_user):
    _ani, budi, item_id = claimed
    item = db.session.get(WorkItem, item_id)
    with pytest.raises(Conflict) as refused:
        queue_work.register_plan(
            db.session,
            item,
            installments=2,
            start_month=date(2026, 11, 1),
            on=date(2026, 11, 24),
            user=budi,
            settings=SETTINGS,
            now=datetime.now(UTC),
        )
    assert refused.value.code == "outcome_claimed_by_other"
    _sign_in_as(client, login, budi)
    screen = client.post(
        f"/queue/items/{item_id}/plan",
        data={"csrf_token": _csrf(client)["X-CSRFToken"], "installments": "2", "start_month": "2026-11"},
        follow_redirects=True,
    )
    assert describe("outcome_claimed_by_other", {}) in screen.text
    assert db.session.scalar(select(func.count()).select_from(InstallmentPlan)) == 0


# --- cadres ---------------------------------------------------------------------------------------


@pytest.fixture
def cadre_family(clock, db, make_user):
    families(db, 1)
    queue_up(db, QueueName.cadre, now=datetime(2026, 11, 23, 1, tzinfo=UTC))  # listed yesterday morning
    return db.session.scalar(select(WorkItem.id))


def test_a_cadre_outside_her_area_or_on_another_cadres_family_is_refused(cadre_family, db, client, login, make_user):
    # A place that exists, with nobody owing there.
    run_import(db, csv_bytes([row(card_no="0000000000099", kecamatan="Cilincing", arrears_amount="0")]))
    before = _state(db, cadre_family)
    login(make_user("cadre", areas=["Kec. Cilincing"]))
    assert _outcome(client, cadre_family, outcome="moved", channel="visit").status_code == 404
    other = make_user("cadre", areas=["Kec. Koja"])
    db.session.get(WorkItem, cadre_family).assigned_user_id = other.id
    db.session.commit()
    _sign_in_as(client, login, make_user("cadre", areas=["Kec. Koja"]))
    assert _outcome(client, cadre_family, outcome="moved", channel="visit").status_code == 404
    assert _state(db, cadre_family) == before


def test_a_cadre_entry_synced_later_is_dated_when_she_made_it(cadre_family, db, client, login, make_user):
    login(make_user("cadre", areas=["Kec. Koja"]))
    made = "2026-11-23T16:30:00+07:00"  # yesterday afternoon, offline
    recorded = _outcome(client, cadre_family, outcome="no_answer", channel="visit", recorded_at=made)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json["attempt"]["at"] == "2026-11-23T09:30:00+00:00"
    assert _state(db, cadre_family)[3] == 1 and _flags(db) == [None]
    before_listed = _outcome(
        client, cadre_family, outcome="no_answer", channel="visit", recorded_at="2026-11-22T09:30:00+07:00"
    )
    assert (before_listed.status_code, before_listed.json["error"]["code"]) == (409, "outcome_before_listed")
    # Issue 13: at most 72 hours old (tests/queues/test_cadre_outcomes.py has the rest).
    too_old = _outcome(client, cadre_family, outcome="no_answer", channel="visit", recorded_at="2026-09-01T09:30")
    assert (too_old.status_code, too_old.json["error"]["code"]) == (400, "occurred_at_too_old")


# --- the contact policy flags, never refuses, a contact that happened ------------------------------


def _flags(db):
    db.session.expire_all()
    return [a.outside_policy for a in db.session.scalars(select(ContactAttempt).order_by(ContactAttempt.id))]


def _audited(db):
    return db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "contact.outside_policy").order_by(AuditEvent.id)
    ).all()


def test_an_outcome_after_calling_hours_is_recorded_flagged_and_audited(clock, db, client, login, make_user):
    families(db, 1)
    queue_up(db, QueueName.telecollect)
    clock.move_to(datetime(2026, 11, 24, 12, 55, tzinfo=UTC))  # 19:55 WIB, five minutes before closing
    login(make_user("telecollector"))
    item_id = client.post("/api/v1/queue/claim", headers=_csrf(client)).json["work_item"]["id"]
    clock.move_to(datetime(2026, 11, 24, 13, 5, tzinfo=UTC))  # 20:05 WIB: the call ran past closing
    recorded = _outcome(client, item_id, outcome="refused", channel="phone")
    assert recorded.status_code == 201, recorded.text
    assert _flags(db) == ["hours"]
    assert _audited(db) == ["hours: di luar jam telepon WIB"]


def test_a_visit_past_the_daily_cap_is_recorded_and_flagged(cadre_family, db, client, login, make_user):
    login(make_user("cadre", areas=["Kec. Koja"]))
    for _ in range(4):
        assert _outcome(client, cadre_family, outcome="no_answer", channel="visit").status_code == 201
    assert _flags(db) == [None, None, None, "daily_cap"]
    assert len(_audited(db)) == 1


def test_a_number_that_opted_out_is_flagged_when_it_was_used(cadre_family, db, client, login, make_user):
    opt_out(db.session, "+6281200000001", Channel.whatsapp, "STOP")
    db.session.commit()
    login(make_user("cadre", areas=["Kec. Koja"]))
    used = _outcome(client, cadre_family, outcome="refused", channel="whatsapp", phone="0812-0000-0001")
    assert used.status_code == 201, used.text
    assert used.json["attempt"]["phone"] == "+6281200000001"
    assert _flags(db) == ["opt_out"]


def test_six_autodebit_interests_queue_one_sms(cadre_family, db, client, login, make_user):
    login(make_user("cadre", areas=["Kec. Koja"]))
    for _ in range(6):
        assert _outcome(client, cadre_family, outcome="interested_autodebit", channel="visit").status_code == 201
    db.session.expire_all()
    prompts = db.session.scalars(select(SmsMessage).where(SmsMessage.kind == SmsKind.autodebit_prompt)).all()
    assert [m.to_phone for m in prompts] == ["+6281200000001"]


# --- item 18: the number named in an outcome ------------------------------------------------------


def test_the_phone_named_must_be_one_of_the_familys(cadre_family, db, client, login, make_user):
    login(make_user("cadre", areas=["Kec. Koja"]))
    foreign = _outcome(client, cadre_family, outcome="no_answer", channel="whatsapp", phone="0813-9999-9999")
    assert (foreign.status_code, foreign.json["error"]["code"], foreign.json["error"]["field"]) == (
        400,
        "phone_not_family",
        "phone",
    )
    garbage = _outcome(client, cadre_family, outcome="no_answer", channel="whatsapp", phone="<script>")
    assert (garbage.status_code, garbage.json["error"]["field"]) == (400, "phone")
    assert _state(db, cadre_family)[3] == 0


def test_the_workflow_refuses_a_caller_without_the_claim(clock, db, make_user):
    """The rule lives in the workflow: the CLI, a job or a new route cannot skip it."""
    families(db, 1)
    queue_up(db, QueueName.telecollect)
    item = db.session.scalar(select(WorkItem))
    with pytest.raises(Conflict):
        queue_work.record_outcome(
            db.session,
            item,
            make_user("telecollector"),
            OutcomeInput(kind=OUTCOMES["deceased"], channel=Channel.phone),
            rules=RULES,
            retry_delays={},
            now=datetime.now(UTC) + timedelta(seconds=1),
            settings=SETTINGS,
        )
    assert item.state == WorkState.open


def test_a_promise_synced_days_later_is_dated_when_it_was_made(cadre_family, db, client, login, make_user, clock):
    """Made offline on Monday for Tuesday, sent on Wednesday: the promise is Monday's, not refused as past."""
    from telecollect.contacts.models import Promise

    clock.move_to(datetime(2026, 11, 25, 2, tzinfo=UTC))  # Wednesday 09:00 WIB
    login(make_user("cadre", areas=["Kec. Koja"]))
    sent = _outcome(
        client,
        cadre_family,
        outcome="promise_to_pay",
        channel="visit",
        promise_date="2026-11-24",
        promise_amount="100000",
        recorded_at="2026-11-23T10:00:00+07:00",
    )
    assert sent.status_code == 201, sent.text
    promise = db.session.scalar(select(Promise))
    assert (str(promise.made_on), str(promise.promised_on)) == ("2026-11-23", "2026-11-24")


def test_a_cadres_report_records_consent_in_the_ledger(cadre_family, db, client, login, make_user):
    """Issue 14 items 2 and 4: `whatsapp_opt_in: true` records the number's WhatsApp opt-in (a cadre's
    report); `do_not_contact` closes the work and stops every channel of every number of the family, and
    visits."""
    from telecollect.contacts.models import Consent, ConsentChannel
    from telecollect.policy.optouts import has_opted_in, is_family_opted_out, is_opted_out

    login(make_user("cadre", areas=["Kec. Koja"]))
    agreed = _outcome(
        client, cadre_family, outcome="visited_explained", channel="visit", phone="0812-0000-0001", whatsapp_opt_in=True
    )
    assert agreed.status_code == 201, agreed.text
    assert has_opted_in(db.session, "+6281200000001", ConsentChannel.whatsapp)
    source = db.session.scalar(select(Consent.source).where(Consent.phone == "+6281200000001"))
    assert source.value == "cadre"
    refused = _outcome(client, cadre_family, outcome="do_not_contact", channel="visit", client_ref="dnc-1")
    assert refused.status_code == 201, refused.text
    db.session.expire_all()
    for channel in (Channel.phone, Channel.sms, Channel.whatsapp, ConsentChannel.cadre_whatsapp):
        assert is_opted_out(db.session, "+6281200000001", channel)
    assert not has_opted_in(db.session, "+6281200000001", ConsentChannel.whatsapp)
    family_id = db.session.get(WorkItem, cadre_family).family_id
    assert is_family_opted_out(db.session, family_id)
    work = db.session.get(WorkItem, cadre_family)
    assert work.close_reason.value == "do_not_contact"
