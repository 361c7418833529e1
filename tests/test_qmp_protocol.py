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
