"""The entry form through Streamlit's AppTest, against a real PostgreSQL and the real roles."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from liftoff.config import PROJECT_ROOT, get_settings
from tests.entry.conftest import AppWarehouse, add_products

PAGE = PROJECT_ROOT / "apps" / "entry" / "views" / "enter_sale.py"
PRODUCTS = ("Starter Plan", "Growth Plan")
VALID = {
    "seller_email": "  Ana@Liftoff.Example ",
    "sold_on": date(2026, 11, 20),
    "sold_time": time(14, 30),
    "amount": 49.0,
    "quantity": 2,
    "product": "Growth Plan",
}


@pytest.fixture
def form(app_warehouse: AppWarehouse, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    add_products(app_warehouse.pipeline, *PRODUCTS)
    monkeypatch.setenv("LIFTOFF_ANALYST_URL", app_warehouse.analyst.url)
    monkeypatch.setenv("LIFTOFF_ENTRY_URL", app_warehouse.entry_writer.url)
    get_settings.cache_clear()
    yield AppTest.from_file(str(PAGE), default_timeout=30).run()
    get_settings.cache_clear()


def fill(app: AppTest, **values) -> AppTest:
    values = {**VALID, **values}
    app.text_input(key="seller_email").input(values["seller_email"])
    app.date_input(key="sold_on").set_value(values["sold_on"])
    app.time_input(key="sold_time").set_value(values["sold_time"])
    app.number_input(key="amount").set_value(values["amount"])
    app.number_input(key="quantity").set_value(values["quantity"])
    app.selectbox(key="product").set_value(values["product"])
    return app


def submit(app: AppTest) -> AppTest:
    [save] = [button for button in app.button if button.label == "Save sale"]
    return save.click().run()


def landed(app_warehouse: AppWarehouse) -> list[tuple]:
    with app_warehouse.owner.connect() as conn:
        return conn.execute(
            "select sale_id, seller_email, sold_at, amount, quantity, product, updated_at"
            " from raw_entry.sales"
        ).fetchall()


def test_a_valid_sale_is_saved_and_its_id_shown(form: AppTest, app_warehouse: AppWarehouse) -> None:
    assert not form.exception
    assert form.selectbox(key="product").options == sorted(PRODUCTS)
    before = datetime.now(UTC)
    submit(fill(form))
    assert not form.error, [e.value for e in form.error]
    [row] = landed(app_warehouse)
    sale_id, email, sold_at, amount, quantity, product, updated_at = row
    assert sale_id.startswith("entry-") and sale_id in form.success[0].value
    assert (email, amount, quantity, product) == ("ana@liftoff.example", "49.00", "2", "Growth Plan")
    assert datetime.fromisoformat(sold_at) == datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
    assert datetime.fromisoformat(updated_at) >= before  # the batch cursor: when it was entered
    if datetime.now(UTC).date() - timedelta(days=6) > date(2026, 11, 20):  # older than gold's lookback
        assert "the next run recomputes gold for the last 7 days only" in form.warning[0].value


TOMORROW = datetime.now(UTC).date() + timedelta(days=1)


@pytest.mark.parametrize(
    ("field", "value", "label", "message"),
    [
        ("seller_email", "ana at liftoff", "Seller email", "not a valid email address"),
        ("seller_email", "", "Seller email", "not a valid email address"),
        ("sold_on", TOMORROW, "Sold at (UTC)", "is after"),
        ("amount", 0.0, "Amount", "greater than 0"),
        ("amount", -5.0, "Amount", "greater than 0"),
        ("amount", 100000.0, "Amount", "less than 100000"),
        ("amount", 12.345, "Amount", "decimal places"),
        ("quantity", 0, "Quantity", "greater than or equal to 1"),
        ("product", None, "Product", "at least 1 character"),
    ],
)
def test_each_invalid_field_shows_its_own_error_and_nothing_is_saved(
    form: AppTest, app_warehouse: AppWarehouse, field: str, value, label: str, message: str
) -> None:
    submit(fill(form, **{field: value}))
    errors = [e.value for e in form.error]
    field_errors = [e for e in errors if not e.startswith("Nothing was saved")]
    assert len(field_errors) == 1, errors
    assert field_errors[0].startswith(f"{label}:") and message in field_errors[0], field_errors
    assert any(e.startswith("Nothing was saved") for e in errors)
    assert not form.success
    assert landed(app_warehouse) == []


def test_a_resubmitted_form_saves_the_sale_once(form: AppTest, app_warehouse: AppWarehouse) -> None:
    submit(fill(form))
    key = form.session_state["entry_key"]
    assert len(landed(app_warehouse)) == 1
    # The browser sends the same form again (a double click, a retried request): same key.
    del form.session_state["entry_saved"]
    submit(fill(form.run()))
    assert "already saved" in form.info[0].value and key in form.info[0].value
    assert [row[0] for row in landed(app_warehouse)] == [key]
    # "Enter another sale" starts a new form with a new key.
    [another] = [button for button in form.button if button.label == "Enter another sale"]
    another.click().run()
    assert form.session_state["entry_key"] != key
    submit(fill(form))
    assert len(landed(app_warehouse)) == 2
