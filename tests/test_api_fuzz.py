"""Fuzz the HTTP API from its own description: schemathesis against the real server over TLS.

Every operation of ``/openapi.json`` (as served) gets bounded runs of generated requests,
valid ones and invalid ones, against the session's gunicorn; every response must be
documented (status, media type and schema) and no random input may cause a server error.
Downloads and lookups also run against a real stored file, so their 200/206/416 paths are
fuzzed too. Afterwards nothing is left behind: no temporary file, no row without its blob,
no blob without its row.
"""

from __future__ import annotations

import json
import typing as t
from importlib import resources

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import given
from hypothesis import settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance
from schemathesis.specs.openapi.checks import response_schema_conformance
from schemathesis.specs.openapi.checks import status_code_conformance

from .wire import assert_consistent
from .wire import listed_ids

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from schemathesis.schemas import APIOperation
    from schemathesis.specs.openapi.schemas import OpenApiSchema

    from .live_server import LiveServer

pytestmark = pytest.mark.e2e

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 40
METHODS = ("get", "put", "post", "delete", "patch")
SPEC = json.loads(resources.files("secureserver").joinpath("openapi.json").read_text("utf-8"))
OPERATIONS = {
    operation["operationId"]: bool(path.get("parameters") or operation.get("parameters"))
    or "requestBody" in operation
    for path in SPEC["paths"].values()
    for method, operation in path.items()
    if method in METHODS
}
# (operation, mode): invalid inputs only where the operation takes any input at all.
RUNS = [
    (operation_id, mode)
    for operation_id, takes_input in sorted(OPERATIONS.items())
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if takes_input or mode is GenerationMode.POSITIVE
]


@pytest.fixture(scope="module")
def api(live_server: LiveServer) -> Iterator[OpenApiSchema]:
    """The description the server serves; files the fuzzing stores are removed afterwards."""
    before = listed_ids(live_server)
    yield schemathesis.openapi.from_url(
        live_server.url("/openapi.json"), verify=str(live_server.ca_file), timeout=10
    )
    session = live_server.session()
    for file_id in listed_ids(live_server) - before:
        session.delete(live_server.url(f"/api/files/{file_id}"), timeout=10)


def _fuzz(
    server: LiveServer,
    operation: APIOperation,
    mode: GenerationMode = GenerationMode.POSITIVE,
    **fixed: t.Any,
) -> None:
    session = server.session()

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        # Report the first failure as found: shrinking through HTTP takes minutes.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    def run(case: t.Any) -> None:
        case.call_and_validate(
            base_url=server.base_url,
            session=session,
            checks=CHECKS,
            verify=str(server.ca_file),
            timeout=10,
            allow_redirects=False,
        )

    run()


def test_the_served_description_lists_every_operation(
    live_server: LiveServer, api: OpenApiSchema
) -> None:
    served = live_server.session().get(live_server.url("/openapi.json"), timeout=10).json()
    assert served == SPEC
    assert {op.ok().definition.raw["operationId"] for op in api.get_all_operations()} == set(
        OPERATIONS
    )


@pytest.mark.parametrize(("operation_id", "mode"), RUNS, ids=[f"{o}-{m.value}" for o, m in RUNS])
def test_operation_conforms_to_its_description(
    live_server: LiveServer, api: OpenApiSchema, operation_id: str, mode: GenerationMode
) -> None:
    _fuzz(live_server, api.find_operation_by_id(operation_id), mode)


@pytest.mark.parametrize("operation_id", ["downloadFile", "getFile"])
def test_operation_on_a_stored_file(
    live_server: LiveServer, api: OpenApiSchema, operation_id: str
) -> None:
    # Random ids only ever meet a 404; a real one exercises ranges, If-Range and the record.
    created = live_server.session().put(
        live_server.url("/upload/fuzzed.bin"), data=bytes(range(256)) * 1000, timeout=10
    )
    file_id = created.json()["files"][0]["id"]
    operation = api.find_operation_by_id(operation_id)
    _fuzz(live_server, operation, path_parameters={"id": file_id})


# Not "." or "..", nor a leading "/": clients normalise those away before sending (RFC 3986
# 5.2.4); tests/test_hostile_names_e2e.py sends them raw.
@pytest.mark.parametrize("filename", ["a/b", "..a", " ", "%00", "\u202e", "\\"])
def test_upload_with_a_hostile_name_conforms(
    live_server: LiveServer, api: OpenApiSchema, filename: str
) -> None:
    operation = api.find_operation_by_id("uploadRaw")
    case = operation.Case(
        path_parameters={"filename": filename},
        body=b"x",
        media_type="application/octet-stream",
    )
    case.call_and_validate(
        base_url=live_server.base_url,
        session=live_server.session(),
        checks=CHECKS,
        verify=str(live_server.ca_file),
        timeout=10,
        allow_redirects=False,
    )


def test_fuzzing_left_nothing_behind(live_server: LiveServer, api: OpenApiSchema) -> None:
    assert_consistent(live_server)
