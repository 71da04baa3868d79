"""The « Auto-évaluation » app: an actor fills the référentiel field by field, saved as it goes.

The notebook ``apps/auto_evaluation.ipynb`` only calls :func:`show`. The respondent is the
knowledge base's identity (``JUPYTERHUB_USER`` behind JupyterHub, else the local identity);
every « Enregistrer » is one commit of the actor's answers file
(:func:`planeco_kernel.assessment.store.save_assessment`), so closing the page loses at most the
field being filled, and reopening it resumes where the actor stopped. Results: radar, scores
per field with the method, position among comparable structures (from 5 of them), recommended
actions with optional commitments, and a printable one-page summary (HTML, and PDF when a
Chromium is installed).
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import ipywidgets as W

from planeco_kernel import fmt
from planeco_kernel.apps import engagement_html as H

NC = "nc"
CSS = "planeco-ae"


def _cls(widget: W.Widget, *names: str) -> W.Widget:
    for n in names:
        widget.add_class(f"{CSS}-{n}")
    return widget


class AutoEvaluation:
    """The app's widgets and behaviour.

    Parameters
    ----------
    kb
        Knowledge base (default ``PLANECO_KB``).
    referentiel, toolbox
        Paths of an adapted référentiel / toolbox (default: planeco's own).
    year
        Assessment year (default: the current year).
    model
        Territory model (default: loaded from the bundle when needed).
    """

    def __init__(self, kb: Any = None, *, referentiel: Any = None, toolbox: Any = None, year: int | None = None,
                 model: Any = None):
        from planeco_kernel.assessment import (
            load_referentiel,
            load_toolbox,
            new_assessment,
            store,
        )
        from planeco_kernel.assessment.answers import ActorProfile
        from planeco_kernel.knowledge import open_kb

        self.kb = kb if hasattr(kb, "root") else open_kb(kb)
        self.ref = load_referentiel(referentiel)
        self.toolbox = load_toolbox(self.ref, toolbox)
        self.year = year or dt.date.today().year
        self._model = model
        self.member = self.kb.identity()
        stored = store.load_assessment(self.kb, self.ref, self.member.id, self.year)
        self.resumed = stored is not None
        self.assessment = stored or new_assessment(self.ref, ActorProfile(
            self.member.id, self.member.organisation or self.member.name, "", "", self.member.territory), self.year)
        self._build()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        a = self.assessment
        self.status = _cls(W.HTML(), "status")
        ident = W.HTML(H.snippet("<p>Vous répondez en tant que <strong>{{ name }}</strong> (identité de la base de "
                                 "connaissances) — auto-évaluation {{ year }}.</p>", name=self.member.name, year=self.year))
        _cls(ident, "identity")
        self.name = _cls(W.Text(value=a.actor.name, description="Structure", layout=W.Layout(width="32em")), "name")
        self.type = _cls(W.Dropdown(options=[("— choisir —", "")] + [(v, k) for k, v in self.ref.actor_types.items()],
                                    value=a.actor.type if a.actor.type in self.ref.actor_types else "", description="Type"), "type")
        self.size = _cls(W.Dropdown(options=[("— choisir —", "")] + [(v, k) for k, v in self.ref.size_classes.items()],
                                    value=a.actor.size_class if a.actor.size_class in self.ref.size_classes else "",
                                    description="Taille"), "size")
        self.territory = _cls(W.Text(value=a.actor.territory, description="Commune", placeholder="code INSEE", style={"description_width": "initial"}), "territory")
        self.profile_save = _cls(W.Button(description="Enregistrer le profil", button_style="primary", layout=W.Layout(width="auto")), "profile-save")
        self.profile_save.on_click(lambda _b: self.save_profile())
        profile = W.VBox([W.HTML("<h2>Votre structure</h2>"), self.name, self.type, self.size, self.territory,
                          self.profile_save])
        _cls(profile, "profile")

        self.nav = _cls(W.ToggleButtons(options=[(f.title, f.id) for f in self.ref.fields]), "nav")
        self.nav.observe(lambda ch: self._show_field(ch["new"]), names="value")
        self.field_box = _cls(W.VBox(), "field")
        self.crit_widgets: dict[str, tuple[W.Dropdown, W.Text]] = {}
        self.field_panels = {f.id: self._field_panel(f) for f in self.ref.fields}
        self.results = _cls(W.HTML(), "results-html")
        self.commit_box = _cls(W.VBox(), "commitments")
        self.summary_links = _cls(W.HTML(), "summary-links")
        self.summary_btn = _cls(W.Button(description="Résumé imprimable (HTML, PDF)", layout=W.Layout(width="auto")), "summary")
        self.summary_btn.on_click(lambda _b: self.make_summary())
        self.show_results_btn = _cls(W.Button(description="Voir mes résultats", button_style="info", layout=W.Layout(width="auto")), "show-results")
        self.show_results_btn.on_click(lambda _b: self.refresh_results())
        results = W.VBox([self.show_results_btn, self.results, self.commit_box, self.summary_btn, self.summary_links])
        self.questionnaire = W.VBox([W.HTML("<h2>Questionnaire, champ par champ</h2>"), self.nav, self.field_box])
        self.widget = _cls(W.VBox([W.HTML("<h1 class=\"planeco-h1\">Auto-évaluation de la transition écologique</h1>"),
                                   ident, self.status, profile, self.questionnaire, results]), "app")
        self.widget.add_class("planeco-app")
        self._apply_profile_state()
        first = self._first_incomplete()
        self.nav.value = first
        self._show_field(first)
        if self.resumed:
            s = self._score()
            self._say("ok", f"Reprise de votre auto-évaluation {self.year} : {s.answered} critères renseignés sur {s.total}.")
            self.refresh_results()

    def _field_panel(self, f) -> W.VBox:
        rows: list[W.Widget] = [W.HTML(H.snippet("<h3>{{ t }}</h3>", t=f.title))]
        for c in f.criteria:
            ans = self.assessment.answers.get(c.id)
            value: Any = None
            if ans is not None:
                value = NC if ans.not_concerned else ans.level
            opts = [("— à renseigner —", None)] + [(f"{lv} — {txt}", lv) for lv, txt in sorted(c.ladder.items())]
            opts.append(("Non concerné", NC))
            dd = _cls(W.Dropdown(options=opts, value=value, layout=W.Layout(width="46em")), "crit", f"crit-{c.id}")
            ev = _cls(W.Text(value=ans.evidence if ans else "", placeholder="Justificatif : texte libre ou lien",
                             layout=W.Layout(width="46em")), "evidence", f"evidence-{c.id}")
            self.crit_widgets[c.id] = (dd, ev)
            box = W.VBox([W.HTML(H.snippet("<p><strong>{{ t }}</strong></p>", t=c.title)), dd, ev])
            rows.append(_cls(box, "criterion"))
        save = _cls(W.Button(description="Enregistrer ce champ et continuer", button_style="primary", layout=W.Layout(width="auto")), "save", f"save-{f.id}")
        save.on_click(lambda _b, fid=f.id: self.save_field(fid))
        rows.append(save)
        return W.VBox(rows)

    # ------------------------------------------------------------------ behaviour
    def _say(self, kind: str, title: str, items: list[str] | None = None) -> None:
        self.status.value = H.render_message(kind, title, items)

    def _apply_profile_state(self) -> None:
        ready = bool(self.assessment.actor.type and self.assessment.actor.size_class)
        self.questionnaire.layout.display = None if ready else "none"
        if not ready:
            self._say("ok", "Commencez par décrire votre structure : le questionnaire s'adapte à son type et à sa taille.")

    def _show_field(self, fid: str) -> None:
        panel = self.field_panels[fid]
        a = self.assessment.actor
        for c in self.ref.get_field(fid).criteria:
            box = next(b for b in panel.children if isinstance(b, W.VBox) and self.crit_widgets[c.id][0] in b.children)
            box.layout.display = None if not a.type or c.applies(a.type, a.size_class) else "none"
        self.field_box.children = [panel]

    def _first_incomplete(self) -> str:
        a = self.assessment
        for f in self.ref.fields:
            for c in f.criteria:
                if c.applies(a.actor.type, a.actor.size_class) and not (a.answers.get(c.id) and a.answers[c.id].answered):
                    return f.id
        return self.ref.fields[0].id

    def _save(self, assessment, note: str) -> bool:
        from planeco_kernel.assessment import store
        from planeco_kernel.errors import PlanecoError

        try:
            self.assessment = store.save_assessment(self.kb, self.ref, assessment, note=note)
        except PlanecoError as exc:
            problems = getattr(exc, "problems", None) or [str(exc)]
            self._say("error", "Rien n'a été enregistré : corrigez ces points puis réessayez.", problems)
            return False
        return True

    def save_profile(self) -> None:
        from dataclasses import replace

        from planeco_kernel.assessment.answers import check_profile

        profile = replace(self.assessment.actor, name=self.name.value.strip(), type=self.type.value,
                          size_class=self.size.value, territory=self.territory.value.strip())
        problems = check_profile(self.ref, profile)
        if self.territory.value.strip() and not problems:
            try:
                profile = replace(profile, territory=self._territory_model().resolve(profile.territory, level="commune").territory.code)
            except LookupError as exc:
                problems.append(str(exc))
        if problems:
            self._say("error", "Profil non enregistré :", problems)
            return
        if self._save(replace(self.assessment, actor=profile), "profil"):
            self._say("ok", "Profil enregistré. Répondez maintenant champ par champ ; chaque champ est enregistré dès que vous le validez.")
            self._apply_profile_state()
            self._show_field(self.nav.value)

    def _territory_model(self):
        if self._model is None:
            from planeco_kernel.territory import load_model

            self._model = load_model()
        return self._model

    def save_field(self, fid: str) -> None:
        from planeco_kernel.assessment import Answer

        new = {}
        for c in self.ref.get_field(fid).criteria:
            dd, ev = self.crit_widgets[c.id]
            if dd.value is None and not ev.value.strip():
                continue
            new[c.id] = Answer(None, True, ev.value.strip()) if dd.value == NC else Answer(dd.value, False, ev.value.strip())
        title = self.ref.get_field(fid).title
        if not self._save(self.assessment.with_answers(new), title):
            return
        s = self._score()
        self._say("ok", f"Champ « {title} » enregistré ({s.answered} critères renseignés sur {s.total}).")
        ids = [f.id for f in self.ref.fields]
        nxt = self._first_incomplete()
        if nxt == fid and ids.index(fid) + 1 < len(ids):
            nxt = ids[ids.index(fid) + 1]
        self.nav.value = nxt
        self.refresh_results()

    def _score(self):
        from planeco_kernel.assessment import score

        a = self.assessment
        return score(self.ref, a.answers, a.actor.type, a.actor.size_class)

    def context(self) -> dict[str, Any]:
        """The results context (scores, comparison, recommendations) for the templates."""
        from planeco_kernel.assessment import peer_comparison, recommend
        from planeco_kernel.assessment.levers import load_levers
        from planeco_kernel.assessment.store import all_assessments
        from planeco_kernel.assessment.toolbox import kb_links
        from planeco_kernel.errors import PlanecoError

        a = self.assessment
        s = self._score()
        comparison = None
        everyone, _ = all_assessments(self.kb, self.ref)
        history = [x for x in everyone if x.actor.id == a.actor.id]
        if a.actor.territory:
            model = self._territory_model()
            try:
                t = model.get(a.actor.territory)
                area = t.parent("epci") or t
            except LookupError:
                area = None
            if area is not None:
                comparison = peer_comparison(self.ref, everyone, a, area.code, model, territory_name=area.name)
        recs = recommend(self.ref, self.toolbox, a, s)
        try:
            levers = load_levers()
        except PlanecoError:
            levers = {}
        links = {r.action.id: [p.title for p in kb_links(self.kb, r.action, self.member.id)] for r in recs}
        self._recs = recs
        self._levers = levers
        return H.results_context(self.ref, a, s, comparison, recs, levers=levers, links=links, history=history)

    def refresh_results(self) -> None:
        if not (self.assessment.actor.type and self.assessment.actor.size_class):
            return
        self.results.value = H.render_results(self.context())
        self._build_commitments()

    def _build_commitments(self) -> None:
        chosen = {c.action: c for c in self.assessment.chosen_actions}
        rows: list[W.Widget] = [W.HTML(
            "<h3>Vos engagements</h3><p>Cochez les actions que votre structure s'engage à mener. Une quantité "
            "(émissions évitées, en ktCO2e) rattachée à un levier COP est publiée avec le nom de votre structure "
            "dans le plan du territoire ; vos scores, eux, ne le sont jamais.</p>")]
        self._commit_widgets = {}
        actions = [r.action for r in getattr(self, "_recs", [])]
        actions += [self.toolbox.get(k) for k in chosen if self.toolbox.get(k) and self.toolbox.get(k) not in actions]
        for act in actions:
            c = chosen.get(act.id)
            cb = _cls(W.Checkbox(value=c is not None, description=act.title, indent=False,
                                 layout=W.Layout(width="40em")), "engage", f"engage-{act.id}")
            widgets: list[W.Widget] = [cb]
            qty = year = None
            if act.lever:
                qty = _cls(W.FloatText(value=c.quantity if c and c.quantity is not None else 0.0,
                                       description="ktCO2e", layout=W.Layout(width="14em")), "qty", f"qty-{act.id}")
                year = _cls(W.BoundedIntText(value=c.year if c and c.year else 2030, min=2024, max=2050,
                                             description="année", layout=W.Layout(width="12em")), "year")
                widgets += [qty, year]
            self._commit_widgets[act.id] = (cb, qty, year, act)
            rows.append(W.HBox(widgets))
        save = _cls(W.Button(description="Enregistrer mes engagements", button_style="success", layout=W.Layout(width="auto")), "commit-save")
        save.on_click(lambda _b: self.save_commitments())
        rows.append(save)
        self.commit_box.children = rows if actions else []

    def save_commitments(self) -> None:
        from dataclasses import replace

        from planeco_kernel.assessment.answers import ChosenAction

        chosen = []
        for aid, (cb, qty, year, act) in self._commit_widgets.items():
            if not cb.value:
                continue
            if act.lever and qty is not None and qty.value:
                chosen.append(ChosenAction(aid, act.lever, float(qty.value), "ktCO2e", int(year.value)))
            else:
                chosen.append(ChosenAction(aid, act.lever))
        if self._save(replace(self.assessment, chosen_actions=chosen), "engagements"):
            self._say("ok", f"Engagements enregistrés : {fmt.plural(len(chosen), 'action')}.")
            self.refresh_results()

    def summary_html(self) -> str:
        """The one-page summary as a complete HTML document."""
        return H.render_summary(self.context(), respondent=self.member.name)

    def make_summary(self) -> None:
        import subprocess
        import tempfile
        from pathlib import Path

        from planeco_kernel.reports.export import html_to_pdf, pdf_converter

        page = self.summary_html()
        name = f"auto-evaluation-{self.year}-{self.member.id}"
        links = [(f"{name}.html", "text/html", page.encode("utf-8"), "Télécharger le résumé (HTML)")]
        if pdf_converter():
            with tempfile.TemporaryDirectory() as d:
                src = Path(d) / "resume.html"
                src.write_text(page, "utf-8")
                try:
                    pdf = html_to_pdf(src, Path(d) / "resume.pdf").read_bytes()
                    links.append((f"{name}.pdf", "application/pdf", pdf, "Télécharger le résumé (PDF)"))
                except (RuntimeError, OSError, subprocess.SubprocessError) as exc:  # the HTML prints to PDF anyway
                    self._say("error", f"PDF non produit ({type(exc).__name__}) : imprimez le résumé HTML depuis votre navigateur.")
        self.summary_links.value = H.snippet(
            '<p class="planeco-ae-downloads">{% for f, mime, b64, label in links %}'
            '<a download="{{ f }}" href="data:{{ mime }};base64,{{ b64 }}">{{ label }}</a>{% if not loop.last %} · {% endif %}'
            "{% endfor %}</p>", links=[(f, m, base64.b64encode(b).decode(), lab) for f, m, b, lab in links])


def show(**kw: Any) -> AutoEvaluation | None:
    """Display the app; return it (None with a French explanation when it cannot start).

    With preheated Voilà kernels the notebook runs before anyone visits: the slow set-up
    (référentiel, territory model, matplotlib) happens then, while the visitor's identity and
    stored answers are read only once the visit arrives (:func:`~planeco_kernel.apps.hosting.show_when_visited`).
    """
    from planeco_kernel.apps.hosting import show_when_visited

    def preload() -> None:
        from planeco_kernel.assessment import load_referentiel
        from planeco_kernel.assessment.charts import radar_svg

        ref = load_referentiel(kw.get("referentiel"))
        radar_svg([f.title for f in ref.fields], [0.0] * len(ref.fields))  # warm matplotlib before the visit
        if kw.get("model") is None:
            from planeco_kernel.territory import load_model

            kw["model"] = load_model()

    return show_when_visited(css=CSS, loading="Chargement de l'auto-évaluation…",
                             unavailable="L'auto-évaluation n'est pas disponible sur cette installation.",
                             preload=preload, build=lambda: AutoEvaluation(**kw))
