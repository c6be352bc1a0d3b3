"""The team deployment's .env (liftoff.deployment_env): `liftoff deployment env` replaces every
placeholder secret of .env.example with a strong random value and keeps every other line; the
file is private from its first byte and never replaced without --force; `liftoff deployment
check` (deployment-check in docker-compose.yaml) refuses placeholders and a bad Fernet key."""

from __future__ import annotations

import os
import re
import stat
import urllib.parse
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from liftoff import deployment_env
from liftoff.cli import app
from liftoff.config import PROJECT_ROOT
from liftoff.deployment_env import (
    FERNET_KEY,
    HEX_SECRETS,
    EnvFileExists,
    check_env,
    placeholders,
    render,
    secret_names,
    write,
)

SECRETS = secret_names()  # every secret .env.example leaves to `make env`


EXAMPLE = (PROJECT_ROOT / ".env.example").read_text()


def values(text: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", text, re.MULTILINE))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_render_gives_every_placeholder_a_strong_random_value_and_keeps_every_other_line() -> None:
    rendered = render(EXAMPLE)
    before, after = EXAMPLE.splitlines(), rendered.splitlines()
    assert len(after) == len(before) and rendered.endswith("\n")
    assert "change-me" not in rendered
    generated = placeholders(EXAMPLE)
    assert FERNET_KEY in generated and "DB_PASS_PROD" in generated  # the key and the passwords
    for old, new in zip(before, after, strict=True):
        name = old.split("=")[0]
        if name in generated:
            assert new.startswith(f"{name}=") and new != old, name
        else:
            assert new == old
    got = values(rendered)
    Fernet(got[FERNET_KEY].encode())  # a key Airflow's Fernet takes
    for name in generated:
        value = got[name]
        assert urllib.parse.quote(value, safe="-_=") == value, f"{name} is not URL-safe"
        if name in HEX_SECRETS:
            assert re.fullmatch(r"[0-9a-f]{64}", value), name
        elif name != FERNET_KEY:
            assert len(value) >= 32 and re.fullmatch(r"[A-Za-z0-9_-]+", value), name
    again = values(render(EXAMPLE))
    assert all(again[name] != got[name] for name in generated), "random each time"
    assert len({got[name] for name in generated}) == len(generated), "no two secrets alike"


def test_render_replaces_only_placeholders_and_keeps_line_endings() -> None:
    text = (
        "# a comment: change-me stays in comments\r\n"
        "USER=liftoff\r\n"
        "AIRFLOW_FERNET_KEY=\r\n"
        "EMPTY_OPTIONAL=\r\n"
        "# OPTIONAL_PASSWORD=change-me-commented-out\r\n"
        "SOME_PASSWORD=change-me-x"
    )
    assert placeholders(text) == ["AIRFLOW_FERNET_KEY", "SOME_PASSWORD"]
    lines = render(text).split("\r\n")
    assert lines[0] == "# a comment: change-me stays in comments"
    assert lines[1] == "USER=liftoff" and lines[3] == "EMPTY_OPTIONAL=" and lines[4].startswith("# OPTIONAL")
    assert re.fullmatch(r"AIRFLOW_FERNET_KEY=\S{44}", lines[2])
    assert re.fullmatch(r"SOME_PASSWORD=[A-Za-z0-9_-]{32}", lines[5]), "last line, no newline added"


def test_a_set_fernet_key_is_kept() -> None:
    key = Fernet.generate_key().decode()
    assert render(f"AIRFLOW_FERNET_KEY={key}\n") == f"AIRFLOW_FERNET_KEY={key}\n"


def test_write_makes_a_private_file_from_its_first_byte(tmp_path: Path, monkeypatch) -> None:
    opened = []
    real_fdopen = os.fdopen

    def fdopen(fd: int, *args, **kwargs):
        opened.append(stat.S_IMODE(os.fstat(fd).st_mode))  # before a byte is written
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(deployment_env.os, "fdopen", fdopen)
    old_umask = os.umask(0)  # the mode must not depend on a permissive umask
    try:
        path = tmp_path / ".env"
        names = write(path)
    finally:
        os.umask(old_umask)
    assert opened == [0o600] and mode(path) == 0o600
    assert names == placeholders(EXAMPLE)
    assert check_env(values(path.read_text())) == []
    assert sorted(os.listdir(tmp_path)) == [".env"]


def test_write_refuses_an_existing_file_without_force_and_replaces_it_with_force(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("DB_PASS_PROD=mine\n")
    path.chmod(0o644)
    with pytest.raises(EnvFileExists, match="--force"):
        write(path)
    assert path.read_text() == "DB_PASS_PROD=mine\n" and mode(path) == 0o644
    link = tmp_path / "link.env"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(EnvFileExists):
        write(link)
    assert not (tmp_path / "nowhere").exists()

    write(path, force=True)
    assert mode(path) == 0o600 and "DB_PASS_PROD=mine" not in path.read_text()
    assert check_env(values(path.read_text())) == []
    assert sorted(os.listdir(tmp_path)) == [".env", "link.env"], "no temporary file left"


def test_check_refuses_placeholders_and_a_bad_fernet_key_one_line_each_without_the_value() -> None:
    environ = {name: "change-me-x" for name in SECRETS}
    problems = check_env(environ)
    assert len(problems) == len(SECRETS)
    for name, line in zip(SECRETS, problems, strict=True):
        assert line.startswith(f"{name} ") and "\n" not in line
        assert "make env" in line and "liftoff deployment env" in line

    bad = "not-a-key-" + "x" * 34
    (line,) = check_env({FERNET_KEY: bad, "DB_PASS_PROD": "fine"})
    assert line.startswith(FERNET_KEY) and "Fernet" in line and "make env" in line and bad not in line
    key = Fernet.generate_key().decode()
    assert check_env({FERNET_KEY: f"{key},{bad}"}) != [], "every key of a rotation must be valid"
    assert check_env({FERNET_KEY: f"{key},{Fernet.generate_key().decode()}"}) == []
    assert check_env({FERNET_KEY: ""}) == [], "empty: the compose file leaves it optional"
    assert check_env({}) == [], "an absent secret is Compose's to refuse"
    assert check_env({"DB_PASS_PROD": "my-change-me-password"}) != [], "anywhere in the value"
    assert check_env(values(EXAMPLE)) != [] and check_env(values(render(EXAMPLE))) == []


def test_the_cli_writes_names_only_and_refuses_a_second_run(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    first = CliRunner().invoke(app, ["deployment", "env", "--output", str(path)])
    assert first.exit_code == 0, first.output
    written = path.read_text()
    assert mode(path) == 0o600
    for name in SECRETS:
        assert name in first.output
        assert values(written)[name] not in first.output, "never a value"
    second = CliRunner().invoke(app, ["deployment", "env", "--output", str(path)])
    assert second.exit_code != 0 and "--force" in second.output
    assert len(second.output.strip().splitlines()) == 1
    assert path.read_text() == written
    forced = CliRunner().invoke(app, ["deployment", "env", "--output", str(path), "--force"])
    assert forced.exit_code == 0 and path.read_text() != written


def test_the_cli_check_reads_the_environment_or_a_file(tmp_path: Path) -> None:
    clean = {name: None for name in SECRETS}
    ok = CliRunner().invoke(app, ["deployment", "check"], env=clean)
    assert ok.exit_code == 0, ok.output
    bad = CliRunner().invoke(
        app, ["deployment", "check"], env={**clean, "AIRFLOW_JWT_SECRET": "change-me", FERNET_KEY: "x"}
    )
    assert bad.exit_code == 1
    assert [line.split()[1] for line in bad.output.strip().splitlines()] == [
        "AIRFLOW_JWT_SECRET",
        FERNET_KEY,
    ]
    example = CliRunner().invoke(
        app, ["deployment", "check", "--env-file", str(PROJECT_ROOT / ".env.example")], env=clean
    )
    assert example.exit_code == 1
    assert len(example.output.strip().splitlines()) == len(SECRETS) - 1, "all but the empty Fernet key"
    path = tmp_path / ".env"
    write(path)
    assert CliRunner().invoke(app, ["deployment", "check", "--env-file", str(path)], env=clean).exit_code == 0
