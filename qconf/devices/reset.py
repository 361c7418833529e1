"""Reset domains: objects that are reset together, whatever their place in the tree."""

from __future__ import annotations

from pydantic import Field

from qconf.model.props import ObjectLink, Props, empty_list
from qconf.model.registry import TypeInfo, TypeRegistry, no_regions


class ResetDomainProps(Props):
    members: list[ObjectLink] = Field(
        default_factory=empty_list,
        description="Objects reset by this domain (with their children) instead of by "
        "their parent.",
    )
    parent: ObjectLink | None = Field(
        None, description="The domain that resets this one; unset: its parent in the tree."
    )


def register(registry: TypeRegistry) -> None:
    registry.add(
        TypeInfo(
            "reset-domain",
            ResetDomainProps,
            "A reset domain: resetting it resets its members; domains nest.",
            "reset",
            __name__,
            regions=no_regions,
        )
    )
