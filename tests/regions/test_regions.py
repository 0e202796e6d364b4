"""Provinces, their time zones, and places from Kemendagri codes."""

import threading

import pytest
from sqlalchemy import func, select

from telecollect.participants.models import Participant
from telecollect.regions.data import reference_cities
from telecollect.regions.importing import RegionImportError, import_regions
from telecollect.regions.matching import province_code
from telecollect.regions.models import City, District, Province, Village
from telecollect.regions.names import format_code, leading_kind, name_key
from tests.helpers import csv_bytes, row, run_import

#: A generated slice of the Kemendagri list with the real same-named village pairs of
#: Jayapura (Waena) and Ambon (Urimessing): a kelurahan (1xxx) and a desa (2xxx) each.
SAMPLE = """kode,nama
91,Papua
91.71,Kota Jayapura
91.71.05,Heram
91.71.05.1001,Hedam
91.71.05.1002,Waena
91.71.05.1003,Yabansai
91.71.05.2005,Waena
81,Maluku
81.71,Kota Ambon
81.71.01,Nusaniwe
81.71.01.1011,Urimessing
81.71.01.2005,Urimessing
31,DKI Jakarta
31.72,Kota Administrasi Jakarta Utara
31.72.03,Koja
31.72.03.1001,Koja
31.72.03.1003,Lagoa
"""


def regions(db, text: str, **options):
    result = import_regions(db.session, text.encode(), **options)
    db.session.commit()
    return result


def refused(db, data: bytes) -> RegionImportError:
    with pytest.raises(RegionImportError) as caught:
        import_regions(db.session, data)
    db.session.rollback()
    return caught.value


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_all_38_provinces_with_their_time_zones(db):
    zones = dict(db.session.execute(select(Province.timezone, func.count()).group_by(Province.timezone)).all())
    assert zones == {"WIB": 18, "WITA": 12, "WIT": 8}
    by_name = {p.name: p.timezone for p in db.session.scalars(select(Province))}
    assert by_name["DKI Jakarta"] == "WIB"
    assert by_name["Kalimantan Timur"] == "WITA" and by_name["Kalimantan Barat"] == "WIB"
    assert by_name["Sulawesi Utara"] == "WITA" and by_name["Bali"] == "WITA"
    assert by_name["Papua Barat Daya"] == "WIT" and by_name["Maluku Utara"] == "WIT"


def test_the_package_ships_the_514_regencies_and_cities():
    cities = reference_cities()
    assert len(cities) == 514
    assert cities["3172"].strip() == "Kota Administrasi Jakarta Utara"
    assert cities["3175"] == "Kota Administrasi Jakarta Timur"
    assert cities["9301"] == "Kabupaten Merauke"
    assert {code[:2] for code in cities} == set(province_code_list())


def province_code_list():
    from telecollect.regions.data import PROVINCE_NAMES

    return PROVINCE_NAMES


def test_name_keys_fold_spelling_but_keep_kota_and_kabupaten_apart():
    assert (
        name_key("Kota Adm. Jakarta Utara")
        == name_key("KOTA ADMINISTRASI  jakarta utara")
        == name_key("KOTA JAKARTA UTARA")
    )
    assert name_key("Kab. Bogor") == name_key("Kabupaten Bogor") != name_key("Kota Bogor")
    assert name_key("Kec. Koja") == name_key("Kecamatan Koja") == name_key("KOJA")
    assert name_key("Kel. Lagoa") == name_key("Kelurahan Lagoa") == name_key("Lagoa")
    assert name_key("Desa Sukamaju") == name_key("Sukamaju")
    assert name_key("Kab. Kep. Seribu") == name_key("Kabupaten Administrasi Kepulauan Seribu")
    assert name_key("Kampung Melayu") != name_key("Melayu")  # a kind word only at the start, and not "Kampung"
    assert format_code("3172011001") == "31.72.01.1001"
    assert [leading_kind(n) for n in ("Kec. Koja", "Kel. Koja", "Desa Koja", "Koja", "Kecamatan")] == [
        "kecamatan",
        "kelurahan",
        "kelurahan",
        None,
        None,
    ]


@pytest.mark.parametrize(
    "written, code",
    [
        ("D.K.I. Jakarta", "31"),
        ("DKI", "31"),
        ("DKI Jakarta", "31"),
        ("D.I. Yogyakarta", "34"),
        ("Jogja", "34"),
        ("N.T.B.", "52"),
        ("Kep. Riau", "21"),
        ("Kep. Bangka Belitung", "19"),
        ("Sumatra Utara", "12"),
        ("PROVINSI JAWA BARAT", "32"),
        ("Papua Barat Daya", "96"),
        ("31", "31"),
    ],
)
def test_common_province_spellings(written, code):
    assert province_code(written) == code


def test_region_csv_creates_places_and_merges_with_imported_ones(db):
    run_import(db, csv_bytes([row(city="Kota Adm. Jakarta Utara", kecamatan="Koja", kelurahan="Lagoa")]))
    result = regions(
        db,
        "code,name\n31,DKI JAKARTA\n31.72,KOTA ADM. JAKARTA UTARA\n31.72.03,Koja\n"
        "31.72.03.1003,Lagoa\n31.72.03.1001,Koja\n",
    )
    assert (result.created, result.updated, result.unchanged) == (1, 3, 1)
    assert count(db, District) == 1  # merged, not doubled
    koja = db.session.scalar(select(District).where(District.code == "317203"))
    assert koja.city.code == "3172"
    assert sorted(v.code for v in koja.villages) == ["3172031001", "3172031003"]


def test_same_named_villages_of_one_kecamatan_stay_two_places_and_a_second_run_changes_nothing(db):
    first = regions(db, SAMPLE)
    assert first.created == 14
    waena = db.session.scalars(select(Village).where(Village.name == "Waena").order_by(Village.code)).all()
    assert [v.code for v in waena] == ["9171051002", "9171052005"]
    assert waena[0].district_id == waena[1].district_id
    again = regions(db, SAMPLE)
    assert (again.created, again.updated) == (0, 0)
    assert again.unchanged == first.created + first.unchanged
    assert count(db, Village) == 8


def test_a_name_shared_by_two_codes_is_not_given_to_an_uncoded_place(db):
    """A participant import filed people under "Waena" before the list came: which Waena is unknowable."""
    run_import(db, csv_bytes([row(province="Papua", city="Kota Jayapura", kecamatan="Heram", kelurahan="Waena")]))
    regions(db, SAMPLE)
    codes = sorted(v.code or "" for v in db.session.scalars(select(Village).where(Village.name == "Waena")))
    assert codes == ["", "9171051002", "9171052005"]


def test_participant_rows_choose_a_same_named_village_by_code_or_are_refused(db):
    regions(db, SAMPLE)
    place = {"province": "Papua", "city": "Kota Jayapura", "kecamatan": "Heram"}
    report = run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", kelurahan="Waena", **place),
                row(card_no="0000000000002", kelurahan="Waena", kelurahan_code="91.71.05.2005", **place),
                row(card_no="0000000000003", kelurahan="", kelurahan_code="9171051002", **place),
            ]
        ),
        skip_invalid=True,
    )
    assert [(e.line, e.column, e.code) for e in report.errors] == [(2, "kelurahan", "place_ambiguous")]
    assert "91.71.05.1002" in str(report.errors[0]) and "91.71.05.2005" in str(report.errors[0])
    filed = dict(db.session.execute(select(Participant.card_no, Village.code).join(Village)).all())
    assert filed == {"0000000000002": "9171052005", "0000000000003": "9171051002"}
    assert not report.new_places


def test_a_village_code_must_belong_to_the_row_and_be_known(db):
    regions(db, SAMPLE)
    place = {"province": "DKI Jakarta", "city": "Jakarta Utara", "kecamatan": "Koja"}
    report = run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", kelurahan="", kelurahan_code="91.71.05.1002", **place),
                row(card_no="0000000000002", kelurahan="Tugu", kelurahan_code="31.72.03.1003", **place),
                row(card_no="0000000000003", kelurahan="", kelurahan_code="31.72.03.1999", **place),
                row(card_no="0000000000004", kelurahan="", kelurahan_code="31.72.03.10", **place),
            ]
        ),
    )
    assert [(e.line, e.column, e.code) for e in report.errors] == [
        (2, "kelurahan_code", "village_code_elsewhere"),
        (3, "kelurahan_code", "village_code_name"),
        (4, "kelurahan_code", "village_code_unknown"),
        (5, "kelurahan_code", "village_code_format"),
    ]


def test_bps_codes_are_refused_and_rename_nothing(db):
    """BPS 3172 is Jakarta Timur and 3175 Jakarta Utara; in Kemendagri codes it is the other way round."""
    run_import(db, csv_bytes([row(card_no=f"{n:013d}") for n in range(1, 6)]))
    regions(db, "31.72,Kota Administrasi Jakarta Utara\n")
    error = refused(
        db,
        b"kode,nama\n31,DKI JAKARTA\n31.71,KOTA JAKARTA PUSAT\n31.72,KOTA JAKARTA TIMUR\n"
        b"31.75,KOTA JAKARTA UTARA\n31.75.01,PENJARINGAN\n",
    )
    assert error.headline.code == "region_not_kemendagri"
    assert [(e.line, e.code) for e in error.errors] == [(4, "region_city_name"), (5, "region_city_name")]
    assert "Kota Administrasi Jakarta Timur" in str(error.errors[1])
    jakut = db.session.scalar(select(City).where(City.code == "3172"))
    assert jakut.name == "Kota Administrasi Jakarta Utara"
    assert db.session.scalar(select(func.count()).select_from(Participant).where(Participant.city_id == jakut.id)) == 5


def test_a_bad_file_lists_every_reason_in_row_order_and_writes_nothing(db):
    error = refused(
        db,
        b"kode;nama\n31.72;Jakarta Utara\n31.7x;Bad\n99.01;Nowhere\n31.72.99.1001;Orphan\n"
        b"31.72;Jakarta Utara lagi\n31.71;\n32.99;Kabupaten Khayalan\n",
    )
    assert [(e.line, e.code) for e in error.errors] == [
        (3, "region_code_format"),
        (4, "region_province_unknown"),
        (5, "region_parent_missing"),
        (6, "region_code_repeated"),
        (7, "region_name_missing"),
        (8, "region_city_unknown"),
    ]
    assert error.errors[3].reason.params["other"] == 2
    assert count(db, City) == 0 and count(db, Village) == 0


def test_tab_separated_file_with_a_province_column(db):
    result = regions(db, "kode\tnama\tprovinsi\n32.01\tKabupaten Bogor\tJawa Barat\n32.71\tKota Bogor\tJabar\n")
    assert result.created == 2
    error = refused(db, b"code\tname\tprovince\n32.73\tKota Bandung\tBanten\n")
    assert [e.code for e in error.errors] == ["region_province_column"]


def test_a_file_that_is_not_utf8_says_which_line(db):
    error = refused(
        db, b"kode,nama\n31.72,Kota Jakarta Utara\n31.72.03,Koja\n" + "31.72.03.1001,Koj\xe0\n".encode("latin-1")
    )
    assert error.headline.code == "file_encoding" and error.headline.params == {"line": 4}


def test_progress_is_reported_up_to_the_whole_file(db):
    seen = []
    regions(db, SAMPLE, on_progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (17, 17)
    assert [done for done, _total in seen] == sorted(done for done, _total in seen)


def test_cli_import_regions(runner, db, tmp_path):
    path = tmp_path / "wilayah.csv"
    path.write_text("31.72,KOTA ADM. JAKARTA UTARA\n31.72.01,PENJARINGAN\n")
    result = runner.invoke(args=["import", "regions", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("uji coba, tidak ada yang ditulis: akan membuat 2")
    assert count(db, City) == 0
    result = runner.invoke(args=["import", "regions", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "dibuat 2, diperbarui 0, tidak berubah 0"


def test_cli_refuses_a_bps_file_with_a_readable_message(runner, tmp_path):
    path = tmp_path / "bps.csv"
    path.write_text("31.75,KOTA JAKARTA UTARA\n")
    result = runner.invoke(args=["import", "regions", str(path)])
    assert result.exit_code == 1
    assert "BPS" in result.stderr and "Traceback" not in result.output


@pytest.mark.committing
def test_two_region_imports_at_once_add_each_place_once(app, db):
    """Two administrators load the list at the same moment: the second waits, then finds every place."""
    results, errors = {}, []
    barrier = threading.Barrier(2)

    def work(name):
        try:
            with app.app_context():
                barrier.wait()
                results[name] = import_regions(db.session, SAMPLE.encode())
                db.session.commit()
                db.session.remove()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sorted(r.created for r in results.values()) == [0, 14]
    assert count(db, Village) == 8 and count(db, District) == 3


@pytest.mark.parametrize("data", [b"", b"kode,nama\n", b"\n\n"])
def test_an_empty_region_file_is_refused_not_reported_as_done(db, data):
    assert refused(db, data).headline.code == "file_empty"
