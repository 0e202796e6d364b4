"""Which branch a new row belongs to: the one rule, applied to every write.

A row of a family (a participant, a work item, a contact attempt, a promise, a payment, a plan, a
message…) belongs to its family's branch, or its parent row's (a snapshot its participant's, an
installment its plan's, an SMS event its message's). A row with no such parent (a family, an import
run, an audit event, a handout) belongs to the *acting* branch: the signed-in user's, the command's
`--branch`, the job's branch. An installation with one branch needs none of this said: its one
branch acts. Code may always set `branch_id` itself; it is then kept.

The ORM's new objects are stamped before each flush; rows written around the ORM
(`telecollect.db.bulk_insert`, `insert_ignoring_duplicates`) through the kernel's hook.
"""

from typing import Any

from sqlalchemy import Table, event, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from telecollect.branches.models import Branch
from telecollect.db import set_branch_filler

#: `session.info` key of the acting branch's id.
ACTING = "telecollect.acting_branch_id"
#: Parent columns, in the order they are asked: the first one set names the row's branch.
PARENT_COLUMNS = (
    "family_id",
    "participant_id",
    "plan_id",
    "message_id",
    "work_item_id",
    "run_id",
    "import_run_id",
    "attempt_id",
    "inbound_id",
)
#: Tables whose rows carry a branch_id but never hand it to a child by foreign key.
NOT_PARENTS = frozenset({"users", "branches", "deputy_regions"})


class NoActingBranch(RuntimeError):
    """A row needs a branch and none was named, with more than one branch in the installation."""


def act_in_branch(session: Session, branch_id: int | None) -> None:
    """From now on, rows this session writes without a parent belong to `branch_id` (None: not said)."""
    if branch_id is None:
        session.info.pop(ACTING, None)
    else:
        session.info[ACTING] = branch_id


def acting_branch_or_none(session: Session) -> int | None:
    """The branch named for this session (`act_in_branch`), or None (no query)."""
    named = session.info.get(ACTING)
    return int(named) if named is not None else None


def own_or_installation(column, branch_id: int | None):
    """(condition, order) reading a settings row a branch may override: the branch's own row first, else the
    installation's (NULL) row. E.g. `select(T).where(T.key == k, cond).order_by(order).limit(1)`."""
    if branch_id is None:
        return column.is_(None), column.is_(None)
    return or_(column.is_(None), column == branch_id), column.is_(None)


def only_of(column, branch_id: int | None):
    """The condition for exactly `branch_id`'s own settings row (None: the installation's row), the one a
    settings page saves, reverts or lists as the branch's own."""
    return column.is_(None) if branch_id is None else column == branch_id


def acting_branch_id(session: Session) -> int:
    """The branch a parentless row belongs to: the one named (`act_in_branch`), else the only branch."""
    named = session.info.get(ACTING)
    if named is not None:
        return int(named)
    ids = session.execute(select(Branch.id).order_by(Branch.id).limit(2)).scalars().all()
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise NoActingBranch("the installation has no branch: run the migrations (flask db upgrade)")
    raise NoActingBranch("more than one branch: name the branch (--branch CODE, or a user of a branch)")


#: Parentless rows no branch asked for that may still be written with several branches: an SMS to a number
#: no family has (an answer to an unknown sender, through a webhook) goes to the installation's first branch.
FIRST_BRANCH_FALLBACK = frozenset({"sms_messages"})


def _acting_or_none(session: Session) -> int | None:
    """For a row that may belong to no branch: the acting branch, or the only one, else None."""
    try:
        return acting_branch_id(session)
    except NoActingBranch:
        return None


def _acting_or_first(session: Session, table: Table) -> int:
    try:
        return acting_branch_id(session)
    except NoActingBranch:
        if table.name not in FIRST_BRANCH_FALLBACK:
            raise
        first = session.scalar(select(Branch.id).order_by(Branch.id).limit(1))
        assert first is not None
        return int(first)


def _parent_branch(session: Session, obj: Any, table: Table, values: dict[str, Any]) -> int | None:
    for name in PARENT_COLUMNS:
        if name not in table.c or values.get(name) is None:
            continue
        for fk in table.c[name].foreign_keys:
            target = fk.column.table
            if target.name in NOT_PARENTS or "branch_id" not in target.c:
                continue
            loaded = _loaded(session, obj, target, values[name])
            if loaded is not None and loaded.branch_id is not None:
                return int(loaded.branch_id)
            found = session.execute(select(target.c.branch_id).where(fk.column == values[name])).scalar()
            if found is not None:
                return int(found)
    return None


def _loaded(session: Session, obj: Any, target: Table, key: Any) -> Any:
    """The parent row already in the session (no query), or None."""
    for mapper in obj.__mapper__.registry.mappers:
        if mapper.local_table is target:
            return session.identity_map.get(identity_key(mapper.class_, key))
    return None


def _stamp_object(session: Session, obj: Any, seen: set[int]) -> None:
    if getattr(obj, "branch_id", None) is not None or id(obj) in seen:
        return
    seen.add(id(obj))
    mapper = obj.__mapper__
    # A parent object of the same flush (a new family with its new participant) is stamped first.
    for rel in mapper.relationships:
        if rel.direction.name != "MANYTOONE":
            continue
        local = [c.key for c in rel.local_columns]
        if not any(name in PARENT_COLUMNS for name in local) or rel.mapper.local_table.name in NOT_PARENTS:
            continue
        parent = obj.__dict__.get(rel.key)
        if parent is not None and hasattr(parent, "branch_id"):
            _stamp_object(session, parent, seen)
            if parent.branch_id is not None:
                obj.branch_id = parent.branch_id
                return
    table = mapper.local_table
    values = {name: getattr(obj, name, None) for name in PARENT_COLUMNS if name in table.c}
    branch = _parent_branch(session, obj, table, values)
    if branch is None and not table.c.branch_id.nullable:
        branch = _acting_or_first(session, table)
    elif branch is None:
        branch = _acting_or_none(session)
    obj.branch_id = branch


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    seen: set[int] = set()
    for obj in list(session.new):
        table = getattr(obj.__mapper__, "local_table", None)
        if table is None or "branch_id" not in table.c or table.name in NOT_PARENTS:
            continue
        if table.name in _SETTINGS_TABLES:
            continue  # NULL is the installation's row: never guessed
        _stamp_object(session, obj, seen)


#: Rows whose NULL branch means "the installation's" (the branches' overrides): left as written.
_SETTINGS_TABLES = frozenset(
    {"message_templates", "reminder_settings", "holidays", "contact_settings", "whatsapp_contents"}
)


def fill_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Stamp rows written around the ORM (the kernel's hook): by parent, one query per parent id set."""
    if "branch_id" not in table.c or table.name in _SETTINGS_TABLES or table.name in NOT_PARENTS:
        return
    if all(row.get("branch_id") is not None for row in rows):
        return
    for name in PARENT_COLUMNS:
        if name not in table.c:
            continue
        ids = {row[name] for row in rows if row.get("branch_id") is None and row.get(name) is not None}
        if not ids:
            continue
        for fk in table.c[name].foreign_keys:
            target = fk.column.table
            if target.name in NOT_PARENTS or "branch_id" not in target.c:
                continue
            found: dict[Any, int] = {}
            id_list = list(ids)
            for start in range(0, len(id_list), 5000):
                for key, branch in session.execute(
                    select(fk.column, target.c.branch_id).where(fk.column.in_(id_list[start : start + 5000]))
                ):
                    found[key] = branch
            for row in rows:
                if row.get("branch_id") is None and row.get(name) in found:
                    row["branch_id"] = found[row[name]]
    missing = [row for row in rows if row.get("branch_id") is None]
    if missing:
        acting = _acting_or_first(session, table) if not table.c.branch_id.nullable else _acting_or_none(session)
        for row in missing:
            row["branch_id"] = acting


def register() -> None:
    """Stamp every session's new rows (once per process)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
    set_branch_filler(fill_rows)
