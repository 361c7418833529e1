"""Shared test helpers (plain functions; no fixtures with hidden state)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qconf.config.node import PathKey
from qconf.model.document import Document

REPO = Path(__file__).resolve().parent.parent
PROFILES = REPO / "qconf" / "profiles"
MACHINES = REPO / "machines"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def value(doc: Document, dotted: str) -> object:
    node = doc.lookup(keys(dotted))
    assert node is not None, dotted
    return node.value


def where(doc: Document, dotted: str) -> str:
    node = doc.lookup(keys(dotted))
    assert node is not None, dotted
    return node.origin.where()


def keys(dotted: str) -> tuple[PathKey, ...]:
    from qconf.config.paths import parse_path

    return parse_path(dotted)


def without_timing(line: str) -> str:
    """A ``--stats`` line without what differs between runs of the same machine: the wall
    time, and a CPU's instruction count and MIPS (virtual time stays)."""
    return line.split(", wall", maxsplit=1)[0].split(" instructions", maxsplit=1)[0]


def run_bench(script: str, *args: str, timeout: float = 300) -> Any:
    """``python bench/SCRIPT ARGS --json``: it must exit 0; its figures, parsed."""
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(REPO / "bench" / script), *args, "--json"],
                          capture_output=True, text=True, timeout=timeout, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
