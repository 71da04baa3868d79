"""Split of an envelope among communes: keys, weights, 1 ha floors, pooling, exact sums (invented values)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planeco_kernel.trajectories.split import (
    SplitError,
    compare,
    parse_weights,
    round_exact,
    split_envelope,
)


def naive(envelope, share, floor=1.0):
    """Reference: raise the smallest below-floor commune one at a time, re-split the rest."""
    alloc = None
    fixed = set()
    while True:
        rest = envelope - floor * len(fixed)
        free = [i for i in range(len(share)) if i not in fixed]
        s = sum(share[i] for i in free)
        alloc = [floor if i in fixed else rest * share[i] / s for i in range(len(share))]
        below = [i for i in free if alloc[i] < floor]
        if not below:
            return alloc
        fixed.add(min(below, key=lambda i: alloc[i]))


@pytest.mark.parametrize("envelope, key, expected", [
    (10, [1, 1, 8, 90], [1, 1, 1, 7]),          # three floors, 2.9 ha taken from the last
    (100, [25, 25, 50], [25, 25, 50]),          # no floor binds
    (3, [1, 1, 1], [1, 1, 1]),                  # floors exactly fill the envelope
])
def test_hand_checked(envelope, key, expected):
    v = pd.DataFrame({"k": key}, index=[f"c{i}" for i in range(len(key))])
    r = split_envelope(envelope, v, {"k": 1})
    assert r.table["envelope_ha"].round(9).tolist() == expected
    assert r.sum_check["ok"] and r.sum_check["sum_communes_ha"] == envelope


def test_redistribution_shown():
    v = pd.DataFrame({"k": [1, 1, 8, 90]}, index=list("abcd"))
    r = split_envelope(10, v, {"k": 1})
    assert r.redistributed_ha == pytest.approx(0.9 + 0.9 + 0.2)
    assert r.table.set_index("code").loc["d", "redistribution_ha"] == pytest.approx(-2.0)
    assert "pris aux autres communes" in r.notes[0]


def test_floors_exceed_envelope_guarantee_wins():
    v = pd.DataFrame({"k": [1, 2, 3]}, index=list("abc"))
    r = split_envelope(2, v, {"k": 1})
    assert r.table["envelope_ha"].tolist() == [1, 1, 1] and r.overrun_ha == 1
    assert r.sum_check["ok"] and "l'emporte" in r.notes[0]


def test_two_keys_weighted():
    v = pd.DataFrame({"a": [1, 3], "b": [1, 1]}, index=["x", "y"])
    r = split_envelope(100, v, {"a": 0.5, "b": 0.5})  # shares (0.25+0.5)/2, (0.75+0.5)/2
    assert r.table["envelope_ha"].tolist() == pytest.approx([37.5, 62.5])


def test_pooling_at_epci():
    v = pd.DataFrame({"k": [1, 1, 8, 90]}, index=list("abcd"))
    pools = pd.Series({"a": "E", "b": "E", "c": "F", "d": "F"})
    r = split_envelope(10, v, {"k": 1}, pools=pools)
    t = r.table.set_index("code")["envelope_ha"]
    assert t["a"] + t["b"] == pytest.approx(2.0)  # the pool's floor: 2 communes × 1 ha
    assert t["c"] == pytest.approx(8 * 8 / 98) and t["c"] < 1  # pooled: a commune may be under 1 ha
    assert t.sum() == pytest.approx(10) and r.sum_check["ok"]


def test_against_naive_reference_random():
    rng = np.random.default_rng(12)
    for _ in range(30):
        n = int(rng.integers(3, 40))
        key = rng.pareto(1.2, n) + 0.001
        env = float(rng.uniform(n * 0.8, n * 6))
        v = pd.DataFrame({"k": key}, index=[str(i) for i in range(n)])
        r = split_envelope(env, v, {"k": 1})
        if env >= n:
            assert r.table["envelope_ha"].to_numpy() == pytest.approx(naive(env, list(key / key.sum())))
            assert (r.table["envelope_ha"] >= 1 - 1e-12).all()
        assert r.sum_check["ok"]
        assert r.table["envelope_rounded_ha"].sum() == pytest.approx(round(r.table["envelope_ha"].sum(), 2))


def test_round_exact():
    assert round_exact(np.array([1 / 3, 1 / 3, 1 / 3]), 2).sum() == pytest.approx(1.0)


@pytest.mark.parametrize("items, message", [
    (["conso"], "NOM=POIDS"), (["a=x"], "n'est pas un nombre"), (["a=-1"], "positif"), (["a=0"], "strictement"),
    (["a=1", "a=2"], "deux fois"),
])
def test_bad_weights(items, message):
    with pytest.raises(SplitError, match=message):
        parse_weights(items)


def test_bad_keys():
    v = pd.DataFrame({"k": [1.0, np.nan]}, index=["a", "b"])
    with pytest.raises(SplitError, match="manquantes ou négatives pour \\['b'\\]"):
        split_envelope(10, v, {"k": 1})
    with pytest.raises(SplitError, match="Clé inconnue « z »"):
        split_envelope(10, v, {"z": 1})
    with pytest.raises(SplitError, match="toutes les valeurs sont nulles"):
        split_envelope(10, pd.DataFrame({"k": [0, 0]}, index=["a", "b"]), {"k": 1})


def test_compare_scenarios():
    v = pd.DataFrame({"a": [1, 3], "b": [1, 1]}, index=["x", "y"])
    c = compare({"conso": split_envelope(100, v, {"a": 1}), "egal": split_envelope(100, v, {"b": 1})})
    assert c.set_index("code").loc["x", "conso"] == pytest.approx(25) and c.set_index("code").loc["x", "egal"] == 50
    assert c["ecart_max_ha"].tolist() == pytest.approx([25, 25])


def test_key_scenarios_saved_compared_exported(tmp_path):
    import io

    from planeco_kernel.knowledge import KnowledgeBase, Member
    from planeco_kernel.trajectories import kbstore
    from planeco_kernel.trajectories.split import KeyScenario, export_xlsx

    kb = KnowledgeBase.init(tmp_path / "kb", Member("marie", "Marie Essai (données de test)", "elu", territory="69123"))
    a = KeyScenario("Conso passée", "200046977", {"conso_passee": 1.0})
    b = KeyScenario("Mixte", "200046977", {"conso_passee": 0.5, "population": 0.5}, pool_floors=True)
    for s in (a, b, a):
        kbstore.save_split(kb, "marie", s)
    got = kbstore.load_splits(kb, "marie", "200046977")
    assert [s.version for s in got["Conso passée"]] == [1, 2] and got["Mixte"][0].pool_floors
    assert got["Mixte"][0].weights == {"conso_passee": 0.5, "population": 0.5}
    v = pd.DataFrame({"conso_passee": [1, 3], "population": [1, 1]}, index=["x", "y"])
    res = {s.name: split_envelope(100, v, s.weights) for s in (got["Conso passée"][-1], got["Mixte"][0])}
    sheets = pd.read_excel(io.BytesIO(export_xlsx(res)), sheet_name=None)
    assert set(sheets) == {"Comparaison", "Conso passée", "Mixte"}
    with pytest.raises(SplitError, match="format attendu"):
        KeyScenario.from_yaml("format: autre\n")
    with pytest.raises(SplitError, match="positif"):
        KeyScenario.from_yaml("format: planeco-zan-split\nname: x\nterritory: '1'\nkeys: {a: -1}\n")
