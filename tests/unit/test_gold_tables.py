"""The gold tables as read from dbt's manifest: the project's own, and a manifest with what
msgspec alone refuses."""

from __future__ import annotations

import json

import pytest

from liftoff.config import GOLD_SCHEMA, MANIFEST_PATH
from liftoff.transform import gold_assets


@pytest.fixture
def read(monkeypatch):
    def gold_tables(path):
        monkeypatch.setattr(gold_assets, "MANIFEST_PATH", path)
        gold_assets.gold_tables.cache_clear()
        return gold_assets.gold_tables()

    yield gold_tables
    gold_assets.gold_tables.cache_clear()


def test_the_projects_gold_models_but_the_previews(read):
    nodes = json.loads(MANIFEST_PATH.read_text())["nodes"].values()
    models = [n for n in nodes if n["resource_type"] == "model" and n["fqn"][1] == GOLD_SCHEMA]
    previews = {n["name"] for n in models if "preview" in n["tags"]}
    assert previews  # the project has a preview, which must be left out
    assert read(MANIFEST_PATH) == tuple(sorted({n["name"] for n in models} - previews))


def test_a_manifest_with_nan_in_a_meta(read, tmp_path):
    """dbt writes a meta's ``.nan`` as NaN, which is not JSON to msgspec."""
    node = {"name": "gold_x", "resource_type": "model", "fqn": ["liftoff", GOLD_SCHEMA, "gold_x"], "tags": []}
    seed = {"name": "s", "resource_type": "seed", "fqn": ["liftoff", "s"], "meta": {"v": float("nan")}}
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"nodes": {"model.liftoff.gold_x": node, "seed.liftoff.s": seed}}))
    assert "NaN" in path.read_text()
    assert read(path) == ("gold_x",)
