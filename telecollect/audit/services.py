"""Writing the audit log. Callers commit with the rest of their work."""

from flask import has_request_context, request

from telecollect.audit.models import AuditEvent


def record(
    session,
    action: str,
    user=None,
    target=None,
    detail: str | None = None,
    *,
    branch_id: int | None = None,
    target_id: int | None = None,
) -> AuditEvent:
    """Add one audit event; `target` is any model instance with an `id`. `branch_id`: the branch whose log
    keeps it (by default the target's, else the acting branch); `target_id` names a family without loading it."""
    event = AuditEvent(
        action=action,
        user_id=user.id if user is not None else None,
        target_type=target.__tablename__ if target is not None else ("families" if target_id is not None else None),
        target_id=target.id if target is not None else target_id,
        ip=request.remote_addr if has_request_context() else None,
        detail=detail,
        # The target's branch when it has one; else the actor's; else the acting branch (branches.stamping).
        branch_id=branch_id
        if branch_id is not None
        else getattr(target, "branch_id", None) or getattr(user, "branch_id", None),
    )
    session.add(event)
    return event
