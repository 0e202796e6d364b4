"""Figures read from the database at each scrape (not counted in a process): they are the same whichever
node answers, so with many nodes take one node's (or `max`), not their sum.

Each gauge's labels are a tuple of (label, column): a breakdown more (the branch, once rows carry it) is one
line in `DEPTH_BY`.
"""

import logging

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, or_, select

from telecollect.db import now_utc
from telecollect.extensions import db
from telecollect.messaging.models import SmsMessage, SmsStatus
from telecollect.policy.rules import zones_open
from telecollect.queues.models import WorkItem, WorkState
from telecollect.runtime import contact_rules

log = logging.getLogger(__name__)
#: The queue depth's breakdown: (label, column). Add ("branch", WorkItem.branch_id) once work carries a branch.
DEPTH_BY = (("queue", WorkItem.queue), ("zone", WorkItem.timezone))
#: The outbox's waiting states (the backlog) and the one a supervisor must settle.
BACKLOG = (SmsStatus.queued, SmsStatus.sending, SmsStatus.unknown)


def _label(value) -> str:
    return str(getattr(value, "value", value))


class DatabaseCollector(Collector):
    def collect(self):
        """The figures, then `telecollect_database_up` (0 when the database could not be read: the
        process's own figures are served all the same)."""
        up = GaugeMetricFamily("telecollect_database_up", "1 when this scrape could read the database.")
        try:
            figures = [*self._queue_depth(now_utc()), *self._outbox()]
        except Exception:
            figures = []
            log.warning("metrics: the database could not be read", exc_info=True)
        finally:
            db.session.rollback()
        up.add_metric([], 1 if figures else 0)
        yield from figures
        yield up

    def _queue_depth(self, now):
        names = [name for name, _column in DEPTH_BY]
        due = GaugeMetricFamily(
            "telecollect_queue_due", "Live work items due now and not claimed (whatever the hour).", labels=names
        )
        callable_now = GaugeMetricFamily(
            "telecollect_queue_callable",
            "Live work items that may be claimed now: due, not claimed, in a zone whose calling hours are open.",
            labels=names,
        )
        columns = [column for _name, column in DEPTH_BY]
        rows = db.session.execute(
            select(*columns, func.count())
            .where(
                WorkItem.state != WorkState.closed,
                WorkItem.next_action_at <= now,
                or_(WorkItem.claimed_by_id.is_(None), WorkItem.lease_expires_at <= now),
            )
            .group_by(*columns)
        ).all()
        open_zones = set(zones_open(db.session, contact_rules(), now))
        zone_at = names.index("zone")
        for *labels, count in rows:
            values = [_label(value) for value in labels]
            due.add_metric(values, count)
            callable_now.add_metric(values, count if labels[zone_at] in open_zones else 0)
        yield due
        yield callable_now

    def _outbox(self):
        """Waiting messages per channel and status (SMS only today; a `channel` label is ready for more)."""
        backlog = GaugeMetricFamily(
            "telecollect_outbox_messages",
            "Outbox messages waiting (queued, sending) or waiting for a supervisor (unknown).",
            labels=["channel", "status"],
        )
        counts = dict(
            db.session.execute(
                select(SmsMessage.status, func.count())
                .where(SmsMessage.status.in_(BACKLOG))
                .group_by(SmsMessage.status)
            ).all()
        )
        for status in BACKLOG:
            backlog.add_metric(["sms", status.value], counts.get(status, 0))
        yield backlog
        now = now_utc()
        oldest = db.session.scalar(
            select(func.min(SmsMessage.next_attempt_at)).where(
                SmsMessage.status == SmsStatus.queued, SmsMessage.next_attempt_at <= now
            )
        )
        late = GaugeMetricFamily(
            "telecollect_outbox_oldest_due_seconds",
            "How long the longest-waiting due message has been due (0 when none): the dispatchers' lag.",
            labels=["channel"],
        )
        late.add_metric(["sms"], (now - oldest).total_seconds() if oldest else 0)
        yield late
