"""Adding and changing branches and deputy regions (add and flush; the caller commits)."""

import json
import re

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from telecollect.branches.models import ZONES, Branch, DeputyRegion
from telecollect.branches.queries import branch_overrides
from telecollect.branches.settings import forget_branch_settings
from telecollect.errors import Conflict, ServiceError

_CODE = re.compile(r"^[0-9A-Za-z-]{1,16}$")


def deputy_named(session: Session, name: str) -> DeputyRegion:
    """The deputy region of that name (case and spaces ignored), created when new."""
    clean = " ".join(name.split())
    if not clean:
        raise ServiceError("deputy_required", "deputy")
    for region in session.scalars(select(DeputyRegion)):
        if region.name.casefold() == clean.casefold():
            return region
    code = _deputy_code(session, clean)
    region = DeputyRegion(code=code, name=clean)
    session.add(region)
    session.flush()
    return region


def _deputy_code(session: Session, name: str) -> str:
    base = re.sub(r"[^0-9A-Za-z]+", "-", name).strip("-").upper()[:12] or "DW"
    taken = set(session.scalars(select(DeputyRegion.code)))
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base[:12]}-{n}"
    return code


def _check(code: str, name: str, zone: str | None) -> None:
    if not _CODE.match(code):
        raise ServiceError("branch_code_invalid", "code", code=code)
    if not name.strip():
        raise ServiceError("branch_name_required", "name")
    if zone is not None and zone not in ZONES:
        raise ServiceError("branch_zone_invalid", "zone", zone=zone)


def add_branch(
    session: Session,
    *,
    code: str,
    name: str,
    zone: str,
    deputy: str | None = None,
    address: str | None = None,
) -> Branch:
    """A new branch; a deputy name not seen before creates its deputy region."""
    code = code.strip()
    _check(code, name, zone)
    if session.scalar(select(Branch.id).where(Branch.code == code)) is not None:
        raise Conflict("branch_code_taken", "code", code=code)
    region = deputy_named(session, deputy) if deputy else None
    branch = Branch(
        code=code,
        name=name.strip(),
        zone=zone,
        deputy_region_id=region.id if region else None,
        address=(address or "").strip() or None,
        settings="{}",
    )
    session.add(branch)
    session.flush()
    return branch


def edit_branch(
    session: Session,
    branch: Branch,
    *,
    code: str | None = None,
    name: str | None = None,
    zone: str | None = None,
    deputy: str | None = None,
    address: str | None = None,
) -> Branch:
    """Change what is given (None: unchanged; an empty deputy or address clears it)."""
    new_code = branch.code if code is None else code.strip()
    new_name = branch.name if name is None else name.strip()
    new_zone = branch.zone if zone is None else zone
    if new_name or name is not None:
        _check(new_code, new_name, new_zone)
    if new_code != branch.code and session.scalar(select(Branch.id).where(Branch.code == new_code)) is not None:
        raise Conflict("branch_code_taken", "code", code=new_code)
    branch.code, branch.name, branch.zone = new_code, new_name, new_zone
    if deputy is not None:
        branch.deputy_region_id = deputy_named(session, deputy).id if deputy.strip() else None
    if address is not None:
        branch.address = address.strip() or None
    forget_branch_settings(session)
    session.flush()
    return branch


def set_branch_setting(branch: Branch, key: str, value: str | None) -> None:
    """Set one of the branch's own settings (None or empty: back to the installation's)."""
    current = branch_overrides(branch)
    if value is None or value == "":
        current.pop(key, None)
    else:
        current[key] = value
    branch.settings = json.dumps(current, sort_keys=True)
    session = object_session(branch)
    if session is not None:
        forget_branch_settings(session)
