"""Fixtures for API tests: departments, people, department tokens, and API clients."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from records.services.api_tokens import create_token
from tests.factories import DepartmentFactory, RecordsRequestFactory, make_clerk, make_manager


@pytest.fixture(autouse=True)
def _media_in_tmp(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def police(db):
    return DepartmentFactory(code="PD", name="Police", upload_policy="flag")


@pytest.fixture
def works(db):
    return DepartmentFactory(code="PW", name="Public Works", upload_policy="flag")


@pytest.fixture
def clerk(db):
    return make_clerk()


@pytest.fixture
def manager(db):
    return make_manager()


@pytest.fixture
def open_request(db):
    return RecordsRequestFactory(status="gathering")


@pytest.fixture
def clerk_client(clerk) -> APIClient:
    client = APIClient()
    client.force_login(clerk)
    return client


def token_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def police_token(police) -> str:
    return create_token(actor=None, department=police, name="PD evidence server").token


@pytest.fixture
def works_token(works) -> str:
    return create_token(actor=None, department=works, name="PW field app").token


@pytest.fixture
def police_client(police_token) -> APIClient:
    return token_client(police_token)


@pytest.fixture
def works_client(works_token) -> APIClient:
    return token_client(works_token)
