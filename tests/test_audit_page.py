"""The audit log reads as names and words, links to what it names, and filters by date and action
chosen from a list (issue 13, D27)."""

from datetime import UTC, datetime

from sqlalchemy import select

from telecollect.audit.models import AuditEvent
from telecollect.participants.models import Participant
from telecollect.queues.models import QueueName, WorkItem
from tests.helpers_queue import families, queue_up


def _table(page: str) -> str:
    return page.split('data-testid="audit"')[1].split("</table>")[0]


def _event(db, action, user, target_type=None, target_id=None, at=None):
    event = AuditEvent(action=action, user_id=user.id, target_type=target_type, target_id=target_id)
    if at is not None:
        event.at = at
    db.session.add(event)
    db.session.flush()
    return event


def test_targets_are_names_with_links_and_actions_are_words(db, client, login, make_user):
    families(db, 1)
    queue_up(db, QueueName.telecollect)
    participant = db.session.scalars(select(Participant)).one()
    item = db.session.scalars(select(WorkItem)).one()
    rina = make_user("telecollector", username="tc.rina", name="Rina Wati")
    _event(db, "participant.view", rina, "participants", participant.id)
    _event(db, "work_item.view", rina, "work_items", item.id)
    _event(db, "user.create", rina, "users", rina.id)
    db.session.commit()
    login(make_user("admin"))
    table = _table(client.get("/admin/audit").text)
    assert "participants #" not in table and "work_items #" not in table and "users #" not in table
    assert "Peserta 1 · 0000000000001" in table and 'href="/participants/0000000000001"' in table
    assert "Rina Wati" in table and f'href="/admin/users/{rina.id}"' in table
    assert ">participant.view<" not in table and ">work_item.view<" not in table  # words; the code only in data-action


def test_filter_by_dates_and_by_an_action_from_the_list(db, client, login, make_user):
    rina = make_user("telecollector", username="tc.rina")
    _event(db, "participant.search", rina, at=datetime(2026, 11, 2, 3, tzinfo=UTC))
    _event(db, "participant.search", rina, at=datetime(2026, 11, 20, 3, tzinfo=UTC))
    _event(db, "import.participants.dry_run", rina, at=datetime(2026, 11, 20, 4, tzinfo=UTC))
    db.session.commit()
    login(make_user("admin"))
    page = client.get("/admin/audit?user=tc.rina&from=2026-11-15&to=2026-11-30").text
    assert _table(page).count("<tr>") == 1 + 2  # the header and two events of the 20th
    assert '<option value="participant.search"' in page and 'value="2026-11-15"' in page
    only = _table(client.get("/admin/audit?user=tc.rina&action=participant.search&from=2026-11-01&to=2026-11-10").text)
    assert only.count("<tr>") == 2
    imports = _table(client.get("/admin/audit?user=tc.rina&action=import.").text)
    assert imports.count("<tr>") == 2 and "import.participants.dry_run" in imports


def test_a_wrong_date_says_why_and_keeps_the_filters(db, client, login, make_user):
    login(make_user("admin"))
    for query in ("from=2026-11-30&to=2026-11-01", "from=kemarin"):
        answer = client.get(f"/admin/audit?user=tc.rina&{query}")
        assert answer.status_code == 400 and 'data-testid="audit-error"' in answer.text
        assert 'value="tc.rina"' in answer.text
