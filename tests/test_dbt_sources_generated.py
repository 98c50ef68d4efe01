"""The dbt source declaration is generated from the contract and committed as generated."""

import importlib.util
from pathlib import Path

import yaml

from ingest import contracts

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "write_dbt_sources.py"
SOURCES_YML = ROOT / "dbt" / "models" / "staging" / "_raw__sources.yml"


def _script():
    spec = importlib.util.spec_from_file_location("write_dbt_sources", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _table(name: str) -> dict:
    (source,) = yaml.safe_load(SOURCES_YML.read_text(encoding="utf-8"))["sources"]
    return next(t for t in source["tables"] if t["name"] == name)


def _column(table: str, name: str) -> dict:
    return next(c for c in _table(table)["columns"] if c["name"] == name)


def test_committed_yaml_is_what_the_contract_generates() -> None:
    # A contract change without re-running the script fails here.
    assert SOURCES_YML.read_text(encoding="utf-8") == _script().render()
    assert _script().main(["--check"]) == 0


def test_no_hand_kept_mirror_of_the_contract_remains() -> None:
    dbt_files = [p for p in (ROOT / "dbt").rglob("*") if p.suffix in {".yml", ".sql"}]
    assert not [p for p in dbt_files if "target" not in p.parts and "mirror" in p.read_text()]


def test_code_lists_come_from_the_contract() -> None:
    status = _column("personen", "aufenthaltsstatus")
    assert status["data_tests"] == [
        "not_null",
        {
            "accepted_values": {
                "arguments": {
                    "values": [
                        "ASYLSUCHEND",
                        "GESTATTUNG",
                        "DULDUNG",
                        "ERLAUBNIS",
                        "NIEDERLASSUNG",
                        "SONSTIGE",
                    ]
                }
            }
        },
    ]
    assert status["data_tests"][1]["accepted_values"]["arguments"]["values"] == list(
        contracts.RESIDENCE_STATUSES
    )
    # Geburtsdatum is stored as birth year and age band; the band has the contract's list.
    bands = _column("personen", "altersgruppe")["data_tests"][1]["accepted_values"]
    assert bands["arguments"]["values"] == ["0-5", "6-17", "18-26", "27-44", "45-64", "65+"]
    assert "geburtsdatum" not in {c["name"] for c in _table("personen")["columns"]}


def test_required_optional_and_conditional_columns() -> None:
    # Required: not_null; optional (Sozialraum of persons): no test; conditional (Leistungsform
    # only when Rechtskreis = ASYLBLG): not_null restricted to those rows.
    assert "not_null" in _column("personen", "person_id")["data_tests"]
    assert "data_tests" not in _column("personen", "sozialraum")
    assert _column("personen", "leistungsform")["data_tests"][0] == {
        "not_null": {"config": {"where": "rechtskreis in ('ASYLBLG')"}}
    }
    assert _column("personen", "fallmanager_id")["data_tests"][0] == {
        "not_null": {"config": {"where": "fallmanagement in (true)"}}
    }


def test_keys_windows_and_cross_field_rules() -> None:
    # Buchungs_ID is unique across all months: a column test. Persons are unique per month:
    # the period and the key. The plan is yearly: no window, key per year.
    assert _column("asylblg_zahlungen", "buchungs_id")["data_tests"] == ["not_null", "unique"]
    persons = _table("personen")
    assert persons["config"] == {"meta": {"window_column": "period_month"}}
    assert persons["data_tests"][0] == {
        "unique": {
            "name": "raw_personen_unique_key",
            "arguments": {
                "column_name": "cast(period_month as varchar) || '|' || cast(person_id as varchar)"
            },
        }
    }
    plan = _table("haushaltsplan")
    assert "config" not in plan
    key = plan["data_tests"][0]["unique"]["arguments"]["column_name"]
    assert key.startswith("cast(jahr as varchar)")
    rules = {
        test["expression_is_true"]["name"]: test["expression_is_true"]["arguments"]["expression"]
        for test in persons["data_tests"]
        if "expression_is_true" in test
    }
    # birth_after_stichtag needs Geburtsdatum, which the raw table does not keep.
    assert rules == {
        "raw_personen_period_mismatch": (
            "stichtag = cast(date_trunc('month', period_month) + interval '1 month'"
            " - interval '1 day' as date)"
        ),
        "raw_personen_status_after_stichtag": (
            "status_seit is null or stichtag is null or status_seit <= stichtag"
        ),
        "raw_personen_arrival_after_stichtag": (
            "zuzugsdatum is null or stichtag is null or zuzugsdatum <= stichtag"
        ),
        "raw_personen_benefit_form_without_asylblg": (
            "leistungsform is null or rechtskreis in ('ASYLBLG')"
        ),
    }
    (course,) = [t for t in _table("teilnahmen")["data_tests"] if "relationships" in t]
    assert course["relationships"]["arguments"] == {
        "column_name": "kurs_id",
        "to": "source('raw', 'kurse')",
        "field": "kurs_id",
    }
