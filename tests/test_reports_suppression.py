"""Suppression of small numbers: primary, secondary, rates, and one decision per cell."""

from __future__ import annotations

import pytest
from support.disclosure import derivable_by_elimination, determined_by_linear_algebra

from reports.disclosure_audit import BIG
from reports.suppression import (
    Relation,
    SuppressionConfig,
    SuppressionRegistry,
    is_rate_suppressed,
)

T = "T"
ROWS = ["A", "B", "C", "D", T]
COLUMNS = ["x", "y", "z", T]
# Hand-made table with margins: row sums in column T, column sums in row T.
INNER = {
    "A": [1, 5, 7],
    "B": [4, 0, 9],
    "C": [2, 8, 6],
    "D": [10, 3, 2],
}


def crafted_grid() -> dict[tuple[str, str], int]:
    grid = {}
    for row, cells in INNER.items():
        for column, value in zip("xyz", cells, strict=True):
            grid[(row, column)] = value
        grid[(row, T)] = sum(cells)
    for i, column in enumerate("xyz"):
        grid[(T, column)] = sum(cells[i] for cells in INNER.values())
    grid[(T, T)] = sum(sum(cells) for cells in INNER.values())
    return grid


def suppress(values: dict, relations: list[Relation], config: SuppressionConfig) -> set:
    """Primary plus audit-driven secondary suppression of a list of relations."""
    registry = SuppressionRegistry(config)
    for key, value in values.items():
        registry.add_cell(key, value)
    for relation in relations:
        registry.add_relation(relation.total, relation.members)
    return set(registry.hidden())


def intervals(registry: SuppressionRegistry) -> dict:
    return {c.key: (c.low, c.high) for c in registry.audit().checks}


def test_crafted_table_is_protected() -> None:
    registry = SuppressionRegistry()
    grid = crafted_grid()
    registry.add_table(grid, ROWS, COLUMNS, total_row=T, total_column=T)
    hidden = set(registry.hidden())

    # primary: A.x = 1, C.x = 2, D.z = 2; the audit-driven secondary cells give the system
    #   row A: A.x + A.y = 13 − 7 = 6      col x: A.x + C.x + D.x = 17 − 4 = 13
    #   row C: C.x + C.z = 16 − 8 = 8      col y: A.y + D.y = 16 − 0 − 8 = 8
    #   row D: D.x + D.y + D.z = 15        col z: C.z + D.z = 24 − 7 − 9 = 8
    # A.x = 6 − A.y ≤ 5 (A.y ≥ 1), reached with A.y = 1, D.y = 7, C.x = D.z, D.x + D.z = 8;
    # C.x = 8 − C.z and D.z = 8 − C.z lie in [1, 7]; D.y = 8 − A.y with A.y ≤ 5 lies in [3, 7].
    assert hidden == {("A", "x"), ("A", "y"), ("C", "x"), ("C", "z"), ("D", "x"), ("D", "y"),
                      ("D", "z")}  # fmt: skip
    assert intervals(registry) == {
        ("A", "x"): (1, 5), ("A", "y"): (1, 5), ("C", "x"): (1, 7), ("C", "z"): (1, 7),
        ("D", "x"): (1, 11), ("D", "y"): (3, 7), ("D", "z"): (1, 7)}  # fmt: skip
    assert not [k for k, v in registry.values.items() if v in (1, 2) and k not in hidden]
    assert registry.show(("B", "y")) == 0  # zeros stay visible
    assert registry.show(("A", "x")) == "*"
    assert registry.audit().passed  # 5 ≥ 1 + 3, 7 ≥ 2 + 3, 7 ≥ 2 + 3
    assert derivable_by_elimination(registry.values, registry.model.relations, hidden) == set()
    assert determined_by_linear_algebra(registry.model.relations, hidden) == set()


def test_social_spaces_to_city_relation() -> None:
    # K01 of the fixture month: SR02 = 2 is primary; SR03 (15) is the cheapest further cell:
    # SR02 + SR03 = 57 − 40 − 0 = 17 with both ≥ 1 gives SR02 in [1, 16] (≥ 2 + 3).
    values = {"SR01": 40, "SR02": 2, "SR03": 15, "unbekannt": 0, "GESAMT": 57}
    relations = [Relation("GESAMT", ("SR01", "SR02", "SR03", "unbekannt"))]
    hidden = suppress(values, relations, SuppressionConfig())
    assert hidden == {"SR02", "SR03"}
    assert derivable_by_elimination(values, relations, hidden) == set()
    registry = SuppressionRegistry()
    for key, value in values.items():
        registry.add_cell(key, value)
    registry.add_relation(*relations[0].cells()[-1:], relations[0].members)
    assert intervals(registry) == {"SR02": (1, 16), "SR03": (1, 16)}


def test_total_is_hidden_when_no_other_member_is_non_zero() -> None:
    # a = 2, b = 0 printed: a equals the total, so the total is hidden; a is then unbounded
    values = {"a": 2, "b": 0, "total": 2}
    hidden = suppress(values, [Relation("total", ("a", "b"))], SuppressionConfig())
    assert hidden == {"a", "total"}
    registry = SuppressionRegistry()
    for key, value in values.items():
        registry.add_cell(key, value)
    registry.add_relation("total", ["a", "b"])
    assert intervals(registry) == {"a": (1, BIG), "total": (1, BIG)}


def test_thresholds_are_configuration() -> None:
    # max_count 3: a = 3 primary; b (7) hidden too: a + b = 19 − 9 = 10, a in [1, 9] (≥ 3 + 3)
    values = {"a": 3, "b": 7, "c": 9, "total": 19}
    relation = [Relation("total", ("a", "b", "c"))]
    assert suppress(values, relation, SuppressionConfig()) == set()
    assert suppress(values, relation, SuppressionConfig(max_count=3)) == {"a", "b"}
    with pytest.raises(ValueError):
        SuppressionConfig(min_count=3, max_count=2)


def test_rates_below_minimum_denominator() -> None:
    config = SuppressionConfig()
    assert is_rate_suppressed(9, None, config)
    assert not is_rate_suppressed(10, None, config)
    assert is_rate_suppressed(19, 20, config)
    assert not is_rate_suppressed(None, 20, config)


def test_cell_shared_by_two_tables_is_suppressed_in_both() -> None:
    # Table 1: SR01 + SR02 = city; table 2: SR02 by sex (m + w = SR02). SR02 = 2 and m = 2 are
    # primary; w = 0 is printed, so m = SR02 = 32 − 30: SR01 (30, cheaper than the city's 32)
    # is hidden, and m = SR02 = 32 − SR01 lies in [1, 31].
    registry = SuppressionRegistry()
    for key, value in {"SR01": 30, "SR02": 2, "city": 32}.items():
        registry.add_cell(key, value)
    registry.add_relation("city", ["SR01", "SR02"])
    for key, value in {("SR02", "m"): 2, ("SR02", "w"): 0}.items():
        registry.add_cell(key, value)
    registry.add_relation("SR02", [("SR02", "m"), ("SR02", "w")])
    assert registry.hidden() == {("SR02", "m"), "SR02", "SR01"}
    assert registry.show(("SR02", "w")) == 0
    assert intervals(registry)[("SR02", "m")] == (1, 31)
    with pytest.raises(ValueError):
        registry.add_cell("SR02", 6)
    with pytest.raises(KeyError):
        registry.add_relation("nowhere", ["SR01"])


def test_describe_names_the_thresholds() -> None:
    text = SuppressionConfig(max_count=3, min_denominator=20).describe()
    assert "1 bis 3 Personen" in text and "Standard 20" in text
    assert "K09, K10" in text and "Dezember" in text
