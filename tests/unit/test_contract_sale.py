"""The Sale contract's rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from liftoff_contracts import Sale, contract_version, get_contract

VALID = {
    "sale_id": "S1",
    "seller_email": "Ana.Souza@Liftoff.Example",
    "sold_at": "2026-11-20T10:00:00Z",
    "amount": "199.90",
    "quantity": 2,
    "product": "Growth Plan",
    "updated_at": "2026-11-20 10:05:00+00",
}


def test_valid_sale_is_normalised() -> None:
    sale = Sale.model_validate(VALID)
    assert sale.seller_email == "ana.souza@liftoff.example"
    assert sale.updated_at == datetime(2026, 11, 20, 10, 5, tzinfo=UTC)
    assert str(sale.amount) == "199.90"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sale_id", ""),
        ("seller_email", "ana-at-liftoff"),
        ("sold_at", "2026-02-30T10:00:00Z"),
        ("sold_at", "2026-11-20T10:00:00"),  # no offset: ambiguous
        ("amount", "-5.00"),
        ("amount", "0"),
        ("amount", "10.999"),
        ("amount", "100000.00"),
        ("amount", float("nan")),
        ("quantity", 0),
        ("quantity", 1.5),
        ("product", ""),
        ("product", "x" * 101),
    ],
)
def test_each_rule_rejects_with_the_field_named(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        Sale.model_validate({**VALID, field: value})
    assert {error["loc"][0] for error in info.value.errors()} == {field}


def test_sold_at_not_after_the_context_bound() -> None:
    bound = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    with pytest.raises(ValidationError, match="after"):
        Sale.model_validate(VALID, context={"not_after": bound})


def test_registry_and_version() -> None:
    assert get_contract("sale") is Sale
    assert contract_version(Sale) == "1.1.0"
    with pytest.raises(KeyError, match="known: order, product, sale, seller"):
        get_contract("invoice")


def test_the_preview_of_today_checks_what_the_contract_checks() -> None:
    """gold_sales_today reads landing before the gate: its filters are the contract's limits."""
    from liftoff.config import DBT_PROJECT_DIR
    from liftoff_contracts.sale import AMOUNT_CEILING, Sale

    view = (DBT_PROJECT_DIR / "models" / "gold" / "gold_sales_today.sql").read_text()

    def bound(field: str, kind: str) -> int:
        return next(getattr(m, kind) for m in Sale.model_fields[field].metadata if getattr(m, kind, None))

    assert f"length(trim(sale_id)) between 1 and {bound('sale_id', 'max_length')}" in view
    assert f"length(product) between 1 and {bound('product', 'max_length')}" in view
    assert f"quantity between {bound('quantity', 'ge')} and {bound('quantity', 'le')}" in view
    digits = len(str(int(AMOUNT_CEILING))) - 1  # amounts under the ceiling: at most this many digits
    assert f"amount ~ '^\\s*[0-9]{{1,{digits}}}(\\.[0-9]{{1,2}})?" in view, "under the ceiling, 2 decimals"
    assert "amount > 0" in view
    assert "{{ email_pattern() }}" in view
