"""GDB stubs on a running machine: where they listen, which CPUs each serves, and the
machine stopping as a whole (all-stop) while any debugger has it stopped.

**Layout.** A stub serves the CPUs of one architecture, as threads; ``-s`` (``--gdb
tcp:127.0.0.1:1234``) serves each architecture of a heterogeneous machine on its own port
(:func:`qconf.debug.layout.layout` decides; the run prints it once on stderr).

**All-stop.** The server is the scheduler's :class:`~qconf.emu.scheduler.Debugger`. A
connection, Ctrl-C in gdb, or a hook that stopped a core (a breakpoint, a watchpoint)
makes that stub *stopped*; while any stub is stopped (or, with ``-S``, has not yet seen its
debugger's first ``continue``) no CPU runs and virtual time stands still: it serves every
stub and the controller (QMP) inside the scheduler's call, and returns when all have let
the machine go. A stop inside a CPU's slice is a pause in it: the slice then goes on where it
stopped, so a run with breakpoints does exactly what a run without them does. A step runs
one instruction of one CPU (:meth:`GdbServer.step`), nothing else.
"""

from __future__ import annotations

import os
import selectors
import socket
import sys
import time
from collections.abc import Sequence
from typing import Any, Protocol

from qconf.debug.cpu import CoreDebug
from qconf.debug.layout import GdbAddressError, Slot, layout, parse_address
from qconf.debug.stub import SIGILL, SIGINT, SIGSEGV, SIGTRAP, Stop, Stub
from qconf.debug.target import CpuTarget

__all__ = ("Controller", "GdbServer")

POLL_PERIOD = 0.01
"""Host seconds between two looks at the sockets while the machine runs (Ctrl-C, a new
connection); while it is stopped, the server waits on them."""


class Controller(Protocol):
    """The run's other controller (QMP), which the server serves while the machine is
    stopped, and whose run state a debugger's ``continue`` resumes (as QEMU's does)."""

    def serve(self) -> None:
        """Answer its clients now, without waiting."""
        ...

    def resume(self) -> None:
        """A debugger let the machine run: a machine paused (``-S``, ``stop``) runs."""
        ...

    def monitor(self, line: str, cpu_index: int) -> str:
        """A human monitor command line (``monitor info mtree``); its output."""
        ...


def _signal_of(cause: str) -> int:
    words = cause.lower()
    if "breakpoint" in words:
        return SIGTRAP
    if "instruction" in words and (
        "invalid" in words or "illegal" in words or "undefined" in words
    ):
        return SIGILL
    return SIGSEGV


class GdbServer:
    """The gdb stubs of a run (``qconf run -s``, ``--gdb``, the ``gdbserver`` command).

    :param specs: ``ADDRESS`` or ``CPU=ADDRESS`` texts (see :func:`layout`).
    :param allow_remote: addresses other than loopback may listen.
    :param wait: hold the machine before its first instruction until the debugger of every
        stub has continued (``-S`` without QMP: two debuggers of a heterogeneous machine
        both see it from its start; with QMP, QMP's paused state holds it, and ends at
        QMP's ``cont`` or any debugger's ``continue``, as in QEMU).
    :param controller: QMP, when the run has it.
    """

    def __init__(self, specs: Sequence[str], allow_remote: bool = False, wait: bool = False,
                 controller: Controller | None = None) -> None:  # fmt: skip
        for spec in specs:  # the addresses are checked before anything is built
            parse_address(spec.rpartition("=")[2], allow_remote)
        self.specs, self.allow_remote = list(specs), allow_remote
        self.wait = wait
        self.controller = controller
        self.slots: list[Slot] = []
        self.selector = selectors.DefaultSelector()
        self.emulator: Any = None
        self.scheduler: Any = None
        self._fault: Any = None  # a guest fault debuggers were shown: the run ends with it
        self._next_poll = 0.0
        self._control: Any = None  # the human monitor's state without QMP

    # --- set-up ----------------------------------------------------------------------

    def attach(self, emulator: Any) -> None:
        """Serve ``emulator``'s CPUs (the first run opens the sockets and says where they
        listen; a machine powered on again keeps them, and gdb's breakpoints).

        :raises GdbAddressError: see :func:`layout`, or an address cannot be listened on.
        """
        self.emulator, self.scheduler = emulator, emulator.scheduler
        cores = {core.obj.path: core for core in emulator.cpus}
        if not self.slots:
            self.slots = layout(self.specs, [core.obj for core in emulator.cpus], self.allow_remote)
            if not self.slots:
                raise GdbAddressError("no CPU of this machine can be debugged with gdb",
                                      hint="its CPU types have no gdb description")  # fmt: skip
            for slot in self.slots:
                self._listen(slot)
                slot.waiting = self.wait
                where = ", ".join(f"{p} ({cores[p].obj.info.name})" for p in slot.cpus)
                print(f"qconf: gdb: {slot.address} serves {where}", file=sys.stderr)
            if self.wait and len(self.slots) > 1:
                print("qconf: gdb: -S: the machine starts once a debugger has continued on "
                      "each address", file=sys.stderr)  # fmt: skip
        self._fault = None
        for slot in self.slots:
            served = [cores[p] for p in slot.cpus]
            if slot.target is None:
                slot.target = CpuTarget(self, slot, served)
            slot.target.attach(served)
            slot.target.apply()
        self.scheduler.debugger = self

    def _listen(self, slot: Slot) -> None:
        kind, where = parse_address(slot.address, self.allow_remote)
        try:
            if kind == "unix":
                if os.path.exists(where):
                    os.unlink(where)
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                old = os.umask(0o177)  # owner-only from the start
                try:
                    sock.bind(where)
                finally:
                    os.umask(old)
                slot.path = where
            else:
                family = socket.AF_INET6 if ":" in where[0] else socket.AF_INET
                sock = socket.socket(family, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(where)
            sock.listen(1)
        except OSError as exc:
            self.close()
            raise GdbAddressError(
                f"cannot listen for gdb on {slot.address}: {exc.strerror}",
                hint="choose another port (--gdb tcp::PORT)",
            ) from None
        sock.setblocking(False)
        slot.listener = sock
        self.selector.register(sock, selectors.EVENT_READ, (slot, "listen"))

    # --- the scheduler's debugger ------------------------------------------------------

    def between(self) -> None:
        if not self._holding():
            now = time.monotonic()
            if now < self._next_poll:
                return
            self._next_poll = now + POLL_PERIOD
            self.poll(0)
        if self._holding():
            self._hold()

    def held(self, cpu: Any) -> bool:
        debug = cpu.debug
        if not isinstance(debug, CoreDebug) or debug.event is None:
            return False
        reason, address = debug.event
        debug.event = None
        slot = self._slot_serving(cpu)
        if slot is None or slot.target is None:
            return True  # no debugger's any more: the slice goes on
        self._stop(slot, self._stop_at(slot.target, cpu, reason, address))
        self._hold()
        return not debug.frozen

    def fault(self, fault: Any) -> None:
        if fault is self._fault:
            return  # shown already (a step faulted)
        cpu = next((c for c in self.emulator.cpus if c.obj.path == fault.cpu), None)
        slot = self._slot_serving(cpu) if cpu is not None else None
        if slot is None or slot.target is None or slot.client is None:
            return
        self._fault = fault
        self._stop(slot, Stop(slot.target.thread_of(cpu), _signal_of(fault.cause)))
        self._hold(raise_fault=False)

    # --- what stubs ask ----------------------------------------------------------------

    def step(self, target: CpuTarget, thread: int) -> Stop:
        """One instruction of ``thread``'s CPU, now; why it stopped."""
        from qconf.emu.faults import GuestFault

        if self._fault is not None:  # the machine faulted: it runs no more
            return Stop(thread, _signal_of(self._fault.cause))
        core = target.core(thread)
        target.apply()
        debug: CoreDebug = core.debug
        try:
            debug.step(lambda budget: self.scheduler.run_alone(core, budget))
        except GuestFault as exc:
            self._fault = exc
            return Stop(thread, _signal_of(exc.cause))
        event, debug.event = debug.event, None
        if self.scheduler.stopping:
            return Stop(thread, exited=self.scheduler.exit_code)
        if event is None or event[0] == "step":
            return Stop(thread)
        return self._stop_at(target, core, *event)

    def _stop_at(self, target: CpuTarget, core: Any, reason: str, address: int) -> Stop:
        """The stop a hook's ``reason`` makes (a watchpoint's: before the access)."""
        watch = reason.endswith("watch")
        return Stop(target.thread_of(core), SIGTRAP, reason, address if watch else 0)

    def runs(self, cpu: Any) -> bool:
        debug = cpu.debug
        return not (isinstance(debug, CoreDebug) and debug.frozen)

    def resume(self, target: CpuTarget, threads: set[int] | None = None) -> None:
        """``target``'s debugger lets the machine run (it runs once no other holds it):
        every CPU, or of this stub's only ``threads`` (``vCont;c:1``, as QEMU's)."""
        target.apply()
        for thread, core in enumerate(target.cores, 1):
            if isinstance(core.debug, CoreDebug):
                core.debug.frozen = threads is not None and thread not in threads
        slot = target.slot
        slot.stopped = slot.waiting = False
        if self.controller is not None:
            self.controller.resume()

    def interrupt(self, target: CpuTarget) -> None:
        """Ctrl-C in gdb: the machine stops (it is between slices, or stopped already)."""
        slot = target.slot
        assert slot.stub is not None
        self._stop(slot, Stop(slot.stub.g_thread, SIGINT))

    def detach(self, target: CpuTarget) -> None:
        """gdb leaves: its breakpoints go, the machine runs on."""
        target.clear()
        for core in target.cores:
            if isinstance(core.debug, CoreDebug):
                core.debug.frozen = False
        target.slot.stopped = target.slot.waiting = False
        if self.controller is not None:
            self.controller.resume()

    def kill(self, target: CpuTarget) -> None:
        """gdb's ``kill``: the run ends (status 0, as QEMU ends)."""
        target.clear()
        target.slot.stopped = target.slot.waiting = False
        self.scheduler.request_stop(0, f"killed from gdb ({target.slot.address})")
        self.scheduler.cut_slice()

    def monitor(self, command: str, target: CpuTarget) -> str:
        """``monitor LINE``: the human monitor's commands (``info registers``, ``info
        mtree``, ``x /4xw ADDR``...), for the thread gdb has selected."""
        from qconf.qmp.protocol import QmpError

        assert target.slot.stub is not None
        core = target.core(target.slot.stub.g_thread)
        index = next(i for i, c in enumerate(self.emulator.cpus) if c is core)
        try:
            if self.controller is not None:
                text = self.controller.monitor(command, index)
            else:
                text = self._monitor(command, index)
        except QmpError as exc:
            text = f"{exc}\n"
        return text.replace("\r\n", "\n")

    def _monitor(self, command: str, index: int) -> str:
        from qconf.qmp.commands import human_monitor_command
        from qconf.qmp.control import Control
        from qconf.qmp.state import Runstate

        if self._control is None:
            self._control = Control(machine=self.emulator.machine)
            self._control.transition(Runstate.RUNNING)
        control = self._control
        control.emulation = self.emulator
        args = {"command-line": command, "cpu-index": index}
        text = str(human_monitor_command(control, args, "gdb"))
        if control.quit_requested:
            self.scheduler.request_stop(0, "quit (monitor command from gdb)")
        if control.reset_requested:
            control.reset_requested = False
            text += "system_reset needs QMP (qconf run --qmp ...)\n"
        return text

    def code_changed(self, core: Any, address: int, start: int, length: int) -> None:
        """gdb wrote memory: code translated from it is dropped, on every CPU."""
        core.uc.ctl_remove_cache(address, address + length)
        for other in self.emulator.cpus:
            if other is not core:
                other.uc.ctl_remove_cache(start, start + length)

    # --- stopping and holding ------------------------------------------------------------

    def _slot_serving(self, cpu: Any) -> Slot | None:
        return next((s for s in self.slots if cpu.obj.path in s.cpus), None)

    def _stop(self, slot: Slot, stop: Stop) -> None:
        slot.stopped = slot.client is not None
        if slot.stub is not None:
            slot.stub.report(stop)

    def _holding(self) -> bool:
        return any(slot.stopped or slot.waiting for slot in self.slots)

    def _hold(self, raise_fault: bool = True) -> None:
        """Serve every stub and the controller until none holds the machine."""
        while self._holding() and not self.scheduler.stopping:
            self.poll(0.05)
            if self.controller is not None:
                self.controller.serve()
        if raise_fault and self._fault is not None and not self.scheduler.stopping:
            raise self._fault

    # --- sockets -----------------------------------------------------------------------

    def poll(self, timeout: float = 0.0) -> None:
        """Accept debuggers, read what they sent and answer; wait up to ``timeout``."""
        for key, events in self.selector.select(timeout):
            slot: Slot = key.data[0]
            if key.data[1] == "listen":
                self._accept(slot)
                continue
            if events & selectors.EVENT_WRITE:
                self._flush(slot)
            client = slot.client
            if events & selectors.EVENT_READ and client is not None and client.fileno() == key.fd:
                try:
                    data = client.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:  # gdb went away: as if it detached
                    if slot.target is not None:
                        slot.target.clear()
                    self._drop(slot)
                    continue
                assert slot.stub is not None
                slot.stub.feed(data)
                if slot.stub.closed:
                    self._drop(slot)

    def _accept(self, slot: Slot) -> None:
        assert slot.listener is not None
        try:
            conn, _ = slot.listener.accept()
        except OSError:
            return
        if slot.client is not None or slot.target is None:  # one debugger per stub
            conn.close()
            return
        conn.setblocking(False)
        if conn.family != socket.AF_UNIX:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        slot.client = conn
        slot.stub = Stub(slot.target, lambda data: self._send(slot, data))
        self.selector.register(conn, selectors.EVENT_READ, (slot, "client"))
        slot.stopped = True  # a debugger that connects stops the machine, as QEMU does

    def _send(self, slot: Slot, data: bytes) -> None:
        slot.outbox += data
        self._flush(slot)

    def _flush(self, slot: Slot) -> None:
        if slot.client is None:
            return
        try:
            sent = slot.client.send(slot.outbox) if slot.outbox else 0
        except BlockingIOError:
            sent = 0
        except OSError:
            slot.outbox.clear()
            return
        del slot.outbox[:sent]
        wanted = selectors.EVENT_READ | (selectors.EVENT_WRITE if slot.outbox else 0)
        if self.selector.get_key(slot.client).events != wanted:
            self.selector.modify(slot.client, wanted)

    def _drop(self, slot: Slot) -> None:
        client, slot.client = slot.client, None
        slot.stub, slot.stopped = None, False
        if client is None:
            return
        if slot.outbox:  # the last reply (OK to a detach), as far as it goes
            try:
                client.setblocking(True)
                client.settimeout(1.0)
                client.sendall(slot.outbox)
            except OSError:
                pass
        slot.outbox.clear()
        self.selector.unregister(client)
        client.close()

    # --- the end -----------------------------------------------------------------------

    def finish(self, exit_code: int) -> None:
        """The run ended: debuggers waiting for the machine hear that it exited (``W``),
        as from QEMU."""
        for slot in self.slots:
            if slot.stub is not None and slot.stub.running:
                slot.stub.report(Stop(exited=exit_code))
        if self.scheduler is not None and self.scheduler.debugger is self:
            self.scheduler.debugger = None

    def close(self) -> None:
        """Hang up on every debugger, stop listening, remove the hooks."""
        for slot in self.slots:
            if slot.target is not None:
                for core in slot.target.cores:
                    if isinstance(core.__dict__.get("debug"), CoreDebug):
                        if "uc" in core.__dict__:
                            core.debug.close()
                        core.debug = None
            self._drop(slot)
            if slot.listener is not None:
                self.selector.unregister(slot.listener)
                slot.listener.close()
                slot.listener = None
            if slot.path is not None and os.path.exists(slot.path):
                os.unlink(slot.path)
        self.selector.close()
        if self.scheduler is not None and self.scheduler.debugger is self:
            self.scheduler.debugger = None
