"""A clerk finds pages by their words: on the request page, and through the API with `?q=`.

The words are a PDF page's text layer or Tesseract's reading of a scan; every word asked
for must be on the page; an uploader finds only its own department's pages.
"""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from records.page_search import words_in_context
from records.services.intake import gather_files
from tests.dedupe.pdfs import document_pdf
from tests.dedupe_runs.helpers import InProcessQueue, run_dedupe
from tests.factories import DepartmentFactory, RecordsRequestFactory, make_clerk, make_uploader

pytestmark = pytest.mark.django_db

CASE_118 = ["Case 24-118", "Address: 1200 Harbor Blvd", "Inspector: M. Reyes"]
CASE_207 = ["Case 24-207", "Address: 88 Olive St", "Inspector: J. Tran"]


@pytest.fixture
def gathered(monkeypatch, django_capture_on_commit_callbacks):
    clerk = make_clerk()
    planning = DepartmentFactory(code="PLN", name="Planning")
    police = DepartmentFactory(code="PD", name="Police")
    rr = RecordsRequestFactory(status="gathering")
    gather_files(
        actor=clerk,
        records_request=rr,
        department=planning,
        files=[("inspections.pdf", io.BytesIO(document_pdf([CASE_118, CASE_207])))],
    )
    gather_files(
        actor=clerk,
        records_request=rr,
        department=police,
        files=[("olive.pdf", io.BytesIO(document_pdf([CASE_207])))],
    )
    run_dedupe(clerk, rr, InProcessQueue().install(monkeypatch), django_capture_on_commit_callbacks)
    return clerk, rr, planning, police


def search(client, rr, words: str) -> str:
    response = client.get(reverse("records:request-detail", args=[rr.reference]), {"q": words})
    assert response.status_code == 200
    return response.content.decode()


def test_a_clerk_finds_the_page_holding_every_word_with_the_words_in_context(client, gathered):
    clerk, rr, _, _ = gathered
    client.force_login(clerk)
    page = search(client, rr, "24-118 harbor")
    assert "1 page holds every word of" in page
    assert "inspections.pdf</strong> <small>(page 1)</small>" in page
    assert "<mark>24-118</mark>" in page and "<mark>Harbor</mark>" in page
    assert "olive.pdf" not in page.split('id="search"')[1].split("</section>")[0]


def test_a_word_on_pages_of_two_departments_finds_both(client, gathered):
    clerk, rr, _, _ = gathered
    client.force_login(clerk)
    section = search(client, rr, "Olive").split('id="search"')[1].split("</section>")[0]
    assert "2 pages hold every word of" in section
    assert "inspections.pdf" in section and "olive.pdf" in section


def test_an_uploader_finds_only_its_own_departments_pages(client, gathered):
    _, rr, _, police = gathered
    client.force_login(make_uploader(police))
    section = search(client, rr, "Olive").split('id="search"')[1].split("</section>")[0]
    assert "olive.pdf" in section and "inspections.pdf" not in section


def test_no_page_holds_words_that_are_not_there(client, gathered):
    clerk, rr, _, _ = gathered
    client.force_login(clerk)
    assert "No page holds every word of" in search(client, rr, "24-118 Olive")


def test_the_api_finds_items_by_their_words_for_a_department_only_in_its_own(gathered):
    from rest_framework.test import APIClient

    from records.services.api_tokens import create_token

    clerk, rr, _, police = gathered
    staff = APIClient()
    staff.force_login(clerk)
    found = staff.get("/api/v1/items/", {"request": rr.pk, "q": "Olive"}).json()["results"]
    assert sorted(i["original_path"] for i in found) == ["inspections.pdf", "olive.pdf"]
    assert [i["original_path"] for i in staff.get("/api/v1/items/", {"q": "harbor"}).json()["results"]] == [
        "inspections.pdf"
    ]
    department = APIClient()
    department.credentials(
        HTTP_AUTHORIZATION=f"Token {create_token(actor=None, department=police, name='PD').token}"
    )
    assert [
        i["original_path"] for i in department.get("/api/v1/items/", {"q": "Olive"}).json()["results"]
    ] == ["olive.pdf"]


def test_words_in_context_are_escaped_and_marked():
    text = "Note <script>alert(1)</script> about Case 24-118 at the corner of Harbor and 5th"
    shown = words_in_context(text, "harbor 24-118")
    assert "<script>" not in shown and "&lt;script&gt;" in shown
    assert "<mark>24-118</mark>" in shown and "<mark>Harbor</mark>" in shown
