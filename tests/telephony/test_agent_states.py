"""Agents' states: one row per agent, a history row and an audit event per change."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from telecollect.audit.models import AuditEvent
from telecollect.errors import ServiceError
from telecollect.telephony.models import AgentState, AgentStateEvent
from telecollect.telephony.services import current_state, pause_reasons, set_agent_state

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def test_states_move_with_history_and_audit(db, make_user):
    agent = make_user("telecollector")
    set_agent_state(db.session, agent, "ready", now=T0)
    set_agent_state(db.session, agent, AgentState.on_call, now=T0 + timedelta(minutes=1))
    set_agent_state(db.session, agent, AgentState.on_call, now=T0 + timedelta(minutes=2))  # no change: no row
    set_agent_state(db.session, agent, AgentState.paused, now=T0 + timedelta(minutes=5), reason_code="istirahat")
    row = current_state(db.session, agent)
    assert (row.state, row.reason_code, row.since) == (AgentState.paused, "istirahat", T0 + timedelta(minutes=5))
    events = db.session.scalars(select(AgentStateEvent).where(AgentStateEvent.user_id == agent.id).order_by("id")).all()
    assert [(e.state, e.previous_state) for e in events] == [
        (AgentState.ready, None),
        (AgentState.on_call, AgentState.ready),
        (AgentState.paused, AgentState.on_call),
    ]
    assert events[-1].at - events[-1].previous_since == timedelta(minutes=4)
    audited = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "agent.state")).all()
    assert audited[-1] == "on_call → paused istirahat"


def test_a_pause_needs_a_known_reason_and_only_a_pause_has_one(db, make_user):
    agent = make_user("telecollector")
    with pytest.raises(ServiceError) as refused:
        set_agent_state(db.session, agent, "paused", now=T0)
    assert refused.value.code == "pause_reason_unknown"
    with pytest.raises(ServiceError) as refused:
        set_agent_state(db.session, agent, "paused", now=T0, reason_code="tidur")
    assert refused.value.code == "pause_reason_unknown"
    with pytest.raises(ServiceError) as refused:
        set_agent_state(db.session, agent, "ready", now=T0, reason_code="istirahat")
    assert refused.value.code == "pause_reason_not_paused"


def test_pause_reasons_are_seeded(db):
    assert {"istirahat", "rapat", "pelatihan", "sholat"} <= {r.code for r in pause_reasons(db.session)}
