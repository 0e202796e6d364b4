"""Handing out work on the queue page: a count before assigning, a confirmation before unassigning
many, and an undo of the latest handout (issue 13, D21)."""

from sqlalchemy import func, select

from telecollect.audit.models import AuditEvent
from telecollect.queues.handouts import Handout
from telecollect.queues.models import QueueName, WorkItem
from tests.conftest import csrf_token
from tests.helpers_queue import families, queue_up


def _form(client, **fields):
    return {"csrf_token": csrf_token(client.get("/queue/manage").text), **fields}


def _owners(db):
    return dict(db.session.execute(select(WorkItem.id, WorkItem.assigned_user_id)).all())


def test_the_page_counts_the_families_a_filter_matches_before_assigning(db, client, login, make_user):
    families(db, 12)  # family n owes n × Rp100.000
    login(make_user("supervisor"))
    answer = client.post(
        "/queue/manage", data=_form(client, action="preview", queue="telecollect", min_amount="Rp1.000.000")
    )
    assert answer.status_code == 200
    assert 'data-testid="matching"' in answer.text and ">3<" not in answer.text
    shown = answer.text.split('data-testid="matching"')[1].split("</p>")[0]
    assert " 3 " in shown
    assert 'value="Rp1.000.000"' in answer.text  # the filter stays for the assignment
    assert db.session.scalar(select(func.count()).select_from(WorkItem)) == 0  # nothing assigned


def test_unassigning_many_asks_first_and_can_be_undone_once(db, client, login, make_user):
    families(db, 15)
    rina = make_user("telecollector", username="rina")
    queue_up(db, QueueName.telecollect, user=rina)
    supervisor = make_user("supervisor")
    login(supervisor)
    ask = client.post("/queue/manage", data=_form(client, action="unassign", queue="telecollect", user=rina.id))
    assert ask.status_code == 200 and 'data-testid="confirm-unassign"' in ask.text and "15" in ask.text
    assert set(_owners(db).values()) == {rina.id}  # nothing moved yet
    done = client.post(
        "/queue/manage", data=_form(client, action="unassign", queue="telecollect", user=rina.id, confirm="1")
    )
    assert done.status_code == 302
    assert set(_owners(db).values()) == {None}
    handout = db.session.scalars(select(Handout)).one()
    page = client.get("/queue/manage").text
    assert 'data-testid="undo"' in page
    undone = client.post("/queue/manage", data=_form(client, action="undo", handout=handout.id))
    assert undone.status_code == 302
    db.session.expire_all()
    assert set(_owners(db).values()) == {rina.id}
    assert db.session.get(Handout, handout.id).undone_by_id == supervisor.id
    again = client.post("/queue/manage", data=_form(client, action="undo", handout=handout.id))
    assert again.status_code == 302 and set(_owners(db).values()) == {rina.id}  # refused: once only
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"queue.unassign", "queue.undo"} <= actions


def test_undoing_an_assignment_gives_back_the_previous_owners(db, client, login, make_user):
    families(db, 4)
    rina, agus = make_user("telecollector", username="rina"), make_user("telecollector", username="agus")
    queue_up(db, QueueName.telecollect, user=rina, min_amount=300_000)  # families 3 and 4
    login(make_user("supervisor"))
    before = _owners(db)
    client.post("/queue/manage", data=_form(client, action="assign", queue="telecollect", user=agus.id))
    db.session.expire_all()
    assert set(_owners(db).values()) == {agus.id} and len(_owners(db)) == 4
    handout = db.session.scalars(select(Handout)).one()
    client.post("/queue/manage", data=_form(client, action="undo", handout=handout.id))
    db.session.expire_all()
    after = _owners(db)
    assert {i: after[i] for i in before} == before  # rina's two are hers again
    assert [after[i] for i in after if i not in before] == [None, None]  # the two created go to the pool


def test_only_supervisors_undo(db, client, login, make_user):
    families(db, 2)
    queue_up(db, QueueName.telecollect)
    login(make_user("telecollector"))
    token = csrf_token(client.get("/queue").text)
    assert client.post("/queue/manage", data={"csrf_token": token, "action": "undo", "handout": "1"}).status_code == 403


def test_sharing_a_pool_is_chosen_with_checkboxes_not_a_ctrl_click_list(db, client, login, make_user):
    rina = make_user("telecollector", username="rina")
    login(make_user("supervisor"))
    page = client.get("/queue/manage").text
    team = page.split('data-testid="team"')[1].split("</fieldset>")[0]
    assert f'type="checkbox" name="users" value="{rina.id}"' in team and "multiple" not in page
