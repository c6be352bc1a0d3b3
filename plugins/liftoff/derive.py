"""The files derived from include/sources.yaml: the only list of sources.

Everything in the dbt project that restates the list is written from it here, so that
adding a source is its entry, its connector and, when it is new, its contract:

- ``models/sources.yml``: one dbt source ``raw_<source>`` per source, a table per stream,
  its columns from the stream's contract (no dbt freshness: a source's is measured on the
  data, before transform, by ``liftoff.validate.freshness``);
- ``models/bronze/bronze_<source>_<stream>.sql`` and ``.yml``: one bronze model per stream,
  its SQL written out from its contract's template (``macros/bronze/<contract>.sql.j2``: the
  typed columns, and the shared macros of ``macros/bronze/batch.sql`` it calls) and that
  contract's documentation and tests (``macros/bronze/<contract>.yml.j2``), tagged with the
  contract;
- ``models/bronze/bronze_<contract>.sql`` and ``.yml``: the union of every bronze model of a
  contract, which silver reads (no source name in silver's SQL);
- ``macros/configured_sources.sql``: the source names, for the tests of silver's ``source``;
- ``macros/streamed_sources.sql``: the stream sources' streams, which ``gold_sales_today`` reads;
- ``macros/email_pattern.sql``: the contracts' email pattern, for the SQL that checks it.

The files are committed (readable, reviewed in diffs); ``liftoff derive`` (run by
``make manifest``) rewrites them, and a stale one stops ``liftoff run`` with one line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import jinja2
import yaml

from liftoff.config import DBT_PROJECT_DIR, ConfigError, SourceConfig, StreamConfig, landing_schema
from liftoff.ingest.landing_layout import AIRBYTE_COLUMNS, KAFKA_COLUMNS
from liftoff_contracts import contract_columns, get_contract

GENERATED = "Generated from include/sources.yaml by `make manifest` (liftoff derive): do not edit."
BRONZE_DIR = Path("models") / "bronze"
TEMPLATES_DIR = Path("macros") / "bronze"
LINEAGE_COLUMNS = """\
      - name: source
        description: The source the row came from.
        data_tests:
          - accepted_values:
              arguments:
                values: [{source}]
      - name: batch_id
        description: The audit.batches row of the batch this row belongs to.
        data_tests:
          - not_null
          - relationships:
              arguments:
                to: source('audit', 'batches')
                field: batch_id
      - name: airbyte_raw_id
        description: Airbyte's id of the landed record.
        data_tests: [not_null]
      - name: extracted_at
        description: When the record was extracted.
      - name: batch_interval_start
        description: Start of the data interval of the batch; the slice a run replaces.
        data_tests: [not_null]"""


@dataclass(frozen=True)
class Stream:
    """One configured stream, with the names derived from it."""

    source: str
    name: str
    config: StreamConfig
    source_config: SourceConfig

    @property
    def model(self) -> str:
        return f"bronze_{self.source}_{self.name}"


def streams(sources: dict[str, SourceConfig]) -> list[Stream]:
    return [
        Stream(name, stream, config, source)
        for name, source in sources.items()
        for stream, config in source.streams.items()
    ]


def contract_model(contract: str) -> str:
    """The bronze union of every stream under ``contract`` (what silver reads)."""
    return f"bronze_{contract}"


def _sql_header() -> str:
    return f"-- {GENERATED}\n"


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data) -> bool:  # a repeated block written out each time, no anchors
        return True


def _yaml(document: dict) -> str:
    text = yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=110, allow_unicode=True)
    return f"# {GENERATED}\n{text}"


def dbt_sources(sources: dict[str, SourceConfig]) -> str:
    """models/sources.yml: every landing table, its columns from its contract."""
    documented = []
    for name, source in sources.items():
        tables = []
        for stream in streams({name: source}):
            contract = get_contract(stream.config.contract)
            columns = [  # by column, not field name: `class_ = Field(alias="class")` lands as `class`
                {"name": column, "description": info.description or column}
                for column, info in contract_columns(contract).items()
            ]
            bookkeeping = {**AIRBYTE_COLUMNS, **(KAFKA_COLUMNS if source.is_streamed else {})}
            columns += [
                {"name": name, "description": column.description} for name, column in bookkeeping.items()
            ]
            how = (
                f"the rows whose `{stream.config.cursor_field}` falls in the run's interval"
                if stream.config.sync == "incremental"
                else "a whole snapshot landed by every run"
            )
            table = {
                "name": stream.name,
                "description": f"`{contract.__name__}` records as they landed, untyped until the contract"
                f" validation; a run's batch is {how}.",
                "columns": columns,
            }
            tables.append(table)
        documented.append(
            {
                "name": landing_schema(name),
                "description": f"Landing of `{name}` in Airbyte's raw layout. {source.description}".strip(),
                "schema": landing_schema(name),
                "tables": tables,
            }
        )
    return _yaml({"version": 2, "sources": documented})


# A model template (macros/bronze/<contract>.sql.j2) is dbt SQL with dbt's own Jinja in it:
# what derive fills in is bracketed instead ([[ stream ]], [% if %], [# note #]).
MODEL_TEMPLATE_SYNTAX = {
    "variable_start_string": "[[",
    "variable_end_string": "]]",
    "block_start_string": "[%",
    "block_end_string": "%]",
    "comment_start_string": "[#",
    "comment_end_string": "#]",
}


def _template(dbt_dir: Path, contract: str, suffix: str) -> jinja2.Template:
    """The contract's bronze template: ``.sql.j2`` (its model) or ``.yml.j2`` (its docs and tests)."""
    path = dbt_dir / TEMPLATES_DIR / f"{contract}{suffix}"
    if not path.is_file():
        raise ConfigError(
            f"contract {contract!r} has no bronze shape: add {TEMPLATES_DIR / contract}.sql.j2 (its model)"
            f" and {TEMPLATES_DIR / contract}.yml.j2 (its documentation and tests)"
        )
    syntax = MODEL_TEMPLATE_SYNTAX if suffix == ".sql.j2" else {}
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, **syntax)
    return environment.from_string(path.read_text())


def _literal(value: str | None) -> str:
    """A value as a literal of dbt's Jinja: ``'crm'``, ``none``."""
    return "none" if value is None else repr(value)


def bronze_model(stream: Stream, dbt_dir: Path = DBT_PROJECT_DIR) -> str:
    """The model: its contract's template written out with what sources.yaml says of the stream."""
    contract = stream.config.contract
    text = _template(dbt_dir, contract, ".sql.j2").render(
        source_name=_literal(stream.source),
        stream=_literal(stream.name),
        sync=_literal(stream.config.sync),
        cursor_field=_literal(stream.config.cursor_field if stream.config.sync == "incremental" else None),
    )
    template = (TEMPLATES_DIR / f"{contract}.sql.j2").as_posix()
    return f"{_sql_header()}{{# Written from its contract's template, {template}: edit that. #}}\n{text}"


def bronze_docs(stream: Stream, dbt_dir: Path) -> str:
    sync = (
        "Incremental by the run's interval: a run replaces exactly its own batch."
        if stream.config.sync == "incremental"
        else "Rebuilt whole by every run (a full snapshot)."
    )
    text = _template(dbt_dir, stream.config.contract, ".yml.j2").render(
        model=stream.model,
        source=stream.source,
        stream=stream.name,
        tag=f"contract_{stream.config.contract}",
        source_description=stream.source_config.description,
        sync_description=sync,
        lineage_columns=LINEAGE_COLUMNS.format(source=stream.source),
    )
    return f"# {GENERATED}\n{text}"


def contract_union(contract: str, members: list[Stream]) -> str:
    selects = "\n\nunion all\n\n".join(f"select * from {{{{ ref('{s.model}') }}}}" for s in members)
    name = get_contract(contract).__name__
    return (
        f"{_sql_header()}-- Every source's bronze rows under the `{name}` contract.\n"
        f"{{{{ config(materialized='view', indexes=[]) }}}}\n\n{selects}\n"
    )


def contract_union_docs(contract: str, members: list[Stream]) -> str:
    names = ", ".join(f"`{s.model}`" for s in members)
    model = {
        "name": contract_model(contract),
        "description": f"Every source's bronze rows under the `{get_contract(contract).__name__}` contract"
        f" ({names}), one shape: what silver reads.",
        "config": {"tags": [f"contract_{contract}"]},
    }
    return _yaml({"version": 2, "models": [model]})


def configured_sources_macro(sources: dict[str, SourceConfig]) -> str:
    names = ", ".join(repr(name) for name in sources)
    return (
        f"{{#- {GENERATED} -#}}\n"
        "{#- The configured sources' names: the values silver's `source` may take. -#}\n"
        f"{{% macro configured_sources() %}}{{{{ return([{names}]) }}}}{{% endmacro %}}\n"
    )


def streamed_sources_macro(sources: dict[str, SourceConfig]) -> str:
    members = ", ".join(
        f"({stream.source!r}, {stream.name!r}, {stream.config.contract!r})"
        for stream in streams(sources)
        if stream.source_config.is_streamed
    )
    return (
        f"{{#- {GENERATED} -#}}\n"
        "{#- The stream sources' streams (source, stream, contract): what the today previews read. -#}\n"
        f"{{% macro streamed_sources() %}}{{{{ return([{members}]) }}}}{{% endmacro %}}\n"
    )


def email_pattern_macro() -> str:
    """The contracts' email pattern as a SQL string literal, for SQL that checks what a
    contract checks (the preview of today reads landing before the gate)."""
    from liftoff_contracts.types import EMAIL_PATTERN

    literal = "'" + EMAIL_PATTERN.replace("'", "''") + "'"
    return (
        f"{{#- {GENERATED} -#}}\n"
        "{#- The contracts' email pattern (include/contracts/types.py) as a SQL literal. -#}\n"
        f"{{% macro email_pattern() %}}{{{{ return({literal!r}) }}}}{{% endmacro %}}\n"
    )


def derived_files(sources: dict[str, SourceConfig], dbt_dir: Path = DBT_PROJECT_DIR) -> dict[Path, str]:
    """Every derived file (relative to the dbt project) and its content."""
    files = {
        Path("models") / "sources.yml": dbt_sources(sources),
        Path("macros") / "configured_sources.sql": configured_sources_macro(sources),
        Path("macros") / "streamed_sources.sql": streamed_sources_macro(sources),
        Path("macros") / "email_pattern.sql": email_pattern_macro(),
    }
    by_contract: dict[str, list[Stream]] = {}
    for stream in streams(sources):
        files[BRONZE_DIR / f"{stream.model}.sql"] = bronze_model(stream, dbt_dir)
        files[BRONZE_DIR / f"{stream.model}.yml"] = bronze_docs(stream, dbt_dir)
        by_contract.setdefault(stream.config.contract, []).append(stream)
    for contract, members in sorted(by_contract.items()):
        if [m.model for m in members] == [contract_model(contract)]:
            continue  # a scaffolded contract (<source>_<stream>) of one stream: its model is the union
        files[BRONZE_DIR / f"{contract_model(contract)}.sql"] = contract_union(contract, members)
        files[BRONZE_DIR / f"{contract_model(contract)}.yml"] = contract_union_docs(contract, members)
    return files


def _generated_on_disk(dbt_dir: Path) -> set[Path]:
    """Files a derivation wrote before (their first line says so)."""
    found = set()
    for folder in (dbt_dir / BRONZE_DIR, dbt_dir / "models", dbt_dir / "macros"):
        for path in folder.glob("*.*"):
            if path.suffix in {".sql", ".yml"} and GENERATED in path.read_text().split("\n", 1)[0]:
                found.add(path.relative_to(dbt_dir))
    return found


def stale_files(sources: dict[str, SourceConfig], dbt_dir: Path = DBT_PROJECT_DIR) -> list[Path]:
    """Derived files missing, different from what sources.yaml gives, or left from a removed stream."""
    wanted = derived_files(sources, dbt_dir)
    stale = [path for path, text in wanted.items() if _read(dbt_dir / path) != text]
    stale += sorted(_generated_on_disk(dbt_dir) - set(wanted))
    return stale


def write_derived(sources: dict[str, SourceConfig], dbt_dir: Path = DBT_PROJECT_DIR) -> list[Path]:
    """Bring every derived file up to date; returns the ones written or removed."""
    wanted = derived_files(sources, dbt_dir)
    changed = []
    for path, text in wanted.items():
        if _read(dbt_dir / path) != text:
            (dbt_dir / path).write_text(text)
            changed.append(path)
    for path in sorted(_generated_on_disk(dbt_dir) - set(wanted)):
        (dbt_dir / path).unlink()
        changed.append(path)
    return changed


def check_current(sources: dict[str, SourceConfig], dbt_dir: Path = DBT_PROJECT_DIR) -> None:
    """Refuse (ConfigError, one line) when a derived file or the dbt manifest lags sources.yaml."""
    stale = stale_files(sources, dbt_dir)
    if stale:
        raise ConfigError(
            f"include/sources.yaml changed but {len(stale)} derived file(s) did not"
            f" ({', '.join(map(str, stale[:3]))}{', ...' if len(stale) > 3 else ''}): run `make manifest`"
        )
    manifest = dbt_dir / "target" / "manifest.json"
    if not manifest.is_file():
        raise ConfigError("the dbt manifest is missing: run `make manifest`")
    nodes = json.loads(manifest.read_text())["nodes"]
    missing = [s.model for s in streams(sources) if f"model.liftoff.{s.model}" not in nodes]
    if missing:
        raise ConfigError(f"the dbt manifest lacks {', '.join(missing)}: run `make manifest`")


def _read(path: Path) -> str | None:
    return path.read_text() if path.is_file() else None
