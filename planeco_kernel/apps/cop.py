"""The « COP territoriale » app: four steps as tabs, for a région (``apps/cop.ipynb`` calls :func:`show`).

1. *Diagnostic partagé*: the SGPE panorama as a treemap (sector → lever, area = ktCO₂e), each tile
   opening its lever; national sector targets (baromètre) with the path travelled; the région's ZAN view.
2. *Débat*: per lever, proposals and positions (knowledge-base threads anchored ``lever:<id>``),
   a conclusion required to close; scenario cards adjusted live and saved as versioned YAML.
3. *Déclinaison*: a lever's regional objective split to départements or EPCI by a visible key,
   sums checked, on a map and in a table.
4. *Feuille de route 2030*: commitments per territory, rolled up to the région against each lever's
   gap (coverage gauges), exported as XLSX and as an HTML dossier; dated editions compared.

Numbers come from :class:`planeco_kernel.apps.cop_data.CopData`; HTML from ``templates/cop.html``.
The SGPE notice « données de travail SGPE, indicatives, non contraignantes » is shown on every step.
"""

from __future__ import annotations

import base64
from typing import Any

import ipywidgets as W
import pandas as pd

from planeco_kernel import fmt
from planeco_kernel.apps import templates
from planeco_kernel.apps.cop_data import STATUSES, CopData
from planeco_kernel.errors import PlanecoError
from planeco_kernel.trajectories import debate as D
from planeco_kernel.trajectories import edition, kbstore
from planeco_kernel.trajectories.levers import ACTOR_TYPES, KT, NOTICE, SOURCE_LABEL
from planeco_kernel.trajectories.scenarios import LeverLevel, Scenario, compare_scenarios

STEPS = ("Diagnostic partagé", "Débat", "Déclinaison", "Feuille de route 2030")
ACTOR_LABELS = {"collectivite": "Collectivité", "entreprise": "Entreprise", "association": "Association",
                "etablissement_public": "Établissement public"}
DECL_KEYS = {"population": "Population", "logements": "Parc de logements", "surface": "Surface",
             "inventaire": "Inventaire de l'observatoire (chargé)"}


def _m(name: str, *args, **kw) -> str:
    return templates.macro("cop.html", name, *args, **kw)


def _notice() -> W.HTML:
    h = W.HTML(_m("notice", NOTICE, SOURCE_LABEL))
    h.add_class("cop-notice-box")
    return h


class CopApp:
    """The app's widgets and behaviour for one région at a time."""

    def __init__(self, pdata=None, *, kb=None, region_code: str | None = None,
                 extra_commitments: list[pd.DataFrame] | None = None):
        from planeco_kernel.trajectories.data import load_planning

        self.pdata = pdata or load_planning()
        self.kb = kb if kb is not None else _open_kb()
        self.member = None
        if self.kb is not None:
            try:
                self.member = self.kb.identity()
            except PlanecoError:
                self.member = None
        self.extra = extra_commitments or []
        lev = self.pdata.table("sgpe_levers")
        names = self.pdata.territories[self.pdata.territories["level"] == "region"].set_index("code")["name"]
        codes = sorted(set(lev["region_code"]), key=lambda c: names.get(c, c))
        self.region = W.Dropdown(options=[(names.get(c, c), c) for c in codes], description="Région",
                                 value=region_code or codes[0], layout=W.Layout(width="420px"))
        self.status = W.HTML()
        self.status.add_class("cop-status")
        self.header = W.HTML()
        self.tabs = W.Tab()
        self._build_step1()
        self._build_step2()
        self._build_step3()
        self._build_step4()
        self.tabs.children = [self.step1, self.step2, self.step3, self.step4]
        for i, t in enumerate(STEPS):
            self.tabs.set_title(i, f"{i + 1}. {t}")
        self.widget = W.VBox([self.header, self.region, self.status, self.tabs])
        self.widget.add_class("planeco-cop-app")
        self.region.observe(lambda ch: self.load(ch["new"]), names="value")
        self.load(self.region.value)

    # ------------------------------------------------------------------ common
    def say(self, text: str, kind: str = "note") -> None:
        self.status.value = templates.macro("common.html", "message", text, kind=kind)

    def load(self, region_code: str) -> None:
        self.data = CopData(self.pdata, region_code, extra_commitments=self.extra, kb=self.kb)
        self.scenario = Scenario("Scénario de travail", region_code, [])
        self.header.value = _m("header", self.data.region_name, list(STEPS))
        opts = [(f"{lv.name} ({lv.sector})", lv.lever_id) for lv in self.data.levers]
        for dd in (self.lever_pick, self.debate_lever, self.decl_lever, self.c_lever):
            dd.options = opts
            dd.value = opts[0][1]
        self.scen_sector.options = sorted({lv.sector for lv in self.data.levers})
        self.scen_sector.value = self.scen_sector.options[0]
        self.c_territory.options = self._territory_options()
        self.c_territory.value = self.data.region_code
        self._units()
        self.draw_treemap()
        self.show_lever(self.data.levers[0].lever_id)
        self.draw_national()
        self.draw_commitments_fr()
        self.draw_zan()
        self.draw_scenario_card()
        self.draw_debates()
        self.draw_declension()
        self.draw_roadmap()
        from planeco_kernel.apps.cop_data import ACTORS_LABEL

        text = f"{self.data.region_name} : {len(self.data.levers)} leviers du panorama SGPE."
        if self.kb is not None:
            text += f" {fmt.number(self.data.kb_count, 0)} engagement(s) des {ACTORS_LABEL} (base de connaissances) comptés dans la feuille de route."
        text += "".join(f" {n}" for n in self.data.kb_notes)
        self.say(text, "alert" if self.data.kb_notes else "note")

    # ------------------------------------------------------------------ step 1
    def _build_step1(self) -> None:
        self.treemap_box = W.HBox(layout=W.Layout(width="100%", height="420px"))
        self.treemap_box.add_class("cop-treemap")
        self.legend_html = W.HTML()
        self.lever_pick = W.Dropdown(description="Levier", layout=W.Layout(width="520px"))
        self.lever_pick.observe(lambda ch: ch["new"] and self.show_lever(ch["new"]), names="value")
        self.lever_html = W.HTML()
        self.lever_html.add_class("cop-lever-box")
        self.national_html = W.HTML()
        self.france_html = W.HTML()
        self.zan_html = W.HTML()
        self.step1 = W.VBox([_notice(), W.HTML("<h2 class='planeco-h2'>Panorama régional des leviers</h2>"),
                             self.legend_html, self.treemap_box, self.lever_pick, self.lever_html,
                             W.HTML("<h2 class='planeco-h2'>Trajectoire nationale par secteur</h2>"), self.national_html,
                             self.france_html,
                             self.zan_html])

    def draw_treemap(self) -> None:
        cols = []
        blocks = self.data.treemap()
        self.legend_html.value = _m("legend", [{"colour": b.colour, "sector": b.sector, "obj": fmt.number(b.obj_kt, 0)}
                                               for b in blocks])
        for b in blocks:
            tiles = []
            for t in b.tiles:
                btn = W.Button(description=t.lever, tooltip=f"{t.lever} : {fmt.number(t.obj_kt, 0)} ktCO₂e",
                               layout=W.Layout(width="100%", height=f"{100 * t.share_in_sector:.2f}%", min_height="0",
                                               margin="0", padding="0 2px", border="1px solid white"))
                btn.style.button_color = b.colour
                btn.style.text_color = "white"
                btn.add_class("cop-tile")
                btn.on_click(lambda _b, lid=t.lever_id: self.show_lever(lid))
                tiles.append(btn)
            col = W.VBox(tiles, layout=W.Layout(width=f"{100 * b.share:.2f}%", height="100%", margin="0"))
            col.add_class("cop-sector")
            cols.append(col)
        self.treemap_box.children = cols

    def show_lever(self, lever_id: str) -> None:
        from planeco_kernel.knowledge.render import markdown_to_html

        d = self.data.lever_detail(lever_id)
        cov = d["coverage"]
        self.lever_html.value = _m(
            "lever_detail", d, fmt.number(d["obj_kt"], 0), fmt.number(d["obj_phys"], None) if d["obj_phys"] is not None else "",
            fmt.number(d["start_2019"], None) if d["start_2019"] is not None else "", fmt.number(d["committed_kt"], 0),
            fmt.number(d["gap_kt"], 0), fmt.percent(None if pd.isna(cov) else 100 * cov, 0),
            templates.safe(markdown_to_html(d["comment"])))
        ind = self.data.indicators_for(lever_id)
        if len(ind):
            rows = [[r.label + (f" — {r.dimension}" if r.dimension else ""), f"{fmt.number(r.first_value, None)} ({r.first_year})",
                     f"{fmt.number(r.value, None)} ({r.year})", r.unit or "", f"Écolab, indicateur {r.indicator_id}"]
                    for r in ind.itertuples(index=False)]
            self.lever_html.value += ("<h4>Indicateurs régionaux liés (baromètre, Écolab)</h4>"
                                      + _m("table", ["Indicateur", "Début de série", "Dernière valeur", "Unité", "Source"], rows))
        if self.lever_pick.value != lever_id:
            self.lever_pick.value = lever_id

    def draw_national(self) -> None:
        n = self.data.national()
        rows = []
        for r in n.to_dict(orient="records"):
            if not r["available"]:
                rows.append([r["sector"], "non disponible", "", "", "", "", ""])
                continue
            rows.append([r["sector"], fmt.number(r["value_2019"], 1), f"{fmt.number(r['last_value'], 1)} ({r['last_year']})",
                         fmt.number(r["target_2030"], 1), r["target_source"] or "",
                         fmt.percent(None if pd.isna(r["travelled"]) else 100 * r["travelled"], 0), r["source"] or ""])
        self.national_html.value = _m("table", ["Secteur", "2019 (MtCO₂e)", "Dernière valeur", "Cible 2030",
                                                "Source de la cible", "Chemin parcouru", "Source"], rows)

    def draw_commitments_fr(self) -> None:
        c = self.pdata.tables.get("barometre_commitments")
        if c is None:
            self.france_html.value = ""
            return
        rows = [[r.theme, r.commitment] for r in c.itertuples(index=False)]
        self.france_html.value = ("<h3>Engagements de la France (baromètre de la planification écologique)</h3>"
                                  + _m("table", ["Thématique", "Engagement"], rows))

    def draw_zan(self) -> None:
        from planeco_kernel.cli.zan import render_zan

        try:
            t = self.data.zan()
        except PlanecoError as exc:
            self.zan_html.value = templates.macro("common.html", "message", str(exc), kind="note")
            return
        self.zan_html.value = _m("zan_summary", t, render_zan(t).split("\n")[2:])

    # ------------------------------------------------------------------ step 2
    def _build_step2(self) -> None:
        self.debate_lever = W.Dropdown(description="Levier", layout=W.Layout(width="520px"))
        self.debate_lever.observe(lambda ch: self.draw_debates(), names="value")
        self.debates_html = W.HTML()
        self.debates_html.add_class("cop-debates")
        self.debate_pick = W.Dropdown(description="Débat", layout=W.Layout(width="520px"))
        self.p_title = W.Text(description="Proposition", layout=W.Layout(width="520px"))
        self.p_body = W.Textarea(description="Texte", layout=W.Layout(width="520px"))
        for w, css in ((self.p_title, "cop-p-title"), (self.p_body, "cop-p-body")):
            w.add_class(css)
        self.p_send = W.Button(description="Proposer", button_style="primary")
        self.p_send.add_class("cop-propose")
        self.p_send.on_click(lambda _b: self._propose())
        self.pos = W.ToggleButtons(options=[("Pour", "pour"), ("Contre", "contre"), ("Amendement", "amendement")])
        self.pos_text = W.Textarea(description="Votre avis", layout=W.Layout(width="520px"))
        self.pos_text.add_class("cop-pos-text")
        self.pos.add_class("cop-pos")
        self.pos_send = W.Button(description="Prendre position")
        self.pos_send.add_class("cop-position")
        self.pos_send.on_click(lambda _b: self._position())
        self.concl_text = W.Textarea(description="Conclusion", layout=W.Layout(width="520px"))
        self.concl_text.add_class("cop-concl-text")
        self.concl_send = W.Button(description="Clore le débat")
        self.concl_send.add_class("cop-conclude")
        self.concl_send.on_click(lambda _b: self._conclude())
        self.scen_name = W.Text(value="Scénario de travail", description="Scénario")
        self.scen_sector = W.Dropdown(description="Secteur")
        self.scen_sector.observe(lambda ch: self.draw_scenario_card(), names="value")
        self.scen_unit = W.ToggleButtons(options=[("ktCO₂e", "kt"), ("Unité physique (2030)", "phys")], value="kt")
        self.scen_unit.add_class("cop-scenario-unit")
        self.scen_unit.observe(lambda ch: self.draw_scenario_card(), names="value")
        self.scen_inputs = W.VBox()
        self.scen_gaps = W.HTML()
        self.scen_gaps.add_class("cop-scenario-gaps")
        self.scen_save = W.Button(description="Enregistrer le scénario")
        self.scen_save.add_class("cop-scenario-save")
        self.scen_save.on_click(lambda _b: self._save_scenario())
        self.scen_compare = W.HTML()
        self.step2 = W.VBox([
            _notice(), self.debate_lever, self.debates_html,
            W.HTML("<h3>Nouvelle proposition</h3>"), self.p_title, self.p_body, self.p_send,
            W.HTML("<h3>Prendre position</h3>"), self.debate_pick, self.pos, self.pos_text, self.pos_send,
            W.HTML("<h3>Clore (conclusion requise)</h3>"), self.concl_text, self.concl_send,
            W.HTML("<h2 class='planeco-h2'>Cartes de scénario</h2>"), self.scen_name, self.scen_sector, self.scen_unit,
            self.scen_inputs,
            self.scen_gaps, self.scen_save, self.scen_compare,
        ])

    def _need_member(self) -> bool:
        if self.kb is None or self.member is None:
            self.say("Base de connaissances ou identité non configurée (PLANECO_KB, PLANECO_KB_USER) : "
                     "lecture seule.", "alert")
            return False
        return True

    def draw_debates(self) -> None:
        lid = self.debate_lever.value
        if not lid:
            return
        if self.kb is None:
            self.debates_html.value = templates.macro("common.html", "message",
                                                      "Base de connaissances non configurée (PLANECO_KB).", kind="note")
            self.debate_pick.options = []
            return
        debates = D.debates_of(self.kb, lid, self.member.id if self.member else None)
        self.debates_html.value = "".join(_m("debate", d, d.contributions) for d in debates) or templates.macro(
            "common.html", "message", "Aucune proposition sur ce levier pour l'instant.")
        keep = self.debate_pick.value
        opts = [(d.title + (" (clos)" if d.closed else ""), d.thread_id) for d in debates]
        self.debate_pick.options = opts
        ids = [v for _, v in opts]
        self.debate_pick.value = keep if keep in ids else (ids[0] if ids else None)

    def _act(self, fn, done: str) -> None:
        if not self._need_member():
            return
        try:
            fn()
        except PlanecoError as exc:
            self.say(str(exc), "alert")
            return
        self.say(done)
        self.draw_debates()

    def _propose(self) -> None:
        self._act(lambda: D.propose(self.kb, self.member.id, self.debate_lever.value, self.p_title.value,
                                    self.p_body.value, territory=self.region.value), "Proposition publiée.")

    def _position(self) -> None:
        self._act(lambda: D.take_position(self.kb, self.member.id, self.debate_pick.value, self.pos.value,
                                          self.pos_text.value), "Position enregistrée.")

    def _conclude(self) -> None:
        self._act(lambda: D.conclude(self.kb, self.member.id, self.debate_pick.value, self.concl_text.value),
                  "Débat clos.")

    def draw_scenario_card(self) -> None:
        sector = self.scen_sector.value
        current = {x.lever_id: x.value for x in self.scenario.levels}
        phys = self.scen_unit.value == "phys"
        inputs = []
        for lv in self.data.levers:
            if lv.sector != sector:
                continue
            kt = current.get(lv.lever_id, lv.obj_kt)
            in_phys = phys and lv.translatable
            label = lv.name[:40] + (f" ({lv.unit_phys[:30]})" if in_phys else " (ktCO₂e)")
            box = W.BoundedFloatText(value=round(lv.kt_to_phys(kt) if in_phys else kt, 3 if in_phys else 1), min=0,
                                     max=1e9, description=label, style={"description_width": "420px"},
                                     layout=W.Layout(width="640px"), tooltip=lv.unit_phys if in_phys else "ktCO₂e")
            box.add_class("cop-scenario-input")
            box.observe(lambda ch, lv=lv, p=in_phys: self.set_level(lv.lever_id, lv.phys_to_kt(ch["new"]) if p else ch["new"]),
                        names="value")
            inputs.append(box)
        self.scen_inputs.children = inputs
        self.draw_scenario_gaps()

    def set_level(self, lever_id: str, kt: float) -> None:
        """A lever change: recompute the sector gaps and redraw them (and the roadmap gauges)."""
        levels = [x for x in self.scenario.levels if x.lever_id != lever_id]
        levels.append(LeverLevel(lever_id, float(kt), KT))
        self.scenario.levels = levels
        self.draw_scenario_gaps()
        self.draw_gauges()

    def draw_scenario_gaps(self) -> None:
        g = self.data.scenario_gaps(self.scenario)
        rows = [[r.sector, fmt.number(r.obj_kt, 0), fmt.number(r.scenario_kt, 0), fmt.signed(r.gap_kt, 0)]
                for r in g.itertuples(index=False)]
        self.scen_gaps.value = _m("table", ["Secteur", "Objectif SGPE (ktCO₂e)", "Scénario", "Écart (reste à trouver)"], rows)

    def _save_scenario(self) -> None:
        if not self._need_member():
            return
        self.scenario.name = self.scen_name.value.strip() or "Scénario"
        try:
            kbstore.save_scenario(self.kb, self.member.id, self.scenario)
            saved = kbstore.load_scenarios(self.kb, self.member.id, self.region.value, self.data.by_id)
        except PlanecoError as exc:
            self.say(str(exc), "alert")
            return
        latest = [v[-1] for v in saved.values() if v]
        cmp = compare_scenarios(latest, self.data.by_id)
        rows = [[r["sector"], fmt.number(r["obj_kt"], 0), *[fmt.number(r[s.name], 0) for s in latest]]
                for r in cmp.to_dict(orient="records")]
        self.scen_compare.value = _m("table", ["Secteur", "Objectif SGPE", *[f"{s.name} (v{s.version})" for s in latest]], rows)
        self.say(f"Scénario « {self.scenario.name} » enregistré (version {self.scenario.version}).")

    # ------------------------------------------------------------------ step 3
    def _build_step3(self) -> None:
        self.decl_lever = W.Dropdown(description="Levier", layout=W.Layout(width="520px"))
        self.decl_level = W.ToggleButtons(options=[("Départements", "departement"), ("EPCI", "epci")])
        self.decl_key = W.Dropdown(options=[(v, k) for k, v in DECL_KEYS.items()], description="Clé")
        self.inventory_upload = W.FileUpload(accept=".csv", description="Inventaire (CSV)")
        self.inventory: pd.DataFrame | None = None
        self.decl_lever.observe(lambda ch: self._default_key(), names="value")
        for w in (self.decl_lever, self.decl_level, self.decl_key):
            w.observe(lambda ch: self.draw_declension(), names="value")
        self.inventory_upload.observe(lambda ch: self._load_inventory(), names="value")
        self.decl_check = W.HTML()
        self.decl_check.add_class("cop-decl-check")
        self.decl_table = W.HTML()
        self.decl_table.add_class("cop-declension")
        self.decl_map = W.Box()
        self.step3 = W.VBox([_notice(), self.decl_lever, self.decl_level, self.decl_key, self.inventory_upload,
                             self.decl_check, self.decl_map, self.decl_table])

    def _default_key(self) -> None:
        """The key declared for the lever (LEVER_DEFAULT_KEY), population when its data are missing."""
        from planeco_kernel.trajectories.levers import LEVER_DEFAULT_KEY

        lid = self.decl_lever.value
        if not lid or not hasattr(self, "data"):
            return
        key = LEVER_DEFAULT_KEY.get(lid, "population")
        try:
            self.data.key_series(self.decl_level.value, key)
        except PlanecoError:
            key = "population"
        self.decl_key.value = key

    def _load_inventory(self) -> None:
        import io

        files = self.inventory_upload.value
        if not files:
            return
        f = files[0]
        try:
            self.inventory = pd.read_csv(io.BytesIO(bytes(f["content"])), sep=None, engine="python",
                                         dtype={"territory_code": str})
        except (ValueError, UnicodeDecodeError) as exc:
            self.say(f"Inventaire illisible ({exc}) : CSV territory_code, sector, year, tco2e attendu.", "alert")
            return
        self.say(f"Inventaire chargé : {len(self.inventory)} lignes.")
        self.decl_key.value = "inventaire"
        self.draw_declension()

    def draw_declension(self) -> None:
        lid = self.decl_lever.value
        if not lid:
            return
        lv = self.data.by_id[lid]
        try:
            d = self.data.declension(lid, self.decl_level.value, self.decl_key.value, inventory=self.inventory,
                                     sector=lv.sector)
        except PlanecoError as exc:
            self.decl_check.value = templates.macro("common.html", "message", str(exc), kind="alert")
            self.decl_table.value = ""
            return
        sc = d.attrs["sum_check"]
        self.decl_check.value = _m("sum_check", d.attrs["method"], fmt.number(sc["sum_kt"], 1), fmt.number(sc["objective_kt"], 1),
                                   abs(sc["difference_kt"]) < 1e-6)
        rows = [[r["code"], r["name"], fmt.number(r["key_value"], 0), fmt.percent(100 * r["share"], 1),
                 fmt.number(r["obj_kt"], 1)] for r in d.to_dict(orient="records")]
        self.decl_table.value = _m("table", ["Code", "Territoire", DECL_KEYS[self.decl_key.value], "Part", "Objectif (ktCO₂e)"], rows)
        self._draw_map(d)

    def _draw_map(self, d: pd.DataFrame) -> None:
        try:
            import ipyleaflet as IL

            from planeco_kernel import geo
            from planeco_kernel.apps.maps import base_map

            frame = geo.load_display(self.decl_level.value, d["code"].tolist())
            breaks = geo.classify(d["obj_kt"].to_numpy(), k=5)
            colours = dict(zip(d["code"], geo.colors_for(d["obj_kt"].to_numpy(), breaks)))
            gj = geo.to_geojson(frame, properties=d.set_index("code")[["name"]], style=colours)
            m = base_map(380)
            m.add(IL.GeoJSON(data=gj, style_callback=lambda f: f["properties"]["style"]))
            b = geo.bbox(self.decl_level.value, d["code"].tolist())
            m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
            self.decl_map.children = [m]
        except Exception as exc:  # noqa: BLE001 - a missing contour layer leaves the table, with a note
            self.decl_map.children = [W.HTML(templates.macro("common.html", "map_unavailable", str(exc)))]

    # ------------------------------------------------------------------ step 4
    def _territory_options(self) -> list[tuple[str, str]]:
        out = [(f"{self.data.region_name} (région)", self.data.region_code)]
        for level in ("departement", "epci"):
            out += [(f"{r.name} ({r.code})", str(r.code)) for r in self.data.subterritories(level).itertuples()]
        return out

    def _build_step4(self) -> None:
        self.c_territory = W.Dropdown(description="Territoire", layout=W.Layout(width="520px"))
        self.c_lever = W.Dropdown(description="Levier", layout=W.Layout(width="520px"))
        self.c_lever.observe(lambda ch: self._units(), names="value")
        self.c_unit = W.Dropdown(description="Unité", layout=W.Layout(width="520px"))
        self.c_quantity = W.FloatText(description="Quantité", value=0.0)
        self.c_year = W.BoundedIntText(description="Année", value=2030, min=2019, max=2050)
        self.c_actor = W.Text(description="Acteur")
        self.c_actor_type = W.Dropdown(description="Type", options=[(ACTOR_LABELS[a], a) for a in ACTOR_TYPES])
        self.c_cost = W.FloatText(description="Coût (€)", value=0.0)
        self.c_status = W.Dropdown(description="Statut", options=list(STATUSES), value="engagé")
        self.c_quantity.add_class("cop-c-quantity")
        self.c_actor.add_class("cop-c-actor")
        self.c_add = W.Button(description="Ajouter l'engagement", button_style="primary")
        self.c_add.add_class("cop-commit-add")
        self.c_add.on_click(lambda _b: self._add_commitment())
        self.c_import = W.FileUpload(accept=".csv,.xlsx", description="Importer (CSV, XLSX)")
        self.c_import.observe(lambda ch: self._import_commitments(), names="value")
        self.gauges_html = W.HTML()
        self.gauges_html.add_class("cop-gauges-box")
        self.commit_table = W.HTML()
        self.exports = W.HTML()
        self.edition_label = W.Text(description="Édition", value=str(pd.Timestamp.today().year))
        self.edition_save = W.Button(description="Enregistrer l'édition (instantané daté)")
        self.edition_save.on_click(lambda _b: self._save_edition())
        self.edition_changes = W.HTML()
        self.step4 = W.VBox([_notice(), W.HTML("<h3>Saisir un engagement</h3>"), self.c_territory, self.c_lever, self.c_unit,
                             self.c_quantity, self.c_year, self.c_actor, self.c_actor_type, self.c_cost, self.c_status,
                             self.c_add, self.c_import, self.gauges_html, self.commit_table, self.exports, self.edition_label,
                             self.edition_save, self.edition_changes])

    def _units(self) -> None:
        lv = self.data.by_id.get(self.c_lever.value) if hasattr(self, "data") else None
        opts = [KT] + ([lv.unit_phys] if lv is not None and lv.translatable else [])
        self.c_unit.options = opts
        self.c_unit.value = KT

    def _add_commitment(self) -> None:
        try:
            self.data.add_commitment(
                territory_code=self.c_territory.value, lever_id=self.c_lever.value, quantity=self.c_quantity.value,
                unit=self.c_unit.value, year=self.c_year.value, actor=self.c_actor.value.strip() or "non précisé",
                actor_type=self.c_actor_type.value, source="COP (saisie)", action_id="", cost_eur=self.c_cost.value,
                status=self.c_status.value)
        except PlanecoError as exc:
            self.say(str(exc), "alert")
            return
        self.say("Engagement ajouté.")
        self.draw_roadmap()
        self.show_lever(self.lever_pick.value)

    def _import_commitments(self) -> None:
        from planeco_kernel.trajectories.levers import read_commitments

        files = self.c_import.value
        if not files:
            return
        f = files[0]
        try:
            frame = read_commitments(bytes(f["content"]), f["name"], self.data.by_id)
        except PlanecoError as exc:
            self.say(str(exc), "alert")
            return
        self.data.extra.append(frame)
        self.say(f"{len(frame)} engagements importés de « {f['name']} ».")
        self.draw_roadmap()

    def draw_gauges(self) -> None:
        """Coverage gauges: committed vs the SGPE objective, per sector and lever."""
        from planeco_kernel.apps.cop_data import gauge_rows

        self.gauges_html.value = (_m("gauges", gauge_rows(self.data.sector_coverage(), key="sector"), "Couverture par secteur")
                                  + _m("gauges", gauge_rows(self.data.coverage()), "Couverture par levier"))

    def draw_roadmap(self) -> None:
        from planeco_kernel.apps.cop_data import commitment_rows

        self.draw_gauges()
        rows = [[c["territory"], c["lever"], c["quantity"], c["unit"], c["year"], c["actor"], c["kt"], c["source"]]
                for c in commitment_rows(self.data.commitments())]
        self.commit_table.value = _m("table", ["Territoire", "Levier", "Quantité", "Unité", "Année", "Acteur", "ktCO₂e", "Origine"], rows)
        x = base64.b64encode(self.data.xlsx()).decode()
        h = base64.b64encode(self.data.dossier_html().encode("utf-8")).decode()
        slug = self.data.region_code
        self.exports.value = (
            _m("download", x, f"cop_{slug}_feuille_de_route.xlsx",
               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Exporter (XLSX)", "cop-export-xlsx")
            + " " + _m("download", h, f"cop_{slug}_dossier.html", "text/html", "Dossier (HTML)", "cop-export-html"))

    def _save_edition(self) -> None:
        if not self._need_member():
            return
        label = self.edition_label.value.strip()
        snap = edition.snapshot(self.region.value, label, commitments=self.data.commitments(), scenarios=[self.scenario])
        try:
            previous = kbstore.load_editions(self.kb, self.member.id, self.region.value)
            kbstore.save_edition(self.kb, self.member.id, self.region.value, label, edition.to_yaml(snap))
        except PlanecoError as exc:
            self.say(str(exc), "alert")
            return
        others = [v for k, v in sorted(previous.items()) if k != label]
        if others:
            ch = edition.changes(edition.from_yaml(others[-1]), snap)
            rows = [[r.territory_code, r.lever_id, r.actor, r.change, fmt.number(r.quantity_before, None),
                     fmt.number(r.quantity_after, None)] for r in ch.itertuples(index=False)]
            self.edition_changes.value = _m("table", ["Territoire", "Levier", "Acteur", "Évolution", "Avant", "Après"], rows)
        self.say(f"Édition « {label} » enregistrée.")

    def apply_query(self, query: dict[str, Any]) -> None:
        code = query.get("region")
        if code and code in dict((v, k) for k, v in self.region.options):
            self.region.value = code


def _open_kb():
    from planeco_kernel.knowledge import open_kb

    try:
        return open_kb()
    except PlanecoError:
        return None


def show(**kw) -> CopApp:
    """Build and display the app (the notebook's only call); ``?region=84`` opens a région."""
    from planeco_kernel.apps.request import display_then_apply

    app = CopApp(**kw)
    return display_then_apply(app, app.apply_query)
