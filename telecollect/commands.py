"""Every `flask` command of the app, gathered from the domains' `cli.py` modules (delivery layer)."""

from flask import Flask

from telecollect.auth.cli import users_group
from telecollect.branches.cli import branches_group
from telecollect.cli import import_group, report_group
from telecollect.demo.cli import demo_group
from telecollect.messaging.cli import messaging_group
from telecollect.participants import cli as participants_cli  # noqa: F401  (adds `import participants`)
from telecollect.payments.cli import payments_group
from telecollect.programs.cli import programs_group
from telecollect.queues.cli import holidays_group, queue_group
from telecollect.regions import cli as regions_cli  # noqa: F401  (adds `import regions`)
from telecollect.reports import cli as reports_cli  # noqa: F401  (adds `report …`)
from telecollect.scheduler.cli import jobs_group, scheduler_group
from telecollect.scheduler.housekeeping import retention_group
from telecollect.telephony.cli import calls_group

GROUPS = (
    import_group,
    report_group,
    users_group,
    branches_group,
    demo_group,
    queue_group,
    holidays_group,
    payments_group,
    programs_group,
    scheduler_group,
    jobs_group,
    retention_group,
    calls_group,
    messaging_group,
)


def register_commands(app: Flask) -> None:
    for group in GROUPS:
        app.cli.add_command(group)
