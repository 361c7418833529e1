"""Work limits: how much one resolve may read and make.

Configuration files may come from anyone; a few hundred bytes must not cost minutes of
CPU or gigabytes of memory. Each limit has a default that fits any real machine many
times over, and an environment variable that raises it for input you trust:

======================  ==========  ====================================================
variable                default     what it bounds
======================  ==========  ====================================================
QCONF_MAX_FILE_BYTES    8 MiB       the size of one configuration file
QCONF_MAX_NODES         500,000     values, map entries and list items read from files
                                    (a file counts each time it is included), and,
                                    separately, those component templates make
QCONF_MAX_INCLUDES      1,000       files read through ``extends`` and ``include``
QCONF_MAX_OBJECTS       50,000      objects in the machine
======================  ==========  ====================================================

A :class:`Budget` counts one kind of work for one resolve; spending past the limit raises
the limit's located error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from qconf.config.origin import Origin
from qconf.errors import LayerError, QconfError, SourceError, ValidationError

__all__ = ("FILE_BYTES", "INCLUDES", "LIMITS", "NODES", "OBJECTS", "Budget", "Limit",
           "expanded_nodes", "file_nodes", "include_reads", "objects")  # fmt: skip


@dataclass(frozen=True)
class Limit:
    """One bound on the work of a resolve.

    :param variable: the environment variable that changes it.
    :param default: the limit when the variable is not set (or not a whole number).
    :param unit: what is counted, plural (``nodes``).
    """

    variable: str
    default: int
    unit: str

    def value(self) -> int:
        """The limit in force: ``$VARIABLE`` if it is a whole number, else the default."""
        text = os.environ.get(self.variable, "").strip().replace("_", "")
        return int(text) if text.isascii() and text.isdigit() and len(text) < 20 else self.default

    def hint(self) -> str:
        return f"raise the limit with {self.variable}=N (only for input you trust)"


FILE_BYTES = Limit("QCONF_MAX_FILE_BYTES", 8 * 2**20, "bytes")
NODES = Limit("QCONF_MAX_NODES", 500_000, "nodes")
INCLUDES = Limit("QCONF_MAX_INCLUDES", 1_000, "files")
OBJECTS = Limit("QCONF_MAX_OBJECTS", 50_000, "objects")
LIMITS = (FILE_BYTES, NODES, INCLUDES, OBJECTS)


class Budget:
    """What is left of one :class:`Limit` for one resolve.

    :param message: what exceeding it means, with ``{limit}`` for the number
        (``"the files read make more than {limit} nodes"``).
    :param code: the error's code; ``error`` its class (the stage that counts).
    """

    def __init__(
        self,
        limit: Limit,
        message: str,
        code: str,
        error: type[QconfError],
        advice: str = "",
    ) -> None:
        self.limit = limit
        self.total = limit.value()
        self.left = self.total
        self.message = message
        self.code = code
        self.error = error
        self.advice = advice

    def spend(self, amount: int, origin: Origin | None, path: str | None = None) -> None:
        """Count ``amount`` more.

        :raises QconfError: (of the budget's class) the limit is passed; located at
            ``origin``, naming the limit and the variable that raises it.
        """
        self.left -= amount
        if self.left < 0:
            raise self.exceeded(origin, path)

    def exceeded(self, origin: Origin | None, path: str | None = None) -> QconfError:
        hint = (self.advice + "\n" if self.advice else "") + self.limit.hint()
        return self.error(
            self.message.format(limit=f"{self.total:,}"),
            code=self.code,
            origin=origin,
            path=path,
            hint=hint,
        )


def file_nodes() -> Budget:
    """Nodes read from configuration files (E110)."""
    return Budget(
        NODES,
        "the configuration is larger than the limit of {limit} nodes (values, keys and "
        "list items; a file counts each time it is included)",
        "E110",
        SourceError,
        "a machine rarely needs more than a few thousand; check for a runaway include or "
        "generated file",
    )


def include_reads() -> Budget:
    """Files read through ``extends`` and ``include`` (E205)."""
    return Budget(
        INCLUDES,
        "extends/include read more than {limit} files",
        "E205",
        LayerError,
        "a file that includes another several times, and so on, reads it exponentially "
        "often: include each fragment once",
    )


def expanded_nodes() -> Budget:
    """Nodes made by expanding component templates (E234)."""
    return Budget(
        NODES,
        "component templates make more than {limit} nodes",
        "E234",
        LayerError,
        "check the replication counts (NAME[COUNT]), nested ones multiply",
    )


def objects() -> Budget:
    """Objects in the machine (E406)."""
    return Budget(
        OBJECTS,
        "the machine has more than {limit} objects",
        "E406",
        ValidationError,
    )
