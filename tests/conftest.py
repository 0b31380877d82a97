"""Fixtures shared across test modules.

Training Splink on the committed sample is the slowest thing the suite does, so the sample
is linked once per test session (`sample_run`) and every end-to-end test reads that run.
A test that changes an output folder copies the run first (`SampleRun.copy`, cheap); a test
that re-links reuses the saved model (`--model`), which scores without training.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from famlink.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
SAMPLE_JOB = SAMPLE / "job.toml"


@dataclass(frozen=True)
class SampleRun:
    """`famlink link sample_data/job.toml --out OUT`, run once (training the model).

    `out` is shared by every test of the session: read it, never write into it.
    """

    out: Path
    output: str  # what the command printed (stdout and stderr)

    @property
    def database(self) -> Path:
        return self.out / "famlink.duckdb"

    @property
    def model(self) -> Path:
        return self.out / "model.json"

    def copy(self, target: Path) -> Path:
        """A private copy of the output folder at `target`, for a test that changes it."""
        shutil.copytree(self.out, target)
        return target


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleRun]:
    """The committed sample linked once per session; the folder is checked unchanged at the
    end, so a test that wrote into it (instead of a copy) fails the run."""
    out = tmp_path_factory.mktemp("sample-run") / "out"
    result = CliRunner().invoke(main, ["link", str(SAMPLE_JOB), "--out", str(out)])
    assert result.exit_code == 0, result.output
    before = _fingerprint(out)
    yield SampleRun(out, result.output)
    assert _fingerprint(out) == before, "a test wrote into the shared sample run; copy it first"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that reads the end-to-end run is `slow` (`pytest -m "not slow"` skips the
    run); the default run and CI include them."""
    for item in items:
        if "sample_run" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
