"""The entry app in a real browser (Debian's headless Chromium driven by Playwright).

A sale typed into the form (with a double click on Save) and a CSV upload land once each in
``raw_entry.sales``; the next daily run carries them to silver as one more source; the
dashboards show that run's gold. The dashboard's screenshot is kept as a test artefact.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from liftoff.config import get_settings
from liftoff.entry.bulk import MAX_UPLOAD_MB
from liftoff.entry.launch import app_env
from liftoff.warehouse.location import Warehouse
from tests.browser import ARTEFACTS, shown, start_streamlit
from tests.integration.test_sales_elt_e2e import liftoff_run


@pytest.fixture
def entry_app(warehouse: Warehouse, tmp_path: Path) -> Iterator[str]:
    """``liftoff app``'s launch (roles bootstrapped, role connections only) on a free port."""
    get_settings.cache_clear()
    env = app_env(get_settings(), warehouse)
    with start_streamlit(env, tmp_path) as url:
        yield url


def fill_form(page, email: str, amount: str, product: str, quantity: str | None = None) -> None:
    page.get_by_label("Seller email").fill(email)
    page.get_by_label("Amount").fill(amount)
    if quantity is not None:
        page.get_by_label("Quantity").fill(quantity)
    page.get_by_label("Product").click()
    page.get_by_role("option", name=product).click()


def entered(warehouse: Warehouse) -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(
            "select sale_id, seller_email, amount, quantity, product from raw_entry.sales order by amount"
        ).fetchall()


def test_enter_upload_run_and_read_the_dashboards(
    browser, entry_app: str, warehouse: Warehouse, sales_api: str, liftoff_home: Path, tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    yesterday = today - timedelta(days=1)
    env = {
        **os.environ,
        "LIFTOFF_WAREHOUSE_URL": warehouse.url,
        "LIFTOFF_API_URL": sales_api,
        "LIFTOFF_HOME": str(liftoff_home),
    }
    done = liftoff_run(yesterday, env)  # the product catalogue the form offers comes with a run
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(30_000)

    # The form: a valid sale, saved by a double click: one row.
    page.goto(entry_app)
    fill_form(page, "Browser.Seller@LiftOff.Example", "149.90", "Growth Plan", quantity="3")
    page.get_by_role("button", name="Save sale").dblclick()
    app_log = tmp_path / "streamlit.log"  # start_streamlit's
    shown(page, "It reaches the dashboards after the next daily run", app_log)
    [form_sale] = entered(warehouse)
    assert form_sale[1:] == ("browser.seller@liftoff.example", "149.90", "3", "Growth Plan")
    page.get_by_text(f"Sale {form_sale[0]} saved").wait_for()  # the id the page shows is the row's

    # A wrong field: its own message, nothing saved.
    page.get_by_role("button", name="Enter another sale").click()
    fill_form(page, "not an email", "10", "Starter Plan")
    page.get_by_role("button", name="Save sale").click()
    page.get_by_text("Seller email: is not a valid email address").wait_for()
    assert len(entered(warehouse)) == 1

    # The CSV upload: two good rows, one bad; the rejects download; the good rows saved once.
    sold = f"{yesterday.isoformat()}T10:00:00+00:00"
    csv_file = tmp_path / "sales.csv"
    csv_file.write_text(
        "seller_email,sold_at,amount,quantity,product\n"
        f"ana@liftoff.example,{sold},49.00,1,Starter Plan\n"
        f"bo@liftoff.example,{sold},-3,1,Starter Plan\n"
        f"cy@liftoff.example,{sold},398.00,2,Growth Plan\n"
    )
    page.goto(f"{entry_app}/upload_sales")
    # Over the limit, refused before any byte reaches the app (Streamlit's maxUploadSize)
    oversized = tmp_path / "too_big.csv"
    oversized.write_bytes(csv_file.read_bytes() + b"x" * (MAX_UPLOAD_MB * 1024 * 1024))
    page.locator("input[type=file]").set_input_files(str(oversized))
    page.get_by_text(f"File must be {MAX_UPLOAD_MB}.0MB or smaller.").wait_for()
    assert not page.get_by_text("Rejected rows").count()
    page.reload()
    page.locator("input[type=file]").set_input_files(str(csv_file))
    page.get_by_text("Rejected rows").first.wait_for()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the rejected rows with their errors").click()
    rejects = Path(download.value.path()).read_text()
    assert "bo@liftoff.example" in rejects and "amount: Input should be greater than 0" in rejects
    assert "ana@liftoff.example" not in rejects
    page.get_by_role("button", name="Save the 2 accepted sales").click()
    shown(page, "Saved 2 sales.", app_log)
    assert [row[2] for row in entered(warehouse)] == ["149.90", "398.00", "49.00"]  # text order

    # Today's run (a day not ended yet: said so) takes what was entered today to silver and gold.
    done = liftoff_run(today, env, "--partial-day")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with warehouse.connect() as conn:
        silver = conn.execute(
            "select seller_email, amount, product_id from silver.silver_sales where source = 'entry'"
            " order by amount"
        ).fetchall()
        query = "select accepted, rejected from audit.batches where source = 'entry'"
        status = conn.execute(query).fetchall()
    assert [(email, str(amount)) for email, amount, _ in silver] == [
        ("ana@liftoff.example", "49.00"),
        ("browser.seller@liftoff.example", "149.90"),
        ("cy@liftoff.example", "398.00"),
    ]
    assert all(product_id for *_, product_id in silver), "entered products resolve to the catalogue"
    assert (3, 0) in status

    # The dashboards, as the analyst: today's run is the freshest.
    page.goto(f"{entry_app}/dashboards")
    page.get_by_text(f"Product performance, 7 days to {today}").wait_for()
    page.get_by_text(f"Data through {today}").wait_for()
    page.get_by_text("Daily trend").wait_for()
    page.wait_for_timeout(1500)  # let the charts draw before the picture
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTEFACTS / "dashboards.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 20_000
    shutil.copy(screenshot, tmp_path / "dashboards.png")
    print(f"dashboard screenshot: {screenshot}")
