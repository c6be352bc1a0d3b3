"""The catalog of unstructured files: product images, seller and supplier documents.

Files dropped at ``inbox/<kind>/<entity id>/<file name>`` are sniffed (content type from
the bytes, not the name), hashed, recorded in ``catalog.objects`` and moved to
``files/<kind>/<entity id>/<file name>``. A file that is empty, whose bytes do not match
its extension, or whose key tries a path trick is refused with the reason in the catalog
and left where it is: never silently dropped. Cataloging again is idempotent.

Files are read as streams (never whole in memory); a symbolic link is never listed or
followed (the store refuses it). A file dropped again under a name already cataloged
replaces nothing: the same bytes are the same file; other bytes are a new version, kept
as ``<name>.<first 12 hex of its sha256>.<extension>`` beside the first.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from dataclasses import dataclass

import psycopg

from liftoff.archive.store import ObjectStore

INBOX = "inbox/"
SNIFF_BYTES = 16  # what sniff() reads of a file
KINDS = {"products": "product", "sellers": "seller", "suppliers": "supplier"}
# content type by extension, and what each type's bytes start with
EXTENSIONS = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".pdf": "application/pdf",
}
ENTITY_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,199}$")


UPSERT_ENTRY = """
insert into catalog.objects (inbox_key, key, kind, entity_id, size, content_type, sha256, status, reason)
values (%(inbox_key)s, %(key)s, %(kind)s, %(entity_id)s, %(size)s, %(content_type)s, %(sha256)s, %(status)s,
        %(reason)s)
on conflict (key) do update set
    inbox_key = excluded.inbox_key, kind = excluded.kind, entity_id = excluded.entity_id,
    size = excluded.size, content_type = excluded.content_type, sha256 = excluded.sha256,
    status = excluded.status, reason = excluded.reason, cataloged_at = now()
"""


@dataclass(frozen=True)
class Entry:
    inbox_key: str
    key: str
    status: str
    reason: str | None = None
    kind: str | None = None
    entity_id: str | None = None
    size: int | None = None
    content_type: str | None = None
    sha256: str | None = None


def sniff(data: bytes) -> str | None:
    """The content type the bytes say they are (None: not an allowed type)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def key_problem(key: str) -> str | None:
    """Why an inbox key is refused before its bytes are read (None: it is well formed)."""
    parts = key[len(INBOX) :].split("/")
    if len(parts) != 3:
        return "key must be inbox/<kind>/<entity id>/<file name>"
    kind, entity, name = parts
    if kind not in KINDS:
        return f"unknown kind {kind!r}: one of {', '.join(sorted(KINDS))}"
    if not ENTITY_ID.match(entity):
        return f"entity id {entity!r} is not an id (letters, digits, _ and -)"
    if any(unicodedata.category(ch)[0] == "C" for ch in name) or not FILE_NAME.match(name) or ".." in name:
        return f"file name {name!r} is refused (path tricks, hidden or control characters)"
    if name.count(".") != 1:
        return f"file name {name!r} must have exactly one extension"
    return None


def judge(store: ObjectStore, key: str) -> Entry:
    """Look at one inbox object and decide: accepted (with its catalog facts) or refused (why)."""
    problem = key_problem(key)
    if problem:
        return Entry(key, key, "refused", problem)
    kind, entity, name = key[len(INBOX) :].split("/")
    extension = name[name.rindex(".") :].lower()
    facts = {"kind": KINDS[kind], "entity_id": entity}
    expected = EXTENSIONS.get(extension)
    if expected is None:
        return Entry(key, key, "refused", f"extension {extension} is not allowed", **facts)
    digest, size, head = hashlib.sha256(), 0, b""
    for chunk in store.read_chunks(key):
        digest.update(chunk)
        size += len(chunk)
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
    facts |= {"size": size, "sha256": digest.hexdigest(), "content_type": sniff(head)}
    if not size:
        return Entry(key, key, "refused", "empty file", **facts)
    if facts["content_type"] != expected:
        found = facts["content_type"] or "not an allowed type"
        return Entry(key, key, "refused", f"extension {extension} but the bytes are {found}", **facts)
    return Entry(key, f"files/{kind}/{entity}/{name}", "accepted", **facts)


def destination(conn: psycopg.Connection, store: ObjectStore, entry: Entry) -> str:
    """Where an accepted file goes without replacing another: its own name if free or the
    same bytes, else a new version named by its hash."""
    if not store.exists(entry.key):
        return entry.key
    cataloged = conn.execute(
        "select sha256 from catalog.objects where key = %s and status = 'accepted'", (entry.key,)
    ).fetchone()
    if cataloged and cataloged[0] == entry.sha256:
        return entry.key
    stem, extension = entry.key.rsplit(".", 1)
    return f"{stem}.{entry.sha256[:12]}.{extension}"


def catalog_inbox(conn: psycopg.Connection, store: ObjectStore) -> list[Entry]:
    """Catalog every file in the inbox: move the accepted ones, record every decision."""
    entries = []
    for key in list(store.list(INBOX)):
        entry = judge(store, key)
        if entry.status == "accepted":
            entry = dataclasses.replace(entry, key=destination(conn, store, entry))
        conn.execute(
            UPSERT_ENTRY,
            entry.__dict__,
        )
        if entry.status == "accepted":
            store.move(key, entry.key)  # fails: the row is rolled back, the file stays in the inbox
        conn.commit()  # one file at a time: a crash leaves every earlier decision recorded
        entries.append(entry)
    return entries
