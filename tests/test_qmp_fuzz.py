"""Random and mutated QMP input into the JSON stream and a session: no exception escapes,
every message gets a well-formed reply (or is skipped, as QEMU skips what is not a
message yet), and nothing takes long. Valid commands, with random arguments, get exactly
one reply each with their id, however the input is split."""

from __future__ import annotations

import json
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qconf.qmp.commands import COMMANDS
from qconf.qmp.control import Control
from qconf.qmp.protocol import JsonStream, QmpError, encode
from qconf.qmp.session import Session

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
SLOW = 2.0  # seconds: far above what any example takes (a few ms)

JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**80), 2**80),
              st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8),
              st.sampled_from(["0x80000000", "1_000", "cpu0", "/machine", "riscv-virt"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8,
)  # fmt: skip
# every command but the ones that end or reset the machine's life (tested elsewhere)
NAMES = sorted(set(COMMANDS) - {"quit", "system_reset"})


@st.composite
def commands(draw: st.DrawFn) -> dict[str, Any]:
    """A command of the table with random (often wrong) arguments and a random id."""
    name = draw(st.sampled_from(NAMES))
    declared = {a.name: a.type for a in COMMANDS[name].args}
    args = {key: draw(JSON) for key in draw(st.lists(st.sampled_from([*declared, "x"]),
                                                         max_size=4, unique=True))}  # fmt: skip
    msg: dict[str, Any] = {"execute": name}
    if args or draw(st.booleans()):
        msg["arguments"] = args
    if draw(st.booleans()):
        msg["id"] = draw(JSON)
    return msg


HOSTILE = st.one_of(
    st.binary(max_size=64),
    st.integers(1, 6000).map(lambda n: b'{"execute": "query-status", "id": ' + b"9" * n + b"}"),
    st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(1, 3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"1e400", b'{"a": 1, "a": 2}',
                     b'{"execute": }', b"\xff\xfe", b'"\\', b'{"s": "\\u12"}', b"}]", b"\x1b"]),
)  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid command's text, cut, with bytes changed or inserted."""
    raw = bytearray(json.dumps(draw(commands())).encode())
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(raw)))
        what = draw(st.sampled_from(["flip", "insert", "cut"]))
        if what == "flip" and at < len(raw):
            raw[at] = draw(st.integers(0, 255))
        elif what == "insert":
            raw[at:at] = draw(st.sampled_from([b"{", b"}", b"[", b'"', b"\\", b",", b"NaN"]))
        else:
            del raw[at:]
    return bytes(raw)


def run(chunks: list[bytes]) -> list[dict[str, Any]]:
    """Every message the session sends for the input, checked for form on the way."""
    session = Session(Control(), 1)
    stream = JsonStream()
    out: list[dict[str, Any]] = []
    for chunk in chunks:
        start = time.perf_counter()
        for value in stream.feed(chunk):
            for msg in session.handle(value):
                line = encode(msg)
                assert line.endswith(b"\r\n") and b"\n" not in line[:-1]
                back = json.loads(line)  # valid JSON, NaN and Infinity refused
                assert back == msg
                if "error" in msg:
                    error = msg["error"]
                    assert set(error) == {"class", "desc"} and isinstance(error["desc"], str)
                    assert error["class"] in ("GenericError", "CommandNotFound",
                                              "DeviceNotFound")  # fmt: skip
                    assert "qconf failed in" not in error["desc"], error["desc"]  # a bug
                else:
                    assert "return" in msg or "event" in msg, msg
                out.append(msg)
        assert time.perf_counter() - start < SLOW
    return out


def split(raw: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(raw) + 1) for c in cuts})
    return [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]


@SETTINGS
@given(msgs=st.lists(commands(), min_size=1, max_size=6),
       cuts=st.lists(st.integers(0, 10_000), max_size=5))  # fmt: skip
def test_valid_commands_get_one_reply_each_however_split(msgs, cuts):
    raw = b"".join(json.dumps(m).encode() for m in
                   [{"execute": "qmp_capabilities"}, *msgs])  # fmt: skip
    whole = run([raw])
    assert whole == run(split(raw, cuts))
    replies = [m for m in whole if "event" not in m]
    assert len(replies) == 1 + len(msgs)
    for msg, reply in zip(msgs, replies[1:], strict=True):
        assert ("id" in reply) == ("id" in msg) and reply.get("id") == msg.get("id")


@SETTINGS
@given(parts=st.lists(st.one_of(HOSTILE, mutated(),
                                commands().map(lambda m: json.dumps(m).encode())),
                      min_size=1, max_size=5),
       cuts=st.lists(st.integers(0, 100_000), max_size=6))  # fmt: skip
def test_hostile_input_never_escapes_and_the_stream_goes_on(parts, cuts):
    raw = b'{"execute": "qmp_capabilities"}' + b" ".join(parts)
    run(split(raw, cuts))
    # whatever came before, a message after a clean break is read: close what may be open
    stream = JsonStream()
    stream.feed(raw)
    tail = (b"x" if stream._escape else b"") + (b'"' if stream._string else b"")
    tail += b"]" * stream._depth + b' {"execute": "query-version", "id": "last"}'
    assert any(isinstance(v, dict) and v.get("id") == "last" for v in stream.feed(tail))
    assert not any(isinstance(v, QmpError) and "nesting too deep" in v.desc
                   for v in stream.feed(b"[" * 300 + b"]" * 300))  # fmt: skip


TRICKY_TEXT = st.text(alphabet=st.sampled_from(list('ab"\\[]{},: \n\u00e9\u2603')), max_size=12)
VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), TRICKY_TEXT,
              st.floats(allow_nan=False, allow_infinity=False)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(TRICKY_TEXT, inner, max_size=4)),
    max_leaves=30,
)  # fmt: skip


@SETTINGS
@given(values=st.lists(VALUES, min_size=1, max_size=5),
       cuts=st.lists(st.integers(0, 10_000), max_size=8),
       spaces=st.sampled_from([" ", "\n", "\r\n ", "\t"]))  # fmt: skip
def test_any_json_values_are_read_back_however_split(values, cuts, spaces):
    """Strings with quotes, backslashes and brackets in them, nesting, escapes cut in half:
    the stream finds each value's end as the parser does."""
    raw = spaces.join(json.dumps(v, ensure_ascii=False) for v in values).encode() + b" "
    stream = JsonStream()
    got = [v for chunk in split(raw, cuts) for v in stream.feed(chunk)]
    assert got == values
