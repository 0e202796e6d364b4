"""Importing participants and recording their arrears."""

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from functools import partial
from operator import attrgetter
from typing import Any, Protocol

from sqlalchemy import bindparam, select, update

from telecollect.audit import services as audit
from telecollect.branches.stamping import acting_branch_id
from telecollect.db import bulk_insert, one_of
from telecollect.errors import ServiceError
from telecollect.imports.reader import TableReader
from telecollect.imports.runner import ImportReport, ImportSpec, RowError, resume_applying, run_import
from telecollect.participants.importing import ParticipantRow, missing_columns, validate_row
from telecollect.participants.models import ArrearsSnapshot, Family, Participant
from telecollect.reasons import ColumnRefusal


class PlaceFinder(Protocol):
    """Finds (or adds) a row's places: `resolve(...)` gives an object with `as_dict()` of place ids or raises
    `ColumnRefusal`; `created` lists the places it added."""

    created: list

    def resolve(
        self, province: str, city: str, kecamatan: str, kelurahan: str | None, kelurahan_code: str | None = None
    ) -> Any: ...


# Participant attributes an import may change; compared to decide "unchanged".
_PROFILE = (
    "nik",
    "name",
    "phone",
    "phone2",
    "segment",
    "klass",
    "family_id",
    "province_id",
    "city_id",
    "district_id",
    "village_id",
    "rt",
    "rw",
    "address",
    "is_autodebit",
)


def import_participants(
    session,
    reader: TableReader,
    *,
    places: Callable[..., PlaceFinder],
    after_all: Callable[..., None],
    opted_in: Callable[..., None] | None = None,
    **options,
) -> ImportReport:
    """Import a participant/arrears file (see `imports.runner.run_import` for the options).

    Participants are matched by card number: changed ones are updated, a
    changed arrears figure adds a snapshot, identical rows change nothing.
    `places(session, allow_new=…)` makes the place finder for the import (the
    regions domain's); `after_all(session, run_id, now)` runs once when the
    import is kept: what the rest of the system does about the new arrears
    (both given by `workflows.imports`). `opted_in(session, phones, now)` gets, batch by batch, the numbers
    whose row says `whatsapp_opt_in` (the consent ledger is another domain's: the workflow records them).
    """
    writer = partial(_BatchWriter, places=places, after_all=after_all, opted_in=opted_in)
    return run_import(session, reader, replace(PARTICIPANTS, make_writer=writer), **options)


class _BatchWriter:
    """Writes validated rows a batch at a time, with a few set-based queries each."""

    def __init__(
        self,
        session,
        run_id: int,
        report: ImportReport,
        today: date,
        now: datetime,
        allow_new_places: bool = True,
        *,
        places: Callable[..., PlaceFinder],
        after_all: Callable[..., None],
        opted_in: Callable[..., None] | None = None,
    ):
        self.session = session
        self.after_all = after_all
        self.opted_in = opted_in
        self.now = now
        self.run_id = run_id
        self.report = report
        self.places = places(session, allow_new=allow_new_places)
        self._place_cache: dict[tuple, dict | ColumnRefusal] = {}

    def check_places(self, keys: dict[tuple, None]) -> bool:
        """Resolve each distinct place of the file once (the runner rolls back what this adds); the report
        lists the places the import adds (or would add). Whether a row would be refused for its places."""
        refused = False
        for names in keys:
            refused = isinstance(self._resolve(names), ColumnRefusal) or refused
        self.report.new_places = list(self.places.created)
        return refused

    def finish(self):
        self.after_all(self.session, self.run_id, self.now)

    def close(self):
        pass

    def write(self, batch) -> list[tuple[tuple[int, dict], list[RowError]]]:
        """Write one batch (its card numbers are distinct: repeats are refused while staging); return the
        rows rejected on the way, with why."""
        rejected, placed = [], []
        for row, raw in batch:
            place_ids = self._place_ids(row)
            if isinstance(place_ids, ColumnRefusal):
                rejected.append(((row.line, raw), [RowError(row.line, place_ids.column, place_ids.refusal)]))
                continue
            placed.append((row, place_ids))
        if placed:
            self._write_rows(placed)
            phones = [row.phone for row, _ in placed if row.whatsapp_opt_in and row.phone]
            if phones and self.opted_in is not None:
                self.opted_in(self.session, phones, self.now)
        return rejected

    def _place_ids(self, row: ParticipantRow) -> dict | ColumnRefusal:
        """The row's place ids, or why they cannot be settled; each spelling is resolved once per import."""
        return self._resolve(_place_names(row))

    def _resolve(self, names: tuple) -> dict | ColumnRefusal:
        if names not in self._place_cache:
            try:
                self._place_cache[names] = self.places.resolve(*names).as_dict()
            except ColumnRefusal as exc:
                self._place_cache[names] = exc
        return self._place_cache[names]

    def _write_rows(self, placed):
        session = self.session
        # Every family of the batch is this branch's once `_family_ids` is done (found here, new here, or
        # moved here), so every row written is too: said outright, bulk_insert need not look each one up.
        here = acting_branch_id(session)
        family_ids = self._family_ids({row.family_key: place_ids for row, place_ids in placed}, here)
        existing = {
            r.card_no: r
            for r in session.execute(
                select(
                    Participant.id,
                    Participant.card_no,
                    Participant.arrears_as_of,
                    Participant.months_in_arrears,
                    Participant.arrears_amount,
                    *[getattr(Participant, name) for name in _PROFILE],
                )
                .where(one_of(session, Participant.card_no, [row.card_no for row, _ in placed]))
                .execution_options(every_branch=True)  # a card number is national: found in any branch
            ).all()
        }
        now = self.now
        inserts, updates, snapshots, corrections = [], [], [], []
        for row, place_ids in placed:
            profile = _profile(row, place_ids, family_ids[row.family_key])
            current = existing.get(row.card_no)
            if current is None:
                inserts.append(
                    {
                        **profile,
                        "card_no": row.card_no,
                        "created_at": now,
                        "updated_at": now,
                        "is_phone_invalid": False,
                        "branch_id": here,
                        **_current_arrears(row),
                    }
                )
                continue
            changes = {k: v for k, v in profile.items() if getattr(current, k) != v}
            if "phone" in changes:
                changes["is_phone_invalid"] = False  # a new number deserves a new try
            adds_snapshot, arrears_changes = _arrears_effect(current, row)
            if adds_snapshot:
                corrections.append(_snapshot(current.id, row, self.run_id, here))
            changes.update(arrears_changes)
            if changes or adds_snapshot:
                if changes:
                    updates.append({"id": current.id, "updated_at": now, **changes})
                self.report.updated += 1
            else:
                self.report.unchanged += 1
        if inserts:
            # Plain executemany, then one query for the new ids: the ORM's
            # bulk INSERT … RETURNING is several times slower on SQLite.
            bulk_insert(session, Participant.__table__, inserts)
            by_card = {row.card_no: row for row, _ in placed}
            created = session.execute(
                select(Participant.id, Participant.card_no)
                .where(one_of(session, Participant.card_no, [r["card_no"] for r in inserts]))
                .execution_options(every_branch=True)
            ).all()
            snapshots.extend(_snapshot(pid, by_card[card], self.run_id, here) for pid, card in created)
            self.report.created += len(created)
        for group in _group_by_keys(updates):
            session.execute(update(Participant), group)
        self._follow_families([current.id for current in existing.values()], here)
        self._replace_snapshots(corrections)
        bulk_insert(session, ArrearsSnapshot.__table__, snapshots + corrections)

    def _family_ids(self, places: dict[str, dict], here: int) -> dict[str, int]:
        """Family ids by key, creating new families (in branch `here`, as are those found elsewhere: they
        move here); a family lives where its members do."""
        session = self.session
        found, moved, other_branch = {}, [], []
        for key, family_id, district_id, village_id, branch_id in session.execute(
            select(Family.key, Family.id, Family.district_id, Family.village_id, Family.branch_id)
            .where(one_of(session, Family.key, places))
            .execution_options(every_branch=True)
        ).all():
            found[key] = family_id
            if branch_id != here:
                other_branch.append((family_id, key, branch_id))
            place = places[key]
            if (district_id, village_id) != (place["district_id"], place["village_id"]):
                moved.append({"id": family_id, "district_id": place["district_id"], "village_id": place["village_id"]})
        missing = [
            {
                "key": key,
                "created_at": self.now,
                "credit": 0,
                "district_id": places[key]["district_id"],
                "village_id": places[key]["village_id"],
                "branch_id": here,
            }
            for key in places
            if key not in found
        ]
        if missing:
            bulk_insert(session, Family.__table__, missing)
            found.update(
                session.execute(
                    select(Family.key, Family.id)
                    .where(one_of(session, Family.key, [m["key"] for m in missing]))
                    .execution_options(every_branch=True)
                ).all()
            )
        if moved:
            session.execute(update(Family), moved)
        if other_branch:
            self._move_families(other_branch, here)
        return found

    def _move_families(self, families: list[tuple[int, str, int]], here: int) -> None:
        """A card number is national: a family another branch had now belongs to this one, all its members
        with it. Its history keeps the branch it happened in; its live work there closes (`moved_branch`,
        after the import); the move is in this run's report and in both branches' audit logs."""
        session = self.session
        ids = [family_id for family_id, _key, _branch in families]
        session.execute(
            update(Family).where(Family.id.in_(ids)).values(branch_id=here).execution_options(synchronize_session=False)
        )
        session.execute(
            update(Participant)
            .where(Participant.family_id.in_(ids))
            .values(branch_id=here)
            .execution_options(synchronize_session=False)
        )
        for family_id, key, old_branch in families:
            self.report.moved_branch.append(key)
            detail = f"family {key}: branch {old_branch} -> {here}, import run {self.run_id}"
            for branch_id in (old_branch, here):
                audit.record(session, "family.moved_branch", detail=detail, branch_id=branch_id, target_id=family_id)

    def _follow_families(self, participant_ids: list[int], here: int) -> None:
        """A member on file who joined a family of this branch (a card on file, a family new here) is this
        branch's now. Members of families moved here moved with them (`_move_families`); new members are
        written here; every other member of a family here is here already."""
        if participant_ids:
            self.session.execute(
                update(Participant)
                .where(one_of(self.session, Participant.id, participant_ids), Participant.branch_id != here)
                .values(branch_id=here)
                .execution_options(synchronize_session=False)
            )

    def _replace_snapshots(self, snapshots):
        """A second figure for a date already on file is a correction: it replaces the first.

        Only participants already on file can have one, so new ones skip this."""
        if snapshots:
            self.session.execute(
                ArrearsSnapshot.__table__.delete().where(
                    ArrearsSnapshot.participant_id == bindparam("p"), ArrearsSnapshot.as_of == bindparam("d")
                ),
                [{"p": s["participant_id"], "d": s["as_of"]} for s in snapshots],
            )


def _profile(row: ParticipantRow, place_ids: dict, family_id: int) -> dict:
    return {
        "nik": row.nik,
        "name": row.name,
        "phone": row.phone,
        "phone2": row.phone2,
        "segment": row.segment,
        "klass": row.klass,
        "family_id": family_id,
        "rt": row.rt,
        "rw": row.rw,
        "address": row.address,
        "is_autodebit": row.is_autodebit,
        **place_ids,
    }


def _current_arrears(row: ParticipantRow) -> dict:
    return {
        "months_in_arrears": row.months_in_arrears,
        "arrears_amount": row.arrears_amount,
        "arrears_as_of": row.as_of,
    }


def _arrears_effect(current, row: ParticipantRow) -> tuple[bool, dict]:
    """Whether the row adds a snapshot, and the current-arrears columns it changes.

    A figure equal to the current one adds nothing, whatever its date. A figure
    dated before the current one is history: it becomes a snapshot but does not
    replace what is current.
    """
    if (current.months_in_arrears, current.arrears_amount) == (row.months_in_arrears, row.arrears_amount):
        return False, {}
    if current.arrears_as_of is not None and row.as_of < current.arrears_as_of:
        return True, {}
    return True, _current_arrears(row)


def _snapshot(participant_id: int, row: ParticipantRow, run_id: int, branch_id: int) -> dict:
    return {
        "branch_id": branch_id,
        "participant_id": participant_id,
        "as_of": row.as_of,
        "months_in_arrears": row.months_in_arrears,
        "amount": row.arrears_amount,
        "import_run_id": run_id,
    }


def _group_by_keys(rows: list[dict]) -> list[list[dict]]:
    """Bulk UPDATE needs every parameter set of one statement to name the same columns."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())


_place_names = attrgetter("province", "city", "kecamatan", "kelurahan", "kelurahan_code")


def resume_imports(
    session,
    *,
    places: Callable[..., PlaceFinder],
    after_all: Callable[..., None],
    settings,
    opted_in: Callable[..., None] | None = None,
) -> list[ImportReport]:
    """Finish the participant imports a process left half-applied (killed mid-way); see `import_participants`
    for `places`, `after_all` and `opted_in`."""
    writer = partial(_BatchWriter, places=places, after_all=after_all, opted_in=opted_in)
    spec = replace(PARTICIPANTS, make_writer=writer)
    return resume_applying(session, spec, settings=settings)


PARTICIPANTS = ImportSpec(
    kind="participants",
    missing_columns=missing_columns,
    validate_row=validate_row,
    make_writer=_BatchWriter,
    has_places=True,
    row_type=ParticipantRow,
    unique_key="card_no",
    place_key=_place_names,
    roll_forward=True,
)


def add_number(participant: Participant, phone: str) -> str:
    """A number heard on a call (E.164, already validated) kept on the participant: into `phone2` when it is
    free, in place of a number a call marked invalid, or nowhere new when it is already theirs. Returns the
    slot written ("phone", "phone2") or "known". Refuses `ServiceError("heard_number_no_slot")` when both
    numbers are valid and taken (a supervisor corrects the file)."""
    if phone in (participant.phone, participant.phone2):
        return "known"
    if participant.phone is None or participant.is_phone_invalid:
        participant.phone, participant.is_phone_invalid = phone, False
        return "phone"
    if participant.phone2 is None:
        participant.phone2 = phone
        return "phone2"
    raise ServiceError("heard_number_no_slot", "phone")
