"""Accounts, areas, tokens and sign-in."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from telecollect import throttle
from telecollect.audit import services as audit
from telecollect.auth.models import ApiToken, LoginAttempt, Role, User, UserArea
from telecollect.branches.stamping import acting_branch_id
from telecollect.errors import ServiceError
from telecollect.formatting import ZONES
from telecollect.phones import InvalidPhone, mask_phone, normalize_agent_phone
from telecollect.regions.models import District, Village
from telecollect.regions.names import leading_kind, name_key
from telecollect.throttle import ThrottleHit

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD_LENGTH = 8


def create_user(
    session,
    *,
    username: str,
    role: str,
    password: str,
    name: str | None = None,
    areas: list[UserArea] = (),
    timezone: str = "WIB",
    daily_call_target: int | None = None,
    is_active: bool = True,
    agent_phone: str | None = None,
    actor=None,
    branch_id: int | None = None,
    deputy_region_id: int | None = None,
    is_installation_admin: bool = False,
) -> User:
    """Create an account. Raises `ServiceError` on a bad or taken username,
    unknown role or zone, short password, areas given to a non-cadre, or a phone for calls that is
    neither an Indonesian number nor a sip: address (`phones.normalize_agent_phone`).

    A branch role (admin, supervisor, telecollector, cadre) belongs to `branch_id`, by default the
    acting branch (the only one of a one-branch installation); an installation administrator may belong
    to none. A regional supervisor belongs to `deputy_region_id`, a national viewer to nothing."""
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise ServiceError("bad_username", "username")
    if session.scalar(select(User.id).where(User.username == username).execution_options(every_branch=True)):
        raise ServiceError("username_taken", "username", username=username)
    user = User(
        username=username,
        name=(name or username).strip(),
        role=_role(role),
        password_hash=_hash(password),
        timezone=_timezone(timezone),
        daily_call_target=daily_call_target,
        is_active=is_active,
        areas=list(areas),
        agent_phone=_agent_phone(agent_phone),
        is_installation_admin=is_installation_admin,
    )
    _place_user(session, user, branch_id, deputy_region_id)
    _check_areas_fit_role(user)
    session.add(user)
    session.flush()
    audit.record(session, "user.create", user=actor, target=user, detail=f"role={user.role.value}")
    return user


def _place_user(session, user: User, branch_id: int | None, deputy_region_id: int | None) -> None:
    """Where a user belongs: a branch (branch roles), a deputy region (regional supervisors) or the nation."""
    if user.role == Role.national_viewer:
        user.branch_id, user.deputy_region_id = None, None
    elif user.role == Role.regional_supervisor:
        if deputy_region_id is None:
            raise ServiceError("deputy_required", "deputy")
        user.branch_id, user.deputy_region_id = None, deputy_region_id
    else:
        if branch_id is None and not (user.is_installation_admin and user.role == Role.admin):
            branch_id = acting_branch_id(session)
        user.branch_id, user.deputy_region_id = branch_id, None


def update_user(
    session,
    user: User,
    *,
    name: str,
    role: str,
    is_active: bool,
    timezone: str,
    daily_call_target: int | None,
    areas: list[UserArea],
    password: str | None,
    actor,
    agent_phone: str | None = None,
    branch_id: int | None = None,
    deputy_region_id: int | None = None,
    is_installation_admin: bool | None = None,
) -> User:
    """Change an account; an empty `password` keeps the current one; `agent_phone` None keeps it, "" clears it.
    `branch_id` None keeps a branch role's branch; `is_installation_admin` None keeps the flag."""
    if agent_phone is not None:
        user.agent_phone = _agent_phone(agent_phone)
    user.name = name.strip() or user.username
    user.role = _role(role)
    if is_installation_admin is not None:
        user.is_installation_admin = is_installation_admin and user.role == Role.admin
    _place_user(session, user, branch_id if branch_id is not None else user.branch_id, deputy_region_id)
    user.is_active = is_active
    user.timezone = _timezone(timezone)
    user.daily_call_target = daily_call_target
    if password:
        user.password_hash = _hash(password)
        end_sessions(user)  # a copied cookie must not outlive the password it was signed in with
    user.areas = list(areas)
    _check_areas_fit_role(user)
    session.flush()
    audit.record(
        session, "user.update", user=actor, target=user, detail=f"role={user.role.value} active={user.is_active}"
    )
    return user


def set_agent_phone(session, user: User, phone: str | None, *, actor=None) -> User:
    """The phone Twilio rings for `user` when she places a call (an Indonesian number or a sip: URI;
    empty clears it). Raises `ServiceError("agent_phone_invalid", "agent_phone")`. Audited, masked."""
    user.agent_phone = _agent_phone(phone)
    session.flush()
    shown = mask_phone(user.agent_phone) if user.agent_phone and user.agent_phone.startswith("+") else user.agent_phone
    audit.record(session, "user.agent_phone", user=actor, target=user, detail=shown or "-")
    return user


def _agent_phone(phone: str | None) -> str | None:
    if phone is None or not str(phone).strip():
        return None
    try:
        return normalize_agent_phone(phone)
    except InvalidPhone as exc:
        raise ServiceError.of(exc, "agent_phone") from None


def areas_named(session, specs: list[str]) -> list[UserArea]:
    """Areas named by Kemendagri code or name (see `_area`), for the CLI."""
    return [_area(session, spec) for spec in specs]


def areas_by_id(session, specs: list[str]) -> list[UserArea]:
    """Areas as the admin form sends them: "d:ID" (kecamatan) or "v:ID" (kelurahan)."""
    return [_area_by_id(session, spec) for spec in specs]


#: How long a new API token lives unless told otherwise.
TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 3660


def end_sessions(user: User) -> None:
    """End every session `user` has signed in (sign-out, a new password): the user loader refuses a session
    signed in under an older version."""
    user.session_version += 1


def issue_token(session, user: User, *, now: datetime, days: int = TOKEN_DAYS, actor: User | None = None) -> str:
    """Create a personal API token valid for `days` and return it; only its hash is stored.
    Raises `ServiceError` for a lifetime out of 1..MAX_TOKEN_DAYS days."""
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ServiceError("bad_token_days", "days", max=MAX_TOKEN_DAYS)
    raw = "tc_" + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id, token_hash=_token_hash(raw), created_at=now, expires_at=now + timedelta(days=days)
    )
    session.add(token)
    session.flush()
    audit.record(session, "token.issue", user=actor or user, target=user, detail=f"token={token.id} days={days}")
    return raw


def revoke_token(session, token: ApiToken, *, now: datetime, actor: User | None = None) -> bool:
    """Revoke one token at once (the next call with it is refused). False when it was already revoked."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = now
    session.flush()
    audit.record(session, "token.revoke", user=actor, target=token.user, detail=f"token={token.id}")
    return True


def revoke_tokens_of(session, user: User, *, now: datetime, actor: User | None = None) -> int:
    """Revoke every live token of `user`; returns how many."""
    tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
    return sum(revoke_token(session, token, now=now, actor=actor) for token in tokens)


def tokens_of(session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked and expired ones included, to be seen as such)."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def user_for_token(session, raw: str, *, now: datetime) -> User | None:
    """The active user a live (not revoked, not expired) token belongs to, or None."""
    token = session.scalar(  # one query for both: every API call passes here
        select(ApiToken)
        .options(joinedload(ApiToken.user).joinedload(User.home_branch))  # her branch's settings: no query of theirs
        .where(ApiToken.token_hash == _token_hash(raw), ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
    )
    if token is None or not token.user.is_active:
        return None
    # Noted at most once a minute: a write per API call would double the cost of a claim.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
    return token.user


@dataclass(frozen=True)
class SignInLimits:
    """How many failed sign-ins are allowed per `window`: for one username from one address, and from one
    address whatever the usernames."""

    per_username_and_ip: int
    per_ip: int
    window: timedelta


@dataclass(frozen=True)
class SignIn:
    """What a sign-in attempt came to: the user, or why not ("invalid" or "throttled", then until when)."""

    user: User | None
    problem: str | None = None
    retry_at: datetime | None = None


def authenticate(session, username: str, password: str, ip: str | None, *, limits: SignInLimits, now: datetime):
    """Check a sign-in and return a `SignIn`.

    Every attempt is counted first, atomically (`telecollect.throttle`), for the pair (username, address)
    and for the address, so concurrent guesses cannot pass the limit; a success takes its count back and
    clears the pair's. Past a limit, attempts are refused without checking the password until the window
    ends. The lock is per (username, address), never per username alone: a stranger guessing someone's
    password locks out only himself, not the user. An unknown username costs the same password hash as a
    known one, so the answer's timing does not tell which usernames exist.
    """
    username = username.strip().lower()
    address = ip or "unknown"
    pair_key, ip_key = f"login:{address}:{username}", f"login-ip:{address}"  # at most 116 characters
    pair = throttle.hit(session, pair_key, limit=limits.per_username_and_ip, window=limits.window, now=now)
    by_ip = throttle.hit(session, ip_key, limit=limits.per_ip, window=limits.window, now=now)
    user = session.scalar(select(User).where(User.username == username))
    if not (pair.allowed and by_ip.allowed):
        session.add(LoginAttempt(username=username, ip=ip, is_success=False, at=now))
        audit.record(session, "login_throttled", user=user, detail=username)
        return SignIn(None, "throttled", max(v.retry_at for v in (pair, by_ip) if not v.allowed))
    stored_hash = user.password_hash if user is not None else _dummy_hash(current_app.config["PASSWORD_HASH_METHOD"])
    ok = check_password_hash(stored_hash, password) and user is not None and user.is_active
    session.add(LoginAttempt(username=username, ip=ip, is_success=ok, at=now))
    if not ok:
        audit.record(session, "login_failed", user=user, detail=username)
        return SignIn(None, "invalid")
    _forgive(session, pair_key, ip_key, window=limits.window, now=now)
    user.last_login_at = now
    audit.record(session, "login", user=user)
    return SignIn(user)


def _forgive(session, pair_key: str, ip_key: str, *, window: timedelta, now: datetime) -> None:
    """A success clears the pair's failures and takes its own count back from the address's."""
    session.execute(delete(ThrottleHit).where(ThrottleHit.key == pair_key))
    session.execute(
        update(ThrottleHit)
        .where(ThrottleHit.key == ip_key, ThrottleHit.window_start > now - window, ThrottleHit.count > 0)
        .values(count=ThrottleHit.count - 1)
    )


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    """A hash to check an unknown username's password against, made with the configured method."""
    return generate_password_hash(secrets.token_hex(16), method=method)


def area_choices(session) -> list[tuple[str, str]]:
    """Every kecamatan and kelurahan as ("d:ID" | "v:ID", label), for the admin form."""
    choices = []
    for district in session.scalars(select(District).order_by(District.name)):
        choices.append((f"d:{district.id}", f"Kec. {district.name} ({district.city.name})"))
        for village in sorted(district.villages, key=lambda v: v.name):
            choices.append((f"v:{village.id}", f"— Kel. {village.name}"))
    return choices


def _area(session, spec: str) -> UserArea:
    """An area named by Kemendagri code (6 or 10 digits, dots allowed) or by
    name, optionally qualified as "Kec. Koja" or "Kel. Koja" where a kecamatan
    and a kelurahan share the name."""
    code = spec.replace(".", "").strip()
    if code.isascii() and code.isdigit():  # "²".isdigit() is True too
        district = session.scalar(select(District).where(District.code == code))
        village = session.scalar(select(Village).where(Village.code == code))
        if district or village:
            return UserArea(district=district, village=village)
        raise ServiceError("unknown_area_code", "area", code=spec)
    key = name_key(spec)
    only = {"kecamatan": "d", "kelurahan": "v"}.get(leading_kind(spec))
    matches = []
    if only in (None, "d"):
        matches += [("d", d) for d in session.scalars(select(District).where(District.name_key == key))]
    if only in (None, "v"):
        matches += [("v", v) for v in session.scalars(select(Village).where(Village.name_key == key))]
    if not matches:
        raise ServiceError("unknown_area", "area", name=spec)
    if len(matches) > 1:
        raise ServiceError("ambiguous_area", "area", name=spec, count=len(matches))
    kind, place = matches[0]
    return UserArea(district=place) if kind == "d" else UserArea(village=place)


def _area_by_id(session, spec: str) -> UserArea:
    kind, _, raw_id = spec.partition(":")
    model = {"d": District, "v": Village}.get(kind)
    place = session.get(model, int(raw_id)) if model and raw_id.isascii() and raw_id.isdigit() else None
    if place is None:
        raise ServiceError("unknown_area_id", "areas", area=spec)
    return UserArea(district=place) if kind == "d" else UserArea(village=place)


def _check_areas_fit_role(user: User) -> None:
    if user.areas and user.role != Role.cadre:
        raise ServiceError("areas_for_cadres", "areas")


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise ServiceError("bad_role", "role", roles=", ".join(r.value for r in Role)) from None


def _timezone(zone: str) -> str:
    if zone not in ZONES:
        raise ServiceError("bad_timezone", "timezone")
    return zone


def _hash(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ServiceError("short_password", "password", n=MIN_PASSWORD_LENGTH)
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()
