"""BANATIC groupements (EPCI and syndicats) with their SCoT competence, and their members.

Two CSV files (the mirror's ``banatic/`` folder, or a user's own perimeter folder in the same
format):

``groupements.csv``
    ``siren, nom, nature_juridique, departement, competence_scot, competence_plu``
``groupements_membres.csv``
    ``siren_groupement, membre, type_membre``; a member is a commune (5-character INSEE code,
    ``type_membre = commune``) or another groupement (9-digit SIREN, ``groupement``).

Source: DGCL BANATIC (Licence Ouverte 2.0), as republished in June 2026 by MTES-MCT/Docurba.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError

GROUPEMENTS = "groupements.csv"
MEMBRES = "groupements_membres.csv"
GROUPEMENT_COLUMNS = ("siren", "nom", "nature_juridique", "departement", "competence_scot", "competence_plu")
MEMBER_COLUMNS = ("siren_groupement", "membre", "type_membre")
EPCI_NATURES = frozenset({"CC", "CA", "CU", "METRO", "MET69"})
"""EPCI à fiscalité propre (the ``epci`` level of the COG)."""
SYNDICAT_NATURES = frozenset({"SMF", "SMO", "PETR", "POLEM", "SIVOM", "SIVU", "EPT"})


@dataclass(frozen=True)
class Groupements:
    """The two BANATIC tables, validated."""

    groupements: pd.DataFrame
    members: pd.DataFrame
    origin: str


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise SchemaError(f"{path}: fichier introuvable (attendu : {', '.join(columns)}).")
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    df.columns = [c.strip() for c in df.columns]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(
            f"{path.name}: colonnes manquantes {missing} (colonnes attendues : {', '.join(columns)}). "
            "Vérifiez le format du fichier de périmètres.")
    return df[list(columns)].apply(lambda s: s.str.strip())


def read(folder: Path) -> Groupements:
    """Read and validate ``groupements.csv`` and ``groupements_membres.csv`` from ``folder``.

    Raises
    ------
    SchemaError
        Missing file or column, a SIREN that is not 9 digits, a commune code that is not 5
        characters, an unknown ``type_membre`` or a duplicated groupement.
    """
    g = _read(folder / GROUPEMENTS, GROUPEMENT_COLUMNS)
    m = _read(folder / MEMBRES, MEMBER_COLUMNS)
    return validate(g, m, origin=str(folder))


def validate(g: pd.DataFrame, m: pd.DataFrame, origin: str = "") -> Groupements:
    """Check the two tables; return them typed (``competence_scot`` as bool)."""
    bad = g.loc[~g["siren"].str.fullmatch(r"\d{9}"), "siren"].tolist()
    if bad:
        raise SchemaError(f"{GROUPEMENTS} ({origin}): SIREN invalides {bad[:5]} (9 chiffres attendus).")
    dup = g.loc[g["siren"].duplicated(), "siren"].tolist()
    if dup:
        raise SchemaError(f"{GROUPEMENTS} ({origin}): groupements en double {dup[:5]}.")
    for col in ("competence_scot", "competence_plu"):
        wrong = sorted(set(g[col]) - {"0", "1", ""})
        if wrong:
            raise SchemaError(f"{GROUPEMENTS} ({origin}): valeurs inattendues dans {col} : {wrong[:5]} (0 ou 1).")
    types = sorted(set(m["type_membre"]) - {"commune", "groupement"})
    if types:
        raise SchemaError(f"{MEMBRES} ({origin}): type_membre inconnu {types} (commune ou groupement).")
    com = m["type_membre"] == "commune"
    bad_c = m.loc[com & ~m["membre"].str.fullmatch(r"[0-9][0-9AB][0-9]{3}"), "membre"].tolist()
    bad_g = m.loc[~com & ~m["membre"].str.fullmatch(r"\d{9}"), "membre"].tolist()
    if bad_c or bad_g:
        raise SchemaError(f"{MEMBRES} ({origin}): membres invalides {(bad_c + bad_g)[:5]} "
                          "(commune : code INSEE à 5 caractères ; groupement : SIREN à 9 chiffres).")
    g = g.copy()
    g["competence_scot"] = g["competence_scot"].eq("1")
    g["competence_plu"] = g["competence_plu"].eq("1")
    return Groupements(g.reset_index(drop=True), m.drop_duplicates().reset_index(drop=True), origin)
