"""Read-ahead: order kept, producer errors reach the consumer, early exits stop the thread."""

from __future__ import annotations

import threading

import pytest

from liftoff.prefetch import prefetch


def test_items_arrive_in_order() -> None:
    with prefetch(range(100), depth=3) as items:
        assert list(items) == list(range(100))


def test_an_error_in_the_producer_is_raised_in_the_consumer() -> None:
    def broken():
        yield 1
        raise ConnectionError("server closed the connection")

    with pytest.raises(ConnectionError, match="server closed"), prefetch(broken()) as items:
        list(items)


def test_leaving_early_stops_the_producer() -> None:
    before = threading.active_count()
    endless = iter(range(10**9))
    with pytest.raises(RuntimeError, match="validation blew up"), prefetch(endless, depth=2) as items:
        for item in items:
            if item == 5:
                raise RuntimeError("validation blew up")
    assert threading.active_count() == before
