"""The branch a command works in: `--branch CODE` for every domain's commands (delivery at the top level, beside
telecollect.cli; it imports no services, so that the report commands may use it)."""

from collections.abc import Callable
from typing import Any

import click

from telecollect.auth.scoping import BranchScope, enter_branch_scope
from telecollect.branches.models import Branch
from telecollect.branches.queries import branch_count, named_branch
from telecollect.branches.settings import branch_settings
from telecollect.branches.stamping import act_in_branch
from telecollect.cli import fail
from telecollect.errors import ServiceError
from telecollect.extensions import db
from telecollect.settings import Settings, installation

BRANCH_HELP = "The branch's code (flask branches list); not needed in an installation of one branch."


def branch_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--branch CODE` for a command that works in one branch."""
    return click.option("--branch", "branch_code", metavar="CODE", help=BRANCH_HELP)(command)


def enter_branch(code: str | None, *, every_branch_without: bool = False) -> Branch | None:
    """Make the command work in branch `code` (the rows it writes are that branch's, it reads only that
    branch) and return it. Without a code: the only branch; with several, every branch (None) when
    `every_branch_without` (reports), else a usage error naming --branch."""
    session = db.session()
    if not code and every_branch_without and branch_count(session) > 1:
        act_in_branch(session, None)
        enter_branch_scope(session, BranchScope(None))
        return None
    try:
        branch = named_branch(session, code)
    except ServiceError as exc:
        fail(exc.message, 2)
    act_in_branch(session, branch.id)
    enter_branch_scope(session, BranchScope((branch.id,)))
    return branch


def command_settings(branch: Branch | None) -> Settings:
    """The settings a command of `branch` passes down (every branch: the installation's)."""
    return installation() if branch is None else branch_settings(db.session(), branch)
