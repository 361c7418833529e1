"""pydantic's errors in qconf's words: what was expected, what was given, how to fix it.

pydantic says ``Input should be a valid list``; a person editing a machine file wants
``expected a list, got the text 'imac'`` and the hint ``write a list in brackets, e.g.
[i, m, a, c]``. :func:`describe` turns one pydantic error (an item of
``ValidationError.errors()``) into that message and hint; validation and
:meth:`~qconf.model.objects.Object.set` both use it, so no pydantic wording reaches a user.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from qconf.model.annotations import Unit

__all__ = ("ValueProblem", "allowed_range", "describe", "given")


class ValueProblem(ValueError):
    """What a property's validator raises to say more than a message: how to fix it
    (``hint``) and, for a list, the item at fault (``index``), where the error is then
    located; ``other`` is an item in conflict with it (a duplicate): of the two, the one
    set by the higher layer is blamed (a ``--set`` over a profile's list)."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        index: int | None = None,
        other: int | None = None,
    ) -> None:
        super().__init__(message)
        self.hint = hint
        self.index = index
        self.other = other


def given(value: Any) -> str:
    """``value`` as a message shows what was given: ``the text 'x'``, ``the number 5``."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"the text {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a map"
    if value is None:
        return "nothing (null)"
    return type(value).__name__


_EXAMPLE = re.compile(r"e\.g\. (\[[^\]]*\]|\S+?)[.;,)]?(?:\s|$)")


def _example(field: Any) -> str | None:
    """The ``e.g. ...`` of a field's description, if it has one."""
    text = getattr(field, "description", None) or ""
    m = _EXAMPLE.search(text)
    return m.group(1) if m else None


def describe(err: Any, field: Any = None, unit: Unit | None = None) -> tuple[str, str | None]:
    """The message and hint for one pydantic error ``err`` about a property declared by
    ``field`` (a pydantic ``FieldInfo``, if known) with ``unit``."""
    kind: str = err["type"]
    value = err.get("input")
    ctx = err.get("ctx") or {}
    example = _example(field)
    if kind == "value_error":  # our own validators' words
        message = str(err["msg"]).removeprefix("Value error, ")
        problem = ctx.get("error")
        hint = problem.hint if isinstance(problem, ValueProblem) else None
        if hint is None and "\n" in message:  # a plain ValueError's second line is a hint
            message, _, more = message.partition("\n")
            hint = more or None
        if hint is not None:
            pass
        elif unit is not None and unit.name == "address":
            hint = f"write an address, e.g. {unit.example}"
        elif unit is not None:
            hint = f"write a value in {unit.name}, e.g. {unit.example}"
        elif message.startswith("expected an integer"):
            hint = "write a whole number, e.g. 42 or 0x2a"
        return message, hint
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'|(\d+)", str(ctx.get("expected", "")))
        names = [a or b for a, b in choices]
        message = f"expected one of {', '.join(names)}; got {given(value)}"
        close = difflib.get_close_matches(str(value), names, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}?" if close else f"write one of: {', '.join(names)}"
        return message, hint
    if kind == "string_type":
        hint = (
            "quote the value to make it text"
            if isinstance(value, (int, float, bool))
            else "write one value (text), not a list or a map"
        )
        return f"expected text, got {given(value)}", hint
    if kind in ("bool_type", "bool_parsing"):
        return (
            f"expected true or false, got {given(value)}",
            "write true or false (yes/no and on/off also read)",
        )
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected an integer, got {given(value)}", "write a whole number (0x.. for hex)"
    if kind in ("float_type", "float_parsing"):
        return f"expected a number, got {given(value)}", None
    if kind in ("list_type", "tuple_type", "set_type"):
        hint = "write a list in brackets" + (f", e.g. {example}" if example else ": [a, b]")
        if isinstance(value, str) and value and " " not in value and example is None:
            hint += f" (one item: [{value}])"
        return f"expected a list, got {given(value)}", hint
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a map of keys, got {given(value)}", "write `{key: value, ...}`"
    if kind in ("too_short", "too_long"):
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        word = "at least" if kind == "too_short" else "at most"
        return f"expected {word} {bound} items, got {ctx.get('actual_length')}", None
    if kind.startswith(("greater", "less")):
        low = ctx.get("ge", ctx.get("gt"))
        high = ctx.get("le", ctx.get("lt"))
        bound = low if low is not None else high
        shown_bound = unit.format(bound) if unit is not None and isinstance(bound, int) else bound
        shown_value = (
            unit.format(value) if unit is not None and isinstance(value, int) and value >= 0
            else value
        )  # fmt: skip
        words = {"greater_than": "more than", "greater_than_equal": "at least",
                 "less_than": "less than", "less_than_equal": "at most"}  # fmt: skip
        message = f"must be {words.get(kind, kind)} {shown_bound}, got {shown_value}"
        return message, allowed_range(field, unit) if field is not None else None
    if kind == "missing":
        return "required, but not set", None
    if kind == "extra_forbidden":
        return "not a property of this type", None
    # anything else: pydantic's sentence, in the same shape as ours
    message = str(err["msg"])
    message = re.sub(r"^Input should be (a valid )?", "expected ", message)
    message = re.sub(r"^Value error, ", "", message)
    if not isinstance(value, (dict, list)):
        message += f", got {given(value)}"
    return message, None


def allowed_range(field: Any, unit: Unit | None) -> str | None:
    """``allowed: 1 to 7`` from a field's ge/gt/le/lt constraints (also those inside an
    optional type's annotation: ``Address | None``)."""
    low = high = None
    for item in _constraints(field):
        if getattr(item, "ge", None) is not None:
            low = item.ge
        if getattr(item, "gt", None) is not None:
            low = item.gt + 1
        if getattr(item, "le", None) is not None:
            high = item.le
        if getattr(item, "lt", None) is not None:
            high = item.lt - 1

    def show(v: int) -> str:
        return unit.format(v) if unit is not None else str(v)

    if low is not None and high is not None:
        return f"allowed: {show(low)} to {show(high)}"
    if low is not None:
        return f"allowed: at least {show(low)}"
    if high is not None:
        return f"allowed: at most {show(high)}"
    return None


def _constraints(field: Any) -> list[Any]:
    """A field's metadata, then that of the ``Annotated`` types inside its annotation."""
    import typing

    found = list(getattr(field, "metadata", ()))
    todo = list(typing.get_args(getattr(field, "annotation", None)))
    while todo:
        arg = todo.pop(0)
        found += list(getattr(arg, "__metadata__", ()))
        todo += [a for a in typing.get_args(arg) if not isinstance(a, (int, str))]
    return found
