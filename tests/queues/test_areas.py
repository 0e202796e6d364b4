"""A cadre's areas hold everywhere: a family spanning areas shows her only the members inside them, and
assigning or balancing never gives her a family she can neither see nor claim (issue 12, item 5)."""

from datetime import UTC, datetime

from sqlalchemy import select

from telecollect.queues import services as queues
from telecollect.queues.models import QueueName, WorkItem
from tests.conftest import csrf_token
from tests.helpers import csv_bytes, row, run_import
from tests.helpers_queue import queue_up

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
#: Budi, in the same family as Siti, lives in another kecamatan, with his own number and RT/RW.
BUDI_PHONE = "081299990002"


def _spanning_family(db):
    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", family_id="F1", kecamatan="Koja", kelurahan="Lagoa", phone="081200000001"),
                row(
                    card_no="0000000000002",
                    family_id="F1",
                    name="Budi Santoso",
                    kecamatan="Cilincing",
                    kelurahan="Marunda",
                    phone=BUDI_PHONE,
                    rt="9",
                    rw="11",
                ),
            ]
        ),
    )


def _in_two_areas(db):
    """Families in Koja (Lagoa) and in Cilincing (Marunda), one member each."""
    run_import(
        db,
        csv_bytes(
            [
                row(
                    card_no=f"{n:013d}",
                    kecamatan="Koja" if n % 2 else "Cilincing",
                    kelurahan="Lagoa" if n % 2 else "Marunda",
                    phone=f"0812{n:08d}",
                    arrears_amount=str(100_000 * n),
                )
                for n in range(1, 7)
            ]
        ),
    )


def _owners(db):
    db.session.expire_all()
    return {i.family.key: i.assigned_user_id for i in db.session.scalars(select(WorkItem))}


def test_assign_gives_a_cadre_only_families_in_her_areas(db, make_user):
    _in_two_areas(db)
    siti = make_user("cadre", areas=["Kec. Koja"])
    result = queue_up(db, QueueName.cadre, user=siti, now=NOW)
    assert (len(result.family_ids), result.created, result.outside_areas) == (6, 6, 3)
    owners = _owners(db)
    assert {key for key, owner in owners.items() if owner == siti.id} == {f"{n:013d}" for n in (1, 3, 5)}
    assert {key for key, owner in owners.items() if owner is None} == {f"{n:013d}" for n in (2, 4, 6)}
    # Live families outside her areas are not moved to her either (they stay where they are).
    dewi = make_user("cadre", areas=["Kec. Cilincing"])
    queue_up(db, QueueName.cadre, user=dewi, now=NOW)
    again = queue_up(db, QueueName.cadre, user=siti, now=NOW)
    assert again.outside_areas == 3 and again.reassigned == 0
    assert {owner for key, owner in _owners(db).items() if int(key) % 2 == 0} == {dewi.id}


def test_balance_gives_each_cadre_only_her_areas_and_leaves_the_rest_in_the_pool(db, make_user):
    _in_two_areas(db)
    queue_up(db, QueueName.cadre, now=NOW)
    siti = make_user("cadre", areas=["Kel. Lagoa"])
    rani = make_user("cadre", areas=["Kec. Koja"])
    shared = queues.balance(db.session, QueueName.cadre, [siti, rani])
    db.session.commit()
    assert sum(shared.received.values()) == 3 and shared.left_in_pool == 3
    owners = _owners(db)
    assert {owner for key, owner in owners.items() if int(key) % 2} <= {siti.id, rani.id}
    assert {owner for key, owner in owners.items() if int(key) % 2 == 0} == {None}


def test_cli_and_manage_page_report_families_left_in_the_pool(db, runner, client, login, make_user):
    _in_two_areas(db)
    make_user("cadre", username="kader.siti", areas=["Kec. Koja"])
    result = runner.invoke(args=["queue", "assign", "--queue", "cadre", "--user", "kader.siti"])
    assert result.exit_code == 0, result.output
    assert "6 families to kader.siti (cadre): created 6" in result.output
    assert result.output.splitlines()[-1].startswith("3 ") and "pool" in result.output.splitlines()[-1]
    rani = make_user("cadre", username="kader.rani", areas=["Kec. Koja"])
    result = runner.invoke(args=["queue", "balance", "--queue", "cadre", "kader.rani"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "kader.rani: +0"  # Koja's three are Siti's already
    assert result.output.splitlines()[-1].startswith("3 ") and "pool" in result.output.splitlines()[-1]
    login(make_user("supervisor"))
    token = csrf_token(client.get("/queue/manage").text)
    answer = client.post(
        "/queue/manage",
        data={"action": "balance", "queue": "cadre", "users": [str(rani.id)], "csrf_token": token},
        follow_redirects=True,
    )
    flash = answer.text.split('class="flash success"')[1].split("</p>")[0]
    assert "0" in flash and "3" in flash and "pool" in flash


def _cadre_with_family_in_queue(db, make_user):
    _spanning_family(db)
    siti = make_user("cadre", areas=["Kec. Koja"])
    queue_up(db, QueueName.cadre, now=NOW)
    item = db.session.scalar(select(WorkItem))
    return siti, item


def test_api_shows_a_cadre_only_the_members_inside_her_areas(clock, db, client, login, make_user):
    siti, item = _cadre_with_family_in_queue(db, make_user)
    login(siti)
    shown = client.get(f"/api/v1/work-items/{item.id}")
    assert shown.status_code == 200, shown.json
    assert [m["card_no"] for m in shown.json["work_item"]["family"]] == ["0000000000001"]
    assert BUDI_PHONE[1:] not in shown.text and "Budi" not in shown.text
    assert shown.json["work_item"]["family_arrears_amount"] == 420_000  # the family's debt stays whole
    participant = client.get("/api/v1/participants/0000000000001")
    assert [m["card_no"] for m in participant.json["family"]["members"]] == ["0000000000001"]
    assert BUDI_PHONE[1:] not in participant.text and '"rt": "9"' not in participant.text
    assert client.get("/api/v1/participants/0000000000002").status_code == 404


def test_pages_show_a_cadre_only_the_members_inside_her_areas(clock, db, client, login, make_user):
    siti, item = _cadre_with_family_in_queue(db, make_user)
    login(siti)
    for url in ("/participants/0000000000001", f"/queue/items/{item.id}", "/cadre"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "0000000000001" in page.text or "Siti" in page.text, url
        assert "Budi" not in page.text and BUDI_PHONE[1:] not in page.text, url


def test_report_drill_down_lists_only_members_inside_her_areas(clock, db, client, login, make_user):
    _spanning_family(db)
    siti = make_user("cadre", areas=["Kec. Koja"])
    queue_up(db, QueueName.cadre, user=siti)
    login(siti)
    today = datetime.now(UTC).date().isoformat()
    page = client.get(
        f"/reports/families?metric=families_assigned&by=user&key={siti.id}&from={today}&to={today}&queue=cadre"
    )
    assert page.status_code == 200
    assert "0000000000001" in page.text and "0000000000002" not in page.text


def test_balance_sends_families_stranded_outside_her_areas_back_to_the_pool(db, make_user):
    _in_two_areas(db)
    siti = make_user("cadre", areas=["Kec. Koja"])
    queue_up(db, QueueName.cadre, now=NOW)
    # As main's assign left them (or as her areas were before an admin changed them): all six are hers.
    db.session.execute(WorkItem.__table__.update().values(assigned_user_id=siti.id))
    db.session.commit()
    shared = queues.balance(db.session, QueueName.cadre, [siti])
    db.session.commit()
    assert (shared.returned, shared.received, shared.left_in_pool) == (3, {siti.id: 0}, 3)
    owners = _owners(db)
    assert {owner for key, owner in owners.items() if int(key) % 2} == {siti.id}
    assert {owner for key, owner in owners.items() if int(key) % 2 == 0} == {None}
