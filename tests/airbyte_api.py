"""A stand-in Airbyte server for tests: the public API that the provider's AirbyteHook calls.

An Airbyte server cannot run here (it needs Docker/Kubernetes), so this speaks the same
protocol as Airbyte's public API v1, as the `airbyte-api` SDK sends it:

- ``POST /v1/applications/token``: OAuth2 client credentials (form-encoded) -> bearer token
- ``POST /v1/jobs`` ``{"connectionId", "jobType"}`` -> JobResponse
- ``GET /v1/jobs/{jobId}`` -> JobResponse;  ``DELETE /v1/jobs/{jobId}`` -> cancelled JobResponse
- ``GET /v1/health``

Each Airbyte connection id is scripted: how its jobs progress (statuses returned on
successive polls) and what a successful sync lands (a callback, as the destination would).
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import Depends, FastAPI, Form, Header, HTTPException
from fastapi.responses import JSONResponse


@dataclass
class Script:
    """How jobs of one connection behave: the statuses successive reads return (the last repeats)."""

    statuses: list[str]
    land: Callable[[], int] | None = None  # run when the job first reports "succeeded"; returns rows


@dataclass
class Job:
    job_id: int
    connection_id: str
    script: Script
    reads: int = 0
    status: str = "pending"
    rows: int = 0
    landed: bool = False

    def advance(self) -> None:
        if self.status == "cancelled":
            return
        self.status = self.script.statuses[min(self.reads, len(self.script.statuses) - 1)]
        self.reads += 1
        if self.status == "succeeded" and not self.landed:
            self.rows = self.script.land() if self.script.land else 0
            self.landed = True

    def response(self) -> dict:
        return {
            "jobId": self.job_id,
            "connectionId": self.connection_id,
            "jobType": "sync",
            "status": self.status,
            "startTime": datetime.now(UTC).isoformat(),
            "rowsSynced": self.rows,
        }


@dataclass
class FakeAirbyte:
    client_id: str = "liftoff-client"
    client_secret: str = "liftoff-secret"
    scripts: dict[str, Script] = field(default_factory=dict)
    jobs: dict[int, Job] = field(default_factory=dict)
    cancelled: list[int] = field(default_factory=list)
    token_requests: int = 0
    _tokens: set[str] = field(default_factory=set)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> FastAPI:
        api = FastAPI(title="stand-in Airbyte public API v1")

        def bearer(authorization: str | None = Header(None)) -> None:
            if not authorization or authorization.removeprefix("Bearer ").strip() not in self._tokens:
                raise HTTPException(401, "Unauthorized")

        @api.post("/v1/applications/token")
        def token(
            grant_type: str = Form(...), client_id: str = Form(...), client_secret: str = Form(...)
        ) -> dict:
            self.token_requests += 1
            if grant_type != "client_credentials" or (client_id, client_secret) != (
                self.client_id,
                self.client_secret,
            ):
                raise HTTPException(401, "invalid client credentials")
            value = secrets.token_hex(16)
            self._tokens.add(value)
            return {"access_token": value, "token_type": "Bearer", "expires_in": 180}

        @api.get("/v1/health")
        def health() -> dict:
            return {"available": True}

        @api.post("/v1/jobs", dependencies=[Depends(bearer)])
        def create_job(body: dict) -> JSONResponse:
            connection_id = body.get("connectionId")
            if body.get("jobType") != "sync":
                raise HTTPException(422, "only sync jobs are scripted")
            if connection_id not in self.scripts:
                raise HTTPException(404, f"connection {connection_id} not found")
            with self._lock:
                job = Job(next(self._ids), connection_id, self.scripts[connection_id])
                job.advance()
                self.jobs[job.job_id] = job
            return JSONResponse(job.response())

        @api.get("/v1/jobs/{job_id}", dependencies=[Depends(bearer)])
        def get_job(job_id: int) -> dict:
            with self._lock:
                job = self._job(job_id)
                job.advance()
                return job.response()

        @api.delete("/v1/jobs/{job_id}", dependencies=[Depends(bearer)])
        def cancel_job(job_id: int) -> dict:
            with self._lock:
                job = self._job(job_id)
                job.status = "cancelled"
                self.cancelled.append(job_id)
                return job.response()

        return api

    def airflow_connection(self, server_url: str) -> str:
        """``AIRFLOW_CONN_AIRBYTE`` for this stand-in served at ``server_url``."""
        return json.dumps(
            {
                "conn_type": "airbyte",
                "host": f"{server_url}/v1",
                "login": self.client_id,
                "password": self.client_secret,
            }
        )

    def _job(self, job_id: int) -> Job:
        if job_id not in self.jobs:
            raise HTTPException(404, f"job {job_id} not found")
        return self.jobs[job_id]
