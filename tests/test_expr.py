"""Template expressions: values, exact error messages and columns, interpolation, names(),
and property tests that no input string raises anything but ExprError."""

from __future__ import annotations

import operator
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qconf.model import expr
from qconf.model.expr import ExprError, evaluate, interpolate, names

ENV: dict[str, int | str | bool] = {
    "base": 0x8000_0000,
    "i": 3,
    "cpu_freq": 1_000_000_000,
    "name": "uart",
    "on": True,
    "off": False,
    "zero": 0,
    "neg": -7,
    "big": 2**127,
}
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VALUES = [
    # precedence and associativity
    pytest.param("1 + 2 * 3", 7, id="mul-over-add"),
    pytest.param("(1 + 2) * 3", 9, id="parens"),
    pytest.param("10 - 4 - 3", 3, id="sub-left-assoc"),
    pytest.param("64 // 4 // 2", 8, id="floordiv-left-assoc"),
    pytest.param("2 * 3 % 4", 2, id="mul-mod-left-to-right"),
    pytest.param("1 << 2 + 1", 8, id="add-over-shift"),
    pytest.param("1 | 2 ^ 3 & 6", 1 | (2 ^ (3 & 6)), id="bitwise-levels"),
    pytest.param("0xf0 | 0x0f == 0xff", True, id="bitor-over-compare"),
    pytest.param("-2 * 3", -6, id="unary-minus"),
    pytest.param("- -2", 2, id="double-minus"),
    pytest.param("+5", 5, id="unary-plus"),
    pytest.param("~0", -1, id="invert"),
    pytest.param("-i * 2", -6, id="unary-binds-tighter"),
    pytest.param("not 1 == 2", True, id="not-below-compare"),
    pytest.param("not on and off", False, id="not-above-and"),
    pytest.param("on or off and off", True, id="and-over-or"),
    pytest.param("not not on", True, id="not-not"),
    pytest.param("1 + 2 if on else 3", 3, id="conditional-lowest"),
    pytest.param("1 if off else 2 if off else 3", 3, id="conditional-right-assoc"),
    pytest.param("(1 if on else 2) + 10", 11, id="conditional-in-parens"),
    # numbers and units
    pytest.param("0x8000_0000", 0x8000_0000, id="hex-underscore"),
    pytest.param("0XfF", 255, id="hex-upper-prefix"),
    pytest.param("0o17", 15, id="octal"),
    pytest.param("0b1010", 10, id="binary"),
    pytest.param("1_000_000", 1_000_000, id="decimal-underscore"),
    pytest.param("0x_ff", 255, id="hex-leading-underscore"),
    pytest.param("007", 7, id="leading-zeros"),
    pytest.param("1GHz", 1_000_000_000, id="ghz"),
    pytest.param("1.5GHz", 1_500_000_000, id="decimal-ghz"),
    pytest.param("800MHz", 800_000_000, id="mhz"),
    pytest.param("32kHz + 768Hz", 32_768, id="khz-plus-hz"),
    pytest.param("10KHz", 10_000, id="khz-capital"),
    pytest.param("64KiB", 65_536, id="kib"),
    pytest.param("128M", 128 * 2**20, id="bare-m-is-binary"),
    pytest.param("1GiB + 1G", 2**31, id="gib"),
    pytest.param("2TiB", 2 * 2**40, id="tib"),
    pytest.param("4096B", 4096, id="bytes"),
    pytest.param("1.5K", 1536, id="decimal-k"),
    pytest.param("0x10MiB", 16 * 2**20, id="hex-with-unit"),
    pytest.param("0b10KiB", 2048, id="binary-with-unit"),
    pytest.param("10ms", 10_000_000, id="ms"),
    pytest.param("1us + 1ns", 1001, id="us-ns"),
    pytest.param("2s", 2 * 10**9, id="seconds"),
    pytest.param("5µs", 5000, id="micro-sign"),
    pytest.param("1_000.5kHz", 1_000_500, id="decimal-underscore-unit"),
    pytest.param(
        "123456789012345678901234567890.5kHz",
        123456789012345678901234567890500,
        id="long-decimal-stays-exact",
    ),
    pytest.param("(1 << 127) - 1 + (1 << 127)", 2**128 - 1, id="largest-int"),
    # arithmetic
    pytest.param("base + i * 0x1000", 0x8000_3000, id="template-base"),
    pytest.param("cpu_freq // 2", 500_000_000, id="template-freq"),
    pytest.param("12 / 4", 3, id="exact-division"),
    pytest.param("-12 / 4", -3, id="exact-negative-division"),
    pytest.param("7 // 2", 3, id="floordiv"),
    pytest.param("-7 // 2", -4, id="floordiv-floors"),
    pytest.param("7 % 3", 1, id="mod"),
    pytest.param("neg % 3", 2, id="mod-sign-of-divisor"),
    pytest.param("1 << 127 >> 126", 2, id="shifts"),
    pytest.param("0xff & ~0xf", 0xF0, id="mask"),
    pytest.param("6 ^ 3", 5, id="xor"),
    pytest.param("-big - (big - 1)", -(2**128) + 1, id="negative-bound"),
    # comparisons and logic
    pytest.param("i == 3", True, id="eq"),
    pytest.param("i != 3", False, id="ne"),
    pytest.param("i < 4 and i >= 3", True, id="range"),
    pytest.param("i <= 2 or i > 2", True, id="or"),
    pytest.param("'abc' < 'abd'", True, id="text-order"),
    pytest.param("name == 'uart'", True, id="text-eq"),
    pytest.param("on == true", True, id="bool-eq"),
    pytest.param("on != off", True, id="bool-ne"),
    pytest.param("off and 1 // zero == 1", False, id="and-short-circuits"),
    pytest.param("on or 1 // zero == 1", True, id="or-short-circuits"),
    pytest.param("off and nope", False, id="short-circuit-skips-unknown-name"),
    pytest.param("1 // zero if off else 5", 5, id="conditional-evaluates-one-branch"),
    pytest.param("on if on else 'x'", True, id="conditional-any-type"),
    # functions
    pytest.param("min(3, 1, 2)", 1, id="min"),
    pytest.param("max(3, 1, 2)", 3, id="max"),
    pytest.param("min(7)", 7, id="min-one"),
    pytest.param("abs(neg)", 7, id="abs"),
    pytest.param("log2(4KiB)", 12, id="log2"),
    pytest.param("log2(1)", 0, id="log2-one"),
    pytest.param("align(5, 4)", 8, id="align-up"),
    pytest.param("align(8, 4)", 8, id="align-exact"),
    pytest.param("align(-5, 4)", -4, id="align-negative"),
    pytest.param("align(1000, 3)", 1002, id="align-non-power-of-two"),
    pytest.param("max(1 if on else 2, min(5, 6))", 5, id="nested-calls"),
    pytest.param("  min ( 1 , 2 )  ", 1, id="whitespace"),
    pytest.param("1 +\n\t2", 3, id="newline-and-tab"),
    # strings and booleans
    pytest.param("'plic.in[' + name + ']'", "plic.in[uart]", id="concat"),
    pytest.param("\"double\" + 'single'", "doublesingle", id="both-quotes"),
    pytest.param("''", "", id="empty-text"),
    pytest.param("'a}b'", "a}b", id="brace-in-text"),
    pytest.param("true", True, id="true"),
    pytest.param("false", False, id="false"),
    pytest.param("name", "uart", id="text-name"),
    pytest.param("on", True, id="bool-name"),
    pytest.param("trueish", 1, id="keyword-prefix-is-a-name"),
    pytest.param("((((((i))))))", 3, id="deep-parens"),
]


@pytest.mark.parametrize(("text", "expected"), VALUES)
def test_evaluate(text: str, expected: object) -> None:
    result = evaluate(text, {**ENV, "trueish": 1})
    assert result == expected
    assert type(result) is type(expected)


ERRORS = [
    # (text, message, column)
    pytest.param("", "empty expression", 0, id="empty"),
    pytest.param("   ", "empty expression", 0, id="blank"),
    pytest.param("1 +", "expected a value, found the end of the expression", 3, id="dangling-op"),
    pytest.param("1 2", "expected an operator, found '2'", 2, id="two-values"),
    pytest.param("(1 + 2", "expected ')', found the end of the expression", 6, id="unclosed-paren"),
    pytest.param("1 + 2)", "unmatched ')'", 5, id="unmatched-paren"),
    pytest.param("()", "expected a value, found ')'", 1, id="empty-parens"),
    pytest.param("1 if on", "expected 'else', found the end of the expression", 7, id="no-else"),
    pytest.param("1 < 2 < 3", "comparisons cannot be chained", 6, id="chained-compare"),
    pytest.param("i == not on", "'not' needs parentheses here", 5, id="not-after-compare"),
    pytest.param("1 && 2", "unexpected '&&'", 2, id="double-amp"),
    pytest.param("2 ** 3", "unexpected '**'", 2, id="power"),
    pytest.param("i = 3", "unexpected '='", 2, id="single-equals"),
    pytest.param("!on", "unexpected '!'", 0, id="bang"),
    pytest.param("1 @ 2", "unexpected '@'", 2, id="unknown-char"),
    pytest.param("a.b", "unexpected '.'", 1, id="dot"),
    pytest.param("'abc", "unterminated string", 0, id="unterminated-string"),
    pytest.param("x + 'abc", "unterminated string", 4, id="unterminated-string-later"),
    pytest.param("${i}", "unexpected '$'", 0, id="dollar-inside"),
    # numbers and units
    pytest.param("1__0", "malformed number '1__0'", 0, id="double-underscore"),
    pytest.param("1_", "malformed number '1_'", 0, id="trailing-underscore"),
    pytest.param("0x", "malformed number '0x'", 0, id="empty-hex"),
    pytest.param("0b102", "malformed number '0b102'", 0, id="bad-binary-digit"),
    pytest.param("0o8", "malformed number '0o8'", 0, id="bad-octal-digit"),
    pytest.param("1.", "malformed number '1.'", 0, id="dot-without-fraction"),
    pytest.param(
        "1 + 1.5",
        "'1.5' needs a unit: decimals only in values like 1.5GHz",
        4,
        id="decimal-without-unit",
    ),
    pytest.param("2 + 10foo", "unknown unit 'foo' in '10foo'", 6, id="unknown-unit"),
    pytest.param("2if on else 3", "unknown unit 'if' in '2if'", 1, id="keyword-glued-to-number"),
    pytest.param(
        "1 + 3MB",
        "'MB' is ambiguous in '3MB': write MiB (binary, 1024-based) or the exact number of bytes",
        4,
        id="ambiguous-size",
    ),
    pytest.param("1.3B", "'1.3B' is not a whole number of bytes", 0, id="fractional-bytes"),
    pytest.param("0.5ns", "'0.5ns' is not a whole number of ns", 0, id="fractional-ns"),
    pytest.param(
        "0x1_0000_0000_0000_0000_0000_0000_0000_0000",
        "integer out of range: the magnitude must stay below 2**128",
        0,
        id="literal-too-large",
    ),
    # names and functions
    pytest.param("bse + 1", "unknown name 'bse'", 0, id="unknown-name"),
    pytest.param("2 * foo(1)", "unknown function 'foo'", 4, id="unknown-function"),
    pytest.param("min()", "min() takes at least 1 argument, got 0", 0, id="min-no-args"),
    pytest.param("abs(1, 2)", "abs() takes 1 argument, got 2", 0, id="abs-two-args"),
    pytest.param("align(1)", "align() takes 2 arguments, got 1", 0, id="align-one-arg"),
    pytest.param("min(1 2)", "expected ',' or ')', found '2'", 6, id="missing-comma"),
    pytest.param("min(1,)", "expected a value, found ')'", 6, id="trailing-comma"),
    pytest.param("max(", "expected a value, found the end of the expression", 4, id="open-call"),
    pytest.param("log2(12)", "log2(12): 12 is not a power of two", 5, id="log2-not-power"),
    pytest.param("log2(0)", "log2(0): 0 is not a power of two", 5, id="log2-zero"),
    pytest.param("align(5, 0)", "align() needs a positive alignment, not 0", 9, id="align-zero"),
    pytest.param("min(1, name)", "min() needs numbers, not text", 7, id="min-text"),
    # arithmetic
    pytest.param("1 / zero", "division by zero", 2, id="div-zero"),
    pytest.param("1 // 0", "division by zero", 2, id="floordiv-zero"),
    pytest.param("5 % zero", "modulo by zero", 2, id="mod-zero"),
    pytest.param(
        "7 / 2", "7 / 2 is not a whole number; use // for floor division", 2, id="inexact-division"
    ),
    pytest.param("name + 1", "cannot add text and a number", 5, id="text-plus-number"),
    pytest.param("1 - name", "cannot subtract a number and text", 2, id="number-minus-text"),
    pytest.param("name * 2", "cannot multiply text and a number", 5, id="text-times-number"),
    pytest.param("on + 1", "cannot add a boolean and a number", 3, id="bool-plus-number"),
    pytest.param("on & off", "cannot bitwise-and a boolean and a boolean", 3, id="bool-and"),
    pytest.param("-name", "cannot negate text", 0, id="negate-text"),
    pytest.param("~on", "cannot invert a boolean", 0, id="invert-bool"),
    pytest.param("1 << 129", "cannot shift by 129: the count must be 0..128", 2, id="shift-far"),
    pytest.param("1 >> -1", "cannot shift by -1: the count must be 0..128", 2, id="shift-neg"),
    pytest.param(
        "1 << 128",
        "integer out of range: the magnitude must stay below 2**128",
        2,
        id="shift-overflow",
    ),
    pytest.param(
        "big * 2",
        "integer out of range: the magnitude must stay below 2**128",
        4,
        id="mul-overflow",
    ),
    pytest.param(
        "~(big - 1 + big)",
        "integer out of range: the magnitude must stay below 2**128",
        0,
        id="invert-overflow",
    ),
    # comparisons and logic
    pytest.param("i == '3'", "cannot compare a number with text using '=='", 2, id="eq-mixed"),
    pytest.param(
        "on == 1", "cannot compare a boolean with a number using '=='", 3, id="bool-is-not-one"
    ),
    pytest.param(
        "on < off", "cannot compare a boolean with a boolean using '<'", 3, id="order-bools"
    ),
    pytest.param("i and on", "'and' needs true or false, not a number", 2, id="and-number"),
    pytest.param("off or name", "'or' needs true or false, not text", 4, id="or-text"),
    pytest.param("not i", "'not' needs true or false, not a number", 0, id="not-number"),
    pytest.param(
        "1 if i else 2",
        "the condition of 'if' needs true or false, not a number",
        5,
        id="condition-number",
    ),
]


@pytest.mark.parametrize(("text", "message", "column"), ERRORS)
def test_error(text: str, message: str, column: int) -> None:
    with pytest.raises(ExprError) as info:
        evaluate(text, ENV)
    assert (info.value.message, info.value.column) == (message, column)
    assert str(info.value) == message


HINTS = [
    pytest.param("bse", "did you mean 'base'?", id="close-name"),
    pytest.param("True", "did you mean 'true'?", id="python-true"),
    pytest.param("min", "'min' is a function: call it as min(...)", id="function-as-name"),
    pytest.param(
        "xyzzy",
        "available names: base, big, cpu_freq, i, name, neg, off, on, zero",
        id="lists-names",
    ),
    pytest.param("mni(1)", "did you mean 'min'?", id="close-function"),
    pytest.param("a && b", "use 'and'", id="and-and"),
    pytest.param("7 ** 2", "there is no power operator; 1 << n is 2 to the n", id="power"),
    pytest.param("(1", "to close the '(' at column 0", id="unclosed-paren"),
    pytest.param("'x' + i", 'to build text, interpolate instead: "name${i}"', id="text-hint"),
]


@pytest.mark.parametrize(("text", "hint"), HINTS)
def test_error_hint(text: str, hint: str) -> None:
    with pytest.raises(ExprError) as info:
        evaluate(text, ENV)
    assert info.value.hint == hint


def test_hint_without_names() -> None:
    with pytest.raises(ExprError) as info:
        evaluate("x", {})
    assert info.value.hint == "no names are defined here"


def test_error_is_a_value_error_with_message() -> None:
    err = ExprError("boom", 3, "try again")
    assert isinstance(err, ValueError)
    assert (str(err), err.message, err.column, err.hint) == ("boom", "boom", 3, "try again")


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        pytest.param("1 " * 500 + "1", "expression longer than 1000 characters", 1000, id="long"),
        pytest.param(
            "(" * 51 + "1" + ")" * 51, "expression nested more than 50 deep", 50, id="parens"
        ),
        pytest.param("-" * 51 + "1", "expression nested more than 50 deep", 50, id="unary"),
        pytest.param(
            "min(" * 51 + "1" + ")" * 51, "expression nested more than 50 deep", 203, id="calls"
        ),
        pytest.param(
            "1 if false else " * 51 + "1",
            "expression nested more than 50 deep",
            811,
            id="else-chain",
        ),
    ],
)
def test_limits(text: str, message: str, column: int) -> None:
    with pytest.raises(ExprError) as info:
        evaluate(text, {})
    assert (info.value.message, info.value.column) == (message, column)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("(" * 50 + "1" + ")" * 50, id="parens"),
        pytest.param("-" * 50 + "1", id="unary"),
        pytest.param("not " * 50 + "true", id="not"),
        pytest.param("1 if false else " * 50 + "1", id="else-chain"),
        pytest.param("+".join(["1"] * 500), id="long-flat-chain"),
        pytest.param("(1|1^1&1<<1+1*-" * 25 + "1" + ")" * 25, id="climbing"),
    ],
)
def test_limits_allow(text: str) -> None:
    assert isinstance(evaluate(text, {}), int | bool)


def test_env_values_are_checked() -> None:
    with pytest.raises(ExprError, match=r"'f' is a float, not a number, text or boolean"):
        evaluate("f + 1", {"f": 1.5})  # type: ignore[dict-item]
    with pytest.raises(ExprError, match=r"integer out of range") as info:
        evaluate("1 + huge", {"huge": 2**200})
    assert info.value.column == 4


INTERPOLATIONS = [
    pytest.param("${base + i * 0x1000}", 0x8000_3000, id="whole-int"),
    pytest.param("${cpu_freq // 2}", 500_000_000, id="whole-freq"),
    pytest.param("${on}", True, id="whole-bool"),
    pytest.param("${name}", "uart", id="whole-text"),
    pytest.param("${1 + 1}${2}", "22", id="two-expressions-are-text"),
    pytest.param("plic.in[${32 + i}]", "plic.in[35]", id="embedded"),
    pytest.param("irq ${on} ${off}", "irq true false", id="embedded-bools"),
    pytest.param(" ${i}", " 3", id="leading-space-makes-text"),
    pytest.param("${i} ", "3 ", id="trailing-space-makes-text"),
    pytest.param("${name}0", "uart0", id="embedded-text"),
    pytest.param("no dollars", "no dollars", id="plain"),
    pytest.param("", "", id="empty"),
    pytest.param("cost: $5 {x}", "cost: $5 {x}", id="dollar-without-brace"),
    pytest.param("$${x}", "${x}", id="escape"),
    pytest.param("$${x} ${i}", "${x} 3", id="escape-and-expression"),
    pytest.param("$${${i}}", "${3}", id="escape-then-expression"),
    pytest.param("a$$b", "a$$b", id="double-dollar-without-brace"),
    pytest.param("${'}'}", "}", id="brace-in-quotes"),
    pytest.param("x${\"a}\" + 'b'}y", "xa}by", id="brace-in-double-quotes"),
    pytest.param("${ i }", 3, id="spaces-inside"),
    pytest.param("${neg}", -7, id="negative"),
]


@pytest.mark.parametrize(("text", "expected"), INTERPOLATIONS)
def test_interpolate(text: str, expected: object) -> None:
    result = interpolate(text, ENV)
    assert result == expected
    assert type(result) is type(expected)


INTERPOLATION_ERRORS = [
    pytest.param("a ${1 +} b", "expected a value, found the end of the expression", 7, id="syntax"),
    pytest.param("x ${i", "unclosed '${'", 2, id="unclosed"),
    pytest.param("${'}", "unclosed '${'", 0, id="unclosed-quote"),
    pytest.param("ok ${i} ${nope}", "unknown name 'nope'", 10, id="unknown-name"),
    pytest.param("${}", "empty expression", 2, id="empty"),
    pytest.param(
        "${i / 2}",
        "3 / 2 is not a whole number; use // for floor division",
        4,
        id="whole-evaluation-error",
    ),
    pytest.param("$${x} ${1 $}", "unexpected '$'", 10, id="column-after-escape"),
]


@pytest.mark.parametrize(("text", "message", "column"), INTERPOLATION_ERRORS)
def test_interpolate_error(text: str, message: str, column: int) -> None:
    with pytest.raises(ExprError) as info:
        interpolate(text, ENV)
    assert (info.value.message, info.value.column) == (message, column)


NAMES = [
    pytest.param("${base + i * 0x1000}", {"base", "i"}, id="template"),
    pytest.param("irq ${a} and ${b + a}", {"a", "b"}, id="several"),
    pytest.param("${min(x, y) + log2(size)}", {"x", "y", "size"}, id="functions-excluded"),
    pytest.param("${max}", {"max"}, id="function-name-not-called"),
    pytest.param("${x if c else y}", {"x", "c", "y"}, id="both-branches"),
    pytest.param("${'name' + true}", set(), id="literals-only"),
    pytest.param("plain text", set(), id="plain"),
    pytest.param("$${x}", set(), id="escaped"),
]


@pytest.mark.parametrize(("text", "expected"), NAMES)
def test_names(text: str, expected: set[str]) -> None:
    assert names(text) == frozenset(expected)


def test_names_reports_syntax_errors_with_columns() -> None:
    with pytest.raises(ExprError) as info:
        names("ab ${1 +}")
    assert (info.value.message, info.value.column) == (
        "expected a value, found the end of the expression", 8)  # fmt: skip


def test_module_uses_no_eval() -> None:
    source = Path(expr.__file__).read_text(encoding="utf-8")
    assert not re.search(r"\b(eval|exec|compile|__import__)\(|import ast\b", source)
    assert expr.__all__ == ("ExprError", "evaluate", "interpolate", "names")


# --- properties -------------------------------------------------------------------------------


def check_total(text: str) -> None:
    """Any text either evaluates to a Value or raises ExprError located inside the text."""
    for fn in (evaluate, interpolate):
        try:
            result = fn(text, ENV)
        except ExprError as exc:
            assert exc.message and str(exc) == exc.message
            assert 0 <= exc.column <= len(text), (text, exc.column)
        else:
            assert isinstance(result, int | str | bool)
            if isinstance(result, int) and not isinstance(result, bool):
                assert abs(result) < 2**128
    try:
        assert names(text) <= frozenset(re.findall(r"[A-Za-z_]\w*", text))
    except ExprError as exc:
        assert 0 <= exc.column <= len(text)


GOOD_TOKENS = [
    "0", "1", "7", "42", "0x10", "0xff_ff", "0b101", "0o17", "1_000", "1.5GHz", "64KiB", "128M",
    "10ms", "129", "128", "'a'", '"b"', "''", "'x}'", "true", "false", "base", "i", "name", "on",
    "off", "zero", "neg", "big", "nope", "min", "max", "abs", "log2", "align", "and", "or", "not",
    "if", "else", "+", "-", "*", "/", "//", "%", "<<", ">>", "&", "|", "^", "~", "==", "!=", "<",
    "<=", ">", ">=", "(", ")", "(", ")", ",",
]  # fmt: skip
BAD_TOKENS = ["3MB", "1.3B", "0x", "1__0", "1.5", "'", '"', "${", "}", "$${", "$", "&&", "**",
              "=", "!", "@", ".", "\\", "µ", "\x00", "é"]  # fmt: skip


def soup(tokens: list[str]) -> st.SearchStrategy[str]:
    """Random sequences of the language's tokens, glued together or spaced."""
    parts = st.lists(st.sampled_from(tokens), max_size=30)
    return st.builds(lambda ps, sep: sep.join(ps), parts, st.sampled_from([" ", "", "  "]))


ATOMS = st.one_of(
    st.sampled_from(["0", "1", "-1", "0x10", "64KiB", "1.5GHz", "10ms", "'a'", "''", "true",
                     "false", "base", "i", "name", "on", "zero", "neg", "big", "nope"]),
    st.integers(-(2**130), 2**130).map(str),
)  # fmt: skip
BINOPS = ["+", "-", "*", "/", "//", "%", "<<", ">>", "&", "|", "^", "==", "!=", "<", "<=", ">",
          ">=", "and", "or"]  # fmt: skip
EXPRESSIONS = st.recursive(
    ATOMS,
    lambda inner: st.one_of(
        st.builds("({} {} {})".format, inner, st.sampled_from(BINOPS), inner),
        st.builds("({}{})".format, st.sampled_from(["-", "+", "~", "not "]), inner),
        st.builds("({} if {} else {})".format, inner, inner, inner),
        st.builds("{}({})".format, st.sampled_from(["abs", "log2"]), inner),
        st.builds("align({}, {})".format, inner, inner),
        st.builds(lambda f, args: f"{f}({', '.join(args)})", st.sampled_from(["min", "max"]),
                  st.lists(inner, min_size=1, max_size=3)),
    ),
    max_leaves=20,
)  # fmt: skip


@SETTINGS
@given(st.text(max_size=60))
def test_any_text_raises_only_expr_error(text: str) -> None:
    check_total(text)


@SETTINGS
@given(st.one_of(soup(GOOD_TOKENS), soup(GOOD_TOKENS + BAD_TOKENS)))
def test_token_soup_raises_only_expr_error(text: str) -> None:
    check_total(text)
    check_total("${" + text + "}")
    check_total("x ${" + text + "} y")


@SETTINGS
@given(EXPRESSIONS)
def test_well_formed_expressions_parse_and_evaluate_or_fail_cleanly(text: str) -> None:
    check_total(text)
    try:
        names("${" + text + "}")
    except ExprError as exc:  # only the limits may refuse a well-formed expression
        limits = ("expression nested", "expression longer", "integer out of range")
        assert exc.message.startswith(limits), exc.message


@SETTINGS
@given(st.text(alphabet="${}'\" ab1+", max_size=40))
def test_interpolation_soup_raises_only_expr_error(text: str) -> None:
    check_total(text)


ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "//": operator.floordiv,
         "%": operator.mod, "&": operator.and_, "|": operator.or_, "^": operator.xor,
         "<": operator.lt, "==": operator.eq, ">=": operator.ge}  # fmt: skip


@SETTINGS
@given(st.integers(-(2**62), 2**62), st.integers(-(2**62), 2**62), st.sampled_from(list(ARITH)))
def test_arithmetic_matches_python(a: int, b: int, op: str) -> None:
    env = {"a": a, "b": b}
    if op in ("//", "%") and b == 0:
        with pytest.raises(ExprError):
            evaluate(f"a {op} b", env)
    else:
        assert evaluate(f"a {op} b", env) == ARITH[op](a, b)


@SETTINGS
@given(st.integers(-(2**127) + 1, 2**127 - 1))
def test_integer_literals_round_trip(n: int) -> None:
    sign = "-" if n < 0 else ""
    for text in (str(abs(n)), f"{abs(n):_}", hex(abs(n)), oct(abs(n)), bin(abs(n))):
        assert evaluate(sign + text, {}) == n
    assert interpolate(f"${{{n}}}", {}) == n
    assert interpolate(f"n=${{{n}}}", {}) == f"n={n}"


@SETTINGS
@given(st.text(max_size=40).filter(lambda t: "${" not in t))
def test_text_without_placeholders_is_unchanged(text: str) -> None:
    assert interpolate(text, {}) is text
    assert names(text) == frozenset()
