"""The committed hub.yml is the demo configuration that `hub demo` writes, seen from the root."""

from __future__ import annotations

from pathlib import Path

from pipelines.config import load_config
from pipelines.demo import generate_demo

ROOT = Path(__file__).resolve().parents[1]


def test_root_hub_yml_matches_the_generated_demo_config(tmp_path: Path) -> None:
    generated = load_config(generate_demo(tmp_path / "data" / "demo", customers=50, seed=1).config)
    committed = load_config(ROOT / "hub.yml")
    assert committed.out_dir == ROOT / "data" / "demo" / "hub"
    assert [s.model_dump(exclude={"path"}) for s in committed.sources] == \
        [s.model_dump(exclude={"path"}) for s in generated.sources]
    assert [s.path for s in committed.sources] == [f"data/demo/{s.path}" for s in generated.sources]
    assert committed.hub.model_dump(exclude={"out"}) == generated.hub.model_dump(exclude={"out"})
