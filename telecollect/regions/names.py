"""How place names are matched: one folding rule for imports, region lists and searches.

A place is its Kemendagri code; its name is a label that files spell many ways:
"Kota Adm. Jakarta Utara", "KOTA ADMINISTRASI JAKARTA UTARA", "Kota Jakarta Utara"
(the statistics bureau's spelling), "Kec. Koja", "Kel. Lagoa", "Desa Sukamaju",
"Kab. Kep. Seribu", "Palangka Raya" beside "Palangkaraya". The fold makes the
variants of one place equal and keeps different places apart: "Kota Bogor" and
"Kabupaten Bogor" are two places, so the type word is never folded away.
"""

import re

#: Abbreviations written out, so that "Kab." and "Kabupaten" compare equal.
_ABBREVIATIONS = {
    "KAB": "KABUPATEN",
    "KEP": "KEPULAUAN",
    "KEPL": "KEPULAUAN",
    "PROV": "PROVINSI",
}
#: Words that say what kind of place follows, never part of its name; dropped at the start.
_LEADING_KIND_WORDS = {"KEC", "KECAMATAN", "KEL", "KELURAHAN", "DESA"}
#: "Administrasi" marks Jakarta's cities and Kepulauan Seribu; files often leave it out.
_DROPPED_WORDS = {"ADM", "ADMINISTRASI"}
#: The two kinds of second-level place; a name without one may match either, never both.
CITY_KINDS = ("KABUPATEN", "KOTA")
_PUNCTUATION = re.compile(r"[^\w\s]")


def name_key(name: str) -> str:
    """Fold a place name so that spelling variants of one place compare equal.

    "Kota Adm. Jakarta Utara", "KOTA ADMINISTRASI  JAKARTA UTARA" and
    "kota jakarta utara" share one key; "Kec. Koja" and "Koja" too.
    "Kota Bogor" and "Kabupaten Bogor" stay different: they are different places.
    """
    words = [_ABBREVIATIONS.get(word, word) for word in _PUNCTUATION.sub(" ", name).upper().split()]
    while len(words) > 1 and words[0] in _LEADING_KIND_WORDS:
        words.pop(0)
    return " ".join(word for word in words if word not in _DROPPED_WORDS)


def leading_kind(name: str) -> str | None:
    """ "Kec. Koja" → "kecamatan", "Kel. Koja"/"Desa Koja" → "kelurahan", "Koja" → None: the level a
    written name says it is, which the key itself no longer tells."""
    words = _PUNCTUATION.sub(" ", name).upper().split()
    if len(words) > 1 and words[0] in {"KEC", "KECAMATAN"}:
        return "kecamatan"
    if len(words) > 1 and words[0] in {"KEL", "KELURAHAN", "DESA"}:
        return "kelurahan"
    return None


def spaceless(key: str) -> str:
    """The key without its spaces: "PALANGKA RAYA" ~ "PALANGKARAYA", "BAU BAU" ~ "BAUBAU".

    Only a fallback: two different places could fold to one such key, so a
    match through it counts only when it is the only one within the parent.
    """
    return key.replace(" ", "")


def split_kind(key: str) -> tuple[str | None, str]:
    """ "KOTA BOGOR" → ("KOTA", "BOGOR"); "BOGOR" → (None, "BOGOR")."""
    first, _space, rest = key.partition(" ")
    if first in CITY_KINDS and rest:
        return first, rest
    return None, key


def kinds_agree(a: str | None, b: str | None) -> bool:
    """A name without a kind may be either kind; two kinds must be the same."""
    return a is None or b is None or a == b


def format_code(code: str) -> str:
    """Kemendagri codes are stored without dots and shown as 31.72.01.1001."""
    parts = [code[:2], code[2:4], code[4:6], code[6:]]
    return ".".join(part for part in parts if part)
