"""Builds qconf's optional native hooks (``qconf._native``); the metadata is in
pyproject.toml. Without a C compiler the extension is skipped and qconf runs the same
hooks in Python: same results, slower (see docs/running.md)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "qconf._native",
            sources=[
                "qconf/emu/native/module.c",
                "qconf/emu/native/counting.c",
                "qconf/arch/aarch64/native_hooks.c",
                "qconf/arch/cortexm/native_exceptions.c",
            ],
            depends=[
                "qconf/emu/native/counting.h",
                "qconf/emu/native/unicorn_abi.h",
                "qconf/arch/aarch64/native_hooks.h",
                "qconf/arch/cortexm/native_exceptions.h",
            ],
            extra_compile_args=["-O2", "-std=c99", "-Wall", "-Wextra"],
            optional=True,
        )
    ]
)
