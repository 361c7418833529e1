"""Built-in device modules. Each declares its types' properties and registers them with
``register(registry)``; behaviour (emulation) lives in separate modules loaded on demand,
so that reading configuration never imports an emulator."""

BUILTIN_MODULES = (
    "qconf.devices.machine",
    "qconf.devices.cpu",
    "qconf.devices.memory",
    "qconf.devices.uart",
    "qconf.devices.intc",
    "qconf.devices.timer",
    "qconf.devices.power",
    "qconf.devices.mailbox",
    "qconf.devices.clock",
    "qconf.devices.reset",
    "qconf.devices.backends",
)
