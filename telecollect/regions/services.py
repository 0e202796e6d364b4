"""Creating and finding places."""

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import select

from telecollect.reasons import PLACE_LEVELS, ColumnRefusal, Refusal, quoted
from telecollect.regions.data import PROVINCES, SPLIT_PROVINCES, reference_cities
from telecollect.regions.matching import Known, match_name, province_code
from telecollect.regions.models import City, District, Province, Village
from telecollect.regions.names import name_key


def ensure_provinces(session) -> None:
    """Insert the 38 provinces if they are missing. Safe to call repeatedly."""
    existing = set(session.scalars(select(Province.code)))
    for code, name, tz, _aliases in PROVINCES:
        if code not in existing:
            session.add(Province(code=code, name=name, timezone=tz))
    session.flush()


@lru_cache(maxsize=64)
def reference_cities_of(province: str) -> list[Known]:
    """The Kemendagri list's regencies and cities of one province, ready for matching."""
    return [
        Known(None, name, name_key(name), code) for code, name in reference_cities().items() if code[:2] == province
    ]


#: A row's place that cannot be settled: which column, and the reason.
PlaceError = ColumnRefusal


@dataclass(frozen=True)
class NewPlace:
    """A place an import added (or, in a dry or refused run, would add)."""

    level: str  #: "city", "kecamatan" or "kelurahan"
    name: str
    parent: str
    code: str | None  #: set when the place came from the Kemendagri reference list


@dataclass(frozen=True)
class PlaceIds:
    province_id: int
    city_id: int
    district_id: int
    village_id: int | None

    def as_dict(self) -> dict:
        return {
            "province_id": self.province_id,
            "city_id": self.city_id,
            "district_id": self.district_id,
            "village_id": self.village_id,
        }


_LEVELS = {
    "city": (City, "province_id"),
    "kecamatan": (District, "city_id"),
    "kelurahan": (Village, "district_id"),
}


class PlaceResolver:
    """Finds a row's places by code or by name within their parent, adding missing ones.

    Names are labels: a name that fits two places is a row error naming both,
    never a guess. A regency or city missing from the database is taken from
    the Kemendagri list (with its code) when the list knows it, and a pre-2022
    Papua province follows the regency that moved. Every place added is kept in
    `created`, so the import's summary can list it; with `allow_new=False` a
    row that needs a new place is refused instead.

    One resolver serves one import: it caches what it read, so a million rows
    cost a query per parent place, and it is thrown away with the import.
    """

    def __init__(self, session, *, allow_new: bool = True):
        self.session = session
        self.allow_new = allow_new
        self.created: list[NewPlace] = []
        self._provinces = {p.code: (p.id, p.name) for p in session.scalars(select(Province))}
        self._children: dict[tuple[str, int], list[Known]] = {}

    def resolve(
        self, province: str, city: str, kecamatan: str, kelurahan: str | None, kelurahan_code: str | None = None
    ) -> PlaceIds:
        """The ids of a row's places; raises `PlaceError` naming the column at fault."""
        code = province_code(province)
        if code is None:
            raise PlaceError("province", Refusal("province_unknown", value=quoted(province)))
        province_id, city_id = self._city(code, city)
        district_id = self._child("kecamatan", city_id, kecamatan, parent_name=city)
        if kelurahan_code:
            village_id = self._village_by_code(kelurahan_code, district_id, kecamatan, kelurahan)
        elif kelurahan:
            village_id = self._child("kelurahan", district_id, kelurahan, parent_name=kecamatan)
        else:
            village_id = None
        return PlaceIds(province_id, city_id, district_id, village_id)

    def _city(self, code: str, name: str) -> tuple[int, int]:
        province_id = self._provinces[code][0]
        found = self._match("city", province_id, name)
        if found is not None:
            return province_id, found
        for successor in SPLIT_PROVINCES.get(code, ()):
            successor_id = self._provinces[successor][0]
            moved = self._match("city", successor_id, name)
            if moved is None and (listed := self._reference_city(successor, name)) is not None:
                moved = self._add_city_from_reference(successor, listed, name)
            if moved is not None:
                return successor_id, moved
        if (listed := self._reference_city(code, name)) is not None:
            return province_id, self._add_city_from_reference(code, listed, name)
        return province_id, self._add("city", province_id, name, self._provinces[code][1])

    def _child(self, level: str, parent_id: int, name: str, parent_name: str) -> int:
        found = self._match(level, parent_id, name)
        return found if found is not None else self._add(level, parent_id, name, parent_name)

    def _match(self, level: str, parent_id: int, name: str) -> int | None:
        matches = match_name(self._known(level, parent_id), name, city_level=level == "city")
        if len(matches) > 1:
            raise _ambiguous(level, name, matches)
        return matches[0].id if matches else None

    def _known(self, level: str, parent_id: int) -> list[Known]:
        cache_key = (level, parent_id)
        if cache_key not in self._children:
            model, parent_column = _LEVELS[level]
            self._children[cache_key] = [
                Known(id_, name, key, code)
                for id_, name, key, code in self.session.execute(
                    select(model.id, model.name, model.name_key, model.code).where(
                        getattr(model, parent_column) == parent_id
                    )
                )
            ]
        return self._children[cache_key]

    def _reference_city(self, province: str, name: str) -> Known | None:
        matches = match_name(reference_cities_of(province), name, city_level=True)
        if len(matches) > 1:
            raise _ambiguous("city", name, matches)
        return matches[0] if matches else None

    def _add_city_from_reference(self, province: str, listed: Known, name: str) -> int:
        existing = self.session.scalar(select(City.id).where(City.code == listed.code))
        if existing is not None:  # known under another province: the code decides
            return existing
        return self._add(
            "city",
            self._provinces[province][0],
            listed.name,
            self._provinces[province][1],
            code=listed.code,
            written=name,
        )

    def _add(
        self,
        level: str,
        parent_id: int,
        name: str,
        parent_name: str,
        *,
        code: str | None = None,
        written: str | None = None,
    ) -> int:
        if not self.allow_new:
            raise PlaceError(
                level, Refusal("place_new_refused", level=PLACE_LEVELS[level], value=quoted(written or name))
            )
        model, parent_column = _LEVELS[level]
        place = model(name=name.strip(), name_key=name_key(name), code=code, **{parent_column: parent_id})
        self.session.add(place)
        self.session.flush()
        self._known(level, parent_id).append(Known(place.id, place.name, place.name_key, code))
        self.created.append(NewPlace(level, place.name, parent_name.strip(), code))
        return place.id

    def _village_by_code(self, code: str, district_id: int, kecamatan: str, kelurahan: str | None) -> int:
        shown = quoted(code)
        # The kecamatan's villages are read once for name matching anyway: look there first, and search
        # the whole list only for a code that is not there (to say where it is, or that it is unknown).
        village = next((v for v in self._known("kelurahan", district_id) if v.code == code), None)
        if village is None:
            found = self.session.execute(
                select(Village.name, District.name)
                .join(District, District.id == Village.district_id)
                .where(Village.code == code)
            ).first()
            if found is None:
                raise PlaceError("kelurahan_code", Refusal("village_code_unknown", value=shown))
            village_name, district_name = found
            raise PlaceError(
                "kelurahan_code",
                Refusal(
                    "village_code_elsewhere",
                    value=shown,
                    village=village_name,
                    district=district_name,
                    kecamatan=quoted(kecamatan),
                ),
            )
        if kelurahan and not match_name([village], kelurahan):
            raise PlaceError(
                "kelurahan_code",
                Refusal("village_code_name", value=shown, village=village.name, name=quoted(kelurahan)),
            )
        return village.id


def _ambiguous(level: str, name: str, matches: list[Known]) -> PlaceError:
    """A name that fits several places: the row says which, never a guess."""
    return PlaceError(
        level,
        Refusal(
            "place_ambiguous",
            level=PLACE_LEVELS[level],
            value=quoted(name),
            count=len(matches),
            places=", ".join(m.label() for m in matches),
        ),
    )
