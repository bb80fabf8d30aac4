"""Connected components of links between atoms (candidate pairs, verified edges)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set


def component(start: int, edges: Mapping[int, Set[int]], within: Set[int]) -> set[int]:
    """The atoms linked to `start` through `edges`, staying inside `within`."""
    seen, stack = {start}, [start]
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt in within and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def components(pairs: Iterable[tuple[int, int]]) -> list[set[int]]:
    """The components the pairs link, in order of their smallest atom."""
    edges: dict[int, set[int]] = {}
    for n, m in pairs:
        edges.setdefault(n, set()).add(m)
        edges.setdefault(m, set()).add(n)
    left, out = set(edges), []
    for start in sorted(edges):
        if start in left:
            found = component(start, edges, left)
            left -= found
            out.append(found)
    return out
