"""The embedded warehouse keeps its secret private and opens no folder to other users."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from liftoff.local.postgres import EmbeddedPostgres
from sales_api.server import free_port


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_home_behind_a_closed_folder_stays_closed(tmp_path: Path) -> None:
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    parents = {parent: mode(parent) for parent in (closed / "home").resolve().parents if parent.exists()}
    embedded = EmbeddedPostgres(closed / "home" / "warehouse", port=free_port())
    try:
        target = embedded.start()
        with target.connect() as conn:
            assert conn.execute("select current_user").fetchone()[0] == "postgres"
        assert {parent: mode(parent) for parent in parents} == parents, "no folder was opened to others"
        password = closed / "home" / "warehouse" / "password"
        assert mode(password) == 0o600 and not mode(password.parent) & 0o077
        assert password.read_text().strip() == target.password
        if os.geteuid() == 0:  # PostgreSQL runs as pgserver, which cannot reach the home
            assert not embedded.pgdata.is_relative_to(closed), "the cluster lives where pgserver can reach"
            assert not mode(embedded.cluster_dir) & 0o077
        assert not list(embedded.cluster_dir.glob(".initdb-password")), "initdb's copy is gone"
    finally:
        embedded.stop()
        if embedded.cluster_dir != embedded.root:
            shutil.rmtree(embedded.cluster_dir, ignore_errors=True)
