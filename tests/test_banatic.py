"""BANATIC parsing and SCoT resolution, on invented groupements (test data, not real)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from planeco_kernel.bundle import scot
from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import banatic

from _bundle_helpers import FIXTURES

# Invented current geography: EPCI E1 (communes 11001, 11002), E2 (12001), E3 (13001), E4 (14001);
# commune 15001 has no EPCI.
E1, E2, E3, E4 = "200000001", "200000002", "200000003", "200000004"
EPCI_COMMUNES = {E1: ["11001", "11002"], E2: ["12001"], E3: ["13001"], E4: ["14001"]}
COMMUNE_EPCI = {c: e for e, cs in EPCI_COMMUNES.items() for c in cs}
COMMUNES = set(COMMUNE_EPCI) | {"15001"}


def groupements(rows, members) -> banatic.Groupements:
    g = pd.DataFrame(rows, columns=list(banatic.GROUPEMENT_COLUMNS)).astype(str)
    m = pd.DataFrame(members, columns=list(banatic.MEMBER_COLUMNS)).astype(str)
    return banatic.validate(g, m, origin="test")


BASE_ROWS = [
    (E1, "CC Un", "CC", "11", "0", "1"), (E2, "CC Deux", "CC", "12", "0", "1"),
    (E3, "CA Trois", "CA", "13", "1", "1"), (E4, "CC Quatre", "CC", "14", "1", "1"),
    ("300000001", "SM SCoT Nord", "SMF", "11", "1", "0"),
    ("300000002", "Pôle métropolitain", "POLEM", "11", "1", "0"),
    ("300000003", "SM intermédiaire (sans compétence)", "SMO", "12", "0", "0"),
]
BASE_MEMBERS = [
    ("300000001", E1, "groupement"), ("300000001", "300000003", "groupement"),  # nested: via 300000003
    ("300000003", E2, "groupement"), ("300000003", "15001", "commune"),
    ("300000002", E1, "groupement"), ("300000002", E4, "groupement"),  # E1 claimed twice
    (E1, "11001", "commune"), (E1, "11002", "commune"),
]


@pytest.fixture()
def layer():
    return scot.build_layer(groupements(BASE_ROWS, BASE_MEMBERS), EPCI_COMMUNES, COMMUNE_EPCI, COMMUNES)


def _scot_of(layer, code, level="epci"):
    m = layer.members
    return m.loc[(m["member_code"] == code) & (m["member_level"] == level), "scot_code"].tolist()


@pytest.mark.parametrize("member, level, expected", [
    (E1, "epci", ["300000001"]),  # SMF wins over the pôle métropolitain
    (E2, "epci", ["300000001"]),  # nested membership resolved
    (E3, "epci", [E3]),  # EPCI with the competence and no structure: its own SCoT
    (E4, "epci", ["300000002"]),  # only the pôle claims it
    ("15001", "commune", ["300000001"]),  # commune without EPCI, direct (nested) member
])
def test_resolution(layer, member, level, expected):
    assert _scot_of(layer, member, level) == expected


def test_conflict_recorded(layer):
    assert [(c["member"], c["chosen"]) for c in layer.conflicts] == [(E1, "300000001")]
    assert layer.label == "structures porteuses de SCoT (BANATIC)"


def test_commune_scot(layer):
    cs = scot.commune_scot(layer, COMMUNE_EPCI, sorted(COMMUNES))
    assert cs == {"11001": "300000001", "11002": "300000001", "12001": "300000001", "13001": E3,
                  "14001": "300000002", "15001": "300000001"}


def test_every_epci_in_at_most_one_scot(layer):
    epci = layer.members[layer.members["member_level"] == "epci"]
    assert not epci["member_code"].duplicated().any()


def test_cycle_is_a_clear_error():
    rows = [("300000001", "A", "SMF", "11", "1", "0"), ("300000002", "B", "SMO", "11", "0", "0")]
    members = [("300000001", "300000002", "groupement"), ("300000002", "300000001", "groupement")]
    with pytest.raises(SchemaError, match="Cycle d'adhésion.*300000001 → 300000002 → 300000001"):
        scot.build_layer(groupements(rows, members), EPCI_COMMUNES, COMMUNE_EPCI, COMMUNES)


def test_unmatched_members_reported():
    rows = [("300000001", "A", "SMF", "11", "1", "0")]
    members = [("300000001", "299999999", "groupement"), ("300000001", "19999", "commune"),
               ("300000001", "19998", "commune")]
    layer = scot.build_layer(groupements(rows, members), EPCI_COMMUNES, COMMUNE_EPCI, COMMUNES,
                             successor={"19998": "11001"})
    assert layer.unmatched == {"epci": ["299999999"], "communes": ["19999"]}


def test_user_perimeters_take_precedence(layer):
    user = scot.build_layer(banatic.read(FIXTURES / "perimeters"), EPCI_COMMUNES, COMMUNE_EPCI, COMMUNES,
                            source="user")
    merged = scot.merge_user(layer, user, COMMUNE_EPCI)
    assert _scot_of(merged, E2) == ["900000001"]
    assert merged.members.set_index("member_code").loc[E2, "source"] == "user"
    assert _scot_of(merged, E1) == ["300000001"]  # untouched
    assert "utilisateur" in merged.label


@pytest.mark.parametrize("column, value, match", [
    ("siren", "12", "SIREN invalides"),
    ("competence_scot", "oui", "valeurs inattendues dans competence_scot"),
])
def test_validation_errors(column, value, match):
    rows = [dict(zip(banatic.GROUPEMENT_COLUMNS, BASE_ROWS[0]))]
    rows[0][column] = value
    with pytest.raises(SchemaError, match=match):
        banatic.validate(pd.DataFrame(rows), pd.DataFrame(columns=list(banatic.MEMBER_COLUMNS)), "test")


def test_missing_column_is_a_clear_error(tmp_path: Path):
    (tmp_path / "groupements.csv").write_text("siren,nom\n300000001,A\n", encoding="utf-8")
    (tmp_path / "groupements_membres.csv").write_text("siren_groupement,membre,type_membre\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"colonnes manquantes \['nature_juridique'"):
        banatic.read(tmp_path)
