"""Built-in device types. Each family declares its types (properties and registry
entries, see :class:`~qconf.model.registry.TypeInfo`) in a module the registry loads;
a family whose devices do something is a package whose models (behaviour and device-tree
node) are imported only when a machine runs. CPU types are in :mod:`qconf.arch`."""

BUILTIN_MODULES = (
    "qconf.devices.machine",
    "qconf.arch.riscv.types",
    "qconf.arch.cortexm.types",
    "qconf.arch.aarch64.types",
    "qconf.devices.memory",
    "qconf.devices.uart.types",
    "qconf.devices.intc.types",
    "qconf.devices.timer.types",
    "qconf.devices.power.types",
    "qconf.devices.mailbox.types",
    "qconf.devices.rtc.types",
    "qconf.devices.clock",
    "qconf.devices.reset",
    "qconf.devices.backends",
)
