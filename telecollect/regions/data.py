"""The 38 provinces with their Kemendagri codes and time zones.

Codes follow Kepmendagri 100.1.1-6117/2022 (after the Papua split of 2022).
Time zones follow Keppres 41/1987: WIB for Sumatra, Java, West and Central
Kalimantan; WITA for Bali, Nusa Tenggara, East/South/North Kalimantan and all of
Sulawesi; WIT for Maluku and the Papua provinces.
"""

PROVINCES = [
    ("11", "Aceh", "WIB", ("Nanggroe Aceh Darussalam", "NAD")),
    ("12", "Sumatera Utara", "WIB", ("Sumut",)),
    ("13", "Sumatera Barat", "WIB", ("Sumbar",)),
    ("14", "Riau", "WIB", ()),
    ("15", "Jambi", "WIB", ()),
    ("16", "Sumatera Selatan", "WIB", ("Sumsel",)),
    ("17", "Bengkulu", "WIB", ()),
    ("18", "Lampung", "WIB", ()),
    ("19", "Kepulauan Bangka Belitung", "WIB", ("Bangka Belitung", "Babel")),
    ("21", "Kepulauan Riau", "WIB", ("Kepri",)),
    ("31", "DKI Jakarta", "WIB", ("Jakarta", "Daerah Khusus Ibukota Jakarta",
                                  "Daerah Khusus Jakarta", "DK Jakarta")),
    ("32", "Jawa Barat", "WIB", ("Jabar",)),
    ("33", "Jawa Tengah", "WIB", ("Jateng",)),
    ("34", "DI Yogyakarta", "WIB", ("Daerah Istimewa Yogyakarta", "Yogyakarta", "DIY")),
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
