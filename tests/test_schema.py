"""The JSON Schema made over a machine (qconf schema -c) checks ordinary override files:
objects without type: are known, typos and bad units are flagged."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from qconf.cli import main
from tests.helpers import MACHINES, REPO, write


def schema_over(*args: str) -> tuple[dict[str, Any], str]:
    r = CliRunner().invoke(main, ["schema", *args])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout), r.stderr


def errors(schema: dict[str, Any], data: Any) -> list[tuple[str, str]]:
    validator = jsonschema.Draft202012Validator(schema)
    found = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
    return [(".".join(map(str, e.path)), e.message) for e in found]


def load(path: Path) -> Any:
    text = path.read_text()
    return tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)


def test_a_typical_override_file_is_checked() -> None:
    schema, _ = schema_over("-c", "riscv-virt")
    data = yaml.safe_load("extends: riscv-virt\ncpu0: {freq: 1GHzz, hartd: 3}\n")
    found = errors(schema, data)
    assert ("cpu0", "Additional properties are not allowed ('hartd' was unexpected)") in found
    assert [path for path, _ in found] == ["cpu0", "cpu0.freq"]
    assert errors(schema, {"sco": {"uart0": {"base": 1}}}) == [
        ("", "Additional properties are not allowed ('sco' was unexpected)")
    ]
    assert errors(schema, {"soc": {"uart0": {"reg_shift": 0, "bsae": 1}}}) == [
        ("soc.uart0", "Additional properties are not allowed ('bsae' was unexpected)")
    ]


def test_what_qconf_accepts_the_schema_accepts() -> None:
    schema, _ = schema_over("-c", "riscv-virt")
    readme = (REPO / "README.md").read_text()
    board = readme[readme.index("extends: riscv-virt\ncpu0:") :].split("```")[0]
    assert errors(schema, yaml.safe_load(board.replace("!delete", ""))) == []
    ok = {
        "cpu0": {"isa": {"$append": ["zbkb"]}, "freq": "500MHz", "hartid": 0},
        "soc": {"test": {"$delete": True}, "uart0": {"$replace": True, "base": 1},
                "uart2": {"type": "pl011", "base": "0x1000_0200"}},
        "ram": {"type": "ram", "base": 0, "size": "1GiB"},  # the type restated
        "description": "x",
    }  # fmt: skip
    assert errors(schema, ok) == []
    # a new object needs its type; a restated type is checked as that type
    assert errors(schema, {"soc": {"uart2": {"base": 1}}}) != []
    assert errors(schema, {"ram": {"type": "rom", "fiel": "x"}}) != []


@pytest.mark.parametrize("board", sorted(p for p in MACHINES.glob("*/board.*")),
                         ids=lambda p: p.parent.name)  # fmt: skip
def test_every_example_board_fits_the_schema_of_what_it_extends(board: Path) -> None:
    data = load(board)
    below = data.get("extends")
    if not isinstance(below, str) or "/" in below:
        pytest.skip("extends no profile by name")
    schema, _ = schema_over("-c", below)
    assert errors(schema, data) == []
    own, _ = schema_over("-c", str(board))
    assert errors(own, data) == []


def test_a_board_that_does_not_resolve_gets_the_schema_of_what_it_extends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "board.yaml", "extends: riscv-virt\ncpu0: {hartd: 3}\n")
    schema, said = schema_over("-c", "board.yaml")
    assert said == (
        "qconf: board.yaml does not resolve (1 error: qconf validate shows them); the schema "
        "is made over what it extends\n"
    )
    assert errors(schema, {"cpu0": {"hartd": 3}}) != []
    r = CliRunner().invoke(main, ["schema", "-c", "riscv-virt", "--type", "ram"])
    assert r.exit_code == 2
