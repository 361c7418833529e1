"""Safe expressions for component templates: ``${base + i * 0x1000}``, ``${cpu_freq // 2}``.

A hand-written tokenizer and a Pratt parser build a tiny, immutable syntax tree that is
evaluated against a mapping of names; nothing reaches ``eval``. Values are ``int``, ``str``
and ``bool`` only, and every failure is an :class:`ExprError` with the column (0-based
offset) of the problem.

=========================  ==============================================================
syntax, lowest first       meaning
=========================  ==============================================================
``a if c else b``          conditional; ``c`` must be a boolean; only one branch runs
``or``, ``and``, ``not``   boolean logic on booleans, short-circuiting
``== !=  < <= > >=``       compare two values of the same kind; comparisons do not chain
``|``, ``^``, ``&``        bitwise or, xor, and
``<< >>``                  shifts by 0..128 bits
``+ -``                    add, subtract; ``+`` also joins two texts
``* / // %``               ``/`` must divide exactly, ``//`` floors, ``%`` is its remainder
``-x +x ~x``               negate, plus, bitwise invert
``f(a, ...)``              ``min max abs log2 align``; ``align(x, a)`` rounds x up to a
                           multiple of a; ``log2`` takes exact powers of two only
atoms, ``(e)``             ``42 0x8000_0000 0o17 0b101``; ``1.5GHz 64KiB 10ms`` (in Hz,
                           bytes, ns: see :mod:`qconf.config.units`); ``'text' "text"``;
                           ``true false``; names
=========================  ==============================================================

Booleans are not numbers. Limits: 1000 characters per expression, nesting depth 50
(parentheses, calls, unary operators, ``else`` chains), integers below 2**128 in magnitude.
:func:`interpolate` replaces each ``${expr}`` in a text (``$${`` writes a literal ``${``);
a text that is exactly one ``${expr}`` gives the typed value instead of text.
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import localcontext
from functools import lru_cache
from typing import TypeAlias, TypeGuard

from qconf.config import units

__all__ = ("ExprError", "evaluate", "interpolate", "names")

Value: TypeAlias = int | str | bool

MAX_LENGTH, MAX_DEPTH, MAX_SHIFT, LIMIT = 1000, 50, 128, 2**128


class ExprError(ValueError):
    """A bad expression: ``column`` is the 0-based offset of the problem, ``hint`` a tip."""

    def __init__(self, message: str, column: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.column, self.hint = message, column, hint


# --- tokens -------------------------------------------------------------------------------

_DIGITS = frozenset("0123456789")
_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENT = _IDENT_START | _DIGITS
_BASES = {"0x": (16, frozenset("0123456789abcdefABCDEF")), "0o": (8, frozenset("01234567")),
          "0b": (2, frozenset("01"))}  # fmt: skip
_UNIT_PARSERS: dict[str, Callable[[object], int]] = {
    **dict.fromkeys(units.FREQUENCY_UNITS, units.parse_frequency),
    **dict.fromkeys([*units.SIZE_UNITS, *units.AMBIGUOUS_SIZE], units.parse_size),  # says why
    **dict.fromkeys(units.DURATION_UNITS, units.parse_duration),
}
_KEYWORDS = frozenset({"and", "or", "not", "if", "else"})
_OPS2 = frozenset({"//", "<<", ">>", "<=", ">=", "==", "!="})
_OPS1 = frozenset("+-*/%|^&~<>(),")
_WRONG = {"&&": "use 'and'", "||": "use 'or'", "!": "use 'not'", "=": "use '==' to compare",
          "**": "there is no power operator; 1 << n is 2 to the n",
          "$": "'${...}' goes around a whole expression"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Node:
    """A token, and a node of the syntax tree. Tokens are ``lit`` (with ``value``), ``name``,
    ``op`` (operators and keywords) and ``end``; literals and names are also the leaves.
    Inner nodes: ``unary`` (``text`` is the operator), ``if`` (kids: value, condition,
    else-value), ``call`` (``text`` is the function) and ``chain``: ``kids[0]``, then each
    ``ops[i]`` applied with ``kids[i + 1]`` from the left, as a Pratt loop collects them."""

    kind: str
    text: str
    pos: int
    value: Value = 0
    kids: tuple[_Node, ...] = ()
    ops: tuple[tuple[str, int], ...] = ()


def _skip(text: str, i: int, chars: frozenset[str]) -> int:
    while i < len(text) and text[i] in chars:
        i += 1
    return i


def _tokenize(text: str) -> list[_Node]:
    tokens: list[_Node] = []
    i = 0
    while i < len(text):
        ch, two = text[i], text[i : i + 2]
        if ch in " \t\r\n":
            i += 1
            continue
        if ch in _DIGITS:
            tok = _number(text, i)
        elif ch in "'\"":
            end = text.find(ch, i + 1)
            if end < 0:
                raise ExprError("unterminated string", i, f"close it with {ch}")
            tok = _Node("lit", text[i : end + 1], i, text[i + 1 : end])
        elif ch in _IDENT_START:
            word = text[i : _skip(text, i, _IDENT)]
            kind = "lit" if word in ("true", "false") else "op" if word in _KEYWORDS else "name"
            tok = _Node(kind, word, i, word == "true")
        elif two in _OPS2 or (ch in _OPS1 and two not in _WRONG):
            tok = _Node("op", two if two in _OPS2 else ch, i)
        else:
            bad = two if two in _WRONG else ch
            raise ExprError(f"unexpected {bad!r}", i, _WRONG.get(bad))
        tokens.append(tok)
        i = tok.pos + len(tok.text)
    return [*tokens, _Node("end", "", len(text))]


def _digits_ok(body: str, digits: frozenset[str]) -> bool:
    groups = body.split("_")
    return all(groups) and all(c in digits for group in groups for c in group)


def _number(text: str, start: int) -> _Node:
    """An integer literal, or a number with a unit converted by :mod:`qconf.config.units`."""
    base, digits = _BASES.get(text[start : start + 2].lower(), (10, _DIGITS))
    if base != 10:
        end = _skip(text, start + 2, (digits if base == 16 else _DIGITS) | {"_"})
        ok = _digits_ok(text[start + 2 : end].removeprefix("_"), digits)
    else:
        end = _skip(text, start, _DIGITS | {"_"})
        if text[end : end + 1] == ".":
            end = _skip(text, end + 1, _DIGITS | {"_"})
        ok = all(_digits_ok(part, _DIGITS) for part in text[start:end].split("."))
    unit_end = _skip(text, end, _IDENT | {"µ"})
    number, unit, literal = text[start:end], text[end:unit_end], text[start:unit_end]
    if not ok:
        hint = "decimal, 0x hex, 0o octal or 0b binary digits, '_' only between digits"
        raise ExprError(f"malformed number '{literal}'", start, hint)
    if not unit:
        if "." in number:
            raise ExprError(f"'{number}' needs a unit: decimals only in values like 1.5GHz", start)
        return _Node("lit", literal, start, _checked(int(number.replace("_", ""), base), start))
    parser = _UNIT_PARSERS.get(unit)
    if parser is None:
        raise ExprError(f"unknown unit '{unit}' in '{literal}'", end,
                        "units are Hz kHz MHz GHz, B KiB MiB GiB TiB (or K M G T), ns us ms s; "
                        "put a space between a number and a following name")  # fmt: skip
    if base != 10:
        number = str(int(number.replace("_", ""), base))
    try:
        with localcontext() as ctx:
            ctx.prec = 2 * MAX_LENGTH  # the parsers multiply Decimals: keep that exact
            return _Node("lit", literal, start, _checked(parser(number + unit), start))
    except units.UnitError as exc:
        raise ExprError(str(exc), start) from None


# --- parser -------------------------------------------------------------------------------

_COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
            ">": operator.gt, ">=": operator.ge}  # fmt: skip
_INFIX = {"or": 1, "and": 2, **dict.fromkeys(_COMPARE, 4), "|": 5, "^": 6, "&": 7,
          "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "//": 10, "%": 10}  # fmt: skip
_NOT_BP, _UNARY_BP = 3, 11  # `not` takes a comparison; `-x` takes only an atom or a call
_FUNCS: dict[str, tuple[int, int | None]] = {
    "abs": (1, 1), "align": (2, 2), "log2": (1, 1), "max": (1, None), "min": (1, None),
}  # fmt: skip


def _is(tok: _Node, text: str) -> bool:
    return tok.kind == "op" and tok.text == text


def _found(tok: _Node) -> str:
    return "found the end of the expression" if tok.kind == "end" else f"found '{tok.text}'"


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens, self.i, self.names = _tokenize(text), 0, set[str]()

    def peek(self) -> _Node:
        return self.tokens[self.i]

    def next(self) -> _Node:
        tok = self.tokens[self.i]
        self.i += tok.kind != "end"
        return tok

    def parse(self) -> _Node:
        if self.peek().kind == "end":
            raise ExprError("empty expression", 0)
        node, tok = self.conditional(0), self.peek()
        if tok.kind != "end":
            message = "unmatched ')'" if _is(tok, ")") else f"expected an operator, {_found(tok)}"
            raise ExprError(message, tok.pos)
        return node

    @staticmethod
    def deeper(depth: int, tok: _Node) -> int:
        if depth >= MAX_DEPTH:
            raise ExprError(f"expression nested more than {MAX_DEPTH} deep", tok.pos)
        return depth + 1

    def close(self, opener: _Node, expected: str) -> None:
        if not _is(tok := self.next(), ")"):
            hint = f"to close the '(' at column {opener.pos}" if tok.kind == "end" else None
            raise ExprError(f"expected {expected}, {_found(tok)}", tok.pos, hint)

    def conditional(self, depth: int) -> _Node:
        body = self.binary(0, depth)
        if not _is(tok := self.peek(), "if"):
            return body
        self.i += 1
        cond = self.binary(0, depth)
        if not _is(other := self.next(), "else"):
            raise ExprError(f"expected 'else', {_found(other)}", other.pos)
        orelse = self.conditional(self.deeper(depth, other))
        return _Node("if", "if", tok.pos, kids=(body, cond, orelse))

    def binary(self, min_bp: int, depth: int) -> _Node:
        """The Pratt loop: operators binding tighter than ``min_bp``, left-associative."""
        kids, ops = [self.prefix(min_bp, depth)], list[tuple[str, int]]()
        while True:
            tok = self.peek()
            bp = _INFIX.get(tok.text, 0) if tok.kind == "op" else 0
            if bp <= min_bp:
                break
            if tok.text in _COMPARE and ops and ops[-1][0] in _COMPARE:
                raise ExprError("comparisons cannot be chained", tok.pos,
                                "join them with 'and', as in a < b and b < c")  # fmt: skip
            self.i += 1
            ops.append((tok.text, tok.pos))
            kids.append(self.binary(bp, depth))
        return _Node("chain", "", kids[0].pos, kids=(*kids,), ops=(*ops,)) if ops else kids[0]

    def prefix(self, min_bp: int, depth: int) -> _Node:
        tok = self.next()
        if tok.kind == "name":
            if _is(self.peek(), "("):
                return self.call(tok, depth)
            self.names.add(tok.text)
            return tok
        if tok.kind == "lit":
            return tok
        if tok.kind == "op" and tok.text in ("-", "+", "~", "not"):
            if tok.text == "not" and min_bp > _NOT_BP:
                raise ExprError("'not' needs parentheses here", tok.pos, "write (not x)")
            bp = _NOT_BP if tok.text == "not" else _UNARY_BP
            operand = self.binary(bp, self.deeper(depth, tok))
            return _Node("unary", tok.text, tok.pos, kids=(operand,))
        if _is(tok, "("):
            inner = self.conditional(self.deeper(depth, tok))
            self.close(tok, "')'")
            return inner
        raise ExprError(f"expected a value, {_found(tok)}", tok.pos)

    def call(self, name: _Node, depth: int) -> _Node:
        if name.text not in _FUNCS:
            close = difflib.get_close_matches(name.text, _FUNCS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"functions: {', '.join(_FUNCS)}"
            raise ExprError(f"unknown function '{name.text}'", name.pos, hint)
        opener = self.next()
        inner, args = self.deeper(depth, opener), list[_Node]()
        if not _is(self.peek(), ")"):
            args.append(self.conditional(inner))
            while _is(self.peek(), ","):
                self.i += 1
                args.append(self.conditional(inner))
        self.close(opener, "',' or ')'" if args else "a value or ')'")
        low, high = _FUNCS[name.text]
        if len(args) < low or (high is not None and len(args) > high):
            want = f"{'' if low == high else 'at least '}{low} argument{'s' * (low > 1)}"
            raise ExprError(f"{name.text}() takes {want}, got {len(args)}", name.pos)
        return _Node("call", name.text, name.pos, kids=(*args,))


@lru_cache(maxsize=512)
def _parse(text: str) -> tuple[_Node, frozenset[str]]:
    """The syntax tree of ``text`` and the names it uses (cached: trees are immutable)."""
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression longer than {MAX_LENGTH} characters", MAX_LENGTH)
    parser = _Parser(text)
    return parser.parse(), frozenset(parser.names)


# --- evaluation ---------------------------------------------------------------------------

_ARITH: dict[str, Callable[[int, int], int]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "//": operator.floordiv,
    "%": operator.mod, "<<": operator.lshift, ">>": operator.rshift, "&": operator.and_,
    "|": operator.or_, "^": operator.xor,
}  # fmt: skip
_VERBS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "//": "divide",
          "%": "take the remainder of", "<<": "shift", ">>": "shift", "&": "bitwise-and",
          "|": "bitwise-or", "^": "bitwise-xor", "-x": "negate", "+x": "apply '+' to",
          "~x": "invert"}  # fmt: skip


def _is_int(value: Value) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value: Value) -> str:
    return "a boolean" if isinstance(value, bool) else "a number" if _is_int(value) else "text"


def _checked(value: int, pos: int) -> int:
    if abs(value) >= LIMIT:
        raise ExprError("integer out of range: the magnitude must stay below 2**128", pos)
    return value


def _boolean(value: Value, what: str, pos: int) -> bool:
    if not isinstance(value, bool):
        raise ExprError(f"{what} needs true or false, not {_kind(value)}", pos)
    return value


def _not_numbers(message: str, pos: int, *values: Value) -> ExprError:
    bools = any(isinstance(v, bool) for v in values)
    hint = ("booleans are not numbers; use 'x if flag else y'" if bools
            else 'to build text, interpolate instead: "name${i}"')  # fmt: skip
    return ExprError(message, pos, hint)


def _binary(op: str, a: Value, b: Value, pos: int) -> Value:
    if op in _COMPARE:
        if _kind(a) == _kind(b) and (op in ("==", "!=") or not isinstance(a, bool)):
            return bool(_COMPARE[op](a, b))
        raise ExprError(f"cannot compare {_kind(a)} with {_kind(b)} using '{op}'", pos)
    if op == "+" and isinstance(a, str) and isinstance(b, str):
        return a + b
    if not (_is_int(a) and _is_int(b)):
        raise _not_numbers(f"cannot {_VERBS[op]} {_kind(a)} and {_kind(b)}", pos, a, b)
    if op in ("/", "//", "%") and b == 0:
        raise ExprError("modulo by zero" if op == "%" else "division by zero", pos)
    if op == "/" and a % b:
        raise ExprError(f"{a} / {b} is not a whole number; use // for floor division", pos)
    if op in ("<<", ">>") and not 0 <= b <= MAX_SHIFT:
        raise ExprError(f"cannot shift by {b}: the count must be 0..{MAX_SHIFT}", pos)
    return _checked(_ARITH["//" if op == "/" else op](a, b), pos)


def _unary(op: str, value: Value, pos: int) -> Value:
    if op == "not":
        return not _boolean(value, "'not'", pos)
    if not _is_int(value):
        raise _not_numbers(f"cannot {_VERBS[op + 'x']} {_kind(value)}", pos, value)
    return _checked(-value if op == "-" else ~value if op == "~" else value, pos)


def _call(func: str, args: list[tuple[Value, int]], pos: int) -> int:
    nums: list[int] = []
    for value, at in args:
        if not _is_int(value):
            raise _not_numbers(f"{func}() needs numbers, not {_kind(value)}", at, value)
        nums.append(value)
    if func in ("min", "max", "abs"):
        return min(nums) if func == "min" else max(nums) if func == "max" else abs(nums[0])
    if func == "log2":
        if nums[0] <= 0 or nums[0] & (nums[0] - 1):
            raise ExprError(f"log2({nums[0]}): {nums[0]} is not a power of two", args[0][1])
        return nums[0].bit_length() - 1
    if nums[1] <= 0:
        raise ExprError(f"align() needs a positive alignment, not {nums[1]}", args[1][1])
    return _checked(-(-nums[0] // nums[1]) * nums[1], pos)


def _lookup(node: _Node, env: Mapping[str, Value]) -> Value:
    name = node.text
    if name not in env:
        close = difflib.get_close_matches(name, [*env, "true", "false"], n=1)
        hint = (f"'{name}' is a function: call it as {name}(...)" if name in _FUNCS
                else f"did you mean '{close[0]}'?" if close
                else f"available names: {', '.join(sorted(env)[:30])}" if env
                else "no names are defined here")  # fmt: skip
        raise ExprError(f"unknown name '{name}'", node.pos, hint)
    value: object = env[name]
    if not isinstance(value, int | str):
        raise ExprError(f"'{name}' is a {type(value).__name__}, not a number, text or boolean",
                        node.pos)  # fmt: skip
    return value if isinstance(value, bool | str) else _checked(value, node.pos)


def _eval(node: _Node, env: Mapping[str, Value]) -> Value:
    kids = node.kids
    if node.kind in ("lit", "name"):
        return node.value if node.kind == "lit" else _lookup(node, env)
    if node.kind == "unary":
        return _unary(node.text, _eval(kids[0], env), node.pos)
    if node.kind == "if":
        chosen = _boolean(_eval(kids[1], env), "the condition of 'if'", kids[1].pos)
        return _eval(kids[0] if chosen else kids[2], env)
    if node.kind == "call":
        return _call(node.text, [(_eval(arg, env), arg.pos) for arg in kids], node.pos)
    value = _eval(kids[0], env)
    for (op, pos), rhs in zip(node.ops, kids[1:], strict=True):
        if op not in ("and", "or"):
            value = _binary(op, value, _eval(rhs, env), pos)
        elif _boolean(value, f"'{op}'", pos) != (op == "or"):  # else: short-circuit
            value = _boolean(_eval(rhs, env), f"'{op}'", pos)
    return value


# --- public API ---------------------------------------------------------------------------


def evaluate(text: str, env: Mapping[str, Value]) -> Value:
    """The value of one expression, with names looked up in ``env``."""
    return _eval(_parse(text)[0], env)


def _split(text: str) -> list[str | tuple[int, str]]:
    """Literal pieces (``$${`` turned into ``${``) and ``(offset, expression)`` pairs."""
    parts: list[str | tuple[int, str]] = []
    i = 0
    while (start := text.find("${", i)) >= 0:
        if start > i and text[start - 1] == "$":
            parts.append(text[i : start - 1] + "${")
            i = start + 2
            continue
        end = start + 2  # the closing brace; one inside quotes does not count
        while end < len(text) and text[end] != "}":
            quote = text.find(text[end], end + 1) if text[end] in "'\"" else end
            end = quote + 1 if quote >= 0 else len(text)
        if end >= len(text):
            raise ExprError("unclosed '${'", start,
                            "end it with '}' (a '}' inside quotes does not count)")  # fmt: skip
        parts += [text[i:start], (start + 2, text[start + 2 : end])]
        i = end + 1
    return [*parts, text[i:]]


@contextmanager
def _shifted(offset: int) -> Iterator[None]:
    """Make the columns of errors raised inside count from the start of the whole text."""
    try:
        yield
    except ExprError as exc:
        exc.column += offset
        raise


def interpolate(text: str, env: Mapping[str, Value]) -> Value:
    """Replace each ``${expr}`` in ``text`` by its value (booleans as ``true``/``false``).

    A text that is exactly one ``${expr}`` gives the expression's typed value; ``$${`` is a
    literal ``${``; error columns are offsets in ``text``.
    """
    if "${" not in text:
        return text
    parts, out = _split(text), list[str]()
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        with _shifted(part[0]):
            value = evaluate(part[1], env)
        if parts == ["", part, ""]:  # the whole text is one expression
            return value
        out.append(str(value).lower() if isinstance(value, bool) else str(value))
    return "".join(out)


def names(text: str) -> frozenset[str]:
    """The names used by the ``${...}`` expressions in ``text`` (function names excluded)."""
    found: set[str] = set()
    for part in _split(text) if "${" in text else ():
        if not isinstance(part, str):
            with _shifted(part[0]):
                found |= _parse(part[1])[1]
    return frozenset(found)
