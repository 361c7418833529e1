"""Benchmark: qconf resolve+validate against OmegaConf's load+merge+dotlist+to_container.

A synthetic machine of N devices (about 10 properties each, several device types) is
written as one base YAML file, three override files that touch about 10% of the keys
between them, and 50 ``--set`` tweaks. Both pipelines run on the same files in the same
process, alternately, best of ``--repeat`` runs; the ratio is OmegaConf's time over
qconf's. qconf also reports its own stages (read files / merge layers / validate) and
microseconds per device, to show that the cost grows linearly.

Run::

    pip install '.[bench]'
    python bench/resolve.py                    # 200, 2000, 20000 devices
    python bench/resolve.py --sizes 2000 --json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Device templates: (type, properties as written in YAML). About 10 properties each.
TEMPLATES: list[tuple[str, Callable[[int], dict[str, str]]]] = [
    ("ns16550a", lambda i: {"base": f"0x{0x1000_0000 + i * 0x100:_x}", "size": "0x100",
                            "irq": f"soc.plic.in[{i % 90 + 1}]", "clock": "3686400Hz",
                            "reg_shift": "0", "chardev": "null"}),
    ("cmsdk-apb-uart", lambda i: {"base": f"0x{0x2000_0000 + i * 0x1000:_x}", "size": "4KiB",
                                  "clock": f"{1 + i % 50}MHz", "chardev": "null",
                                  "irq_rx": f"soc.plic.in[{i % 90 + 1}]",
                                  "irq_tx": f"soc.plic.in[{i % 90 + 2}]"}),
    ("mailbox", lambda i: {"base": f"0x{0x3000_0000 + i * 0x1000:_x}", "size": "0x1000",
                           "irq_a": "soc.plic.in[3]", "irq_b": "soc.plic.in[4]",
                           "fifo_depth": str(8 + i % 32)}),
    ("riscv64", lambda i: {"freq": f"{500 + i % 500}MHz", "reset_vector": "0x8000_0000",
                           "hartid": str(i), "isa": "[i, m, a, f, d, c, zicsr, zifencei]",
                           "mmu": "sv39"}),
    ("plic", lambda i: {"base": f"0x{0x4000_0000 + i * 0x40_0000:_x}", "size": "4MiB",
                        "num_sources": str(32 + i % 64), "num_priorities": "7",
                        "num_harts": str(1 + i % 4)}),
]  # fmt: skip


def device(i: int) -> tuple[str, dict[str, str]]:
    type_name, make = TEMPLATES[i % len(TEMPLATES)]
    return type_name, make(i)


def write_inputs(directory: Path, n: int) -> tuple[list[Path], list[str]]:
    """The base file, three override files, and 50 --set strings for ``n`` devices."""
    groups = max(1, n // 100)
    lines = ["type: machine", "description: synthetic machine", "soc:", "  type: container",
             "  plic: {type: plic, base: 0xc00_0000, num_sources: 95}"]  # fmt: skip
    for g in range(groups):
        lines += [f"  g{g}:", "    type: container", f"    description: group {g}"]
        for i in range(g * 100, min(n, (g + 1) * 100)):
            type_name, props = device(i)
            lines.append(f"    dev{i}:")
            lines.append(f"      type: {type_name}")
            lines += [f"      {k}: {v}" for k, v in props.items()]
    base = directory / "base.yaml"
    base.write_text("\n".join(lines) + "\n")
    files = [base]
    # three override files, each touching a different ~3.3% of the devices' keys
    for k in range(3):
        out = ["soc:"]
        for g in range(groups):
            touched = [i for i in range(g * 100, min(n, (g + 1) * 100)) if i % 10 == k * 3]
            if not touched:
                continue
            out.append(f"  g{g}:")
            for i in touched:
                type_name, props = device(i)
                out.append(f"    dev{i}:")
                for key in list(props)[:3]:  # ~3 of ~5-6 keys: together ~10% of all keys
                    out.append(f"      {key}: {props[key]}")
        f = directory / f"override{k}.yaml"
        f.write_text("\n".join(out) + "\n")
        files.append(f)
    sets = []
    for s in range(50):
        i = (s * 37) % n
        type_name, props = device(i)
        key = next(iter(props))
        sets.append(f"soc.g{i // 100}.dev{i}.{key}={props[key]}")
    return files, sets


def time_qconf(files: list[Path], sets: list[str]) -> dict[str, float]:
    from qconf.config.layers import load_layers, merge_layers
    from qconf.config.node import gc_paused
    from qconf.model.registry import builtin_registry
    from qconf.model.validate import validate

    registry = builtin_registry()
    with gc_paused():  # as qconf.resolve does
        t0 = time.perf_counter()
        layers = load_layers(files, sets)
        t1 = time.perf_counter()
        merged = merge_layers(layers, registry.declared)
        t2 = time.perf_counter()
        validate(merged, registry, layers)
        t3 = time.perf_counter()
    return {"total": t3 - t0, "read": t1 - t0, "merge": t2 - t1, "validate": t3 - t2}


def time_omegaconf(files: list[Path], sets: list[str]) -> float:
    from omegaconf import OmegaConf

    t0 = time.perf_counter()
    cfg = OmegaConf.merge(*(OmegaConf.load(f) for f in files))
    cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(sets))
    OmegaConf.to_container(cfg, resolve=True)
    return time.perf_counter() - t0


def best(fn: Callable[[], Any], repeat: int) -> Any:
    results = []
    for _ in range(repeat):
        gc.collect()
        results.append(fn())
    return min(results, key=lambda r: r["total"] if isinstance(r, dict) else r)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000, 20000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="machine-readable results")
    args = parser.parse_args(argv)
    try:
        import omegaconf  # noqa: F401
    except ImportError:
        print("bench: OmegaConf is the baseline; pip install '.[bench]'", file=sys.stderr)
        return 2
    # the 20,000-device base file is larger than qconf's default 8 MiB and 500,000-node
    # limits, and OmegaConf 2.4 caps YAML node expansion at 10,000 nodes: lift them
    # (trusted input)
    os.environ.setdefault("QCONF_MAX_FILE_BYTES", str(64 * 2**20))
    os.environ.setdefault("QCONF_MAX_NODES", str(50_000_000))
    os.environ.setdefault("QCONF_MAX_OBJECTS", str(5_000_000))
    os.environ.setdefault("OMEGACONF_MAX_YAML_EXPANDED_NODES", "none")
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for n in args.sizes:
            sub = Path(d) / str(n)
            sub.mkdir()
            files, sets = write_inputs(sub, n)
            size = sum(f.stat().st_size for f in files)
            repeat = args.repeat if n <= 2000 else max(1, args.repeat - 2)
            q = best(lambda f=files, s=sets: time_qconf(f, s), repeat)
            o = best(lambda f=files, s=sets: time_omegaconf(f, s), repeat)
            rows.append({"devices": n, "bytes": size, "qconf_s": q["total"], "omegaconf_s": o,
                         "ratio": o / q["total"], "us_per_device": q["total"] / n * 1e6,
                         "read_s": q["read"], "merge_s": q["merge"],
                         "validate_s": q["validate"]})  # fmt: skip
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'devices':>8} {'input':>9} {'qconf':>9} {'omegaconf':>10} {'ratio':>7} "
          f"{'us/device':>10} | {'read':>7} {'merge':>7} {'validate':>8}")  # fmt: skip
    for r in rows:
        print(f"{r['devices']:>8} {r['bytes'] / 2**20:>7.1f}MB {r['qconf_s']:>8.3f}s "
              f"{r['omegaconf_s']:>9.3f}s {r['ratio']:>6.1f}x {r['us_per_device']:>10.1f} | "
              f"{r['read_s']:>6.3f}s {r['merge_s']:>6.3f}s {r['validate_s']:>7.3f}s")  # fmt: skip
    print(
        "ratio = OmegaConf time / qconf time (higher: qconf faster); "
        "both on the same files in this run"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
