"""Labels of codes (seed labels.csv, read through kim_settings.labels): every code the contract
and the marts allow has one, so no report prints a bare code."""

from __future__ import annotations

import yaml

from ingest.contracts import HOUSING_KINDS, RESIDENCE_STATUSES
from kim_settings import DBT_PROJECT_DIR, labels

# mart column -> label domain
LABELLED_COLUMNS = {
    "account_kind": "account_kind",
    "level": "level",
    "direction": "direction",
    "forecast_method": "forecast_method",
    "traffic_light": "traffic_light",
    "value_status": "value_status",
}


def accepted_values(column: str) -> set[str]:
    """Every value the marts' accepted_values tests allow for a column of that name."""
    spec = yaml.safe_load((DBT_PROJECT_DIR / "models/marts/_marts__models.yml").read_text())
    allowed: set[str] = set()
    for model in spec["models"]:
        for col in model.get("columns", []):
            for test in col.get("data_tests", []) if col["name"] == column else []:
                if isinstance(test, dict) and "accepted_values" in test:
                    allowed |= set(test["accepted_values"]["arguments"]["values"])
    return allowed


def test_every_status_and_housing_kind_of_the_contract_has_a_label():
    assert set(labels("residence_status")) == set(RESIDENCE_STATUSES)
    assert set(labels("housing")) == set(HOUSING_KINDS)
    assert labels("residence_status")["ERLAUBNIS"] == "Aufenthaltserlaubnis"


def test_every_code_the_marts_allow_has_a_label():
    for column, domain in LABELLED_COLUMNS.items():
        allowed = accepted_values(column)
        assert allowed, column  # the marts do test the column
        assert allowed <= set(labels(domain)), (column, allowed - set(labels(domain)))
    assert set(labels("level_long")) == set(labels("level"))
