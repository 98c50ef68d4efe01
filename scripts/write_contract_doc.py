"""Write `docs/input-contract.md` (German) from the contract in `ingest/contracts.py`.

Column lists, kinds, codes, renames, keys and cross-field rules come from the contract module and
the Teilergebnisplan subtotals from `ingest.teilergebnisplan`, so the document cannot drift from the
code: re-run this script after every contract change. `--check` exits 1 when the file on disk
differs from what the contract gives (for CI).

The fixed German prose (format rules, rule names) describes `ingest/parsing.py`,
`ingest/readers.py`, `ingest/encoding.py` and `ingest/validate.py`; every rule name listed here is
checked to occur in the ingest sources, so a renamed rule fails this script instead of leaving a
stale name in the document.

Usage: python scripts/write_contract_doc.py [--out FILE] [--check]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from ingest import contracts as c  # noqa: E402
from ingest import teilergebnisplan as tp  # noqa: E402
from ingest.pseudonymise import MIN_KEY_BYTES, SAMPLE_MARKER  # noqa: E402

OUT = PROJECT_ROOT / "docs" / "input-contract.md"

KIND_LABELS = {
    "id": "Kennung (Text; führende Nullen zählen)",
    "text": "Text",
    "code": "Code aus Liste",
    "key": "Referenzschlüssel",
    "date": "Datum",
    "month": "Monat",
    "year": "Jahr",
    "int": "ganze Zahl",
    "money": "Betrag (€)",
    "bool": "Ja/Nein",
    "profile": "Phasierungsprofil",
}

# German text of the contract's English column descriptions; unknown ones are printed as they
# are (and reported on stderr), so a new description never disappears from the document.
DESCRIPTIONS_DE = {
    "last day of the reporting month": "letzter Tag des Berichtsmonats",
    "person key, pseudonymised at ingest": "Personenschlüssel",
    "household key, pseudonymised": "Haushalt / Bedarfsgemeinschaft",
    "reduced to birth year and age band at ingest": (
        "wird beim Laden auf Geburtsjahr und Altersgruppe reduziert; das Datum selbst wird nie "
        "gespeichert"
    ),
    "ISO 3166-1 alpha-3": "ISO 3166-1 Alpha-3, z. B. SYR, UKR",
    "date the current status began": "Beginn des aktuellen Aufenthaltsstatus",
    "arrival in the municipality": "Zuzug in die Kommune (Zuweisungsdatum)",
    "empty = unknown address": "leer = Adresse unbekannt (gezählt unter „unbekannt“)",
    "municipality (8-digit AGS); empty = the delivering municipality's (inbox folder or file "
    "name), else that of the social space": (
        "Gemeinde (8-stelliger AGS); leer = die liefernde Gemeinde (Ordner `<AGS>/` oder AGS im "
        "Dateinamen), sonst die Gemeinde des Sozialraums"
    ),
    c.UNKNOWN_SPACE_IS_UNBEKANNT: (
        "leer oder nicht in `social_spaces.csv`: gezählt unter „unbekannt“ (Warnung mit Zeile "
        "und Schlüssel, keine Quarantäne)"
    ),
    "posting date, inside the file's month": "Buchungsdatum, im Monat der Datei",
    "negative = reversal or recovery": "negativ = Storno oder Rückforderung",
    "Buchungs_ID this line reverses": (
        "Buchungs_ID der stornierten Zeile (Betrag muss deren exaktes Negativ sein)"
    ),
    "LINEAR, Q, JAN or 12 shares a|b|...": (
        "LINEAR (Standard, je Monat 1/12), Q (je Quartalsbeginn), JAN (alles im Januar) oder "
        "12 Anteile a|b|…, Summe 1"
    ),
}

# Rules of the reader and validator that are not in CROSS_FIELD_RULES, in the validator's order.
ROW_RULES = (
    ("wrong_field_count", "Zeile hat mehr oder weniger Felder als die Kopfzeile."),
    (
        "totals_mismatch",
        "Summenzeile („Summe…“/„Gesamt…“) stimmt nicht mit der Summe der "
        "Datenzeilen überein oder ist unlesbar. **Blockiert den Lauf** (Gate `totals_line`).",
    ),
    (
        "required_missing",
        "Pflichtfeld leer (auch bedingte Pflicht, z. B. Leistungsform bei Rechtskreis ASYLBLG).",
    ),
    ("code_not_in_list", "Wert steht nicht in der Codeliste der Spalte."),
    (
        "invalid_<art>",
        "Wert passt nicht zur Spaltenart, z. B. `invalid_date`, `invalid_money`, "
        "`invalid_int`, `invalid_bool`, `invalid_month`, `invalid_year`, `invalid_profile`.",
    ),
    (
        "unknown_social_space",
        "Sozialraum gefüllt, aber nicht in `dbt/seeds/social_spaces.csv` (Personen, Kurse). "
        "Zahlungen kommen dafür nicht in Quarantäne: sie zählen unter „unbekannt“, und jede "
        "solche Zeile wird als Warnung der Ladung mit Zeile und Schlüssel protokolliert.",
    ),
    (
        "unknown_municipality",
        "Gemeinde gefüllt, aber nicht in `dbt/seeds/municipalities.csv`.",
    ),
    (
        "municipality_mismatch",
        "Gemeinde ist nicht die Gemeinde, die die Datei geliefert hat (Ordner `<AGS>/` oder AGS "
        "im Dateinamen), oder nicht die Gemeinde des Sozialraums (`social_spaces.csv`, Spalte "
        "ags). Personen und Kurse.",
    ),
    (
        "unknown_accommodation",
        "Unterkunft_ID gefüllt, aber nicht in `dbt/seeds/accommodation.csv`.",
    ),
    (
        "unknown_product / unknown_account",
        "Finanzbuchhaltung oder Haushaltsplan: Produkt nicht in `dbt/seeds/products.csv` bzw. "
        "Sachkonto nicht in `dbt/seeds/accounts.csv`, mit einem Betrag ≠ 0 (die Meldung nennt "
        "die Beträge). **Blockiert den Monat** (Gate `no_unknown_reference_with_money`).",
    ),
    (
        "unknown_reference_zero_amount",
        "Wie oben, aber alle Beträge der Zeile sind 0: nur eine Warnung.",
    ),
    ("<Regeln der Spaltenbeziehungen>", "siehe Tabelle „Regeln zwischen Spalten“ oben."),
    (
        "duplicate_key",
        "Schlüssel kommt in der Datei mehrfach vor: **alle** Zeilen dieses Schlüssels kommen in "
        "Quarantäne (welche richtig ist, ist nicht entscheidbar). Buchungs_ID: die erste Zeile "
        "wird geladen, spätere kommen in Quarantäne, ebenso eine Buchungs_ID, die schon in einem "
        "anderen Monat geladen ist.",
    ),
    (
        "reversal_without_original",
        "Storno_von nennt keine Buchung dieser Datei oder früherer Ladungen.",
    ),
    ("reversal_amount_mismatch", "Storno-Betrag ist nicht das exakte Negativ der Originalbuchung."),
    (
        "reversal_duplicate",
        "Die Originalbuchung wurde schon storniert (von einer früheren Zeile derselben Datei "
        "oder in einem anderen Monat).",
    ),
    (
        "reversal_before_original",
        "Das Buchungsdatum der Originalbuchung liegt nach dem des Stornos.",
    ),
)
FILE_RULES = (
    ("invalid_encoding", "Zeichenkodierung weder UTF-8 noch Windows-1252."),
    ("missing_column", "Pflichtspalte fehlt in der Kopfzeile."),
    ("subtotal_mismatch", "Zwischensumme eines Teilergebnisplans weicht mehr als erlaubt ab."),
)


def _required(column: c.Column) -> str:
    if column.required is True:
        return "ja"
    if column.required is False and column.required_in == "kreis":
        return "im Landkreis (deployment_mode = kreis oder KIM_MODE=kreis)"
    if column.required is False:
        return "nein"
    return f"wenn {c.CONDITIONS[column.required]}"


def _description(column: c.Column, missing: set[str]) -> str:
    parts = []
    if column.description:
        german = DESCRIPTIONS_DE.get(column.description)
        if german is None:
            missing.add(column.description)
            german = column.description
        parts.append(german)
    if column.codes:
        parts.append("Codes: " + ", ".join(f"`{code}`" for code in column.codes))
    if column.pseudonymise:
        parts.append("**pseudonymisiert** (HMAC-SHA-256)")
    if column.digits:
        parts.append(
            f"mindestens {column.digits} Ziffern mit führenden Nullen; als Zahl gespeicherte "
            "Excel-Zellen werden ergänzt"
        )
    if column.kind == "key" and column.name == "Sozialraum":
        if column.description != c.UNKNOWN_SPACE_IS_UNBEKANNT:
            parts.append("muss in `social_spaces.csv` stehen")
    if column.kind == "key" and column.name == "Unterkunft_ID":
        parts.append("muss in `accommodation.csv` stehen")
    return "; ".join(parts)


def _cell(text: str) -> str:
    """Escape the pipe, which would end a Markdown table cell."""
    return text.replace("|", "\\|")


def _file_name(source: c.Source) -> str:
    period = "JJJJ-MM" if source.period == "month" else "JJJJ"
    return f"{source.name}_<{period}>.{source.extension}"


def source_section(source: c.Source, number: int, missing: set[str]) -> list[str]:
    sheet = f", Blatt `{source.sheet}`" if source.sheet else ""
    out = [
        f"### {number}. {source.title}",
        "",
        f"- Datei: `{_file_name(source)}`{sheet}",
        f"- Zieltabelle: `raw.{source.raw_table}`",
        "- Zeitraum: "
        + (
            "Monat (eine Datei je Monat)"
            if source.period == "month"
            else "Jahr (eine Datei je Haushaltsjahr)"
        ),
    ]
    if source.unique_key:
        scope = "über alle Monate" if source.unique_scope == "all" else "je Datei"
        keys = " + ".join(f"`{k}`" for k in source.unique_key)
        out.append(f"- Eindeutig: {keys} ({scope})")
    if source.renames:
        renames = ", ".join(f"`{old}` → `{new}`" for old, new in source.renames.items())
        out.append(f"- Frühere Spaltennamen, die weiter gelesen werden: {renames}")
    out += [
        "",
        "| Spalte | Art | Pflicht | Bedeutung |",
        "| --- | --- | --- | --- |",
    ]
    for col in source.columns:
        out.append(
            f"| `{col.name}` | {KIND_LABELS[col.kind]} | {_required(col)} | "
            f"{_cell(_description(col, missing))} |"
        )
    rules = [r for r in c.CROSS_FIELD_RULES if r.table == source.raw_table]
    if rules:
        out += [
            "",
            "Regeln zwischen Spalten:",
            "",
            "| Regel | Zeile kommt in Quarantäne, wenn … |",
            "| --- | --- |",
        ]
        out += [f"| `{r.rule}` | {_cell(r.message)} |" for r in rules]
    if source.raw_table == "asylblg_zahlungen":
        out += [
            "",
            "Stornos: `Storno_von` muss eine Buchung dieser Datei oder eines früher "
            "geladenen Monats nennen, ihr Betrag muss das exakte Negativ des Originals sein, "
            "das Original darf nicht später gebucht sein und nur einmal storniert werden.",
        ]
    return out + [""]


def _subtotal_formula(line: int, terms: tuple[tuple[int, int], ...]) -> str:
    if all(sign == 1 for sign, _ in terms) and len(terms) > 2:
        first, last = terms[0][1], terms[-1][1]
        return f"{line} = Summe {first:02d}–{last:02d}"
    text = f"{terms[0][1]:02d}"
    for sign, z in terms[1:]:
        text += f" {'+' if sign == 1 else '−'} {z:02d}"
    return f"{line} = {text}"


def teilergebnisplan_section() -> list[str]:
    formulas = "; ".join(_subtotal_formula(z, t) for z, t in tp.SUBTOTALS.items())
    return [
        "## Veröffentlichter Teilergebnisplan (NKF)",
        "",
        "- Datei: `teilergebnisplan_<Bezeichnung>.csv` (Bezeichnung frei, z. B. Jahr der "
        "Veröffentlichung); Import mit `kim import-plan DATEI` (nicht durch den Monatslauf).",
        "- Kopfzeile: " + ";".join(f"`{f}`" for f in tp.FIXED) + ", danach Jahresspalten "
        "`Ergebnis JJJJ`, `Plan JJJJ` oder `Ansatz JJJJ`.",
        "- `Teilplanzeile`: `15 - Transferaufwendungen` (Buchungszeile, wird geladen) oder "
        "`17 = ordentliche Aufwendungen` (Zwischensumme, wird nur geprüft).",
        "- Beträge in ganzen Euro mit Tausenderpunkt (`12.301.847`), negativ mit Minus.",
        f"- Zwischensummen: {formulas}.",
        "- Rundung: Bei ganzen Euro darf eine Zwischensumme um höchstens ⌈k/2⌉ € (mindestens "
        "1 €) von ihren k Bestandteilen abweichen; Beträge mit Cent müssen genau stimmen. "
        "Sonst wird die ganze Datei abgelehnt (`subtotal_mismatch`, mit Zeile, Teilplan, Jahr "
        "und Differenz).",
        "- Ziel: `raw.teilergebnisplan`; ein Import unter demselben Dateinamen ersetzt den "
        "früheren (unveränderter Inhalt wird übersprungen). Die Monatsberichte lesen diese "
        "Tabelle nicht; maßgeblich für Plan/Ist bleibt `haushaltsplan_<JJJJ>.csv`.",
        "",
    ]


def rules_section() -> list[str]:
    out = [
        "## Quarantäne-Regeln",
        "",
        "Eine fehlerhafte Zeile wird nicht verworfen, sondern mit Datei, Zeilennummer, Regel und "
        "Wert in `meta.quarantine` gespeichert (Personenschlüssel pseudonymisiert, "
        "Geburtsdatum als `***`). Die übrigen Zeilen der Datei werden geladen. Jede Zeile "
        "erhält höchstens einen Eintrag, für die erste verletzte Regel in dieser Reihenfolge:",
        "",
        "| Regel | Bedeutung |",
        "| --- | --- |",
    ]
    out += [f"| `{name}` | {text} |" for name, text in ROW_RULES]
    out += [
        "",
        "Liegt der Anteil der Quarantänezeilen einer Lieferung über dem Schwellenwert "
        "(Standard 1 %, `KIM_GATE_MAX_QUARANTINE_SHARE`), stoppt das Rohdaten-Gate den Lauf.",
        "",
        "## Ablehnung der ganzen Datei",
        "",
        "Eine Datei, die nicht gelesen werden kann, wird ganz abgelehnt; nichts davon wird "
        "geladen, der bisherige Stand bleibt. Die Meldung nennt Datei, Problem und erwartete "
        "Form. Gründe: Dateiname passt zu keiner Quelle, Datei leer, CSV nicht lesbar, keine "
        "lesbare Excel-Datei, Blatt fehlt, Spalte doppelt; im Landkreis: Ordner und Dateiname "
        "nennen verschiedene Gemeinden, eine Datei des Kreises (Zahlungen, Hauptbuch, "
        "Haushaltsplan) als Lieferung einer Gemeinde, die Datei einer Gemeinde für einen Monat, "
        "der schon aus einer kreisweiten Datei geladen ist; sowie:",
        "",
        "| Regel | Bedeutung |",
        "| --- | --- |",
    ]
    out += [f"| `{name}` | {text} |" for name, text in FILE_RULES]
    return out + [""]


FORMAT_RULES = [
    "## Formatregeln (alle CSV-Dateien)",
    "",
    "| Aspekt | Regel |",
    "| --- | --- |",
    "| Trennzeichen | `;` (Felder mit `;` oder Zeilenumbruch in doppelten Anführungszeichen) |",
    "| Kodierung | UTF-8 (mit oder ohne BOM), sonst Windows-1252. Bytes, die in beiden "
    "ungültig sind (in Windows-1252 undefiniert: 0x81, 0x8D, 0x8F, 0x90, 0x9D), führen zur "
    "Ablehnung der Datei (`invalid_encoding`). |",
    "| Zeilenende | `\\r\\n` oder `\\n` |",
    "| Kopfzeile | erste Zeile; Spaltennamen ohne Rücksicht auf Groß-/Kleinschreibung und "
    "Leerzeichen am Rand; Reihenfolge beliebig. Unbekannte Spalten werden ignoriert "
    "(Warnung). Nur Spalten mit Pflicht „nein“ dürfen fehlen (als leer gelesen, Warnung); "
    "Spalten mit bedingter Pflicht („wenn …“) müssen vorhanden sein. |",
    "| Leere Felder | leer = fehlender Wert; alle Werte werden an den Rändern getrimmt |",
    "| Leerzeilen | werden übersprungen |",
    "| Summenzeilen | Zeile, deren erstes nicht leeres Feld mit `Summe` oder `Gesamt` beginnt: "
    "wird entfernt, ihre Beträge werden gegen die Summe der Datenzeilen geprüft |",
    "| Datum | `TT.MM.JJJJ` oder `JJJJ-MM-TT` |",
    "| Monat | `MM.JJJJ` oder `JJJJ-MM` (gespeichert als Monatserster) |",
    "| Jahr | vier Ziffern |",
    "| Ganze Zahl | Ziffern, optional mit Minus, ohne Tausenderpunkt |",
    "| Betrag | Dezimalkomma, genau zwei Nachkommastellen, optional Tausenderpunkte und Minus: "
    "`1.234,56`, `-80,00`, `1234,56`. Nicht: `1234,5`, `1.234`, `1,234.56` |",
    "| Ja/Nein | `J`/`N`, `ja`/`nein`, `1`/`0` (Groß-/Kleinschreibung egal) |",
    "| Codes | Groß-/Kleinschreibung egal; gespeichert in der Schreibweise der Liste |",
    "| Kennungen | Text; führende Nullen zählen (`000123` ≠ `123`) |",
    "",
    "Zusätzlich für Excel-Dateien (`.xlsx`): Blattnamen ohne Rücksicht auf Groß-/"
    "Kleinschreibung; jede Zelle wird als Text gelesen (keine Typ-Vermutung). Datumsangaben "
    "dürfen Excel-Datumszellen oder Text `TT.MM.JJJJ` sein; Beträge dürfen auch Zahlenzellen "
    "mit höchstens zwei Nachkommastellen sein. Leere Zellen rechts der Kopfzeile stören nicht.",
    "",
]


def render() -> tuple[str, set[str]]:
    missing: set[str] = set()
    files = ", ".join(f"`{_file_name(c.SOURCES[tables[0]])}`" for tables in c.FILE_KINDS.values())
    out = [
        "# Eingangsvertrag: Dateien im Eingangsordner",
        "",
        "<!-- Erzeugt von scripts/write_contract_doc.py aus ingest/contracts.py. "
        "Nicht von Hand ändern: Skript erneut ausführen. -->",
        "",
        "Jeden Monat legt die Kommune ihre Auszüge in den Eingangsordner (`KIM_INBOX`, Standard "
        f"`data/inbox/`). Erwartete Dateien: {files}. Groß-/Kleinschreibung des Dateinamens ist "
        "egal; andere Dateien im Ordner werden ignoriert. Ein Monatslauf braucht alle "
        "Monatsdateien des Monats und den Haushaltsplan seines Jahres.",
        "",
        "Eine Datei für einen schon geladenen Zeitraum **ersetzt** diesen Zeitraum vollständig "
        "(Ersetzung wird in `meta.load_batches` protokolliert). Eine unveränderte Datei (gleiche "
        "SHA-256-Prüfsumme) wird nicht erneut geladen.",
        "",
        f"Personenschlüssel werden vor dem Speichern pseudonymisiert (Schlüssel mit mindestens "
        f"{MIN_KEY_BYTES} Bytes, siehe Betriebshandbuch); ohne Schlüssel werden nur die "
        f"unveränderten Beispieldaten geladen (die Markierungsdatei `{SAMPLE_MARKER}` listet die "
        "SHA-256 jeder erzeugten Datei; jede weitere oder veränderte Datei im Ordner verhindert "
        "den Lauf).",
        "",
        *FORMAT_RULES,
        "## Quellen",
        "",
    ]
    for number, source in enumerate(c.SOURCES.values(), start=1):
        out += source_section(source, number, missing)
    out += teilergebnisplan_section()
    out += rules_section()
    return "\n".join(out).rstrip() + "\n", missing


def check_rule_names() -> list[str]:
    """Rule names of the fixed tables that no longer occur in the ingest sources."""
    text = "".join(p.read_text("utf-8") for p in (PROJECT_ROOT / "ingest").glob("*.py"))
    names = [n for n, _ in ROW_RULES + FILE_RULES if not n.startswith("<")]
    return [n for n in names if n.replace("<art>", "") not in text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    args = parser.parse_args(argv)
    stale = check_rule_names()
    if stale:
        print(f"rule names not found in ingest/: {', '.join(stale)}", file=sys.stderr)
        return 1
    text, missing = render()
    for description in sorted(missing):
        print(f"no German text for description {description!r}", file=sys.stderr)
    if args.check:
        current = args.out.read_text("utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date: run scripts/write_contract_doc.py", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
