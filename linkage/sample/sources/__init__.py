"""The agencies' extracts: who each agency knows, in its own columns, formats, codes and mistakes.

Each :class:`Source` writes its files row by row as clusters arrive and reports to the
:class:`Ctx` what it wrote that the ground truth needs: which true person each record is,
the relationships and addresses the extract holds, the events, and every deliberately bad
value or row (with its line number; the header is line 1).
"""

from __future__ import annotations

from famlink.linkage.sample.sources.children import CSC, Education
from famlink.linkage.sample.sources.health import AMH, GP, HV
from famlink.linkage.sample.sources.housing import Housing
from famlink.linkage.sample.sources.justice import Police, Probation
from famlink.linkage.sample.sources.source import Source

#: every agency, in the order its rows are written (the order is part of the determinism)
SOURCES: tuple[type[Source], ...] = (CSC, HV, GP, Police, Housing, Education, AMH, Probation)

__all__ = ["SOURCES", "Source"]
