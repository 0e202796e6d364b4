"""Every amount a person types reads the Rupiah forms the import reads, through the one parser
(`telecollect.money`): the queue page's minimum amount and an outcome's promised amount (issue 13,
build item 3)."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from telecollect.contacts.services import parse_outcome
from telecollect.errors import ServiceError
from telecollect.money import parse_positive_rupiah
from telecollect.queues.models import QueueName

FORMS = ["70000", "70.000", "Rp70.000", "Rp 70.000", "Rp.70.000", "Rp 70.000,00", "\u00a0Rp\u00a070.000"]


@pytest.mark.parametrize("written", FORMS)
def test_the_promised_amount_reads_every_form_the_import_reads(written):
    item = SimpleNamespace(queue=QueueName.telecollect, timezone="WIB", family=SimpleNamespace(members=[]))
    now = datetime(2026, 11, 30, 3, tzinfo=UTC)
    data = {"outcome": "promise_to_pay", "promise_date": "2026-12-05", "promise_amount": written}
    assert parse_positive_rupiah(written) == 70_000
    assert parse_outcome(data, item, now=now).promise_amount == 70_000


@pytest.mark.parametrize("written", ["tujuh puluh ribu", "70.000,5", "-70000"])
def test_a_wrong_promised_amount_is_refused_with_a_code(written):
    item = SimpleNamespace(queue=QueueName.telecollect, timezone="WIB", family=SimpleNamespace(members=[]))
    data = {"outcome": "promise_to_pay", "promise_date": "2026-12-05", "promise_amount": written}
    with pytest.raises(ServiceError) as refused:
        parse_outcome(data, item, now=datetime(2026, 11, 30, 3, tzinfo=UTC))
    assert refused.value.field == "promise_amount"


@pytest.mark.parametrize("written", FORMS)
def test_the_minimum_amount_of_an_assignment_reads_every_form(db, client, login, make_user, written):
    from tests.conftest import csrf_token
    from tests.helpers_queue import families

    families(db, 1)
    login(make_user("supervisor"))
    token = csrf_token(client.get("/queue/manage").text)
    data = {"csrf_token": token, "action": "preview", "queue": "telecollect", "min_amount": written}
    answer = client.post("/queue/manage", data=data)
    assert answer.status_code == 200 and 'data-testid="matching"' in answer.text
