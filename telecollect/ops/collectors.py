"""Figures read from the database at each scrape (not counted in a process): they are the same whichever
node answers, so with many nodes take one node's (or `max`), not their sum.

The queue depth is per branch (its code), queue and zone; what is callable now follows each branch's own
calling hours, days and holidays. The outbox's figures are per channel (SMS, WhatsApp).
"""

import logging

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, or_, select

from telecollect.branches.models import Branch
from telecollect.db import now_utc
from telecollect.extensions import db
from telecollect.messaging.models import MessageChannel, SmsMessage, SmsStatus
from telecollect.policy.rules import zones_open
from telecollect.queues.models import WorkItem, WorkState
from telecollect.runtime import rules_of_branch

log = logging.getLogger(__name__)
#: The queue depth's breakdown: (label, column); the branch is labelled with its code.
DEPTH_BY = (("branch", WorkItem.branch_id), ("queue", WorkItem.queue), ("zone", WorkItem.timezone))
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
        codes = dict(db.session.execute(select(Branch.id, Branch.code)).all())
        open_zones: dict[int, set[str]] = {}  # each branch's calling hours, days and holidays
        for branch_id, *labels, count in rows:
            if branch_id not in open_zones:
                open_zones[branch_id] = set(zones_open(db.session, rules_of_branch(branch_id), now))
            values = [codes.get(branch_id, str(branch_id)), *(_label(value) for value in labels)]
            due.add_metric(values, count)
            callable_now.add_metric(values, count if labels[-1] in open_zones[branch_id] else 0)
        yield due
        yield callable_now

    def _outbox(self):
        """Waiting messages per channel and status, and each channel's oldest due message."""
        backlog = GaugeMetricFamily(
            "telecollect_outbox_messages",
            "Outbox messages waiting (queued, sending) or waiting for a supervisor (unknown).",
            labels=["channel", "status"],
        )
        counts = {
            (channel, status): count
            for channel, status, count in db.session.execute(
                select(SmsMessage.channel, SmsMessage.status, func.count())
                .where(SmsMessage.status.in_(BACKLOG))
                .group_by(SmsMessage.channel, SmsMessage.status)
            ).all()
        }
        for channel in MessageChannel:
            for status in BACKLOG:
                backlog.add_metric([channel.value, status.value], counts.get((channel, status), 0))
        yield backlog
        now = now_utc()
        oldest = dict(
            db.session.execute(
                select(SmsMessage.channel, func.min(SmsMessage.next_attempt_at))
                .where(SmsMessage.status == SmsStatus.queued, SmsMessage.next_attempt_at <= now)
                .group_by(SmsMessage.channel)
            ).all()
        )
        late = GaugeMetricFamily(
            "telecollect_outbox_oldest_due_seconds",
            "How long the longest-waiting due message has been due (0 when none): the dispatchers' lag.",
            labels=["channel"],
        )
        for channel in MessageChannel:
            since = oldest.get(channel)
            late.add_metric([channel.value], (now - since).total_seconds() if since else 0)
        yield late
