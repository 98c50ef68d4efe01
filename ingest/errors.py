"""Errors of the ingest, each carrying what a controller needs to fix the file.

The CLI prints `str(error)`: one paragraph naming the file, the problem and the expected form.
"""

from __future__ import annotations


class IngestError(Exception):
    """Base class of all ingest errors."""


class FileRejected(IngestError):
    """A whole file cannot be loaded; nothing of it is written to the warehouse."""

    def __init__(
        self,
        file: str,
        problem: str,
        expected: str = "",
        *,
        line: int | None = None,
        rule: str | None = None,
        value: str | None = None,
    ) -> None:
        self.file = file
        self.problem = problem
        self.expected = expected
        self.line = line
        self.rule = rule
        self.value = value
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"Datei {self.file}" + (f", Zeile {self.line}" if self.line else "")
        text = f"{where}: {self.problem}"
        if self.value is not None:
            text += f" (Wert: {self.value!r})"
        text += "."
        if self.expected:
            text += f" Erwartet: {self.expected}."
        text += " Die Datei wurde nicht geladen; der bisherige Stand bleibt unverändert."
        return text


class SubtotalMismatch(FileRejected):
    """A Teilergebnisplan subtotal differs from its components by more than rounding allows."""

    def __init__(
        self,
        file: str,
        line: int,
        teilplan: str,
        year_column: str,
        zeile: int,
        difference: str,
        allowed: str,
    ) -> None:
        self.teilplan = teilplan
        self.year_column = year_column
        self.zeile = zeile
        self.difference = difference
        super().__init__(
            file,
            f"Zwischensumme Zeile {zeile} im Teilplan {teilplan}, Spalte {year_column}, weicht "
            f"um {difference} € von der Summe ihrer Bestandteile ab (zulässig: {allowed} €)",
            "Zwischensummen gemäß Kontrakt Abschnitt 4b (10 = 01..09, 17 = 11..16, 18 = 10 − 17, "
            "21 = 19 − 20, 22 = 18 + 21, 25 = 23 − 24, 26 = 22 + 25, 28 = 26 − 27)",
            line=line,
            rule="subtotal_mismatch",
            value=difference,
        )


class PseudonymKeyMissing(IngestError):
    """No pseudonymisation key is configured and the inbox is not the bundled sample."""


class InvariantViolated(IngestError):
    """rows_read != rows_loaded + rows_quarantined + rows_totals_removed: a row got lost."""
