"""Plain-text result table for `kim check --month` (no colours: output may go to a log)."""

from __future__ import annotations

from collections.abc import Sequence

from expectations.gates import ExpectationOutcome, GateOutcome

HEADERS = ("gate", "expectation", "severity", "result", "observed", "unexpected")
MAX_OBSERVED = 60


def _result(r: ExpectationOutcome) -> str:
    if r.success:
        return "ok"
    return "FAILED" if r.severity == "error" else "warn"


def _row(r: ExpectationOutcome) -> tuple[str, ...]:
    observed = r.observed_value or ""
    if len(observed) > MAX_OBSERVED:
        observed = observed[: MAX_OBSERVED - 1] + "…"
    count = "" if r.unexpected_count is None else str(r.unexpected_count)
    return (r.gate, r.expectation, r.severity, _result(r), observed, count)


def format_results_table(outcomes: Sequence[GateOutcome]) -> str:
    """One line per expectation, then one verdict line per gate run; failing rows keep their
    offending values in the verdict's summary paragraph."""
    rows = [_row(r) for o in outcomes for r in o.results]
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(HEADERS)]
    numeric = {len(HEADERS) - 1}

    def line(cells: Sequence[str]) -> str:
        out = [
            c.rjust(widths[i]) if i in numeric else c.ljust(widths[i]) for i, c in enumerate(cells)
        ]
        return "  ".join(out).rstrip()

    lines = [line(HEADERS), line(["-" * w for w in widths])]
    lines += [line(row) for row in rows]
    lines.append("")
    for o in outcomes:
        verdict = "passed" if o.passed else "BLOCKED"
        lines.append(f"{o.gate} {o.partition}: {verdict} ({o.seconds:.1f} s)")
        if o.failed:
            lines.append(f"  {o.summary_text}")
    return "\n".join(lines) + "\n"
