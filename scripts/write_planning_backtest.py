"""Write the planning backtest table (marts.fct_planning_backtest) into docs/planning.md.

Developer tool, run after `kim plan` on a warehouse (the sample, or M's): replaces the text
between the backtest markers; the rest of the document stays as written.

Usage: python scripts/write_planning_backtest.py [--warehouse FILE] [--doc FILE]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

from kim_settings import PROJECT_ROOT, Paths
from reports.planning import backtest_markdown, replace_backtest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=Paths.from_env().warehouse)
    parser.add_argument("--doc", type=Path, default=PROJECT_ROOT / "docs" / "planning.md")
    args = parser.parse_args()
    with duckdb.connect(str(args.warehouse), read_only=True) as con:
        table = backtest_markdown(con)
    args.doc.write_text(replace_backtest(args.doc.read_text(encoding="utf-8"), table), "utf-8")
    print(f"Backtest in {args.doc} geschrieben.")


if __name__ == "__main__":
    main()
