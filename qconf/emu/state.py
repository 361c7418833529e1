"""Run-time state as plain data, for checkpoints: a model's or a core's attributes written
as JSON values, and read back into the types a fresh model holds.

:func:`encode` turns ``bytearray``/``bytes`` into hex text, sets, deques and tuples into
lists and dictionary keys into text; :func:`decode` takes the fresh object's attribute as
the template of what to make (a ``bytearray`` again, integer keys again...).
"""

from __future__ import annotations

from collections import deque
from typing import Any

__all__ = ("StateError", "decode", "encode", "load_attributes", "save_attributes")


class StateError(ValueError):
    """A value that is not state data (a model keeps something a checkpoint cannot
    hold), or data that does not fit the attribute it is read into."""


def encode(value: Any) -> Any:
    """``value`` as JSON data.

    :raises StateError: it holds something other than numbers, text, bytes and
        containers of them.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, (set, frozenset)):
        return sorted(encode(v) for v in value)
    if isinstance(value, (list, tuple, deque)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    raise StateError(f"a {type(value).__name__} is not state data")


def decode(data: Any, like: Any) -> Any:
    """``data`` (from :func:`encode`) in the shape of ``like``, the attribute of a fresh
    object.

    :raises StateError: ``data`` does not fit ``like``.
    """
    try:
        if isinstance(like, bytearray):
            return bytearray.fromhex(data)
        if isinstance(like, bytes):
            return bytes.fromhex(data)
        if isinstance(like, (set, frozenset)):
            return type(like)(data)
        if isinstance(like, deque):
            return deque(data, like.maxlen)
        if isinstance(like, (list, tuple)):
            items = [decode(d, like[i] if i < len(like) else like[0] if like else None)
                     for i, d in enumerate(data)]  # fmt: skip
            return tuple(items) if isinstance(like, tuple) else items
        if isinstance(like, dict):
            keys = {str(k): k for k in like}
            kind = type(next(iter(like))) if like else str
            return {keys.get(k, kind(k)): decode(v, like.get(keys.get(k))) for k, v in data.items()}
    except (TypeError, ValueError, AttributeError) as exc:
        raise StateError(f"{data!r} does not fit {type(like).__name__}: {exc}") from None
    return data


def save_attributes(owner: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The attributes ``names`` of ``owner`` as JSON data.

    :raises StateError: one holds something that is not state data.
    """
    out = {}
    for name in names:
        try:
            out[name] = encode(getattr(owner, name))
        except StateError as exc:
            raise StateError(f"{name}: {exc}") from None
    return out


def load_attributes(owner: Any, names: tuple[str, ...], state: dict[str, Any]) -> None:
    """Set the attributes ``names`` of ``owner`` from ``state``, each in the type it has.

    :raises StateError: one is missing from ``state`` or does not fit.
    """
    for name in names:
        if name not in state:
            raise StateError(f"the state has no {name!r}")
        setattr(owner, name, decode(state[name], getattr(owner, name)))
