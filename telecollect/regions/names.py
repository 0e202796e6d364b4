"""How place names are matched: one folding rule for imports and searches."""
import re

_ABBREVIATIONS = {
    "KAB": "KABUPATEN",
    "ADM": "ADMINISTRASI",
    "KEC": "KECAMATAN",
    "KEL": "KELURAHAN",
    "PROV": "PROVINSI",
}
_PUNCTUATION = re.compile(r"[^\w\s]")


def name_key(name: str) -> str:
    """Fold a place name so that spelling variants of one place compare equal.

    "Kota Adm. Jakarta Utara", "KOTA ADMINISTRASI  JAKARTA UTARA" and
    "kota administrasi jakarta utara" share one key. "Kota Bogor" and
    "Kabupaten Bogor" stay different: they are different places.
    """
    words = _PUNCTUATION.sub(" ", name).upper().split()
    return " ".join(_ABBREVIATIONS.get(word, word) for word in words)


def format_code(code: str) -> str:
    """Kemendagri codes are stored without dots and shown as 31.72.01.1001."""
    parts = [code[:2], code[2:4], code[4:6], code[6:]]
    return ".".join(part for part in parts if part)
