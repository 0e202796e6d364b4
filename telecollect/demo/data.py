"""North Jakarta, as the branch saw it in November 2020 (seed article 002)."""

CITY = "Kota Administrasi Jakarta Utara"
#: The branch's places with their Kemendagri codes (Kepmendagri 300.2.2-2138/2025), loaded before the
#: participants so that every kecamatan and kelurahan a demo cadre covers exists however small the seed.
REGIONS = """kode,nama
31.72,Kota Administrasi Jakarta Utara
31.72.01,Penjaringan
31.72.01.1001,Penjaringan
31.72.01.1002,Kamal Muara
31.72.01.1003,Kapuk Muara
31.72.01.1004,Pejagalan
31.72.01.1005,Pluit
31.72.02,Tanjung Priok
31.72.02.1001,Tanjung Priok
31.72.02.1002,Sunter Jaya
31.72.02.1003,Papanggo
31.72.02.1004,Sungai Bambu
31.72.02.1005,Kebon Bawang
31.72.02.1006,Sunter Agung
31.72.02.1007,Warakas
31.72.03,Koja
31.72.03.1001,Koja
31.72.03.1002,Tugu Utara
31.72.03.1003,Lagoa
31.72.03.1004,Rawa Badak Utara
31.72.03.1005,Tugu Selatan
31.72.03.1006,Rawa Badak Selatan
31.72.04,Cilincing
31.72.04.1001,Cilincing
31.72.04.1002,Sukapura
31.72.04.1003,Marunda
31.72.04.1004,Kalibaru
31.72.04.1005,Semper Timur
31.72.04.1006,Rorotan
31.72.04.1007,Semper Barat
31.72.05,Pademangan
31.72.05.1001,Pademangan Timur
31.72.05.1002,Pademangan Barat
31.72.05.1003,Ancol
31.72.06,Kelapa Gading
31.72.06.1001,Kelapa Gading Timur
31.72.06.1002,Pegangsaan Dua
31.72.06.1003,Kelapa Gading Barat
"""
PROVINCE = "DKI Jakarta"

#: kecamatan → (participants in arrears in Nov 2020, its kelurahan). The counts
#: weight how the demo spreads participants, so the arrears report ranks the
#: districts as the article did.
DISTRICTS = {
    "Tanjung Priok": (
        9742,
        ["Tanjung Priok", "Kebon Bawang", "Sungai Bambu", "Papanggo", "Warakas", "Sunter Agung", "Sunter Jaya"],
    ),
    "Penjaringan": (7807, ["Penjaringan", "Kamal Muara", "Kapuk Muara", "Pejagalan", "Pluit"]),
    "Cilincing": (5847, ["Cilincing", "Sukapura", "Marunda", "Kalibaru", "Semper Timur", "Semper Barat", "Rorotan"]),
    "Koja": (5519, ["Koja", "Tugu Utara", "Tugu Selatan", "Lagoa", "Rawa Badak Utara", "Rawa Badak Selatan"]),
    "Kelapa Gading": (4075, ["Kelapa Gading Barat", "Kelapa Gading Timur", "Pegangsaan Dua"]),
    "Pademangan": (4073, ["Pademangan Barat", "Pademangan Timur", "Ancol"]),
}

FIRST_NAMES_F = [
    "Siti",
    "Nur",
    "Dewi",
    "Sri",
    "Rina",
    "Ayu",
    "Wulan",
    "Fitri",
    "Lestari",
    "Yuni",
    "Ratna",
    "Intan",
    "Maya",
    "Indah",
    "Putri",
    "Nurhayati",
    "Aisyah",
    "Kartini",
]
FIRST_NAMES_M = [
    "Ahmad",
    "Budi",
    "Agus",
    "Joko",
    "Slamet",
    "Rudi",
    "Hendra",
    "Dedi",
    "Eko",
    "Bambang",
    "Yusuf",
    "Rizky",
    "Fajar",
    "Andi",
    "Taufik",
    "Hasan",
    "Imam",
    "Wahyu",
]
FAMILY_NAMES = [
    "Saputra",
    "Hidayat",
    "Santoso",
    "Wijaya",
    "Siregar",
    "Nasution",
    "Lubis",
    "Simanjuntak",
    "Pratama",
    "Kurniawan",
    "Setiawan",
    "Gunawan",
    "Susanto",
    "Harahap",
    "Rahman",
    "Firmansyah",
    "Hutapea",
    "Sitompul",
    "Tanjung",
    "Syahputra",
]
STREETS = [
    "Jl. Enggano",
    "Jl. Yos Sudarso",
    "Jl. Plumpang Semper",
    "Jl. Cilincing Raya",
    "Jl. Pluit Karang",
    "Jl. Boulevard Raya",
    "Jl. Budi Mulia",
    "Jl. Kebon Bawang",
    "Jl. Sunter Jaya",
    "Jl. Marunda Makmur",
    "Jl. Lagoa Terusan",
    "Jl. Warakas Raya",
]

#: Prefixes of Indonesian mobile operators (all valid MOBILE numbers).
MOBILE_PREFIXES = [
    "0811",
    "0812",
    "0813",
    "0821",
    "0822",
    "0852",
    "0853",
    "0814",
    "0815",
    "0816",
    "0855",
    "0856",
    "0857",
    "0858",
    "0817",
    "0818",
    "0819",
    "0859",
    "0877",
    "0878",
    "0895",
    "0896",
    "0897",
    "0898",
    "0899",
    "0881",
    "0882",
]


DEMO_PASSWORD = "telecollect"
DEMO_USERS = [
    ("admin", "admin", "Admin Cabang", []),
    ("kabid", "supervisor", "Hendra Gunawan (Kabid Penagihan)", []),
    ("tc.rina", "telecollector", "Rina Lestari", []),
    ("tc.agus", "telecollector", "Agus Setiawan", []),
    ("kader.siti", "cadre", "Siti Aminah", ["Kec. Koja"]),
    ("kader.dewi", "cadre", "Dewi Kartika", ["Kalibaru", "Marunda"]),
]


# -- A second branch in another zone (issue 16): Makassar, WITA -----------------------------------------------
#: Its places are added by the participant import from their names (no codes are invented here).
MAKASSAR_CODE = "1701"
MAKASSAR_NAME = "Makassar"
MAKASSAR_DEPUTY = "Kedeputian Wilayah IX"
NORTH_JAKARTA_NAME = "Jakarta Utara"
NORTH_JAKARTA_DEPUTY = "Kedeputian Wilayah I"
MAKASSAR_PROVINCE = "Sulawesi Selatan"
MAKASSAR_CITY = "Kota Makassar"
MAKASSAR_DISTRICTS = {
    "Tamalate": (5, ["Balang Baru", "Jongaya", "Mangasa", "Parang Tambung", "Tanjung Merdeka"]),
    "Rappocini": (4, ["Banta-Bantaeng", "Buakana", "Gunung Sari", "Karunrung", "Tidung"]),
    "Panakkukang": (4, ["Karuwisi", "Pampang", "Panaikang", "Sinrijala", "Tamamaung"]),
    "Mariso": (2, ["Bontorannu", "Kampung Buyang", "Lette", "Panambungan", "Tamarunang"]),
}
#: Makassar's staff, and the two readers: the regional supervisor of its deputy region and a national viewer.
MAKASSAR_USERS = [
    ("admin.mks", "admin", "Admin Cabang Makassar", []),
    ("kabid.mks", "supervisor", "Andi Baso (Kabid Penagihan)", []),
    ("tc.andi", "telecollector", "Andi Tenri", []),
    ("kader.nurul", "cadre", "Nurul Hikmah", ["Kec. Tamalate"]),
]
READER_USERS = [
    ("deputi.ix", "regional_supervisor", "Kedeputian Wilayah IX", MAKASSAR_DEPUTY),
    ("pusat", "national_viewer", "Kantor Pusat", None),
]
