"""Hooks as a few x86-64 instructions in executable memory.

Unicorn calls some hooks very often: a block hook for every translated block, the
``SYS`` instruction hook for every cache maintenance instruction (U-Boot cleans its caches
line by line: 40,000 of them on arm64). A Python callback costs microseconds each time,
and where the hook's decision is simple it can be made in a few machine instructions
instead. qconf installs with pip alone, so there is no compiler: each hook is a handful of
hand-assembled x86-64 instructions, written into an executable page by :func:`place`,
and installed with ``uc_hook_add`` directly (:func:`hook_add`). Where the host is not
x86-64 Linux, or refuses executable memory, :func:`place` answers None and callers use
Python hooks instead: the same behaviour, slower.

Each hook's listing is beside its bytes, where it is used (:mod:`qconf.emu.budget`,
:mod:`qconf.arch.aarch64.core`).
"""

from __future__ import annotations

import ctypes
import mmap
import os
import sys
from functools import cache
from typing import Any

__all__ = ("hook_add", "place")

_PAGES: list[mmap.mmap] = []


@cache
def place(code: bytes) -> int | None:
    """The address of ``code`` in an executable page (placed once per process), or None
    where native hooks cannot be used."""
    if not sys.platform.startswith("linux") or os.uname().machine != "x86_64":
        return None
    try:
        page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    except (OSError, ValueError):
        return None
    page.write(code)
    _PAGES.append(page)  # lives as long as the process
    return ctypes.addressof(ctypes.c_char.from_buffer(page))


def hook_add(
    uc: Any, kind: int, address: int, user_data: Any, *extra: Any, keep: tuple[Any, ...] = ()
) -> None:
    """Install the native hook at ``address`` on ``uc`` for every address, with
    ``user_data`` (a ctypes object, passed by reference) and ``extra`` (an instruction
    hook's instruction). The engine keeps ``user_data`` and ``keep`` (what the hook calls)
    alive for as long as it lives, whatever order things are freed in.

    :raises UcError: Unicorn refused it.
    """
    import unicorn
    from unicorn.unicorn_py3 import unicorn as binding

    handle = binding.uc_hook_h()
    err = binding.uclib.uc_hook_add(
        uc._uch, ctypes.byref(handle), kind, ctypes.c_void_p(address),
        ctypes.byref(user_data), ctypes.c_uint64(1), ctypes.c_uint64(0), *extra,
    )  # fmt: skip
    if err:
        raise unicorn.UcError(err)
    uc.__dict__.setdefault("_qconf_native", []).append((user_data, *keep))
