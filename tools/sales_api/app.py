"""Demo sales APIs (FastAPI): stand-ins for the startup's CRM and its web shop.

The CRM (``/sales``, ``/sellers``, ``/products``): paginated (``page``/``page_size``),
incremental by the ``updated_at`` cursor (``updated_since``/``updated_until``, both
inclusive), optionally dirty, optional ``X-API-Key``.
The shop (``/shop/orders``): another shape and auth: nested order lines, cursor
pagination (``cursor``/``limit``, ``next_cursor``), a ``modified_from`` (inclusive) to
``modified_to`` (exclusive) window, and a required ``X-Shop-Token`` header.
Both are deterministic for a given day, with injectable HTTP 429/5xx responses, hostile
records (``poison_records``: values no database text holds) and hostile pagination
(``/_pagination``: pages without end, a repeated next cursor).

What the docs tell people to copy, so it is safe to copy: keys are compared in constant
time; with a key configured, every route but ``/health`` wants it (the test routes
``/_faults``, ``/_outage``, ``/_quiet``, ``/_dirty`` and ``/_stats`` too); a request's window is at most
``MAX_WINDOW_DAYS`` days, so no request makes the server build an unbounded answer.
"""

from __future__ import annotations

import base64
import hmac
import threading
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sales_api.data import (
    PRODUCTS,
    REFERENCE_UPDATED_AT,
    SELLERS,
    parse_timestamp,
    sales_between,
    sales_for_day,
)
from sales_api.shop import DEMO_SHOP_TOKEN, orders_between

MAX_PAGE_SIZE = 1000
MAX_WINDOW_DAYS = 31  # a run asks for one day; a month is plenty for a catch-up
PageNumber = Annotated[int, Query(ge=1)]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


class SalesApiSettings(BaseSettings):
    """Behaviour of the demo API, from ``LIFTOFF_API_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="LIFTOFF_API_")

    seed: int = 42
    dirty_fraction: float = Field(0.0, ge=0.0, le=1.0)
    api_key: str | None = None
    with_channel: bool = False  # the CRM grows a field the connector does not declare
    rows_per_day: int | None = Field(None, ge=1)  # a fixed daily volume, for benchmarks
    late_corrections: int = Field(0, ge=0)  # sales of two days before, corrected each day
    shop_token: str = DEMO_SHOP_TOKEN  # the shop always wants its X-Shop-Token header
    orders_per_day: int | None = Field(None, ge=0)  # a fixed daily shop volume, for benchmarks
    # the first N sales of every answered window carry values no database text can hold (POISON_KINDS)
    poison_records: int = Field(0, ge=0)


# What a poisoned sale carries, in turn: a NUL in a declared field, a NUL in a key of a
# field the connector does not declare (it reaches landing in _record), nesting 100 deep.
POISON_KINDS = ("nul_in_value", "nul_in_key", "too_deep")


def poisoned(sale: dict, kind: str) -> dict:
    """A copy of ``sale`` carrying the hostile value ``kind`` (one of POISON_KINDS)."""
    if kind == "nul_in_value":
        return {**sale, "product": sale["product"] + "\x00"}
    if kind == "nul_in_key":
        return {**sale, "notes": {"gift\x00wrap": True}}
    deep: list = []
    for _ in range(100):
        deep = [deep]
    return {**sale, "notes": deep}


class PaginationFault(BaseModel):
    """How the data routes page. ``endless``: every page is full and points to a next one
    (rows repeat to fill it; the shop's cursors keep moving). ``repeat_cursor``: the shop
    answers every page with the next cursor of its first page; the CRM ignores ``page`` (its
    client counts the pages) and answers page 1 each time. ``none``: as a real API."""

    mode: Literal["none", "endless", "repeat_cursor"] = "none"


class FaultPlan(BaseModel):
    """The next ``count`` data requests answer ``status`` instead of data."""

    status: int = Field(ge=400, le=599)
    count: int = Field(ge=0)


class OutagePlan(BaseModel):
    """Data requests whose window touches one of ``days`` answer ``status`` (an empty list heals)."""

    days: list[date]
    status: int = Field(503, ge=400, le=599)


class QuietPlan(BaseModel):
    """The CRM's sales of ``days`` stop after their first ``rows`` (an export cut short: every
    row valid, too few of them; an empty list heals)."""

    days: list[date]
    rows: int = Field(3, ge=0)


class _Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._plan = FaultPlan(status=503, count=0)
        self.outage = OutagePlan(days=[])
        self.quiet = QuietPlan(days=[])
        self.served = 0

    def quieten(self, sales: list[dict]) -> list[dict]:
        """``sales`` less what the quiet plan cuts from its days."""
        kept: dict[str, int] = {}
        quiet = {day.isoformat() for day in self.quiet.days}
        out = []
        for sale in sales:
            day = str(sale.get("updated_at"))[:10]
            if day in quiet:
                kept[day] = kept.get(day, 0) + 1
                if kept[day] > self.quiet.rows:
                    continue
            out.append(sale)
        return out

    def refuse_window(self, start: datetime, end: datetime) -> None:
        """Raise the outage's status if the window touches a day that is down."""
        last = max(start, end - timedelta(microseconds=1)).date()
        if any(start.date() <= day <= last for day in self.outage.days):
            raise HTTPException(self.outage.status, f"injected outage of {start.date()}..{last}")

    def set(self, plan: FaultPlan) -> None:
        with self._lock:
            self._plan = plan

    def take(self) -> int | None:
        with self._lock:
            if self._plan.count <= 0:
                return None
            self._plan = FaultPlan(status=self._plan.status, count=self._plan.count - 1)
            self.served += 1
            return self._plan.status


def _same(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented secret with the expected one."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _bounded(start: datetime, end: datetime, start_name: str, end_name: str) -> None:
    if end - start > timedelta(days=MAX_WINDOW_DAYS):
        raise HTTPException(
            422, f"{start_name}..{end_name} spans more than {MAX_WINDOW_DAYS} days: page by days"
        )


def _parse_cursor(name: str, value: str) -> datetime:
    try:
        return parse_timestamp(value)
    except ValueError:
        raise HTTPException(422, f"{name} must be an ISO-8601 date-time, got {value!r}") from None


def _page(rows: list[dict], page: int, page_size: int) -> dict:
    start = (page - 1) * page_size
    return {"data": rows[start : start + page_size], "page": page, "page_size": page_size, "total": len(rows)}


def _shop_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _shop_offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        kind, _, offset = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind != "offset" or int(offset) < 0:
            raise ValueError(cursor)
        return int(offset)
    except ValueError:
        raise HTTPException(422, f"cursor {cursor!r} is not one this API issued") from None


def create_app(settings: SalesApiSettings | None = None) -> FastAPI:
    """Build the API; each app has its own settings and fault plan."""
    settings = settings or SalesApiSettings()
    faults = _Faults()
    pagination = {"fault": PaginationFault()}
    app = FastAPI(title="LiftOff demo CRM", version="1.0.0")
    app.state.settings = settings
    app.state.faults = faults
    app.state.sales_requests = 0

    def injected_fault() -> None:
        status = faults.take()
        if status is not None:
            headers = {"Retry-After": "0"} if status == 429 else None
            raise HTTPException(status, f"injected fault {status}", headers=headers)

    def check_key(x_api_key: Annotated[str | None, Header()] = None) -> None:
        if settings.api_key and not _same(x_api_key, settings.api_key):
            raise HTTPException(401, "missing or wrong X-API-Key header")

    def check_access(x_api_key: Annotated[str | None, Header()] = None) -> None:
        check_key(x_api_key)
        injected_fault()

    def check_shop_token(x_shop_token: Annotated[str | None, Header()] = None) -> None:
        if not _same(x_shop_token, settings.shop_token):
            raise HTTPException(401, "missing or wrong X-Shop-Token header")
        injected_fault()

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "seed": settings.seed, "dirty_fraction": settings.dirty_fraction}

    @app.get("/sales", dependencies=[Depends(check_access)])
    def sales(
        updated_since: str,
        updated_until: str,
        page: PageNumber = 1,
        page_size: PageSize = 100,
    ) -> dict:
        start = _parse_cursor("updated_since", updated_since)
        end = _parse_cursor("updated_until", updated_until)
        if end < start:
            raise HTTPException(422, "updated_until is before updated_since")
        _bounded(start, end, "updated_since", "updated_until")
        faults.refuse_window(start, end)
        rows = sales_between(
            start,
            end,
            seed=settings.seed,
            dirty_fraction=settings.dirty_fraction,
            with_channel=settings.with_channel,
            rows_per_day=settings.rows_per_day,
            late_corrections=settings.late_corrections,
        )
        rows = faults.quieten(rows)
        if settings.poison_records:
            n = settings.poison_records
            rows = [
                poisoned(row, POISON_KINDS[i % len(POISON_KINDS)]) if i < n else row
                for i, row in enumerate(rows)
            ]
        app.state.sales_requests += 1
        mode = pagination["fault"].mode
        if mode == "endless" and rows:
            first = (page - 1) * page_size
            full = [rows[i % len(rows)] for i in range(first, first + page_size)]
            return {"data": full, "page": page, "page_size": page_size, "total": page * page_size + 1}
        if mode == "repeat_cursor":
            page = 1
        return _page(rows, page, page_size)

    @app.get("/sellers", dependencies=[Depends(check_access)])
    def sellers(page: PageNumber = 1, page_size: PageSize = 100) -> dict:
        rows = [{**seller, "updated_at": REFERENCE_UPDATED_AT} for seller in SELLERS]
        return _page(rows, page, page_size)

    @app.get("/products", dependencies=[Depends(check_access)])
    def products(page: PageNumber = 1, page_size: PageSize = 100) -> dict:
        rows = [{**product, "updated_at": REFERENCE_UPDATED_AT} for product in PRODUCTS]
        return _page(rows, page, page_size)

    @app.get("/shop/orders", dependencies=[Depends(check_shop_token)])
    def shop_orders(
        modified_from: str,
        modified_to: str,
        cursor: str | None = None,
        limit: PageSize = 100,
    ) -> dict:
        start = _parse_cursor("modified_from", modified_from)
        end = _parse_cursor("modified_to", modified_to)
        if end <= start:
            raise HTTPException(422, "modified_to must be after modified_from")
        _bounded(start, end, "modified_from", "modified_to")
        faults.refuse_window(start, end)
        orders = orders_between(start, end, seed=settings.seed, orders_per_day=settings.orders_per_day)
        offset = _shop_offset(cursor)
        mode = pagination["fault"].mode
        if mode != "none" and orders:
            full = [orders[i % len(orders)] for i in range(offset, offset + limit)]
            following = offset + limit if mode == "endless" else limit  # repeat: the first page's next
            return {"orders": full, "next_cursor": _shop_cursor(following)}
        page = orders[offset : offset + limit]
        more = offset + limit < len(orders)
        return {"orders": page, "next_cursor": _shop_cursor(offset + limit) if more else None}

    @app.get("/_dirty", dependencies=[Depends(check_key)])
    def dirty(day: date) -> dict:
        """What dirt the API injected into ``day``: for tests and demos."""
        data = sales_for_day(day, seed=settings.seed, dirty_fraction=settings.dirty_fraction)
        return {"day": day.isoformat(), "dirty_fraction": settings.dirty_fraction, "dirty": data.dirty}

    @app.post("/_faults", dependencies=[Depends(check_key)])
    def set_faults(plan: FaultPlan) -> dict:
        faults.set(plan)
        return {"status": plan.status, "count": plan.count}

    @app.post("/_outage", dependencies=[Depends(check_key)])
    def set_outage(plan: OutagePlan) -> dict:
        faults.outage = plan
        return plan.model_dump(mode="json")

    @app.post("/_quiet", dependencies=[Depends(check_key)])
    def set_quiet(plan: QuietPlan) -> dict:
        faults.quiet = plan
        return plan.model_dump(mode="json")

    @app.post("/_pagination", dependencies=[Depends(check_key)])
    def set_pagination(fault: PaginationFault) -> dict:
        pagination["fault"] = fault
        return fault.model_dump()

    @app.get("/_faults", dependencies=[Depends(check_key)])
    def get_faults() -> dict:
        return {"served": faults.served}

    @app.get("/_stats", dependencies=[Depends(check_key)])
    def stats() -> dict:
        return {"sales_requests": app.state.sales_requests}

    @app.exception_handler(HTTPException)
    def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    return app
