"""The team deployment's logins and roles, on a real Airflow API server with FAB's auth manager.

As docker-compose.yaml runs it: ``AIRFLOW__CORE__AUTH_MANAGER`` FAB's, a PostgreSQL metadata
database migrated by ``airflow db migrate`` (FAB's tables too), the API server as its own
process. Three people get logins with ``liftoff deployment user add`` (the password on
standard input, in no process list); each takes a JWT from ``POST /auth/token`` and the REST
API answers by role: the analyst reads and may not clear or backfill; on-call clears and
backfills and may not see users or roles; the admin may.
"""

from __future__ import annotations

import os
import secrets
import shlex
import subprocess
import threading

import httpx
import psutil
import yaml

from liftoff.config import PROJECT_ROOT
from liftoff.deployment_users import FAB_AUTH_MANAGER
from liftoff.local.airflow_deployment import AirflowProcesses, deployment_env
from liftoff.local.children import airflow_binary
from sales_api.server import free_port
from tests.airflow_deployment import LIFTOFF

DAG_ID = "roles_probe"
PROBE_DAG = f"""
from datetime import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG("{DAG_ID}", schedule="@daily", start_date=datetime(2026, 11, 1), catchup=False):
    EmptyOperator(task_id="noop")
"""
PEOPLE = {  # name: role
    "ana": "analyst",
    "oscar": "oncall",
    "ada": "admin",
}


def add_user(env: dict[str, str], name: str, role: str, password: str, *extra: str) -> tuple[int, str, set]:
    """``liftoff deployment user add`` with the password on stdin; its exit code, its output,
    and every command line seen on the machine while it ran that holds the password."""
    seen: set[str] = set()
    process = subprocess.Popen(
        [LIFTOFF, "deployment", "user", "add", name, "--email", f"{name}@example.com", "--role", role,
         "--password-stdin", *extra],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    done = threading.Event()

    scans = 0  # scans that saw the command itself running: the watch was not too late

    def watch() -> None:
        nonlocal scans
        while not done.is_set():
            lines = [" ".join(other.info["cmdline"] or []) for other in psutil.process_iter(["cmdline"])]
            seen.update(line for line in lines if password in line)
            scans += any(f"user add {name} " in line for line in lines)
            done.wait(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        output, _ = process.communicate(password + "\n", timeout=180)
    finally:
        done.set()
        watcher.join()
    assert scans > 0, "the process list was never read while the command ran"
    return process.returncode, output, seen


def airflow_init_admin_command() -> list[str]:
    """The line of airflow-init's script (docker-compose.yaml) that makes the first admin."""
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yaml").read_text())
    script = compose["services"]["airflow-init"]["command"][2].replace("\\\n", " ")
    (line,) = [line for line in script.splitlines() if "liftoff deployment user add" in line]
    words = shlex.split(line)
    assert "--password-env" in words and "--exists-ok" in words, line
    return [LIFTOFF, *words[1:]]


def token(url: str, name: str, password: str) -> str:
    answer = httpx.post(f"{url}/auth/token", json={"username": name, "password": password}, timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()["access_token"]


def test_analysts_read_oncall_clears_and_backfills_admins_administer(migrated_metadata, tmp_path) -> None:
    metadata = migrated_metadata  # `airflow db migrate` with FAB's auth manager (tests/conftest.py)
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "probe.py").write_text(PROBE_DAG)
    folder = tmp_path / "airflow"
    folder.mkdir()
    port = free_port()
    base = {
        **os.environ,
        "AIRFLOW_HOME": str(folder),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),  # FAB's sessions (compose: AIRFLOW_API_SECRET_KEY)
    }
    env = deployment_env(base, metadata, folder, port, passwords=folder / "unused-simple-auth.json")
    airflow = AirflowProcesses(env, tmp_path, port)
    try:
        with metadata.connect() as conn:
            assert conn.execute("select to_regclass('public.ab_user')").fetchone()[0] is not None
        airflow.airflow("dags", "reserialize")  # the probe DAG in the database: no DAG processor

        def airflow_init(password: str, said: str) -> None:
            """airflow-init's line that makes the first admin, as docker-compose.yaml has it."""
            init = subprocess.run(
                airflow_init_admin_command(), env={**env, "AIRFLOW_ADMIN_PASSWORD": password},
                capture_output=True, text=True, timeout=180,
            )  # fmt: skip
            assert init.returncode == 0 and said in init.stdout, init.stdout + init.stderr

        def add(name: str) -> None:
            code, output, seen = add_user(env, name, PEOPLE[name], passwords[name])
            assert code == 0, output
            assert not seen, f"the password of {name} showed in a process list: {seen}"

        # the first `up`: airflow-init before any API server (FAB's standard roles not made yet)
        first_admin = secrets.token_urlsafe(12)
        airflow_init(first_admin, "added admin")
        passwords = {name: secrets.token_urlsafe(12) for name in PEOPLE}
        add("ana")
        with (tmp_path / "api-server.log").open("ab") as log:
            airflow.processes["api-server"] = subprocess.Popen(
                [airflow_binary(), "api-server"], env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        airflow.wait(airflow.api_is_up, 180, "the Airflow API server did not start")
        add("oscar")
        add("ada")
        code, output, _ = add_user(env, "ada", "admin", "another-password")
        assert code == 1 and "exists already" in output, output
        airflow_init("another-password", "left as it is")  # every `up` after the first
        listed = subprocess.run(
            [LIFTOFF, "deployment", "user", "list"], env=env, capture_output=True, text=True, timeout=180
        )
        assert listed.returncode == 0, listed.stderr
        rows = {line.split("\t")[0]: line.split("\t") for line in listed.stdout.splitlines() if "\t" in line}
        assert {name: rows[name][2] for name in PEOPLE} == PEOPLE and rows["admin"][2] == "admin"

        url = airflow.url
        bearer = {name: {"Authorization": f"Bearer {token(url, name, passwords[name])}"} for name in PEOPLE}
        clients = {name: httpx.Client(base_url=url, headers=bearer[name], timeout=60) for name in PEOPLE}
        assert token(url, "admin", first_admin)
        for name in ("ada", "admin"):
            answer = httpx.post(f"{url}/auth/token", json={"username": name, "password": "another-password"})
            assert answer.status_code == 401, f"{name}'s password changed"

        clear = {"dry_run": True, "only_failed": False}
        backfill = {"dag_id": DAG_ID, "from_date": "2026-11-01T00:00:00Z", "to_date": "2026-11-03T00:00:00Z"}

        def status(name: str, method: str, path: str, body: dict | None = None) -> int:
            return clients[name].request(method, path, json=body).status_code

        # analysts read, change nothing
        ana = clients["ana"]
        dags_seen = ana.get("/api/v2/dags")
        assert dags_seen.status_code == 200 and DAG_ID in {d["dag_id"] for d in dags_seen.json()["dags"]}
        assert status("ana", "GET", f"/api/v2/dags/{DAG_ID}/dagRuns") == 200
        assert status("ana", "GET", f"/api/v2/backfills?dag_id={DAG_ID}") == 200
        assert status("ana", "POST", f"/api/v2/dags/{DAG_ID}/clearTaskInstances", clear) == 403
        assert status("ana", "POST", "/api/v2/backfills/dry_run", backfill) == 403
        assert status("ana", "POST", "/api/v2/backfills", backfill) == 403
        assert status("ana", "GET", "/auth/fab/v1/users") == 403

        # on-call clears and backfills; no users, no roles
        assert status("oscar", "GET", f"/api/v2/dags/{DAG_ID}/dagRuns") == 200
        assert status("oscar", "POST", f"/api/v2/dags/{DAG_ID}/clearTaskInstances", clear) == 200
        planned = clients["oscar"].post("/api/v2/backfills/dry_run", json=backfill)
        assert planned.status_code == 200, planned.text
        assert planned.json()["total_entries"] == 3
        newcomer = {
            "username": "mallory", "email": "mallory@example.com", "first_name": "M", "last_name": "M",
            "password": secrets.token_urlsafe(12), "roles": [{"name": "Admin"}],
        }  # fmt: skip
        assert status("oscar", "GET", "/auth/fab/v1/users") == 403
        assert status("oscar", "POST", "/auth/fab/v1/users", newcomer) == 403
        assert status("oscar", "GET", "/auth/fab/v1/roles") == 403

        # admins administer
        users = clients["ada"].get("/auth/fab/v1/users")
        assert users.status_code == 200, users.text
        roles = {u["username"]: [r["name"] for r in u["roles"]] for u in users.json()["users"]}
        assert roles == {"ana": ["Viewer"], "oscar": ["User"], "ada": ["Admin"], "admin": ["Admin"]}
        assert status("ada", "GET", "/auth/fab/v1/roles") == 200
        assert status("ada", "POST", "/auth/fab/v1/users", newcomer) in {200, 201}
        for client in clients.values():
            client.close()
    finally:
        airflow.stop()


def test_user_add_refuses_the_simple_auth_manager_and_a_password_argument(tmp_path) -> None:
    """The embedded default's simple auth manager reads no FAB user: refused, nothing written."""
    simple = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__AUTH_MANAGER": simple}
    add = [LIFTOFF, "deployment", "user", "add", "ana", "--email", "ana@example.com", "--role", "analyst"]
    refused = subprocess.run(
        [*add, "--password-stdin"], env=env, input="secret\n", capture_output=True, text=True, timeout=120
    )
    assert refused.returncode == 1 and "not FAB's" in refused.stderr, refused.stderr
    argument = subprocess.run(
        [*add, "--password", "secret"], env=env, capture_output=True, text=True, timeout=120
    )
    assert argument.returncode == 2 and "No such option" in argument.stderr, argument.stderr
