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
