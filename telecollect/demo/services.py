"""A realistic branch to try the system on: North Jakarta, its people and arrears."""

import csv
import io
import random
from datetime import date, timedelta

from sqlalchemy import func, select

from telecollect.auth.models import User
from telecollect.auth.scoping import BranchScope, enter_branch_scope
from telecollect.auth.services import areas_named, create_user
from telecollect.branches.models import Branch
from telecollect.branches.services import add_branch, deputy_named, edit_branch
from telecollect.branches.settings import branch_settings
from telecollect.branches.stamping import act_in_branch
from telecollect.demo import data
from telecollect.demo.activity import simulate
from telecollect.imports.reader import TableReader
from telecollect.participants.contributions import MONTHLY_CONTRIBUTION
from telecollect.participants.importing import COLUMNS
from telecollect.participants.models import Participant
from telecollect.queues.models import QueueName
from telecollect.queues.services import AssignFilters, assign
from telecollect.regions.importing import import_regions
from telecollect.settings import Settings
from telecollect.workflows.imports import import_participants

#: How many days of work the demo simulates.
SIMULATED_DAYS = 21


def demo_rows(count: int, rng: random.Random, as_of: date, place=None):
    """Yield `count` participant rows, in families, spread like real arrears data. `place`: (province, city,
    districts, NIK prefix), North Jakarta's by default."""
    province, city, districts, nik_prefix = place or (data.PROVINCE, data.CITY, data.DISTRICTS, "3172")
    weights = [weight for weight, _villages in districts.values()]
    names = list(districts)
    card_numbers = rng.sample(range(10**9, 10**10), count)
    made = 0
    while made < count:
        kecamatan = rng.choices(names, weights)[0]
        kelurahan = rng.choice(districts[kecamatan][1])
        family_size = min(rng.choice([1, 1, 2, 3, 3, 4, 4, 5]), count - made)
        months = _months_in_arrears(rng)
        segment = rng.choices(["PBPU", "BP", "PPU", "PBI"], [75, 20, 3, 2])[0]
        klass = rng.choices([1, 2, 3], [15, 25, 60])[0]
        family_name = rng.choice(data.FAMILY_NAMES)
        rt, rw = rng.randint(1, 15), rng.randint(1, 12)
        address = f"{rng.choice(data.STREETS)} No. {rng.randint(1, 120)}"
        head_card = f"{card_numbers[made]:013d}"
        autodebit = rng.random() < 0.08
        for member in range(family_size):
            card = f"{card_numbers[made]:013d}"
            woman = member == 1 or (member > 1 and rng.random() < 0.5)
            first = rng.choice(data.FIRST_NAMES_F if woman else data.FIRST_NAMES_M)
            yield {
                "card_no": card,
                "nik": _nik(rng, woman, nik_prefix),
                "name": f"{first} {family_name}",
                "phone": _phone(rng) if member < 2 or rng.random() < 0.3 else "",
                "segment": segment,
                "class": klass,
                "family_id": head_card if family_size > 1 else "",
                "province": province,
                "city": city,
                "kecamatan": kecamatan,
                "kelurahan": kelurahan,
                "rt": f"{rt:03d}",
                "rw": f"{rw:03d}",
                "address": address,
                "months_in_arrears": months,
                "arrears_amount": min(months, 24) * MONTHLY_CONTRIBUTION[klass],
                "autodebit": "ya" if autodebit else "tidak",
                "as_of": as_of.isoformat(),
            }
            made += 1


def _months_in_arrears(rng: random.Random) -> int:
    # Most arrears are young; a long tail reaches past the 24 months BPJS bills.
    return max(1, min(36, int(rng.expovariate(1 / 8)) + 1))


def _phone(rng: random.Random) -> str:
    prefix = rng.choice(data.MOBILE_PREFIXES)
    return f"{prefix}-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"


def _nik(rng: random.Random, woman: bool, prefix: str = "3172") -> str:
    born = date(rng.randint(1950, 2015), rng.randint(1, 12), rng.randint(1, 28))
    day = born.day + (40 if woman else 0)
    return f"{prefix}{rng.randint(1, 6):02d}{day:02d}{born.month:02d}{born.year % 100:02d}{rng.randint(1, 9999):04d}"


def demo_csv(count: int, as_of: date, seed: int = 2020, place=None) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(demo_rows(count, random.Random(seed), as_of, place))
    return buffer.getvalue()


def seed_second_branch(session, today: date, *, participants: int, seed: int = 2021):
    """Make the installation two branches in two zones: the first one becomes North Jakarta (WIB, deputy
    region I) and Makassar (WITA, deputy region IX) is added with its participants and staff, its families
    queued; plus a regional supervisor of region IX and a national viewer. Returns their logins."""
    first = session.scalar(select(Branch).order_by(Branch.id))
    edit_branch(
        session,
        first,
        name=first.name or data.NORTH_JAKARTA_NAME,
        zone=first.zone or "WIB",
        deputy=data.NORTH_JAKARTA_DEPUTY,
    )
    makassar = session.scalar(select(Branch).where(Branch.code == data.MAKASSAR_CODE)) or add_branch(
        session, code=data.MAKASSAR_CODE, name=data.MAKASSAR_NAME, zone="WITA", deputy=data.MAKASSAR_DEPUTY
    )
    session.commit()
    act_in_branch(session, makassar.id)
    place = (data.MAKASSAR_PROVINCE, data.MAKASSAR_CITY, data.MAKASSAR_DISTRICTS, "7371")
    stream = io.BytesIO(demo_csv(participants, today, seed, place).encode())
    local = branch_settings(session, makassar)  # its zone: its local day
    report = import_participants(session, TableReader(stream, "makassar.csv"), filename="makassar.csv", settings=local)
    if report.rejected:
        raise RuntimeError(f"Makassar's demo data did not import cleanly: {report.errors[:3]}")
    logins = []
    for username, role, name, areas in data.MAKASSAR_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(
                session,
                username=username,
                role=role,
                name=name,
                password=data.DEMO_PASSWORD,
                areas=areas_named(session, areas),
                branch_id=makassar.id,
            )
        logins.append((username, role, data.DEMO_PASSWORD))
    for username, role, name, deputy in data.READER_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(
                session,
                username=username,
                role=role,
                name=name,
                password=data.DEMO_PASSWORD,
                deputy_region_id=deputy_named(session, deputy).id if deputy else None,
            )
        logins.append((username, role, data.DEMO_PASSWORD))
    users = {u.username: u for u in session.scalars(select(User).where(User.branch_id == makassar.id))}
    enter_branch_scope(session, BranchScope((makassar.id,)))
    assign(session, queue=QueueName.telecollect, filters=AssignFilters(kecamatan="Rappocini"), user=users["tc.andi"])
    assign(session, queue=QueueName.telecollect, filters=AssignFilters(kecamatan="Panakkukang"))
    assign(session, queue=QueueName.cadre, filters=AssignFilters(kecamatan="Tamalate"))
    enter_branch_scope(session, BranchScope(None))
    act_in_branch(session, None)
    return logins


def is_empty(session) -> bool:
    return not session.scalar(select(func.count()).select_from(User)) and not session.scalar(
        select(func.count()).select_from(Participant)
    )


def existing_demo_logins(session) -> list[tuple[str, str, str]]:
    """The demo logins still present and active (their password may have been changed)."""
    usernames = [username for username, *_rest in data.DEMO_USERS]
    users = session.scalars(select(User).where(User.username.in_(usernames), User.is_active.is_(True)))
    return [(u.username, u.role.value, data.DEMO_PASSWORD) for u in users]


def seed_demo(
    session,
    today: date,
    *,
    settings: Settings,
    participants: int = 3000,
    seed: int = 2020,
    with_activity: bool = True,
) -> list[tuple[str, str, str]]:
    """Import demo participants through the real importer, create one login per role, and
    (unless told not to) simulate three weeks of calls, visits, promises and payments.

    `today` is the branch's local day (the command's clock). Returns the (username, role,
    password) of the demo logins. The imports commit on their own (see `imports.runner`); the rest is
    committed by the caller.
    """
    # The arrears list predates the simulated weeks of work, as a real monthly list would.
    list_date = today - timedelta(days=SIMULATED_DAYS + 1) if with_activity else today
    import_regions(session, data.REGIONS.encode())
    stream = io.BytesIO(demo_csv(participants, list_date, seed).encode())
    report = import_participants(session, TableReader(stream, "demo.csv"), filename="demo.csv", settings=settings)
    if report.rejected:
        raise RuntimeError(f"demo data did not import cleanly: {report.errors[:3]}")
    logins = []
    for username, role, name, areas in data.DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(
                session,
                username=username,
                role=role,
                name=name,
                password=data.DEMO_PASSWORD,
                areas=areas_named(session, areas),
            )
        logins.append((username, role, data.DEMO_PASSWORD))
    if with_activity:
        simulate(session, today, random.Random(seed), settings=settings, days=SIMULATED_DAYS)
    return logins
