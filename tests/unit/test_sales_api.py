"""The demo CRM API: deterministic, paginated, windowed, optionally dirty, fault-injectable."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from liftoff_contracts import Sale
from sales_api.app import SalesApiSettings, create_app
from sales_api.data import DIRT_KINDS, sales_for_day

DAY = "2026-11-20"
WINDOW = {"updated_since": f"{DAY}T00:00:00Z", "updated_until": f"{DAY}T23:59:59Z"}


def client(**settings) -> TestClient:
    return TestClient(create_app(SalesApiSettings(**settings)))


def all_pages(api: TestClient, page_size: int) -> list[dict]:
    rows, page = [], 1
    while True:
        body = api.get("/sales", params={**WINDOW, "page": page, "page_size": page_size}).json()
        rows += body["data"]
        if len(body["data"]) < page_size:
            return rows
        page += 1


def test_same_request_same_rows() -> None:
    first = client().get("/sales", params=WINDOW).json()
    sales_for_day.cache_clear()  # generated again, not served from the cache
    second = client().get("/sales", params=WINDOW).json()
    assert first == second
    assert first["total"] >= 40


def test_pagination_covers_every_row_once() -> None:
    api = client()
    rows = all_pages(api, page_size=7)
    total = api.get("/sales", params=WINDOW).json()["total"]
    assert len(rows) == total
    assert len({row["sale_id"] for row in rows}) == total


def test_window_is_inclusive_and_filters_by_cursor() -> None:
    rows = client().get("/sales", params={**WINDOW, "page_size": 1000}).json()["data"]
    assert rows, "a day has sales"
    assert all(row["updated_at"].startswith(DAY) for row in rows)
    first = rows[0]["updated_at"]
    exact = client().get("/sales", params={"updated_since": first, "updated_until": first}).json()["data"]
    assert [row["updated_at"] for row in exact] == [first] * len(exact) and exact


def test_clean_rows_all_satisfy_the_contract() -> None:
    for row in sales_for_day(date(2026, 11, 20)).sales:
        Sale.model_validate(row)


def test_dirty_rows_are_reported_and_clean_rows_unchanged() -> None:
    clean = {row["sale_id"]: row for row in sales_for_day(date(2026, 11, 20)).sales}
    dirty_day = sales_for_day(date(2026, 11, 20), dirty_fraction=0.5)
    kinds = {entry["kind"] for entry in dirty_day.dirty}
    assert kinds <= set(DIRT_KINDS) and len(kinds) >= 3
    dirty_ids = {entry["sale_id"] for entry in dirty_day.dirty}
    for row in dirty_day.sales:
        if row["sale_id"] not in dirty_ids:
            assert row == clean[row["sale_id"]]
    duplicates = [e["sale_id"] for e in dirty_day.dirty if e["kind"] == "duplicate"]
    assert len(dirty_day.sales) == len(clean) + len(duplicates)


def test_dirty_report_endpoint_matches_generator() -> None:
    body = client(dirty_fraction=0.3).get("/_dirty", params={"day": DAY}).json()
    assert body["dirty"] == sales_for_day(date(2026, 11, 20), dirty_fraction=0.3).dirty


def test_injected_faults_then_recovery() -> None:
    api = client()
    api.post("/_faults", json={"status": 429, "count": 2})
    assert api.get("/sales", params=WINDOW).status_code == 429
    assert api.get("/sales", params=WINDOW).status_code == 429
    assert api.get("/sales", params=WINDOW).status_code == 200


def test_api_key_required_when_configured() -> None:
    api = client(api_key="s3cret")
    assert api.get("/products").status_code == 401
    assert api.get("/products", headers={"X-API-Key": "s3cret"}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/_faults", {"status": 503, "count": 99}),
        ("get", "/_faults", None),
        ("get", "/_stats", None),
        ("get", f"/_dirty?day={DAY}", None),
        ("get", "/sellers", None),
    ],
)
def test_with_a_key_every_route_but_health_wants_it(method: str, path: str, body: dict | None) -> None:
    api = client(api_key="s3cret")
    kwargs = {"json": body} if body else {}
    key = {"X-API-Key": "s3cret"}
    assert getattr(api, method)(path, **kwargs).status_code == 401
    assert getattr(api, method)(path, headers={"X-API-Key": "wrong-but-long"}, **kwargs).status_code == 401
    assert api.get("/sales", params=WINDOW, headers=key).status_code == 200, "a refused call changed nothing"
    assert getattr(api, method)(path, headers=key, **kwargs).status_code == 200
    assert api.get("/health").status_code == 200


def test_the_shop_token_is_checked_and_windows_are_bounded() -> None:
    api = client()
    window = {"modified_from": f"{DAY}T00:00:00Z", "modified_to": "2026-11-21T00:00:00Z"}
    assert api.get("/shop/orders", params=window, headers={"X-Shop-Token": "nope"}).status_code == 401
    token = {"X-Shop-Token": SalesApiSettings().shop_token}
    assert api.get("/shop/orders", params=window, headers=token).status_code == 200
    year = {"modified_from": "2025-11-20T00:00:00Z", "modified_to": "2026-11-21T00:00:00Z"}
    response = api.get("/shop/orders", params=year, headers=token)
    assert response.status_code == 422 and "more than 31 days" in response.json()["error"]
    crm_year = {"updated_since": "2025-11-20T00:00:00Z", "updated_until": "2026-11-20T23:59:59Z"}
    assert api.get("/sales", params=crm_year).status_code == 422


@pytest.mark.parametrize(
    "params",
    [
        {"updated_since": "yesterday", "updated_until": f"{DAY}T23:59:59Z"},
        {"updated_since": f"{DAY}T23:59:59Z", "updated_until": f"{DAY}T00:00:00Z"},
        {**WINDOW, "page_size": 5000},
    ],
)
def test_bad_requests_get_a_clear_422(params: dict) -> None:
    response = client().get("/sales", params=params)
    assert response.status_code == 422
