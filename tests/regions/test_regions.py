"""Provinces, their time zones, and places from Kemendagri codes."""
import io

import pytest
from sqlalchemy import func, select

from telecollect.regions.models import City, District, Province, Village
from telecollect.regions.names import format_code, name_key
from telecollect.regions.services import RegionImportError, import_regions
from tests.helpers import csv_bytes, row, run_import


def test_all_38_provinces_with_their_time_zones(db):
    zones = dict(db.session.execute(select(Province.timezone, func.count()).group_by(Province.timezone)).all())
    assert zones == {"WIB": 18, "WITA": 12, "WIT": 8}
    by_name = {p.name: p.timezone for p in db.session.scalars(select(Province))}
    assert by_name["DKI Jakarta"] == "WIB"
    assert by_name["Kalimantan Timur"] == "WITA" and by_name["Kalimantan Barat"] == "WIB"
    assert by_name["Sulawesi Utara"] == "WITA" and by_name["Bali"] == "WITA"
    assert by_name["Papua Barat Daya"] == "WIT" and by_name["Maluku Utara"] == "WIT"


def test_name_keys_fold_spelling_but_keep_kota_and_kabupaten_apart():
    assert name_key("Kota Adm. Jakarta Utara") == name_key("KOTA ADMINISTRASI  jakarta utara")
    assert name_key("Kab. Bogor") == name_key("Kabupaten Bogor") != name_key("Kota Bogor")
    assert format_code("3172011001") == "31.72.01.1001"


def test_region_csv_creates_places_and_merges_with_imported_ones(db):
    run_import(db, csv_bytes([row(city="Kota Adm. Jakarta Utara", kecamatan="Koja", kelurahan="Lagoa")]))
    result = import_regions(db.session, io.StringIO(
        "code,name\n"
        "31,DKI JAKARTA\n"
        "31.72,KOTA ADM. JAKARTA UTARA\n"
        "31.72.03,Koja\n"
        "31.72.03.1004,Lagoa\n"
        "31.72.03.1001,Koja\n"
    ))
    db.session.commit()
    assert (result.created, result.updated, result.unchanged) == (1, 3, 1)
    assert db.session.scalar(select(func.count()).select_from(District)) == 1  # merged, not doubled
    koja = db.session.scalar(select(District).where(District.code == "317203"))
    assert koja.city.code == "3172"
    assert sorted(v.code for v in koja.villages) == ["3172031001", "3172031004"]


def test_region_csv_is_all_or_nothing(db):
    with pytest.raises(RegionImportError) as caught:
        import_regions(db.session, io.StringIO("31.72,Jakarta Utara\n31.7x,Bad\n99.01,Nowhere\n31.72.99.1001,Orphan\n"))
    db.session.rollback()
    assert caught.value.errors == [
        "row 2, code: expected 2, 4, 6 or 10 digits, got '31.7x'",
        "row 3, code: parent of 9901 is neither in the file nor known",
        "row 4, code: parent of 3172991001 is neither in the file nor known",
    ]
    assert db.session.scalar(select(func.count()).select_from(City)) == 0
    assert db.session.scalar(select(func.count()).select_from(Village)) == 0


def test_cli_import_regions(runner, tmp_path):
    path = tmp_path / "wilayah.csv"
    path.write_text("31.72,KOTA ADM. JAKARTA UTARA\n31.72.01,PENJARINGAN\n")
    result = runner.invoke(args=["import", "regions", str(path)])
    assert result.exit_code == 0, result.output
    assert "created 2" in result.output
