"""The data-quality report of a month: latest gate results per gate and quarantined rows per
file and rule. One self-contained HTML file (inline CSS, no external URL, no clock: the same
warehouse content gives the same bytes), and the same rows for the workbook's sheet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from expectations.suites import month_bounds
from kim_settings import labels, month_label

GATE_TITLES = {"reconciliation": "Abstimmung nach dbt", "marts": "Marts vor den Berichten"}
SEVERITY_LABELS = labels("severity")

_CSS = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 10pt; margin: 2em; color: #222; }
h1 { font-size: 16pt; } h2 { font-size: 12pt; margin-top: 1.6em; }
table { border-collapse: collapse; width: 100%; margin-top: .5em; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eee; } td.num { text-align: right; }
.ok { color: #1a7f37; } .fail { color: #b42318; font-weight: bold; } .warn { color: #9a6700; }
"""


def gate_title(gate: str) -> str:
    if gate.startswith("raw."):
        return f"Rohdaten {gate[4:]}"
    return GATE_TITLES.get(gate, gate)


def gate_rows(con: duckdb.DuckDBPyConnection, month: str) -> list[dict[str, Any]]:
    """Latest stored result of every expectation per gate for the month, ordered by gate and
    expectation. Keys: gate, gate_title, expectation, description, severity, success,
    observed_value, unexpected_count, sample_values (list of str)."""
    rows = con.execute(
        """
        with latest as (
          select gate, max(checked_at) as checked_at
          from meta.gate_results where partition = $month group by gate
        )
        select r.gate, r.expectation, r.severity, r.success, r.observed_value,
          r.unexpected_count, r.details
        from meta.gate_results r join latest l on l.gate = r.gate and l.checked_at = r.checked_at
        where r.partition = $month
        order by r.gate, r.expectation
        """,
        {"month": month},
    ).fetchall()
    out = []
    for gate, expectation, severity, success, observed, unexpected, details in rows:
        info = json.loads(details) if details else {}
        out.append(
            {
                "gate": gate,
                "gate_title": gate_title(gate),
                "expectation": expectation,
                "description": info.get("description", ""),
                "severity": severity,
                "success": bool(success),
                "observed_value": observed,
                "unexpected_count": unexpected,
                "sample_values": list(info.get("sample_values", [])),
            }
        )
    return out


def quarantine_rows(con: duckdb.DuckDBPyConnection, month: str) -> list[dict[str, Any]]:
    """Quarantined rows per file and rule of the month's current loads (and the plan file of
    the month's year), ordered by file and rule. Keys: file_name, rule, rows."""
    year = str(month_bounds(month)[0].year)
    rows = con.execute(
        """
        select q.file_name, q.rule, count(*) as n
        from meta.quarantine q
        where q.period in ($month, $year)
          and not exists (select 1 from meta.load_batches b where b.replaced_load_id = q.load_id)
        group by q.file_name, q.rule
        order by q.file_name, q.rule
        """,
        {"month": month, "year": year},
    ).fetchall()
    return [{"file_name": f, "rule": r, "rows": int(n)} for f, r, n in rows]


def gate_summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per gate: passed (no failed error), failed errors, failed warnings, expectations."""
    summary: dict[str, dict[str, Any]] = {}
    for row in rows:
        s = summary.setdefault(
            row["gate"],
            {
                "gate": row["gate"],
                "gate_title": row["gate_title"],
                "expectations": 0,
                "errors": 0,
                "warnings": 0,
            },
        )
        s["expectations"] += 1
        if not row["success"]:
            s["errors" if row["severity"] == "error" else "warnings"] += 1
    for s in summary.values():
        s["passed"] = s["errors"] == 0
    return list(summary.values())


def write_gate_report(con: duckdb.DuckDBPyConnection, month: str, folder: Path) -> Path:
    """Write `folder/Datenqualitaet_<YYYY-MM>.html` and return its path."""
    rows = gate_rows(con, month)
    path = Path(folder) / f"Datenqualitaet_{month}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(month, rows, quarantine_rows(con, month)), encoding="utf-8")
    return path


def _month_label(month: str) -> str:
    return month_label(month_bounds(month)[0])


def _status(success: bool, severity: str) -> tuple[str, str]:
    """Result text and CSS class of one expectation."""
    if success:
        return "erfüllt", "ok"
    return ("nicht erfüllt", "fail") if severity == "error" else ("nicht erfüllt", "warn")


_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=True,
    keep_trailing_newline=True,
    undefined=StrictUndefined,
)


def render_html(month: str, rows: list[dict[str, Any]], quarantine: list[dict[str, Any]]) -> str:
    summary = [
        s | {"result": ("bestanden", "ok") if s["passed"] else ("nicht bestanden", "fail")}
        for s in gate_summary(rows)
    ]
    shown = [
        r
        | {
            "severity_label": SEVERITY_LABELS.get(r["severity"], r["severity"]),
            "result": _status(r["success"], r["severity"]),
        }
        for r in rows
    ]
    return _TEMPLATES.get_template("quality.html.j2").render(
        label=_month_label(month), css=_CSS, summary=summary, rows=shown, quarantine=quarantine
    )
