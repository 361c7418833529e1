"""The CLI through click's CliRunner: output, exit codes, error format."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qconf.cli import main
from tests.helpers import MACHINES, REPO

RISCV_DEMO = str(MACHINES / "riscv-demo" / "board.yaml")
HETERO_DEMO = str(MACHINES / "hetero-demo" / "board.toml")


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(REPO)  # origins print relative to the working directory


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_resolve_yaml_with_origins():
    r = run("resolve", "-c", RISCV_DEMO, "--set", "cpu0.freq=1GHz", "--show-origin")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "  freq: 1GHz  # --set #1 'cpu0.freq=1GHz'" in lines
    assert "  size: 256MiB  # machines/riscv-demo/board.yaml:13:9" in lines
    assert "  hartid: 0  # <qconf>/profiles/riscv-virt.yaml:14:11" in lines
    assert "    reg_shift: 0  # default of ns16550a" in lines


def test_resolve_json_is_canonical():
    r = run("resolve", "-c", RISCV_DEMO, "--format", "json")
    data = json.loads(r.stdout)
    assert data["cpu0"]["freq"] == 500_000_000
    assert data["ram"]["base"] == 0x8000_0000
    assert data["soc"]["uart1"]["irq"] == "soc.plic.in[12]"


def test_resolve_json_with_origins():
    r = run("resolve", "-c", RISCV_DEMO, "--format", "json", "--show-origin")
    data = json.loads(r.stdout)
    assert data["origins"]["cpu0.freq"]["where"] == "machines/riscv-demo/board.yaml:9:9"
    assert data["origins"]["cpu0.freq"]["layer"] == "file machines/riscv-demo/board.yaml"


def test_resolve_toml():
    r = run("resolve", "-c", HETERO_DEMO, "--format", "toml")
    assert r.exit_code == 0
    assert '[mcu.cpu0]\ntype = "cortex-m4"\nfreq = "168MHz"' in r.stdout


def test_validate_ok_and_error():
    r = run("validate", "-c", RISCV_DEMO)
    assert r.exit_code == 0
    assert r.stdout == "ok: 19 objects, 2 layers, 7 regions in 1 address space, 2 interrupt wires\n"
    r = run("validate", "-c", RISCV_DEMO, "--set", "cpu0.freq=fast")
    assert r.exit_code == 1
    assert r.stderr.startswith(
        "qconf: error: --set #1 'cpu0.freq=fast': cpu0.freq: expected a frequency"
    )
    assert "Traceback" not in r.stderr


def test_usage_error_exits_2():
    r = run("resolve", "--format", "xml")
    assert r.exit_code == 2
    r = run("frobnicate")
    assert r.exit_code == 2


def test_debug_shows_traceback(monkeypatch):
    monkeypatch.setenv("QCONF_DEBUG", "1")
    r = run("validate", "-c", RISCV_DEMO, "--set", "cpu0.frq=1")
    assert r.exit_code == 1
    assert r.exception is not None and type(r.exception).__name__ == "OverrideError"


def test_explain_chain():
    r = run("explain", "-c", RISCV_DEMO, "--set", "cpu0.freq=2GHz", "cpu0.freq")
    assert r.exit_code == 0
    out = r.stdout.splitlines()
    assert out[0] == "cpu0.freq = 2GHz  (riscv64.freq, Hz)"
    assert "--set #1 'cpu0.freq=2GHz'  [--set #1]  <- wins" in out[2]
    assert "500MHz" in out[3] and "machines/riscv-demo/board.yaml:9:9" in out[3]
    assert "1GHz" in out[4] and "<qconf>/profiles/riscv-virt.yaml:13:9" in out[4]
    assert "default of riscv64  [type defaults]" in out[5]


def test_explain_object_and_json():
    r = run("explain", "-c", RISCV_DEMO, "soc.uart1")
    assert r.stdout.splitlines()[0] == (
        "soc.uart1: object of type ns16550a (defined at machines/riscv-demo/board.yaml:16:3)"
    )
    r = run("explain", "-c", RISCV_DEMO, "ram.size", "--format", "json")
    data = json.loads(r.stdout)
    assert data["value"] == 256 * 2**20
    assert [s["where"] for s in data["chain"]] == [
        "machines/riscv-demo/board.yaml:13:9",
        "<qconf>/profiles/riscv-virt.yaml:27:9",
    ]


def test_explain_unknown_path():
    r = run("explain", "-c", RISCV_DEMO, "soc.uart3")
    assert r.exit_code == 1
    assert "qconf: error: soc.uart3: no key 'uart3' in soc [E305]" in r.stderr
    assert "did you mean 'soc.uart1' or 'soc.uart0' or 'soc.uart_irq'?" in r.stderr


def test_diff_board_against_profile():
    r = run("diff", "riscv-virt", RISCV_DEMO)
    assert r.exit_code == 1
    out = r.stdout
    assert (
        "~ cpu0.freq: 1GHz -> 500MHz\n    left:  <qconf>/profiles/riscv-virt.yaml:13:9\n"
        "    right: machines/riscv-demo/board.yaml:9:9" in out
    )
    assert "+ soc.uart1: ns16550a  (machines/riscv-demo/board.yaml:16:3)" in out
    assert "~ cpu0.firmware: null -> machines/guests/riscv/hello.elf" in out
    assert out.rstrip().endswith("5 differences")


def test_diff_units_are_semantic(tmp_path):
    r = run("diff", RISCV_DEMO, RISCV_DEMO, "--set", "cpu0.freq=0.5GHz")
    assert (r.exit_code, r.stdout) == (0, "no differences\n")
    r = run("diff", RISCV_DEMO, RISCV_DEMO, "--set-left", "cpu0.freq=500000kHz")
    assert r.exit_code == 0


def test_diff_saved_dump_and_json(tmp_path):
    dump = tmp_path / "old.yaml"
    assert run("resolve", "-c", RISCV_DEMO, "-o", str(dump)).exit_code == 0
    r = run("diff", str(dump), RISCV_DEMO)
    assert (r.exit_code, r.stdout) == (0, "no differences\n")
    r = run("diff", str(dump), RISCV_DEMO, "--set", "~soc.uart1", "--format", "json")
    assert r.exit_code == 1
    data = json.loads(r.stdout)
    assert data["equal"] is False
    assert data["changes"][0]["kind"] == "removed"
    assert data["changes"][0]["path"] == "soc.uart1"


def test_diff_error_exits_2():
    r = run("diff", RISCV_DEMO, "nothere.yaml")
    assert r.exit_code == 2
    assert "qconf: error: nothere.yaml: no such file" in r.stderr


def test_types_and_schema():
    r = run("types")
    assert r.exit_code == 0
    assert "  riscv64              A 64-bit RISC-V hart (RV64)." in r.stdout
    r = run("types", "riscv64")
    assert "freq          frequency (Hz)" in r.stdout and "default 1GHz" in r.stdout
    r = run("types", "riscv6")
    assert r.exit_code == 1 and "did you mean 'riscv64'" in r.stderr
    schema = json.loads(run("schema").stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "riscv64" in schema["$defs"]
    freq = schema["$defs"]["riscv64"]["properties"]["freq"]
    assert freq["else"]["x-unit"] == "Hz"
    one = json.loads(run("schema", "--type", "ns16550a").stdout)
    assert one["properties"]["type"] == {"const": "ns16550a", "description": "The object's type."}


def test_schema_validates_examples():
    import tomllib
    from pathlib import Path

    import jsonschema
    import yaml

    # as an editor sees the files: YAML and TOML typed by their own rules
    schema = json.loads(run("schema").stdout)
    files = [RISCV_DEMO, HETERO_DEMO, *map(str, (REPO / "qconf" / "profiles").glob("*.yaml"))]
    for f in files:
        text = Path(f).read_text()
        data = tomllib.loads(text) if f.endswith(".toml") else yaml.safe_load(text)
        jsonschema.validate(data, schema)
    bad = yaml.safe_load("extends: riscv-virt\ncpu0: {type: riscv64, freq: fast}\n")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_profiles_listing():
    r = run("profiles")
    names = [line.split()[0] for line in r.stdout.splitlines()]
    assert names == ["arm64-virt", "hetero-soc", "mps2-an385", "riscv-virt"]


def test_profile_name_as_config():
    r = run("validate", "-c", "mps2-an385")
    assert r.exit_code == 0
