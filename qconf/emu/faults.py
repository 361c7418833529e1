"""What a guest that crashes gets: a report naming the CPU, the pc, the cause, the
faulting instruction (disassembled by its architecture, see
:meth:`~qconf.model.facets.ArchInfo.disassemble`) and the registers."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ("GuestFault",)


@dataclass
class GuestFault(Exception):
    """A guest fault: the run stops and this is reported (exit status 3)."""

    cpu: str
    arch: str
    pc: int
    cause: str
    instruction: str = ""
    registers: dict[str, int] = field(default_factory=dict)
    time_ns: int = 0
    system: tuple[str, ...] = ()  # which registers are system registers (shown apart)

    def lines(self) -> list[str]:
        out = [f"qconf: guest fault on {self.cpu} ({self.arch}) at pc {self.pc:#x}: {self.cause}"]
        if self.instruction:
            out.append(f"  {self.pc:#x}: {self.instruction}")
        regs = list(self.registers.items())
        general = [(n, v) for n, v in regs if n not in self.system]
        system = [(n, v) for n, v in regs if n in self.system]
        for group, width, per_line in ((general, 4, 4), (system, 7, 3)):
            for i in range(0, len(group), per_line):
                out.append("  " + "  ".join(f"{n:>{width}}={v:#018x}"
                                            for n, v in group[i : i + per_line]))  # fmt: skip
        out.append(f"  virtual time {self.time_ns / 1e6:.6f} ms")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())
