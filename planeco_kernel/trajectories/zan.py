"""ZAN trajectory of one territory: reference, envelope, consumption since 2021, pace, projection, decades.

Pure computations on a yearly series of NAF consumption (Cerema « fichiers fonciers »: the value of
year N is the flow from 1 January N to 1 January N+1, in ha) and a reduction target.

Rules (loi n° 2021-1104 « Climat et résilience », art. 191 and 194; loi n° 2023-630 du 20 juillet 2023):

- reference: consumption of the ten years 2011–2020 (flows 1/1/2011 → 1/1/2021);
- envelope 2021–2030 = reference × (1 − target), the target inherited from the nearest document
  that sets one (PLU(i), then SCoT, then SRADDET), else the law's 50 %;
- *garantie communale*: a commune's envelope is never below 1 ha (:func:`apply_garantie`, the one
  implementation every view, table, chart, map and export calls);
- the decades 2031–2040 and 2041–2050 toward net zero artificialisation in 2050: without a document
  saying otherwise, each is stated as a further halving of the previous one (:data:`DECADE_FACTOR`),
  and shown as such — a convention, not a legal figure.

Every bound that depends on the data derives from the series' last year (``last_year``):
consumption « since 2021 » runs to it, the pace is the mean of the :data:`PACE_YEARS` years ending
with it, the projection runs from it to 2030.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from planeco_kernel.errors import PlanecoError

REFERENCE_PERIOD = (2011, 2020)
ENVELOPE_PERIOD = (2021, 2030)
NET_ZERO_YEAR = 2050
DEFAULT_REDUCTION = 0.5
DECADE_FACTOR = 0.5
FLOOR_HA = 1.0
PACE_YEARS = 3
STATUSES = ("en bonne voie", "vont dépasser", "déjà dépassé")
DECADE_RULE = "moitié de la décennie précédente (convention, aucun document ne fixe ce rythme)"


class TrajectoryError(PlanecoError):
    """A trajectory cannot be computed from the data given (incomplete reference, no data)."""


@dataclass(frozen=True)
class Target:
    """A reduction target and where it comes from.

    ``reduction`` is a fraction (0.5447 for 54.47 %); ``status`` is « réglementaire » (written in
    the territory's own document), « suggéré » (set for it by a parent document, not yet in its
    own) or « par défaut » (the law's 50 %).
    """

    reduction: float
    status: str
    document: str
    origin_level: str = ""
    origin_code: str = ""
    origin_name: str = ""
    url: str | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= self.reduction <= 1.0:
            raise TrajectoryError(f"Objectif de réduction {self.reduction:.2%} hors de [0 %, 100 %].")

    def label(self) -> str:
        from planeco_kernel import fmt

        pct = fmt.percent(100 * self.reduction, 2 if round(100 * self.reduction, 2) % 1 else 0)
        if self.status == "par défaut":
            return f"{pct} (par défaut, loi Climat et résilience)"
        where = f" {self.origin_name}" if self.origin_name else ""
        return f"{pct} — {self.document}{where} ({self.status})"


DEFAULT_TARGET = Target(DEFAULT_REDUCTION, "par défaut", "Loi Climat et résilience (art. 191)",
                        source="loi n° 2021-1104 du 22 août 2021")


def apply_garantie(envelopes, is_commune=True, floor: float = FLOOR_HA):
    """The *garantie communale*: a commune's 2021–2030 envelope is at least ``floor`` ha.

    The single implementation of the rule (tables, charts, maps, exports and the split all call it).

    Parameters
    ----------
    envelopes
        A number or an array of envelopes (ha) before the guarantee.
    is_commune
        Whether each value is a commune's (the guarantee is communal; a parent keeps its envelope).

    Returns
    -------
    (values, applied)
        The envelopes after the guarantee, and a boolean (array) telling where it raised them.
    """
    e = np.asarray(envelopes, dtype="float64")
    c = np.broadcast_to(np.asarray(is_commune, dtype=bool), e.shape)
    applied = c & (e < floor)
    out = np.where(applied, floor, e)
    if out.ndim == 0:
        return float(out), bool(applied)
    return out, applied


@dataclass
class Decade:
    period: tuple[int, int]
    envelope_ha: float
    rule: str


@dataclass
class ZanTrajectory:
    """Everything `planeco zan show` prints, each figure with its source."""

    code: str
    name: str
    level: str
    source: str
    flows: pd.Series = field(repr=False)
    last_year: int
    target: Target
    reference_ha: float
    envelope_raw_ha: float
    envelope_ha: float
    garantie_applied: bool
    used_ha: float
    used_share: float
    pace_ha_per_year: float
    pace_years: tuple[int, int]
    projection_2030_ha: float
    runout_year: int | None
    exceeded_year: int | None
    allowed_pace_ha_per_year: float | None
    effort_pct: float | None
    status: str
    decades: list[Decade]
    sources_by_year: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["flows"] = {int(k): round(float(v), 4) for k, v in self.flows.items()}
        d["target"] = {**asdict(self.target), "label": self.target.label()}
        d["decades"] = [{"period": list(x.period), "envelope_ha": round(x.envelope_ha, 4), "rule": x.rule} for x in self.decades]
        d["pace_years"] = list(self.pace_years)
        d["sources_by_year"] = {int(k): v for k, v in self.sources_by_year.items()}
        for k in ("reference_ha", "envelope_raw_ha", "envelope_ha", "used_ha", "pace_ha_per_year", "projection_2030_ha"):
            d[k] = round(float(d[k]), 4)
        return d


def _series(flows) -> pd.Series:
    s = pd.Series(flows, dtype="float64") if isinstance(flows, Mapping) else pd.Series(flows).astype("float64")
    s.index = s.index.astype(int)
    return s.dropna().sort_index()


def trajectory(flows, target: Target = DEFAULT_TARGET, *, is_commune: bool = False, code: str = "", name: str = "",
               level: str = "", source: str = "", sources_by_year: Mapping[int, str] | None = None) -> ZanTrajectory:
    """The ZAN trajectory of a territory from its yearly flows (ha) and its target.

    Raises
    ------
    TrajectoryError
        If a year of the reference period is missing (the reference would be wrong), or a flow
        is negative.
    """
    s = _series(flows)
    if s.empty:
        raise TrajectoryError(f"{name or code} : aucune donnée de consommation d'espaces.")
    if (s < -1e-9).any():
        raise TrajectoryError(f"{name or code} : consommation négative pour {s[s < 0].index.tolist()}.")
    r0, r1 = REFERENCE_PERIOD
    missing = [y for y in range(r0, r1 + 1) if y not in s.index]
    if missing:
        raise TrajectoryError(
            f"{name or code} : la période de référence {r0}–{r1} est incomplète (années manquantes {missing}) ; "
            "l'enveloppe ne peut pas être calculée.")
    last = int(s.index.max())
    e0, e1 = ENVELOPE_PERIOD
    reference = float(s.loc[r0:r1].sum())
    raw = reference * (1.0 - target.reduction)
    envelope, applied = apply_garantie(raw, is_commune)
    used = float(s.loc[e0:last].sum()) if last >= e0 else 0.0
    p0 = last - PACE_YEARS + 1
    pace = float(s.loc[p0:last].mean())
    years_left = max(0, e1 - last)
    projection = used + pace * years_left
    cum = s.loc[e0:last].cumsum()
    exceeded = int(cum.index[np.argmax(cum.values > envelope + 1e-9)]) if (cum > envelope + 1e-9).any() else None
    runout = None
    if exceeded is None and pace > 0:
        runout = last + math.ceil((envelope - used) / pace - 1e-12)
    allowed = (max(0.0, envelope - used) / years_left) if years_left else None
    effort = (100.0 * (1.0 - allowed / pace)) if (allowed is not None and pace > 0) else None
    if used > envelope + 1e-9:
        status = "déjà dépassé"
    elif projection > envelope + 1e-9:
        status = "vont dépasser"
    else:
        status = "en bonne voie"
    decades = []
    prev = envelope
    for start in range(e1 + 1, NET_ZERO_YEAR, 10):
        prev = prev * DECADE_FACTOR
        decades.append(Decade((start, start + 9), prev, DECADE_RULE))
    notes = []
    if applied:
        notes.append(f"Garantie communale : enveloppe portée à {FLOOR_HA:g} ha (loi du 20 juillet 2023).")
    if last < e0:
        notes.append(f"Les données s'arrêtent en {last} : aucune consommation connue depuis {e0}.")
    return ZanTrajectory(
        code=code, name=name, level=level, source=source, flows=s, last_year=last, target=target,
        reference_ha=reference, envelope_raw_ha=raw, envelope_ha=envelope, garantie_applied=applied,
        used_ha=used, used_share=(used / envelope) if envelope > 0 else float("inf"),
        pace_ha_per_year=pace, pace_years=(p0, last), projection_2030_ha=projection, runout_year=runout,
        exceeded_year=exceeded, allowed_pace_ha_per_year=allowed, effort_pct=effort, status=status,
        decades=decades, sources_by_year=dict(sources_by_year or {}), notes=notes,
    )


def path_to_2050(t: ZanTrajectory) -> pd.DataFrame:
    """Yearly allowed consumption for the chart: observed years, then each period's envelope spread evenly.

    Columns: ``year``, ``observed_ha`` (flows), ``allowed_ha`` (envelope / 10 per year for the
    2021–2030 period and each later decade), ``cumulative_2021_ha``.
    """
    rows = []
    for y, v in t.flows.items():
        rows.append({"year": int(y), "observed_ha": float(v)})
    out = pd.DataFrame(rows).set_index("year")
    allowed = {}
    for y in range(ENVELOPE_PERIOD[0], ENVELOPE_PERIOD[1] + 1):
        allowed[y] = t.envelope_ha / 10.0
    for d in t.decades:
        for y in range(d.period[0], d.period[1] + 1):
            allowed[y] = d.envelope_ha / 10.0
    out = out.reindex(sorted(set(out.index) | set(allowed)))
    out["allowed_ha"] = pd.Series(allowed)
    obs = out["observed_ha"].where(out.index >= ENVELOPE_PERIOD[0])
    out["cumulative_2021_ha"] = obs.fillna(0).cumsum().where(out.index >= ENVELOPE_PERIOD[0])
    return out.reset_index()
