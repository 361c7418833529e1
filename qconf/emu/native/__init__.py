"""qconf's native hooks: the optional C extension ``qconf._native``, and installing its
hooks on an engine.

Unicorn calls some hooks very often: the counting hooks on every translated block (or
every instruction, in exact timing), the ``SYS`` instruction hook on every cache
maintenance instruction (U-Boot cleans its caches line by line: 40,000 of them on arm64),
the TLB-fill hook on every TLB miss. A Python callback costs microseconds each time;
these hooks are a few lines of C (``counting.c`` here, ``native_hooks.c`` in
:mod:`qconf.arch.aarch64`), built by ``pip install`` when a C compiler is there. They
call Unicorn through function pointers taken from the library the Python binding loaded,
so they need no Unicorn headers and work with the PyPI wheel.

Each has a Python equivalent implementing the same algorithm, used where the extension is
not built or ``QCONF_NO_NATIVE=1`` is set: the same guest output and instruction counts,
only slower (``qconf run --stats`` says which is active).
"""

from __future__ import annotations

import ctypes
import os
from functools import cache
from typing import Any

__all__ = ("address_of", "engine_symbol", "hook_add", "hooks", "status")

DISABLE = "QCONF_NO_NATIVE"


@cache
def _load() -> tuple[dict[str, int] | None, str]:
    if os.environ.get(DISABLE, "") not in ("", "0"):
        return None, f"off ({DISABLE}=1) — same results, slower"
    try:
        from qconf import _native  # type: ignore[attr-defined]
    except ImportError:
        return None, "off (extension not built) — same results, slower"
    addresses: dict[str, int] = _native.hooks()
    if engine_symbol(INLINE_COUNTER) is not None:
        return addresses, "on (fast timing counted inline by the store-fix engine)"
    return addresses, "on"


def hooks() -> dict[str, int] | None:
    """The native hook functions' addresses by name, or None: use the Python hooks."""
    return _load()[0]


def status() -> str:
    """Whether native hooks are in use, as ``qconf run --stats`` says it."""
    return _load()[1]


def sizes() -> dict[str, int]:
    """The sizes of the structures the native hooks take (to check their ctypes mirrors)."""
    from qconf import _native  # type: ignore[attr-defined]

    found: dict[str, int] = _native.sizes()
    return found


INLINE_COUNTER = "uc_qconf_counter"
"""The store-fix engine's inline instruction counter (``inline-counting.patch``)."""


@cache
def engine_symbol(name: str) -> int | None:
    """The address of Unicorn's C function ``name`` in the library the binding loaded,
    None if that library has none (the store-fix engine's ``uc_qconf_*`` functions are
    not in a stock one)."""
    from unicorn.unicorn_py3 import unicorn as binding

    try:
        function = getattr(binding.uclib, name)
    except AttributeError:
        return None
    value = ctypes.cast(function, ctypes.c_void_p).value
    return None if value is None else int(value)


def address_of(name: str) -> int:
    """The address of Unicorn's C function ``name`` in the library the binding loaded
    (one every Unicorn has)."""
    value = engine_symbol(name)
    assert value is not None, name
    return value


def hook_add(uc: Any, kind: int, address: int, user_data: Any, *extra: Any,
             keep: tuple[Any, ...] = ()) -> int:  # fmt: skip
    """Install the native hook at ``address`` on ``uc`` for every address, with
    ``user_data`` (a ctypes object, passed by reference) and ``extra`` (an instruction
    hook's instruction); its handle. The engine keeps ``user_data`` and ``keep`` (what the
    hook calls) alive for as long as it lives, whatever order things are freed in.

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
    return int(handle.value)
