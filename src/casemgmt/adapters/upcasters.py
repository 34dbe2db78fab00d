"""The upcasters of this deployment's event catalogue.

When an event struct changes incompatibly, bump its ``schema_version`` and register here
a function turning the previous version's payload (a dict) into the new one; stored rows
are never rewritten, they are upcast on every read::

    @UPCASTERS.register("contact_recorded", from_version=1)
    def _contact_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
        return {**payload, "channel": payload.pop("medium")}

A renamed tag is registered with ``UPCASTERS.rename(old, new)``: rows keep their stored
tag (the hash chain covers it) and are read as the new one.
"""

from __future__ import annotations

from casemgmt.adapters.codec import UpcasterRegistry

__all__ = ["UPCASTERS", "build_upcasters"]


def build_upcasters() -> UpcasterRegistry:
    """The registry of every upcaster and tag rename, in the order they were introduced."""
    registry = UpcasterRegistry()
    # A complaint to the regulator under FOIA s.50 was named after one regulator (the ICO).
    registry.rename("ico_complaint_lodged", "regulator_complaint_lodged")
    return registry


UPCASTERS = build_upcasters()
