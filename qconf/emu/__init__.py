"""Running a built machine: virtual time, memory, MMIO, device models, CPUs on Unicorn,
and the scheduler. Nothing here is imported by the configuration path (``import qconf``,
``qconf resolve``): only ``qconf run`` and the Python ``qconf.emu.run`` pull in Unicorn."""
