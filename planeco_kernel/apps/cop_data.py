"""Data of the COP app (four steps): everything computed, nothing drawn — tested without a browser.

:class:`CopData` holds one région's levers (SGPE simulateur), its ZAN trajectory, the national
sector targets (baromètre), the sub-territories for the declension, the commitments entered in
the app plus those given by other modules (``extra_commitments``: frames of the shared contract,
e.g. ``planeco_kernel.actions.commitments(kb)``), and produces the tables, the treemap layout,
the coverage gauges, the XLSX export and the HTML dossier.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planeco_kernel import fmt
from planeco_kernel.errors import PlanecoError
from planeco_kernel.trajectories import levers as L
from planeco_kernel.trajectories.data import PlanningData
from planeco_kernel.trajectories.scenarios import Scenario, gap_by_sector

NOTICE = L.NOTICE
SECTOR_COLOURS = ["#000091", "#18753c", "#b34000", "#6a6af4", "#a558a0", "#009081", "#c3992a", "#716043", "#ce614a", "#417dc4"]
STATUSES = ("proposé", "engagé", "réalisé")

LEVER_INDICATORS: dict[str, tuple[str, ...]] = {
    "augm_voitelec": ("826", "434"), "augm_buselec": ("453", "911"), "augm_vélotc": ("133", "955"),
    "augm_covoit": ("1082",), "augm_fret": ("684", "686"), "augm_logi": ("685",),
    "reduc_rconso": ("992", "994"), "reduc_rfioul": ("992", "994"), "reduc_rgaz": ("992", "994"),
    "reduc_tconso": ("255",), "reduc_tgaz": ("257",), "reduc_tfioul": ("683",),
    "augm_valodma": ("681",), "reduc_proddma": ("42",), "augm_prairies": ("356",), "reduc_eneragri": ("913",),
    "reduc_azote": ("23", "331"), "reduc_artif": ("611",), "reduc_chal": ("510", "509"),
    "co2_enr": ("898", "899"), "co2_indus": ("520",), "co2_industrie": ("520", "833"),
}
"""Écolab regional series (baromètre) relevant to each lever, shown in its detail (declared, reviewable)."""


@dataclass
class Tile:
    lever_id: str
    lever: str
    sector: str
    obj_kt: float
    share_in_sector: float


@dataclass
class SectorBlock:
    sector: str
    obj_kt: float
    share: float
    colour: str
    tiles: list[Tile]


def treemap(levers: list[L.Lever]) -> list[SectorBlock]:
    """Slice-and-dice treemap sector → lever, area proportional to ktCO₂e (levers with 0 kt left out)."""
    df = pd.DataFrame([{"lever_id": lv.lever_id, "lever": lv.name, "sector": lv.sector, "obj_kt": lv.obj_kt}
                       for lv in levers if lv.obj_kt > 0])
    if df.empty:
        return []
    total = df["obj_kt"].sum()
    order = df.groupby("sector")["obj_kt"].sum().sort_values(ascending=False)
    blocks = []
    for i, (sector, kt) in enumerate(order.items()):
        d = df[df["sector"] == sector].sort_values("obj_kt", ascending=False)
        tiles = [Tile(r.lever_id, r.lever, sector, float(r.obj_kt), float(r.obj_kt / kt)) for r in d.itertuples()]
        blocks.append(SectorBlock(str(sector), float(kt), float(kt / total), SECTOR_COLOURS[i % len(SECTOR_COLOURS)], tiles))
    return blocks


def empty_commitments() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64" if c == "quantity" else ("int64" if c == "year" else "object"))
                         for c in (*L.COMMITMENT_COLUMNS, "cost_eur", "status")})


ACTORS_LABEL = "acteurs socio-économiques"


def actors_commitments(kb, region_code: str, levers: dict[str, L.Lever]) -> tuple[pd.DataFrame, list[str]]:
    """The commitments of the knowledge base's actors inside a région, checked for its levers.

    Reads :func:`planeco_kernel.actions.commitments` (action sheets and self-assessments with a
    lever and a quantity, in the région or a territory inside it). Each row's ``source`` becomes
    « acteurs socio-économiques — <plan d'actions | auto-évaluation> (base de connaissances) ».
    A row the région's lever list cannot count (lever hidden for the région, physical unit without
    a translation) is left out and said in the returned French notes; it never stops the roadmap.
    """
    from planeco_kernel.actions import commitments

    try:
        raw = commitments(kb, region_code)
    except PlanecoError as exc:
        return pd.DataFrame(columns=[*L.COMMITMENT_COLUMNS, "kt"]), [f"Engagements des {ACTORS_LABEL} non lus : {exc}"]
    notes: list[str] = []
    kept = []
    for i, r in enumerate(raw.to_dict(orient="records"), start=1):
        lv = levers.get(str(r["lever_id"]))
        if lv is not None and r["unit"] != L.KT and " ".join(str(r["unit"]).split()) == " ".join(str(lv.unit_phys).split()):
            r["unit"] = lv.unit_phys  # same unit, spelt as the bundle spells it
        r["source"] = f"{ACTORS_LABEL} — {r['source']} (base de connaissances)"
        try:
            kept.append(L.check_commitments(pd.DataFrame([r]), levers, origin=f"engagement « {r['action_id'] or r['actor']} »"))
        except PlanecoError as exc:
            notes.append(f"Non compté : {exc}")
    if not kept:
        return pd.DataFrame(columns=[*L.COMMITMENT_COLUMNS, "kt"]), notes
    return pd.concat(kept, ignore_index=True), notes


class CopData:
    """One région's COP: levers, trajectories, commitments, exports."""

    def __init__(self, pdata: PlanningData, region_code: str, *, extra_commitments: list[pd.DataFrame] | None = None,
                 kb=None):
        self.pdata = pdata
        self.region_code = region_code
        self.region_name = str(pdata.row("region", region_code)["name"])
        self.levers = L.levers_of(pdata.table("sgpe_levers"), region_code)
        self.by_id = {lv.lever_id: lv for lv in self.levers}
        self.entered = empty_commitments()
        self.extra = [L.check_commitments(f, self.by_id, origin=f"engagements importés n° {i}")
                      for i, f in enumerate(extra_commitments or [], start=1)]
        self.kb_notes: list[str] = []
        self.kb_count = 0
        if kb is not None:
            frame, self.kb_notes = actors_commitments(kb, region_code, self.by_id)
            self.kb_count = len(frame)
            if len(frame):
                self.extra.append(frame)

    # ------------------------------------------------------------------ step 1
    def treemap(self) -> list[SectorBlock]:
        return treemap(self.levers)

    def lever_detail(self, lever_id: str) -> dict:
        lv = self.by_id[lever_id]
        cov = self.coverage().set_index("lever_id").loc[lever_id]
        return {"lever": lv, "obj_kt": lv.obj_kt, "obj_phys": lv.obj_phys, "unit_phys": lv.unit_phys,
                "start_2019": lv.start_2019 if lv.translatable else None, "committed_kt": float(cov["committed_kt"]),
                "gap_kt": float(cov["gap_kt"]), "coverage": cov["coverage"], "comment": lv.comment}

    def indicators_for(self, lever_id: str) -> pd.DataFrame:
        """The région's latest value of each Écolab series relevant to the lever (by dimension if any)."""
        e = self.pdata.tables.get("ecolab_series")
        ids = LEVER_INDICATORS.get(lever_id, ())
        cols = ["indicator_id", "label", "unit", "dimension", "year", "value", "first_year", "first_value"]
        if e is None or not ids:
            return pd.DataFrame(columns=cols)
        d = e[e["indicator_id"].isin(ids) & (e["region_code"] == self.region_code)].dropna(subset=["value"])
        rows = []
        for (iid, dim), g in d.groupby(["indicator_id", d["dimension"].fillna("")], sort=False):
            g = g.sort_values("year")
            rows.append({"indicator_id": iid, "label": g["label"].iloc[-1], "unit": g["unit"].iloc[-1],
                         "dimension": dim or None, "year": int(g["year"].iloc[-1]), "value": float(g["value"].iloc[-1]),
                         "first_year": int(g["year"].iloc[0]), "first_value": float(g["value"].iloc[0])})
        return pd.DataFrame(rows, columns=cols).head(12)

    def national(self) -> pd.DataFrame:
        n = L.national_sectors(self.pdata.table("barometre_indicators"))
        n["travelled"] = np.where(
            n["available"] & n["target_2030"].notna() & n["value_2019"].notna(),
            (n["value_2019"] - n["last_value"]) / (n["value_2019"] - n["target_2030"]), np.nan)
        return n

    def zan(self):
        from planeco_kernel.trajectories.land import zan_for

        return zan_for(self.pdata, "region", self.region_code)

    # ------------------------------------------------------------------ step 2
    def scenario_gaps(self, scenario: Scenario) -> pd.DataFrame:
        return gap_by_sector(scenario, self.by_id)

    # ------------------------------------------------------------------ step 3
    def subterritories(self, level: str) -> pd.DataFrame:
        t = self.pdata.children_of("region", self.region_code, level)
        return t[["code", "name", "population"]].reset_index(drop=True)

    def key_series(self, level: str, key: str, inventory: pd.DataFrame | None = None, sector: str | None = None) -> pd.Series:
        subs = self.subterritories(level)
        if key == "inventaire":
            if inventory is None or sector is None:
                raise PlanecoError("Chargez d'abord un inventaire (territoire × secteur × année, tCO₂e).")
            k = L.inventory_key(inventory, sector)
            return k.reindex(subs["code"]).rename(index=dict(zip(subs["code"], subs["code"])))
        if key == "population":
            return pd.Series(pd.to_numeric(subs["population"], errors="coerce").to_numpy(dtype="float64"), index=subs["code"])
        communes = self.pdata.communes_of("region", self.region_code)
        col = {"departement": "departement_code", "epci": "epci_code"}[level]
        if key == "surface":
            geo = self.pdata.tables.get("commune_geometry")
            if geo is None:
                raise PlanecoError("Clé « surface » non disponible : les contours ne sont pas dans le paquet.")
            s = communes.merge(geo[["code", "area_km2"]], on="code").groupby(col)["area_km2"].sum()
            return s.reindex(subs["code"]).astype("float64")
        if key == "logements":
            lg = self.pdata.tables.get("commune_logements")
            if lg is None:
                raise PlanecoError("Clé « parc de logements » non disponible dans ce paquet (recensement du logement "
                                   "absent) : choisissez la population ou chargez un inventaire.")
            s = communes.merge(lg, on="code").groupby(col)["logements"].sum()
            return s.reindex(subs["code"]).astype("float64")
        raise PlanecoError(f"Clé inconnue « {key} ».")

    def declension(self, lever_id: str, level: str, key: str, **kw) -> pd.DataFrame:
        lv = self.by_id[lever_id]
        k = self.key_series(level, key, **kw)
        d = L.declension(lv.obj_kt, k, key_name=key)
        names = self.subterritories(level).set_index("code")["name"]
        d.insert(1, "name", d["code"].map(names))
        if lv.translatable:
            d["obj_phys_delta"] = d["obj_kt"] * lv.ratio
        return d

    # ------------------------------------------------------------------ step 4
    def add_commitment(self, **row) -> None:
        """Add a commitment entered in the app (checked like any import; errors in French)."""
        full = {c: row.get(c, "") for c in (*L.COMMITMENT_COLUMNS, "cost_eur", "status")}
        frame = pd.DataFrame([full])
        L.check_commitments(frame, self.by_id, origin="engagement saisi")
        if full["status"] and full["status"] not in STATUSES:
            raise PlanecoError(f"Statut « {full['status']} » inconnu : {', '.join(STATUSES)}.")
        self.entered = pd.concat([self.entered, frame], ignore_index=True) if len(self.entered) else frame

    def commitments(self) -> pd.DataFrame:
        frames = [L.check_commitments(self.entered, self.by_id, origin="engagements saisis")] if len(self.entered) else []
        frames += self.extra
        if not frames:
            return pd.DataFrame(columns=[*L.COMMITMENT_COLUMNS, "kt"])
        return pd.concat(frames, ignore_index=True)

    def coverage(self, commitments: pd.DataFrame | None = None) -> pd.DataFrame:
        return L.coverage(self.levers, self.commitments() if commitments is None else commitments)

    def sector_coverage(self) -> pd.DataFrame:
        return L.sector_coverage(self.coverage())

    def xlsx(self) -> bytes:
        buf = io.BytesIO()
        with pd.ExcelWriter(buf, engine="openpyxl") as xl:
            self.coverage().to_excel(xl, index=False, sheet_name="Couverture par levier")
            self.sector_coverage().to_excel(xl, index=False, sheet_name="Couverture par secteur")
            self.commitments().to_excel(xl, index=False, sheet_name="Engagements")
            pd.DataFrame({"mention": [NOTICE, f"Source : {L.SOURCE_LABEL}",
                                      f"Export du {dt.date.today().isoformat()}"]}).to_excel(xl, index=False, sheet_name="Sources")
        return buf.getvalue()

    def dossier_html(self) -> str:
        from planeco_kernel.apps import templates

        return templates.render("cop_dossier.html", region=self.region_name, notice=NOTICE, source=L.SOURCE_LABEL,
                                date=fmt_date(dt.date.today()), blocks=self.treemap(),
                                levers=gauge_rows(self.coverage()), sectors=gauge_rows(self.sector_coverage(), key="sector"),
                                commitments=commitment_rows(self.commitments()))


def fmt_date(d: dt.date) -> str:
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre"]
    return f"{d.day} {months[d.month - 1]} {d.year}"


def gauge_rows(cov: pd.DataFrame, key: str = "lever") -> list[dict]:
    rows = []
    for r in cov.to_dict(orient="records"):
        c = r.get("coverage")
        pct = None if c is None or (isinstance(c, float) and np.isnan(c)) else 100 * float(c)
        rows.append({"label": r[key], "sector": r.get("sector", ""), "obj": fmt.number(r["obj_kt"], 0),
                     "committed": fmt.number(r["committed_kt"], 0), "gap": fmt.number(r["gap_kt"], 0),
                     "pct": fmt.percent(pct, 0), "width": 0 if pct is None else min(100.0, round(pct, 1))})
    return rows


def commitment_rows(c: pd.DataFrame) -> list[dict]:
    out = []
    for r in c.to_dict(orient="records"):
        out.append({"territory": r["territory_code"], "lever": r["lever_id"], "quantity": fmt.number(r["quantity"], None),
                    "unit": r["unit"], "year": r["year"], "actor": r["actor"], "kt": fmt.number(r.get("kt"), 1),
                    "source": r["source"]})
    return out
