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
    close_thread_loop()


def close_thread_loop() -> None:
    """Close and unset the thread's event loop that qemu.qmp's legacy client (tests of
    QMP and gdb) made and left open: else the next ``asyncio.run()`` in this worker unsets
    it and it warns (ResourceWarning, an error here) when collected during another test."""
    import asyncio
    import gc
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        gc.collect()  # the clients' sockets, before their loop goes
        policy = asyncio.get_event_loop_policy()
        try:
            loop = policy.get_event_loop()
        except RuntimeError:  # none set
            return
        if not loop.is_running():
            loop.close()
            policy.set_event_loop(None)


pytest_plugins = ("pytester",)  # the pytest plugin's own tests (tests/test_plugin.py)
