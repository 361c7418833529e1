"""Remembered command lines: how ``qconf run`` parsed its words, so that the next run with
the same words (and the same qconf) starts without loading the command line parser."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

from qconf.cache.folder import CacheFolder, Refused, code_fingerprint

__all__ = ("forget", "remember", "remembered")

RUNS = "runs"
"""The cache folder of remembered parses (beside the machine snapshots)."""


def _key(argv: list[str]) -> dict[str, Any]:
    return {"argv": argv, "code": code_fingerprint(), "python": list(sys.version_info[:2])}


def remember(argv: list[str], options: dict[str, Any]) -> None:
    """Keep ``options`` (JSON-ready), what ``argv`` (the words, ``run`` first) parsed into,
    for the next run with the same words; best effort, as the cache it sits beside."""
    key = _key(argv)
    with contextlib.suppress(OSError, Refused):
        CacheFolder(RUNS).write(key, {"key": key, "options": options})


def remembered(argv: list[str]) -> dict[str, Any] | None:
    """The options an earlier run with exactly these words (and this qconf) parsed them
    into, if qconf remembered them."""
    key = _key(argv)
    try:
        data = CacheFolder(RUNS).read(key)
    except (OSError, Refused):
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    options = data.get("options")
    return options if isinstance(options, dict) else None


def forget() -> int:
    """Forget every remembered parse; returns how many there were.

    :raises Refused: the cache directory cannot be trusted.
    """
    return CacheFolder(RUNS).clear()
