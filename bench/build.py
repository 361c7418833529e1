"""Benchmark: building machines of 200, 2,000 and 20,000 objects, flat and composite-heavy.

The same machine is written two ways: flat (every object spelled out in the file) and
composite-heavy (a ``tile`` component of ten objects, replicated by a ``tiles``
component, so every object comes from expanding templates with expressions). Each tile
holds a container, a RAM, three UARTs wired to one of several PLICs, a clock and a timer
that takes it, an alias of the RAM, a reset domain and a chardev; the builder adds the
backends (a memory backend per RAM, a chardev backend per UART).

For each size and shape it reports, best of ``--repeat`` runs in this process: resolve
time (read, merge, expand, validate), build time (create, configure, connect, check,
realize), objects built, microseconds per object, and the ratio of build to resolve of
the same document, the baseline it is measured against. Linear growth shows as a flat
us/object column.

Run::

    pip install '.[bench]'
    python bench/build.py                    # 200, 2000, 20000 objects
    python bench/build.py --sizes 2000 --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TILE_OBJECTS = 10  # objects a tile spells out (the builder adds 4 backends per tile)
PLIC_SOURCES = 1023

TILE_BODY = """\
    type: container
    ram: {{type: ram, base: {ram}, size: 4KiB}}
    uart0: {{type: ns16550a, base: {u0}, irq: '{irq0}', chardev: none}}
    uart1: {{type: ns16550a, base: {u1}, irq: '{irq1}', chardev: none}}
    uart2: {{type: ns16550a, base: {u2}, irq: '{irq2}', chardev: none}}
    clk: {{type: clock, freq: 24MHz}}
    timer: {{type: timer, base: {t}, freq: clk, irq: '{irq0}'}}
    view: {{type: alias, target: ram, base: {v}, size: 4KiB}}
    rst: {{type: reset-domain, members: [uart0, uart1, uart2]}}
    log: {{type: chardev, backend: memory}}
"""


def _plics(n_tiles: int) -> list[str]:
    count = max(1, (n_tiles * 3 + PLIC_SOURCES - 1) // PLIC_SOURCES)
    return [f"plic{p}: {{type: plic, base: {0x1_0000_0000 + p * 0x100_0000:#x}, "
            f"num_sources: {PLIC_SOURCES}}}" for p in range(count)]  # fmt: skip


def _irq(k: int) -> str:
    return f"plic{k // PLIC_SOURCES}.in[{k % PLIC_SOURCES + 1}]"


def flat(n_tiles: int) -> str:
    lines = ["type: machine", *_plics(n_tiles)]
    for i in range(n_tiles):
        base = 0x2_0000_0000 + i * 0x10000
        lines.append(f"tile{i}:")
        lines.append(TILE_BODY.format(
            ram=hex(base), u0=hex(base + 0x1000), u1=hex(base + 0x1100), u2=hex(base + 0x1200),
            t=hex(base + 0x2000), v=hex(base + 0x8000),
            irq0=_irq(3 * i), irq1=_irq(3 * i + 1), irq2=_irq(3 * i + 2),
        ).rstrip())  # fmt: skip
    return "\n".join(lines) + "\n"


def composite(n_tiles: int) -> str:
    irq = "plic${(3 * i + %d) // %d}.in[${(3 * i + %d) %% %d + 1}]"
    body = TILE_BODY.replace("    ", "        ").format(
        ram="'${base}'", u0="'${base + 0x1000}'", u1="'${base + 0x1100}'",
        u2="'${base + 0x1200}'", t="'${base + 0x2000}'", v="'${base + 0x8000}'",
        irq0=irq % (0, PLIC_SOURCES, 0, PLIC_SOURCES),
        irq1=irq % (1, PLIC_SOURCES, 1, PLIC_SOURCES),
        irq2=irq % (2, PLIC_SOURCES, 2, PLIC_SOURCES),
    )  # fmt: skip
    body = body.replace("${(3 * i", "${(3 * k")  # the tile's own index parameter
    return f"""\
type: machine
components:
  tile:
    params:
      base: {{type: address, default: 0}}
      k: {{type: integer, default: 0}}
    children:
{body.replace("        type: container", "").rstrip()}
  tiles:
    params:
      n: {{type: integer, default: 1}}
    children:
      tile[${{n}}]:
        type: tile
        base: ${{0x2_0000_0000 + i * 0x10000}}
        k: ${{i}}
{chr(10).join(_plics(n_tiles))}
all:
  type: tiles
  n: {n_tiles}
"""


def best(fn: Any, repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def run(sizes: list[int], repeat: int) -> list[dict[str, Any]]:
    import qconf

    os.environ.setdefault("QCONF_MAX_FILE_BYTES", str(64 << 20))  # trusted input: no limits
    os.environ.setdefault("QCONF_MAX_NODES", str(50_000_000))
    os.environ.setdefault("QCONF_MAX_OBJECTS", str(5_000_000))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            n_tiles = max(1, size // TILE_OBJECTS)
            for shape, make in (("flat", flat), ("composite", composite)):
                path = Path(tmp) / f"{shape}-{size}.yaml"
                path.write_text(make(n_tiles))
                t_resolve, doc = best(lambda p=path: qconf.resolve([p]), repeat)

                def build(doc: Any = doc) -> int:
                    machine = qconf.build(doc)
                    count = sum(1 for _ in machine.objects())
                    machine.destroy()
                    return count

                t_build, count = best(build, repeat)
                rows.append({
                    "shape": shape, "objects": count, "resolve_s": round(t_resolve, 4),
                    "build_s": round(t_build, 4), "us_per_object": round(t_build / count * 1e6, 1),
                    "build_over_resolve": round(t_build / t_resolve, 2),
                })  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000, 20000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = run(args.sizes, args.repeat)
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 0
    print(f"{'shape':<10} {'objects':>8} {'resolve s':>10} {'build s':>9} "
          f"{'us/object':>10} {'build/resolve':>14}")  # fmt: skip
    for r in rows:
        print(f"{r['shape']:<10} {r['objects']:>8} {r['resolve_s']:>10.4f} {r['build_s']:>9.4f} "
              f"{r['us_per_object']:>10.1f} {r['build_over_resolve']:>14.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
