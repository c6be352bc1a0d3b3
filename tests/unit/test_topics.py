"""The topics made locally are the stream sources' own, as sources.yaml names them."""

from __future__ import annotations

from liftoff.config import load_sources
from liftoff.stream.topics import source_topics


def test_each_stream_source_gets_its_own_topic_and_a_batch_source_none() -> None:
    sources = load_sources()
    assert source_topics(sources) == ["pos.sales"]
    pos = sources["pos"]
    returns = pos.model_copy(update={"kafka": pos.kafka.model_copy(update={"topic": "pos.returns"})})
    assert source_topics({**sources, "returns": returns}) == ["pos.returns", "pos.sales"]
    assert source_topics({"crm": sources["crm"]}) == []
