"""The arrears report: per group, above-zero arrears only, largest first."""
import csv
import io
import json

from tests.helpers import csv_bytes, row, run_import


def seed(db):
    run_import(db, csv_bytes([
        row(card_no="0000000000001", kecamatan="Koja", kelurahan="Lagoa", arrears_amount="100000", months_in_arrears="3"),
        row(card_no="0000000000002", kecamatan="Koja", kelurahan="Tugu Utara", arrears_amount="250000", months_in_arrears="5", segment="BP"),
        row(card_no="0000000000003", kecamatan="Cilincing", kelurahan="Marunda", arrears_amount="300000", months_in_arrears="13"),
        row(card_no="0000000000004", kecamatan="Cilincing", kelurahan="Marunda", arrears_amount="0", months_in_arrears="0"),
        row(card_no="0000000000005", kecamatan="Penjaringan", kelurahan="", arrears_amount="900000", months_in_arrears="26"),
    ]))


def test_by_kecamatan_counts_only_participants_who_owe(db):
    from telecollect.reports.queries import arrears_by
    seed(db)
    assert arrears_by(db.session, "kecamatan") == [
        {"kecamatan": "Penjaringan", "participants": 1, "arrears_amount": 900_000},
        {"kecamatan": "Koja", "participants": 2, "arrears_amount": 350_000},
        {"kecamatan": "Cilincing", "participants": 1, "arrears_amount": 300_000},
    ]


def test_by_bucket_segment_and_kelurahan(db):
    from telecollect.reports.queries import arrears_by
    seed(db)
    assert [(r["bucket"], r["participants"]) for r in arrears_by(db.session, "bucket")] == [
        (">24", 1), ("13-24", 1), ("4-6", 1), ("1-3", 1)]
    assert [(str(r["segment"].value), r["arrears_amount"]) for r in arrears_by(db.session, "segment")] == [
        ("PBPU", 1_300_000), ("BP", 250_000)]
    assert [r["kelurahan"] for r in arrears_by(db.session, "kelurahan")] == ["", "Marunda", "Tugu Utara", "Lagoa"]


def test_cli_formats(runner, db):
    seed(db)
    result = runner.invoke(args=["report", "arrears", "--by", "kecamatan", "--format", "csv"])
    assert result.exit_code == 0
    assert list(csv.reader(io.StringIO(result.output))) == [
        ["kecamatan", "participants", "arrears_amount"],
        ["Penjaringan", "1", "900000"], ["Koja", "2", "350000"], ["Cilincing", "1", "300000"]]
    as_json = json.loads(runner.invoke(args=["report", "arrears", "--by", "segment", "--format", "json"]).output)
    assert as_json[0] == {"segment": "PBPU", "participants": 3, "arrears_amount": 1_300_000}
    table = runner.invoke(args=["report", "arrears", "--by", "city"]).output
    assert "Kota Administrasi Jakarta Utara" in table and "1550000" in table
    assert runner.invoke(args=["report", "arrears", "--by", "planet"]).exit_code == 2


def test_page_and_csv_download_match(client, login, make_user, db):
    seed(db)
    login(make_user("supervisor"))
    page = client.get("/reports/arrears?by=kecamatan")
    assert "Rp900.000" in page.text and "Rp1.550.000" in page.text  # a row and the total
    download = client.get("/reports/arrears?by=kecamatan&format=csv")
    assert download.mimetype == "text/csv"
    assert download.text.splitlines()[1] == "Penjaringan,1,900000"


def test_report_is_for_supervisors(client, login, make_user):
    login(make_user("cadre"))
    assert client.get("/reports/arrears").status_code == 403
