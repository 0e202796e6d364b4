"""Places: province → regency/city → district (kecamatan) → village (kelurahan)."""

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telecollect.extensions import db

TIMEZONES = ("WIB", "WITA", "WIT")


class Province(db.Model):
    __tablename__ = "provinces"
    __table_args__ = (CheckConstraint("timezone IN ('WIB', 'WITA', 'WIT')", name="timezone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Kemendagri code, 2 digits ("31").
    code: Mapped[str] = mapped_column(String(2), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    #: WIB (UTC+7), WITA (UTC+8) or WIT (UTC+9): the participant's local time.
    timezone: Mapped[str] = mapped_column(String(4), nullable=False)

    cities: Mapped[list["City"]] = relationship(back_populates="province")

    def __repr__(self):
        return f"<Province {self.code} {self.name} {self.timezone}>"


def unique_name_where_no_code(table: str, parent_column: str) -> Index:
    """A place is its code; its name is a label. Two coded places of one parent may share a name (Waena
    91.71.05.1002 and 91.71.05.2005), but a place without a code is known only by its name, so that must
    be unique within the parent."""
    condition = text("code IS NULL")
    return Index(
        f"uq_{table}_{parent_column}_name_key_uncoded",
        parent_column,
        "name_key",
        unique=True,
        sqlite_where=condition,
        postgresql_where=condition,
    )


class NamedPlace:
    """Columns shared by the places below a province: known by code, or by name within their parent."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    #: The name folded for matching ("KOTA ADM. JAKARTA UTARA" ~ "Kota Administrasi Jakarta Utara").
    name_key: Mapped[str] = mapped_column(String(100), nullable=False)

    def __repr__(self):
        return f"<{type(self).__name__} {self.code} {self.name}>"


class City(NamedPlace, db.Model):
    """A regency (kabupaten) or city (kota)."""

    __tablename__ = "cities"
    __table_args__ = (
        unique_name_where_no_code("cities", "province_id"),
        Index("ix_cities_province_id_name_key", "province_id", "name_key"),
    )

    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id"), nullable=False)
    #: Kemendagri code, 4 digits without dots ("3172"); unknown for places
    #: created by a participant import.
    code: Mapped[str | None] = mapped_column(String(4), unique=True, nullable=True)

    province: Mapped[Province] = relationship(back_populates="cities")
    districts: Mapped[list["District"]] = relationship(back_populates="city")


class District(NamedPlace, db.Model):
    """A kecamatan."""

    __tablename__ = "districts"
    __table_args__ = (
        unique_name_where_no_code("districts", "city_id"),
        Index("ix_districts_city_id_name_key", "city_id", "name_key"),
    )

    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"), nullable=False)
    #: Kemendagri code, 6 digits without dots ("317201").
    code: Mapped[str | None] = mapped_column(String(6), unique=True, nullable=True)

    city: Mapped[City] = relationship(back_populates="districts")
    villages: Mapped[list["Village"]] = relationship(back_populates="district")


class Village(NamedPlace, db.Model):
    """A kelurahan or desa."""

    __tablename__ = "villages"
    __table_args__ = (
        unique_name_where_no_code("villages", "district_id"),
        Index("ix_villages_district_id_name_key", "district_id", "name_key"),
    )

    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), nullable=False)
    #: Kemendagri code, 10 digits without dots ("3172011001").
    code: Mapped[str | None] = mapped_column(String(10), unique=True, nullable=True)

    district: Mapped[District] = relationship(back_populates="villages")
