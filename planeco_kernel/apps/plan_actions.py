"""The « Plan d'actions » app: the territory's action inventory with its views.

The notebook ``apps/plan_actions.ipynb`` only calls :func:`show`. The inventory is read from the
knowledge base (``documents/engagement/actions``); importing a CSV/XLSX file validates it completely
(every problem with its line and column, nothing written on error) and commits it as the
current identity. Views: filtered table, Gantt-like timeline, indicator progress, roll-ups by
sector, lever and territory with the actors' COP commitments, and the threads anchored to each
action in the knowledge base.
"""

from __future__ import annotations

import base64
from typing import Any

import ipywidgets as W

from planeco_kernel import fmt
from planeco_kernel.apps import engagement_html as H

CSS = "planeco-pa"


def _cls(widget: W.Widget, *names: str) -> W.Widget:
    for n in names:
        widget.add_class(f"{CSS}-{n}")
    return widget


class PlanActions:
    """The app's widgets and behaviour (``kb``: knowledge base, default ``PLANECO_KB``)."""

    def __init__(self, kb: Any = None, *, model: Any = None, levers: dict | None = None):
        from planeco_kernel.assessment.levers import load_levers
        from planeco_kernel.knowledge import open_kb
        from planeco_kernel.territory import load_model

        self.kb = kb if hasattr(kb, "root") else open_kb(kb)
        self.model = model or load_model()
        self.levers = levers if levers is not None else load_levers()
        self.member = self.kb.identity()
        self._build()
        self.reload()

    def _build(self) -> None:
        from planeco_kernel.actions.schema import (
            COLUMNS,
            PLANS,
            REQUIRED_COLUMNS,
            STATUSES,
        )

        self.status = _cls(W.HTML(), "status")
        self.upload = _cls(W.FileUpload(accept=".csv,.xlsx", multiple=True, description="Choisir un fichier"), "upload")
        self.import_btn = _cls(W.Button(description="Importer", button_style="primary", layout=W.Layout(width="auto")), "import")
        self.import_btn.on_click(lambda _b: self.import_upload())
        help_html = W.HTML(H.snippet(
            "<p>Importez un inventaire au format CSV ou Excel (colonnes : {{ cols }} ; obligatoires : {{ req }}). "
            "Pour un CSV, ajoutez le fichier <code>NOM_indicateurs.csv</code> dans la même sélection. "
            "L'import est enregistré dans la base de connaissances sous votre identité ({{ who }}).</p>",
            cols=", ".join(COLUMNS), req=", ".join(REQUIRED_COLUMNS),
            who=self.member.name))
        self.f_territory = _cls(W.Text(description="Territoire", placeholder="code INSEE, SIREN ou nom", continuous_update=False), "f-territory")
        self.f_lever = _cls(W.Dropdown(description="Levier", options=[("tous", "")] + sorted(
            ((f"{lv.name} ({lv.id})", lv.id) for lv in self.levers.values()), key=lambda t: t[0])), "f-lever")
        self.f_status = _cls(W.Dropdown(description="Statut", options=[("tous", "")] + [(v, k) for k, v in STATUSES.items()]), "f-status")
        self.f_plan = _cls(W.Dropdown(description="Plan", options=[("tous", "")] + [(k, k) for k in PLANS]), "f-plan")
        for w in (self.f_territory, self.f_lever, self.f_status, self.f_plan):
            w.observe(lambda _ch: self.render(), names="value")
        self.table = _cls(W.HTML(), "table")
        self.timeline = _cls(W.HTML(), "timeline")
        self.indicators = _cls(W.HTML(), "indicators")
        self.rollups = _cls(W.HTML(), "rollup")
        self.threads = _cls(W.HTML(), "threads")
        self.actors = _cls(W.HTML(), "actors")
        self.tabs = _cls(W.Tab(children=[self.table, self.timeline, self.indicators, self.rollups, self.actors,
                                         self.threads]), "tabs")
        for i, t in enumerate(["Tableau", "Calendrier", "Indicateurs", "Synthèse et COP", "Acteurs engagés", "Échanges"]):
            self.tabs.set_title(i, t)
        self.export_btn = _cls(W.Button(description="Exporter (CSV, Excel)", layout=W.Layout(width="auto")), "export")
        self.export_btn.on_click(lambda _b: self.export())
        self.downloads = _cls(W.HTML(), "downloads")
        self.widget = _cls(W.VBox([
            W.HTML("<h1 class=\"planeco-h1\">Plan d'actions du territoire</h1>"), help_html,
            W.HBox([self.upload, self.import_btn]), self.status,
            W.HBox([self.f_territory, self.f_lever]), W.HBox([self.f_status, self.f_plan]),
            self.tabs, W.HBox([self.export_btn]), self.downloads,
        ]), "app")  # fmt: skip
        self.widget.add_class("planeco-app")

    def _say(self, kind: str, title: str, items: list[str] | None = None) -> None:
        self.status.value = H.render_message(kind, title, items)

    def reload(self) -> None:
        from planeco_kernel.actions import load_all

        self.sheets, problems = load_all(self.kb, self.levers)
        if problems:
            self._say("error", "Des fiches enregistrées ne sont pas valides et sont ignorées :", problems)
        self.render()

    def selected(self):
        from planeco_kernel.actions.views import filter_sheets

        code = None
        if self.f_territory.value.strip():
            try:
                code = self.model.resolve(self.f_territory.value.strip()).territory.code
            except LookupError as exc:
                self._say("error", str(exc))
                return []
        return filter_sheets(self.sheets, territory=code, lever=self.f_lever.value or None,
                             status=self.f_status.value or None, plan=self.f_plan.value or None, model=self.model)

    def render(self) -> None:
        from planeco_kernel.actions import commitments
        from planeco_kernel.actions.views import (
            indicator_progress,
            rollup,
            table,
            timeline_svg,
        )
        from planeco_kernel.assessment.levers import SOURCE_LABEL

        sheets = self.selected()
        n = len(sheets)
        self.table.value = H.render_frame(table(sheets), f"{fmt.plural(n, 'action')} sur {fmt.integer(len(self.sheets))}", id_column="id",
                                          empty="Aucune action ne correspond (importez un inventaire ou changez les filtres).")
        self.timeline.value = H.snippet('<div class="planeco-pa-gantt" role="img" aria-label="Calendrier des actions">{{ svg }}</div>',
                                        svg=H._markup(timeline_svg(sheets, title="Calendrier des actions (couleur : statut)")))
        self.indicators.value = H.render_frame(indicator_progress(sheets), "Avancement des indicateurs vers leur cible",
                                               empty="Aucun indicateur renseigné.",
                                               note="Avancement = (valeur actuelle − valeur initiale) / (cible − valeur initiale).")
        names = {s.territory: self._name(s.territory) for s in sheets}
        parts = [
            H.render_frame(rollup(sheets, "secteur"), "Par secteur PCAET"),
            H.render_frame(rollup(sheets, "levier", levers=self.levers), "Par levier COP",
                           note=f"Leviers : {SOURCE_LABEL}."),
            H.render_frame(rollup(sheets, "territoire", names=names), "Par territoire"),
        ]
        code = None
        if self.f_territory.value.strip():
            try:
                code = self.model.resolve(self.f_territory.value.strip()).territory.code
            except LookupError:
                code = None
        com = commitments(self.kb, code, model=self.model, levers=self.levers)
        if self.f_lever.value:
            com = com[com["lever_id"] == self.f_lever.value]
        com = com.rename(columns={"territory_code": "territoire", "lever_id": "levier", "quantity": "quantité",
                                  "unit": "unité", "year": "année", "actor": "acteur", "actor_type": "type d'acteur",
                                  "source": "origine", "action_id": "action"})
        parts.append(H.render_frame(com, "Engagements chiffrés pour la feuille de route COP (plans d'actions et acteurs "
                                    "socio-économiques)", empty="Aucun engagement chiffré.",
                                    note="Quantités déclarées par les porteurs (fiches actions et auto-évaluations)."))
        self.rollups.value = "".join(parts)
        self.threads.value = H.render_threads(self._threads(sheets))
        self.actors.value = self._actors(code)

    def _actors(self, code: str | None) -> str:
        """The territory view of the actors' self-assessments (anonymity threshold applied)."""
        from planeco_kernel.assessment import (
            load_referentiel,
            load_toolbox,
            territory_view,
        )
        from planeco_kernel.assessment.store import all_assessments

        if not code:
            return H.render_message("ok", "Indiquez un territoire (filtre « Territoire ») pour voir l'engagement de ses acteurs.")
        ref = load_referentiel()
        items, _ = all_assessments(self.kb, ref)
        view = territory_view(ref, items, code, name=self._name(code), model=self.model, toolbox=load_toolbox(ref))
        return H.render_territory(view)

    def _name(self, code: str) -> str:
        try:
            return self.model.get(code).name
        except LookupError:
            return code

    def _threads(self, sheets) -> list[dict[str, Any]]:
        from planeco_kernel.errors import PlanecoError
        from planeco_kernel.knowledge.model import THREAD_KINDS

        out = []
        for s in sheets[:50]:
            try:
                ths = self.kb.threads(self.member.id, anchor=f"action:{s.id}")
            except PlanecoError:  # an action id the knowledge base refuses as an anchor key: no threads
                ths = []
            out.append({"id": s.id, "title": s.title, "links": ", ".join(s.links),
                        "threads": [{"kind": THREAD_KINDS.get(t.kind, t.kind), "title": t.title, "count": t.replies + 1}
                                    for t in ths]})
        return out

    def import_upload(self) -> None:
        from planeco_kernel.actions import import_table, save, territory_resolver
        from planeco_kernel.errors import PlanecoError

        files = list(self.upload.value or ())
        if not files:
            self._say("error", "Choisissez d'abord un fichier CSV ou Excel.")
            return
        main = [f for f in files if not f["name"].lower().endswith("_indicateurs.csv")]
        ind = [f for f in files if f["name"].lower().endswith("_indicateurs.csv")]
        if len(main) != 1:
            self._say("error", "Sélectionnez un seul inventaire (plus, pour un CSV, son fichier _indicateurs.csv).")
            return
        f = main[0]
        try:
            sheets = import_table(f["name"], self.levers, territory_resolver(self.model), data=bytes(f["content"]),
                                  name=f["name"], indicators_data=bytes(ind[0]["content"]) if ind else None,
                                  indicators_name=ind[0]["name"] if ind else None)
            sha = save(self.kb, sheets, f"plan d'actions : import de {f['name']} ({len(sheets)} actions)")
        except PlanecoError as exc:
            self._say("error", f"Import refusé, rien n'a été enregistré ({f['name']}) :",
                      getattr(exc, "problems", None) or [str(exc)])
            return
        self._say("ok", f"{fmt.plural(len(sheets), 'action importée', 'actions importées')} depuis {f['name']}"
                  + (" (enregistrées dans la base de connaissances)." if sha else " : aucune modification."))
        self.upload.value = ()
        self.reload()

    def export(self) -> None:
        from planeco_kernel.actions.tabular import indicators_csv, to_csv, to_xlsx

        sheets = self.selected()
        files = [("plan_actions.csv", "text/csv", to_csv(sheets)),
                 ("plan_actions_indicateurs.csv", "text/csv", indicators_csv(sheets)),
                 ("plan_actions.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_xlsx(sheets))]
        self.downloads.value = H.snippet(
            '<p>{% for f, mime, b64 in files %}<a download="{{ f }}" href="data:{{ mime }};base64,{{ b64 }}">{{ f }}</a>'
            '{% if not loop.last %} · {% endif %}{% endfor %}</p>',
            files=[(n, m, base64.b64encode(b).decode()) for n, m, b in files])


def show(**kw: Any) -> PlanActions | None:
    """Display the app; return it (None with a French explanation when it cannot start).

    The territory model and the levers are loaded before the visit (preheated Voilà kernels);
    the inventory is read from the knowledge base once the visitor arrives
    (:func:`~planeco_kernel.apps.hosting.show_when_visited`).
    """
    from planeco_kernel.apps.hosting import show_when_visited

    def preload() -> None:
        if kw.get("model") is None:
            from planeco_kernel.territory import load_model

            kw["model"] = load_model()
        if kw.get("levers") is None:
            from planeco_kernel.assessment.levers import load_levers

            kw["levers"] = load_levers()

    return show_when_visited(css=CSS, loading="Chargement du plan d'actions…",
                             unavailable="Le plan d'actions n'est pas disponible sur cette installation.",
                             preload=preload, build=lambda: PlanActions(**kw))
