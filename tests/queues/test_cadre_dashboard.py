"""D26 (issue 13): a cadre's dashboard counts as "families assigned" the families on her work list (hers and the
pool's cadre-queue families inside her areas), not only those handed to her by name; a telecollector's stay hers."""

from datetime import date

from flask_login import login_user

from telecollect.extensions import db as _db
from telecollect.queues.models import QueueName
from telecollect.reports import routes as report_routes
from telecollect.reports.funnel import Period, outcome_funnel, totals
from tests.helpers import csv_bytes, row, run_import
from tests.helpers_queue import queue_up


def _assigned(app, user):
    with app.test_request_context():
        login_user(user)
        scope = report_routes._scope(None)
        rows = outcome_funnel(_db.session, "kecamatan", Period(date(2026, 11, 1), date(2026, 11, 30), "WIB"), scope)
        return totals(rows)["families_assigned"]


def test_her_dashboard_counts_the_families_on_her_list(clock, app, db, client, login, make_user):
    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", name="Siti", kecamatan="Koja"),
                row(card_no="0000000000002", name="Budi", kecamatan="Koja"),
                row(card_no="0000000000003", name="Ani", kecamatan="Cilincing", kelurahan="Marunda"),
            ]
        ),
    )
    queue_up(db, QueueName.cadre)  # all three in the pool
    queue_up(db, QueueName.telecollect)
    dewi = make_user("cadre", areas=["Kec. Koja"])
    login(dewi)
    on_her_list = client.get("/cadre/list.json").json["families"]
    assert len(on_her_list) == 2
    assert _assigned(app, dewi) == 2  # was 0: nothing handed to her by name
    agent = make_user("telecollector")
    assert _assigned(app, agent) == 0  # a telecollector's own: nothing assigned to her
