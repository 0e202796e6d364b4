"""Region lists: `code,name` rows of Kemendagri codes, checked against the reference list, then written in bulk.

A region file is all-or-nothing. It is refused, with every reason in row order,
when a row is unreadable, a code repeats, a parent is unknown, or its codes
contradict the Kemendagri list the package ships (the sign of a statistics-bureau
list, whose codes name other places: BPS 3175 is Jakarta Utara, Kemendagri 3175
Jakarta Timur). Written once checked: existing places are matched by code, so a
second run of the same file changes nothing.
"""

import csv
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from telecollect.db import lock_for
from telecollect.reasons import Refusal, RowError, quoted
from telecollect.regions.data import PROVINCE_NAMES, reference_cities
from telecollect.regions.matching import Known, match_name, province_code
from telecollect.regions.models import City, District, Province, Village
from telecollect.regions.names import format_code, name_key
from telecollect.regions.services import ensure_provinces

#: code length → (model, parent column, parent code length)
_LEVELS = {4: (City, "province_id", 2), 6: (District, "city_id", 4), 10: (Village, "district_id", 6)}
_CODE_COLUMNS = {"code", "kode", "kode_wilayah", "kode wilayah", "id"}
_NAME_COLUMNS = {"name", "nama", "nama_wilayah", "nama wilayah"}
_PROVINCE_COLUMNS = {"province", "provinsi"}
_MAX_NAME = 100
#: Rows written per statement; progress is reported after each.
_CHUNK = 5000


@dataclass(frozen=True)
class RegionRow:
    line: int
    code: str  #: without dots
    name: str
    province: str | None = None  #: the province name, when the file has that column


@dataclass
class RegionImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class RegionImportError(ValueError):
    """The file is refused; nothing was written. `headline` says why in one sentence when the file as a whole
    is wrong (unreadable, another code system), `errors` lists the bad rows in row order."""

    def __init__(self, errors: list[RowError], headline: Refusal | None = None):
        self.errors = sorted(errors, key=lambda e: e.line)
        self.headline = headline
        super().__init__("\n".join(self.messages()))

    def messages(self) -> list[str]:
        return ([str(self.headline)] if self.headline else []) + [str(e) for e in self.errors]


def import_regions(
    session,
    data: bytes,
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> RegionImportResult:
    """Check and load a region file (CSV with `,`, `;` or tab; an optional header `code,name[,province]`).

    Codes may carry dots (31.72.01.1001) or not; the level follows from the
    length (2 province, 4 regency/city, 6 kecamatan, 10 kelurahan/desa).
    A place created earlier by a participant import under the same parent and
    name receives the code, so the two sources converge, unless two codes of
    the same parent share that name (then nobody can tell which it was).
    Raises `RegionImportError`; the caller rolls back.
    """
    rows, errors = _read_rows(_decode(data))
    if not rows and not errors:
        raise RegionImportError([], Refusal("file_empty"))
    _take_places_lock(session)
    ensure_provinces(session)
    _check(session, rows, errors)
    return _Writer(session, on_progress).write(rows)


def _take_places_lock(session) -> None:
    """Two region imports (or a region and a participant import) at once would both add the same codes:
    the second waits for the first (the participant import's lock) and then finds its places."""
    lock_for(session, "import:participants")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RegionImportError([], Refusal("file_encoding", line=line)) from None


def _read_rows(text: str) -> tuple[list[RegionRow], list[RowError]]:
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    delimiter = max((",", ";", "\t"), key=first.count)
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, errors, seen = [], [], {}
    columns = None
    for number, record in enumerate(records, start=1):
        if not record or not "".join(record).strip():
            continue
        if columns is None:
            columns = _columns(record)
            if columns[3]:  # a header row: nothing more in it
                continue
        row = _row(number, record, columns, errors)
        if row is None:
            continue
        if row.code in seen:
            errors.append(
                RowError(
                    number, None, Refusal("region_code_repeated", code=format_code(row.code), other=seen[row.code])
                )
            )
            continue
        seen[row.code] = number
        rows.append(row)
    return rows, errors


def _columns(first: list[str]) -> tuple[int, int, int | None, bool]:
    """(code column, name column, province column or None, whether `first` is a header)."""
    folded = [cell.strip().lower() for cell in first]
    if not any(cell in _CODE_COLUMNS for cell in folded):
        return 0, 1, None, False
    position = {cell: index for index, cell in enumerate(folded)}
    code = next(position[c] for c in folded if c in _CODE_COLUMNS)
    name = next((position[c] for c in folded if c in _NAME_COLUMNS), 1)
    province = next((position[c] for c in folded if c in _PROVINCE_COLUMNS), None)
    return code, name, province, True


def _row(number: int, record: list[str], columns, errors: list) -> RegionRow | None:
    code_at, name_at, province_at, _header = columns
    written = record[code_at].strip() if code_at < len(record) else ""
    code = written.replace(".", "")
    if not (code.isascii() and code.isdigit() and len(code) in (2, 4, 6, 10)):
        errors.append(RowError(number, None, Refusal("region_code_format", value=quoted(written))))
        return None
    name = record[name_at].strip() if name_at < len(record) else ""
    if not name:
        errors.append(RowError(number, None, Refusal("region_name_missing")))
        return None
    if len(name) > _MAX_NAME:
        errors.append(RowError(number, None, Refusal("too_long", max=_MAX_NAME)))
        return None
    province = record[province_at].strip() if province_at is not None and province_at < len(record) else None
    return RegionRow(number, code, name, province or None)


def _check(session, rows: list[RegionRow], errors: list[RowError]) -> None:
    """Every code against the Kemendagri list and its parent; raises with all the reasons at once,
    those found while reading (`errors`) included."""
    contradictions = 0
    codes = {row.code for row in rows}
    known_parents = _known_codes(session)
    cities = reference_cities()
    for row in rows:
        refusal = _against_reference(row, cities)
        if refusal is not None:
            contradictions += refusal.code in {
                "region_province_name",
                "region_city_name",
                "region_city_unknown",
                "region_province_column",
            }
            errors.append(RowError(row.line, None, refusal))
            continue
        if len(row.code) > 4:
            parent = row.code[: _LEVELS[len(row.code)][2]]
            if parent not in codes and parent not in known_parents:
                errors.append(
                    RowError(
                        row.line,
                        None,
                        Refusal("region_parent_missing", code=format_code(row.code), parent=format_code(parent)),
                    )
                )
    if errors:
        headline = Refusal("region_not_kemendagri", count=contradictions) if contradictions else None
        raise RegionImportError(errors, headline)


def _against_reference(row: RegionRow, cities: dict[str, str]) -> Refusal | None:
    province = row.code[:2]
    if province not in PROVINCE_NAMES:
        return Refusal("region_province_unknown", code=province)
    if row.province and province_code(row.province) != province:
        return Refusal(
            "region_province_column",
            code=format_code(row.code),
            official=PROVINCE_NAMES[province],
            name=quoted(row.province),
        )
    if len(row.code) == 2 and province_code(row.name) != province:
        return Refusal("region_province_name", code=province, official=PROVINCE_NAMES[province], name=quoted(row.name))
    if len(row.code) == 4:
        official = cities.get(row.code)
        if official is None:
            return Refusal("region_city_unknown", code=format_code(row.code))
        if not match_name([Known(None, official, name_key(official), row.code)], row.name, city_level=True):
            return Refusal("region_city_name", code=format_code(row.code), official=official, name=quoted(row.name))
    elif len(row.code) > 4 and row.code[:4] not in cities:
        return Refusal("region_city_unknown", code=format_code(row.code[:4]))
    return None


def _known_codes(session) -> set[str]:
    known = set()
    for model in (Province, City, District):
        known.update(session.scalars(select(model.code).where(model.code.is_not(None))))
    return known


class _Writer:
    """Writes checked rows level by level with a few set-based statements per level."""

    def __init__(self, session, on_progress):
        self.session = session
        self.on_progress = on_progress or (lambda done, total: None)
        self.result = RegionImportResult()
        self.ids = dict(session.execute(select(Province.code, Province.id)).all())
        self.done = 0

    def write(self, rows: list[RegionRow]) -> RegionImportResult:
        total = len(rows)
        by_level = defaultdict(list)
        for row in rows:
            if len(row.code) == 2:
                self.result.unchanged += 1  # the 38 provinces are reference data: checked, never renamed
                self.done += 1
            else:
                by_level[len(row.code)].append(row)
        for length in sorted(_LEVELS):
            self._write_level(length, by_level[length], total)
        self.session.flush()
        self.on_progress(total, total)
        return self.result

    def _write_level(self, length: int, rows: list[RegionRow], total: int) -> None:
        model, parent_column, parent_length = _LEVELS[length]
        parent = getattr(model, parent_column)
        existing = {
            code: (id_, name, parent_id)
            for code, id_, name, parent_id in self.session.execute(
                select(model.code, model.id, model.name, parent).where(model.code.is_not(None))
            )
        }
        self.ids.update({code: values[0] for code, values in existing.items()})
        uncoded = defaultdict(list)
        coded_names = defaultdict(set)  # (parent id, key) → codes that carry that name
        for id_, key, parent_id, code in self.session.execute(select(model.id, model.name_key, parent, model.code)):
            (coded_names[(parent_id, key)].add(code) if code else uncoded[(parent_id, key)].append(id_))
        for row in rows:
            coded_names[(self.ids[row.code[:parent_length]], name_key(row.name))].add(row.code)
        inserts, updates = [], []
        for row in rows:
            parent_id, key, name = self.ids[row.code[:parent_length]], name_key(row.name), row.name
            current = existing.get(row.code)
            if current is not None:
                if (current[1], current[2]) == (name, parent_id):
                    self.result.unchanged += 1
                else:
                    updates.append({"id": current[0], "name": name, "name_key": key, parent_column: parent_id})
                    self.result.updated += 1
                continue
            adoptable = uncoded.get((parent_id, key), [])
            if len(adoptable) == 1 and coded_names[(parent_id, key)] == {row.code}:
                updates.append(
                    {"id": adoptable.pop(), "code": row.code, "name": name, "name_key": key, parent_column: parent_id}
                )
                self.result.updated += 1
            else:
                inserts.append({"code": row.code, "name": name, "name_key": key, parent_column: parent_id})
                self.result.created += 1
        self.done += len(rows) - len(inserts) - len(updates)
        self._run(insert(model), inserts, total)
        for keys in {tuple(sorted(u)) for u in updates}:
            self._run(update(model), [u for u in updates if tuple(sorted(u)) == keys], total)
        self.ids.update(dict(self.session.execute(select(model.code, model.id).where(model.code.is_not(None))).all()))

    def _run(self, statement, parameters: list[dict], total: int) -> None:
        for start in range(0, len(parameters), _CHUNK):
            chunk = parameters[start : start + _CHUNK]
            self.session.execute(statement, chunk)
            self.done += len(chunk)
            self.on_progress(self.done, total)
