"""Which known places a written name may mean: pure rules, no database.

The answer is a list: one place is a match, none is "not known", two or more
is a question only the file's author can answer (never a guess).
"""

from dataclasses import dataclass
from functools import lru_cache

from telecollect.regions.data import province_spellings
from telecollect.regions.names import format_code, kinds_agree, name_key, spaceless, split_kind


@dataclass(frozen=True, slots=True)
class Known:
    """A place a name may be matched to: a row of ours, or an entry of the reference list."""

    id: int | None
    name: str
    key: str
    code: str | None

    def label(self) -> str:
        return f"{self.name} ({format_code(self.code)})" if self.code else self.name


def match_name(candidates: list[Known], name: str, *, city_level: bool = False) -> list[Known]:
    """The candidates `name` may mean, most exact rule first.

    1. the folded names are equal;
    2. for regencies and cities, a name without "Kota"/"Kabupaten" matches
       either kind ("Jakarta Utara" ~ "Kota Adm. Jakarta Utara"), and "Bogor"
       matches both Kota and Kabupaten Bogor (two answers: the caller refuses);
    3. only when that finds nothing: the names without spaces ("Palangka Raya"
       ~ "Palangkaraya"), kept only if exactly one candidate matches.
    """
    key = name_key(name)
    found = [c for c in candidates if c.key == key]
    if found:
        return found
    kind, bare = split_kind(key) if city_level else (None, key)
    if city_level:
        found = [c for c in candidates if _same_city(c.key, kind, bare, squash=False)]
        if found:
            return found
    flat = spaceless(bare)
    loose = [
        c
        for c in candidates
        if (_same_city(c.key, kind, flat, squash=True) if city_level else spaceless(c.key) == flat)
    ]
    return loose if len(loose) == 1 else []


def _same_city(candidate_key: str, kind: str | None, bare: str, *, squash: bool) -> bool:
    candidate_kind, candidate_bare = split_kind(candidate_key)
    if squash:
        candidate_bare = spaceless(candidate_bare)
    return candidate_bare == bare and kinds_agree(kind, candidate_kind)


@lru_cache(maxsize=1)
def _province_index() -> tuple[dict[str, str], dict[str, str]]:
    exact, flat = {}, {}
    for code, spelling in province_spellings():
        key = name_key(spelling)
        exact[key] = code
        flat[spaceless(key)] = code
    return exact, flat


def province_code(name: str) -> str | None:
    """The code of the province `name` spells, or None.

    Besides names and aliases, a 2-digit code is accepted, and dotted
    abbreviations fold through their spaceless form ("D.K.I. Jakarta",
    "D.I. Yogyakarta", "N.T.B.").
    """
    written = name.strip()
    exact, flat = _province_index()
    if written.isascii() and written.isdigit() and written in set(exact.values()):
        return written
    key = name_key(written)
    return exact.get(key) or flat.get(spaceless(key))
