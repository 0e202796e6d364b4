"""The API and its OpenAPI document agree: Schemathesis generates requests from the document (valid ones,
and ones the document forbids) and checks every answer with all its checks (no 5xx; status codes, headers
and bodies as documented; bodies the document forbids refused, ones it allows accepted; a request without
credentials refused), as a telecollector with a bearer token, with a fixed seed."""

import contextvars
from datetime import UTC, datetime

import pytest
import schemathesis
from flask.globals import _cv_app
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import ignored_auth

from telecollect.api.openapi import openapi_document
from telecollect.auth.services import issue_token
from telecollect.queues.models import QueueName
from telecollect.runtime import contact_rules, lease
from telecollect.workflows import queue_work
from tests.helpers_queue import families, queue_up

#: 800 cases in all (about 13 s on SQLite here): well under a minute, and more than the review's 680.
MAX_EXAMPLES = 100
#: Every operation but the document's own (Schemathesis just read it).
OPERATIONS = [
    (method.upper(), path)
    for path, methods in openapi_document()["paths"].items()
    for method in methods
    if path != "/openapi.json"
]


def _isolated(app):
    """Each request in its own application context, as a real server runs it (see conftest.IsolatedClient)."""

    def wsgi(environ, start_response):
        def fresh():
            _cv_app.set(None)
            return app(environ, start_response)

        return contextvars.copy_context().run(fresh)

    return wsgi


@pytest.fixture
def api(app, db, make_user, clock):
    """The document as a telecollector reads it, her headers, and the work item she holds."""
    families(db, 3)
    queue_up(db, QueueName.telecollect)
    agent = make_user("telecollector", username="tc.schemathesis")
    headers = {"Authorization": f"Bearer {issue_token(db.session, agent, now=datetime.now(UTC))}"}
    db.session.commit()
    held = queue_work.claim(db.session, agent, contact_rules(), lease=lease(), now=datetime.now(UTC))
    db.session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _isolated(app), headers=headers)
    # The document says text never holds a NUL character (every request carrying one is refused with
    # 400 `nul_character` before any view runs); JSON Schema cannot say it, so it is told to the generator.
    schema.config.generation.update(allow_x00=False)
    return schema, headers, held.id


def _cases(operation, held_id: int):
    """Requests the document allows and requests it forbids, with ids as generated (mostly no such item) and,
    where the path names a work item, the one the telecollector holds, so that bodies reach the rules.

    A valid outcome for her own item is left out: whether a promise's date or a callback's time is
    acceptable depends on the day and the calling window, rules no schema can state (the domain tests
    cover them); the document promises the shape, and every shape it forbids is refused."""
    strategies = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    if "{item_id}" in operation.path:
        mine = {"item_id": held_id}
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=mine))
        if not operation.path.endswith("/outcome"):
            strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=mine))
    return st.one_of(strategies)


def _run(operation, held_id: int, headers: dict, **checks) -> None:
    @given(case=_cases(operation, held_id))
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None)
    def answers_as_documented(case):
        case.call_and_validate(headers=headers, **checks)

    answers_as_documented()


def test_every_operation_is_tested(api):
    schema, _headers, _held = api
    tested = sorted((result.ok().method.upper(), result.ok().path) for result in schema.get_all_operations())
    assert tested == sorted(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_the_api_answers_as_its_document_says(api, method, path):
    schema, headers, held = api
    _run(schema[path][method], held, headers)


def test_a_write_without_credentials_is_401(api):
    schema, headers, held = api
    _run(schema["/queue/claim"]["POST"], held, headers, checks=[ignored_auth])
