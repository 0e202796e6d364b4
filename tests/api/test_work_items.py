"""The API's work items and participants: full numbers are shown only where needed, and every showing is audited."""

import pytest
from sqlalchemy import select

from telecollect.audit.models import AuditEvent
from telecollect.participants.models import Participant
from telecollect.queues.models import QueueName
from tests.conftest import csrf_token
from tests.helpers import csv_bytes, row, run_import
from tests.helpers_queue import queue_up


def views(db):
    db.session.expire_all()
    return [
        (e.action, e.target_type, e.target_id, e.detail)
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "work_item.view").order_by(AuditEvent.id)
        )
    ]


def test_claiming_and_reading_a_work_item_show_the_numbers_on_record(clock, db, client, login, make_user):
    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", family_id="F1", phone="081200000001"),
                row(card_no="0000000000002", family_id="F1", phone="081200000002"),
                row(card_no="0000000000003", family_id="F1", phone=""),
            ]
        ),
    )
    queue_up(db, QueueName.telecollect)
    login(make_user("telecollector"))
    headers = {"X-CSRFToken": csrf_token(client.get("/participants").text)}

    work = client.post("/api/v1/queue/claim", headers=headers).json["work_item"]
    assert [m["phone"] for m in work["family"]] == ["+6281200000001", "+6281200000002", None]
    assert views(db) == [("work_item.view", "work_items", work["id"], "api claim: 0000000000001, 0000000000002")]

    shown = client.get(f"/api/v1/work-items/{work['id']}").json["work_item"]
    assert shown["family"][0]["phone"] == "+6281200000001"
    assert views(db)[1:] == [("work_item.view", "work_items", work["id"], "api read: 0000000000001, 0000000000002")]


def test_a_number_found_invalid_is_never_shown_in_full(clock, db, client, login, make_user):
    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", family_id="F1", phone="081200000001"),
                row(card_no="0000000000002", family_id="F1", phone="081200000002"),
            ]
        ),
    )
    first = db.session.scalar(select(Participant).where(Participant.card_no == "0000000000001"))
    first.is_phone_invalid = True  # as a wrong_number outcome leaves it
    db.session.commit()
    login(make_user("supervisor"))
    shown = client.get("/api/v1/participants/0000000000001").json
    assert shown["participant"]["phone"] is None
    assert [m["phone"] for m in shown["family"]["members"]] == [None, "+6281200000002"]


def _families_of_three(db):
    run_import(
        db,
        csv_bytes(
            [
                row(card_no=f"{family}{member:012d}", family_id=f"F{family}", phone=f"08120000{family}{member:03d}")
                for family in (1, 2)
                for member in (1, 2, 3)
            ]
        ),
    )
    queue_up(db, QueueName.telecollect)


#: SQL statements of one claim and one outcome through the API, the same on SQLite and PostgreSQL (the
#: outcome's lock is BEGIN IMMEDIATE on one, an advisory lock on the other): the hot path of every
#: telecollector's day. A change that adds a query per family member, or loads the user twice, shows here.
#: (Both read the contact rules, and the outcome the branch's holidays, once per request: no process keeps
#: a stale copy of what a supervisor edits. The outcome reads the family's attempts of the week once more,
#: to flag a contact made past a cap: recorded all the same, but on record. Both answers read the family's
#: opt-outs once, to flag the numbers that must not be called or messaged. Both ask once whether the agent
#: owes a connected call's outcome, the forced disposition of issue 15, answered by a partial index.)
CLAIM_STATEMENTS, OUTCOME_STATEMENTS = 11, 17


@pytest.mark.committing  # counts what a server runs: a rolled-back test's SQLite connection needs no BEGIN IMMEDIATE
def test_one_claim_and_one_outcome_keep_their_query_budget(clock, db, client, login, make_user, count_queries):
    _families_of_three(db)
    login(make_user("telecollector"))
    headers = {"X-CSRFToken": csrf_token(client.get("/participants").text)}

    with count_queries() as claim_statements:
        claimed = client.post("/api/v1/queue/claim", headers=headers)
    assert claimed.status_code == 200 and len(claimed.json["work_item"]["family"]) == 3
    with count_queries() as outcome_statements:
        recorded = client.post(
            f"/api/v1/work-items/{claimed.json['work_item']['id']}/outcome",
            headers=headers,
            json={"outcome": "no_answer", "client_ref": "budget-1"},
        )
    assert recorded.status_code == 201
    assert len(claim_statements) == CLAIM_STATEMENTS, "\n".join(claim_statements)
    assert len(outcome_statements) == OUTCOME_STATEMENTS, "\n".join(outcome_statements)
