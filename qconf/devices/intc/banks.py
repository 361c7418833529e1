"""Register banks interrupt controllers share."""

from __future__ import annotations

__all__ = ("write_set_clear",)


def write_set_clear(
    offset: int, value: int, enabled: list[int], pending: list[int], span: int
) -> bool | None:
    """A write to the set-enable, clear-enable, set-pending or clear-pending registers,
    which the GIC's distributor and the NVIC both put at 0x100, 0x180, 0x200 and 0x280,
    ``span`` bytes each (a bit per line, 32 lines a word; words past the lines are
    ignored). Returns True for a set, False for a clear, None if ``offset`` is none of
    them."""
    for base, words, setting in ((0x100, enabled, True), (0x180, enabled, False),
                                 (0x200, pending, True), (0x280, pending, False)):  # fmt: skip
        if base <= offset < base + span:
            i = (offset - base) >> 2
            if i < len(words):
                words[i] = words[i] | value if setting else words[i] & ~value
            return setting
    return None
