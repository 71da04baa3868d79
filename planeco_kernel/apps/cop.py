"""The « COP territoriale » app: four steps as tabs, for a région (``apps/cop.ipynb`` calls :func:`show`).

1. *Diagnostic partagé*: the SGPE panorama as a treemap (sector → lever, area = ktCO₂e), each tile
   opening its lever; national sector targets (baromètre) with the path travelled; the région's ZAN view.
2. *Débat*: per lever, proposals and positions (knowledge-base threads anchored ``lever:<id>``),
   a conclusion required to close; scenario cards adjusted live and saved as versioned YAML.
3. *Déclinaison*: a lever's regional objective split to départements or EPCI by a visible key,
   sums checked, on a map and in a table.
4. *Feuille de route 2030*: commitments per territory, rolled up to the région against each lever's
   gap (coverage gauges), exported as XLSX and as an HTML dossier; dated editions compared.

Each step's widgets are in their own module, a part of :class:`CopApp`: :mod:`.cop_diagnostic`,
:mod:`.cop_debate`, :mod:`.cop_declension`, :mod:`.cop_roadmap` (shared helpers: :mod:`.cop_common`).
Numbers come from :class:`planeco_kernel.apps.cop_data.CopData`; HTML from ``templates/cop.html``.
The SGPE notice « données de travail SGPE, indicatives, non contraignantes » is shown on every step.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W
import pandas as pd

from planeco_kernel import fmt
from planeco_kernel.apps import templates
from planeco_kernel.apps.cop_common import _m
from planeco_kernel.apps.cop_data import CopData
from planeco_kernel.apps.cop_debate import DebateStep
from planeco_kernel.apps.cop_declension import DECL_KEYS  # noqa: F401  (re-exported)
from planeco_kernel.apps.cop_declension import DeclensionStep
from planeco_kernel.apps.cop_diagnostic import DiagnosticStep
from planeco_kernel.apps.cop_roadmap import ACTOR_LABELS  # noqa: F401  (re-exported)
from planeco_kernel.apps.cop_roadmap import RoadmapStep
from planeco_kernel.errors import PlanecoError
from planeco_kernel.trajectories.scenarios import Scenario

STEPS = ("Diagnostic partagé", "Débat", "Déclinaison", "Feuille de route 2030")


class CopApp(DiagnosticStep, DebateStep, DeclensionStep, RoadmapStep):
    """The app's widgets and behaviour for one région at a time (one part per step, see the module doc)."""

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
        # the régions of the SGPE panorama that the bundle holds (all of them, but in a bundle cut to a
        # few départements: the tests' fast bundle)
        codes = sorted(set(lev["region_code"]) & set(names.index), key=lambda c: names.get(c, c))
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

    def _need_member(self) -> bool:
        if self.kb is None or self.member is None:
            self.say("Base de connaissances ou identité non configurée (PLANECO_KB, PLANECO_KB_USER) : "
                     "lecture seule.", "alert")
            return False
        return True

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
