"""Thresholds and severities of the quality gates, as data.

Defaults live here; an operator overrides them without code changes through environment
variables (the two thresholds) or a JSON file named by `KIM_GATE_CONFIG` (any field).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from pathlib import Path

from kim_settings import seeds_dir

ERROR = "error"  # blocks the pipeline
WARNING = "warning"  # reported, does not block
SEVERITIES = (ERROR, WARNING)

# Plausible bounds of one booking line per benefit type (euros, per month). A line outside is
# not impossible (a hospital bill, a back payment), so the default severity is a warning.
DEFAULT_AMOUNT_BOUNDS: dict[str, tuple[Decimal, Decimal]] = {
    "GL3": (Decimal("-1000"), Decimal("1500")),
    "AL2": (Decimal("-1500"), Decimal("2000")),
    "KR4": (Decimal("-20000"), Decimal("50000")),
    "AG5": (Decimal("-200"), Decimal("500")),
    "SL6": (Decimal("-3000"), Decimal("5000")),
    "BUT": (Decimal("-500"), Decimal("1000")),
    "UK": (Decimal("-50000"), Decimal("250000")),
}

# Valid value range of an indicator per unit (None = open). Percentages are stored 0..100.
DEFAULT_UNIT_RANGES: dict[str, tuple[float | None, float | None]] = {
    "%": (0.0, 100.0),
    "Anzahl": (0.0, None),
    "Tage": (0.0, None),
    "Fälle je VZÄ": (0.0, None),
}

def settings_seed() -> Path:
    """The settings seed of this deployment's dbt project (a district's own seeds when the
    warehouse has them): THE place for tolerances (dbt models read it as reference.settings,
    the gates and report texts read the same rows)."""
    return seeds_dir() / "settings.csv"


def seed_setting(name: str, path: Path | None = None) -> str:
    """The value of setting `name` in the settings seed."""
    path = path or settings_seed()
    with path.open(encoding="utf-8", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            if row["setting"] == name:
                if not row["value"]:
                    raise ValueError(f"{path}, Zeile {line}: Einstellung {name!r} ohne Wert")
                return row["value"]
    raise ValueError(f"{path}: Einstellung {name!r} fehlt")


# Severity per rule family. Families name what a rule protects, so one switch covers all tables.
DEFAULT_SEVERITIES: dict[str, str] = {
    "not_null": ERROR,
    "in_codes": ERROR,
    "dates": ERROR,
    "unique": ERROR,
    "reference": ERROR,
    "reversal": ERROR,
    "amount_bounds": WARNING,
    "row_count": WARNING,
    # Persons and ledger: a header-only or truncated file would publish a month with people or
    # money missing, so their row-count band blocks (see suites.CORE_ROW_COUNT_TABLES).
    "row_count_core": ERROR,
    # A ledger or plan line with a product/account outside the reference data but all amounts
    # zero changes no total: worth a look, not a block (with money it is family "reference").
    "reference_zero_amount": WARNING,
    # Course participants missing from the month's persons file: a finding, not a block.
    "participant_coverage": WARNING,
    "quarantine_share": ERROR,
    # A totals line that disagrees with the file's rows means rows are missing or extra: the
    # month's figures cannot be trusted even though every single row is valid.
    "totals_line": ERROR,
    "reconciliation": ERROR,
    "plan_total": ERROR,
    "denominator_zero": ERROR,
    "indicator_range": ERROR,
    "indicator_complete": ERROR,
    "traffic_light": ERROR,
}


@dataclass(frozen=True)
class GateConfig:
    row_count_tolerance: float = 0.30  # allowed relative change of a table's rows month on month
    max_quarantine_share: float = 0.01  # quarantined ÷ (loaded + quarantined) per load
    min_participant_share: float = 0.95  # course participants found in the month's persons
    # Traffic light: yellow = target missed by at most this share; from the settings seed only.
    yellow_tolerance: float = field(
        default_factory=lambda: float(seed_setting("traffic_light_tolerance"))
    )
    amount_bounds: dict[str, tuple[Decimal, Decimal]] = field(
        default_factory=lambda: dict(DEFAULT_AMOUNT_BOUNDS)
    )
    # Indicators whose valid range differs from their unit's. K02 (occupancy of collective
    # housing) is persons per place: above 100 % means overcrowding, a finding, not bad data.
    # K14 (Deckungsgrad) above 100 % is valid: the Land pays in advance and in lumps per person
    # admitted, so in a month with many admissions revenues can exceed expenses.
    indicator_ranges: dict[str, tuple[float | None, float | None]] = field(
        default_factory=lambda: {"K02": (0.0, None), "K14": (0.0, None)}
    )
    unit_ranges: dict[str, tuple[float | None, float | None]] = field(
        default_factory=lambda: dict(DEFAULT_UNIT_RANGES)
    )
    severities: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_SEVERITIES))

    def __post_init__(self) -> None:
        for family, severity in self.severities.items():
            if severity not in SEVERITIES:
                raise ValueError(
                    f"severity of {family!r} must be one of {SEVERITIES}: {severity!r}"
                )
        if not 0 <= self.row_count_tolerance:
            raise ValueError(f"row_count_tolerance must be >= 0: {self.row_count_tolerance}")
        if not 0 <= self.max_quarantine_share <= 1:
            raise ValueError(f"max_quarantine_share must be in 0..1: {self.max_quarantine_share}")
        if not 0 <= self.min_participant_share <= 1:
            raise ValueError(f"min_participant_share must be in 0..1: {self.min_participant_share}")
        for code, (low, high) in self.amount_bounds.items():
            if low > high:
                raise ValueError(f"amount bounds of {code}: lower {low} above upper {high}")

    def severity(self, family: str) -> str:
        return self.severities.get(family, ERROR)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], base: GateConfig | None = None) -> GateConfig:
        """Override `base` (default: the defaults) with the keys of `data` (JSON-like)."""
        base = base or cls()
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown gate config keys: {sorted(unknown)}")
        if "yellow_tolerance" in data:
            raise ValueError(
                "yellow_tolerance is the setting traffic_light_tolerance of "
                f"{settings_seed()}: change it there, so dbt, gates and reports agree"
            )
        changes: dict[str, object] = {}
        for key in ("row_count_tolerance", "max_quarantine_share", "min_participant_share"):
            if key in data:
                changes[key] = float(data[key])  # type: ignore[arg-type]
        if "amount_bounds" in data:
            bounds = dict(base.amount_bounds)
            for code, pair in data["amount_bounds"].items():  # type: ignore[union-attr]
                low, high = pair
                bounds[code] = (Decimal(str(low)), Decimal(str(high)))
            changes["amount_bounds"] = bounds
        for key in ("unit_ranges", "indicator_ranges"):
            if key in data:
                ranges = dict(getattr(base, key))
                for name, (low, high) in data[key].items():  # type: ignore[union-attr]
                    ranges[name] = (
                        None if low is None else float(low),
                        None if high is None else float(high),
                    )
                changes[key] = ranges
        if "severities" in data:
            changes["severities"] = {**base.severities, **data["severities"]}  # type: ignore[dict-item]
        return replace(base, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GateConfig:
        """Defaults, then the JSON file `KIM_GATE_CONFIG`, then the single-value variables
        `KIM_GATE_ROW_COUNT_TOLERANCE` and `KIM_GATE_MAX_QUARANTINE_SHARE`."""
        env = os.environ if environ is None else environ
        config = cls()
        if env.get("KIM_GATE_CONFIG"):
            config = cls.from_mapping(json.loads(Path(env["KIM_GATE_CONFIG"]).read_text("utf-8")))
        overrides: dict[str, object] = {}
        if env.get("KIM_GATE_ROW_COUNT_TOLERANCE"):
            overrides["row_count_tolerance"] = env["KIM_GATE_ROW_COUNT_TOLERANCE"]
        if env.get("KIM_GATE_MAX_QUARANTINE_SHARE"):
            overrides["max_quarantine_share"] = env["KIM_GATE_MAX_QUARANTINE_SHARE"]
        return cls.from_mapping(overrides, base=config) if overrides else config
