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


def _corrections(rows):
    return pd.DataFrame(rows, columns=list(scot.CORRECTION_COLUMNS))


@pytest.mark.parametrize("excluded, member, expected", [
    ((E1, "300000001"), E1, ["300000002"]),  # the SMF's claim removed: the other claimant wins
    ((E4, "300000002"), E4, [E4]),  # the only claim removed: the EPCI carries its own SCoT
    ((E4, "300000002"), E1, ["300000001"]),  # other EPCIs untouched
])
def test_corrections_remove_a_claim(excluded, member, expected):
    c = _corrections([(*excluded, "motif (test)", "source (test)"), (E3, "300000001", "jamais revendiqué", "test")])
    lay = scot.build_layer(groupements(BASE_ROWS, BASE_MEMBERS), EPCI_COMMUNES, COMMUNE_EPCI, COMMUNES,
                           corrections=c)
    assert _scot_of(lay, member) == expected
    assert [r["applied"] for r in lay.corrections] == [True, False]


def test_user_perimeters_win_over_corrections():
    c = _corrections([(E2, "300000001", "motif (test)", "source (test)")])
    base = scot.build_layer(groupements(BASE_ROWS, BASE_MEMBERS), EPCI_COMMUNES, COMMUNE_EPCI, COMMUNES,
                            corrections=c)
    assert _scot_of(base, E2) == []
    user = scot.build_layer(banatic.read(FIXTURES / "perimeters"), EPCI_COMMUNES, COMMUNE_EPCI, COMMUNES,
                            source="user")
    merged = scot.merge_user(base, user, COMMUNE_EPCI)
    assert _scot_of(merged, E2) == ["900000001"] and merged.corrections == base.corrections


def test_suspects_listed():
    rows = BASE_ROWS + [("300000004", "SM parc (test)", "SMO", "13", "1", "0")]
    members = BASE_MEMBERS + [("300000004", E3, "groupement"), ("300000004", E4, "groupement")]
    s = scot.suspects(groupements(rows, members), EPCI_COMMUNES)
    assert s == [{"structure": "300000004", "name": "SM parc (test)", "epci": [E3, E4]}]


@pytest.mark.parametrize("content, match", [
    ("epci_siren,excluded_structure_siren,reason\n", r"colonnes manquantes \['source'\]"),
    ("epci_siren,excluded_structure_siren,reason,source\n12,300000001,r,s\n", "SIREN invalides dans epci_siren"),
    ("epci_siren,excluded_structure_siren,reason,source\n200000001,300000001,,s\n", "colonne reason vide"),
    ("epci_siren,excluded_structure_siren,reason,source\n200000001,300000001,r,s\n200000001,300000001,r,s\n",
     "en double"),
])
def test_corrections_file_errors(tmp_path: Path, content, match):
    p = tmp_path / "scot_corrections.csv"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(SchemaError, match=match):
        scot.read_corrections(p)


def test_corrections_file_missing(tmp_path: Path):
    with pytest.raises(SchemaError, match="introuvable"):
        scot.read_corrections(tmp_path / "absent.csv")


def test_repository_corrections_file_is_valid():
    c = scot.read_corrections()
    assert len(c) == 5 and set(c["excluded_structure_siren"]) == {"253403539", "253901664"}
