"""Units: every accepted spelling parses to the canonical integer; every bad one says why."""

from __future__ import annotations

import pytest

from qconf.config.units import (
    UnitError,
    format_duration,
    format_frequency,
    format_size,
    parse_duration,
    parse_frequency,
    parse_int,
    parse_size,
)

GOOD = [
    (parse_int, "42", 42),
    (parse_int, "0x8000_0000", 0x8000_0000),
    (parse_int, "0b1010", 10),
    (parse_int, "0o17", 15),
    (parse_int, "-5", -5),
    (parse_int, "1_000_000", 1_000_000),
    (parse_int, 7, 7),
    (parse_frequency, "1GHz", 1_000_000_000),
    (parse_frequency, "1000MHz", 1_000_000_000),
    (parse_frequency, "800MHz", 800_000_000),
    (parse_frequency, "32768Hz", 32768),
    (parse_frequency, "1.5GHz", 1_500_000_000),
    (parse_frequency, "62500kHz", 62_500_000),
    (parse_frequency, "10 MHz", 10_000_000),
    (parse_frequency, "3686400", 3_686_400),
    (parse_size, "64KiB", 65536),
    (parse_size, "128MiB", 128 * 2**20),
    (parse_size, "128M", 128 * 2**20),
    (parse_size, "1GiB", 2**30),
    (parse_size, "1G", 2**30),
    (parse_size, "0x1000", 4096),
    (parse_size, "4096", 4096),
    (parse_size, "512B", 512),
    (parse_duration, "10ms", 10_000_000),
    (parse_duration, "1us", 1000),
    (parse_duration, "1µs", 1000),
    (parse_duration, "2s", 2_000_000_000),
    (parse_duration, "5", 5),
    # more digits than the decimal module's default 28: exact, not rounded
    (parse_size, "12345678901234567890123456789012KiB", 12345678901234567890123456789012 * 1024),
]


@pytest.mark.parametrize(("parse", "text", "expected"), GOOD,
                         ids=[f"{p.__name__}-{str(t)[:40]}" for p, t, _ in GOOD])  # fmt: skip
def test_accepted(parse, text, expected):
    assert parse(text) == expected


BAD = [
    (parse_int, "12abc", "expected an integer"),
    (parse_int, "1__0", "expected an integer"),
    (parse_int, "1.5", "expected an integer"),
    (parse_int, True, "boolean"),
    (parse_frequency, "1GHzz", "unknown frequency unit 'GHzz'"),
    (parse_frequency, "1.5Hz", "not a whole number of Hz"),
    (parse_frequency, "fast", "expected a frequency"),
    (parse_frequency, False, "boolean"),
    (parse_size, "128MB", "'MB' is ambiguous"),
    (parse_size, "1kB", "'kB' is ambiguous"),
    (parse_size, "1.5B", "not a whole number of bytes"),
    (parse_size, "12 parsecs", "unknown size unit 'parsecs'"),
    (parse_size, "big", "expected a size"),
    (parse_duration, "1h", "unknown duration unit 'h'"),
    (parse_size, [1], "expected a size, got a list"),
    (parse_frequency, "1.0000000000000000000000000000001GHz", "not a whole number of Hz"),
    (parse_int, "9" * 5000, "expected an integer of at most 4,300 digits, got 5,000"),
    (parse_size, "9" * 5000 + "KiB", "expected a size of at most 4,300 characters"),
]


@pytest.mark.parametrize(("parse", "text", "fragment"), BAD,
                         ids=[f"{p.__name__}-{str(t)[:40]}" for p, t, _ in BAD])  # fmt: skip
def test_rejected_with_reason(parse, text, fragment):
    with pytest.raises(UnitError) as info:
        parse(text)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("fmt", "value", "text"),
    [
        (format_frequency, 1_000_000_000, "1GHz"),
        (format_frequency, 3_686_400, "3686400Hz"),
        (format_frequency, 62_500_000, "62500kHz"),
        (format_size, 128 * 2**20, "128MiB"),
        (format_size, 0x100, "256B"),
        (format_size, 0xF000, "60KiB"),
        (format_duration, 10_000_000, "10ms"),
        (format_duration, 0, "0ns"),
    ],
)
def test_formatting_is_exact_and_parses_back(fmt, value, text):
    assert fmt(value) == text
    parse = {format_frequency: parse_frequency, format_size: parse_size,
             format_duration: parse_duration}[fmt]  # fmt: skip
    assert parse(text) == value


def test_one_ghz_equals_thousand_mhz():
    assert parse_frequency("1GHz") == parse_frequency("1000MHz") == parse_frequency("1000000kHz")
