"""The cadre's list is bounded: the most urgent families a page at a time (issue 12, item 9)."""

from telecollect.queues.models import QueueName
from telecollect.queues.queries import CADRE_PAGE
from tests.helpers_queue import families, queue_up


def test_the_list_shows_the_most_urgent_page_and_a_way_to_see_more(clock, db, client, login, make_user, count_queries):
    families(db, CADRE_PAGE + 1, kecamatan="Koja", kelurahan="Lagoa")
    queue_up(db, QueueName.cadre)
    login(make_user("cadre", areas=["Kec. Koja"]))
    with count_queries() as statements:
        first = client.get("/cadre")
    assert first.text.count('data-testid="family"') == CADRE_PAGE
    assert "Peserta 1<" not in first.text  # the family owing least is the least urgent: on the next page
    assert f"Peserta {CADRE_PAGE + 1}<" in first.text
    assert 'data-testid="more"' in first.text and "?page=2" in first.text
    # The page's families, members and places are read in a fixed number of queries, not one per card.
    assert len(statements) <= 12  # 11 today, on both engines
    second = client.get("/cadre?page=2")
    assert second.text.count('data-testid="family"') == 1 and "Peserta 1<" in second.text
    assert 'data-testid="more"' not in second.text and 'data-testid="previous"' in second.text
    assert client.get("/cadre?page=x").status_code == 200  # nonsense is the first page
