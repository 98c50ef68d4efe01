"""Derive the dbt reference seeds `products.csv` and `accounts.csv` from the Land's reference data.

Developer tool, run by hand when the product plan or the chart of accounts changes; product code
never reads the JSON files. Sources (Baden-Württemberg, machine-readable, 2016 edition):

- bw_produktplan_2016.json   (Kommunaler Produktplan BW: areas > groups > products)
- bw_kontenrahmen_2016.json  (Kontenrahmen BW, Anlage 30.2: classes > ... > accounts)

both from the public CodeforKarlsruhe/kommunale-haushalte-bw data set, kept beside the project
in the developers' `../shared/reference/` (default of --reference-dir).

Accounts: every 4-digit account of class 3 (Erträge -> revenue) and 4 (Aufwendungen -> expense).
Three-digit account types marked with Bereichsabgrenzung "A" (e.g. 314 Zuweisungen, 348
Kostenerstattungen) are posted with a fourth digit naming the counterpart; the script expands them
to the documented counterparts 0 Bund, 1 Land, 2 Gemeinden/Gemeindeverbände (e.g. 3141, 3481).
Other counterpart digits and Bereichsabgrenzung "B" (interest by counterpart) are not expanded.

Usage: python scripts/derive_reference_seeds.py [--reference-dir DIR] [--seeds-dir DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "shared" / "reference"
SEEDS_DIR = Path(__file__).resolve().parent.parent / "dbt" / "seeds"

BUDGET_UNIT = "THH 50 Migration und Integration"
# product -> (responsible unit, Handlungsfeld): the sample Fachbereich (docs/domain.md section 1).
PRODUCTS: dict[str, tuple[str, str]] = {
    "31.30.01": ("50.2 Leistungen AsylbLG", "Existenzsicherung"),
    "31.40.06": ("50.3 Unterbringung", "Wohnen"),
    "31.40.07": ("50.3 Unterbringung", "Wohnen"),
    "31.80.09": ("50.4 Flüchtlingssozialarbeit", "Sprache"),
    "31.80.10": ("50.1 Integrationsmanagement", "Steuerung"),
    "12.22.09": ("50.5 Ausländerbehörde", "Sicherheit"),
    "12.22.08": ("50.5 Ausländerbehörde", "Sicherheit"),
    "27.10.01": ("50.6 Volkshochschule", "Sprache"),
}
COUNTERPARTS = {"0": "Bund", "1": "Land", "2": "Gemeinden und Gemeindeverbände"}
ACCOUNT_KINDS = {"3": "revenue", "4": "expense"}


def product_rows(plan: dict) -> list[dict[str, str]]:
    """One row per product of PRODUCTS with its group and area titles from the product plan."""
    rows = []
    for product_id, (unit, field) in PRODUCTS.items():
        area = plan[product_id[:2]]
        group = area["gruppen"][product_id[:5]]
        product = group["produkte"][product_id]
        rows.append(
            {
                "product_id": product_id,
                "title": product["titel"].strip(),
                "product_group_id": group["nummer"],
                "product_group_title": group["titel"].strip(),
                "product_area_id": area["nummer"],
                "product_area_title": area["titel"].strip(),
                "budget_unit": BUDGET_UNIT,
                "responsible_unit": unit,
                "field_of_action": field,
            }
        )
    return rows


def account_rows(chart: dict) -> list[dict[str, str]]:
    """All 4-digit revenue (3xxx) and expense (4xxx) accounts, sorted by account number."""
    accounts: dict[str, str] = {}
    for account_class in ACCOUNT_KINDS:
        for group in chart[account_class]["gruppen"].values():
            for account_type in group["arten"].values():
                for number, account in account_type["konten"].items():
                    title = account["bezeichnung"].strip()
                    if len(number) == 4:
                        accounts[number] = title
                    elif len(number) == 3 and account["bereichsabgrenzung"] == "A":
                        for digit, counterpart in COUNTERPARTS.items():
                            accounts.setdefault(number + digit, f"{title} ({counterpart})")
    return [
        {"account_id": n, "title": t, "account_kind": ACCOUNT_KINDS[n[0]]}
        for n, t in sorted(accounts.items())
    ]


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference-dir", type=Path, default=REFERENCE_DIR)
    parser.add_argument("--seeds-dir", type=Path, default=SEEDS_DIR)
    args = parser.parse_args()
    plan = json.loads((args.reference_dir / "bw_produktplan_2016.json").read_text("utf-8"))
    chart = json.loads((args.reference_dir / "bw_kontenrahmen_2016.json").read_text("utf-8"))
    write_csv(args.seeds_dir / "products.csv", product_rows(plan))
    write_csv(args.seeds_dir / "accounts.csv", account_rows(chart))


if __name__ == "__main__":
    main()
