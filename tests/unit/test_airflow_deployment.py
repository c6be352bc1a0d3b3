"""Finding the `liftoff airflow` of a home: none, gone, starting, up."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from liftoff.airflow_deployment import admin_password, read_admin_password, running_deployment, write_state
from liftoff.config import Settings, Unavailable
from sales_api.server import free_port


def test_no_deployment_or_a_dead_one_is_none_and_a_silent_one_is_unavailable(tmp_path) -> None:
    settings = Settings(home=tmp_path)
    assert running_deployment(settings) is None
    folder = tmp_path / "airflow"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (folder).mkdir()
    (folder / "deployment.json").write_text(json.dumps({"url": "http://127.0.0.1:1", "pid": dead.pid}))
    assert running_deployment(settings) is None, "a deployment whose process is gone is none"

    write_state(folder, f"http://127.0.0.1:{free_port()}", "starting")  # this process, not answering
    assert oct((folder / "deployment.json").stat().st_mode & 0o777) == "0o600"
    with pytest.raises(Unavailable, match="is starting"):
        running_deployment(settings)


def test_the_admin_password_is_made_once_kept_0600_and_only_read_by_other_commands(tmp_path) -> None:
    settings = Settings(home=tmp_path)
    first = admin_password(settings)
    path = tmp_path / "airflow" / "admin-password.json"
    assert oct(path.stat().st_mode & 0o777) == "0o600" and len(first) >= 16
    assert admin_password(settings) == read_admin_password(settings) == first
    os.environ["LIFTOFF_AIRFLOW_ADMIN_PASSWORD"] = "chosen-by-the-team"
    try:
        chosen = Settings(home=tmp_path)
        assert read_admin_password(chosen) == first, "reading never writes"
        assert admin_password(chosen) == "chosen-by-the-team" == read_admin_password(chosen)
    finally:
        del os.environ["LIFTOFF_AIRFLOW_ADMIN_PASSWORD"]
