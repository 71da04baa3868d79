"""Step 4 of the COP app, *Feuille de route 2030*: commitments per territory, rolled up to the région
against each lever's gap (coverage gauges), exported as XLSX and as an HTML dossier; dated editions
compared. A part of :class:`planeco_kernel.apps.cop.CopApp`.
"""

from __future__ import annotations

import base64

import ipywidgets as W
import pandas as pd

from planeco_kernel import fmt
from planeco_kernel.apps.cop_common import _m, _notice
from planeco_kernel.apps.cop_data import STATUSES
from planeco_kernel.errors import PlanecoError
from planeco_kernel.trajectories import edition, kbstore
from planeco_kernel.trajectories.levers import ACTOR_TYPES, KT


ACTOR_LABELS = {"collectivite": "Collectivité", "entreprise": "Entreprise", "association": "Association",
                "etablissement_public": "Établissement public"}


class RoadmapStep:
    """The commitments form and import, the coverage gauges, the exports and the editions (widgets on the app)."""

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
        # the message comes last: once it shows, the gauges and the table include the commitment
        self.draw_roadmap()
        self.show_lever(self.lever_pick.value)
        self.say("Engagement ajouté.")

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
        self.draw_roadmap()
        self.say(f"{len(frame)} engagements importés de « {f['name']} ».")

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
