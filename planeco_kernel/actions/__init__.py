"""The action inventory of a territory: PCAET-style sheets, import/export, views, COP commitments.

Sheets are stored once in the knowledge base (``documents/engagement/actions/<id>.yaml``, one commit per
save by the current identity) and may belong to several plans (PCAET, CRTE, PLPDMA…) without
being copied. See :mod:`.schema` (fields and vocabularies), :mod:`.sheets` (validation and
storage), :mod:`.tabular` (CSV/XLSX), :mod:`.views` (table, timeline, indicators, roll-ups) and
:func:`commitments` (the actors' commitments for the COP roadmap).
"""

from __future__ import annotations

from planeco_kernel.actions.commitments import COLUMNS as COMMITMENT_COLUMNS
from planeco_kernel.actions.commitments import commitments
from planeco_kernel.actions.schema import (
    PLANS,
    SECTORS,
    STATUSES,
    ActionSheet,
    Indicator,
)
from planeco_kernel.actions.sheets import load_all, save, territory_resolver
from planeco_kernel.actions.tabular import export_table, import_table

__all__ = [
    "COMMITMENT_COLUMNS", "PLANS", "SECTORS", "STATUSES", "ActionSheet", "Indicator", "commitments", "export_table",
    "import_table", "load_all", "save", "territory_resolver",
]  # fmt: skip
