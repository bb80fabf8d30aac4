"""How duplicate groups are ordered and numbered: one rule for review, packet files and the index.

Pure functions with no Django, so the packet's renderers and the database-backed selectors
can share them without either package importing the other.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

GroupRef = TypeVar("GroupRef", bound=Hashable)  # a group id, or a database row's pk


def group_sort_key(department_code: str, authoritative_path: str, group_id: str) -> tuple[str, str, str]:
    """Where a group stands in the index: its authoritative copy's department and path, then its id."""
    return (department_code, authoritative_path, group_id)


def number_groups(keys: Mapping[GroupRef, tuple[str, str, str]]) -> dict[GroupRef, int]:
    """Groups numbered 1, 2, ... in index order, from each group's `group_sort_key`.

    The one numbering of groups: the review page, the index PDF, the manifest and the
    requester's page all show "Group n" from this.
    """
    return {gid: n for n, gid in enumerate(sorted(keys, key=lambda g: keys[g]), start=1)}
