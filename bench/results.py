"""How the benchmarks print their figures: JSON with ``--json``, else one ``name value``
line each, the names in a column."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_results(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        json.dump(result, sys.stdout, indent=2)
        print()
        return
    width = max(map(len, result), default=0)
    for key, value in result.items():
        print(f"{key:<{width}} {value}")
