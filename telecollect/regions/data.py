"""Reference places: the 38 provinces with their codes and time zones, and the 514 regencies and cities.

Codes follow Kepmendagri 300.2.2-2138/2025 (after the Papua split of 2022).
The regencies and cities are in `kemendagri_cities.csv` beside this module
(codes and names are public facts; `tools/wilayah_dump.py` writes the file from
the public list). Region files are checked against them: a file whose codes
say otherwise uses another code system (the statistics bureau's) and is refused.
Time zones follow Keppres 41/1987: WIB for Sumatra, Java, West and Central
Kalimantan; WITA for Bali, Nusa Tenggara, East/South/North Kalimantan and all of
Sulawesi; WIT for Maluku and the Papua provinces.
"""

import csv
from functools import lru_cache
from pathlib import Path

PROVINCES = [
    ("11", "Aceh", "WIB", ("Nanggroe Aceh Darussalam", "NAD")),
    ("12", "Sumatera Utara", "WIB", ("Sumut",)),
    ("13", "Sumatera Barat", "WIB", ("Sumbar",)),
    ("14", "Riau", "WIB", ()),
    ("15", "Jambi", "WIB", ()),
    ("16", "Sumatera Selatan", "WIB", ("Sumsel",)),
    ("17", "Bengkulu", "WIB", ()),
    ("18", "Lampung", "WIB", ()),
    ("19", "Kepulauan Bangka Belitung", "WIB", ("Bangka Belitung", "Babel", "Kep. Babel")),
    ("21", "Kepulauan Riau", "WIB", ("Kepri",)),
    (
        "31",
        "DKI Jakarta",
        "WIB",
        ("Jakarta", "DKI", "Daerah Khusus Ibukota Jakarta", "Daerah Khusus Jakarta", "DK Jakarta"),
    ),
    ("32", "Jawa Barat", "WIB", ("Jabar",)),
    ("33", "Jawa Tengah", "WIB", ("Jateng",)),
    ("34", "DI Yogyakarta", "WIB", ("Daerah Istimewa Yogyakarta", "Yogyakarta", "DIY", "Jogja", "Jogjakarta", "Yogya")),
    ("35", "Jawa Timur", "WIB", ("Jatim",)),
    ("36", "Banten", "WIB", ()),
    ("51", "Bali", "WITA", ()),
    ("52", "Nusa Tenggara Barat", "WITA", ("NTB",)),
    ("53", "Nusa Tenggara Timur", "WITA", ("NTT",)),
    ("61", "Kalimantan Barat", "WIB", ("Kalbar",)),
    ("62", "Kalimantan Tengah", "WIB", ("Kalteng",)),
    ("63", "Kalimantan Selatan", "WITA", ("Kalsel",)),
    ("64", "Kalimantan Timur", "WITA", ("Kaltim",)),
    ("65", "Kalimantan Utara", "WITA", ("Kaltara",)),
    ("71", "Sulawesi Utara", "WITA", ("Sulut",)),
    ("72", "Sulawesi Tengah", "WITA", ("Sulteng",)),
    ("73", "Sulawesi Selatan", "WITA", ("Sulsel",)),
    ("74", "Sulawesi Tenggara", "WITA", ("Sultra",)),
    ("75", "Gorontalo", "WITA", ()),
    ("76", "Sulawesi Barat", "WITA", ("Sulbar",)),
    ("81", "Maluku", "WIT", ()),
    ("82", "Maluku Utara", "WIT", ("Malut",)),
    ("91", "Papua", "WIT", ()),
    ("92", "Papua Barat", "WIT", ()),
    ("93", "Papua Selatan", "WIT", ()),
    ("94", "Papua Tengah", "WIT", ()),
    ("95", "Papua Pegunungan", "WIT", ()),
    ("96", "Papua Barat Daya", "WIT", ()),
]

#: Provinces split in 2022: a file written before the split names the old province
#: for a regency that moved, and the regency decides (Merauke is in Papua Selatan now).
SPLIT_PROVINCES = {
    "91": ("93", "94", "95"),  # Papua → Papua Selatan, Papua Tengah, Papua Pegunungan
    "92": ("96",),  # Papua Barat → Papua Barat Daya
}
PROVINCE_NAMES = {code: name for code, name, _tz, _aliases in PROVINCES}


def province_spellings():
    """(code, spelling) for every accepted way of writing each province."""
    for code, name, _tz, aliases in PROVINCES:
        for spelling in (name, f"Provinsi {name}", *aliases):
            yield code, spelling
            if "Sumatera" in spelling:  # the English and older spelling
                yield code, spelling.replace("Sumatera", "Sumatra")


@lru_cache(maxsize=1)
def reference_cities() -> dict[str, str]:
    """The 514 regencies and cities of the Kemendagri list: code (4 digits) → name."""
    with (Path(__file__).parent / "kemendagri_cities.csv").open(encoding="utf-8", newline="") as handle:
        return {code: name for code, name in csv.reader(handle) if code != "code"}
