"""French wording of indicator values: number formatting and one-sentence comparisons.

Numbers are formatted by :mod:`planeco_kernel.fmt` (French typography); this module adds units,
signs read as points for percentages, and the sentences.
"""

from __future__ import annotations

import math
import re

from planeco_kernel import fmt
from planeco_kernel.levels import LEVEL

LEVEL_WORDS: dict[str, tuple[str, str]] = {k: (lv.yours, lv.plural) for k, lv in LEVEL.items()}
"""level -> (« Votre … », « des … » plural), from :mod:`planeco_kernel.levels`."""

GROUP_WORDS: dict[str, str] = {
    **{k: lv.of_short for k, lv in LEVEL.items() if k not in ("commune", "france")},
    "france": "de France",
    "peers": "comparables (même taille et densité)",
}

PARENT_WORDS: dict[str, str] = {
    **{k: lv.for_ for k, lv in LEVEL.items() if k != "commune"},
    "peers": "pour la médiane des communes comparables",
}


COUNT_UNITS = frozenset({"habitants", "personnes", "ménages", "logements", "emplois", "établissements", "DPE", "sites", "arrêtés", "communes"})
"""Units of whole counts: shown without decimals (« +47 habitants », not « +47,0 habitants »)."""

SINGULAR_UNITS: dict[str, str] = {u: u[:-1] for u in COUNT_UNITS if u.endswith("s")}
"""« 1 habitant », « 0 ménage »: French takes the singular below 2."""

PER_YEAR = " par an"
"""Suffix of units of yearly amounts (« € par an »): a difference of two years drops it."""


def _whole(unit: str) -> bool:
    """Counts and euros are shown as whole numbers."""
    return unit in COUNT_UNITS or unit.startswith("€")


def format_value(value: float | None, unit: str, decimals: int | None = None) -> str:
    """A value with its unit (``"3,4 %"``, ``"12 345 habitants"``, ``"21 730 € par an"``), « non disponible » when missing."""
    if decimals is None and _whole(unit):
        decimals = 0
    return fmt.with_unit(value, _agree(value, unit), decimals)


def _agree(value: float | None, unit: str) -> str:
    if unit in SINGULAR_UNITS and not fmt.is_missing(value) and abs(round(float(value))) < 2:
        return SINGULAR_UNITS[unit]
    return unit


def format_signed(value: float | None, unit: str) -> str:
    """A difference with its sign; a difference of percentages reads in points (« +1,2 point »).

    A yearly amount's difference drops « par an » (« +305 € », not « +305 € par an »: it is not a rate).
    """
    if fmt.is_missing(value):
        return fmt.MISSING
    if unit.startswith("%"):
        return f"{fmt.signed(value)}{fmt.NNBSP}point{'s' if abs(value) >= 2 else ''}"
    unit = _agree(value, unit.removesuffix(PER_YEAR))
    text = fmt.signed(value, 0 if _whole(unit) or unit in SINGULAR_UNITS.values() else None)
    return f"{text}{fmt.NNBSP}{unit}" if unit and unit != "ratio" else text


def evolution_text(difference: float, from_year: int, to_year: int, unit: str, annual_growth_pct: float | None) -> str:
    """« +305 € entre 2015 et 2016 (+1,4 %/an) »: the difference, then the mean annual growth when it has one."""
    text = f"{format_signed(difference, unit)} entre {from_year} et {to_year}"
    if annual_growth_pct is not None and not fmt.is_missing(annual_growth_pct):
        text += f" ({fmt.rate(annual_growth_pct, 1 if abs(annual_growth_pct) >= 1 else 2)})"
    return text


def ordinal(n: int, feminine: bool = True) -> str:
    """``1`` → « 1re » (« 1er » when not feminine), ``2`` → « 2e »."""
    if n == 1:
        return "1re" if feminine else "1er"
    return f"{n}e"


def rank_text(rank_from_top: int | None, n: int | None, rank_from_bottom: int | None = None) -> str:
    """A rank that says its direction: « 5e valeur la plus élevée sur 53 », « 2e valeur la plus basse sur 36 ».

    Rank 1 is the highest value. Counted from the top when ``rank_from_top ≤ n / 2``, else from the
    bottom (``rank_from_bottom``; ``n − rank_from_top + 1`` when not given, i.e. without ties).
    """
    if rank_from_top is None or not n:
        return "rang non calculable"
    if n == 1:
        return "seule valeur du groupe"
    if rank_from_top <= n / 2:
        return f"{ordinal(rank_from_top)} valeur la plus élevée sur {n}"
    bottom = rank_from_bottom if rank_from_bottom is not None else n - rank_from_top + 1
    return f"{ordinal(bottom)} valeur la plus basse sur {n}"


MEDIAN_WORDS: dict[str, str] = {k: lv.median for k, lv in LEVEL.items() if k != "france"}


def median_reference(level: str, group: str) -> str:
    """« pour la commune médiane de l'EPCI », « pour la médiane des communes comparables »."""
    if group == "peers":
        return PARENT_WORDS["peers"]
    return f"pour {MEDIAN_WORDS.get(level, 'la médiane')} {GROUP_WORDS.get(group, '')}".rstrip()


AGGREGATE_WORDS: dict[str, str] = {k: lv.whole for k, lv in LEVEL.items() if k != "commune"}


def of_subject(subject: str) -> str:
    """« la population municipale » → « de la population municipale », « le nombre » → « du nombre »."""
    if subject.startswith("le "):
        return "du " + subject[3:]
    if subject.startswith("les "):
        return "des " + subject[4:]
    return "de " + subject


def share_text(value: float | None, total: float | None, subject: str, group: str) -> str | None:
    """« 42 % de la population municipale de l'EPCI », or ``None`` when a share means nothing."""
    if fmt.is_missing(value) or fmt.is_missing(total) or total <= 0 or value < 0 or value > total:
        return None
    share = 100 * value / total
    return f"{fmt.percent(share, 0 if share >= 10 else 1)} {of_subject(subject)} {GROUP_WORDS.get(group, '')}".rstrip()


_SYNDICATE = re.compile(r"^\s*(?:SM|S\.M\.|Syndicat mixte)\b", re.IGNORECASE)
_SCOT_WORD = re.compile(r"\bSCOT\b", re.IGNORECASE)


def display_name(level: str, name: str | None) -> str:
    """A territory's name as shown to users: BANATIC's « SM du SCOT du Pays de Gex » → « SCoT du Pays de Gex ».

    Only SCoT names change (the syndicate's legal name is kept in the data): a syndicate named after
    its SCoT reads « SCoT … »; another keeps its name with « SM » spelt out (« Syndicat mixte … »);
    « SCOT » is written « SCoT ».
    """
    if not name or level != "scot":
        return name or ""
    scot = _SCOT_WORD.search(name)
    if _SYNDICATE.match(name) and scot:
        return "SCoT" + name[scot.end():]
    name = _SYNDICATE.sub("Syndicat mixte", name, count=1)
    return _SCOT_WORD.sub("SCoT", name)


def _verb(subject: str) -> str:
    return "atteignent" if subject.startswith("les ") else "atteint"


def comparison_sentence(*, level: str, group: str, subject: str, percentile: float | None, polarity: str,
                        value_text: str, reference_text: str, provenance: str, estimate: bool = False,
                        context_text: str | None = None) -> str:
    """One French sentence placing a territory in its group.

    ``reference_text`` is the group's median (the value the percentile is measured against: « 18,1 %
    pour la commune médiane de l'EPCI », see :func:`median_reference`); ``context_text`` an optional
    extra figure — the parent's aggregate for a rate (« ensemble de l'EPCI : 16,2 % »), the
    territory's share for a count (« 42 % de la population municipale de l'EPCI »).

    Examples
    --------
    « Votre commune est dans le quart des communes du SCoT où le taux de pauvreté atteint les
    valeurs les plus élevées (18,2 % contre 14,1 % pour la commune médiane du SCoT ; ensemble du
    SCoT : 15,0 % ; Filosofi 2016). Situation défavorable. »
    """
    who, plural = LEVEL_WORDS.get(level, ("Votre territoire", "territoires"))
    where = GROUP_WORDS.get(group, "")
    context = f" ; {context_text}" if context_text else ""
    tail = f"({value_text} contre {reference_text}{context} ; {provenance}{' ; estimation' if estimate else ''})"
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


def target_clause(*, level: str, unit: str, polarity: str, last_year: int, last_value: float, target_year: int,
                  target: float, required_pace: float | None, observed_pace: float, pace_from: int,
                  target_source: str) -> str:
    """The distance of France's series to its national target, as one clause of a comparison.

    At région level the figures are France's and the clause says the target is national.

    Examples
    --------
    « Objectif national 2030 : 15 % (3e stratégie nationale bas-carbone ; SGPE, baromètre août 2026) ;
    France en 2025 : 2,9 %, à +12,1 points de l'objectif : il faut +2,4 points par an d'ici 2030,
    contre +0,7 point par an de 2022 à 2025. »
    """
    national = "Objectif national" if level == "france" else "Objectif national (fixé pour la France entière, non décliné par région)"
    head = (f"{national} {target_year} : {format_value(target, unit)} ({target_source}) ; "
            f"France en {last_year} : {format_value(last_value, unit)}")
    reached = (polarity == "higher_better" and last_value >= target) or (polarity == "higher_worse" and last_value <= target)
    recent = f"{format_signed(observed_pace, unit)} par an de {pace_from} à {last_year}" if pace_from < last_year else ""
    if reached:
        return f"{head}, objectif déjà atteint" + (f" (évolution récente : {recent})." if recent else ".")
    if required_pace is None:
        return f"{head}, à {format_signed(target - last_value, unit)} de l'objectif, échéance passée."
    text = (f"{head}, à {format_signed(target - last_value, unit)} de l'objectif : il faut "
            f"{format_signed(required_pace, unit)} par an d'ici {target_year}")
    return text + (f", contre {recent}." if recent else ".")
