"""``qconf sweep --executor ray`` on a local Ray cluster (two CPUs on this machine): the same
rows as the local pool, with the images from Ray's object store rather than the disk.
Needs ``pip install 'qconf[ray]'`` (in ``.ci/run``)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from qconf.cli import main
from qconf.sweep.executors import run_jobs
from qconf.sweep.jobs import EndConditions, run_job
from qconf.sweep.plan import plan
from tests.external import require_file, require_module
from tests.helpers import MACHINES, write

OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin"
UBOOT = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    """A local Ray cluster for this module's tests (started once: about 10 s)."""
    require_module("ray", "pip install 'qconf[ray]'")
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             logging_level="ERROR")  # fmt: skip
    yield
    ray.shutdown()


def test_ray_rows_equal_the_local_pools(cluster, tmp_path):
    """U-Boot at two RAM sizes to its prompt, and the heterogeneous demo at two MCU clocks,
    on Ray: the same rows as on the local pool and as one by one (wall time aside)."""
    require_file(OPENSBI, "opensbi")
    require_file(UBOOT, "u-boot-qemu")
    end = EndConditions(expects=("Hit any key", "=> "), sends=("\\n",))
    uboot = plan([str(MACHINES / "uboot-riscv" / "board.yaml")], ["ram.size=128MiB,256MiB"],
                 [], end)  # fmt: skip
    hetero = plan([str(MACHINES / "hetero-demo" / "board.toml")],
                  ["mcu.cpu0.freq=84MHz,168MHz"], [], EndConditions())  # fmt: skip
    for made in (uboot, hetero):
        on_ray = run_jobs(made.jobs, made.images, "ray")
        pooled = run_jobs(made.jobs, made.images, "local", 2)
        alone = [run_job(job) for job in made.jobs]
        assert [r.same_run() for r in on_ray] == [r.same_run() for r in pooled]
        assert [r.same_run() for r in on_ray] == [r.same_run() for r in alone]
        assert all(r.ok for r in on_ray)
    assert [r.console_tail[-1] for r in on_ray] == ["app: done", "app: done"]
    rows = run_jobs(uboot.jobs, uboot.images, "ray")
    assert rows[0].console_sha256 != rows[1].console_sha256  # DRAM: 128 MiB, 256 MiB


def test_workers_get_the_firmware_from_the_object_store(cluster, tmp_path):
    """The machine names files that no worker has (moved away after the plan): the rows
    are those of the run where the files were."""
    shipped = tmp_path / "driver-only"
    shipped.mkdir()
    for name in ("app.elf", "mcu.elf"):
        shutil.copy(MACHINES / "guests" / "hetero" / name, shipped / name)
    board = write(shipped, "board.toml", (MACHINES / "hetero-demo" / "board.toml").read_text()
                  .replace("../guests/hetero/", ""))  # fmt: skip
    made = plan([str(board)], ["app.cpu0.freq=500MHz,1GHz"], [], EndConditions())
    where_it_was = [run_job(job).same_run() for job in made.jobs]
    moved = tmp_path / "elsewhere"
    shipped.rename(moved)  # the paths in the jobs lead nowhere now
    images = {digest: str(moved / Path(path).name) for digest, path in made.images.items()}
    rows = run_jobs(made.jobs, images, "ray")
    assert [r.same_run() for r in rows] == where_it_was
    assert all(r.ok for r in rows)


def test_sweep_command_on_ray(cluster, tmp_path):
    out = tmp_path / "rows.jsonl"
    r = CliRunner().invoke(main, ["sweep", "-c", str(MACHINES / "riscv-timer" / "board.yaml"),
                                  "--set", "cpu0.freq=range(100MHz,400MHz,100MHz)",
                                  "--executor", "ray", "-o", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["tweaks"] for row in rows] == [["cpu0.freq=100MHz"], ["cpu0.freq=200MHz"],
                                               ["cpu0.freq=300MHz"]]  # fmt: skip
    local = CliRunner().invoke(main, ["sweep", "-c", str(MACHINES / "riscv-timer" / "board.yaml"),
                                      "--set", "cpu0.freq=range(100MHz,400MHz,100MHz)",
                                      "--format", "jsonl", "-j", "2"])  # fmt: skip
    for ray_row, line in zip(rows, local.stdout.splitlines(), strict=True):
        local_row = json.loads(line)
        del ray_row["wall_s"], local_row["wall_s"]
        assert ray_row == local_row
