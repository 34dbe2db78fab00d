"""``derived_event_id`` is uuid5 over the joined parts, computed without UUID objects:
stored ids (and re-runs of old import files) depend on it staying exactly that."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from casemgmt.application.ids import _NAMESPACE, derived_event_id


@given(st.lists(st.text(), min_size=1, max_size=4))
def test_it_is_uuid5_of_the_joined_parts(parts: list[str]) -> None:
    assert derived_event_id(*parts) == str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def test_a_known_id_never_changes() -> None:
    assert derived_event_id("import", "abc", "1") == str(
        uuid.uuid5(uuid.UUID("1b3c7a52-3f0e-4c43-9a55-7f1d3c2b8e11"), "import/abc/1")
    )
