"""include/sources.yaml is the one list: the dbt files that restate it are derived, and kept so."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, Field

import liftoff_contracts
from liftoff.config import DBT_PROJECT_DIR, INCLUDE_DIR, ConfigError, StreamConfig, load_sources
from liftoff.derive import (
    GENERATED,
    Stream,
    check_current,
    dbt_sources,
    derived_files,
    stale_files,
    streams,
    write_derived,
)

LIFTOFF = str(Path(sys.executable).with_name("liftoff"))
LINEAGE = ["source", "batch_id", "airbyte_raw_id", "extracted_at", "batch_interval_start"]
# One entry, as a data engineer adds it: an existing manifest and contract under a new name.
SECOND_CRM = """
  crm2:
    description: A second CRM (the demo CRM again, its three streams).
    manifest: airbyte/source_liftoff_crm.yaml
    config:
      base_url_env: LIFTOFF_API_URL
    streams:
      sales:
        sync: incremental
        contract: sale
        cursor_field: updated_at
        primary_key: sale_id
        max_reject_ratio: 0.10
      sellers:
        sync: full_refresh
        contract: seller
        primary_key: seller_id
        max_reject_ratio: 0.0
      products:
        sync: full_refresh
        contract: product
        primary_key: product_id
        max_reject_ratio: 0.0
"""


def with_second_crm(tmp_path: Path) -> Path:
    """sources.yaml plus one entry, `crm2`: the CRM's manifest and Sale contract under a new name."""
    path = tmp_path / "sources.yaml"
    path.write_text((INCLUDE_DIR / "sources.yaml").read_text() + SECOND_CRM)
    return path


def test_the_committed_derivations_are_current() -> None:
    assert stale_files(load_sources()) == [], "run `make manifest`"


def test_one_entry_derives_its_dbt_source_and_bronze_models(tmp_path: Path) -> None:
    sources = load_sources(with_second_crm(tmp_path))
    files = derived_files(sources)
    for stream in ("sales", "sellers", "products"):
        model = files[Path("models", "bronze", f"bronze_crm2_{stream}.sql")]
        assert f"{{{{ validated_batch(source_name='crm2', stream='{stream}') }}}}" in model
        assert "{{ lineage_columns(source_name='crm2') }}" in model
        docs = yaml.safe_load(files[Path("models", "bronze", f"bronze_crm2_{stream}.yml")])
        assert docs["models"][0]["name"] == f"bronze_crm2_{stream}"
    union = files[Path("models", "bronze", "bronze_sale.sql")]
    assert "ref('bronze_crm2_sales')" in union and "ref('bronze_crm_sales')" in union
    dbt_sources = {s["name"]: s for s in yaml.safe_load(files[Path("models", "sources.yml")])["sources"]}
    crm2_sales = next(t for t in dbt_sources["raw_crm2"]["tables"] if t["name"] == "sales")
    assert "config" not in crm2_sales, "no dbt freshness: liftoff.validate.freshness checks the data"
    assert "'crm2'" in files[Path("macros", "configured_sources.sql")]


def test_a_bronze_model_holds_its_own_sql_written_from_its_contracts_template(tmp_path: Path) -> None:
    files = derived_files(load_sources(with_second_crm(tmp_path)))
    sales = files[Path("models", "bronze", "bronze_crm2_sales.sql")]
    lines = sales.splitlines()
    assert lines[0] == f"-- {GENERATED}"
    assert "macros/bronze/sale.sql.j2" in lines[1], "the model names the template to edit"
    assert "{{ bronze_config(sync='incremental', unique_columns=['airbyte_raw_id']) }}" in lines
    assert "    {{ accepted_rows(source_name='crm2', stream='sales', cursor_field='updated_at') }}" in lines
    # the typed columns written out, then the lineage, read from the accepted rows of the batch
    select = lines[lines.index("select") + 1 :]
    assert select[:2] == [
        "    accepted.sale_id::text as sale_id,",
        "    trim(accepted.seller_email)::text as seller_email,",
    ]
    assert select[-3:] == [
        "    {{ lineage_columns(source_name='crm2') }}",
        "from accepted",
        "cross join batch",
    ]
    assert "[[" not in sales and "[#" not in sales, "every hole of the template filled"
    assert "caller()" not in sales and "{% call" not in sales

    sellers = files[Path("models", "bronze", "bronze_crm2_sellers.sql")]
    assert "{{ bronze_config(sync='full_refresh', unique_columns=['airbyte_raw_id']) }}" in sellers
    assert "{{ accepted_rows(source_name='crm2', stream='sellers', cursor_field=none) }}" in sellers
    assert "    accepted.seller_id::text as seller_id,\n" in sellers

    orders = files[Path("models", "bronze", "bronze_shop_orders.sql")]
    assert "unique_columns=['airbyte_raw_id', 'line_number']" in orders
    assert "from order_lines as accepted" in orders


@pytest.mark.parametrize("stream", streams(load_sources()), ids=lambda stream: stream.model)
def test_a_bronze_model_selects_the_columns_its_docs_describe(stream: Stream) -> None:
    files = derived_files(load_sources())
    lines = files[Path("models", "bronze", f"{stream.model}.sql")].splitlines()
    select = lines[lines.index("select") + 1 :]
    select = select[: next(i for i, line in enumerate(select) if line.startswith("from "))]
    # one item a line (`    <expression> as <name>,`, `    accepted.<name>,`), the lineage last
    selected = [m[1] for line in select if (m := re.fullmatch(r"    (?:.* as |accepted\.)(\w+),", line))]
    assert select[-1] == f"    {{{{ lineage_columns(source_name='{stream.source}') }}}}"
    docs = yaml.safe_load(files[Path("models", "bronze", f"{stream.model}.yml")])
    described = [column["name"] for column in docs["models"][0]["columns"]]
    assert len(selected) > 3 and [*selected, *LINEAGE] == described


def test_a_contract_without_a_model_template_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(liftoff_contracts.CONTRACTS, "file_row", FileRow)
    dbt_dir = tmp_path / "dbt"
    (dbt_dir / "macros" / "bronze").mkdir(parents=True)
    crm = load_sources()["crm"]
    stream = StreamConfig(contract="file_row", sync="full_refresh", primary_key="_id")
    source = crm.model_copy(update={"streams": {"files": stream}})
    with pytest.raises(ConfigError, match=r"add macros/bronze/file_row\.sql\.j2 .*file_row\.yml\.j2"):
        derived_files({"files": source}, dbt_dir)


def test_a_removed_stream_leaves_no_model_behind(tmp_path: Path) -> None:
    dbt_dir = tmp_path / "dbt"
    shutil.copytree(DBT_PROJECT_DIR, dbt_dir, ignore=shutil.ignore_patterns("target", "logs"))
    sources = load_sources()
    del sources["shop"]
    stale = stale_files(sources, dbt_dir)
    assert Path("models/bronze/bronze_shop_orders.sql") in stale
    assert Path("models/bronze/bronze_order.sql") in stale, "no stream under Order: no union"
    write_derived(sources, dbt_dir)
    assert not (dbt_dir / "models/bronze/bronze_shop_orders.sql").exists()
    assert stale_files(sources, dbt_dir) == []


def test_a_stale_derivation_is_refused_with_the_command_to_run(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"run `make manifest`$"):
        check_current(load_sources(with_second_crm(tmp_path)))


def test_liftoff_run_refuses_a_stale_derivation_in_one_line(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LIFTOFF_SOURCES_FILE": str(with_second_crm(tmp_path)),
        "LIFTOFF_HOME": str(tmp_path),
    }
    done = subprocess.run(
        [LIFTOFF, "run", "--date", "2026-11-20"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and "run `make manifest`" in done.stderr
    assert "derived file" in done.stderr
    assert not (tmp_path / "warehouse").exists(), "refused before any service started"


class FileRow(BaseModel):
    """A contract whose columns are no Python names: its fields are aliased to them."""

    __version__ = "1.0.0"

    row_id: str = Field(alias="_id", description="The row's id.")
    class_: str | None = Field(None, alias="class", description="Its class.")
    file_url: str | None = Field(None, validation_alias="_ab_source_file_url")
    plain: int | None = None


def test_a_dbt_source_lists_the_columns_a_contract_judges_not_its_field_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(liftoff_contracts.CONTRACTS, "file_row", FileRow)
    crm = load_sources()["crm"]
    stream = StreamConfig(contract="file_row", sync="full_refresh", primary_key="_id")
    source = crm.model_copy(update={"streams": {"files": stream}})
    (documented,) = yaml.safe_load(dbt_sources({"files": source}))["sources"]
    (table,) = documented["tables"]
    columns = {column["name"]: column["description"] for column in table["columns"]}
    assert list(columns)[:4] == ["_id", "class", "_ab_source_file_url", "plain"]
    assert not {"row_id", "class_", "file_url"} & set(columns)
    assert columns["_id"] == "The row's id." and columns["_ab_source_file_url"] == "_ab_source_file_url"
