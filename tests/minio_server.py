"""A real MinIO server (the binary built by `make minio`), started on a free loopback port."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx

from sales_api.server import free_port


def minio_binary() -> Path | None:
    """``LIFTOFF_MINIO_BIN``, else ``minio`` in ~/go/bin or on PATH."""
    for candidate in (
        os.environ.get("LIFTOFF_MINIO_BIN"),
        str(Path.home() / "go" / "bin" / "minio"),
        shutil.which("minio"),
    ):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


class MinioServer:
    """A MinIO server on 127.0.0.1 with its own data folder and credentials; restartable."""

    def __init__(
        self,
        binary: Path,
        data_dir: Path,
        access_key: str = "liftoff-test",
        secret_key: str = "liftoff-test-secret",
    ) -> None:
        self.binary, self.data_dir = binary, data_dir
        self.access_key, self.secret_key = access_key, secret_key
        self.port, self.console_port = free_port(), free_port()
        self.process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, bucket: str) -> str:
        return f"http://{self.access_key}:{self.secret_key}@{self.endpoint}/{bucket}"

    def start(self) -> MinioServer:
        env = {
            **os.environ,
            "MINIO_ROOT_USER": self.access_key,
            "MINIO_ROOT_PASSWORD": self.secret_key,
            "MINIO_BROWSER": "off",
            "MINIO_UPDATE": "off",
            "MINIO_CALLHOME_ENABLE": "off",
        }
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir.parent / f"minio-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [
                str(self.binary),
                "server",
                str(self.data_dir),
                "--address",
                self.endpoint,
                "--console-address",
                f"127.0.0.1:{self.console_port}",
                "--quiet",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"minio exited with {self.process.returncode}; see {log.name}")
            try:
                if httpx.get(f"http://{self.endpoint}/minio/health/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"minio did not become ready on {self.endpoint}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None
