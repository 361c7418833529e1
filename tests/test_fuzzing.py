"""Property-based tests: random documents and random --set strings either resolve or fail
with a located qconf error; never another exception."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qconf
from qconf.config.origin import Source
from qconf.config.toml_source import load_toml
from qconf.config.yaml_source import load_yaml
from qconf.errors import QconfError, flatten
from tests.helpers import PROFILES

REGISTRY = qconf.builtin_registry()
TYPES = [t.name for t in REGISTRY]
PROPS = sorted({p for t in REGISTRY for p in t.prop_names})
KEYS = st.sampled_from(["type", "cpu0", "soc", "ram", "uart0", "$delete", "$append", "$replace",
                        "extends", "include", *PROPS])  # fmt: skip
SCALARS = st.one_of(
    st.sampled_from(TYPES),
    st.sampled_from(["1GHz", "128MiB", "0x8000_0000", "10ms", "1.5GHz", "128MB", "true",
                     "riscv-virt", "soc.plic.in[10]", "", "null", "-1", "[", "{"]),
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.none(),
    st.text(max_size=12),
)  # fmt: skip
DOCS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=25,
)
SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])  # fmt: skip


def assert_located(exc: QconfError) -> None:
    for err in flatten(exc):
        assert err.message, err
        assert err.origin is not None or err.path, err.lines()
        assert err.code.startswith("E"), err


def check(files: list[Path]) -> None:
    try:
        qconf.resolve(files)
    except QconfError as exc:
        assert_located(exc)


@SETTINGS
@given(doc=DOCS)
def test_random_yaml_documents(doc):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "board.yaml"
        path.write_text(json.dumps(doc))  # JSON is YAML flow syntax
        check([path])


@SETTINGS
@given(doc=st.dictionaries(KEYS, DOCS, max_size=6), extends=st.booleans())
def test_random_documents_over_a_profile(doc, extends):
    if extends:
        doc = {**doc, "extends": "riscv-virt"}
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "board.yaml"
        path.write_text(json.dumps(doc))
        check([path])


PATHS = st.sampled_from(
    [
        "cpu0.freq",
        "cpu0.isa",
        "cpu0.isa[0]",
        "cpu0.isa[-1]",
        "soc",
        "soc.uart0",
        "soc.uart0.base",
        'soc."a.b"',
        "ram.size",
        "x.y.z",
        "soc.test",
        "type",
        "cpu0.freq.x",
        "a\\.b",
        "soc.plic.num_sources",
    ]
)
OPS = st.sampled_from(["", "+", "++", "~"])
TAILS = st.sampled_from(["=", "+=", "", "=="])
VALUES = st.one_of(
    st.sampled_from(["1GHz", "[i,m]", "{type: ram, base: 0, size: 1K}", "null", "'q'", '"x',
                     "!delete", "!replace {}", "!append [v]", "{a: [", "0x_1", "-1", "[[[]]]",
                     "{$delete: true}", "!!python/object:os.system", "*a", "&a 1", "="]),
    st.text(max_size=10),
)  # fmt: skip


@SETTINGS
@given(sets=st.lists(st.tuples(OPS, PATHS, TAILS, VALUES), min_size=1, max_size=3))
def test_random_set_arguments(sets):
    args = [f"{op}{path}{tail}{value}" if tail else f"{op}{path}" for op, path, tail, value in sets]
    try:
        qconf.resolve([PROFILES / "riscv-virt.yaml"], args)
    except QconfError as exc:
        assert_located(exc)
        for err in flatten(exc):
            if err.code.startswith("E3"):  # errors of the --set stage name the argument
                assert err.origin is not None and err.origin.where().startswith("--set #")


@SETTINGS
@given(text=st.text(max_size=200))
def test_random_yaml_text(text):
    try:
        load_yaml(text, Source("t.yaml"))
    except QconfError as exc:
        assert_located(exc)


@SETTINGS
@given(text=st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#%@`,? \n\t$~<")),
                    max_size=80))  # fmt: skip
def test_random_yaml_syntax_soup(text):
    try:
        load_yaml(text, Source("t.yaml"))
    except QconfError as exc:
        assert_located(exc)


@SETTINGS
@given(text=st.text(alphabet=st.sampled_from(list("ab=[]{}.\"'#$ \n0x_")), max_size=80))
def test_random_toml_text(text):
    try:
        load_toml(text, Source("t.toml"))
    except QconfError as exc:
        assert_located(exc)
