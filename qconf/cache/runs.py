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
    into, if qconf remembered them and every text in them is one of the words: an entry
    can only repeat what the command line says, never add to it."""
    key = _key(argv)
    try:
        data = CacheFolder(RUNS).read(key)
    except (OSError, Refused):
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    options = data.get("options")
    if not isinstance(options, dict) or not _typed(options, _words(argv)):
        return None
    return options


def forget() -> int:
    """Forget every remembered parse; returns how many there were.

    :raises Refused: the cache directory cannot be trusted.
    """
    return CacheFolder(RUNS).clear()


def _words(argv: list[str]) -> set[str]:
    """The words, and the values inside ``--name=VALUE`` and ``-xVALUE``."""
    words = set(argv)
    for word in argv:
        if word.startswith("--") and "=" in word:
            words.add(word.partition("=")[2])
        elif word.startswith("-") and len(word) > 2:
            words.add(word[2:])
    return words


def _typed(value: Any, words: set[str]) -> bool:
    if isinstance(value, str):
        return value in words
    if isinstance(value, list):
        return all(_typed(v, words) for v in value)
    if isinstance(value, dict):
        return all(_typed(v, words) for v in value.values())
    return value is None or isinstance(value, int | float)
