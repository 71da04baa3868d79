"""The French sentences of the territory look-ups: labels, and the notes saying what was assumed.

Pure functions of names, codes and levels (no table access), so that the wording can be read and
changed in one place; :mod:`planeco_kernel.territory.resolution` decides *when* each is said.
"""

from __future__ import annotations

from planeco_kernel.levels import LEVEL

TYPE_FR = {
    "commune-deleguee": "commune déléguée",
    "commune-associee": "commune associée",
    "absent": "code absent du COG",
    "commune-actuelle": "commune",
    "arrondissement-municipal": "arrondissement municipal",
}
"""French name of each ``code_history`` type."""


def de_article(level: str) -> str:
    """« de l'EPCI » before a territory's name (« de la » before « France »)."""
    return "de la " if level == "france" else f"{LEVEL[level].of_short} "


def article(level: str) -> str:
    """« l'EPCI » before a territory's name (nothing before « France »)."""
    return "" if level == "france" else f"{LEVEL[level].the_short} "


def label(name: str, level: str, code: str, departement_name: str | None) -> str:
    """``"Saint-Denis (commune 93066, Seine-Saint-Denis)"``; the département only for communes, EPCI, SCoT."""
    what = "" if level == "france" else LEVEL[level].short_noun
    where = f", {departement_name}" if level in ("commune", "epci", "scot") and departement_name else ""
    inside = f"{what} {code}".strip()
    return f"{name} ({inside}{where})"


def padded_note(code: str, padded: str) -> str:
    return f"Code complété par un zéro initial : « {code} » → « {padded} »."


def shared_code_note(code: str, first: tuple[str, str], others: list[tuple[str, str]]) -> str:
    """A bare code shared by several levels: which one was taken, and how to ask for the others.

    ``first`` and ``others`` are ``(level, name)`` pairs.
    """
    alts = " ; ".join(
        f"{de_article(lvl)}{name} : demandez « {lvl}:{code} » (level=\"{lvl}\", --level {lvl})"
        for lvl, name in others
    )
    return f"« {code} » désigne ici {article(first[0])}{first[1]} ; c'est aussi le code {alts}."


def interpreted_note(original: str, label_: str) -> str:
    return f"« {original} » interprété comme {label_}."


def also_note(alternatives: list[tuple[str, str]]) -> str:
    """« Le nom désigne aussi : … » with ``(label, key)`` pairs."""
    alts = "; ".join(f"{lab} : « {key} »" for lab, key in alternatives)
    return f"Le nom désigne aussi : {alts}."


def fuzzy_note(original: str, label_: str) -> str:
    return f"« {original} » est introuvable tel quel ; interprété comme {label_}."


def successor_suggestion(code: str, successor: str, successor_name: str | None) -> str:
    return f"{successor} ({successor_name}, successeur de {code})"


def successor_note(code: str, name: object, typ: str, vintage: object, current: str,
                   current_name: str | None) -> str:
    """An old commune code covered by a current commune (when ``code_history`` has no note)."""
    return (
        f"Le code {code} ({name}) n'est plus celui d'une commune "
        f"({TYPE_FR.get(typ, typ)} en {vintage}) : "
        f"il est couvert par {current} {current_name}."
    )


def whole_commune(note: str) -> str:
    """A note about a municipal arrondissement, completed: the figures are the whole commune's."""
    return f"{note.rstrip('.')}. Les chiffres affichés sont ceux de la commune entière."


def arrondissement_note(code: str, name: str, parent: str, parent_name: str | None) -> str:
    return (f"{code} ({name}) est un arrondissement municipal de {parent} {parent_name} ; "
            "les chiffres affichés sont ceux de la commune entière.")


def ambiguous_hint(message: str, name: str, departement: str) -> str:
    """The ambiguity error's message, with how to narrow it by département."""
    return (f"{message} Pour départager par département : « {name} ({departement}) », ou --departement "
            f"{departement} (departement=\"{departement}\" en Python).")
