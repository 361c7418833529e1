"""CPU architectures, one package each: its types' properties and registry entries
(``types``), its :class:`~qconf.model.facets.ArchInfo` (the package itself), the core that
runs it on Unicorn (``core``), and its device-tree layout (``fdt``).

- ``riscv``: RV64 and RV32 harts (the ``virt`` board's layout)
- ``cortexm``: Cortex-M0, M3 and M4 (v6-M, v7-M)
- ``aarch64``: Armv8-A cores in AArch64 state (the Arm ``virt`` board's layout)

A package's ``__init__`` imports nothing heavy: the machine cache, the device tree and QMP
read an architecture's description without loading pydantic or Unicorn.
"""
