"""Run a declarative Airbyte connector with PyAirbyte into a PostgreSQL cache.

This file runs inside PyAirbyte's own virtualenv (``.venv-airbyte``), whose pins clash
with Airflow's, so it imports nothing from ``liftoff``: only the standard library and
``airbyte``. It reads one JSON request on stdin and prints one JSON result line:

    request: {"name", "manifest", "config", "streams": [...], "cache_dir",
              "postgres": {host, port, database, username, password, schema}}
    result:  {"ok": true, "records": N}  or  {"ok": false, "error": "..."}

The request's config carries the sync window (start_date/end_date); the read is a
windowed re-sync (``force_full_refresh``) into the request's schema, a staging schema of
this run's own, from which the caller promotes the rows once the whole read succeeded.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")


def run(request: dict) -> dict:
    import airbyte as ab
    from airbyte.caches import PostgresCache

    source = ab.get_source(
        request["name"], config=request["config"], source_manifest=Path(request["manifest"])
    )
    pg = request["postgres"]
    cache = PostgresCache(
        host=pg["host"],
        port=int(pg["port"]),
        database=pg["database"],
        username=pg["username"],
        password=pg.get("password") or "",
        schema_name=pg["schema"],
        cache_dir=Path(request.get("cache_dir") or ".liftoff/pyairbyte"),
    )
    result = source.read(
        cache=cache, streams=request["streams"], write_strategy="append", force_full_refresh=True
    )
    return {"ok": True, "records": int(result.processed_records)}


def one_line(exc: BaseException) -> str:
    """PyAirbyte's errors span many lines: keep the connector's own error (the manifest's
    message, from its log), else the root cause, and the log file."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip().strip("-")]
    cause = next((line.removeprefix("Caused by: ") for line in lines if line.startswith("Caused by:")), None)
    log_file = getattr(exc, "log_file", None) or next(  # PyAirbyte leaves it out of the text under CI
        (line.removeprefix("Log file: ") for line in lines if line.startswith("Log file:")), None
    )
    if log_file and Path(log_file).is_file():
        logged = Path(log_file).read_text(errors="replace").splitlines()
        errors = [line.split(" - ERROR - ", 1)[1].strip() for line in logged if " - ERROR - " in line]
        if errors:  # the manifest's words, and what the API answered
            answered = re.search(r"status code '(\d+)' and error message: '([^']{0,200})", cause or "")
            cause = errors[-1] + (f" [HTTP {answered[1]}: {answered[2]}]" if answered else "")
    message = f"{type(exc).__name__}: {cause or (lines[0] if lines else '')}".replace("\n", " ")
    if len(message) > 500:
        message = message[:497] + "..."
    return message + (f" (connector log: {log_file})" if log_file else "")


def main() -> int:
    try:
        request = json.loads(sys.stdin.read())
        print(json.dumps(run(request)))
        return 0
    except Exception as exc:  # one line for the caller; the traceback goes to stderr
        import traceback

        traceback.print_exc(file=sys.stderr)
        print(json.dumps({"ok": False, "error": one_line(exc)}))
        return 1


if __name__ == "__main__":
    sys.exit(main())
