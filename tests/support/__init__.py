"""Helpers shared by several test modules (test modules never import each other).

- `ingest_files`: tiny hand-written inbox files and a fresh warehouse for the ingest tests;
- `marts`: the marts' tables created from the dbt project's column contracts (the manifest);
- `report_warehouse`: the tiny hand-written warehouse of the report tests;
- `disclosure`: two independent attackers on suppressed tables.
"""
