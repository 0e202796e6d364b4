"""Staff accounts, their roles, cadre areas, API tokens and sign-in attempts."""

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telecollect.db import UTCDateTime, now_utc
from telecollect.extensions import db
from telecollect.regions.models import District, Village

if TYPE_CHECKING:
    from telecollect.branches.models import Branch


class Role(str, enum.Enum):
    admin = "admin"
    supervisor = "supervisor"
    telecollector = "telecollector"
    cadre = "cadre"
    #: Reads the branches of her deputy region (Kedeputian Wilayah), side by side; changes nothing.
    regional_supervisor = "regional_supervisor"
    #: Reads every branch of the installation; changes nothing.
    national_viewer = "national_viewer"


#: Roles that may see a participant's full NIK and manage imports.
PRIVILEGED_ROLES = frozenset({Role.admin, Role.supervisor})
#: Roles that read many branches and change nothing (they see NIKs and phones masked).
READ_ONLY_ROLES = frozenset({Role.regional_supervisor, Role.national_viewer})


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        # A branch role belongs to a branch (or to none: an installation administrator); a regional
        # supervisor to a deputy region; a national viewer to neither.
        CheckConstraint(
            "role IN ('regional_supervisor', 'national_viewer') OR deputy_region_id IS NULL",
            name="deputy_only_regional",
        ),
        CheckConstraint(
            "role <> 'regional_supervisor' OR deputy_region_id IS NOT NULL",
            name="regional_has_deputy",
        ),
        CheckConstraint(
            "role NOT IN ('regional_supervisor', 'national_viewer') OR branch_id IS NULL",
            name="readers_no_branch",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    role: Mapped[Role] = mapped_column(Enum(Role, name="user_role", native_enum=False, length=20), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    is_active: Mapped[bool] = mapped_column(default=True, server_default="1", nullable=False)
    #: WIB, WITA or WIT: the zone in which this user sees dates and times.
    timezone: Mapped[str] = mapped_column(String(4), default="WIB", server_default="WIB", nullable=False)
    #: Calls a day this telecollector aims for; empty means the branch default.
    daily_call_target: Mapped[int | None] = mapped_column(nullable=True)
    #: The phone Twilio rings for this telecollector when she places a call: an Indonesian number in
    #: E.164 (desk line or mobile) or a sip: URI (telecollect.telephony.agent_phones validates it).
    agent_phone: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Raised to end every session of this user (sign-out, a new password): a session signed in under
    #: another version is refused by the user loader.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0", nullable=False)
    #: The branch she works for. NULL: an installation-level user (an installation administrator, a
    #: regional supervisor, a national viewer).
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True, nullable=True)
    #: Her branch, loaded with her on each request (`telecollect.security`): her branch's settings
    #: (`runtime.acting_settings`) then cost no query of their own. Not `branch`: the account form's field of
    #: that name is filled from the account's attributes.
    home_branch: Mapped["Branch | None"] = relationship(viewonly=True)
    #: A regional supervisor's Kedeputian Wilayah (NULL for every other role).
    deputy_region_id: Mapped[int | None] = mapped_column(ForeignKey("deputy_regions.id"), nullable=True)
    #: Administers the whole installation: branches, deputy regions and every branch's staff and settings.
    #: Role `admin` without it administers its own branch only.
    is_installation_admin: Mapped[bool] = mapped_column(default=False, server_default="0", nullable=False)

    areas: Mapped[list["UserArea"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="UserArea.id"
    )

    @property
    def is_privileged(self) -> bool:
        return self.role in PRIVILEGED_ROLES

    @property
    def is_reader(self) -> bool:
        """A regional supervisor or national viewer: reads what a supervisor reads, in many branches; changes
        nothing; sees NIKs and phones masked."""
        return self.role in READ_ONLY_ROLES

    @property
    def reads_as_staff(self) -> bool:
        """Sees every figure and family of the branches she sees (a supervisor, an admin, a reader)."""
        return self.is_privileged or self.is_reader

    def __repr__(self):
        return f"<User {self.username} {self.role.value}>"


class UserArea(db.Model):
    """A neighbourhood a cadre covers: a whole kecamatan or one kelurahan."""

    __tablename__ = "user_areas"
    __table_args__ = (
        CheckConstraint("(district_id IS NULL) <> (village_id IS NULL)", name="exactly_one_place"),
        UniqueConstraint("user_id", "district_id", "village_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), nullable=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"), nullable=True)

    user: Mapped[User] = relationship(back_populates="areas")
    district: Mapped[District | None] = relationship()
    village: Mapped[Village | None] = relationship()

    @property
    def label(self) -> str:
        if self.village is not None:
            return f"Kel. {self.village.name}, Kec. {self.village.district.name}"
        return f"Kec. {self.district.name}"

    def __repr__(self):
        return f"<UserArea user={self.user_id} district={self.district_id} village={self.village_id}>"


class ApiToken(db.Model):
    """A personal bearer token for the JSON API. Only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: After this the token is refused (`flask users token --days`).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    user: Mapped[User] = relationship()

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def __repr__(self):
        return f"<ApiToken {self.id} user={self.user_id}>"


class LoginAttempt(db.Model):
    """One sign-in attempt; recent failures throttle further attempts."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    is_success: Mapped[bool] = mapped_column(nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    def __repr__(self):
        return f"<LoginAttempt {self.username} ok={self.is_success} {self.at:%Y-%m-%d %H:%M}>"
