from datetime import UTC, date, datetime

from telecollect.formatting import local_date, local_datetime, mask_nik, rupiah


def test_rupiah_uses_dots_for_thousands():
    assert rupiah(1234567) == "Rp1.234.567"
    assert rupiah(0) == "Rp0"
    assert rupiah(35000) == "Rp35.000"


def test_nik_is_masked_to_last_four():
    assert mask_nik("3172015708850001") == "••••••••••••0001"
    assert mask_nik(None) == ""


def test_times_show_in_the_viewers_zone():
    moment = datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
    assert local_datetime(moment, "WIB") == "22-11-2026 08:30 WIB"
    assert local_datetime(moment, "WITA") == "22-11-2026 09:30 WITA"
    assert local_datetime(moment, "WIT") == "22-11-2026 10:30 WIT"
    assert local_date(date(2026, 2, 3)) == "03-02-2026"
