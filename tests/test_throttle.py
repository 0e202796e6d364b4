"""The shared throttle counters: one count per act, per key and window, atomic across connections."""

from datetime import UTC, datetime, timedelta

import pytest

from telecollect import throttle
from telecollect.extensions import db as _db
from tests.queues.test_concurrency import run_together

NOW = datetime(2026, 11, 30, 3, 0, 7, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_a_key_is_allowed_up_to_its_limit_in_a_window_then_again_in_the_next(db):
    verdicts = [throttle.hit(db.session, "ip:10.0.0.1", limit=3, window=MINUTE, now=NOW) for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert verdicts[-1].retry_at == datetime(2026, 11, 30, 3, 1, tzinfo=UTC)
    assert verdicts[-1].retry_after(NOW) == 53
    later = throttle.hit(db.session, "ip:10.0.0.1", limit=3, window=MINUTE, now=NOW + MINUTE)
    assert (later.allowed, later.count) == (True, 1)


def test_keys_are_counted_apart_and_peek_does_not_count(db):
    throttle.hit(db.session, "user:1", limit=5, window=MINUTE, now=NOW)
    throttle.hit(db.session, "user:2", limit=5, window=MINUTE, now=NOW)
    assert throttle.peek(db.session, "user:1", window=MINUTE, now=NOW) == 1
    assert throttle.peek(db.session, "user:1", window=MINUTE, now=NOW) == 1
    assert throttle.peek(db.session, "user:3", window=MINUTE, now=NOW) == 0


def test_old_windows_are_purged(db):
    throttle.hit(db.session, "k", limit=5, window=MINUTE, now=NOW - timedelta(days=2))
    throttle.hit(db.session, "k", limit=5, window=MINUTE, now=NOW)
    assert throttle.forget_before(db.session, NOW - timedelta(days=1)) == 1
    assert throttle.peek(db.session, "k", window=MINUTE, now=NOW) == 1


@pytest.mark.committing
def test_hits_at_the_same_instant_from_many_connections_each_get_their_own_count(app, db):
    def one_hit():
        return throttle.hit(_db.session, "ip:203.0.113.9", limit=3, window=MINUTE, now=NOW).count

    counts = run_together(app, [one_hit] * 6)
    assert sorted(counts) == [1, 2, 3, 4, 5, 6]
