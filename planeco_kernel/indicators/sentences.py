"""French wording of indicator values: number formatting and one-sentence comparisons.

Numbers follow French typography: a no-break space between thousands (``12 345``), a decimal
comma (``3,4``), a no-break space before ``%`` (``3,4 %``).
"""

from __future__ import annotations

import math

NBSP = "\u00a0"

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


def decimals_for(value: float) -> int:
    """Decimals shown: 0 from 100 upward, 1 from 1, 2 below 1."""
    a = abs(value)
    if a >= 100:
        return 0
    if a >= 1:
        return 1
    return 2


def format_number(value: float | None, decimals: int | None = None) -> str:
    """``12345.6 -> "12 346"``, ``3.456 -> "3,5"``, ``None/NaN -> "n.d."`` (French typography)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n.d."
    d = decimals_for(value) if decimals is None else decimals
    text = f"{value:,.{d}f}"
    return text.replace(",", NBSP).replace(".", ",").replace("-", "−") if text.startswith("-") else text.replace(",", NBSP).replace(".", ",")


def format_value(value: float | None, unit: str, decimals: int | None = None) -> str:
    """A number with its unit: ``"3,4 %"``, ``"12 345 habitants"``, ``"n.d."`` when missing."""
    num = format_number(value, decimals)
    if num == "n.d.":
        return num
    return f"{num}{NBSP}{unit}" if unit and unit != "ratio" else num


def format_signed(value: float | None, unit: str) -> str:
    """A difference with its sign: ``"+1,2 %"`` reads « +1,2 point » for percentages."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n.d."
    sign = "+" if value > 0 else ""
    if unit == "%":
        pts = abs(value)
        return f"{sign}{format_number(value)}{NBSP}point{'s' if pts >= 2 else ''}"
    return f"{sign}{format_value(value, unit)}"


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
