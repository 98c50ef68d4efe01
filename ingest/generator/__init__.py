"""Deterministic sample municipality "Musterstadt": writes inbox files that follow the contract."""

from ingest.generator.defects import Defect
from ingest.generator.run import MARKER_FILE, GenerationSummary, generate

__all__ = ["MARKER_FILE", "Defect", "GenerationSummary", "generate"]
