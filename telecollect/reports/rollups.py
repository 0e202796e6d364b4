"""Roll-ups: the outcome funnel across branches (branch → deputy region → nation), each branch on its own days.

The definitions are the funnel's (`telecollect.reports.funnel`, their one owner); this module only decides
which branches are read on which local days. A report over branches in several zones reads the funnel once
per zone, each zone's branches on that zone's days (a WITA branch's 1 November starts an hour before a WIB
branch's), and adds the rows up: each branch lies in one zone, so a branch's row is its own funnel. Counts of
distinct families (families attempted, reactivated) of a family worked in two branches count in each.
"""

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from telecollect.branches.models import Branch
from telecollect.reports.funnel import COUNTS, Period, Scope, families_behind, outcome_funnel, rates


def branch_zones(session: Session, default_zone: str, branch_ids: tuple[int, ...] | None = None) -> dict:
    """{zone: (branch ids)} of the branches (every branch when None); a branch without a zone is in the
    installation's (`default_zone`, BRANCH_TIMEZONE). One query."""
    stmt = select(Branch.id, Branch.zone).order_by(Branch.id)
    if branch_ids is not None:
        stmt = stmt.where(Branch.id.in_(branch_ids))
    return zones_of(session.execute(stmt).all(), default_zone)


def zones_of(branches, default_zone: str) -> dict[str, tuple[int, ...]]:
    """{zone: (branch ids)} of branches (anything with `id` and `zone`), in their order; no zone: `default_zone`."""
    zones: dict[str, tuple[int, ...]] = {}
    for branch in branches:
        zone = branch.zone or default_zone
        zones[zone] = (*zones.get(zone, ()), branch.id)
    return zones


def funnel_across(
    session,
    by: str,
    period: Period,
    scope: Scope,
    zones: dict[str, tuple[int, ...]],
    *,
    measures: frozenset[str] | None = None,
) -> list[dict]:
    """`outcome_funnel` over the branches of `zones`, each zone's on its own days (`period`'s dates),
    the rows of the same group added up and their rates computed again. With one zone, exactly the funnel
    (narrowed to `scope.branch_ids` if the scope names branches)."""
    if len(zones) <= 1:
        zone = next(iter(zones), period.zone)
        return outcome_funnel(session, by, replace(period, zone=zone), scope, measures=measures)
    merged: dict = {}
    for zone, ids in zones.items():
        for row in outcome_funnel(
            session, by, replace(period, zone=zone), replace(scope, branch_ids=ids), measures=measures
        ):
            if row["key"] not in merged:
                merged[row["key"]] = row
            else:
                into = merged[row["key"]]
                into.update({name: into[name] + row[name] for name in COUNTS})
                into.update(rates(into))
    return sorted(merged.values(), key=lambda r: str(r[by] or ""))


def families_across(
    session, metric: str, by: str, key: str, period: Period, scope: Scope, zones: dict[str, tuple[int, ...]]
) -> list[int]:
    """The families behind one figure of one group of `funnel_across` (the drill-down)."""
    if len(zones) <= 1:
        zone = next(iter(zones), period.zone)
        return families_behind(session, metric, by, key, replace(period, zone=zone), scope)
    found: dict[int, None] = {}
    for zone, ids in zones.items():
        found.update(
            dict.fromkeys(
                families_behind(session, metric, by, key, replace(period, zone=zone), replace(scope, branch_ids=ids))
            )
        )
    return list(found)
