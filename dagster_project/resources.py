"""Dagster resources: the paths every asset works on, injected (never read from globals)."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import ConfigurableResource

from kim_settings import Paths


class KimPaths(ConfigurableResource):
    """Inbox, warehouse file and output folder, all absolute."""

    inbox: str
    warehouse: str
    output: str

    @classmethod
    def from_paths(cls, paths: Paths) -> KimPaths:
        return cls(inbox=str(paths.inbox), warehouse=str(paths.warehouse), output=str(paths.output))

    @property
    def inbox_dir(self) -> Path:
        return Path(self.inbox)

    @property
    def warehouse_file(self) -> Path:
        return Path(self.warehouse)

    @property
    def output_dir(self) -> Path:
        return Path(self.output)

    def export_to_dbt(self) -> None:
        """dbt runs as a subprocess in dbt/: hand it the same absolute warehouse path."""
        self.warehouse_file.parent.mkdir(parents=True, exist_ok=True)
        os.environ["KIM_WAREHOUSE"] = self.warehouse
