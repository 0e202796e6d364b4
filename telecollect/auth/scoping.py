"""Where a user may work: the one rule for cadre areas.

A cadre covers the kecamatan and kelurahan of her areas; staff see everywhere.
Participant lists, the cadre work list, claims and page access all ask here,
so a cadre never sees or touches a family outside her areas on one screen and
inside them on another.
"""

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, false, or_, select, true
from sqlalchemy.orm import Session, with_loader_criteria

from telecollect.auth.models import READ_ONLY_ROLES, Role, User
from telecollect.branches.models import Branch
from telecollect.errors import Forbidden, NotFound, ServiceError
from telecollect.extensions import db


@dataclass(frozen=True)
class AreaScope:
    """The kecamatan and kelurahan ids a user covers; `everywhere` for staff."""

    everywhere: bool
    district_ids: tuple[int, ...] = ()
    village_ids: tuple[int, ...] = ()

    def condition(self, district_column, village_column):
        """A SQL condition on a row's kecamatan and kelurahan columns."""
        if self.everywhere:
            return true()
        if not self.district_ids and not self.village_ids:
            return false()
        return or_(district_column.in_(self.district_ids), village_column.in_(self.village_ids))

    def covers(self, district_id: int | None, village_id: int | None) -> bool:
        """Whether a row in that kecamatan and kelurahan is inside the scope."""
        return (
            self.everywhere
            or district_id in self.district_ids
            or (village_id is not None and village_id in self.village_ids)
        )

    def visible(self, members: Iterable[Any]) -> list[Any]:
        """The members of a family she may see: a family can span areas, and a member outside hers
        (with their number and RT/RW) does not exist for her, whatever screen or endpoint shows the family."""
        return [m for m in members if self.covers(m.district_id, m.village_id)]

    def as_lists(self) -> tuple[list[int] | None, list[int] | None]:
        """(district ids, village ids), or (None, None) for everywhere: what place pickers take."""
        if self.everywhere:
            return None, None
        return list(self.district_ids), list(self.village_ids)


def areas_of(user: User) -> AreaScope:
    """Her own areas, whatever the role (a cadre's work list and claims)."""
    return AreaScope(
        False,
        tuple(a.district_id for a in user.areas if a.district_id),
        tuple(a.village_id for a in user.areas if a.village_id),
    )


def scope_of(user: User) -> AreaScope:
    """What `user` may see: a cadre her areas, staff everywhere."""
    return areas_of(user) if user.role == Role.cadre else AreaScope(True)


def work_scope(user: User | None) -> AreaScope:
    """Where `user` may be given work: a cadre only families she can see and claim (her areas),
    a telecollector (or the team pool, `None`) anywhere."""
    return AreaScope(True) if user is None else scope_of(user)


# -- Branches: which branches' rows a user may see (issue 16) ----------------------------------------------
#
# The one rule: a branch's staff see their branch; an installation administrator and a national viewer
# every branch; a regional supervisor the branches of her deputy region. Regional supervisors and national
# viewers change nothing (403) and see NIKs and phones masked.
#
# It is applied in one place: a request (or a command's `--branch`) enters its scope on its session
# (`enter_branch_scope`), and from then on every ORM SELECT of that session, whatever module wrote it (pages,
# the API, exports, reports, claims), reads only the rows of those branches (`with_loader_criteria` on every
# model with a `branch_id`, relationship loads included). An id of another branch is then simply not found
# (404). A statement that must see every branch (a uniqueness check: a card number is national) says so with
# `every_branch(stmt)`. Core statements on bare tables are not filtered: they must filter by `branch_condition`.

SCOPE_KEY = "telecollect.branch_scope"
#: Tables with a `branch_id` that are not filtered: the settings a branch overrides (NULL = the installation's
#: row, read through the branch's settings). Users are: a branch's staff see their branch's accounts only
#: (installation-level accounts, with no branch, only by those who see every branch).
UNFILTERED = frozenset(
    {
        "branches",
        "deputy_regions",
        "message_templates",
        "reminder_settings",
        "holidays",
        "contact_settings",
        "whatsapp_contents",
    }
)


@dataclass(frozen=True)
class BranchScope:
    """The branch ids a user may see (None: every branch), and whether she may only read."""

    branch_ids: tuple[int, ...] | None
    read_only: bool = False

    @property
    def every_branch(self) -> bool:
        return self.branch_ids is None

    def condition(self, column):
        """A SQL condition on a row's branch column."""
        if self.branch_ids is None:
            return true()
        if not self.branch_ids:
            return false()
        if len(self.branch_ids) == 1:
            return column == self.branch_ids[0]
        return column.in_(self.branch_ids)

    def covers(self, branch_id: int | None) -> bool:
        return self.branch_ids is None or branch_id in self.branch_ids


#: Outside any request or command scope (jobs, webhooks, the CLI without `--branch`): every branch.
EVERY_BRANCH = BranchScope(None)


def branch_scope(session: Session, user: User) -> BranchScope:
    """What `user` may see: her branch; her deputy region's branches (regional supervisor, read-only);
    every branch (installation administrator; national viewer, read-only)."""
    if user.role == Role.national_viewer:
        return BranchScope(None, read_only=True)
    if user.role == Role.regional_supervisor:
        ids = session.scalars(
            select(Branch.id).where(Branch.deputy_region_id == user.deputy_region_id).order_by(Branch.id)
        ).all()
        return BranchScope(tuple(ids), read_only=True)
    if user.is_installation_admin:
        return BranchScope(None)
    return BranchScope((user.branch_id,) if user.branch_id is not None else ())


def enter_branch_scope(session: Session, scope: BranchScope) -> None:
    """From now on this session reads only `scope`'s branches (and, read-only, writes nothing of theirs)."""
    session.info[SCOPE_KEY] = scope


def current_branch_scope(session: Session) -> BranchScope:
    """The scope the session entered (EVERY_BRANCH when none)."""
    scope = session.info.get(SCOPE_KEY)
    return scope if isinstance(scope, BranchScope) else EVERY_BRANCH


def narrow_branch_scope(session: Session, branch_ids: tuple[int, ...]) -> BranchScope:
    """Read only `branch_ids` of what the session may already read (a drill-down into a region or a branch):
    never wider than before, read-only if it was. Returns the scope entered."""
    scope = current_branch_scope(session)
    narrowed = BranchScope(tuple(i for i in branch_ids if scope.covers(i)), read_only=scope.read_only)
    enter_branch_scope(session, narrowed)
    return narrowed


def every_branch(statement):
    """`statement`, read across every branch whatever the session's scope (uniqueness checks)."""
    return statement.execution_options(every_branch=True)


def settings_branch(session: Session, user: User, code: str | None) -> Branch | None:
    """Whose settings a settings page (contact rules, SMS and WhatsApp templates, reminders, holidays) shows
    and saves for `user`: a branch's staff their own branch's, never the installation's nor another branch's;
    an installation administrator (and, to read, a regional or national reader) the branch she names by its
    code, or the installation's (None) without one.

    Raises ServiceError("unknown_branch") for a code no branch has (installation administrator),
    NotFound("unknown_branch") for another branch's code named by a branch's staff, or a branch outside a
    reader's region (as if it did not exist),
    Forbidden("settings_branch_none") for a user of no branch who does not administer the installation."""
    code = (code or "").strip()
    if user.is_installation_admin or user.role in READ_ONLY_ROLES:
        # The readers (who change nothing) look at the installation's, or at a branch they may see.
        if not code:
            return None
        branch = session.scalar(select(Branch).where(Branch.code == code))
        if branch is None:
            raise ServiceError("unknown_branch", "branch", code=code[:16])
        if not branch_scope(session, user).covers(branch.id):
            raise NotFound("unknown_branch", "branch", code=code[:16])
        return branch
    own = session.get(Branch, user.branch_id) if user.branch_id is not None else None
    if own is None:
        raise Forbidden("settings_branch_none", "branch")
    if code and code != own.code:
        raise NotFound("unknown_branch", "branch", code=code[:16])
    return own


def work_branch_condition(user: User, column):
    """The work a user may be given or claim: her branch's only (a claim is an UPDATE: no read filter)."""
    return column == user.branch_id if user.branch_id is not None else false()


def users_condition(scope: BranchScope):
    """The staff a user may see (team lists, pickers, the admin's accounts): those of her branches; every
    account for an installation administrator or a national viewer."""
    return scope.condition(User.branch_id)


def may_see_user(scope: BranchScope, other: User) -> bool:
    return scope.every_branch or other.branch_id in (scope.branch_ids or ())


def user_may_write(user: User) -> bool:
    """Whether the user's role changes anything (the regional and national readers do not)."""
    return user.role not in READ_ONLY_ROLES


def sees_full_numbers(user: User) -> bool:
    """Whether full phone numbers may be shown to `user` (the read-only roles see them masked)."""
    return user.role not in READ_ONLY_ROLES


_MAPPED: list[type] = []


def _branch_mappers() -> list[type]:
    if not _MAPPED:
        for mapper in db.Model.registry.mappers:
            table = mapper.local_table
            if "branch_id" in table.c and table.name not in UNFILTERED:
                _MAPPED.append(mapper.class_)
    return _MAPPED


def _filter_reads(execute_state) -> None:
    scope = execute_state.session.info.get(SCOPE_KEY)
    if scope is None or scope.branch_ids is None:
        return
    if not execute_state.is_select or execute_state.is_column_load or execute_state.is_relationship_load:
        return
    if execute_state.execution_options.get("every_branch"):
        return
    execute_state.statement = execute_state.statement.options(*_read_filters(scope.branch_ids))


@functools.lru_cache(maxsize=256)
def _read_filters(branch_ids: tuple[int, ...]) -> tuple:
    """The loader criteria that keep every branch-owned class to these branches, made once per set of
    branches: made again for each read, they cost a payment import 0.6 s (py-spy) in its 1,500 reads."""
    scope = BranchScope(branch_ids)
    return tuple(
        with_loader_criteria(cls, scope.condition(cls.branch_id), include_aliases=True)  # type: ignore[attr-defined]
        for cls in _branch_mappers()
    )


def _refuse_read_only_writes(session: Session, _context, _instances) -> None:
    scope = session.info.get(SCOPE_KEY)
    if scope is None or not scope.read_only:
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj.__mapper__, "local_table", None)
        if table is not None and "branch_id" in table.c and table.name not in ("users", "audit_events"):
            raise Forbidden("read_only_role", None)


def register_branch_scoping() -> None:
    """Install the read filter and the read-only guard on every session (once per process)."""
    if not event.contains(Session, "do_orm_execute", _filter_reads):
        event.listen(Session, "do_orm_execute", _filter_reads)
        event.listen(Session, "before_flush", _refuse_read_only_writes)
