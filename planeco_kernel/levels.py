"""The territory levels, declared once: key, parent column, French labels, plural and articles.

Every module that names a level for users takes the words from here (« de l'intercommunalité »,
« le département médian », « régions »), instead of keeping its own dictionary::

    >>> from planeco_kernel.levels import LEVEL
    >>> LEVEL["epci"].of
    "de l'intercommunalité"
    >>> LEVEL["departement"].median
    'le département médian'

The order of :data:`LEVELS` goes from the smallest level to the largest; a territory's parent at
level L is read in the ``territories`` column :attr:`Level.parent_column` (``epci_code`` …).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Level:
    """One territory level and the French words that name it.

    Attributes
    ----------
    key
        Identifier used in code, data and command lines (``commune``, ``epci`` …).
    parent_column
        Column of the bundle's ``territories`` table holding a territory's parent at this level
        (``None`` for France: every territory belongs to it).
    label
        Full French label (« Intercommunalité (EPCI) »), for headings and tables.
    title
        Capitalised name (« Intercommunalité »), for row labels.
    short
        Short name (« EPCI »), for compact tables.
    noun, short_noun
        Common noun, in lower case (« intercommunalité ») and its short form (« EPCI »).
    plural
        Plural of the common noun (« intercommunalités »).
    gender
        ``"f"`` or ``"m"`` (agreement of « médiane », « votre »).
    the, of, for_
        The noun with its article: « l'intercommunalité », « de l'intercommunalité »,
        « pour l'intercommunalité ».
    the_short, of_short
        Same with the short noun: « l'EPCI », « de l'EPCI ».
    """

    key: str
    parent_column: str | None
    label: str
    title: str
    short: str
    noun: str
    short_noun: str
    plural: str
    gender: Literal["f", "m"]
    the: str
    of: str
    the_short: str
    of_short: str
    scale: str = ""
    """« à l'échelle régionale »: where a value exists (indicators that exist only at some levels)."""

    @property
    def for_(self) -> str:
        """« pour l'EPCI » (short noun, the form used next to figures)."""
        return f"pour {self.the_short}"

    @property
    def median(self) -> str:
        """« la commune médiane », « le SCoT médian »."""
        return f"{self.the} {'médiane' if self.gender == 'f' else 'médian'}"

    @property
    def whole(self) -> str:
        """« ensemble de l'EPCI »."""
        return f"ensemble {self.of_short}"

    @property
    def yours(self) -> str:
        """« Votre commune », « La France »."""
        return "La France" if self.key == "france" else f"Votre {self.noun}"


LEVELS_SPEC: tuple[Level, ...] = (
    Level("commune", "commune_code", "Commune", "Commune", "commune", "commune", "commune", "communes", "f",
          "la commune", "de la commune", "la commune", "de la commune", "à l'échelle communale"),
    Level("epci", "epci_code", "Intercommunalité (EPCI)", "Intercommunalité", "EPCI", "intercommunalité", "EPCI",
          "intercommunalités", "f", "l'intercommunalité", "de l'intercommunalité", "l'EPCI", "de l'EPCI", "à l'échelle intercommunale"),
    Level("scot", "scot_code", "SCoT", "SCoT", "SCoT", "SCoT", "SCoT", "SCoT", "m",
          "le SCoT", "du SCoT", "le SCoT", "du SCoT", "à l'échelle du SCoT"),
    Level("departement", "departement_code", "Département", "Département", "département", "département",
          "département", "départements", "m", "le département", "du département", "le département", "du département",
          "à l'échelle départementale"),
    Level("region", "region_code", "Région", "Région", "région", "région", "région", "régions", "f",
          "la région", "de la région", "la région", "de la région", "à l'échelle régionale"),
    Level("france", None, "France", "France", "France", "France", "France", "territoires", "f",
          "la France", "de la France", "la France", "de la France", "à l'échelle nationale"),
)

LEVEL: dict[str, Level] = {lv.key: lv for lv in LEVELS_SPEC}
"""``{key: Level}``."""

LEVELS: tuple[str, ...] = tuple(LEVEL)
"""Level keys, from the smallest to the largest."""

PARENT_COLUMNS: dict[str, str] = {lv.key: lv.parent_column for lv in LEVELS_SPEC[1:] if lv.parent_column}
"""``{level: column of territories}`` for the levels above the commune that have a parent column."""

RANK: dict[str, int] = {k: i for i, k in enumerate(LEVELS)}
"""Position of each level, smallest first."""


def level(key: str) -> Level:
    """The :class:`Level` ``key``; a French error listing the levels otherwise."""
    try:
        return LEVEL[key]
    except KeyError:
        raise ValueError(f"Niveau inconnu : « {key} ». Niveaux possibles : {', '.join(LEVELS)}.") from None
