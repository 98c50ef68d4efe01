"""Disclosure audit: adversarial tables that the old rule ("no row or column with exactly one
hidden cell") lets through, the audit catching them, and the audit-driven suppression passing.

Every interval below is worked out by hand in the comment next to it.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from support.report_warehouse import build_warehouse

from reports import suppression
from reports.council import (
    build_council_report,
    write_annex,
    write_council_report,
)
from reports.disclosure_audit import (
    BIG,
    AuditRule,
    DisclosureError,
    Model,
    PublishedIndicator,
    Rate,
    Relation,
    audit,
    audit_report,
    protect,
    publications,
    published_model,
    show_again,
)
from reports.exports import write_exports
from reports.suppression import SuppressionConfig, SuppressionRegistry

RULE = AuditRule()


def intervals(model: Model, hidden: set) -> dict:
    return {c.key: (c.low, c.high) for c in audit(model, hidden).checks}


def old_rule_holds(model: Model, hidden: set) -> bool:
    """The former criterion: no relation holds exactly one hidden cell."""
    return all(sum(c in hidden for c in r.cells()) != 1 for r in model.relations)


def column_model(values: dict[str, int], total: int) -> Model:
    model = Model(counts={**values, "total": total})
    model.relations.append(Relation("total", tuple(values)))
    return model


# (a) The 2023-12 sample column: Asylsuchende per social space 0,*,0,0,0,12,*,0,0, total 14.
COLUMN_2023_12 = {"SR01": 0, "SR02": 1, "SR03": 0, "SR04": 0, "SR05": 0, "SR06": 12,
                  "SR07": 1, "SR08": 0, "SR09": 0}  # fmt: skip


def test_sample_column_2023_12_old_pattern_is_pinned() -> None:
    model = column_model(COLUMN_2023_12, 14)
    old = {"SR02", "SR07"}
    assert old_rule_holds(model, old)  # the column holds two hidden cells
    # SR02 + SR07 = 14 − 12 = 2 and each hidden cell ≥ 1 (zeros are printed): both exactly 1
    assert intervals(model, old) == {"SR02": (1, 1), "SR07": (1, 1)}
    result = audit(model, old)
    assert not result.passed
    assert [c.key for c in result.failures] == ["SR02", "SR07"]
    assert result.failures[0].reason == "obere Grenze 1 < 4"


def test_sample_column_2023_12_new_pattern_passes() -> None:
    model = column_model(COLUMN_2023_12, 14)
    hidden, result = protect(model, {"SR02", "SR07"})
    # the cheapest further cell is SR06 (12 < total 14): SR02 + SR06 + SR07 = 14, each ≥ 1,
    # so each lies in [1, 14 − 2] = [1, 12]; 12 ≥ 1 + 3
    assert hidden == {"SR02", "SR06", "SR07"}
    assert result.passed
    assert intervals(model, hidden) == {"SR02": (1, 12), "SR06": (1, 12), "SR07": (1, 12)}


def grid_model(inner: dict[str, list[int]], columns: str) -> Model:
    """A table with row totals (column T) and column totals (row T)."""
    model = Model()
    for row, cells in inner.items():
        for column, value in zip(columns, cells, strict=True):
            model.counts[(row, column)] = value
        model.counts[(row, "T")] = sum(cells)
        model.relations.append(Relation((row, "T"), tuple((row, c) for c in columns)))
    for column in [*columns, "T"]:  # column sums, incl. the grand total
        model.counts[("T", column)] = sum(model.counts[(row, column)] for row in inner)
        model.relations.append(Relation(("T", column), tuple((row, column) for row in inner)))
    return model


# (b) A bridge: two hidden rectangles (A,B × x,y and C,D × z,w) joined by the single hidden
# cell B.z = 1. Every row and column has 0 or ≥ 2 hidden cells.
BRIDGE = {"A": [5, 6, 3, 4], "B": [7, 8, 1, 5], "C": [6, 7, 4, 9], "D": [8, 9, 10, 3]}
BRIDGE_OLD = {("A", "x"), ("A", "y"), ("B", "x"), ("B", "y"), ("B", "z"), ("C", "z"), ("C", "w"),
              ("D", "z"), ("D", "w")}  # fmt: skip


def test_bridge_cell_is_found_and_protected() -> None:
    model = grid_model(BRIDGE, "xyzw")
    assert old_rule_holds(model, BRIDGE_OLD)
    # Rows A and B hold hidden 18 − 3 − 4 = 11 and 21 − 5 = 16, together 27; columns x and y
    # hold hidden 26 − 6 − 8 = 12 and 30 − 7 − 9 = 14, together 26. The difference is the only
    # hidden cell of rows A, B outside columns x, y: B.z = 27 − 26 = 1.
    assert intervals(model, BRIDGE_OLD)[("B", "z")] == (1, 1)
    assert not audit(model, BRIDGE_OLD).passed

    hidden, result = protect(model, {("B", "z")})
    assert result.passed
    low, high = intervals(model, hidden)[("B", "z")]
    assert low == 1 and high >= 1 + 3


# (c) Hidden cells summing to their number: 1 + 1 + 1 hidden beside a visible 20, total 23.
def test_hidden_cells_summing_to_their_count() -> None:
    model = column_model({"a": 1, "b": 1, "c": 1, "d": 20}, 23)
    old = {"a", "b", "c"}
    assert old_rule_holds(model, old)
    # a + b + c = 23 − 20 = 3 with each ≥ 1: all three exactly 1
    assert intervals(model, old) == {"a": (1, 1), "b": (1, 1), "c": (1, 1)}
    hidden, result = protect(model, old)
    # d (20) is the only non-zero candidate cheaper than the total: a + b + c + d = 23 gives
    # each of a, b, c an interval [1, 23 − 3] = [1, 20]
    assert hidden == {"a", "b", "c", "d"} and result.passed
    assert intervals(model, hidden)["a"] == (1, 20)


def test_stepping_stones_no_longer_needed_are_shown_again() -> None:
    # 1 + 1 + 1 + 20 + 30 = 53. With d (20) or e (30) hidden beside a, b, c, each of a, b, c
    # lies in [1, 20] or [1, 30]: one of them suffices. Both were hidden as stepping stones;
    # the larger (more informative) e is tried first: {a, b, c, d} still passes, so e is shown
    # again; then showing d would leave a + b + c = 3, each pinned at 1, so d stays hidden.
    model = column_model({"a": 1, "b": 1, "c": 1, "d": 20, "e": 30}, 53)
    hidden = show_again(model, {"a", "b", "c", "d", "e"}, ["d", "e"], RULE)
    assert hidden == {"a", "b", "c", "d"}
    assert audit(model, hidden).passed


def small_space_model() -> tuple[Model, set]:
    """(d) K06 per social space: persons S1 40, S2 50, S3 30, S4 6 (city 126) are printed;
    decentral persons 20, 25, 15, 2 (city 62). S4's rate rests on 6 < 10 persons: '/'."""
    model = Model()
    persons = {"S1": 40, "S2": 50, "S3": 30, "S4": 6}
    numerators = {"S1": 20, "S2": 25, "S3": 15, "S4": 2}
    for space, count in persons.items():
        model.counts[("persons", space)] = count
    model.counts[("persons", "city")] = 126
    model.relations.append(Relation(("persons", "city"), tuple(("persons", s) for s in persons)))
    # printed rates (one decimal): 20/40 = 50.0, 25/50 = 50.0, 15/30 = 50.0, 2/6 = 33.3,
    # city 62/126 = 49.206… → 49.2
    printed = {"S1": "50.0", "S2": "50.0", "S3": "50.0", "S4": "33.3", "city": "49.2"}
    numerators["city"] = 62
    for space, text in printed.items():
        key = ("rate", space)
        model.rates[key] = Rate(("persons", space), Decimal(text), numerator=numerators[space])
        model.at_most.append((key, ("persons", space)))
    model.relations.append(Relation(("rate", "city"), tuple(("rate", s) for s in persons)))
    return model, {("rate", "S4")}


def test_small_space_rate_is_pinned_by_the_city_rate() -> None:
    model, old = small_space_model()
    # city: 49.15 % · 126 = 61.93 ≤ n ≤ 62.06 = 49.25 % · 126 → n = 62; S1: 0.4995 · 40 =
    # 19.98 ≤ n ≤ 20.02 → 20, likewise S2 = 25, S3 = 15; so S4 = 62 − 60 = 2 exactly
    assert intervals(model, old) == {("rate", "S4"): (2, 2)}
    assert audit(model, old).failures[0].reason == "untere Grenze 2 > 1"

    hidden, result = protect(model, old)
    # the cheapest further rate is S3 (15 persons): n3 + n4 = 62 − 45 = 17 with n4 ≤ 6 persons
    # and n3 ≤ 30: n4 in [0, 6] (reaches 1 and 2 + 3 = 5), n3 in [11, 17]
    assert hidden == {("rate", "S3"), ("rate", "S4")} and result.passed
    assert intervals(model, hidden) == {("rate", "S3"): (11, 17), ("rate", "S4"): (0, 6)}


def test_attacker_rule_on_published_files() -> None:
    # As printed, K01 per space 40, *, *, 0 with city 44 and persons 40, 5, 3, 0: the hidden
    # SR02 ≤ persons 5 and SR03 ≤ persons 3, SR02 + SR03 = 4 → SR03 in [1, 3]: the cell is known
    # to be a small count (3 < 1 + 3) and fails; SR02 in [1, 3] fails the same way.
    caseload = {
        "SR01": {"Duldung": Decimal(40), "Gesamt": Decimal(40)},
        "SR02": {"Duldung": Decimal(5), "Gesamt": Decimal(5)},
        "SR03": {"Duldung": Decimal(3), "Gesamt": Decimal(3)},
        "Gesamt": {"Duldung": Decimal(48), "Gesamt": Decimal(48)},
    }
    cells = [("SR01", Decimal(40)), ("SR02", "*"), ("SR03", "*"), ("GESAMT", Decimal(44))]
    indicators = [PublishedIndicator("K01", "count", s, v) for s, v in cells]
    model, hidden = published_model(caseload, indicators)
    assert hidden == {("indicator", "K01", "SR02"), ("indicator", "K01", "SR03")}
    found = intervals(model, hidden)
    assert found == {("indicator", "K01", "SR02"): (1, 3), ("indicator", "K01", "SR03"): (1, 3)}
    assert [c.reason for c in audit(model, hidden).failures] == ["obere Grenze 3 < 4"] * 2


def test_protection_rule_by_hand() -> None:
    assert RULE.failure(2, 1, 5) is None  # reaches 1 and 2 + 3
    assert RULE.failure(2, 1, 4) == "obere Grenze 4 < 5"
    assert RULE.failure(1, 2, 9) == "untere Grenze 2 > 1"
    assert RULE.failure(None, 2, 4) == "Spanne 2 < 3"  # could be a 2 pinned to [2, 4]
    assert RULE.failure(None, 30, 31) is None  # cannot be a primary value
    assert RULE.failure(None, 1, BIG) is None


# (e), (f) and the gate on the fixture warehouse (month 2025-12)
@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("audit") / "kim.duckdb")


def test_annex_holds_rounded_numbers(warehouse: Path, tmp_path: Path) -> None:
    import openpyxl

    with duckdb.connect(str(warehouse), read_only=True) as con:
        report = build_council_report(con, "2025")
    write_annex(report, tmp_path / "annex.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "annex.xlsx")["Tabelle 01"]  # key figures
    rows = {ws.cell(r, 1).value.split()[0]: r for r in range(4, ws.max_row + 1)}
    # K06 city 41 / 57 = 71.929… % → printed 71.9 % → stored 0.719 (not 0.71929…)
    assert ws.cell(rows["K06"], 3).value == 0.719
    # attainment 71.929… / 70 = 1.02756… → printed 102.8 % → stored 1.028
    assert ws.cell(rows["K06"], 5).value == 1.028


def test_council_report_and_export_share_one_pattern(warehouse: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        write_exports(con, "2025-12", tmp_path)
        report = build_council_report(con, "2025")
        write_council_report(con, "2025", tmp_path)
    # the caseload table: same hidden cells in the report and in the public CSV
    names = {"Innenstadt": "SR01", "Nordstadt": "SR02", "Südstadt": "SR03",
             "unbekannt": "unbekannt", "Gesamt": "Gesamt"}  # fmt: skip
    in_report = {
        (names[row[0]], column.label)
        for row in report.caseload.rows
        for column, cell in zip(report.caseload.columns[1:], row[1:], strict=True)
        if cell == "*"
    }
    csv = (tmp_path / "public/2025-12/personen_sozialraum_status_2025-12.csv").read_text(
        encoding="utf-8-sig"
    )
    header, *lines = [line.split(";") for line in csv.splitlines()]
    in_export = {
        (line[1], header[i]) for line in lines for i in range(2, len(line)) if line[i] == "*"
    }
    assert in_report == in_export
    # the primary cells by hand: SR02/Duldung = 2, SR03/Aufenthaltserlaubnis = 1, SR02 total 2,
    # Aufenthaltserlaubnis total 1
    assert {("SR02", "Duldung"), ("SR03", "Aufenthaltserlaubnis"), ("SR02", "Gesamt"),
            ("Gesamt", "Aufenthaltserlaubnis")} <= in_export  # fmt: skip
    text, passed = audit_report(tmp_path)
    assert passed, text
    assert "public/2025-12 " in text and "Integrationsbericht_2025.xlsx" in text


def test_public_folder_states_its_rule_and_the_audit_applies_it(
    warehouse: Path, tmp_path: Path
) -> None:
    """A district's public tables hide every count below its small-area threshold (here 10;
    its municipality figures need a district warehouse, the rule does not): their note says
    so, and the audit of the folder checks that rule, not the default 1–2."""
    district = SuppressionConfig(max_count=9)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        write_exports(con, "2025-12", tmp_path / "kreis", district)
        write_exports(con, "2025-12", tmp_path / "stadt")
    note = (tmp_path / "kreis/public/2025-12/hinweise_2025-12.txt").read_text(encoding="utf-8")
    assert "Fallzahlen von 1 bis 9 Personen" in note
    assert "personen_sozialraum_status_2025-12.csv" in note
    [(_, _, hidden, rule)] = publications(tmp_path / "kreis")
    assert rule == AuditRule(1, 9, 3)
    [(_, _, city_hidden, city_rule)] = publications(tmp_path / "stadt")
    assert city_rule == AuditRule(1, 2, 3) and len(hidden) > len(city_hidden)
    text, passed = audit_report(tmp_path / "kreis")
    assert passed, text
    # a folder written before the note existed: the default rule
    (tmp_path / "stadt/public/2025-12/hinweise_2025-12.txt").unlink()
    assert publications(tmp_path / "stadt")[0][3] == AuditRule()


def test_failing_publication_is_not_written(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without secondary suppression K01 SR02 = 2 is the only hidden K01 cell: 57 − 40 − 15 − 0
    # pins it to 2 (and the caseload's SR02 row the same): the gate must refuse the export.
    def primary_only(model, primary, rule):
        hidden = set(primary)
        return hidden, audit(model, hidden, rule)

    monkeypatch.setattr(suppression, "protect_once", primary_only)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        with pytest.raises(DisclosureError, match=r"öffentliche Tabellen 2025-12.*\[2, 2\]"):
            write_exports(con, "2025-12", tmp_path)
    assert not list((tmp_path / "public").rglob("*.csv"))


def test_registry_gate_names_the_cell() -> None:
    registry = SuppressionRegistry(SuppressionConfig())
    for key, value in {"SR01": 40, "SR02": 2, "city": 42}.items():
        registry.add_cell(key, value, label=f"K01 [{key}]")
    registry.add_relation("city", ["SR01", "SR02"])
    registry._hidden = {"SR02"}  # the pattern without secondary suppression
    with pytest.raises(DisclosureError) as error:
        registry.assert_safe("Test")
    # SR02 = 42 − 40 = 2 exactly
    assert "K01 [SR02] (Wert 2): zulässiges Intervall [2, 2]" in str(error.value)


def test_rolling_windows_per_space_only_for_the_calendar_year() -> None:
    config = SuppressionConfig()
    assert config.per_space_published("K09", 12) and config.per_space_published("K10", 12)
    assert not config.per_space_published("K09", 11) and not config.per_space_published("K10", 3)
    assert config.per_space_published("K01", 11)


def test_failed_publication_is_a_failed_gate_in_the_data_quality_page(tmp_path: Path) -> None:
    """The asset-side gate: a publication refused by the audit is stored as a failed gate of its
    month with the cell and reason, on the data-quality page; a later clean publication of the
    month clears it."""
    from types import SimpleNamespace

    from dagster_project.assets.reports import disclosure_gate
    from dagster_project.resources import KimPaths
    from ingest.warehouse import connect

    paths = KimPaths(inbox=str(tmp_path), warehouse=str(tmp_path / "w.duckdb"),
                     output=str(tmp_path / "out"))  # fmt: skip
    with connect(paths.warehouse_file):
        pass  # creates the meta schema
    context = SimpleNamespace(run=SimpleNamespace(run_id="run-1"))
    reason = "Tabelle 2, Zeile SR02, Spalte Asylsuchende: Intervall [1, 1], verlangt bis mind. 4"
    with pytest.raises(DisclosureError), disclosure_gate(context, paths, ["2025-12"]) as pub:
        pub.month = "2025-12"
        raise DisclosureError(reason)
    page = tmp_path / "out" / "internal" / "2025-12" / "Datenqualitaet_2025-12.html"
    html = page.read_text(encoding="utf-8")
    assert "publication_passes_disclosure_audit" in html and reason in html
    assert "nicht bestanden" in html

    with disclosure_gate(context, paths, ["2025-12"]) as pub:
        pub.month = "2025-12"  # this time the month publishes
    with connect(paths.warehouse_file, read_only=True) as con:
        stored = con.sql("select count(*) from meta.gate_results where gate = 'disclosure'")
        assert stored.fetchall() == [(0,)]
    assert reason not in page.read_text(encoding="utf-8")


def test_a_months_pattern_is_computed_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from reports import disclosure_audit

    calls = []

    def counting(model, primary, rule):
        calls.append(model)
        return protect(model, primary, rule)

    monkeypatch.setattr(disclosure_audit, "protect", counting)
    monkeypatch.setattr(disclosure_audit, "_PROTECTED", {})
    first = disclosure_audit.protect_once(column_model(COLUMN_2023_12, 14), {"SR02", "SR07"})
    again = disclosure_audit.protect_once(column_model(COLUMN_2023_12, 14), {"SR02", "SR07"})
    other = disclosure_audit.protect_once(column_model({**COLUMN_2023_12, "SR01": 3}, 17), {"SR02"})
    assert len(calls) == 2  # the equal model is answered from the first computation
    assert first[0] == again[0] == protect(column_model(COLUMN_2023_12, 14), {"SR02", "SR07"})[0]
    assert other[0] != first[0]
