"""`flask import participants`: exit codes, summary, rejects file."""

import csv

from sqlalchemy import func, select

from telecollect.participants.models import Participant
from tests.helpers import csv_bytes, row


def write(tmp_path, rows, name="peserta.csv"):
    path = tmp_path / name
    path.write_bytes(csv_bytes(rows))
    return path


def count(db):
    return db.session.scalar(select(func.count()).select_from(Participant))


def test_clean_file_imports_and_prints_summary(runner, db, tmp_path):
    path = write(tmp_path, [row(card_no="0000000000001"), row(card_no="0000000000002")])
    result = runner.invoke(args=["import", "participants", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == (
        "dibuat 2, diperbarui 0, tidak berubah 0, ditolak 0; tempat yang "
        "ditambahkan: kabupaten/kota baru: 1, kecamatan baru: 1, "
        "kelurahan/desa baru: 1"
    )
    again = runner.invoke(args=["import", "participants", str(path)])
    assert again.stdout.strip().splitlines()[-1] == "dibuat 0, diperbarui 0, tidak berubah 2, ditolak 0"


def test_bad_row_fails_the_whole_import(runner, db, tmp_path):
    path = write(tmp_path, [row(card_no="0000000000001"), row(card_no="0000000000002", segment="PNS")])
    result = runner.invoke(args=["import", "participants", str(path)])
    assert result.exit_code == 1
    assert "baris 3, segment: harus salah satu dari PBPU, BP, PPU, PBI, tertulis 'PNS'" in result.stderr
    assert "tidak ada yang diimpor" in result.stderr
    assert count(db) == 0


def test_skip_invalid_with_rejects_file(runner, db, tmp_path):
    path = write(tmp_path, [row(card_no="0000000000001"), row(card_no="0000000000002", segment="PNS")])
    rejects = tmp_path / "tolak.csv"
    result = runner.invoke(args=["import", "participants", str(path), "--skip-invalid", "--rejects", str(rejects)])
    assert result.exit_code == 0, result.output
    assert "dibuat 1, diperbarui 0, tidak berubah 0, ditolak 1" in result.stdout
    with rejects.open() as handle:
        lines = list(csv.DictReader(handle))
    assert [(r["line"], r["card_no"], r["errors"]) for r in lines] == [
        ("3", "0000000000002", "baris 3, segment: harus salah satu dari PBPU, BP, PPU, PBI, tertulis 'PNS'")
    ]
    assert count(db) == 1


def test_dry_run_writes_nothing(runner, db, tmp_path):
    path = write(tmp_path, [row()])
    result = runner.invoke(args=["import", "participants", str(path), "--dry-run"])
    assert result.exit_code == 0
    assert "uji coba, tidak ada yang ditulis: akan membuat 1, memperbarui 0" in result.stdout
    assert count(db) == 0


def test_unreadable_file_exits_2(runner, db, tmp_path):
    path = tmp_path / "kosong.csv"
    path.write_text("card_no,name\n0000000000001,Siti\n")
    result = runner.invoke(args=["import", "participants", str(path)])
    assert result.exit_code == 2
    missing = "segment, province, city, kecamatan, months_in_arrears, arrears_amount"
    assert f"kolom wajib tidak ada: {missing}" in result.stderr
