"""The process's Prometheus metrics (prometheus_client), and counting what a transaction did once it commits.

Counters and histograms live here, in the kernel, so that a workflow can count what it did
(`count_on_commit`) without knowing about the web layer. What a scrape computes from the database
(queue depth, outbox backlog, jobs) is `telecollect.ops.collectors`; the `/metrics` page is
`telecollect.ops.routes`.

Several processes (gunicorn workers) share their figures through prometheus_client's multiprocess
mode when `PROMETHEUS_MULTIPROC_DIR` names a directory in the environment before the first import
of prometheus_client (gunicorn's config or the unit file sets it; empty it at every start). Each
process then writes its values to files there and `/metrics` adds them up.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from time import perf_counter

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

#: Web requests by route: the endpoint's name (`queues.next`), never the raw path (ids would make a
#: series per family), with the method and the status.
REQUEST_SECONDS = Histogram(
    "telecollect_request_duration_seconds",
    "Time to answer a web request, by route (endpoint name), method and status.",
    ["route", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
#: Families claimed (Next, the API's claim), by queue: `rate()` gives claims per second.
CLAIMS = Counter("telecollect_claims_total", "Families claimed from a queue.", ["queue"])
#: Contact outcomes recorded (desk, API, cadre), by outcome and channel.
OUTCOMES = Counter("telecollect_outcomes_total", "Contact outcomes recorded.", ["outcome", "channel"])
#: Messages the dispatcher handled, by channel and what happened (sent, held, failed, …): the send rate.
DISPATCHED = Counter(
    "telecollect_outbox_dispatched_total", "Outbox messages handled by a dispatcher.", ["channel", "outcome"]
)
#: Each scheduled job: when it last succeeded (Unix time), how long its last run took, and its failures.
JOB_LAST_SUCCESS = Gauge(
    "telecollect_job_last_success_timestamp_seconds",
    "When the job last finished without error (Unix time).",
    ["job"],
    multiprocess_mode="max",
)
JOB_SECONDS = Gauge(
    "telecollect_job_duration_seconds", "How long the job's last run took.", ["job"], multiprocess_mode="mostrecent"
)
JOB_FAILURES = Counter("telecollect_job_failures_total", "Runs of the job that raised.", ["job"])
#: 1 in the scheduler that leads (runs the jobs), 0 in one standing by; by host and pid.
SCHEDULER_LEADER = Gauge(
    "telecollect_scheduler_leader",
    "1 when this scheduler process leads, 0 when it stands by.",
    ["host", "pid", "role"],
    multiprocess_mode="liveall",
)

_PENDING = "telecollect.metrics.pending"


def count_on_commit(
    session: Session | scoped_session[Session], counter: Counter, *labels: str, amount: float = 1
) -> None:
    """Add `amount` to `counter` (with `labels`) when `session`'s transaction commits; nothing if it rolls
    back (a refused request counts nothing)."""
    if isinstance(session, scoped_session):  # Flask-SQLAlchemy's `db.session`: this context's session
        session = session()
    if session.get_transaction() is None:
        session.begin()  # so that a rollback, even of a transaction that ran no SQL, forgets it
    session.info.setdefault(_PENDING, []).append((counter, labels, amount))


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for counter, labels, amount in session.info.pop(_PENDING, ()):
        (counter.labels(*labels) if labels else counter).inc(amount)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction: what it did is gone
        session.info.pop(_PENDING, None)


@contextmanager
def timed_job(job: str) -> Iterator[None]:
    """Time one run of a scheduled job: its duration always, its success time when it did not raise."""
    import time

    started = perf_counter()
    try:
        yield
    except BaseException:
        JOB_FAILURES.labels(job).inc()
        raise
    finally:
        JOB_SECONDS.labels(job).set(perf_counter() - started)
    JOB_LAST_SUCCESS.labels(job).set(time.time())
