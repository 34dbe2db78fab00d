"""The upcasters of this deployment's event catalogue.

When an event struct changes incompatibly, bump its ``schema_version`` and register here
a function turning the previous version's payload (a dict) into the new one; stored rows
are never rewritten, they are upcast on every read::

    @UPCASTERS.register("contact_recorded", from_version=1)
    def _contact_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
        return {**payload, "channel": payload.pop("medium")}

No event has changed incompatibly yet, so the registry is empty.
"""

from __future__ import annotations

from casemgmt.adapters.codec import UpcasterRegistry

__all__ = ["UPCASTERS"]

UPCASTERS = UpcasterRegistry()
