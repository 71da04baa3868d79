"""French wording of indicator values: number formatting and one-sentence comparisons.

Numbers are formatted by :mod:`planeco_kernel.fmt` (French typography); this module adds units,
signs read as points for percentages, and the sentences.
"""

from __future__ import annotations

import math

from planeco_kernel import fmt


LEVEL_WORDS: dict[str, tuple[str, str]] = {
    # level -> (« Votre … », « des … » plural)
    "commune": ("Votre commune", "communes"),
    "epci": ("Votre intercommunalité", "intercommunalités"),
    "scot": ("Votre SCoT", "SCoT"),
    "departement": ("Votre département", "départements"),
    "region": ("Votre région", "régions"),
    "france": ("La France", "territoires"),
}

GROUP_WORDS: dict[str, str] = {
    "epci": "de l'EPCI",
    "scot": "du SCoT",
    "departement": "du département",
    "region": "de la région",
    "france": "de France",
    "peers": "comparables (même taille et densité)",
}

PARENT_WORDS: dict[str, str] = {
    "epci": "pour l'EPCI", "scot": "pour le SCoT", "departement": "pour le département",
    "region": "pour la région", "france": "pour la France", "peers": "pour la médiane des communes comparables",
}


COUNT_UNITS = frozenset({"habitants", "personnes", "ménages", "logements", "emplois", "établissements"})
"""Units of whole counts: shown without decimals (« +47 habitants », not « +47,0 habitants »)."""


def format_value(value: float | None, unit: str, decimals: int | None = None) -> str:
    """A value with its unit (``"3,4 %"``, ``"12 345 habitants"``), « non disponible » when missing."""
    if decimals is None and unit in COUNT_UNITS:
        decimals = 0
    return fmt.with_unit(value, unit, decimals)


def format_signed(value: float | None, unit: str) -> str:
    """A difference with its sign; a difference of percentages reads in points (« +1,2 point »)."""
    if fmt.is_missing(value):
        return fmt.MISSING
    if unit == "%":
        return f"{fmt.signed(value)}{fmt.NNBSP}point{'s' if abs(value) >= 2 else ''}"
    text = fmt.signed(value, 0 if unit in COUNT_UNITS else None)
    return f"{text}{fmt.NNBSP}{unit}" if unit and unit != "ratio" else text


def _verb(subject: str) -> str:
    return "atteignent" if subject.startswith("les ") else "atteint"


def comparison_sentence(*, level: str, group: str, subject: str, percentile: float | None, polarity: str,
                        value_text: str, reference_text: str, provenance: str, estimate: bool = False) -> str:
    """One French sentence placing a territory in its group.

    Examples
    --------
    « Votre commune est dans le quart des communes du SCoT où le taux de pauvreté atteint les
    valeurs les plus élevées (18,2 % contre 14,1 % pour le SCoT ; Filosofi 2016). Situation
    défavorable. »
    """
    who, plural = LEVEL_WORDS.get(level, ("Votre territoire", "territoires"))
    where = GROUP_WORDS.get(group, "")
    tail = f"({value_text} contre {reference_text} ; {provenance}{' ; estimation' if estimate else ''})"
    if percentile is None or math.isnan(percentile):
        return f"{who} : {subject} vaut {value_text} ; pas de comparaison possible {where} faute de valeurs ({provenance})."
    verb = _verb(subject)
    if percentile > 75:
        place, high = "dans le quart", True
    elif percentile <= 25:
        place, high = "dans le quart", False
    else:
        place, high = None, None
    if place is None:
        text = f"{who} se situe dans la moitié centrale des {plural} {where} pour {subject} {tail}."
        return text
    extreme = "les plus élevées" if high else "les plus faibles"
    text = f"{who} est {place} des {plural} {where} où {subject} {verb} les valeurs {extreme} {tail}."
    if polarity != "neutral":
        good = (high and polarity == "higher_better") or (not high and polarity == "higher_worse")
        text += " Situation favorable." if good else " Situation défavorable."
    return text
