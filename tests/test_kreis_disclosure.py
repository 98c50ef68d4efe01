"""One protection for every table of a district's council report (issue 15, domain.md section 5):
the municipality counts sit in the same `SuppressionRegistry` as the social-space counts, with
municipality = Σ its social spaces and district = Σ municipalities = the city row, every count
below the small-area threshold is primary, and `kim audit-disclosure` models the same tables.
Tiny hand-made models; the expected patterns and intervals are worked out in the comments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl

from reports.disclosure_audit import (
    AuditRule,
    PublishedIndicator,
    PublishedMunicipality,
    _read_municipality_tables,
    audit,
    published_model,
)
from reports.kreis import DISTRICT, cell_key, register_counts
from reports.suppression import SuppressionConfig, SuppressionRegistry

MONTH = date(2026, 9, 1)
DISTRICT_RULE = AuditRule(1, 9, 3)  # small-area threshold 10: counts 1 … 9 are primary
SPACES_OF = {"Adelfingen": ["Adelfingen"], "Bdorf": ["B-Nord", "B-Süd"]}


def k03(space: str, printed) -> PublishedIndicator:
    return PublishedIndicator("K03", "count", space, None if printed is None else printed)


def municipality(name: str, printed) -> PublishedMunicipality:
    return PublishedMunicipality("K03", name, printed)


def test_the_district_config_hides_every_count_below_the_small_area_threshold():
    config = SuppressionConfig().for_district(10)
    assert (config.min_count, config.max_count) == (1, 9)
    assert config.rule() == DISTRICT_RULE
    assert [config.is_small(v) for v in (0, 1, 9, 10)] == [False, True, True, False]
    assert "Fallzahlen von 1 bis 9 Personen" in config.describe()


def test_audit_fails_when_a_municipality_is_hidden_but_its_only_social_space_is_shown():
    # The leak of the Musterkreis 2026-Q3 annex: K03 per social space (rule 1–2) shows
    # Adelfingen 3, B-Nord 6, B-Süd 20, GESAMT 29; the municipality comparison (old small-area
    # rule: 3 < 10 hidden, then Bdorf's 26 as the next smallest, hidden sum 29 ≥ 10) shows
    # Adelfingen *, Bdorf *, Landkreis 29.
    indicators = [k03("Adelfingen", 3), k03("B-Nord", 6), k03("B-Süd", 20), k03("GESAMT", 29)]
    cells = [municipality("Adelfingen", "*"), municipality("Bdorf", "*"),
             municipality("Landkreis", 29)]  # fmt: skip
    # Without the mapping (the municipality table alone): Adelfingen + Bdorf + rest = 29, so
    # Adelfingen ∈ [1, 28]: it looks safe.
    model, hidden = published_model({}, indicators, cells)
    alone = audit(model, hidden, DISTRICT_RULE)
    assert alone.passed
    assert {(c.label, c.low, c.high) for c in alone.checks} == {
        ("K03 [Gemeinde Adelfingen]", 1, 28), ("K03 [Gemeinde Bdorf]", 1, 28)
    }  # fmt: skip
    # With the published mapping, municipality Adelfingen = social space Adelfingen = 3
    # (printed): the hidden cell is pinned to [3, 3]. Bdorf = 6 + 20 = 26 is pinned too, but its
    # lower bound 26 > 9 says it is no small count: the rule asks nothing of it.
    model, hidden = published_model({}, indicators, cells, SPACES_OF)
    result = audit(model, hidden, DISTRICT_RULE)
    assert not result.passed
    assert [(c.label, c.low, c.high) for c in result.failures] == [
        ("K03 [Gemeinde Adelfingen]", 3, 3)
    ]


def district_registry() -> SuppressionRegistry:
    """K03 in a district of Adelfingen (one social space) and Bdorf (B-Nord, B-Süd): social
    spaces 3, 12, 15 (city 30) registered as the council report does; municipalities
    Adelfingen 3, Bdorf 12 + 15 = 27, district 30."""
    registry = SuppressionRegistry(SuppressionConfig().for_district(10))
    spaces = {"Adelfingen": 3, "B-Nord": 12, "B-Süd": 15, "GESAMT": 30}
    for space, value in spaces.items():
        registry.add_cell(("indicator", "K03", MONTH, space), value)
    registry.add_relation(
        ("indicator", "K03", MONTH, "GESAMT"),
        [("indicator", "K03", MONTH, s) for s in ("Adelfingen", "B-Nord", "B-Süd")],
    )
    counts = {"A": 3, "B": 27, DISTRICT: 30}
    register_counts(registry, "K03", MONTH, counts, {"A": ["Adelfingen"], "B": ["B-Nord", "B-Süd"]})
    return registry


def test_one_registry_hides_a_small_municipality_and_its_social_space_together():
    registry = district_registry()
    space = ("indicator", "K03", MONTH, "Adelfingen")
    # Primary (1 … 9): social space Adelfingen 3 and municipality A 3, the same figure.
    # City 30 − 12 − 15 gives 3 back: no single further cell helps (hiding B-Nord leaves
    # B-Nord = Bdorf 27 − 15; hiding Bdorf leaves Bdorf = 12 + 15; city = district = 30), so
    # the cheapest, B-Nord (12), is hidden, then Bdorf (27): Adelfingen + B-Nord = 30 − 15 = 15,
    # Adelfingen ∈ [1, 14] ≥ 3 + 3. B-Nord stays hidden: shown, it would pin Adelfingen to
    # 15 − 12 = 3 again.
    assert registry.hidden() == {
        space,
        ("indicator", "K03", MONTH, "B-Nord"),
        cell_key("K03", MONTH, "A"),
        cell_key("K03", MONTH, "B"),
    }
    result = registry.audit()
    assert result.passed
    intervals = {c.key: (c.low, c.high) for c in result.checks}
    assert intervals[space] == (1, 14)
    assert intervals[cell_key("K03", MONTH, "B")] == (16, 29)  # 15 + B-Nord ∈ [1, 14]


def test_audit_passes_the_pattern_the_registry_publishes():
    # The tables as printed with the pattern above: social spaces Adelfingen *, B-Nord *,
    # B-Süd 15, GESAMT 30; municipalities Adelfingen *, Bdorf *, Landkreis 30.
    indicators = [k03("Adelfingen", "*"), k03("B-Nord", "*"), k03("B-Süd", 15), k03("GESAMT", 30)]
    cells = [municipality("Adelfingen", "*"), municipality("Bdorf", "*"),
             municipality("Landkreis", 30)]  # fmt: skip
    model, hidden = published_model({}, indicators, cells, SPACES_OF)
    result = audit(model, hidden, DISTRICT_RULE)
    assert result.passed
    # Adelfingen + B-Nord = 30 − 15 = 15 (both ≥ 1): each ∈ [1, 14]; Bdorf = B-Nord + 15.
    assert {(c.label, c.low, c.high) for c in result.checks} == {
        ("K03 [Adelfingen]", 1, 14), ("K03 [B-Nord]", 1, 14),
        ("K03 [Gemeinde Adelfingen]", 1, 14), ("K03 [Gemeinde Bdorf]", 16, 29),
    }  # fmt: skip


def test_a_district_total_above_its_municipalities_leaves_an_unknown_rest():
    # District 31 = Adelfingen 3 + Bdorf 27 + 1 person of no known social space: no exact
    # link district = Σ municipalities (the data breaks it), but district = Σ + rest ≥ 0.
    registry = SuppressionRegistry(SuppressionConfig().for_district(10))
    register_counts(registry, "persons_au", MONTH, {"A": 3, "B": 27, DISTRICT: 31}, {})
    (relation,) = registry.model.relations
    assert relation.total == cell_key("persons_au", MONTH, DISTRICT)
    assert len(relation.members) == 3 and relation.members[2] in registry.model.unpublished
    # A (3) primary; B hidden too would leave A + B = 31 − rest: A ∈ [1, 30]. Hiding only A:
    # A = 31 − 27 − rest ∈ [1, 4]: too narrow (needs ≥ 6), so B (27, the cheapest) is hidden.
    assert registry.hidden() == {
        cell_key("persons_au", MONTH, "A"),
        cell_key("persons_au", MONTH, "B"),
    }
    intervals = {c.key: (c.low, c.high) for c in registry.audit().checks}
    assert intervals[cell_key("persons_au", MONTH, "A")] == (1, 30)


def test_the_audit_reads_the_district_chapter_of_an_annex():
    # Sheets as `_annex_sheets` gives them (text cells): the mapping, the quota table and a
    # count comparison with its quartile rows (not cells of the linear system), and a rate
    # comparison (not read: rates of municipalities are hidden by their base, not counted).
    def sheet(title: str, columns: dict) -> tuple[str, pl.DataFrame]:
        return title, pl.DataFrame(columns)

    sheets = [
        sheet("Tabelle 40: Sozialräume der Gemeinden",
              {"Gemeinde": ["Adelfingen", "Bdorf", "Bdorf"],
               "Sozialraum": ["Adelfingen", "B-Nord", "B-Süd"]}),
        sheet("Tabelle 41: Aufnahmequote der Gemeinden, September 2026",
              {"Gemeinde": ["Adelfingen", "Bdorf", "Landkreis"],
               "Personen in Anschlussunterbringung": ["*", "40", "45"]}),
        sheet("Tabelle 44: K03 Neue Kursteilnahmen im Gemeindevergleich",
              {"Gemeinde": ["Adelfingen", "Bdorf", "Landkreis", "1. Quartil", "Median"],
               "Wert": ["*", "*", "30", "12", "12"], "Rang": [None, "*", None, None, None]}),
        sheet("Tabelle 45: K06 Anteil dezentral im Gemeindevergleich",
              {"Gemeinde": ["Adelfingen", "Landkreis"], "Wert": ["/", "0.5"],
               "Rang": [None, None]}),
    ]  # fmt: skip
    cells, spaces_of = _read_municipality_tables(sheets, {"K03": "Anzahl", "K06": "%"})
    assert spaces_of == SPACES_OF
    assert cells == [
        PublishedMunicipality("persons_au", "Adelfingen", "*"),
        PublishedMunicipality("persons_au", "Bdorf", Decimal(40)),
        PublishedMunicipality("persons_au", "Landkreis", Decimal(45)),
        municipality("Adelfingen", "*"),
        municipality("Bdorf", "*"),
        municipality("Landkreis", Decimal(30)),
    ]
