"""The warehouse commands docs/deployment.md gives operators (the nightly backup, the restore,
the restore drill), run as written against a real PostgreSQL.

No Docker engine here: `docker compose exec -T warehouse CMD…` runs CMD in a shell whose
environment is the warehouse container's as the compose file makes it (``POSTGRES_USER``,
``POSTGRES_DB``; the server reached through libpq's variables) with PostgreSQL 18's client
programs, the warehouse image's major version. What is tested is each line's own text: its
quoting (the variables expand inside the container, not in the operator's shell), its
programs and their options.
"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import date
from pathlib import Path

from liftoff.config import PROJECT_ROOT
from liftoff.local.postgres import EmbeddedPostgres
from liftoff.warehouse.bootstrap import bootstrap
from liftoff.warehouse.location import Warehouse

DOC = PROJECT_ROOT / "docs" / "deployment.md"
WAREHOUSE_COMMAND = re.compile(r"docker compose exec -T warehouse sh -c '[^'\n]*'[^`\n]*")
# `docker compose exec -T SERVICE` + the command: the command, in the container's environment
SHIM = 'docker() { [ "$1 $2 $3" = "compose exec -T" ] || exit 97; shift 4; "$@"; }\n'


def documented() -> list[str]:
    """Every `docker compose exec -T warehouse sh -c '…'` line of the doc, in order."""
    return [match.group(0).rstrip().rstrip(";") for match in WAREHOUSE_COMMAND.finditer(DOC.read_text())]


def client_programs() -> Path:
    """The PostgreSQL client programs of the tests' server's version (the warehouse image's)."""
    return EmbeddedPostgres(Path("unused"))._bin()[0]


def test_the_backup_restore_and_drill_of_the_deployment_docs_work_as_written(
    pg_server: Warehouse, database_factory, tmp_path: Path
) -> None:
    live = database_factory("liftoff_live")
    with live.connect() as conn:
        bootstrap(conn)
        conn.execute(
            "insert into audit.refreshes (run_day, interval_start, interval_end, run_id)"
            " select d::date, d, d + interval '1 day', 'scheduled__' || d from"
            " generate_series(timestamptz '2026-11-01', '2026-11-30', interval '1 day') d"
        )
        conn.commit()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PG")},
        "PATH": f"{client_programs()}:{os.environ['PATH']}",
        "POSTGRES_USER": pg_server.user,  # the warehouse container's, as the compose file sets them
        "POSTGRES_DB": live.database,
        "PGHOST": pg_server.host,
        "PGPORT": str(pg_server.port),
        "PGPASSWORD": pg_server.password,
    }

    def run(line: str) -> str:
        line = line.replace("warehouse-DAY.dump", f"warehouse-{date.today():%Y-%m-%d}.dump")
        done = subprocess.run(
            ["bash", "-c", SHIM + line],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"
        return done.stdout

    lines = documented()
    backup = [line for line in lines if "pg_dump" in line]
    restore = [line for line in lines if "pg_restore" in line and "--clean" in line]
    first = next(n for n, line in enumerate(lines) if "createdb" in line)
    last = next(n for n, line in enumerate(lines) if "dropdb" in line)
    drill = lines[first : last + 1]  # the drill's block, in its order
    assert len(backup) == 1 and len(restore) == 1 and len(drill) >= 4, lines

    with pg_server.connect(autocommit=True) as conn:  # a drill left behind by an earlier test run
        conn.execute("drop database if exists drill")
    run(backup[0])
    dump = tmp_path / f"warehouse-{date.today():%Y-%m-%d}.dump"
    assert dump.stat().st_size > 0, "the nightly line wrote the dump"
    run(restore[0])  # into the live database, over what is there
    with live.connect() as conn:
        assert conn.execute("select count(*) from audit.refreshes").fetchone()[0] == 30
    said = [run(line).strip() for line in drill]
    answers = [text for text in said if text]
    assert answers == ["2026-11-30|30", "2026-11-30|30"], said  # the drill's, the live one's
    with pg_server.connect() as conn:
        assert conn.execute("select count(*) from pg_database where datname = 'drill'").fetchone()[0] == 0
