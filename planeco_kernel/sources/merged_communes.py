"""Rates of merged communes (communes nouvelles) and of Paris, Lyon and Marseille, computed honestly.

Some files give a rate (a share, a median) per commune on an older geography, or per
arrondissement municipal, and no row for the current commune that covers them all:

- the SRU inventory 2024 (COG 2024) lists, beside a commune merged on 1 January 2025, the commune
  it absorbed (e.g. 01187 and 01330, merged into 01187): the current commune's own row covers
  only part of its territory; it also lists communes déléguées of older mergers with a
  placeholder 0 % (e.g. 01091 and 01205 beside Valserhône, 01033): those rows are redundant;
- LOVAC 2025 and Filosofi 2021 give Paris, Lyon and Marseille only by arrondissement.

A rate does not add up. The indicator layer keeps an intensive value only when one old code maps
to one current commune (:func:`planeco_kernel.indicators.components.to_current_geography`), so
such communes were simply missing. :func:`fold_rates` computes, before that step, the rate of the
whole current commune when the quantity allows it:

- a share (``kind="share"``) is the mean of its pieces weighted by **its own denominator**
  (main residences for the SRU rate), when every piece has a rate and a weight; the weights come
  from another file (e.g. census RP 2021 main residences), so the result is an estimate and its
  note says so;
- a share whose denominator is not in any file at hand (LOVAC: private dwellings), and a median
  (``kind="median"``: never a median from medians), stays missing, with the reason.

Pieces are the codes that were communes in their own right (``commune-actuelle``) or
arrondissements in the file's geography vintage (``code_history``); other codes that map to the
same current commune (communes déléguées or associées of older mergers) are redundant rows and
are dropped when the current commune has its own row.

The function is pure (frames in, frames out); the build's source step
(:mod:`planeco_kernel.bundle.sources_step`) calls it with the bundle's ``code_history`` and
records the notes in the manifest and the structured reasons (:meth:`Folded.reasons`) in the
bundle's ``missing_reasons`` table, which the Fiche and the Comparateur show beside « non disponible »
(:func:`planeco_kernel.indicators.missing.missing_reason`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

Kind = Literal["share", "median"]
PLM = {"75056": "Paris", "69123": "Lyon", "13055": "Marseille"}


@dataclass(frozen=True)
class RateRule:
    """How one tidy variable of a source folds onto a merged commune.

    ``weights`` is a per-commune Series (codes of the file's geography) of the rate's
    denominator, ``weights_label`` its French name and source (« résidences principales,
    recensement 2021 »); ``None`` when no file at hand holds the denominator (``missing_why``
    then says which one is missing).
    """

    variable: str
    kind: Kind
    weights: pd.Series | None = None
    weights_label: str = ""
    missing_why: str = ""
    exact: bool = False
    """The weights are the rate's own denominator from the same file (the result is exact, not an estimate)."""


@dataclass
class Folded:
    """The tidy frame after folding, and one French note per current commune folded or left missing."""

    tidy: pd.DataFrame
    computed: dict[tuple[str, str], str]
    unavailable: dict[tuple[str, str], str]
    redundant: dict[str, int] = field(default_factory=dict)
    """Per variable, rows of old communes déléguées / associées dropped beside their current commune."""

    def reasons(self, source: str) -> pd.DataFrame:
        """One row per commune left missing: ``source, variable, commune_code, reason`` (the bundle's
        ``missing_reasons`` table, :data:`planeco_kernel.bundle.schema.MISSING_REASONS`)."""
        rows = sorted(self.unavailable.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        return pd.DataFrame({"source": pd.Series([source] * len(rows), dtype="string"),
                             "variable": pd.Series([var for (_, var), _ in rows], dtype="string"),
                             "commune_code": pd.Series([code for (code, _), _ in rows], dtype="string"),
                             "reason": pd.Series([text for _, text in rows], dtype="string")})

    def notes(self, source: str) -> list[str]:
        """Manifest notes (``"<source> : …"``), one per variable and outcome, with up to 5 examples."""
        out = [f"{source} : {var} : {n} ligne(s) d'anciennes communes déléguées ou associées ignorées à côté de leur "
               "commune nouvelle (qui a sa propre valeur)" for var, n in sorted(self.redundant.items()) if n]
        for label, items in (("valeurs recalculées pour la commune actuelle", self.computed),
                             ("valeurs non disponibles pour la commune actuelle", self.unavailable)):
            by_var: dict[str, list[str]] = {}
            for (code, var), text in sorted(items.items()):
                by_var.setdefault(var, []).append(f"{code} ({text})")
            for var, rows in by_var.items():
                out.append(f"{source} : {var} : {len(rows)} {label} : " + " ; ".join(rows[:5])
                           + (" ; …" if len(rows) > 5 else ""))
        return out


def pieces_at(history: pd.DataFrame, vintage: int) -> pd.DataFrame:
    """``code → current_code`` for the codes that were communes or arrondissements in ``vintage``.

    Falls back to the nearest vintage of ``code_history`` at or below ``vintage`` (else the oldest).
    """
    vintages = sorted(int(v) for v in history["vintage"].unique())
    usable = [v for v in vintages if v <= vintage] or vintages[:1]
    v = usable[-1]
    h = history[(history["vintage"] == v) & history["type"].isin(["commune-actuelle", "arrondissement-municipal"])]
    h = h.dropna(subset=["current_code"])
    return pd.DataFrame({"code": h["code"].astype(str).to_numpy(), "current_code": h["current_code"].astype(str).to_numpy(),
                         "type": h["type"].astype(str).to_numpy()})


def fold_rates(tidy: pd.DataFrame, history: pd.DataFrame, *, file_vintage: int, current: set[str],
               rules: list[RateRule]) -> Folded:
    """Fold the rows of merged pieces onto their current commune (see the module docstring).

    Parameters
    ----------
    tidy
        A connector's tidy frame (``commune_code, year, variable, value, unit``).
    history
        The bundle's ``code_history`` (``code, vintage, type, current_code``).
    file_vintage
        The COG vintage of the file's codes (``geography`` in the source registry).
    current
        The current commune codes (bundle ``territories``).
    rules
        One rule per variable to fold; other variables are left as they are.
    """
    pieces = pieces_at(history, file_vintage)
    members: dict[str, list[str]] = {}
    piece_type: dict[str, str] = {}
    for code, cur, typ in zip(pieces["code"], pieces["current_code"], pieces["type"], strict=True):
        members.setdefault(cur, []).append(code)
        piece_type[code] = typ
    h = history.dropna(subset=["current_code"]).sort_values("vintage").drop_duplicates("code", keep="last")
    latest = dict(zip(h["code"].astype(str), h["current_code"].astype(str), strict=True))
    by_var = {r.variable: r for r in rules}
    keep = ~tidy["variable"].isin(list(by_var))
    out = [tidy[keep]]
    computed: dict[tuple[str, str], str] = {}
    unavailable: dict[tuple[str, str], str] = {}
    redundant: dict[str, int] = {}
    for (var, year), rows in tidy[~keep].groupby(["variable", "year"], sort=True):
        rule = by_var[str(var)]
        codes = rows["commune_code"].astype(str)
        target = codes.where(codes.isin(current), codes.map(latest))
        rows = rows.assign(_target=target.to_numpy())
        moved = set(rows.loc[rows["_target"] != codes, "_target"].dropna())
        merged_since = {t for t in rows["_target"].dropna().unique() if len(members.get(t, [])) > 1}
        touched = (moved | merged_since) & current
        plain = ~rows["_target"].isin(touched)
        out.append(rows.loc[plain].drop(columns="_target"))
        for t in sorted(touched):
            group = rows[rows["_target"] == t]
            values = group.set_index(group["commune_code"].astype(str))["value"]
            every = members.get(t, [t])
            arr = [p for p in every if piece_type.get(p) == "arrondissement-municipal"]
            own = pd.notna(values.get(t))
            # arrondissements are subdivisions: the commune's own row, when given, is the whole
            parts = ([t] if own else arr) if arr else every
            got = values.reindex(parts)
            if len(parts) <= 1:  # no merger since the file's geography: other rows are redundant
                if parts and pd.notna(got.iloc[0]):
                    out.append(group[group["commune_code"].astype(str) == parts[0]].drop(columns="_target"))
                    redundant[str(var)] = redundant.get(str(var), 0) + len(group) - 1
                else:
                    unavailable[(t, str(var))] = ("le fichier ne donne que d'anciennes communes déléguées ou associées, "
                                                  "pas la commune actuelle")
                continue
            plm = bool(arr)
            what = "de ses arrondissements" if plm else f"des {len(parts)} communes fusionnées ({', '.join(parts)})"
            reason = _why_not(rule, got, parts, plm=plm, what=what)
            if reason:
                unavailable[(t, str(var))] = reason
                continue
            assert rule.weights is not None
            w = rule.weights.reindex(parts).astype(float)
            value = float((got.astype(float) * w).sum() / w.sum())
            first = group.iloc[0]
            out.append(pd.DataFrame({"commune_code": [t], "year": [first["year"]], "variable": [var],
                                     "value": [value], "unit": [first["unit"]]}))
            computed[(t, str(var))] = (f"moyenne {what} pondérée par {rule.weights_label}"
                                       + ("" if rule.exact else " : estimation"))
    result = pd.concat(out, ignore_index=True)
    result = result.astype({c: tidy[c].dtype for c in tidy.columns if c in result.columns})
    return Folded(result[list(tidy.columns)], computed, unavailable, redundant)


def _why_not(rule: RateRule, got: pd.Series, parts: list[str], *, plm: bool, what: str) -> str:
    """The French reason why a merged commune's rate cannot be computed, or ``""``."""
    if rule.kind == "median":
        if plm:
            return ("non disponible à l'échelle de la commune, voir les arrondissements (une médiane ne se "
                    "calcule pas à partir des médianes des arrondissements)")
        return f"une médiane ne se calcule pas à partir des médianes {what}"
    if rule.weights is None:
        head = "non disponible à l'échelle de la commune, voir les arrondissements : " if plm else ""
        return head + f"{rule.missing_why} ; une moyenne non pondérée {what} serait fausse"
    lacking = [p for p in parts if pd.isna(got.get(p))]
    if lacking:
        return f"taux absent (secret statistique ou non publié) pour {', '.join(lacking)}, partie(s) de la commune"
    w = rule.weights.reindex(parts)
    no_w = [p for p in parts if pd.isna(w.get(p))]
    if no_w:
        return f"{rule.weights_label} inconnues pour {', '.join(no_w)} : pondération impossible"
    if float(w.sum()) <= 0:
        return f"{rule.weights_label} nulles pour toutes les parties"
    return ""


# --------------------------------------------------------------------------- the sources that need it

_LOVAC_NO_STOCK = ("l'agrégat du miroir ne donne pas le nombre de logements du parc privé (le dénominateur du "
                   "taux) ; le fichier officiel LOVAC, lu en ligne, le donne")

#: Per source: the COG vintage of its codes (source registry, ``geography``) and, per variable,
#: ``(kind, weights, missing_why)``: ``weights`` names the tidy frame and variable of the rate's
#: denominator (``("insee_rp_logement", "residences_principales")``), or ``None``.
FOLDED_SOURCES: dict[str, tuple[int, dict[str, tuple[Kind, tuple[str, str] | None, str]]]] = {
    "sru": (2024, {"taux_logements_sociaux_sru_pct": (
        "share", ("insee_rp_logement", "residences_principales"), "")}),
    "lovac": (2024, {
        "taux_vacance_lovac_pct": ("share", ("lovac", "parc_prive_lovac"), _LOVAC_NO_STOCK),
        "taux_vacance_longue_lovac_pct": ("share", ("lovac", "parc_prive_lovac"), _LOVAC_NO_STOCK),
    }),
    "filosofi_2021": (2023, {
        "niveau_vie_median_eur": ("median", None, ""),
        "part_minima_sociaux_pct": ("share", None, "le fichier ne donne pas le revenu disponible total de chaque partie (le dénominateur de la part)"),
    }),
}

WEIGHT_LABELS = {("insee_rp_logement", "residences_principales"): "les résidences principales (Insee, recensement 2021)",
                 ("lovac", "parc_prive_lovac"): "le parc privé de chaque partie (LOVAC, même fichier)"}
EXACT_WEIGHTS = {("lovac", "parc_prive_lovac")}


def rules_for(source_id: str, frames: dict[str, pd.DataFrame]) -> tuple[int, list[RateRule]] | None:
    """The file vintage and folding rules of ``source_id``, weights taken from ``frames`` (tidy frames
    already loaded by the build); ``None`` for a source that needs no folding."""
    spec = FOLDED_SOURCES.get(source_id)
    if spec is None:
        return None
    vintage, variables = spec
    rules = []
    for var, (kind, weight_ref, why) in variables.items():
        weights = None
        label = ""
        if weight_ref is not None:
            frame = frames.get(weight_ref[0])
            rows = frame[frame["variable"] == weight_ref[1]] if frame is not None else None
            if rows is not None and len(rows):
                latest = rows[rows["year"] == rows["year"].max()]
                weights = pd.Series(latest["value"].astype(float).to_numpy(), index=latest["commune_code"].astype(str).to_numpy())
                label = WEIGHT_LABELS[weight_ref]
            elif not why:
                why = f"{WEIGHT_LABELS[weight_ref]} (le dénominateur du taux) ne sont pas dans le paquet"
        rules.append(RateRule(var, kind, weights, label, why, exact=weight_ref in EXACT_WEIGHTS))
    return vintage, rules
