"""A two-sided mailbox for heterogeneous machines (registers: qconf.devices.mailbox.model.Mailbox,
docs/running.md)."""

from __future__ import annotations

from pydantic import Field

from qconf.devices.common import MmioProps
from qconf.model.props import Integer, IrqRefs
from qconf.model.registry import TypeInfo, TypeRegistry


class MailboxProps(MmioProps):
    irq_a: IrqRefs | None = Field(
        None,
        description="Interrupt input of side A (raised when "
        "side B rings the doorbell or posts a message).",
    )
    irq_b: IrqRefs | None = Field(None, description="Interrupt input of side B.")
    fifo_depth: Integer = Field(
        16, ge=1, le=1024, description="Messages each direction's FIFO holds."
    )


def register(registry: TypeRegistry) -> None:
    registry.add(TypeInfo("mailbox", MailboxProps, "Doorbell registers and a message FIFO per "
                          "direction, with an interrupt to each side.", "mailbox", __name__,
                          behaviour="qconf.devices.mailbox.model:Mailbox"))  # fmt: skip
