"""Reading branches and deputy regions."""

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from telecollect.branches.models import Branch, DeputyRegion
from telecollect.errors import NotFound


def all_branches(session: Session) -> list[Branch]:
    """Every branch, by code."""
    return list(session.scalars(select(Branch).order_by(Branch.code)))


def branch_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Branch)) or 0)


def branch_by_code(session: Session, code: str) -> Branch:
    """The branch of that code; NotFound ("unknown_branch") otherwise."""
    branch = session.scalar(select(Branch).where(Branch.code == code.strip()))
    if branch is None:
        raise NotFound("unknown_branch", "branch", code=code)
    return branch


def named_branch(session: Session, code: str | None) -> Branch:
    """The branch a command names (`--branch CODE`); without a code, the only branch, else
    NotFound ("branch_required"): an installation of one branch never needs to name it."""
    if code:
        return branch_by_code(session, code)
    branches = session.scalars(select(Branch).order_by(Branch.id).limit(2)).all()
    if len(branches) != 1:
        raise NotFound("branch_required", "branch")
    return branches[0]


def branches_of_deputy(session: Session, deputy_region_id: int) -> list[int]:
    return list(session.scalars(select(Branch.id).where(Branch.deputy_region_id == deputy_region_id)))


def all_deputy_regions(session: Session) -> list[DeputyRegion]:
    return list(session.scalars(select(DeputyRegion).order_by(DeputyRegion.name)))


def deputy_by_code_or_name(session: Session, text: str) -> DeputyRegion:
    """The deputy region of that code or name (case and spaces ignored); NotFound ("unknown_deputy")."""
    clean = " ".join(text.split()).casefold()
    for region in session.scalars(select(DeputyRegion).order_by(DeputyRegion.id)):
        if clean in (region.code.casefold(), region.name.casefold()):
            return region
    raise NotFound("unknown_deputy", "deputy", name=text)


def branch_overrides(branch: Branch) -> dict[str, str]:
    """The branch's own settings (each key the installation setting it replaces)."""
    try:
        value = json.loads(branch.settings or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
