"""Device models: what each device type does when the guest touches its registers.

These are the models that run (the emulator calls them on every MMIO access); the
types and their properties are declared in :mod:`qconf.devices`, and each module here
is named after its declaring module there. A model gets its object (for properties),
the emulation (virtual time, interrupt lines, stop requests) and its character backend;
nothing else.

- ``base``: :class:`MmioModel`, the ``_Device`` base class, the tapped character backend
- ``uart``: NS16550A, PL011, CMSDK APB UART
- ``power``: SiFive test finisher, poweroff register
- ``clint``, ``plic``: the RISC-V interrupt controllers (CLINT also the machine timer)
- ``nvic``: the Cortex-M NVIC with SysTick and the SCB
- ``gic``: the GICv2 of AArch64 machines
- ``timer``: the generic ``timer`` type
- ``mailbox``: the two-sided mailbox

This module holds :data:`MODELS`, the table from device type to model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from qconf.emu.devices.base import MmioModel
from qconf.emu.devices.clint import Clint
from qconf.emu.devices.gic import Gic
from qconf.emu.devices.mailbox import Mailbox
from qconf.emu.devices.nvic import Nvic
from qconf.emu.devices.plic import Plic
from qconf.emu.devices.power import Poweroff, SifiveTest
from qconf.emu.devices.timer import Timer
from qconf.emu.devices.uart import CmsdkUart, Ns16550a, Pl011
from qconf.model.objects import Object

if TYPE_CHECKING:
    from qconf.emu.emulator import Emulation

__all__ = ("MODELS", "MmioModel")


Factory = Callable[[Object, "Emulation"], MmioModel]

MODELS: dict[str, Factory] = {
    "ns16550a": Ns16550a,
    "pl011": Pl011,
    "cmsdk-apb-uart": CmsdkUart,
    "sifive-test": SifiveTest,
    "poweroff": Poweroff,
    "clint": Clint,
    "nvic": Nvic,
    "mailbox": Mailbox,
    "plic": Plic,
    "gic": Gic,
    "timer": Timer,
}
"""Device type -> its model. A device type not listed here is mapped as unimplemented:
accesses read 0, writes are ignored, and the first one is noted."""
