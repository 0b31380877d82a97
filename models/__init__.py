"""famlink models stage: family graphs, evidence-backed flags and chronologies.

Reads linkage's tables in the output database and writes its own (docs/tables.md).
"""

from famlink.models.build import ModelsReport, build_models
from famlink.models.evaluate import evaluate_flags

__all__ = ["ModelsReport", "build_models", "evaluate_flags"]
