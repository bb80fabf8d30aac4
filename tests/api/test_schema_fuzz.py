"""schemathesis against the OpenAPI schema, over HTTP to pytest-django's live_server: no 5xx.

A bounded number of generated examples per operation (SCHEMATHESIS_EXAMPLES, default 8)
keeps it in `make test`; raise it locally to fuzz harder.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from records.services.api_tokens import create_token
from tests.factories import DepartmentFactory, RecordsRequestFactory, make_clerk

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))
CSRF = "a" * 32  # a fixed CSRF secret, sent as cookie and header like a browser would


@pytest.fixture
def api_schema(transactional_db):
    from drf_spectacular.generators import SchemaGenerator

    raw = SchemaGenerator().get_schema(request=None, public=True)
    raw["paths"] = {p: ops for p, ops in raw["paths"].items() if p.startswith("/api/v1/")}
    return schemathesis.openapi.from_dict(raw)


@pytest.fixture
def callers(transactional_db, settings_django):
    department = DepartmentFactory(code="PD", name="Police", upload_policy="flag")
    # Not a yearly reference: open_request numbers its own from ReferenceCounter.
    RecordsRequestFactory(status="gathering", reference="FUZZ-1")
    token = create_token(actor=None, department=department, name="fuzz").token
    from django.test import Client

    browser = Client()
    browser.force_login(make_clerk())
    session = browser.cookies["sessionid"].value
    return {
        "department": {"headers": {"Authorization": f"Token {token}"}},
        "clerk": {
            "headers": {"X-CSRFToken": CSRF},
            "cookies": {"sessionid": session, "csrftoken": CSRF},
        },
    }


@pytest.fixture
def settings_django(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # The fuzzer sends hundreds of calls in seconds: throttling is tested elsewhere.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
    return settings


def test_no_operation_answers_with_a_server_error(api_schema, callers, live_server):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
        )
        def no_server_error(case) -> None:
            for caller in callers.values():
                case.call_and_validate(base_url=live_server.url, checks=[not_a_server_error], **caller)

        no_server_error()
