"""`flask calls …`: the recordings' deletion at Twilio, by hand (the scheduler runs it daily)."""

from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from telecollect.db import now_utc
from telecollect.extensions import db
from telecollect.runtime import voice
from telecollect.telephony import services as telephony

calls_group = AppGroup("calls", help="Calls placed through Twilio Voice.")


def purge_recordings(now: datetime) -> dict:
    """Daily: delete at Twilio the recordings older than RECORDING_DAYS (Twilio's answer first, then the row;
    one already gone, 404, counts as deleted). A failure leaves the row for the next run."""
    backend = voice()
    if not backend.is_enabled:
        return {"deleted": 0, "failed": 0}
    before = now - timedelta(days=int(current_app.config["RECORDING_DAYS"]))
    deleted = failed = 0
    for call in telephony.recordings_to_delete(db.session, before=before):
        try:
            gone = backend.delete_recording(call.recording_sid)
        except Exception:
            gone = False
        if gone:
            telephony.recording_deleted(db.session, call)
            deleted += 1
        else:
            failed += 1
    db.session.commit()
    return {"deleted": deleted, "failed": failed}


#: (job id, function, seconds between runs), run by the scheduler beside `scheduler.jobs.JOBS`.
CALL_JOBS = (("purge_recordings", purge_recordings, 24 * 3600),)


@calls_group.command("purge-recordings")
def purge_recordings_command():
    """Delete at Twilio the call recordings older than RECORDING_DAYS."""
    counts = purge_recordings(now_utc())
    click.echo(f"deleted: {counts['deleted']}, failed: {counts['failed']}")
