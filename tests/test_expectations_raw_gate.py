"""Raw gate: a clean hand-made month passes; each rule family, violated alone, fails with the
rule and the offending value named in the summary."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from expectations.config import GateConfig
from expectations.gates import run_raw_gate, run_raw_gates
from ingest.warehouse import connect

OCT = date(2026, 10, 1)
SEP = date(2026, 9, 1)


def _person(i: int, month: date = OCT, stichtag: date = date(2026, 10, 31)) -> dict:
    return dict(
        stichtag=stichtag, person_id=f"P{i}", fall_id=f"F{i}", geburtsjahr=1990,
        altersgruppe="27-44", geschlecht="w", staatsangehoerigkeit="SYR",
        aufenthaltsstatus="GESTATTUNG", status_seit=date(2025, 1, 1),
        zuzugsdatum=date(2024, 6, 1), rechtskreis="ASYLBLG", leistungsform="GRUND",
        unterbringung="GU", unterkunft_id="U1", sozialraum="S01", fallmanagement=False,
        fallmanager_id=None, period_month=month, load_id=f"L-p-{month:%m}",
        source_file=f"personen_{month:%Y-%m}.csv", source_line=i + 1,
    )  # fmt: skip


def _payment(bid: str, amount: str, line: int, month: date = OCT, **kw) -> dict:
    row = dict(
        buchungs_id=bid, buchungsdatum=month.replace(day=5), leistung_von=month,
        leistung_bis=month.replace(day=28), person_id="P1", fall_id="F1", leistungsart="GL3",
        produkt="31.30.01", sachkonto="4331", betrag=Decimal(amount), storno_von=None,
        sozialraum="S01", period_month=month, load_id=f"L-z-{month:%m}",
        source_file=f"asylblg_zahlungen_{month:%Y-%m}.csv", source_line=line,
    )  # fmt: skip
    row.update(kw)
    return row


def clean_rows() -> dict[str, list[dict]]:
    """September and October 2026 of a tiny municipality, consistent with every rule."""
    kurs = dict(
        kurs_id="K1", kursart="INT_ALLG", traeger="VHS", sozialraum="S01",
        beginn=date(2026, 3, 1), ende=date(2027, 2, 28), ue_geplant=700, plaetze=20,
        kosten_kommune=None, period_month=OCT, load_id="L-k", source_file="kurse_2026-10.xlsx",
        source_line=2,
    )  # fmt: skip
    teilnahme = dict(
        kurs_id="K1", person_id="P1", eintritt=date(2026, 3, 1), austritt=None,
        status="LAUFEND", ue_besucht=300, pruefung=None, pruefungsdatum=None, period_month=OCT,
        load_id="L-t", source_file="kurse_2026-10.xlsx", source_line=2,
    )  # fmt: skip
    return {
        "personen": [_person(i, SEP, date(2026, 9, 30)) for i in range(1, 11)]
        + [_person(i) for i in range(1, 11)],
        "asylblg_zahlungen": [
            _payment("B1", "450.00", 2, SEP),
            _payment("B2", "452.00", 2),
            # reverses September's B1 exactly
            _payment("B3", "-450.00", 3, storno_von="B1"),
            _payment("B4", "12500.00", 4, leistungsart="KR4", person_id=None),
            # September needs about as many lines as October (row-count band)
            _payment("B5", "300.00", 3, SEP),
            _payment("B6", "11000.00", 4, SEP, leistungsart="KR4"),
        ],
        "fibu_ist": [
            dict(
                periode=OCT,
                produkt="31.30.01",
                sachkonto="4331",
                kostenstelle=None,
                betrag=Decimal("12502.00"),
                period_month=OCT,
                load_id="L-f",
                source_file="fibu_ist_2026-10.csv",
                source_line=2,
            ),
        ],  # fmt: skip
        "haushaltsplan": [
            dict(
                jahr=2026,
                produkt="31.30.01",
                sachkonto="4331",
                ansatz=Decimal("150000.00"),
                nachtrag=None,
                uebertragung=None,
                profil="LINEAR",
                period_month=None,
                load_id="L-h",
                source_file="haushaltsplan_2026.csv",
                source_line=2,
            ),
        ],  # fmt: skip
        "kurse": [kurs],
        "teilnahmen": [teilnahme],
    }


def load(con, rows: dict[str, list[dict]]) -> None:
    for table, items in rows.items():
        for row in items:
            cols = list(row)
            con.execute(
                f"insert into raw.{table} ({', '.join(cols)}) values "
                f"({', '.join('?' for _ in cols)})",
                [row[c] for c in cols],
            ).fetchall()


def _load_batch(con, load_id: str, source: str, period: str, loaded: int, quarantined: int,
                replaced: str | None = None) -> None:  # fmt: skip
    con.execute(
        "insert into meta.load_batches values (?, ?, ?, ?, 'x', 1, 'utf-8', ?, ?, ?, 0, ?, null,"
        " 'r', timestamp '2026-11-02 08:00:00', null)",
        [load_id, source, period, f"{source}_{period}.csv", loaded + quarantined, loaded,
         quarantined, replaced],
    ).fetchall()  # fmt: skip


@pytest.fixture
def con(tmp_path):
    with connect(tmp_path / "w.duckdb") as c:
        yield c


def test_clean_month_passes_every_table(con):
    load(con, clean_rows())
    _load_batch(con, "L-p-10", "personen", "2026-10", loaded=10, quarantined=0)
    outcome = run_raw_gate(con, "2026-10", run_id="run-1")
    assert outcome.passed, outcome.summary_text
    assert outcome.gate == "raw"
    assert all(r.success for r in outcome.results), outcome.summary_text
    assert outcome.summary_text.startswith("Prüfung raw 2026-10: alle ")
    stored = con.execute(
        "select gate, count(*), bool_and(success) from meta.gate_results "
        "where run_id = 'run-1' and partition = '2026-10' group by gate order by gate"
    ).fetchall()
    assert [g for g, _, _ in stored] == [
        "raw.asylblg_zahlungen", "raw.fibu_ist", "raw.haushaltsplan", "raw.kurse",
        "raw.personen", "raw.teilnahmen",
    ]  # fmt: skip
    assert sum(n for _, n, _ in stored) == len(outcome.results)
    print(f"raw gate, all six tables: {outcome.seconds:.2f} s")


def _set(table: str, index: int, **changes) -> Callable[[dict], None]:
    def mutate(rows: dict) -> None:
        rows[table][index].update(changes)

    return mutate


def _append(table: str, row_from: int, **changes) -> Callable[[dict], None]:
    def mutate(rows: dict) -> None:
        rows[table].append({**copy.deepcopy(rows[table][row_from]), **changes})

    return mutate


# (table, mutation, failing expectation, text the summary must show)
VIOLATIONS = [
    # Person keys never appear in samples: file and line name the row (index 12 = line 4).
    ("personen", _set("personen", 12, person_id=None), "person_id_not_null",
     "source_file=personen_2026-10.csv, source_line=4"),
    ("personen", _set("personen", 13, aufenthaltsstatus="FLUECHTLING"),
     "aufenthaltsstatus_in_codes", "aufenthaltsstatus=FLUECHTLING"),
    ("personen", _set("personen", 10, altersgruppe="99+"), "altersgruppe_in_codes",
     "altersgruppe=99+"),
    # P2 on lines 3 and 7 (index 15 = line 7)
    ("personen", _set("personen", 15, person_id="P2"), "person_id_unique_in_month",
     "source_file=personen_2026-10.csv, source_line=3 | source_file=personen_2026-10.csv, "
     "source_line=7"),
    ("personen", _set("personen", 11, status_seit=date(2026, 11, 5)),
     "status_seit_not_after_stichtag", "status_seit=2026-11-05"),
    ("personen", _set("personen", 11, stichtag=date(2026, 10, 30)), "stichtag_is_month_end",
     "stichtag=2026-10-30"),
    ("asylblg_zahlungen", _set("asylblg_zahlungen", 1, buchungsdatum=date(2026, 11, 2)),
     "buchungsdatum_in_month", "buchungsdatum=2026-11-02"),
    ("asylblg_zahlungen", _set("asylblg_zahlungen", 1, leistung_von=date(2026, 10, 29)),
     "leistung_von_not_after_leistung_bis", "leistung_von=2026-10-29"),
    # B1 was used in September already: unique across months, not only within the file
    ("asylblg_zahlungen", _set("asylblg_zahlungen", 1, buchungs_id="B1"),
     "buchungs_id_unique_overall", "buchungs_id=B1"),
    ("asylblg_zahlungen", _set("asylblg_zahlungen", 2, betrag=Decimal("-405.00")),
     "storno_matches_original_amount", "storno_von=B1, betrag=-405.00"),
    ("asylblg_zahlungen", _set("asylblg_zahlungen", 1, leistungsart="GL9"),
     "leistungsart_in_codes", "leistungsart=GL9"),
    ("fibu_ist", _set("fibu_ist", 0, periode=SEP), "periode_is_file_month", "periode=2026-09-01"),
    ("fibu_ist", _set("fibu_ist", 0, betrag=None), "betrag_not_null", "betrag=NULL"),
    ("kurse", _set("kurse", 0, ende=date(2026, 2, 1)), "beginn_not_after_ende", "ende=2026-02-01"),
    ("kurse", _append("kurse", 0, source_line=3), "kurs_id_unique_in_month", "kurs_id=K1"),
    ("teilnahmen", _set("teilnahmen", 0, kurs_id="K9"), "kurs_id_in_month_kurse", "kurs_id=K9"),
    ("teilnahmen", _set("teilnahmen", 0, austritt=date(2026, 2, 1)),
     "eintritt_not_after_austritt", "austritt=2026-02-01"),
    ("teilnahmen", _set("teilnahmen", 0, status="FERTIG"), "status_in_codes", "status=FERTIG"),
    ("haushaltsplan", _append("haushaltsplan", 0, source_line=3),
     "produkt_sachkonto_unique_in_year", "produkt=31.30.01, sachkonto=4331"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("table", "mutate", "expectation", "offending"), VIOLATIONS, ids=[v[2] for v in VIOLATIONS]
)
def test_single_violation_blocks_and_is_named(con, table, mutate, expectation, offending):
    rows = clean_rows()
    mutate(rows)
    load(con, rows)
    outcome = run_raw_gate(con, "2026-10", run_id="r", tables=[table])
    assert outcome.gate == f"raw.{table}"
    assert not outcome.passed
    assert [r.expectation for r in outcome.failed] == [expectation]
    failed = outcome.failed[0]
    assert failed.severity == "error"
    assert failed.unexpected_count >= 1
    assert expectation in outcome.summary_text
    assert offending in outcome.summary_text


def test_amount_out_of_bounds_is_a_warning_only(con):
    rows = clean_rows()
    rows["asylblg_zahlungen"][1]["betrag"] = Decimal("1500.01")  # GL3 upper bound is 1500
    rows["asylblg_zahlungen"][3]["betrag"] = Decimal("50000.00")  # KR4 bound itself: fine
    load(con, rows)
    outcome = run_raw_gate(con, "2026-10", tables=["asylblg_zahlungen"])
    assert outcome.passed
    assert [(r.expectation, r.severity, r.unexpected_count) for r in outcome.failed] == [
        ("betrag_within_bounds_GL3", "warning", 1)
    ]
    assert "betrag=1500.01" in outcome.summary_text
    assert "bestanden mit Warnungen" in outcome.summary_text


def test_severity_comes_from_config(con):
    rows = clean_rows()
    rows["asylblg_zahlungen"][1]["betrag"] = Decimal("1500.01")
    load(con, rows)
    strict = GateConfig(severities={**GateConfig().severities, "amount_bounds": "error"})
    outcome = run_raw_gate(con, "2026-10", tables=["asylblg_zahlungen"], config=strict)
    assert not outcome.passed


@pytest.mark.parametrize(
    ("october_rows", "success"), [(7, True), (13, True), (6, False), (14, False), (5, False)]
)
def test_persons_row_count_band_blocks(con, october_rows, success):
    # September has 10 rows; ±30 % allows ceil(7.0)..floor(13.0) = 7..13 rows in October. Five
    # rows is a file cut in half. Persons are a core table: outside the band blocks.
    rows = clean_rows()
    rows["personen"] = rows["personen"][:10] + [_person(i) for i in range(1, october_rows + 1)]
    load(con, rows)
    outcome = run_raw_gate(con, "2026-10", tables=["personen"])
    result = {r.expectation: r for r in outcome.results}["row_count_within_tolerance"]
    assert result.success is success
    assert result.severity == "error"
    assert outcome.passed is success
    assert f"{october_rows} Zeilen (Vormonat 2026-09: 10 Zeilen, erlaubt 7..13)" == (
        result.observed_value
    )


def test_header_only_persons_file_blocks(con):
    # A header-only file loads 0 rows: below the band 7..13, and below the minimum of 1 row.
    rows = clean_rows()
    rows["personen"] = rows["personen"][:10]
    load(con, rows)
    outcome = run_raw_gate(con, "2026-10", tables=["personen"])
    assert not outcome.passed
    assert [r.expectation for r in outcome.failed] == ["row_count_within_tolerance"]
    assert outcome.failed[0].observed_value == (
        "0 Zeilen (Vormonat 2026-09: 10 Zeilen, erlaubt 7..13)"
    )


def test_header_only_ledger_blocks_even_in_the_first_month(con):
    rows = clean_rows()
    rows["fibu_ist"] = []
    load(con, rows)
    outcome = run_raw_gate(con, "2026-10", tables=["fibu_ist"])
    assert not outcome.passed
    (failed,) = outcome.failed
    assert (failed.expectation, failed.severity) == ("row_count_within_tolerance", "error")
    assert failed.observed_value == "0 Zeilen (no earlier month: exempt, at least 1 row)"


def test_row_count_band_only_warns_for_payments(con):
    # September 3 payment lines (B1, B5, B6), October 3 + 2 = 5: band ceil(2.1)..floor(3.9) =
    # 3..3, so 5 is outside, but payments are not a core table: a warning, the gate passes.
    rows = clean_rows()
    rows["asylblg_zahlungen"] += [
        _payment("B7", "10.00", 5),
        _payment("B8", "10.00", 6),
    ]
    load(con, rows)
    outcome = run_raw_gate(con, "2026-10", tables=["asylblg_zahlungen"])
    result = {r.expectation: r for r in outcome.results}["row_count_within_tolerance"]
    assert (result.success, result.severity) == (False, "warning")
    assert result.observed_value == "5 Zeilen (Vormonat 2026-09: 3 Zeilen, erlaubt 3..3)"
    assert outcome.passed


def test_first_month_is_exempt_from_row_count(con):
    rows = clean_rows()
    rows["personen"] = rows["personen"][10:11]  # October only, one person
    load(con, rows)
    outcome = run_raw_gate(con, "2026-10", tables=["personen"])
    result = {r.expectation: r for r in outcome.results}["row_count_within_tolerance"]
    assert result.success
    assert "exempt" in result.observed_value


def test_samples_never_show_a_pseudonym(con):
    # A pseudonym (64 hex digits) next to an exact date would be a quasi-identifier.
    pseudonym = "ab" * 32
    rows = clean_rows()
    rows["personen"][11].update(person_id=pseudonym, stichtag=date(2026, 10, 30))  # line 3
    load(con, rows)
    outcome = run_raw_gate(con, "2026-10", run_id="s", tables=["personen"])
    (failed,) = outcome.failed
    assert failed.sample_values == [
        "source_file=personen_2026-10.csv, source_line=3, stichtag=2026-10-30"
    ]
    stored = con.execute("select string_agg(details, ' ') from meta.gate_results").fetchone()[0]
    assert pseudonym not in stored and pseudonym not in outcome.summary_text
    assert "person_id=" not in stored


@pytest.mark.parametrize(("persons", "success"), [(19, True), (18, False)])
def test_share_of_participants_in_the_persons_file(con, persons, success):
    # 20 participants P1..P20; the persons file holds P1..P<persons>. 19/20 = 95 % passes,
    # 18/20 = 90 % < 95 % warns (never blocks).
    rows = clean_rows()
    rows["personen"] = rows["personen"][:10] + [_person(i) for i in range(1, persons + 1)]
    base = rows["teilnahmen"][0]
    rows["teilnahmen"] = [
        {**base, "person_id": f"P{i}", "source_line": i + 1} for i in range(1, 21)
    ]
    load(con, rows)
    outcome = run_raw_gate(con, "2026-10", tables=["teilnahmen"])
    result = {r.expectation: r for r in outcome.results}["participants_in_persons_file"]
    assert (result.success, result.severity) == (success, "warning")
    assert outcome.passed
    if not success:
        assert result.sample_values == ["participants=20, found=18, participant_share=0.9"]


def test_unknown_reference_with_money_blocks_zero_amount_warns(con):
    load(con, clean_rows())
    _load_batch(con, "L-f-10", "fibu_ist", "2026-10", loaded=500, quarantined=2)  # share 0.4 %
    for line, rule in ((7, "unknown_account"), (8, "unknown_reference_zero_amount")):
        con.execute(
            "insert into meta.quarantine values ('L-f-10', 'fibu_ist', '2026-10', "
            f"'fibu_ist_2026-10.csv', {line}, '{rule}', 'Sachkonto', 'x', null)"
        )
    outcome = run_raw_gate(con, "2026-10", tables=["fibu_ist"])
    assert not outcome.passed
    assert [(r.expectation, r.severity) for r in outcome.failed] == [
        ("no_unknown_reference_with_money", "error"),
        ("no_unknown_reference_zero_amount", "warning"),
    ]
    assert outcome.failed[0].sample_values == [
        "file_name=fibu_ist_2026-10.csv, unknown_reference_with_money=1"
    ]


def test_quarantine_share_of_current_load(con):
    load(con, clean_rows())
    # The replaced first delivery had 50 % quarantined; it no longer counts.
    _load_batch(con, "L-old", "personen", "2026-10", loaded=5, quarantined=5)
    _load_batch(con, "L-p-10", "personen", "2026-10", loaded=10, quarantined=1, replaced="L-old")
    outcome = run_raw_gate(con, "2026-10", tables=["personen"])
    assert not outcome.passed
    (failed,) = outcome.failed
    assert failed.expectation == "quarantine_share_below_threshold"
    assert failed.unexpected_count == 1
    assert failed.sample_values == [
        "file_name=personen_2026-10.csv, rows_quarantined=1, rows_loaded=10, "
        "quarantine_share=0.0909091"
    ]  # 1 / 11


def test_quarantine_share_at_threshold_passes(con):
    load(con, clean_rows())
    _load_batch(con, "L-p-10", "personen", "2026-10", loaded=99, quarantined=1)  # exactly 1 %
    assert run_raw_gate(con, "2026-10", tables=["personen"]).passed


def test_rerun_replaces_rows_of_same_run_only(con):
    rows = clean_rows()
    rows["personen"][12]["person_id"] = None
    load(con, rows)
    first = run_raw_gate(con, "2026-10", run_id="a", tables=["personen"])
    con.execute("update raw.personen set person_id = 'P99' where person_id is null").fetchall()
    second = run_raw_gate(con, "2026-10", run_id="a", tables=["personen"])
    assert not first.passed and second.passed
    stored = con.execute(
        "select count(*), count(*) filter (where not success) from meta.gate_results "
        "where run_id = 'a'"
    ).fetchall()[0]
    assert stored == (len(second.results), 0)
    run_raw_gate(con, "2026-10", run_id="b", tables=["personen"])
    n = con.execute("select count(*) from meta.gate_results").fetchall()[0][0]
    assert n == 2 * len(second.results)


def test_rejects_malformed_month_and_unknown_table(con):
    with pytest.raises(ValueError, match="YYYY-MM"):
        run_raw_gate(con, "2026-13")
    with pytest.raises(ValueError, match="unknown raw tables"):
        run_raw_gate(con, "2026-10", tables=["bewohner"])


def test_totals_line_that_disagrees_with_the_rows_blocks(con):
    load(con, clean_rows())
    _load_batch(con, "L-f-10", "fibu_ist", "2026-10", loaded=500, quarantined=1)  # share 0.2 %
    con.execute(
        "insert into meta.quarantine values ('L-f-10', 'fibu_ist', '2026-10', "
        "'fibu_ist_2026-10.csv', 42, 'totals_mismatch', 'Betrag', "
        "'Summenzeile 2.000,00 €, Summe der Datenzeilen 1.000,00 €, Differenz 1.000,00 €', null)"
    )
    outcome = run_raw_gate(con, "2026-10", tables=["fibu_ist"])
    assert not outcome.passed
    (failed,) = outcome.failed
    assert failed.expectation == "totals_line_matches_rows"
    # the gate names file, line and column and repeats both sums and the difference
    assert failed.sample_values == [
        "file_name=fibu_ist_2026-10.csv, totals_mismatches=1, totals_lines=Zeile 42, Betrag: "
        "Summenzeile 2.000,00 €, Summe der Datenzeilen 1.000,00 €, Differenz 1.000,00 €"
    ]
    assert "totals_line_matches_rows" in outcome.summary_text


def test_one_run_over_two_months_reports_each_month(con):
    # One validation over September and October, results stored per month. P1..P10 are in
    # both months' files: unique per month, so no finding. October line 4 lacks its person.
    rows = clean_rows()
    rows["personen"][12]["person_id"] = None
    load(con, rows)
    sep, oct_ = run_raw_gates(con, ["2026-09", "2026-10"], run_id="w", tables=["personen"])
    assert sep.passed and not sep.failed, sep.summary_text
    assert [(r.expectation, r.observed_value) for r in oct_.failed] == [
        ("person_id_not_null", "1 von 10 Zeilen abweichend")
    ]
    assert "source_file=personen_2026-10.csv, source_line=4" in oct_.summary_text
    row_counts = {
        o.partition: {r.expectation: r for r in o.results}["row_count_within_tolerance"]
        for o in (sep, oct_)
    }
    # September is the first month with persons; October: 10 ± 30 % = 7..13.
    assert row_counts["2026-09"].observed_value == (
        "10 Zeilen (no earlier month: exempt, at least 1 row)"
    )
    assert row_counts["2026-10"].observed_value == (
        "10 Zeilen (Vormonat 2026-09: 10 Zeilen, erlaubt 7..13)"
    )
    stored = con.execute(
        "select partition, count(*), count(*) filter (where not success) from meta.gate_results"
        " where run_id = 'w' group by partition order by partition"
    ).fetchall()
    assert stored == [("2026-09", len(sep.results), 0), ("2026-10", len(oct_.results), 1)]


def test_yearly_plan_in_a_window_across_the_turn_of_the_year(con):
    # December 2026 validates the plan of 2026 (one line), January 2027 that of 2027, where
    # the same product x account appears twice.
    rows = clean_rows()
    plan_2027 = {**rows["haushaltsplan"][0], "jahr": 2027, "source_file": "haushaltsplan_2027.csv"}
    rows["haushaltsplan"] += [plan_2027, {**plan_2027, "source_line": 3}]
    load(con, rows)
    dec, jan = run_raw_gates(con, ["2026-12", "2027-01"], tables=["haushaltsplan"])
    assert dec.passed and not dec.failed, dec.summary_text
    assert [(r.expectation, r.unexpected_count) for r in jan.failed] == [
        ("produkt_sachkonto_unique_in_year", 2)
    ]
