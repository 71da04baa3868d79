"""Step 2 of the COP app, *Débat*: per lever, proposals and positions (knowledge-base threads
anchored ``lever:<id>``), a conclusion required to close; scenario cards adjusted live and saved as
versioned YAML. A part of :class:`planeco_kernel.apps.cop.CopApp`.
"""

from __future__ import annotations

import ipywidgets as W

from planeco_kernel import fmt
from planeco_kernel.apps import templates
from planeco_kernel.apps.cop_common import _m, _notice
from planeco_kernel.errors import PlanecoError
from planeco_kernel.trajectories import debate as D
from planeco_kernel.trajectories import kbstore
from planeco_kernel.trajectories.levers import KT
from planeco_kernel.trajectories.scenarios import LeverLevel, compare_scenarios


class DebateStep:
    """The debates of a lever and the scenario cards (widgets on the app)."""

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
        self.draw_debates()
        self.say(done)  # once the debate shows it

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
