"""Read ahead: produce the next chunks in a thread while the caller works on the current one.

Used to overlap PostgreSQL rendering and sending rows (another process, another core)
with validating them in Python.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


@contextmanager
def prefetch(items: Iterable[T], depth: int = 2) -> Iterator[Iterator[T]]:
    """Iterate ``items`` from a thread, at most ``depth`` ahead; stops it cleanly on exit."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as error:  # handed to the consumer, raised there
            put(_Failed(error))
            return
        put(_DONE)

    def consume() -> Iterator[T]:
        while (item := buffer.get()) is not _DONE:
            if isinstance(item, _Failed):
                raise item.error
            yield item

    thread = threading.Thread(target=produce, name="prefetch", daemon=True)
    thread.start()
    try:
        yield consume()
    finally:
        stop.set()
        thread.join()
