"""Hostile input, generated: documents (YAML and TOML: random structure and values, huge
numbers, deep nesting, odd keys, tags, anchors) and ``--set`` strings either resolve and
build, or fail with a QconfError located at file:line:col or at the ``--set`` argument;
never another exception, never a hang.

A few seconds in CI; ``QCONF_FUZZ_EXAMPLES=5000`` hunts harder.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qconf
from qconf.assembly.builder import build
from qconf.errors import QconfError, flatten
from tests.helpers import PROFILES

EXAMPLES = int(os.environ.get("QCONF_FUZZ_EXAMPLES", "60"))
SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large]
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=SLOW)
SECONDS = 20  # per example: a hang fails the test instead of holding the suite

FILE_LEVEL = {"E101", "E109", "E110"}
"""Errors about a file as a whole (unreadable, too large): the file is their place."""


@contextmanager
def bounded() -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"an example ran longer than {SECONDS} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def assert_located(exc: QconfError) -> None:
    for err in flatten(exc):
        assert err.code.startswith("E") and err.message, err
        origin = err.origin
        assert origin is not None, f"no location: {err}"
        where = origin.where()
        if origin.source.name.startswith("--set #"):
            continue
        assert origin.line > 0 or err.code in FILE_LEVEL, f"no line: {where}: {err}"


def resolve_and_build(files: list[Path], sets: list[str] = ()) -> None:  # type: ignore[assignment]
    with bounded():
        try:
            build(qconf.resolve(files, sets))
        except QconfError as exc:
            assert_located(exc)


# --- values and keys ----------------------------------------------------------------------

REGISTRY = qconf.builtin_registry()
TYPES = sorted(t.name for t in REGISTRY)
PROPS = sorted({p for t in REGISTRY for p in t.prop_names})
HUGE = st.integers(4290, 6000).map(lambda n: "9" * n)
NUMBER_TEXT = st.one_of(
    HUGE,
    st.sampled_from(["0x", "0x_1", "1__0", "1_", "-0", "+0x10", "0b102", "0o8", "1e999", "nan",
                     "inf", "-inf", "1.5GHz", "0.1Hz", "1KB", "1KiB", "-1KiB", "9" * 23 + "GiB",
                     "0x" + "f" * 40, "１２", "²", "٣"]),
)  # fmt: skip
ODD_KEYS = st.one_of(
    st.sampled_from(["", " ", "a.b", "a[0]", "$x", "$delete", "<<", "~", "null", "true", "1",
                     "type", "extends", "include", "components", "\u202e", "a\nb", "k" * 300,
                     "é", "🙂", "-", "a b", "'q'", '"q"', "[", "{", "#"]),
    st.text(max_size=6),
)  # fmt: skip
KEYS = st.one_of(st.sampled_from(["cpu0", "soc", "ram", "uart0", "x", *PROPS]), ODD_KEYS)
SCALARS = st.one_of(
    st.sampled_from(TYPES),
    NUMBER_TEXT,
    st.integers(-(2**80), 2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["soc.plic.in[10]", "soc.plic.in[99999999999]", "cpu0", "/machine", "stdio",
                     "unix:/nonexistent/x", "tcp:127.0.0.1:99999", "riscv-virt", "${1 << 9999}",
                     "${harts}", "[", "{", "*", "&", "!"]),
)  # fmt: skip


def documents(depth: int = 3) -> st.SearchStrategy[Any]:
    return st.recursive(
        SCALARS,
        lambda inner: st.one_of(st.lists(inner, max_size=4),
                                st.dictionaries(KEYS, inner, max_size=5)),
        max_leaves=30,
    )  # fmt: skip


OBJECTS = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES)},
    optional={p: SCALARS for p in ["base", "size", "freq", "irq", "chardev", "file", "clock",
                                   "harts", "isa", "reset_vector", "num_sources", "firmware"]},
)  # fmt: skip
MACHINES = st.fixed_dictionaries(
    {},
    optional={"extends": st.sampled_from(["riscv-virt", "mps2-an385", "arm64-virt", "nope"]),
              "soc": st.dictionaries(KEYS, st.one_of(OBJECTS, documents()), max_size=3),
              "cpu0": st.one_of(OBJECTS, documents()),
              "ram": st.one_of(OBJECTS, documents()),
              "quantum": SCALARS, "description": SCALARS,
              "extra": st.dictionaries(KEYS, st.one_of(OBJECTS, documents()), max_size=3)},
)  # fmt: skip


def deep(depth: int) -> Any:
    doc: Any = "leaf"
    for _ in range(depth):
        doc = {"k": doc}
    return doc


# --- documents ---------------------------------------------------------------------------


def yaml_text(doc: Any, style: int) -> str:
    if style == 0:
        return json.dumps(doc, allow_nan=True)  # JSON is YAML flow syntax
    import yaml

    text = yaml.safe_dump(doc, default_flow_style=style == 2, allow_unicode=True)
    return str(text)


def toml_text(doc: Any) -> str | None:
    def clean(v: Any) -> Any:  # TOML has no null and only string keys
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items() if x is not None}
        if isinstance(v, list):
            return [clean(x) for x in v if x is not None]
        return v

    try:
        return str(tomlkit.dumps(clean(doc) if isinstance(doc, dict) else {"v": clean(doc)}))
    except (ValueError, TypeError, tomlkit.exceptions.TOMLKitError):
        return None


@FUZZ
@given(doc=MACHINES, style=st.integers(0, 2))
def test_random_yaml_machines(doc: Any, style: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "board.yaml"
        path.write_text(yaml_text(doc, style), encoding="utf-8")
        resolve_and_build([path])


@FUZZ
@given(doc=MACHINES)
def test_random_toml_machines(doc: Any) -> None:
    text = toml_text(doc)
    if text is None:
        return
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "board.toml"
        path.write_text(text, encoding="utf-8")
        resolve_and_build([path])


SNIPPETS = st.sampled_from([
    "a: &x [1, 2]\nb: *x\n", "<<: {type: machine}\n", "type: !replace {}\n", "x: !!int 1\n",
    "!delete k: 1\n", "k: !!python/object:os.system x\n", "? [a]\n: b\n", "k: |\n  text\n",
    "k: 0x" + "f" * 5000 + "\n", "k: " + "9" * 5000 + "\n", "k: {a: 1, a: 2}\n",
    "include: " + "a" * 300 + ".yaml\n", "extends: " + "b" * 300 + "\n", "include: /dev/zero\n",
    "include: {path: x.yaml, at: '[0]'}\n", "extends: [riscv-virt, riscv-virt]\n",
    "components: {c: {children: {'x[100000]': {type: c}}}}\nt: {type: c}\n",
    "k: '\\x00'\n", "k: \"\\u0000\"\n", "'': 1\n", "k:\n\t- 1\n", "---\n---\n",
    "k: [" * 120 + "]" * 120 + "\n",
])  # fmt: skip


@FUZZ
@given(parts=st.lists(SNIPPETS, min_size=1, max_size=3), doc=MACHINES)
def test_yaml_snippets_on_machines(parts: list[str], doc: Any) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "board.yaml"
        path.write_text(yaml_text(doc, 1) + "".join(parts), encoding="utf-8")
        resolve_and_build([path])


@settings(FUZZ, max_examples=max(EXAMPLES // 4, 5))
@given(depth=st.integers(80, 140), fmt=st.sampled_from(["yaml", "toml"]))
def test_deep_nesting(depth: int, fmt: str) -> None:
    doc = {"type": "machine", "x": deep(depth)}
    text = yaml_text(doc, 0) if fmt == "yaml" else toml_text(doc)
    assert text is not None
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"board.{fmt}"
        path.write_text(text, encoding="utf-8")
        resolve_and_build([path])


# --- --set strings ------------------------------------------------------------------------

NAMES = st.one_of(
    st.sampled_from(["cpu0", "freq", "isa", "soc", "uart0", "base", "ram", "size", "test",
                     "plic", "x", '"a.b"', "'q'", "a\\.b", "$delete", "é"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=4),
)  # fmt: skip
INDICES = st.one_of(
    st.integers(-20, 20).map(lambda i: f"[{i}]"),
    st.sampled_from(["[²]", "[--1]", "[+1]", "[ 1 ]", "[]", "[", "[1e3]", "[٣]",
                     "[" + "9" * 5000 + "]", "[0x1]"]),
)  # fmt: skip
PATHS = st.lists(st.one_of(NAMES, INDICES), min_size=1, max_size=5).map(
    lambda parts: ".".join(parts).replace(".[", "[")
)
VALUES = st.one_of(
    SCALARS.map(lambda v: json.dumps(v) if not isinstance(v, str) else v),
    NUMBER_TEXT,
    st.sampled_from(["[i, m]", "{type: ram, base: 0, size: 1K}", "!delete", "!replace {}",
                     "!append [v]", "{a: [", "'", '"', "[[[]]]", "{$delete: true}", "*a",
                     "&a 1", "!!python/object:os.system", "{type: ns16550a, base: 0x1000_0000}"]),
)  # fmt: skip
SETS = st.tuples(st.sampled_from(["", "+", "++", "~"]), PATHS,
                 st.sampled_from(["=", "+=", "", "=="]), VALUES)  # fmt: skip


@FUZZ
@given(sets=st.lists(SETS, min_size=1, max_size=3),
       profile=st.sampled_from(["riscv-virt", "mps2-an385", "hetero-soc"]))  # fmt: skip
def test_random_set_strings(sets: list[tuple[str, str, str, str]], profile: str) -> None:
    args = [f"{op}{path}{tail}{value}" if tail else f"{op}{path}" for op, path, tail, value in sets]
    resolve_and_build([PROFILES / f"{profile}.yaml"], args)


# --- tweaks that reach the start of a run -------------------------------------------------

HELLO = str(PROFILES.parent.parent / "machines" / "guests" / "riscv" / "hello.elf")
TWEAKS = {
    "ram.size": ["4KiB", "64GiB", "1048576TiB", "0", "0x1001", "128MiB"],
    "ram.base": ["0", "0x1000", "0x80000000", "0xffffffffffff0000", "0x10000000"],
    "cpu0.firmware": [HELLO, "/dev/zero", "/nonexistent", "/etc/hostname", "/tmp"],
    "device_tree": ["auto", "none"],
    "soc.uart0.chardev": ["null", "memory", "file:/nonexistent/x", "unix:/nonexistent/s",
                          "tcp:127.0.0.1:1", "tcp:256.1.1.1:5", "unix:" + "a" * 200],
    "mrom.size": ["0", "4KiB", "1MiB"],
    "cpu0.reset_vector": ["0", "0xffffffffffffffff"],
    "quantum": ["1", "0"],
}  # fmt: skip
TWEAK = st.one_of(
    st.sampled_from(["~ram", "~cpu0", "~mrom", "~soc.test"]),
    st.sampled_from(sorted(TWEAKS)).flatmap(
        lambda key: st.sampled_from(TWEAKS[key]).map(lambda v: f"++{key}={v}")
    ),
)


@settings(FUZZ, max_examples=max(EXAMPLES // 3, 10))
@given(sets=st.lists(TWEAK, min_size=1, max_size=4, unique=True),
       profile=st.sampled_from(["riscv-virt", "arm64-virt", "mps2-an385"]))  # fmt: skip
def test_random_tweaks_start_or_fail_located(sets: list[str], profile: str) -> None:
    from qconf.emu.emulator import Emulator

    with bounded():
        try:
            emulator = Emulator(build(qconf.resolve([PROFILES / f"{profile}.yaml"], sets)))
            try:
                emulator.prepare()
            finally:
                emulator.close()
        except QconfError as exc:
            assert_located(exc)
