"""Fixtures shared by the test modules."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def machine_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """``qconf run`` keeps machine snapshots in a directory of the test session's, not the
    user's cache (tests that need their own cache set ``QCONF_CACHE_DIR`` themselves)."""
    before = os.environ.get("QCONF_CACHE_DIR")
    os.environ["QCONF_CACHE_DIR"] = str(tmp_path_factory.mktemp("qconf-cache"))
    yield
    if before is None:
        del os.environ["QCONF_CACHE_DIR"]
    else:
        os.environ["QCONF_CACHE_DIR"] = before


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts (append them): killed at its end if still running, so a
    test that fails half-way leaves no emulator spinning."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


pytest_plugins = ("pytester",)  # the pytest plugin's own tests (tests/test_plugin.py)
