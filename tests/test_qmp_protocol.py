"""QMP's wire protocol without a process: the JSON stream and the session, replayed
against a transcript of real QEMU 7.2 (tests/data, recorded with
``qemu-system-riscv64 -M virt -display none -S -qmp unix:...``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qconf.qmp.control import Control
from qconf.qmp.protocol import JsonStream, QmpError
from qconf.qmp.session import Session
from tests.helpers import MACHINES

TRANSCRIPT = Path(__file__).resolve().parent / "data" / "qemu72-virt-S.raw-protocol.jsonl"


def values(stream: JsonStream, data: bytes) -> list[Any]:
    return [v.desc if isinstance(v, QmpError) else v for v in stream.feed(data)]


def test_values_split_anywhere_and_run_together():
    stream = JsonStream()
    text = b'{"execute": "a", "id": "x\\"}"}  {"execute": "b"}[1]"s" 12 true null'
    got = []
    for i in range(len(text)):  # one byte at a time
        got += values(stream, text[i : i + 1])
    got += values(stream, b" ")  # a bare value ends at a delimiter
    assert got == [{"execute": "a", "id": 'x"}'}, {"execute": "b"}, [1], "s", 12, True, None]
    assert values(JsonStream(), text + b" ") == got  # the same at once


def test_bad_input_gives_an_error_and_the_stream_goes_on():
    stream = JsonStream()
    assert values(stream, b'{"execute": }{"ok": 1}') == [
        "JSON parse error, expecting value", {"ok": 1}]  # fmt: skip
    assert values(stream, b'\x1b{"ok": 2}') == ["JSON parse error, stray '\x1b'", {"ok": 2}]
    assert values(stream, b'}{"ok": 3}') == ["JSON parse error, expecting value", {"ok": 3}]
    assert values(stream, b'{"s": "\xff"}{"ok": 4}') == [
        "JSON parse error, invalid UTF-8 sequence", {"ok": 4}]  # fmt: skip
    assert values(stream, b'{"s": "\xc3\xa9"}') == [{"s": "\u00e9"}]


def test_huge_and_deep_messages_are_bounded():
    stream = JsonStream(max_size=1000)
    huge = b'{"execute": "x", "arguments": {"s": "' + b"x" * 5000 + b'"}}'
    got = []
    for i in range(0, len(huge), 700):  # the error comes as soon as the limit is passed
        got += values(stream, huge[i : i + 700])
        if i == 700:
            assert got == ["JSON parse error, message longer than 1000 bytes"]
    assert got == ["JSON parse error, message longer than 1000 bytes"]
    assert stream._buf == b""  # nothing of it kept
    assert values(stream, b'{"ok": 1}') == [{"ok": 1}]
    deep = JsonStream()
    assert values(deep, b"[" * 5000 + b"]" * 5000 + b'{"ok": 2}') == [
        "JSON parse error, nesting deeper than 256", {"ok": 2}]  # fmt: skip
    nested = "[" * 100 + "]" * 100  # deep, within the limit
    assert values(deep, f'{{"a": {nested}}}'.encode()) == [{"a": json.loads(nested)}]


def _transcript_session() -> list[dict[str, Any]]:
    """The first raw session of the transcript: client messages and server lines."""
    rows = [json.loads(line) for line in TRANSCRIPT.read_text().splitlines()]
    end = next(r["seq"] for r in rows if "session 2" in r.get("text", ""))
    return [r for r in rows if r["seq"] < end and r["dir"] in ("c2s", "s2c")][1:]  # no greeting


def test_errors_as_qemu_7_2_answers_them():
    control = Control([str(MACHINES / "riscv-hello" / "board.yaml")])
    session, stream = Session(control, 1), JsonStream()
    rows = _transcript_session()
    compared = 0
    for i, row in enumerate(rows):
        if row["dir"] != "c2s":
            continue
        expected = []
        for later in rows[i + 1 :]:
            if later["dir"] != "s2c":
                break
            expected.append(json.loads(later["raw"]))
        got = [m for v in stream.feed(row["raw"].encode()) for m in session.handle(v)]
        if "single-quoted" in row["raw"]:  # QEMU's extension, which qconf does not take
            assert got == [{"error": {"class": "GenericError",
                                      "desc": "JSON parse error, expecting property name "
                                              "enclosed in double quotes"}}]  # fmt: skip
            continue
        assert len(got) == len(expected), row["raw"]
        for mine, qemus in zip(got, expected, strict=True):
            assert mine.get("id") == qemus.get("id") and ("id" in mine) == ("id" in qemus)
            if "error" in qemus:
                assert mine["error"]["class"] == qemus["error"]["class"], row["raw"]
                if "'virt-machine." in qemus["error"]["desc"]:  # QOM type names differ
                    assert mine["error"]["desc"] == "Property 'machine.nope' not found"
                else:
                    assert mine["error"] == qemus["error"], row["raw"]
            else:
                assert mine["return"].keys() == qemus["return"].keys(), row["raw"]
            compared += 1
    assert compared >= 30


def test_integers_longer_than_python_converts_are_an_error_not_a_crash():
    """Python's int() refuses more than 4,300 digits, with a ValueError that used to end
    qconf. QEMU reads such a number as ``inf`` and echoes it as invalid JSON; qconf answers
    with an error and goes on."""
    stream = JsonStream()
    nines = b"9" * 4301
    for raw in (b'{"execute": "query-status", "id": ' + nines + b"}", b"[" + nines + b"]",
                b"-" + nines + b" "):  # fmt: skip
        assert values(stream, raw) == ["JSON parse error, integer longer than 4300 digits"]
        split = JsonStream()
        assert values(split, raw[:7]) + values(split, raw[7:]) == values(JsonStream(), raw)
    assert values(stream, b'{"id": ' + nines[1:] + b"}") == [{"id": int(nines[1:])}]  # exact
    session = Session(Control(), 1)
    session.handle({"execute": "qmp_capabilities"})
    for value in stream.feed(b'{"execute": "query-status", "id": ' + nines + b"}"):
        assert session.handle(value) == [{"error": {
            "class": "GenericError",
            "desc": "JSON parse error, integer longer than 4300 digits"}}]  # fmt: skip


def test_what_qemu_refuses_as_json_is_refused_in_its_words():
    stream = JsonStream()
    cases = {
        b'{"execute": "query-status", "id": 1, "id": 2}': "JSON parse error, duplicate key",
        b'{"a": {"b": 1, "b": 1}}': "JSON parse error, duplicate key",
        b'{"execute": "query-status", "id": NaN}': "JSON parse error, stray 'N'",
        b'{"execute": "query-status", "id": Infinity}': "JSON parse error, stray 'I'",
        b'{"execute": "query-status", "id": -Infinity}': "JSON parse error, stray '-I'",
        b'{"execute": "query-status", "id": 1e400}': "JSON parse error, number out of range",
    }
    for raw, desc in cases.items():
        assert values(stream, raw) == [desc], raw
        bytewise = JsonStream()
        assert [v for i in range(len(raw)) for v in values(bytewise, raw[i : i + 1])] == [desc]
    assert values(stream, b'{"a": 1e300, "b": -0.5e-400}') == [{"a": 1e300, "b": -0.0}]


def test_too_many_tokens_in_one_message():
    stream = JsonStream(max_tokens=100)
    assert values(stream, b"[" + b"1," * 60 + b"1]") == [[1] * 61]
    assert values(stream, b"[" + b"[]," * 60 + b"[]]" + b'{"ok": 1}') == [
        "JSON parse error, more than 100 tokens", {"ok": 1}]  # fmt: skip
    many = b'{"a": [' + b"1," * 40_000 + b"1]}"  # under 1 MiB, but 40,000 items
    assert values(JsonStream(), many) == ["JSON parse error, more than 32768 tokens"]


def test_hostile_messages_are_answered_quickly_and_skipped_without_stalling():
    """A 10 MB message of small tokens, or one nested 100,000 deep, took the server 4-10 s
    to skip (10 s for ``[[],[],...]``), with the guest all but stopped: each bracket and
    quote was a step in Python. Whole pieces are scanned in C now."""
    import time

    shapes = {
        "10 MB of [],": b"[" + b"[]," * ((10 << 20) // 3) + b"[]]",
        "10 MB of keys": b"{" + b'"a":"b",' * ((10 << 20) // 8) + b'"a":"b"}',
        "10 MB string": b'{"execute": "qconf-set", "arguments": {"set": "' + b"x" * (10 << 20)
        + b'"}}',
        "100,000 deep": b"[" * 100_000 + b"]" * 100_000,
        "10 MB of escapes": b'["' + b'\\"' * (5 << 20) + b'"]',
    }  # fmt: skip
    for name, raw in shapes.items():
        stream, got = JsonStream(), []
        start = time.perf_counter()
        for i in range(0, len(raw), 65536):
            got += values(stream, raw[i : i + 65536])
        got += values(stream, b'{"ok": 1}')
        took = time.perf_counter() - start
        assert len(got) == 2 and got[0].startswith("JSON parse error, ") and got[1] == {"ok": 1}
        assert took < 3, f"{name}: {took:.2f} s"  # about 0.01-0.15 s here; 4-10 s before


def test_a_reply_that_is_not_json_becomes_an_error_reply():
    from qconf.qmp.protocol import encode

    assert encode({"return": {"a": float("nan")}, "id": [1]}) == (
        b'{"error": {"class": "GenericError", "desc": "qconf cannot send its reply as JSON: '
        b'Out of range float values are not JSON compliant"}, "id": [1]}\r\n')  # fmt: skip
    assert encode({"return": {1, 2}}) == (
        b'{"error": {"class": "GenericError", "desc": "qconf cannot send its reply as JSON: '
        b'Object of type set is not JSON serializable"}}\r\n')  # fmt: skip
