"""Creating and finding places."""
import csv
import io
from dataclasses import dataclass

from sqlalchemy import select

from telecollect.regions.data import PROVINCES
from telecollect.regions.models import City, District, Province, Village
from telecollect.regions.names import name_key

# (model, parent column, code length) for each level below the province.
_LEVELS = {
    4: (City, "province_id"),
    6: (District, "city_id"),
    10: (Village, "district_id"),
}


def ensure_provinces(session) -> None:
    """Insert the 38 provinces if they are missing. Safe to call repeatedly."""
    existing = set(session.scalars(select(Province.code)))
    for code, name, tz, _aliases in PROVINCES:
        if code not in existing:
            session.add(Province(code=code, name=name, timezone=tz))
    session.flush()


def province_keys() -> dict[str, str]:
    """Every accepted spelling of a province (name, alias, code) → its code."""
    keys = {}
    for code, name, _tz, aliases in PROVINCES:
        keys[code] = code
        for spelling in (name, f"Provinsi {name}", *aliases):
            keys[name_key(spelling)] = code
    return keys


class PlaceResolver:
    """Finds places by name within their parent, creating the missing ones.

    One resolver serves one import: it caches ids so that a million rows cost a
    handful of queries, and it is thrown away with the import's transaction.
    """

    def __init__(self, session):
        self.session = session
        self._province_ids = {p.code: p.id for p in session.scalars(select(Province))}
        self._province_keys = province_keys()
        self._ids: dict[tuple, int] = {}

    def province_id(self, name: str) -> int | None:
        code = self._province_keys.get(name_key(name))
        return self._province_ids.get(code) if code else None

    def city_id(self, province_id: int, name: str) -> int:
        return self._child_id(City, "province_id", province_id, name)

    def district_id(self, city_id: int, name: str) -> int:
        return self._child_id(District, "city_id", city_id, name)

    def village_id(self, district_id: int, name: str) -> int:
        return self._child_id(Village, "district_id", district_id, name)

    def _child_id(self, model, parent_column: str, parent_id: int, name: str) -> int:
        key = name_key(name)
        cache_key = (model.__tablename__, parent_id, key)
        place_id = self._ids.get(cache_key)
        if place_id is None:
            parent = getattr(model, parent_column)
            place_id = self.session.scalar(
                select(model.id).where(parent == parent_id, model.name_key == key)
            )
            if place_id is None:
                place = model(name=name.strip(), name_key=key, **{parent_column: parent_id})
                self.session.add(place)
                self.session.flush()
                place_id = place.id
            self._ids[cache_key] = place_id
        return place_id


@dataclass
class RegionImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class RegionImportError(ValueError):
    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


def import_regions(session, text_stream: io.TextIOBase) -> RegionImportResult:
    """Load places from a CSV of Kemendagri codes: `code,name` per line.

    Codes may carry dots (31.72.01.1001) or not; the level follows from the
    length (2 province, 4 city, 6 district, 10 village). A place already created
    by a participant import under the same parent and name receives the code,
    so the two sources converge. All-or-nothing: any bad row raises
    `RegionImportError` listing every bad row, and the caller rolls back.
    """
    ensure_provinces(session)
    rows, errors = _read_region_rows(text_stream)
    result = RegionImportResult()
    by_code = _existing_codes(session)
    for line, code, name in sorted(rows, key=lambda r: (len(r[1]), r[1])):
        if len(code) == 2:
            if code not in by_code:
                errors.append(f"row {line}, code: unknown province code {code}")
            else:
                result.unchanged += 1
            continue
        model, parent_column = _LEVELS[len(code)]
        parent = by_code.get(code[: {4: 2, 6: 4, 10: 6}[len(code)]])
        if parent is None:
            errors.append(f"row {line}, code: parent of {code} is neither in the file nor known")
            continue
        by_code[code] = _upsert_place(session, model, parent_column, parent.id, code, name, result)
    if errors:
        raise RegionImportError(errors)
    session.flush()
    return result


def _read_region_rows(text_stream):
    rows, errors = [], []
    for line, record in enumerate(csv.reader(text_stream), start=1):
        if not record or not "".join(record).strip():
            continue
        if len(record) < 2:
            errors.append(f"row {line}, name: missing")
            continue
        code, name = record[0].strip().replace(".", ""), record[1].strip()
        if line == 1 and code.lower() in {"code", "kode"}:
            continue
        if not code.isdigit() or len(code) not in (2, 4, 6, 10):
            errors.append(f"row {line}, code: expected 2, 4, 6 or 10 digits, got {record[0]!r}")
        elif not name:
            errors.append(f"row {line}, name: missing")
        else:
            rows.append((line, code, name))
    return rows, errors


def _existing_codes(session) -> dict:
    by_code = {}
    for model in (Province, City, District, Village):
        for place in session.scalars(select(model).where(model.code.is_not(None))):
            by_code[place.code] = place
    return by_code


def _upsert_place(session, model, parent_column, parent_id, code, name, result):
    key = name_key(name)
    place = session.scalar(select(model).where(model.code == code))
    if place is None:
        place = session.scalar(
            select(model).where(getattr(model, parent_column) == parent_id, model.name_key == key)
        )
    if place is None:
        place = model(code=code, name=name, name_key=key, **{parent_column: parent_id})
        session.add(place)
        result.created += 1
    elif (place.code, place.name, getattr(place, parent_column)) != (code, name, parent_id):
        place.code, place.name, place.name_key = code, name, key
        setattr(place, parent_column, parent_id)
        result.updated += 1
    else:
        result.unchanged += 1
    session.flush()
    return place
