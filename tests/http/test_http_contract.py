"""Contract test: schemathesis drives the served OpenAPI document against the real app.

Requests are generated from /openapi.json (valid and invalid ones, path ids
random or real: a facility, a pool and a booking made first) and sent to the
Falcon app in-process over WSGI with an admin key. No answer may be a 5xx, and
every error answer is application/problem+json. The one 5xx the API documents,
`503 projection-behind`, passes only when the request's `min_position` really
is beyond the position its read models have reached. Bounded and derandomized,
so a CI run is the same run every time.
"""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
import schemathesis
from http_support import Api, World, hold
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from berth.adapters.read_models import queries
from berth.http import Services, Settings

EXAMPLES_PER_OPERATION = 20

BOUNDED = hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


@pytest.fixture
def settings() -> Settings:
    """As the other HTTP tests, but a `min_position` the read models lack fails fast."""
    return Settings(key_cache_seconds=0, consistency_timeout=0.05, max_body_bytes=4096)


def error_is_a_problem(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx/5xx answer is an RFC 9457 problem document."""
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", [""])
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        assert content_type.split(";")[0] == "application/problem+json", (
            f"{case.operation.label}: {response.status_code} with {content_type!r}"
        )
    return None


def no_server_error(services: Services) -> Any:
    """`not_a_server_error`, but for a documented and true `503 projection-behind`."""

    def check(ctx: Any, response: Any, case: Any) -> bool | None:
        if response.status_code == 503 and response.json().get("type", "").endswith(
            "/projection-behind"
        ):
            problem = response.json()
            assert problem["min_position"] == int(case.query["min_position"])
            with services.pool.connection() as conn:
                reached = queries.positions(conn, problem["projections"])
            assert min(reached.values()) < problem["min_position"], (problem, reached)
            return None
        return not_a_server_error(ctx, response, case)

    return check


def real_ids(api: Api, world: World) -> dict[str, str]:
    booking = hold(api, world)
    return {
        "facility_id": world.facility_id,
        "pool_id": world.pool_id,
        "booking_id": booking["id"],
    }


def strategies(operation: Any, ids: dict[str, str]) -> st.SearchStrategy[Any]:
    """Valid and invalid requests, with real ids in the path in some of the valid ones."""
    names = {parameter.name for parameter in operation.path_parameters}
    known = {name: value for name, value in ids.items() if name in names}
    options = [operation.as_strategy(GenerationMode.POSITIVE)]
    if known:
        options.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known))
    options.append(operation.as_strategy(GenerationMode.NEGATIVE))
    return st.one_of(options)


def test_no_generated_request_gets_a_5xx(api: Api, world: World, services: Services, workers: None):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", api.client.app)
    ids = real_ids(api, world)
    checks = [no_server_error(services), error_is_a_problem]
    auth = api.headers("admin")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @BOUNDED
        @given(case=strategies(operation, ids))
        def exercise(case: Any) -> None:
            response = case.call(headers=auth)
            case.validate_response(response, checks=checks)

        try:
            exercise()
        except Exception as error:
            failures.append(f"{operation.label}: {error}")
    assert operations > 10
    assert not failures, "\n\n".join(failures)
