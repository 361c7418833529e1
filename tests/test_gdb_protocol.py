"""The gdb remote protocol without a machine: framing (qconf.debug.rsp), the stub's answers
against a fake target (qconf.debug.stub), the target descriptions of each architecture
(qconf/arch/*/gdb.py), and where stubs listen (qconf.debug.server.layout)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from qconf.debug import rsp
from qconf.debug.layout import GdbAddressError, layout, parse_address
from qconf.debug.stub import SIGINT, Stop, Stub
from qconf.debug.tdesc import Description, Feature, Register

# --- framing ------------------------------------------------------------------------------


def test_frame_and_checksum_as_gdb_writes_them():
    assert rsp.frame(b"OK") == b"$OK#9a"
    assert rsp.frame(b"") == b"$#00"
    assert rsp.frame(b"qSupported") == b"$qSupported#37"


def test_binary_escapes_round_trip():
    data = bytes(range(256))
    escaped = rsp.escape(data)
    assert not any(b in escaped for b in b"$#*") and len(escaped) == 256 + 4  # 4 escaped
    assert rsp.unescape(escaped) == data
    assert rsp.unescape(b"a}\x03b") == b"a#b"
    with pytest.raises(ValueError):
        rsp.unescape(b"ab}")


def test_reader_splits_packets_acks_and_interrupts_across_chunks():
    reader = rsp.PacketReader()
    stream = b"+$g#67\x03-$m1000,4#8e$bad#00junk$X1,1:}\x03#5b"
    events = [e for i in range(len(stream)) for e in reader.feed(stream[i : i + 1])]
    assert events == [
        rsp.Ack(True), rsp.Packet(b"g"), rsp.Interrupt(), rsp.Ack(False),
        rsp.Packet(b"m1000,4"), rsp.Packet(b"bad", valid=False),
        rsp.Packet(b"X1,1:}\x03", valid=rsp.checksum(b"X1,1:}\x03") == 0x5B),
    ]  # fmt: skip


# --- the stub against a fake target -------------------------------------------------------

PC = Register("pc", 32, 2, "code_ptr", "pc")
REGS = (Register("r0", 32, 0), Register("r1", 32, 1), PC)
EXTRA = Feature("org.example.extra", (Register("wide", 64, 9),))
DESCRIPTION = Description("arm", (Feature("org.gnu.gdb.arm.m-profile", REGS), EXTRA))


@dataclass
class FakeTarget:
    """Two threads, 64 KiB of memory from 0x1000; records what the stub asks."""

    regs: dict[tuple[int, str], int] = field(default_factory=dict)
    memory: bytearray = field(default_factory=lambda: bytearray(0x10000))
    points: list[tuple[int, int, int, bool]] = field(default_factory=list)
    calls: list[Any] = field(default_factory=list)
    stub: Stub | None = None

    description = DESCRIPTION
    threads = 2

    def thread_name(self, thread: int) -> str:
        return f"/machine/cpu{thread - 1}"

    def read_register(self, thread: int, reg: Register) -> int | None:
        return None if reg.name == "wide" else self.regs.get((thread, reg.name), thread)

    def write_register(self, thread: int, reg: Register, value: int) -> bool:
        self.regs[(thread, reg.name)] = value
        return True

    def read_memory(self, thread: int, address: int, length: int) -> bytes | None:
        if not 0x1000 <= address <= 0x11000 - length:
            return None
        return bytes(self.memory[address - 0x1000 : address - 0x1000 + length])

    def write_memory(self, thread: int, address: int, data: bytes) -> bool:
        if not 0x1000 <= address <= 0x11000 - len(data):
            return False
        self.memory[address - 0x1000 : address - 0x1000 + len(data)] = data
        return True

    def breakpoint(self, kind: int, address: int, length: int, insert: bool) -> bool:
        self.points.append((kind, address, length, insert))
        return True

    def step(self, thread: int) -> Stop:
        self.calls.append(("step", thread))
        return Stop(thread)

    def resume(self, threads: set[int] | None = None) -> None:
        self.calls.append(("resume", threads))

    def interrupt(self) -> None:
        self.calls.append("interrupt")
        assert self.stub is not None
        self.stub.report(Stop(1, SIGINT))

    def detach(self) -> None:
        self.calls.append("detach")

    def kill(self) -> None:
        self.calls.append("kill")

    def monitor(self, command: str) -> str:
        return f"ran {command}\n" * 3


class Gdb:
    """The gdb side of a stub: sends packets, collects what comes back."""

    def __init__(self) -> None:
        self.target = FakeTarget()
        self.out = bytearray()
        self.stub = self.target.stub = Stub(self.target, self.out.extend)
        self.reader = rsp.PacketReader()

    def ask(self, data: bytes) -> list[bytes]:
        """Send one packet; the packets it answered (acks dropped)."""
        self.out.clear()
        self.stub.feed(rsp.frame(data))
        return [e.data for e in self.reader.feed(bytes(self.out)) if isinstance(e, rsp.Packet)]

    def one(self, data: bytes) -> bytes:
        (reply,) = self.ask(data)
        return reply


def test_negotiation_and_no_ack_mode():
    gdb = Gdb()
    features = gdb.one(b"qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+")
    assert features.split(b";") == [b"PacketSize=1000", b"qXfer:features:read+",
                                    b"vContSupported+", b"QStartNoAckMode+", b"swbreak+",
                                    b"hwbreak+"]  # fmt: skip
    gdb.out.clear()
    gdb.stub.feed(rsp.frame(b"QStartNoAckMode"))
    assert bytes(gdb.out) == b"+" + rsp.frame(b"OK")  # acknowledged, then no more acks
    gdb.out.clear()
    gdb.stub.feed(rsp.frame(b"?"))
    assert bytes(gdb.out) == rsp.frame(b"T05thread:1;")


def test_acks_nak_and_retransmission():
    gdb = Gdb()
    gdb.stub.feed(b"$qC#00")  # wrong checksum: asked again
    assert bytes(gdb.out) == b"-"
    gdb.out.clear()
    gdb.stub.feed(rsp.frame(b"qC"))
    assert bytes(gdb.out) == b"+" + rsp.frame(b"QC1")
    gdb.out.clear()
    gdb.stub.feed(b"-")  # gdb did not get it: the same packet again
    assert bytes(gdb.out) == rsp.frame(b"QC1")


def test_registers_g_p_and_writes():
    gdb = Gdb()
    assert gdb.one(b"g") == b"01000000" * 3  # thread 1's r0, r1, pc (the first feature)
    assert gdb.one(b"Hg2") == b"OK"
    assert gdb.one(b"p2") == b"02000000"
    assert gdb.one(b"p9") == b"xx" * 8  # unavailable
    assert gdb.one(b"p7") == b"E14"  # no such register
    assert gdb.one(b"P2=78563412") == b"OK"
    assert gdb.target.regs[(2, "pc")] == 0x12345678
    assert gdb.one(b"G" + b"aa000000" + b"bb000000" + b"cc000000") == b"OK"
    assert gdb.target.regs[(2, "r0")] == 0xAA and gdb.target.regs[(2, "pc")] == 0xCC
    assert gdb.one(b"Hg9") == b"E22"


def test_memory_m_M_and_binary_X():
    gdb = Gdb()
    assert gdb.one(b"M1000,4:deadbeef") == b"OK"
    assert gdb.one(b"m1000,4") == b"deadbeef"
    assert gdb.one(b"X1004,0:") == b"OK"  # gdb's probe
    assert gdb.one(b"X1004,3:" + rsp.escape(b"#$}")) == b"OK"
    assert gdb.one(b"m1004,3") == b"#$}".hex().encode()
    assert gdb.one(b"m0,4") == b"E14"
    assert gdb.one(b"M0,1:00") == b"E14"
    assert gdb.one(b"M1000,2:00") == b"E01"  # length and data disagree
    assert gdb.one(b"mzz") == b"E01"  # malformed


def test_breakpoints_and_watchpoints():
    gdb = Gdb()
    assert gdb.one(b"Z0,1000,2") == b"OK"
    assert gdb.one(b"z0,1000,2") == b"OK"
    assert gdb.one(b"Z2,2000,4") == b"OK"
    assert gdb.one(b"Z4,2000,8;X1,0") == b"OK"  # a condition gdb could evaluate here: ignored
    assert gdb.one(b"Z5,0,0") == b""  # not a kind the protocol has
    assert gdb.target.points == [(0, 0x1000, 2, True), (0, 0x1000, 2, False),
                                 (2, 0x2000, 4, True), (4, 0x2000, 8, True)]  # fmt: skip


@pytest.mark.parametrize(
    ("packet", "call"),
    [
        (b"vCont;c", ("resume", None)),
        (b"vCont;c:2", ("resume", {2})),
        (b"vCont;c:1;c:2", ("resume", {1, 2})),
        (b"c", ("resume", None)),
        (b"vCont;C05:1;c", ("resume", None)),
    ],
    ids=["all", "one-thread", "two-threads", "c", "signal-ignored"],
)
def test_continue_resumes_and_the_stop_reply_comes_later(packet, call):
    gdb = Gdb()
    gdb.one(b"qSupported:swbreak+")
    assert gdb.ask(packet) == []
    assert gdb.target.calls == [call]
    assert gdb.stub.running
    gdb.out.clear()
    gdb.stub.report(Stop(2, reason="swbreak"))
    assert bytes(gdb.out) == rsp.frame(b"T05thread:2;swbreak:;")
    assert gdb.one(b"qC") == b"QC2"  # the stopped thread is gdb's thread now


@pytest.mark.parametrize(
    ("packet", "thread"),
    [(b"vCont;s:2;c", 2), (b"vCont;s:1", 1), (b"s", 1), (b"vCont;c:1;s:2", 2)],
    ids=["step-and-continue", "step", "s", "step-after-continue"],
)
def test_a_step_is_one_thread_and_replies_at_once(packet, thread):
    gdb = Gdb()
    assert gdb.one(packet) == b"T05thread:%d;" % thread
    assert gdb.target.calls == [("step", thread)]
    assert not gdb.stub.running


def test_continue_at_an_address_writes_the_pc():
    gdb = Gdb()
    gdb.ask(b"c1234")
    assert gdb.target.regs[(1, "pc")] == 0x1234


def test_interrupt_only_while_running():
    gdb = Gdb()
    gdb.stub.feed(b"\x03")
    assert gdb.target.calls == []
    gdb.ask(b"vCont;c")
    gdb.out.clear()
    gdb.stub.feed(b"\x03")
    assert gdb.target.calls == [("resume", None), "interrupt"]
    assert bytes(gdb.out) == rsp.frame(b"T02thread:1;")


def test_stop_replies_for_watchpoints_and_exit():
    gdb = Gdb()
    assert gdb.stub.stop_reply(Stop(1, reason="watch", address=0x80001000)) == (
        b"T05thread:1;watch:80001000;"
    )
    assert gdb.stub.stop_reply(Stop(2, reason="awatch", address=0x10)) == b"T05thread:2;awatch:10;"
    assert gdb.stub.stop_reply(Stop(1, reason="swbreak")) == b"T05thread:1;"  # gdb did not ask
    assert gdb.stub.stop_reply(Stop(exited=3)) == b"W03"


def test_threads_queries_and_monitor():
    gdb = Gdb()
    assert gdb.one(b"qfThreadInfo") == b"m1,2"
    assert gdb.one(b"qsThreadInfo") == b"l"
    assert gdb.one(b"qAttached") == b"1"
    assert gdb.one(b"qAttached:1") == b"1"
    assert gdb.one(b"qThreadExtraInfo,2") == b"/machine/cpu1".hex().encode()
    assert gdb.one(b"T2") == b"OK"
    assert gdb.one(b"T3") == b"E01"
    *output, done = gdb.ask(b"qRcmd," + b"info mtree".hex().encode())
    assert done == b"OK"
    assert b"".join(bytes.fromhex(p[1:].decode()) for p in output) == b"ran info mtree\n" * 3
    assert gdb.one(b"vMustReplyEmpty") == b""
    assert gdb.one(b"qTStatus") == b""
    assert gdb.one(b"vCont?") == b"vCont;c;C;s;S"


def test_target_xml_in_chunks():
    gdb = Gdb()
    xml = DESCRIPTION.xml().encode()
    got, offset = b"", 0
    while True:
        reply = gdb.one(b"qXfer:features:read:target.xml:%x,40" % offset)
        got += rsp.unescape(reply[1:])
        offset += len(rsp.unescape(reply[1:]))
        if reply[:1] == b"l":
            break
        assert reply[:1] == b"m"
    assert got == xml
    assert gdb.one(b"qXfer:features:read:other.xml:0,100") == b"E00"


def test_detach_and_kill_end_the_session():
    gdb = Gdb()
    assert gdb.ask(b"D") == [b"OK"]
    assert gdb.stub.closed and gdb.target.calls == ["detach"]
    gdb = Gdb()
    assert gdb.ask(b"k") == []
    assert gdb.stub.closed and gdb.target.calls == ["kill"]


# --- target descriptions --------------------------------------------------------------------


def _core(arch: str, isa: tuple[str, ...] = ()) -> Any:
    from qconf.arch.aarch64 import AARCH64
    from qconf.arch.cortexm import CORTEX_M
    from qconf.arch.riscv import RV32, RV64

    info = {"rv64": RV64, "rv32": RV32, "aarch64": AARCH64, "cortex-m": CORTEX_M}[arch]
    obj = SimpleNamespace(get=lambda prop: list(isa) if prop == "isa" else None)
    return SimpleNamespace(arch=info, xlen=info.bits, obj=obj)


@pytest.mark.parametrize(
    ("arch", "isa", "architecture", "features", "count", "g_size"),
    [
        ("rv64", ("i", "m", "a", "f", "d", "c"), "riscv:rv64",
         ["cpu", "fpu", "virtual", "csr"], 33 + 32 + 1 + 26, 33 * 8),
        ("rv32", ("i", "m", "c"), "riscv:rv32", ["cpu", "virtual", "csr"], 33 + 1 + 26, 33 * 4),
        ("aarch64", (), "aarch64", ["core", "fpu", "system"], 34 + 34 + 14, 33 * 8 + 4),
        ("cortex-m", (), "arm", ["m-profile", "m-system"], 17 + 6, 17 * 4),
    ],
    ids=["rv64", "rv32", "aarch64", "cortex-m"],
)  # fmt: skip
def test_descriptions_are_well_formed_and_numbered_as_qemus(arch, isa, architecture,
                                                           features, count, g_size):  # fmt: skip
    from qconf.model.facets import load

    core = _core(arch, isa)
    description: Description = load(core.arch.gdb).describe(core)
    root = ET.fromstring(description.xml())
    assert root.findtext("architecture") == architecture
    names = [f.get("name", "").rsplit(".", 1)[-1] for f in root.iter("feature")]
    assert names == features
    regs = list(root.iter("reg"))
    assert len(regs) == count == len(description.by_number)
    assert sum(r.size for r in description.g_registers) == g_size
    numbers = {r.get("name"): int(r.get("regnum", -1)) for r in regs}
    expected = {
        "rv64": {"zero": 0, "pc": 32, "ft0": 33, "priv": 65, "mstatus": 834},
        "rv32": {"zero": 0, "pc": 32, "priv": 65, "mstatus": 834},
        "aarch64": {"x0": 0, "sp": 31, "pc": 32, "cpsr": 33, "v0": 34, "fpcr": 67},
        "cortex-m": {"r0": 0, "pc": 15, "xpsr": 25, "msp": 26, "control": 31},
    }[arch]
    assert {name: numbers[name] for name in expected} == expected


def test_every_register_has_an_engine_number_or_its_own_access():
    from unicorn import arm64_const

    from qconf.arch.aarch64.gdb import _CP
    from qconf.model.facets import load

    for arch, isa in (("rv64", ("f", "d")), ("aarch64", ()), ("cortex-m", ())):
        core = _core(arch, isa)
        for reg in load(core.arch.gdb).describe(core).by_number.values():
            if reg.engine is None:
                assert reg.name in _CP, reg
            else:
                assert core.arch.register_number(reg.engine) is not None, reg
    assert arm64_const.UC_ARM64_REG_CP_REG


# --- where stubs listen -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("tcp:127.0.0.1:1234", ("tcp", ("127.0.0.1", 1234))),
     ("tcp::1234", ("tcp", ("127.0.0.1", 1234))),
     ("tcp:localhost:1", ("tcp", ("localhost", 1))), ("tcp:[::1]:5", ("tcp", ("::1", 5))),
     ("unix:/tmp/g.sock", ("unix", "/tmp/g.sock"))],
    ids=["loopback", "empty-host", "localhost", "ipv6", "unix"],
)  # fmt: skip
def test_addresses(text, expected):
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["tcp:0.0.0.0:1234", "udp::1", "tcp::x", "tcp::99999", "unix:"])
def test_bad_or_remote_addresses_are_E951(text):
    with pytest.raises(GdbAddressError) as info:
        parse_address(text)
    assert info.value.code == "E951"
    assert parse_address("tcp:0.0.0.0:1234", allow_remote=True) == ("tcp", ("0.0.0.0", 1234))


def _cpu(key: str, arch: str) -> Any:
    info = SimpleNamespace(arch_info=SimpleNamespace(name=arch, gdb="x:y"))
    return SimpleNamespace(key=key, path="/machine/" + key.replace(".", "/"), info=info)


CPUS = [_cpu("app.cpu0", "riscv64"), _cpu("mcu.cpu0", "cortex-m"), _cpu("app.cpu1", "riscv64"),
        _cpu("dsp.cpu0", "aarch64")]  # fmt: skip


def _slots(specs: list[str]) -> list[tuple[str, list[str]]]:
    return [(s.address, s.cpus) for s in layout(specs, CPUS)]


def test_plain_address_serves_each_architecture_on_the_next_port():
    assert _slots(["tcp:127.0.0.1:1234"]) == [
        ("tcp:127.0.0.1:1234", ["/machine/app/cpu0", "/machine/app/cpu1"]),
        ("tcp:127.0.0.1:1235", ["/machine/mcu/cpu0"]),
        ("tcp:127.0.0.1:1236", ["/machine/dsp/cpu0"]),
    ]
    assert [a for a, _ in _slots(["unix:/tmp/g"])] == [
        "unix:/tmp/g",
        "unix:/tmp/g.2",
        "unix:/tmp/g.3",
    ]


def test_cpu_addresses_and_the_rest():
    assert _slots(["mcu.cpu0=tcp::2000", "tcp::1234"]) == [
        ("tcp::1234", ["/machine/app/cpu0", "/machine/app/cpu1"]),
        ("tcp::2000", ["/machine/mcu/cpu0"]),
        ("tcp::1235", ["/machine/dsp/cpu0"]),
    ]
    # two stubs for one architecture: the CPUs named, the others with the first
    assert _slots(["/machine/app/cpu1=tcp::2001", "app.cpu0=tcp::2000"]) == [
        ("tcp::2000", ["/machine/app/cpu0"]),
        ("tcp::2001", ["/machine/app/cpu1"]),
    ]


@pytest.mark.parametrize(
    ("specs", "words"),
    [(["gpu.cpu0=tcp::1"], "not a CPU gdb can debug"),
     (["app.cpu0=tcp::1", "mcu.cpu0=tcp::1"], "one architecture at a time"),
     (["app.cpu0=tcp:10.0.0.1:1"], "reachable from other machines"),
     (["tcp::1234", "mcu.cpu0=tcp::1235"], "would serve both")],
    ids=["unknown-cpu", "two-archs", "remote", "next-port-taken"],
)  # fmt: skip
def test_layout_errors(specs, words):
    with pytest.raises(GdbAddressError, match=words):
        layout(specs, CPUS)
