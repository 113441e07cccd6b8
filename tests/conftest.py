"""Shared fixtures: small configs pointing at files under tests/data/."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipelines.config import HubConfig, load_config

DATA = Path(__file__).parent / "data"


def make_config(folder: Path, sources: list[dict[str, Any]], **hub: Any) -> HubConfig:
    """Write a hub.yml into ``folder`` and load it through the real loader."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "hub.yml"
    path.write_text(yaml.safe_dump({"hub": {"out": "hub", **hub}, "sources": sources}, allow_unicode=True),
                    encoding="utf-8")
    return load_config(path)


@pytest.fixture
def data_copy(tmp_path: Path):
    """Copy fixture files into a temporary folder: ``data_copy("io/empty.csv", "src/x.csv")``."""

    def copy(name: str, target: str) -> Path:
        dest = tmp_path / target
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DATA / name, dest)
        return dest

    return copy


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session (it takes 10-40 s to start here)."""
    from pipelines.runtime import configure_prefect

    configure_prefect()
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture
def flow_config(tmp_path: Path) -> Path:
    """The tiny three-source fixture (tests/data/flow) copied to a temporary folder."""
    target = tmp_path / "flow"
    shutil.copytree(DATA / "flow", target)
    return target / "hub.yml"
