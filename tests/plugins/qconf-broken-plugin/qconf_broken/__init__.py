"""A qconf plugin whose dependency is not installed."""

import qconf_missing_dependency  # noqa: F401


def register(registry: object) -> None:  # pragma: no cover - never reached
    pass
