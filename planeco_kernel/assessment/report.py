"""The territory's engagement report (template ``parameterized/engagement_territoire.ipynb``).

Actors engaged and their maturity (anonymity threshold applied), the action inventory (roll-ups,
timeline, indicators) and the quantified COP commitments, for one territory, from the knowledge
base named by ``kb`` or ``PLANECO_KB``. Every number shown is registered in the report's CSV
appendix (:class:`~planeco_kernel.reports.figures.FigureRegister`), so ``planeco reports run``
can say what changed since the previous run.
"""

from __future__ import annotations

from pathlib import Path

from planeco_kernel import fmt

SECTION_ACTORS = "Engagement des acteurs"
SECTION_ACTIONS = "Plan d'actions"
SECTION_COP = "Engagements COP"
SOURCE_DECLARED = "déclarations des structures (base de connaissances planeco)"


def _show_html(text: str) -> None:
    from IPython.display import HTML, display

    display(HTML(text))


def _md(text: str) -> None:
    from IPython.display import Markdown, display

    display(Markdown(text))


class EngagementReport:
    """Sections of the engagement report of ``territory``.

    Parameters
    ----------
    territory, level
        The territory (code, SIREN or name, as the territory model resolves it).
    kb
        Knowledge-base folder (``""``: ``PLANECO_KB``); without one the report says so.
    year
        Assessment year (None: each actor's latest).
    output_dir
        Where the CSV appendix is written.
    """

    def __init__(self, territory: str, level: str | None = None, *, kb: str = "", year: int | None = None,
                 output_dir: str = ".", stamp: dict | None = None):
        from planeco_kernel.assessment import load_referentiel, load_toolbox
        from planeco_kernel.assessment.levers import load_levers
        from planeco_kernel.errors import PlanecoError
        from planeco_kernel.reports.figures import FigureRegister
        from planeco_kernel.territory import load_model

        self.model = load_model()
        self.t = self.model.resolve(territory, level=level).territory
        self.year = year
        self.output_dir = Path(output_dir)
        self.run_stamp = stamp or {}
        self.figures = FigureRegister()
        self.ref = load_referentiel()
        self.toolbox = load_toolbox(self.ref)
        self.levers = load_levers()
        self.kb = None
        self.kb_problem = ""
        try:
            from planeco_kernel.knowledge import open_kb

            self.kb = open_kb(kb or None)
        except PlanecoError as exc:
            self.kb_problem = str(exc)
        self.assessments: list = []
        self.sheets: list = []
        self.problems: list[str] = []
        if self.kb is not None:
            from planeco_kernel.actions import load_all
            from planeco_kernel.actions.views import filter_sheets
            from planeco_kernel.assessment.store import all_assessments

            self.assessments, p1 = all_assessments(self.kb, self.ref)
            sheets, p2 = load_all(self.kb, self.levers)
            self.sheets = filter_sheets(sheets, territory=self.t.code, model=self.model)
            self.problems = p1 + p2

    def title(self) -> None:
        _md(f"# Engagement des acteurs — {self.t.name}\n\n**{self.t.level_label}**, code {self.t.code}. "
            "Auto-évaluations des entreprises, associations et établissements publics, plan d'actions et engagements "
            "chiffrés pour la feuille de route COP.")
        if self.kb is None:
            _md(f"> Aucune base de connaissances n'est disponible : ce rapport ne contient donc aucune donnée "
                f"d'engagement. ({self.kb_problem})")

    def actors(self) -> None:
        """Actors engaged, maturity distribution per field, trend, most chosen actions."""
        from planeco_kernel.apps.engagement_html import render_territory
        from planeco_kernel.assessment import territory_view

        view = territory_view(self.ref, self.assessments, self.t.code, name=self.t.name, model=self.model,
                              year=self.year, toolbox=self.toolbox)
        _md("## Engagement des acteurs")
        _show_html(render_territory(view))
        self.figures.add(SECTION_ACTORS, "structures engagées", self.t, view.actors, "structures", view.year, SOURCE_DECLARED)
        if view.shown:
            self.figures.add(SECTION_ACTORS, "score global médian", self.t, view.overall_median, "%", view.year, SOURCE_DECLARED)
            for fid, med in view.median_percent.items():
                self.figures.add(SECTION_ACTORS, f"score médian — {view.field_titles[fid]}", self.t, med, "%", view.year,
                                 SOURCE_DECLARED)

    def actions(self) -> None:
        """The action inventory: roll-ups by sector and lever, timeline, indicators."""
        from planeco_kernel.actions.views import (
            indicator_progress,
            rollup,
            timeline_svg,
        )
        from planeco_kernel.apps.engagement_html import _markup, render_frame, snippet

        _md("## Plan d'actions")
        if not self.sheets:
            _md("Aucune action enregistrée pour ce territoire.")
            return
        _md(f"{fmt.plural(len(self.sheets), 'action')} dans l'inventaire du territoire "
            f"(dont {fmt.integer(sum(s.status == 'realise' for s in self.sheets))} réalisées).")
        self.figures.add(SECTION_ACTIONS, "actions", self.t, len(self.sheets), "actions", None, SOURCE_DECLARED)
        _show_html(render_frame(rollup(self.sheets, "secteur"), "Par secteur PCAET"))
        _show_html(render_frame(rollup(self.sheets, "levier", levers=self.levers), "Par levier COP"))
        _show_html(snippet('<div role="img" aria-label="Calendrier des actions">{{ svg }}</div>',
                           svg=_markup(timeline_svg(self.sheets, title="Calendrier des actions (couleur : statut)"))))
        prog = indicator_progress(self.sheets)
        if len(prog):
            _show_html(render_frame(prog, "Avancement des indicateurs vers leur cible"))

    def commitments(self) -> None:
        """The quantified commitments (plans and actors) that roll up into the COP roadmap."""
        from planeco_kernel.actions import commitments
        from planeco_kernel.apps.engagement_html import render_frame

        _md("## Engagements chiffrés pour la feuille de route COP")
        if self.kb is None:
            _md("Aucun engagement (pas de base de connaissances).")
            return
        df = commitments(self.kb, self.t.code, model=self.model, levers=self.levers)
        if df.empty:
            _md("Aucun engagement chiffré pour ce territoire.")
            return
        kt = df[df["unit"] == "ktCO2e"].groupby("lever_id")["quantity"].sum()
        for lever, q in kt.items():
            name = self.levers[lever].name if lever in self.levers else lever
            self.figures.add(SECTION_COP, f"engagements — {name}", self.t, float(q), "ktCO2e", None, SOURCE_DECLARED)
        shown = df.rename(columns={"territory_code": "territoire", "lever_id": "levier", "quantity": "quantité",
                                   "unit": "unité", "year": "année", "actor": "porteur", "actor_type": "type",
                                   "source": "origine", "action_id": "action"})
        _show_html(render_frame(shown, "Engagements par porteur",
                                note=f"Total : {fmt.number(float(kt.sum()), None)} ktCO2e d'émissions évitées déclarées."))

    def sources(self) -> None:
        from planeco_kernel.assessment.levers import SOURCE_LABEL

        head = ""
        if self.kb is not None:
            from planeco_kernel.knowledge.gitstore import head_sha

            head = head_sha(self.kb.root).decode()[:12]
        _md("## Sources et méthode\n\n"
            f"- Auto-évaluations : réponses déclaratives des structures au référentiel « {self.ref.title} » "
            f"(version {self.ref.version}, {self.ref.owner}) ; aucune statistique de score pour moins de 5 structures.\n"
            "- Plan d'actions et engagements : fiches actions et engagements déclarés par leurs porteurs.\n"
            f"- Leviers COP : {SOURCE_LABEL}.\n"
            + (f"- Base de connaissances : commit {head}.\n" if head else "")
            + "".join(f"- Fichier ignoré : {p}\n" for p in self.problems))

    def appendix(self) -> Path:
        from planeco_kernel.reports.figures import APPENDIX_FILE

        path = self.figures.to_csv(self.output_dir / APPENDIX_FILE)
        _md(f"## Annexe\n\nLes {fmt.number(len(self.figures))} chiffres de ce rapport sont dans "
            f"[{APPENDIX_FILE}]({APPENDIX_FILE}).")
        return path
