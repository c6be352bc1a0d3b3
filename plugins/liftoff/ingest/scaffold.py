"""Scaffold a new source stream's files from the JSON schema its connector discovers.

A stream needs three files before its first sync can pass the gate and reach bronze:

- ``include/contracts/<contract>.py``: the versioned Pydantic contract the gate validates
  every landed row against (one model, ``__version__`` ``1.0.0``);
- ``include/dbt/macros/bronze/<contract>.sql.j2``: the bronze model's template, one typed cast
  per column of the landing table between the shared macros' batch, accepted rows and
  lineage (``macros/bronze/batch.sql``), written out for each stream by ``liftoff derive``;
- ``include/dbt/macros/bronze/<contract>.yml.j2``: its documentation and tests, rendered by
  ``liftoff derive`` for each stream under the contract.

They are drafts for a data engineer to review, not a final word: a schema says little about
lengths, ranges, emails or the business's rules. What the scaffold does decide:

- Names. A landing column is ``column_name(property)`` (Airbyte's: lower case, anything but
  ``[a-z0-9_]`` as ``_``), and a contract's field is named by its column: every column is a
  field, the gate validates landed rows keyed by column (``liftoff_contracts.row_schema``).
  A column no pydantic field can be named after gets a Python name (``field_names``) and its
  column as the field's ``alias``, which ``row_schema``, ``liftoff derive``'s dbt sources and
  the gate's errors all go by (``liftoff_contracts.field_column``): a leading underscore is
  dropped (Airbyte's ``_ab_source_file_url`` is ``ab_source_file_url``), a Python keyword
  takes a trailing one (``class`` is ``class_``), a digit first or a name of pydantic's
  ``model_`` API takes an ``f_`` first (``2fa`` is ``f_2fa``), and a name another column
  already has takes ``_``s after it until it is free. The model sets no ``populate_by_name``:
  it reads a record by column, as the gate does (``model_validate({"class": ...})``), and
  ``model_dump(by_alias=True)`` gives the columns back.
- Types. ``integer`` (or ``number`` with ``airbyte_type: integer``) is ``int``; ``number``
  is ``Decimal`` (exact, as landing's ``numeric`` is; the money in gold is decimal, and a
  JSON number validates as one); a ``date-time`` is ``Timestamp`` (aware: a naive value is
  rejected) unless ``airbyte_type`` says ``timestamp_without_timezone``, then ``datetime``
  (naive values pass, as the source promised no zone); a ``date-time`` without an
  ``airbyte_type`` is aware, as Airbyte's destinations (and this project's landing,
  ``timestamptz``) read it. Objects are ``dict[str, Any]``, arrays ``list[...]`` (typed
  when their items are one plain type), unions of several types ``Any``.
- Required. The primary key's fields and the cursor are required and not null; every other
  field may be missing or null (sources drop fields).
"""

from __future__ import annotations

import json
import keyword
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel

from liftoff.config import ConfigError
from liftoff.derive import LINEAGE_COLUMNS
from liftoff.ingest.cdk_runner import column_name, column_type

LINE_LENGTH = 110  # the project's (pyproject.toml, ruff)
PROSE_WIDTH = 92  # docstrings and comments read better narrower than code
VERSION = "1.0.0"
CONTRACTS_DIR = Path("contracts")
BRONZE_MACROS_DIR = Path("dbt") / "macros" / "bronze"
PRIMARY_KEY_TEXT = 255  # a string primary key: stripped, 1 to this many characters
# The contracts package's modules that hold no contract (liftoff_contracts._NOT_CONTRACTS).
NOT_CONTRACT_NAMES = {"types", "export"}
# The lineage columns lineage_columns adds to every bronze row; a source column of the same name
# is renamed in bronze (``record_<name>``) so the select has no duplicate column.
LINEAGE_NAMES = tuple(re.findall(r"^\s+- name: (\w+)$", LINEAGE_COLUMNS, flags=re.MULTILINE))
# PostgreSQL's reserved key words (also those that may be functions or types): such a column
# is quoted in SQL, and ``quote: true`` in dbt, whose tests name it bare otherwise.
_SQL_RESERVED_WORDS = """
    all analyse analyze and any array as asc asymmetric authorization binary both case cast
    check collate collation column concurrently constraint create cross current_catalog
    current_date current_role current_schema current_time current_timestamp current_user default
    deferrable desc distinct do else end except false fetch for foreign freeze from full grant
    group having ilike in initially inner intersect into is isnull join lateral leading left like
    limit localtime localtimestamp natural not notnull null offset on only or order outer
    overlaps placing primary references returning right select session_user similar some
    symmetric system_user table tablesample then to trailing true union unique user using
    variadic verbose when where window with"""
SQL_RESERVED = frozenset(_SQL_RESERVED_WORDS.split())
# The SQL type bronze casts each kind of value to.
SQL_CASTS = {
    "string": "text",
    "integer": "bigint",
    "number": "numeric",
    "boolean": "boolean",
    "date": "date",
    "time": "time",
    "timestamptz": "timestamptz",
    "timestamp": "timestamp",
    "object": "jsonb",
    "array": "jsonb",
    "any": "jsonb",
}
# The plain Python type of each scalar kind (an array's items typed when they are one of these).
PYTHON_SCALARS = {
    "string": "str",
    "integer": "int",
    "number": "Decimal",
    "boolean": "bool",
    "date": "date",
    "time": "time",
    "timestamptz": "Timestamp",
    "timestamp": "datetime",
}
# Names the generated module imports: a class may not take one.
IMPORTED_NAMES = {"Any", "BaseModel", "ClassVar", "ConfigDict", "Decimal", "Field", "Timestamp"}
# Lower-case names an annotation may use; a field of the same name hides it in the class body
# (pydantic resolves the annotations there), so the module then names it by a capitalised alias.
SHADOWABLE = ("bool", "date", "datetime", "dict", "int", "list", "str", "text", "time")
_IMPORTS_FROM = {"date": "datetime", "datetime": "datetime", "time": "datetime", "Decimal": "decimal"}


@dataclass(frozen=True)
class Scaffold:
    """The three files of a new stream's contract, as text."""

    contract: str  # module name, e.g. "faker_purchases"
    class_name: str  # e.g. "FakerPurchase"
    contract_source: str  # include/contracts/<contract>.py
    bronze_sql: str  # include/dbt/macros/bronze/<contract>.sql.j2
    bronze_yml: str  # include/dbt/macros/bronze/<contract>.yml.j2


@dataclass(frozen=True)
class Column:
    """One property of the stream: its landing column, what it holds, its role."""

    prop: str  # the JSON schema's property name
    name: str  # the landing column (Airbyte's name for the property)
    kind: str  # a key of SQL_CASTS
    landing: str  # the landing column's SQL type (column_type)
    items: str | None = None  # an array's item kind, when one plain type (PYTHON_SCALARS)
    items_nullable: bool = False
    primary_key: bool = False
    cursor: bool = False
    description: str = ""
    field: str = ""  # the contract's field: the column, or a Python name aliased to it

    @property
    def required(self) -> bool:
        return self.primary_key or self.cursor

    @property
    def aliased(self) -> bool:
        """Whether the field is named otherwise than its column (which is then its alias)."""
        return self.field != self.name

    @property
    def bronze_name(self) -> str:
        return f"record_{self.name}" if self.name in LINEAGE_NAMES else self.name


# Field names pydantic warns about (its default ``protected_namespaces``).
PROTECTED_PREFIXES = ("model_validate", "model_dump")


def is_field_name(name: str) -> bool:
    """Whether a pydantic model can have a field called ``name`` (else the field is aliased)."""
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and not name.startswith("_")
        and not (name.startswith("model_") and hasattr(BaseModel, name))
        and not name.startswith(PROTECTED_PREFIXES)
    )


def _python_name(column: str) -> str:
    """A field name for a column no field can bear (not yet checked against the others)."""
    name = re.sub(r"\W", "_", column).lstrip("_") or "f"  # \W: none in a landing column's name
    if name[0].isdigit() or name.startswith("model_"):
        name = f"f_{name}"
    return f"{name}_" if keyword.iskeyword(name) else name


def field_names(columns: list[str]) -> dict[str, str]:
    """Each column's field name: the column itself when a field can bear it, else a Python
    name (``_python_name``) that no other column or field has, ``_`` added until it is free."""
    taken = {column for column in columns if is_field_name(column)}
    names = {}
    for column in columns:
        if is_field_name(column):
            names[column] = column
            continue
        name = _python_name(column)
        while name in taken or not is_field_name(name):
            name += "_"
        taken.add(name)
        names[column] = name
    return names


def class_name_of(contract: str) -> str:
    """CamelCase of the contract, its last word singular: ``faker_purchases`` -> ``FakerPurchase``.

    Singular by rule, not by dictionary: ``ies`` -> ``y``; ``sses``, ``xes``, ``ches``, ``shes``
    lose ``es``; a final ``s`` goes unless the word ends in ``ss``, ``us`` or ``is``.
    """
    words = [word for word in contract.split("_") if word]
    last = words[-1]
    if len(last) > 3 and last.endswith("ies"):
        last = last[:-3] + "y"
    elif last.endswith(("sses", "xes", "ches", "shes")):
        last = last[:-2]
    elif len(last) > 1 and last.endswith("s") and not last.endswith(("ss", "us", "is")):
        last = last[:-1]
    name = "".join(word[:1].upper() + word[1:] for word in [*words[:-1], last])
    if name in IMPORTED_NAMES or name in {s.capitalize() for s in SHADOWABLE} or keyword.iskeyword(name):
        name += "Record"
    return name


def _kinds(definition: object) -> set[str]:
    """The kinds of value a property's definition admits (``null`` among them)."""
    if not isinstance(definition, dict):
        return {"any"}
    declared = definition.get("type")
    types = [declared] if isinstance(declared, str) else list(declared or [])
    members = [*(definition.get("anyOf") or []), *(definition.get("oneOf") or [])]
    if not types and not members:
        return {"any"}
    kinds = {_kind(name, definition) for name in types}
    for member in members:
        kinds |= _kinds(member)
    return kinds


def _kind(type_name: object, definition: dict) -> str:
    airbyte_type = definition.get("airbyte_type")
    if type_name == "null":
        return "null"
    if type_name == "string":
        fmt = definition.get("format")
        if fmt == "date-time":
            return "timestamp" if airbyte_type == "timestamp_without_timezone" else "timestamptz"
        return {"date": "date", "time": "time"}.get(fmt, "string")
    if type_name == "number" and airbyte_type == "integer":
        return "integer"
    if type_name in {"integer", "number", "boolean", "object", "array"}:
        return str(type_name)
    return "any"


def _one_kind(kinds: set[str]) -> str:
    """One kind for a set of them: a single non-null one, a number for int-or-number, else any."""
    values = kinds - {"null"}
    if values == {"integer", "number"}:
        return "number"
    return next(iter(values)) if len(values) == 1 else "any"


def _items(definition: dict) -> tuple[str | None, bool]:
    """An array's items: their kind when one plain type, and whether they may be null."""
    candidates = [definition, *(definition.get("anyOf") or []), *(definition.get("oneOf") or [])]
    items = next((c["items"] for c in candidates if isinstance(c, dict) and "items" in c), None)
    if not isinstance(items, dict):
        return None, False
    kinds = _kinds(items)
    kind = _one_kind(kinds)
    if kind not in {"string", "integer", "number", "boolean"}:
        return None, False
    return kind, "null" in kinds


def clean_text(text: object) -> str:
    """One line of plain text: whitespace collapsed, double quotes as single ones (one quoting
    style in the three files), no control characters."""
    words = " ".join(str(text or "").split())
    return "".join(ch for ch in words if ch.isprintable()).replace('"', "'").strip()


def _description(prop: str, definition: object, *, key: str | None = None, cursor: bool = False) -> str:
    """The schema's description (or title) of the property, else a plain sentence; and its role."""
    given = None
    if isinstance(definition, dict):
        given = definition.get("description") or definition.get("title")
    text = clean_text(given) or f"`{prop}` as the source sends it."
    roles = [role for role in (key, "the sync cursor" if cursor else None) if role]
    if roles:
        text = f"{text.rstrip('.')}; {' and '.join(roles)}."
    elif not text.endswith((".", "!", "?")):
        text += "."
    return text


def columns_of(json_schema: dict, primary_key: list[str], cursor_field: str | None) -> list[Column]:
    """The stream's columns, primary key first, then in the schema's order."""
    properties = json_schema.get("properties") if isinstance(json_schema, dict) else None
    if not properties or not isinstance(properties, dict):
        raise ConfigError("the stream's JSON schema has no properties: nothing to scaffold")
    by_column: dict[str, str] = {}
    for prop in properties:
        column = column_name(prop)
        if column in by_column:
            raise ConfigError(f"properties {by_column[column]!r} and {prop!r} both land as column {column!r}")
        by_column[column] = prop

    def find(name: str, role: str) -> str:
        if name in properties:
            return column_name(name)
        if name in by_column:
            return name
        raise ConfigError(f"the {role} {name!r} is not a property of the stream's JSON schema")

    keys = list(dict.fromkeys(find(name, "primary key field") for name in primary_key))
    cursor = find(cursor_field, "cursor field") if cursor_field else None
    order = [*keys, *(c for c in by_column if c not in keys)]
    key_role = "part of the primary key" if len(keys) > 1 else "the primary key"
    fields = field_names(order)
    found = []
    for column in order:
        prop = by_column[column]
        definition = properties[prop]
        kind = _one_kind(_kinds(definition))
        items, items_nullable = _items(definition) if kind == "array" else (None, False)
        is_key, is_cursor = column in keys, column == cursor
        found.append(
            Column(
                prop=prop,
                name=column,
                kind=kind,
                landing=column_type(definition if isinstance(definition, dict) else {}),
                items=items,
                items_nullable=items_nullable,
                primary_key=is_key,
                cursor=is_cursor,
                description=_description(
                    prop, definition, key=key_role if is_key else None, cursor=is_cursor
                ),
                field=fields[column],
            )
        )
    return found


def scaffold_stream(
    contract: str,
    json_schema: dict,
    *,
    primary_key: list[str],
    cursor_field: str | None,
    description: str,
    stream: str | None = None,
) -> Scaffold:
    """The contract module, bronze model template and bronze docs of one stream, from its JSON schema.

    ``primary_key`` and ``cursor_field`` name properties (or their landing columns);
    ``description`` says what one record is; ``stream``, the stream's name, goes in the
    files' notes (the contract's name when not given). A ConfigError (one line) for a contract
    name that cannot be a module, a key or cursor the schema lacks, two properties landing as
    one column.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*", contract) or keyword.iskeyword(contract):
        raise ConfigError(f"contract name {contract!r}: use lower case letters, digits and _, a letter first")
    if contract in NOT_CONTRACT_NAMES:
        raise ConfigError(f"contract name {contract!r} is a module of the contracts package, not a contract")
    columns = columns_of(json_schema, list(primary_key), cursor_field)
    class_name = class_name_of(contract)
    about = clean_text(description) or f"one record of the {stream or contract} stream."
    stream_name = clean_text(stream) or contract
    return Scaffold(
        contract=contract,
        class_name=class_name,
        contract_source=contract_module(class_name, columns, about, stream_name),
        bronze_sql=bronze_model_template(class_name, columns, about, stream_name),
        bronze_yml=bronze_docs_template(class_name, columns, about, incremental=cursor_field is not None),
    )


def scaffold_paths(contract: str, include_dir: Path) -> list[Path]:
    """Where the three files of ``contract`` go under ``include_dir`` (the project's include/)."""
    bronze = include_dir / BRONZE_MACROS_DIR
    return [
        include_dir / CONTRACTS_DIR / f"{contract}.py",
        bronze / f"{contract}.sql.j2",
        bronze / f"{contract}.yml.j2",
    ]


def write_scaffold(scaffold: Scaffold, include_dir: Path, *, overwrite: bool = False) -> list[Path]:
    """Write the three files under include_dir (include/); refuse (ConfigError from liftoff.config,
    one line naming the file) to overwrite an existing one unless overwrite."""
    paths = scaffold_paths(scaffold.contract, Path(include_dir))
    if not overwrite:
        existing = [path for path in paths if path.exists()]
        if existing:
            more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
            raise ConfigError(
                f"{existing[0]} exists{more}: not overwriting a reviewed file (pass overwrite to replace it)"
            )
    texts = (scaffold.contract_source, scaffold.bronze_sql, scaffold.bronze_yml)
    for path, text in zip(paths, texts, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return paths


# The contract module ------------------------------------------------------------------------


def _python_string(text: str) -> str:
    """A double-quoted Python literal of clean text (no double quotes, see clean_text)."""
    return '"' + text.replace("\\", "\\\\") + '"'


def _chunks(text: str, first: int, rest: int) -> list[str]:
    """``text`` cut at spaces into pieces whose literals fit ``first`` then ``rest`` characters;
    every piece but the last keeps its trailing space (implicit concatenation restores it)."""
    pieces: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        width = first if not pieces else rest
        if current and len(_python_string(candidate + " ")) > width:
            pieces.append(current + " ")
            current = word
        else:
            current = candidate
    pieces.append(current)
    return pieces


def _field_lines(
    name: str, annotation: str, optional: bool, description: str, alias: str | None = None
) -> list[str]:
    """One field, laid out as ``ruff format`` lays it out at the project's line length."""
    args = ["None"] if optional else []
    if alias is not None:
        args.append(f"alias={_python_string(alias)}")
    literal = _python_string(description)
    described = f"description={literal}"
    head = f"    {name}: {annotation} = Field("
    line = f"{head}{', '.join([*args, described])})"
    if len(line) <= LINE_LENGTH:
        return [line]
    hugged = "        " + ", ".join([*args, described])
    if len(hugged) <= LINE_LENGTH:
        return [head, hugged, "    )"]
    comma = "," if args else ""  # several arguments: one per line, a trailing comma
    lines = [head, *(f"        {arg}," for arg in args)]
    if len(f"        {described}{comma}") <= LINE_LENGTH:
        lines.append(f"        {described}{comma}")
    else:
        indent = "        "
        pieces = _chunks(
            description,
            LINE_LENGTH - len(indent) - len("description="),
            LINE_LENGTH - len(indent) - len(comma),
        )
        lines.append(f"{indent}description={_python_string(pieces[0])}")
        lines += [f"{indent}{_python_string(piece)}" for piece in pieces[1:]]
        lines[-1] += comma
    return [*lines, "    )"]


def _annotation(column: Column, name_of) -> str:
    """The field's annotation, naming types through ``name_of`` (aliases of shadowed names)."""
    kind = column.kind
    if kind == "any":
        return "Any"
    if kind == "string" and column.primary_key:
        base = f"{name_of('text')}({PRIMARY_KEY_TEXT})"
    elif kind == "object":
        base = f"{name_of('dict')}[{name_of('str')}, Any]"
    elif kind == "array":
        if column.items is None:
            item = "Any"
        else:
            item = name_of(PYTHON_SCALARS[column.items]) + (" | None" if column.items_nullable else "")
        base = f"{name_of('list')}[{item}]"
    else:
        base = name_of(PYTHON_SCALARS[kind])
    return base if column.required else f"{base} | None"


def _wrap(text: str, indent: str, first: str = "") -> list[str]:
    return textwrap.wrap(
        text,
        width=PROSE_WIDTH,
        initial_indent=indent + first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _docstring(text: str) -> str:
    return text.replace("\\", "\\\\")


def _names_used(annotations: list[str]) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", " ".join(annotations)))


def _roles(column: Column) -> str:
    return " and ".join(
        role for role, on in (("primary key", column.primary_key), ("cursor", column.cursor)) if on
    )


def contract_module(class_name: str, columns: list[Column], about: str, stream: str) -> str:
    """The text of include/contracts/<contract>.py."""
    names = {c.field for c in columns}
    plain = [_annotation(c, str) for c in columns]
    shadowed = sorted(_names_used(plain) & names & set(SHADOWABLE))

    def name_of(name: str) -> str:
        return name.capitalize() if name in shadowed else name

    annotations = [_annotation(c, name_of) for c in columns]
    used = _names_used(plain) | {"ClassVar", "BaseModel", "ConfigDict", "Field"}

    stdlib: dict[str, list[str]] = {}
    for name in ("date", "datetime", "time", "Decimal"):
        if name in used:
            stdlib.setdefault(_IMPORTS_FROM[name], []).append(name)
    stdlib["typing"] = [name for name in ("Any", "ClassVar") if name in used]
    ours = [name for name in ("Timestamp", "text") if name in used]

    required = [c for c in columns if c.required]
    roles = ", ".join(f"``{c.name}`` ({_roles(c)})" for c in required)
    lines = _wrap(_docstring(f"The ``{class_name}`` contract: {about}"), "", '"""')
    lines += [
        "",
        *_wrap(
            f"Scaffolded by ``liftoff.ingest.scaffold`` from the connector's discovered JSON schema of"
            f" the ``{_docstring(stream)}`` stream: a draft to review. Tighten the types (lengths, ranges,"
            " emails, allowed values), add the rules the data must keep, drop the fields nobody needs,"
            " and bump ``__version__`` when a rule changes.",
            "",
        ),
        '"""',
        "",
        "from __future__ import annotations",
        "",
    ]
    lines += [f"from {module} import {', '.join(names)}" for module, names in sorted(stdlib.items()) if names]
    lines += ["", "from pydantic import BaseModel, ConfigDict, Field", ""]
    if ours:
        lines += [f"from liftoff_contracts.types import {', '.join(ours)}", ""]
    if shadowed:
        lines += [
            "# Fields named like these types hide them in the class body: the annotations use these names.",
            *(f"{name.capitalize()} = {name}" for name in shadowed),
            "",
        ]
    if any(c.aliased for c in columns):
        lines += [
            "# A column no Python name can bear is a field named otherwise, the column its alias: the model",
            "# and the gate read a row by column; model_dump(by_alias=True) gives the columns back.",
            "",
        ]
    lines += ["", f"class {class_name}(BaseModel):"]
    if required:
        summary = (
            f"One ``{_docstring(stream)}`` record. Required and not null: {roles}; every other field may"
            " be missing or null (sources drop fields)."
        )
    else:
        summary = (
            f"One ``{_docstring(stream)}`` record. No field is required: every one may be missing or null"
            " (sources drop fields)."
        )
    doc = _wrap(summary, "    ", '"""')
    if len(doc) == 1 and len(doc[0]) + 3 <= LINE_LENGTH:
        lines.append(doc[0] + '"""')
    else:
        lines += [*doc, '    """']
    lines += [
        "",
        f'    __version__: ClassVar[str] = "{VERSION}"',
        "",
        '    model_config = ConfigDict(extra="ignore", frozen=True)',
        "",
    ]
    for column, annotation in zip(columns, annotations, strict=True):
        alias = column.name if column.aliased else None
        lines += _field_lines(column.field, annotation, not column.required, column.description, alias)
    return "\n".join(lines) + "\n"


# The bronze model's template and its docs -----------------------------------------------------


def sql_name(name: str) -> str:
    """A column as SQL names it: quoted when a key word or not a plain identifier."""
    if re.fullmatch(r"[a-z_][a-z0-9_]*", name) and name not in SQL_RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def bronze_expression(column: Column) -> str:
    """The typed value of the column in bronze, read from ``accepted`` (the landed row).

    Landing keeps objects, arrays and values of several types as ``json``; a property that
    is one scalar type in a union (``anyOf``) lands as ``json`` too, so its text is taken out
    (``#>> '{}'``) before the cast.
    """
    cast = SQL_CASTS[column.kind]
    value = f"accepted.{sql_name(column.name)}"
    if column.landing == "json" and cast != "jsonb":
        return f"({value} #>> '{{}}')::{cast}"
    return f"{value}::{cast}"


def _jinja_comment(text: str) -> str:
    """Text inside a comment of dbt's Jinja (``{# #}``) in a model template, which liftoff derive
    renders first with its bracketed syntax (``[[ ]]``, ``[% %]``, ``[# #]``): neither ends or
    opens anything."""
    for token in ("#}", "[[", "[%", "[#", "#]"):
        text = text.replace(token, " ".join(token))
    return text


def bronze_model_template(class_name: str, columns: list[Column], about: str, stream: str) -> str:
    """The text of include/dbt/macros/bronze/<contract>.sql.j2: the model of every stream under
    the contract, as the hand-written ones (sale.sql.j2) are; liftoff derive fills in the
    ``[[ ]]`` for each stream."""
    note = _wrap(
        _jinja_comment(
            f"Bronze of a stream under the `{class_name}` contract ({about.rstrip('.')}): the accepted"
            f" rows of the run's batch, typed, with lineage. Scaffolded from the discovered schema of"
            f" the `{stream}` stream (liftoff.ingest.scaffold): review the casts with the contract"
            " (trim, nullif, a numeric's precision)."
        ),
        "   ",
    )
    note[0] = "{# " + note[0].lstrip()
    note[-1] += " #}"
    selects = [f"    {bronze_expression(c)} as {sql_name(c.bronze_name)}," for c in columns]
    return "\n".join(
        [
            f"[#- The bronze model of every stream under the `{class_name}` contract: `liftoff derive`"
            " writes it out",
            "    as models/bronze/bronze_<source>_<stream>.sql, each [[ ]] the stream's own value from",
            "    include/sources.yaml (source_name, stream, sync, cursor_field) as a literal: 'crm', none.",
            "    The {{ }} and {# #} are dbt's, written out as they are. -#]",
            *note,
            "{{ bronze_config(sync=[[ sync ]], unique_columns=['airbyte_raw_id']) }}",
            "",
            "with batch as (",
            "",
            "    {{ validated_batch(source_name=[[ source_name ]], stream=[[ stream ]]) }}",
            "",
            "),",
            "",
            "accepted as (",
            "",
            "    {{ accepted_rows(source_name=[[ source_name ]], stream=[[ stream ]],"
            " cursor_field=[[ cursor_field ]]) }}",
            "",
            ")",
            "",
            "select",
            *selects,
            "    {{ lineage_columns(source_name=[[ source_name ]]) }}",
            "from accepted",
            "cross join batch",
            "",
        ]
    )


def _jinja_text(text: str) -> str:
    """Text the template prints as is: a brace is written as a Jinja expression of itself."""
    return text.replace("{", "{{'{'}}")


def _yaml_name(name: str) -> str:
    """A column's name as YAML reads it back (``2fa`` as is, ``on``, ``null`` or ``123`` quoted)."""
    return name if yaml.safe_load(name) == name else json.dumps(name)


def _column_description(column: Column, incremental: bool) -> str:
    text = column.description
    if column.primary_key and incremental:
        text = f"{text.rstrip('.')} (not unique here: a record lands again when it changes)."
    if column.bronze_name != column.name:
        text = f"{text.rstrip('.')} (the source's `{column.name}`, renamed: bronze's lineage has one)."
    return text


def bronze_docs_template(class_name: str, columns: list[Column], about: str, *, incremental: bool) -> str:
    """The text of include/dbt/macros/bronze/<contract>.yml.j2 (rendered by liftoff derive).

    Keys: unique and not null for a full snapshot; for an incremental stream a record lands
    again each time it changes, so the key is only not null (as the ``Sale`` contract's).
    """
    keys = [c for c in columns if c.primary_key]
    described = _wrap(
        "The rows of `{{ source }}.{{ stream }}` that passed the"
        f" `{class_name}` contract, one row per landed record, typed, with lineage: {_jinja_text(about)}",
        "      ",
    )
    lines = [
        "{#- Scaffolded from the stream's discovered schema (liftoff.ingest.scaffold): review the"
        " descriptions and tests. -#}",
        "version: 2",
        "",
        "models:",
        "  - name: {{ model }}",
        "    description: >",
        *described,
        "      {{ source_description }} {{ sync_description }}",
        "    config:",
        "      tags: [{{ tag }}]",
    ]
    if len(keys) > 1 and not incremental:
        lines += [
            "    data_tests:",
            "      - unique_combination:",
            "          arguments:",
            f"            columns: [{', '.join(c.bronze_name for c in keys)}]",
        ]
    lines.append("    columns:")
    for column in columns:
        lines += [
            f"      - name: {_yaml_name(column.bronze_name)}",
            f"        description: {_jinja_text(json.dumps(_column_description(column, incremental)))}",
        ]
        if sql_name(column.bronze_name) != column.bronze_name:
            lines.append("        quote: true")
        tests = []
        if column.primary_key and len(keys) == 1 and not incremental:
            tests.append("unique")
        if column.required:
            tests.append("not_null")
        if tests:
            lines.append(f"        data_tests: [{', '.join(tests)}]")
    lines.append("{{ lineage_columns }}")
    return "\n".join(lines) + "\n"
