"""Property-based: random small machines from random compositions build with unique paths,
the same paths every time, and leave nothing behind when destroyed."""

from __future__ import annotations

import gc
import tempfile
import weakref
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qconf
from qconf.model.lifecycle import State
from qconf.model.objects import Object

# leaf children a component may have: no regions, so any number of them fits anywhere
LEAVES = {
    "clock": "{type: clock, freq: '${f}'}",  # in flow style, quote expressions
    "container": "{type: container}",
    "reset-domain": "{type: reset-domain}",
    "chardev": "{type: chardev, backend: null}",
}
NAMES = st.sampled_from(["a", "b", "core", "x_1", "dev", "blk"])


@st.composite
def compositions(draw: st.DrawFn) -> str:
    """YAML text: 1..4 components, each with leaves, replicated leaves, and instances of
    components declared before it; a machine with instances of them."""
    lines = ["type: machine", "components:"]
    comps: list[str] = []
    for c in range(draw(st.integers(1, 4))):
        name = f"comp{c}"
        lines += [f"  {name}:", "    params:",
                  f"      n: {{type: integer, default: {draw(st.integers(0, 3))}}}",
                  "      f: {type: frequency, default: 1MHz}", "    children:"]  # fmt: skip
        used: set[str] = set()
        for _ in range(draw(st.integers(1, 4))):
            child = draw(NAMES.filter(lambda n, used=used: n not in used))
            used.add(child)
            kind = draw(st.sampled_from([*LEAVES, *comps] if comps else list(LEAVES)))
            body = LEAVES.get(kind, f"{{type: {kind}, n: '${{n}}'}}")
            if draw(st.booleans()):
                lines.append(f"      {child}[${{n}}]: {body}")
            else:
                lines.append(f"      {child}: {body}")
        comps.append(name)
    for i in range(draw(st.integers(1, 3))):
        lines.append(f"top{i}: {{type: {draw(st.sampled_from(comps))}, "
                     f"n: {draw(st.integers(0, 3))}}}")  # fmt: skip
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(compositions())
def test_random_compositions_build_stably_and_tear_down(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        board = Path(tmp) / "board.yaml"
        board.write_text(text)
        first = qconf.build(qconf.resolve([board]))
        paths = [o.path for o in first.objects()]
        assert len(paths) == len(set(paths))
        second = qconf.build(qconf.resolve([board]))
        assert [o.path for o in second.objects()] == paths  # stable across runs
        objects = list(first.objects())
        refs = [weakref.ref(o) for o in objects]
        first.destroy()
        second.destroy()
        assert {o.state for o in objects} == {State.DESTROYED}
        del objects, first, second
        gc.collect()
        assert [r() for r in refs if r() is not None] == []


def test_the_strategy_makes_nested_replicated_machines() -> None:
    # the property above must see what it claims to: nesting and replication
    text = (
        "type: machine\ncomponents:\n  comp0:\n    params:\n      n: {type: integer, default: 2}\n"
        "      f: {type: frequency, default: 1MHz}\n    children:\n"
        "      a[${n}]: {type: clock, freq: '${f}'}\n"
        "  comp1:\n    params:\n      n: {type: integer, default: 1}\n"
        "      f: {type: frequency, default: 1MHz}\n    children:\n"
        "      core[${n}]: {type: comp0, n: '${n}'}\n"
        "top0: {type: comp1, n: 2}\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        board = Path(tmp) / "board.yaml"
        board.write_text(text)
        m = qconf.build(qconf.resolve([board]))
        assert [o.path for o in m.objects() if isinstance(o, Object)][:6] == [
            "/machine",
            "/machine/top0",
            "/machine/top0/core0",
            "/machine/top0/core0/a0",
            "/machine/top0/core0/a1",
            "/machine/top0/core1",
        ]


pytestmark = pytest.mark.filterwarnings("error")
