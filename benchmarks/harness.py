"""Timing helpers and the result line every benchmark prints.

Machines here are noisy, so a benchmark never compares with a number from another day:
it measures its baseline in the same run, alternating the two (which goes first alternates
too, round by round), and reports the ratio of medians and each side's spread (min-max).
"""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from liftoff.local.postgres import EmbeddedPostgres
from liftoff.warehouse.location import Warehouse, configured_warehouse_url
from sales_api.server import free_port

RESULTS_DIR = Path(__file__).parent / "results"


@dataclass
class Result:
    name: str
    subject: str
    baseline: str
    subject_seconds: list[float]
    baseline_seconds: list[float]
    notes: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return statistics.median(self.subject_seconds) / statistics.median(self.baseline_seconds)

    def line(self) -> str:
        subject = statistics.median(self.subject_seconds)
        baseline = statistics.median(self.baseline_seconds)
        extra = "".join(f" {key}={value}" for key, value in self.notes.items())
        return (
            f"{self.name}: {self.subject}={subject:.3f}s{spread(self.subject_seconds)}"
            f" {self.baseline}={baseline:.3f}s{spread(self.baseline_seconds)} "
            f"ratio={self.ratio:.2f}x (median of {len(self.subject_seconds)}){extra}"
        )

    def save(self) -> None:
        RESULTS_DIR.mkdir(exist_ok=True)
        (RESULTS_DIR / f"{self.name}.json").write_text(
            json.dumps({**asdict(self), "ratio": self.ratio}, indent=2)
        )


def spread(seconds: list[float]) -> str:
    """`` [min-max]`` of a side's samples (nothing for a single one)."""
    if len(seconds) < 2:
        return ""
    return f" [{min(seconds):.3f}-{max(seconds):.3f}]"


def alternate(subject: Callable[[], float], baseline: Callable[[], float], repeat: int) -> tuple[list, list]:
    """Run baseline and subject ``repeat`` times each; each returns its own seconds.

    Which goes first alternates round by round (the baseline in the first), so neither side
    always runs on a warmer (or a more tired) machine than the other.
    """
    subject_times, baseline_times = [], []
    for round_ in range(repeat):
        if round_ % 2 == 0:
            baseline_times.append(baseline())
            subject_times.append(subject())
        else:
            subject_times.append(subject())
            baseline_times.append(baseline())
    return subject_times, baseline_times


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy (every process, PostgreSQL's too) since boot:
    the difference over a phase is what it cost the machine, whichever process did the work."""
    import psutil

    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


# Which part of a deployment a process is, by its command line (the first match); the
# LocalExecutor's workers run the task processes (each task's CPU is its worker's once it ends).
# A warm connector sync is no process's: the server's children are reaped by the kernel.
COMPONENTS = (
    ("tasks", "airflow worker"),
    ("scheduler", "airflow scheduler"),
    ("api-server", "api_server"),
    ("triggerer", "airflow triggerer"),
    ("dag-processor", "airflow dag-processor"),
    ("postgres", "postgres"),
)


def component_cpu_seconds() -> dict[int, tuple[str, float]]:
    """Each running process of a deployment's components: its component and the CPU seconds it
    and its ended children (reaped: a task process, a cold sync, a PostgreSQL backend) have spent.
    Per pid, so that the difference over a phase is taken process by process."""
    import psutil

    found = {}
    for process in psutil.process_iter():
        try:
            command = " ".join(process.cmdline()) or process.name()
            times = process.cpu_times()
        except psutil.Error:
            continue
        component = next((name for name, marker in COMPONENTS if marker in command), None)
        if component:
            found[process.pid] = (
                component,
                times.user + times.system + times.children_user + times.children_system,
            )
    return found


def cpu_by_component(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
) -> dict[str, float]:
    """CPU seconds each component spent between two ``component_cpu_seconds()``, largest first."""
    spent: dict[str, float] = {}
    for pid, (component, seconds) in after.items():
        start = before.get(pid)
        spent[component] = (
            spent.get(component, 0.0) + seconds - (start[1] if start and start[0] == component else 0.0)
        )
    return dict(sorted(spent.items(), key=lambda item: -item[1]))


def timed(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


@contextmanager
def pg_server(root: Path) -> Iterator[Warehouse]:
    """The configured PostgreSQL server, else an embedded one under ``root``."""
    url = os.environ.get("LIFTOFF_TEST_WAREHOUSE_URL") or configured_warehouse_url()
    if url:
        yield Warehouse.from_url(url)
        return
    embedded = EmbeddedPostgres(root / "pg", port=free_port())
    target = embedded.start()
    try:
        yield target
    finally:
        embedded.stop()


@contextmanager
def scratch_database(server: Warehouse, template: Warehouse | None = None) -> Iterator[Warehouse]:
    """A fresh database (a copy of ``template``'s, when given), dropped afterwards."""
    name = f"liftoff_bench_{uuid.uuid4().hex[:8]}"
    admin = Warehouse(server.host, server.port, "postgres", server.user, server.password)
    copy = f' template "{template.database}"' if template else ""
    with admin.connect(autocommit=True) as conn:
        conn.execute(f'create database "{name}"{copy}')
    try:
        yield Warehouse(server.host, server.port, name, server.user, server.password)
    finally:
        with admin.connect(autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
