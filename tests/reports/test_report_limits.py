"""Report date ranges are bounded: no request or command reads centuries of figures (issue 12, item 9)."""

from datetime import date

import pytest

from telecollect.errors import ServiceError
from telecollect.reports.dashboard import MAX_RANGE_DAYS, report_period


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        ("1000-01-01", "9998-12-31", "report_range_years"),
        ("2026-01-01", "2101-01-01", "report_range_years"),
        ("1999-12-31", "2000-01-01", "report_range_years"),
        ("2026-11-30", "2026-11-01", "report_range_order"),
        ("2025-01-01", "2026-01-02", "report_range_too_long"),
        ("2026-13-01", "2026-12-01", "report_date_format"),
        ("kemarin", "2026-12-01", "report_date_format"),
    ],
)
def test_ranges_a_report_does_not_cover(start, end, code):
    with pytest.raises(ServiceError) as refused:
        report_period(start, end, "Asia/Jakarta")
    assert refused.value.code == code


def test_a_year_with_its_leap_day_is_allowed():
    period = report_period("2028-01-01", "2028-12-31", "Asia/Jakarta")
    assert (period.end - period.start).days + 1 == MAX_RANGE_DAYS
    assert report_period(date(2000, 1, 1), date(2000, 1, 1), "Asia/Jakarta").start == date(2000, 1, 1)


@pytest.mark.parametrize("role", ["telecollector", "supervisor"])
@pytest.mark.parametrize(
    "path", ["/reports/dashboard", "/reports/dashboard.csv", "/reports/dashboard.xlsx", "/reports/families"]
)
def test_a_range_of_centuries_is_refused_in_indonesian_keeping_the_filters(client, login, make_user, role, path):
    login(make_user(role))
    answer = client.get(f"{path}?from=1000-01-01&to=9998-12-31&by=kecamatan&queue=cadre&metric=attempts")
    assert answer.status_code == 400
    assert "di luar tahun yang dicakup laporan" in answer.text  # in Indonesian after the catalogs merge
    assert 'data-testid="range-error"' in answer.text
    assert 'value="1000-01-01"' in answer.text and 'value="9998-12-31"' in answer.text
    assert '<option value="kecamatan" selected' in answer.text and '<option value="cadre" selected' in answer.text


def test_too_long_a_range_says_how_long_a_range_may_be(client, login, make_user):
    login(make_user("supervisor"))
    answer = client.get("/reports/dashboard?from=2025-01-01&to=2026-06-30")
    assert answer.status_code == 400 and "366" in answer.text


def test_the_cli_refuses_extreme_dates_without_a_traceback(runner):
    for start, end in (("1000-01-01", "9998-12-31"), ("0001-01-01", "2026-01-01"), ("2024-01-01", "2026-01-01")):
        result = runner.invoke(args=["report", "outcomes", "--by", "user", "--from", start, "--to", end])
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(("start", "end"), [("2026-11-30", "2026-11-01"), ("kemarin", "x")])
def test_a_reversed_or_garbage_range_says_why_on_the_page_keeping_the_filters(client, login, make_user, start, end):
    """D20: not a bare 400 page; the reason and the filters as typed."""
    login(make_user("supervisor"))
    answer = client.get(f"/reports/dashboard?from={start}&to={end}&by=kecamatan&queue=telecollect")
    assert answer.status_code == 400 and 'data-testid="range-error"' in answer.text
    assert 'name="from"' in answer.text and '<option value="telecollect" selected' in answer.text
    assert "Permintaan tidak dapat diproses" not in answer.text


def test_an_unknown_grouping_or_queue_falls_back_to_the_default_not_a_bare_400(client, login, make_user):
    login(make_user("supervisor"))
    answer = client.get("/reports/dashboard?from=2026-11-01&to=2026-11-30&by=negara&queue=semua")
    assert answer.status_code == 200 and '<option value="user" selected' in answer.text
