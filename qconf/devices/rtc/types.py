"""Real-time clock types: their properties and registry entries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from qconf.devices.common import IrqProps, MmioProps
from qconf.model.registry import TypeInfo, TypeRegistry

__all__ = ("DEFAULT_DATE", "Pl031Props", "epoch_seconds", "register")

DEFAULT_DATE = "2025-01-01T00:00:00"


def epoch_seconds(date: str) -> int:
    """Seconds since 1970 of ``date`` (ISO 8601, UTC unless it says otherwise).

    :raises ValueError: it is not such a date.
    """
    when = datetime.fromisoformat(date)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())


def _text(value: object) -> object:
    # YAML and TOML read an unquoted date as a date: take it as written
    return value.isoformat() if isinstance(value, datetime) else value


def _date(value: str) -> str:
    if value != "utc":
        try:
            epoch_seconds(value)
        except ValueError:
            hint = "write 2025-01-01T00:00:00 (UTC) or utc"
            raise ValueError(f"{value!r} is neither 'utc' nor a date: {hint}") from None
    return value


class Pl031Props(IrqProps, MmioProps):
    rtc_base: Annotated[str, BeforeValidator(_text), AfterValidator(_date)] = Field(
        DEFAULT_DATE,
        description="The date and time the clock shows when the machine starts, as QEMU's "
        "-rtc base=: an ISO 8601 date (UTC unless it names a zone), or utc for the host's "
        "clock, read once at start (then two runs differ); it then follows virtual time.",
    )


def register(registry: TypeRegistry) -> None:
    registry.add(TypeInfo("pl031", Pl031Props, "Arm PrimeCell PL031 real-time clock: seconds "
                          "since 1970, on virtual time, with a match interrupt.", "rtc",
                          __name__, behaviour="qconf.devices.rtc.pl031:Pl031",
                          fdt="qconf.devices.rtc.pl031:fdt_node"))  # fmt: skip
