"""``qconf sweep``: Hydra's multirun grammar in ``--set``, the variants' runs and their
rows, the local pool's results against a sequential run, outputs, ``--diff``."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qconf.cli import main
from qconf.errors import OverrideError
from qconf.sweep.executors import Progress, run_jobs
from qconf.sweep.grammar import expand, parse_axis
from qconf.sweep.jobs import EndConditions, run_job
from qconf.sweep.plan import plan
from qconf.sweep.report import progress_line
from tests.helpers import MACHINES, write

TIMER = str(MACHINES / "riscv-timer" / "board.yaml")
TIMER_OUT = b"timer demo: 3 ticks, 10 ms apart\ntick 1\ntick 2\ntick 3\ndone\n"
HETERO = str(MACHINES / "hetero-demo" / "board.toml")


def sweep(*args: str):
    return CliRunner().invoke(main, ["sweep", *args])


# --- the grammar ------------------------------------------------------------------------

VALUES = {
    "choice by commas": ("cpu0.freq=100MHz,1GHz", ("100MHz", "1GHz")),
    "choice()": ("cpu0.freq=choice(100MHz, 1GHz)", ("100MHz", "1GHz")),
    "one choice": ("cpu0.freq=choice(1GHz)", ("1GHz",)),
    "range of sizes": ("ram.size=range(64MiB,257MiB,64MiB)",
                       ("64MiB", "128MiB", "192MiB", "256MiB")),
    "range in mixed units": ("ram.size=range(512KiB,2MiB,512KiB)",
                             ("512KiB", "1MiB", "1536KiB")),
    "range(stop)": ("quantum=range(3)", ("0", "1", "2")),
    "range named": ("quantum=range(start=1000, stop=4000, step=1000)", ("1000", "2000", "3000")),
    "range down": ("quantum=range(3,0,-1)", ("3", "2", "1")),
    "range of decimals": ("x=range(0,1,0.25)", ("0", "0.25", "0.5", "0.75")),
    "range in hex": ("soc.uart0.base=range(0x1000_0000,0x1000_3000,0x1000)",
                     ("0x10000000", "0x10001000", "0x10002000")),
    "range of durations": ("t=range(10ms,30ms,10ms)", ("10ms", "20ms")),
    "lists are values": ("cpu0.isa=[i,m],[i,m,a]", ("[i,m]", "[i,m,a]")),
    "maps are values": ("x={a: 1, b: 2},{a: 3}", ("{a: 1, b: 2}", "{a: 3}")),
    "quoted commas": ("bootargs='console=ttyS0,115200',quiet",
                      ("'console=ttyS0,115200'", "quiet")),
    "escaped comma": ("bootargs=a\\,b,c", ("a,b", "c")),
    "append sweeps": ("cpu0.isa+=zba,zbb", ("zba", "zbb")),
    "add sweeps": ("+soc.uart0.x=1,2", ("1", "2")),
    "no sweep": ("cpu0.freq=1GHz", ("1GHz",)),
}  # fmt: skip


@pytest.mark.parametrize("text, values", VALUES.values(), ids=VALUES.keys())
def test_sweep_values(text, values):
    assert parse_axis(text, 1).values == values


ERRORS = {
    "zero step": ("x=range(1,5,0)", "range() with a step of 0 never ends"),
    "empty range": ("x=range(5,1)",
                    "range() gives no values (stop is not beyond start in the step's direction)"),
    "mixed quantities": ("x=range(1MHz,2MiB)",
                         "range() bounds in different quantities or unknown units (MHz, MiB)"),
    "not a number": ("x=range(a)", "range() stop 'a' is not a number (with a unit)"),
    "positional after named": ("x=range(1,step=2,3)",
                               "range() takes start, stop and step, positional arguments first"),
    "empty value": ("x=a,,b", "an empty value in a sweep (two commas, or a comma at an end)"),
    "continuous": ("x=interval(0,1)", "interval() is a continuous range, which only a search "
                   "can sample; a sweep needs discrete values"),
    "glob": ("x=glob(*)", "glob() is not supported in qconf sweeps"),
    "delete": ("~x=1,2", "~path deletes and takes no values to sweep"),
    "too many": ("x=range(0,1000000)", "range() gives 1000000 values, more than 100000"),
}  # fmt: skip


@pytest.mark.parametrize("text, message", ERRORS.values(), ids=ERRORS.keys())
def test_sweep_errors_are_located(text, message):
    with pytest.raises(OverrideError) as caught:
        expand(["cpu0.freq=1GHz", text])
    err = caught.value
    assert (err.code, err.message) == ("E306", message)
    assert err.lines()[0] == f"--set #2 '{text}': {message} [E306]"


def test_the_product_varies_the_first_sweep_slowest():
    variants = expand(["a=1,2", "quantum=1000", "b=x,y"])
    assert [v.tweaks for v in variants] == [("a=1", "b=x"), ("a=1", "b=y"), ("a=2", "b=x"),
                                            ("a=2", "b=y")]  # fmt: skip
    assert variants[3].sets == ("a=2", "quantum=1000", "b=y")
    assert [v.number for v in variants] == [0, 1, 2, 3]
    assert variants[2].label == "a=2,b=x"
    assert expand(["quantum=1000"])[0].tweaks == ()


# --- runs -------------------------------------------------------------------------------


def test_each_variant_runs_to_the_guests_exit():
    made = plan([TIMER], ["cpu0.freq=100MHz,1GHz"], [], EndConditions())
    rows = [run_job(job) for job in made.jobs]
    assert [r.exit for r in rows] == [0, 0]
    assert all(r.reason == "soc.test: guest powered off (pass)" for r in rows)
    digest = hashlib.sha256(TIMER_OUT).hexdigest()
    assert [r.console_sha256 for r in rows] == [digest, digest]
    assert rows[0].console_tail == ["tick 2", "tick 3", "done"]
    # three ticks 10 ms apart whatever the clock (the hart sleeps in wfi between them):
    # the same instructions, which take ten times longer at 100 MHz
    assert rows[0].instructions == rows[1].instructions > 0
    assert 30_000_000 < rows[1].virtual_ns < rows[0].virtual_ns < 30_010_000
    assert rows[0].config != rows[1].config


def test_expects_send_and_end_a_variant(tmp_path):
    end = EndConditions(expects=("tick 1", "tick 2"))
    (job,) = plan([TIMER], [], [], end).jobs
    row = run_job(job)
    assert (row.exit, row.reason, row.ok, row.matched, row.expected) == (
        0, "matched 'tick 2'", True, 2, 2)  # fmt: skip
    assert row.console_sha256 == hashlib.sha256(TIMER_OUT[: TIMER_OUT.index(b"tick 2") + 6]
                                                ).hexdigest()  # fmt: skip
    # typed text reaches the guest: the echo guest prints it back
    echo = str(MACHINES / "riscv-echo" / "board.yaml")
    end = EndConditions(expects=("q quits", "hello", "bye"), sends=("hello\\n", "q"))
    (job,) = plan([echo], [], [], end).jobs
    row = run_job(job)
    assert (row.exit, row.matched, row.console_tail) == (0, 3, ["echo: type, q quits", "hello",
                                                                "bye"])  # fmt: skip


def test_limits_end_a_spinning_guest_deterministically(tmp_path):
    (tmp_path / "spin.bin").write_bytes(bytes.fromhex("6f000000"))  # j .  (forever)
    board = write(tmp_path, "board.yaml", "extends: riscv-virt\ncpu0:\n  firmware: spin.bin\n")
    (job,) = plan([str(board)], [], [], EndConditions(max_time_ns=5_000_000)).jobs
    row = run_job(job)
    assert (row.exit, row.virtual_ns, row.reason) == (
        124, 5_000_000, "stopped at 5 ms of virtual time (--max-time)")  # fmt: skip
    assert row.instructions == 5_000_000  # 1 GHz, one instruction a ns
    (job,) = plan([str(board)], [], [], EndConditions(max_insns=100_000)).jobs
    row = run_job(job)
    assert row.exit == 124 and 100_000 <= row.instructions < 100_010


def test_the_local_pool_gives_the_rows_of_a_sequential_run():
    made = plan([HETERO], ["mcu.cpu0.freq=84MHz,168MHz", "app.cpu0.freq=500MHz,1GHz"], [],
                EndConditions())  # fmt: skip
    sequential = [run_job(job) for job in made.jobs]
    seen = []
    progress = Progress(len(made.jobs), lambda p: seen.append((p.finished, p.running)))
    pooled = run_jobs(made.jobs, made.images, "local", 2, progress=progress)
    assert [r.same_run() for r in pooled] == [r.same_run() for r in sequential]
    assert [r.variant for r in pooled] == [0, 1, 2, 3]
    assert seen[0] == (0, 2) and seen[-1] == (4, 0)  # two at once, all finished
    assert all(r.ok and r.console_tail[-1] == "app: done" for r in pooled)


def test_images_come_by_digest_when_the_disk_is_not_shared(tmp_path, monkeypatch):
    """A worker that fetches the images (as a Ray worker does) runs the same variant, and
    fetches each image once."""
    import qconf.sweep.jobs

    monkeypatch.setattr(qconf.sweep.jobs, "_FOLDER", [tmp_path])
    fetched = []
    (job,) = plan([HETERO], [], [], EndConditions()).jobs

    def fetch(digest: str) -> bytes:
        fetched.append(digest)
        return Path(next(p for p, d in job.images.items() if d == digest)).read_bytes()

    assert run_job(job, fetch).same_run() == run_job(job).same_run()
    assert run_job(job, fetch).same_run() == run_job(job).same_run()
    assert sorted(fetched) == sorted(job.images.values())  # two images, once each
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        d.removeprefix("sha256:") for d in job.images.values())  # fmt: skip
    # bytes that are not the image's are refused
    monkeypatch.setattr(qconf.sweep.jobs, "_FOLDER", [tmp_path / "empty"])
    (tmp_path / "empty").mkdir()
    row = run_job(job, lambda digest: b"not the image")
    assert row.exit == 1 and row.reason.startswith("qconf: error: the bytes fetched for ")


# --- the command ------------------------------------------------------------------------


def test_sweep_prints_a_table_and_writes_jsonl_and_csv(tmp_path):
    out = tmp_path / "rows.jsonl"
    r = sweep("-c", TIMER, "--set", "cpu0.freq=100MHz,1GHz", "-j", "2", "-o", str(out))
    assert r.exit_code == 0, r.output
    header, *lines = r.stdout.splitlines()
    assert header.split() == ["#", "tweaks", "exit", "instructions", "virtual", "ms", "wall",
                              "s", "expects", "console", "last", "line"]  # fmt: skip
    assert [line.split()[:3] for line in lines] == [["0", "cpu0.freq=100MHz", "0"],
                                                    ["1", "cpu0.freq=1GHz", "0"]]  # fmt: skip
    assert lines[0].endswith("done")
    assert r.stderr.startswith("qconf: 2 variants: 2 passed, 0 failed (")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["tweaks"] for row in rows] == [["cpu0.freq=100MHz"], ["cpu0.freq=1GHz"]]
    assert rows[1]["console_sha256"] == hashlib.sha256(TIMER_OUT).hexdigest()
    r = sweep("-c", TIMER, "--set", "cpu0.freq=100MHz,1GHz", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [(t["variant"], t["tweaks"], t["exit"], t["ok"]) for t in table] == [
        ("0", "cpu0.freq=100MHz", "0", "True"), ("1", "cpu0.freq=1GHz", "0", "True")]  # fmt: skip
    assert table[0]["console_tail"] == "tick 2 | tick 3 | done"


def test_a_variant_that_does_not_build_fails_its_row_only():
    r = sweep("-c", TIMER, "--set", "cpu0.freq=1GHz,fast", "--format", "jsonl")
    assert r.exit_code == 1
    good, bad = (json.loads(line) for line in r.stdout.splitlines())
    assert (good["exit"], good["ok"]) == (0, True)
    assert (bad["exit"], bad["ok"], bad["instructions"]) == (1, False, 0)
    assert bad["reason"].startswith("qconf: error: --set #1 'cpu0.freq=fast': cpu0.freq: ")
    assert bad["reason"].endswith("[E405]")
    assert r.stderr.startswith("qconf: 2 variants: 1 passed, 1 failed")
    # when no variant builds, the machine is at fault: its error, no table
    r = sweep("-c", "nothere.yaml", "--set", "cpu0.freq=1GHz,2GHz")
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.splitlines()[0] == "qconf: error: nothere.yaml: no such file [E101]"
    assert "Traceback" not in r.output


def test_expects_not_all_matched_fail_the_variant():
    r = sweep("-c", TIMER, "--expect", "tick 1", "--expect", "tick 9", "--format", "jsonl")
    assert r.exit_code == 1
    row = json.loads(r.stdout)
    assert (row["exit"], row["ok"], row["matched"], row["expected"]) == (0, False, 1, 2)


def test_list_and_diff_do_not_run():
    r = sweep("-c", TIMER, "--set", "cpu0.freq=100MHz,1GHz", "--set", "ram.size=64MiB,128MiB",
              "--list")  # fmt: skip
    assert (r.exit_code, r.stdout) == (0, (
        "0  cpu0.freq=100MHz ram.size=64MiB\n1  cpu0.freq=100MHz ram.size=128MiB\n"
        "2  cpu0.freq=1GHz ram.size=64MiB\n3  cpu0.freq=1GHz ram.size=128MiB\n"))  # fmt: skip
    r = sweep("-c", TIMER, "--set", "cpu0.freq=100MHz,1GHz", "--set", "ram.size=64MiB,128MiB",
              "--diff", "0", "3")  # fmt: skip
    assert r.exit_code == 1
    assert r.stdout.splitlines() == [
        "--- variant 0: cpu0.freq=100MHz ram.size=64MiB",
        "+++ variant 3: cpu0.freq=1GHz ram.size=128MiB",
        "~ cpu0.freq: 100MHz -> 1GHz",
        "    left:  --set #1 'cpu0.freq=100MHz'",
        "    right: --set #1 'cpu0.freq=1GHz'",
        "~ ram.size: 64MiB -> 128MiB",
        "    left:  --set #2 'ram.size=64MiB'",
        "    right: --set #2 'ram.size=128MiB'",
        "2 differences",
    ]
    assert r.stderr == (f"(the same as: qconf diff {TIMER} {TIMER} --set-left "
                        "cpu0.freq=100MHz --set-left ram.size=64MiB --set cpu0.freq=1GHz --set "
                        "ram.size=128MiB)\n")  # fmt: skip
    r = sweep("-c", TIMER, "--set", "cpu0.freq=100MHz,1GHz", "--diff", "0", "2")
    assert r.exit_code == 2 and "variant 2 is not in 0..1" in r.stderr


def test_usage_and_grammar_errors():
    r = sweep("-c", TIMER, "--send", "x")
    assert r.exit_code == 2 and "more --send (1) than --expect (0)" in r.stderr
    r = sweep("-c", TIMER, "--max-time", "5 parsecs")
    assert r.exit_code == 2 and "unknown duration unit" in r.stderr
    r = sweep("-c", TIMER, "--set", "cpu0.freq=range(1GHz,1MHz)")
    assert r.exit_code == 1
    assert r.stderr.startswith("qconf: error: --set #1 'cpu0.freq=range(1GHz,1MHz)': range() "
                               "gives no values")  # fmt: skip
    r = sweep("-c", TIMER, "--address", "auto")
    assert r.exit_code == 2 and "--address is for --executor ray" in r.stderr


def test_ray_missing_is_a_located_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    r = sweep("-c", TIMER, "--executor", "ray")
    assert r.exit_code == 1
    assert r.stderr.splitlines()[:2] == [
        "qconf: error: the ray executor needs Ray, which is not installed [E915]",
        "  hint: pip install 'qconf[ray]' (or pip install ray)",
    ]


def test_progress_line():
    progress = Progress(16, finished=7, failed=1, running=2)
    assert progress_line(progress) == (
        "[##########..............] 7/16 finished, 1 failed, 2 running"
    )
