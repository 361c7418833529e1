"""Tests that need a program from a Debian package (or an optional Python package, such as
Ray) skip without it, saying which package; with ``QCONF_REQUIRE_EXTERNAL=1`` (as in
``.ci/run``) they fail instead."""

from __future__ import annotations

import os
import shutil

import pytest


def require_program(program: str, package: str) -> str:
    """The path of ``program``, or skip (fail under QCONF_REQUIRE_EXTERNAL=1)."""
    path = shutil.which(program)
    if path is None:
        reason = f"{program} not found: apt-get install {package}"
        if os.environ.get("QCONF_REQUIRE_EXTERNAL") == "1":
            pytest.fail(reason + " (QCONF_REQUIRE_EXTERNAL=1)")
        pytest.skip(reason)
    return path


def require_file(path: str, package: str) -> str:
    """``path`` if it exists, or skip (fail under QCONF_REQUIRE_EXTERNAL=1)."""
    if not os.path.exists(path):
        reason = f"{path} not found: apt-get install {package}"
        if os.environ.get("QCONF_REQUIRE_EXTERNAL") == "1":
            pytest.fail(reason + " (QCONF_REQUIRE_EXTERNAL=1)")
        pytest.skip(reason)
    return path


def require_native() -> None:
    """Skip (fail under QCONF_REQUIRE_EXTERNAL=1) where ``qconf._native`` is not built:
    no C compiler, or a non-editable install run from the source tree."""
    reason = (
        "qconf._native is not importable here: install with a C compiler, "
        "`pip install -e .` when the tests run from the source tree"
    )
    if os.environ.get("QCONF_REQUIRE_EXTERNAL") == "1":
        pytest.fail(reason + " (QCONF_REQUIRE_EXTERNAL=1)")
    pytest.skip(reason)


def require_module(module: str, install: str) -> None:
    """Import ``module`` or skip, saying how to install it (fail under
    QCONF_REQUIRE_EXTERNAL=1)."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        reason = f"Python module {module} not installed: {install}"
        if os.environ.get("QCONF_REQUIRE_EXTERNAL") == "1":
            pytest.fail(reason + " (QCONF_REQUIRE_EXTERNAL=1)")
        pytest.skip(reason)
