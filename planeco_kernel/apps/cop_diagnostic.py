"""Step 1 of the COP app, *Diagnostic partagé*: the SGPE panorama as a treemap (sector → lever,
area = ktCO₂e), each tile opening its lever; national sector targets (baromètre) with the path
travelled; the région's ZAN view. A part of :class:`planeco_kernel.apps.cop.CopApp`.
"""

from __future__ import annotations

import ipywidgets as W
import pandas as pd

from planeco_kernel import fmt
from planeco_kernel.apps import templates
from planeco_kernel.apps.cop_common import _m, _notice
from planeco_kernel.errors import PlanecoError


class DiagnosticStep:
    """The treemap, the lever detail, the national trajectory and the ZAN summary (widgets on the app)."""

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
