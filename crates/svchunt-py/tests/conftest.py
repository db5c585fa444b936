"""Shared fixtures: the svchunt command to compare with, generated scenarios, and the rule
that a test which cannot run skips on a developer machine but FAILS in CI (`CI` set)."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
LAB = ROOT / "examples" / "lab"


def need(ok: bool, why: str) -> None:
    """Skip (developer machine) or fail (CI) when `ok` is false."""
    if ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI cannot run this test: {why}", pytrace=False)
    pytest.skip(why)


def _binary(env: str, name: str) -> pathlib.Path | None:
    if os.environ.get(env):
        return pathlib.Path(os.environ[env])
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    for profile in ("release", "debug"):
        p = target / profile / name
        if p.exists():
            return p
    found = shutil.which(name)
    return pathlib.Path(found) if found else None


@pytest.fixture(scope="session")
def sv():
    try:
        import svchunt
    except ImportError as e:  # pragma: no cover - what CI must never see
        need(False, f"the svchunt package is not installed ({e}); build it with maturin")
    return svchunt


@pytest.fixture(scope="session")
def cli():
    """Run the svchunt command: cli("hunt", "-f", "jsonl", path) -> CompletedProcess."""
    binary = _binary("SVCHUNT_BIN", "svchunt")
    need(binary is not None and binary.exists(), "no svchunt binary (cargo build, or set SVCHUNT_BIN)")

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        p = subprocess.run([str(binary), *map(str, args)], capture_output=True)
        if check and p.returncode not in (0, 1):
            raise AssertionError(f"svchunt {' '.join(map(str, args))} exited {p.returncode}: {p.stderr.decode()}")
        return p

    return run


@pytest.fixture(scope="session")
def lab() -> pathlib.Path:
    need(LAB.is_dir(), f"no {LAB}")
    return LAB


@pytest.fixture(scope="session")
def acceptance(tmp_path_factory) -> pathlib.Path:
    """svchunt-gen's 20-host acceptance scenario, generated once per session."""
    gen = _binary("SVCHUNT_GEN", "svchunt-gen")
    need(gen is not None and gen.exists(), "no svchunt-gen binary (cargo build -p evtx-writer, or set SVCHUNT_GEN)")
    out = tmp_path_factory.mktemp("acceptance") / "logs"
    subprocess.run([str(gen), "--preset", "acceptance", "--out", str(out)], check=True, capture_output=True)
    return out
