"""The OpenAPI document stays in step with the API's routes, outcome codes and JSON."""

import re

import pytest

from telecollect.api.openapi import openapi_document
from telecollect.contacts.outcomes import OUTCOMES
from telecollect.queues.models import QueueName
from tests.conftest import csrf_token
from tests.helpers_queue import families, queue_up

PREFIX = "/api/v1"
IGNORED_METHODS = {"HEAD", "OPTIONS"}
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture(scope="module")
def document():
    return openapi_document()


def app_operations(app) -> set[tuple[str, str]]:
    """(path template, method) of every /api/v1 URL rule, in OpenAPI spelling."""
    operations = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(PREFIX) :])
        operations |= {(path, method.lower()) for method in rule.methods - IGNORED_METHODS}
    return operations


def documented_operations(document) -> set[tuple[str, str]]:
    return {(path, method) for path, item in document["paths"].items() for method in item if method in HTTP_METHODS}


def test_the_document_is_served_under_the_api_prefix(document):
    assert [server["url"] for server in document["servers"]] == [PREFIX]


def test_every_api_route_is_documented_and_nothing_else(app, document):
    in_app = app_operations(app)
    documented = documented_operations(document)
    assert ("/work-items/{item_id}/outcome", "post") in in_app  # the rule conversion works
    assert in_app - documented == set(), "routes missing from the OpenAPI document"
    assert documented - in_app == set(), "documented operations the app does not have"


def test_path_parameters_match_the_path_templates(document):
    for path, item in document["paths"].items():
        placeholders = set(re.findall(r"{([^}]+)}", path))
        for method in set(item) & HTTP_METHODS:
            declared = {p["name"] for p in item[method].get("parameters", []) if p["in"] == "path"}
            assert declared == placeholders, f"{method.upper()} {path}"


def test_openapi_json_is_public_json(client):
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    assert response.is_json
    assert response.json["openapi"].startswith("3.1")
    assert set(response.json["paths"]) == set(openapi_document()["paths"])


def test_outcome_enum_is_every_outcome_code(document):
    outcome = document["components"]["schemas"]["OutcomeRequest"]["properties"]["outcome"]
    assert outcome["enum"] == sorted(OUTCOMES)
    assert document["components"]["schemas"]["OutcomeRequest"]["required"] == ["outcome"]


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(document, ref: str):
    assert ref.startswith("#/"), f"only local references are used: {ref}"
    node = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def test_every_ref_resolves_to_a_component(document):
    refs = set(_refs(document))
    assert {
        "#/components/schemas/WorkItem",
        "#/components/schemas/Error",
        "#/components/schemas/OutcomeRequest",
    } <= refs
    for ref in refs:
        assert ref.startswith("#/components/"), ref
        assert isinstance(_resolve(document, ref), dict)


def test_error_responses_use_the_error_schema(document):
    errors = [
        response
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in HTTP_METHODS
        for status, response in operation["responses"].items()
        if status.startswith("4")
    ]
    assert errors
    for response in errors:
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_security_schemes_are_defined(document):
    schemes = document["components"]["securitySchemes"]
    for requirement in document["security"]:
        assert set(requirement) <= set(schemes)
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}


def assert_shape(value: dict, schema_name: str, document) -> None:
    """The JSON has exactly the fields the schema names."""
    schema = document["components"]["schemas"][schema_name]
    assert set(value) == set(schema["properties"]), schema_name
    assert set(schema.get("required", [])) <= set(value), schema_name


def test_schemas_name_the_fields_the_api_sends(clock, db, client, login, make_user, document):
    families(db, 1)
    user = make_user("supervisor")
    queue_up(db, QueueName.telecollect)
    login(make_user("telecollector"))
    csrf = {"X-CSRFToken": csrf_token(client.get("/participants").text)}

    claimed = client.post(f"{PREFIX}/queue/claim", headers=csrf)
    assert claimed.status_code == 200, claimed.text
    work = claimed.json["work_item"]
    assert_shape(work, "WorkItem", document)
    assert_shape(work["family"][0], "FamilyMember", document)

    recorded = client.post(
        f"{PREFIX}/work-items/{work['id']}/outcome",
        headers=csrf,
        json={"outcome": "no_answer", "client_ref": "openapi-1"},
    )
    assert recorded.status_code == 201, recorded.text
    assert_shape(recorded.json["attempt"], "Attempt", document)

    refused = client.post(f"{PREFIX}/work-items/{work['id']}/outcome", headers=csrf, json={"outcome": "nope"})
    assert refused.status_code == 400
    assert_shape(refused.json, "Error", document)

    client.post("/logout", headers=csrf)
    login(user)
    shown = client.get(f"{PREFIX}/participants/{work['family'][0]['card_no']}")
    assert shown.status_code == 200, shown.text
    assert_shape(shown.json["participant"], "Participant", document)
