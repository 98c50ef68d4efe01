"""Two attackers on a suppressed table, written independently of reports/suppression.py: the
council and suppression tests check that neither recovers a hidden cell."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np

from reports.suppression import Relation


def derivable_by_elimination(
    values: Mapping[Hashable, int], relations: Sequence[Relation], hidden: set
) -> set:
    """What an attacker gets by solving relations that have exactly one unknown, repeatedly."""
    known = {k: v for k, v in values.items() if k not in hidden}
    found: set = set()
    changed = True
    while changed:
        changed = False
        for rel in relations:
            unknown = [c for c in rel.cells() if c not in known]
            if len(unknown) != 1:
                continue
            cell = unknown[0]
            members = sum(known[m] for m in rel.members if m != cell)
            known[cell] = members if cell == rel.total else known[rel.total] - members
            assert known[cell] == values[cell]
            found.add(cell)
            changed = True
    return found


def determined_by_linear_algebra(relations: Sequence[Relation], hidden: set) -> set:
    """Hidden cells fixed by the whole linear system of the relations (any combination)."""
    unknowns = sorted(hidden, key=repr)
    index = {k: i for i, k in enumerate(unknowns)}
    matrix = []
    for rel in relations:
        row = np.zeros(len(unknowns))
        for member in rel.members:
            if member in index:
                row[index[member]] += 1
        if rel.total in index:
            row[index[rel.total]] -= 1
        if row.any():
            matrix.append(row)
    if not matrix:
        return set(hidden)
    a = np.array(matrix)
    rank = np.linalg.matrix_rank(a)
    determined = set()
    for key, i in index.items():
        unit = np.zeros(len(unknowns))
        unit[i] = 1
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            determined.add(key)
    return determined
