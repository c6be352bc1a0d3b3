"""An API that answers 200 with junk fails the sync in one line; a field of the wrong type
lands, as text, and is quarantined by the gate: never a silently empty day, never a lost row."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, Response

from liftoff.batch import Batch, Interval
from liftoff.config import Settings, load_sources
from liftoff.ingest.local import IngestError, sync_interval
from liftoff.validate.gate import validate_batch
from liftoff.warehouse.location import Warehouse
from liftoff_contracts import Sale
from sales_api.server import BackgroundApi

DAY = date(2026, 11, 20)
SALE = {
    "sale_id": "S1",
    "seller_email": "ana@liftoff.example",
    "product": "Starter Plan",
    "quantity": 2,
    "amount": "98.00",
    "sold_at": "2026-11-20T09:00:00Z",
    "updated_at": "2026-11-20T10:00:00Z",
}
ANSWERS = {
    "html": PlainTextResponse("<html><body>Service maintenance</body></html>", media_type="text/html"),
    "truncated": Response('{"data": [{"sale_id": "S1", "amo', media_type="application/json"),
    "data_not_a_list": Response('{"data": {"sale_id": "S1"}, "total": 1}', media_type="application/json"),
}


def crm_api(answer) -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/sales")
    def sales():
        return answer

    return app


def sales_only():
    crm = load_sources()["crm"]
    return crm.model_copy(update={"streams": {"sales": crm.streams["sales"]}})


@pytest.mark.parametrize("kind", sorted(ANSWERS))
def test_a_page_that_is_not_the_apis_shape_fails_the_sync_in_one_line(
    bootstrapped: Warehouse, liftoff_home: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    with BackgroundApi(app=crm_api(ANSWERS[kind])) as api:
        monkeypatch.setenv("LIFTOFF_API_URL", api.url)
        with pytest.raises(IngestError) as info:
            sync_interval(
                "crm", sales_only(), Interval.for_day(DAY), bootstrapped, Settings(home=liftoff_home)
            )
    message = str(info.value)
    assert "\n" not in message and "not a list of records under `data`" in message
    with bootstrapped.connect() as conn:
        landed = conn.execute("select to_regclass('raw_crm.sales') is not null").fetchone()[0]
        assert not landed or conn.execute("select count(*) from raw_crm.sales").fetchone()[0] == 0


def test_a_field_of_the_wrong_type_is_quarantined_not_a_failed_sync(
    bootstrapped: Warehouse, liftoff_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = {"data": [SALE, {**SALE, "sale_id": "S2", "quantity": "three"}], "total": 2}
    with BackgroundApi(app=crm_api(page)) as api:
        monkeypatch.setenv("LIFTOFF_API_URL", api.url)
        landed = sync_interval(
            "crm", sales_only(), Interval.for_day(DAY), bootstrapped, Settings(home=liftoff_home)
        )
    assert landed == {"sales": 2}
    batch = Batch.of("crm", "sales", sales_only().streams["sales"], Interval.for_day(DAY))
    with bootstrapped.connect() as conn:
        result = validate_batch(conn, batch, Sale, max_reject_ratio=1.0)
        assert (result.landed, result.accepted, result.rejected) == (2, 1, 1)
        [(sale_id, fields)] = conn.execute(
            "select row_data->>'sale_id', errors from audit.quarantine where batch_id = %s", (batch.batch_id,)
        ).fetchall()
    assert sale_id == "S2" and [error["field"] for error in fields] == ["quantity"]
