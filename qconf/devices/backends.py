"""Backends: what a device is connected to on the host side.

Character backends carry a UART's bytes (stdio, a file, a socket, nothing, or memory for
tests); memory backends hold a RAM's or ROM's bytes (one host buffer, shared by every CPU
that maps the region). They are objects like any other, in the machine's ``backends``
container: ``/machine/backends/chardev/soc-uart0``, ``/machine/backends/memory/ram``.
ROM images are ``image`` objects in ``/machine/backends/image``.
A device names its character backend by path (an object declared in the document) or by
a short spec that makes one: ``stdio``, ``none`` (or a quoted ``"null"``: a bare YAML
``null`` means unset), ``memory``, ``file:PATH``,
``unix:PATH``, ``tcp:HOST:PORT``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from qconf.model.props import Address, HostPath, Integer, ObjectLink, Props, Size
from qconf.model.registry import TypeInfo, TypeRegistry, no_regions

__all__ = ("CHARDEV_KINDS", "parse_chardev_spec")

CHARDEV_KINDS = ("stdio", "null", "memory", "file", "unix", "tcp")
_SPEC_RE = re.compile(r"^(stdio|null|none|memory)$|^(file|unix):(.+)$|^tcp:(.*):(\d+)$")


def parse_chardev_spec(spec: str) -> dict[str, Any] | None:
    """The properties of the backend a short spec describes, or None if ``spec`` is not
    one (then it is an object path)."""
    m = _SPEC_RE.match(spec)
    if m is None:
        return None
    if m[1]:
        return {"backend": "null" if m[1] == "none" else m[1]}
    if m[2]:
        return {"backend": m[2], "path": m[3]}
    return {"backend": "tcp", "host": m[4] or "127.0.0.1", "port": int(m[5])}


def _kind(value: object) -> object:
    # YAML reads a bare `null` as no value; here it can only mean the null backend
    return "null" if value is None or value == "none" else value


class ChardevProps(Props):
    backend: Annotated[
        Literal["stdio", "null", "memory", "file", "unix", "tcp"], BeforeValidator(_kind)
    ] = Field(
        "null",
        description="Where the bytes go: stdio, null (or none), memory (tests), file, unix, tcp.",
    )
    path: HostPath | None = Field(
        None,
        description="File or unix socket path (file, unix); relative to the file that sets it.",
    )
    host: str = Field(
        "127.0.0.1", description="Address to listen on (tcp); loopback unless you say otherwise."
    )
    port: Integer | None = Field(None, ge=0, le=65535, description="TCP port (tcp).")
    server: bool = Field(True, description="Listen for a client instead of connecting (sockets).")


class MemoryBackendProps(Props):
    size: Size = Field(gt=0, description="Bytes held.")
    readonly: bool = Field(False, description="Guests cannot write it (ROMs).")


class ImageProps(Props):
    file: HostPath = Field(description="The image file (absolute, or relative to the file that "
                      "named it).")  # fmt: skip
    format: Literal["auto", "raw", "elf"] = Field(
        "auto",
        description="raw: copied as is at 'address' (even an ELF file); elf: loaded by its "
        "program headers (the file must be ELF); auto: elf if the file starts like one, "
        "else raw.",
    )
    address: Address | None = Field(None, description="Where a raw image goes.")
    target: ObjectLink | None = Field(
        None, description="The memory the image is loaded into, or the CPU it is the program of."
    )

    @model_validator(mode="after")
    def _raw_needs_an_address(self) -> ImageProps:
        if self.format == "raw" and self.address is None:
            raise ValueError("a raw image needs an address: set address (or format: elf)")
        return self


def register(registry: TypeRegistry) -> None:
    registry.add(
        TypeInfo(
            "chardev",
            ChardevProps,
            "A character backend: the host side of a UART.",
            "backend",
            __name__,
            regions=no_regions,
        )
    )
    registry.add(
        TypeInfo(
            "memory-backend",
            MemoryBackendProps,
            "The host buffer behind a RAM or ROM, shared by every CPU that maps it.",
            "backend",
            __name__,
            regions=no_regions,
        )
    )
    registry.add(
        TypeInfo(
            "image",
            ImageProps,
            "A firmware or data image loaded into memory at reset.",
            "image",
            __name__,
            regions=no_regions,
        )
    )
