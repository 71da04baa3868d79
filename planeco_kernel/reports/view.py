"""The diagnostic report's view-model: every number, sentence and chart of each section, no display.

:class:`DiagnosticView` turns a :class:`~planeco_kernel.reports.diagnostic.Diagnostic` (and the
indicator engine's comparison) into plain section objects — tables as rows of French-formatted
text, charts as specifications (labels, values, title), sentences — and registers every number it
shows in the diagnostic's :class:`~planeco_kernel.reports.figures.FigureRegister` (the CSV
appendix). It needs no Jupyter kernel: tests call it directly. The renderer
(:mod:`planeco_kernel.reports.notebook`) turns the sections into Markdown, HTML and PNG through
the templates of :mod:`planeco_kernel.apps.templates` and the charts of
:mod:`planeco_kernel.charts`.

Each section is computed once (the result is kept): calling it again returns the same object and
does not register its figures twice.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from planeco_kernel import fmt
from planeco_kernel.reports import changes as _changes
from planeco_kernel.reports import diagnostic as _diag
from planeco_kernel.reports.figures import APPENDIX_FILE, read_csv
from planeco_kernel.reports.sections import (
    CHANGES_SHOWN, LEVEL_PLURAL, PARAMETER_LABELS, BarChart, Changes, Land, MapChart, Members, PeerSection, Position, SeriesChart,
    Sources, Table, Themes, ThemeSection, Title, bar_label, date_fr, is_ratio, param_value, source_label,
    source_short,
)

if TYPE_CHECKING:
    import pandas as pd

class DiagnosticView:
    """The numbers and figures of the diagnostic report of one territory, section by section.

    Parameters
    ----------
    diagnostic
        What :func:`planeco_kernel.reports.diagnostic.compute` returned.
    previous_figures
        The previous run's appendix (CSV path) for "what changed"; empty for none.
    previous_sources
        ``{source: version}`` of the previous run.
    stamp
        What the runner knows about this run (template, hashes, run id).
    parameters
        The template's parameters, shown in the stamp.
    cube
        The indicator cube (default: :func:`planeco_kernel.indicators.cube.load_cube`, loaded on
        first use; a bundle without indicators is said in the report, not raised).
    """

    def __init__(self, diagnostic: _diag.Diagnostic, *, previous_figures: str = "",
                 previous_sources: dict[str, str] | None = None, stamp: dict[str, Any] | None = None,
                 parameters: dict[str, Any] | None = None, cube: Any = None):
        self.d = diagnostic
        self.t = diagnostic.territory
        self.model = diagnostic.model
        self.previous_figures = previous_figures
        self.previous_sources = previous_sources
        self.run_stamp = dict(stamp or {})
        self.parameters = dict(parameters or {})
        self._cube = cube
        self._cmp: tuple[Any, Any, str | None] | None = None
        self._done: dict[tuple, Any] = {}

    @classmethod
    def compute(cls, territory: str, level: str | None = None, *, vintage: int | None = None,
                peer_group: str = "auto", **kwargs: Any) -> DiagnosticView:
        """Compute the diagnostic (see :func:`~planeco_kernel.reports.diagnostic.compute`) and wrap it."""
        return cls(_diag.compute(territory, level, vintage=vintage, peer_group=peer_group), **kwargs)

    def _once(self, key: tuple, build):
        if key not in self._done:
            self._done[key] = build()
        return self._done[key]

    # -- indicator engine ------------------------------------------------------------------------
    def comparison(self) -> tuple[Any, Any, str | None]:
        """``(cube, comparison, None)``, or ``(None, None, reason)`` when the bundle has no indicators."""
        if self._cmp is None:
            from planeco_kernel.errors import PlanecoError
            from planeco_kernel.indicators.comparison import compare
            from planeco_kernel.indicators.cube import load_cube

            try:
                cube = self._cube if self._cube is not None else load_cube()
            except (PlanecoError, FileNotFoundError) as exc:  # no indicator data in this bundle: said in the report
                self._cmp = (None, None, str(exc))
            else:
                self._cmp = (cube, compare(self.t.code, self.t.level, cube=cube), None)
        return self._cmp

    # -- sections ---------------------------------------------------------------------------------
    def title(self, heading: str = "Diagnostic territorial") -> Title:
        t = self.t
        parents = " · ".join(p["territory"].name if p["territory"].level == "france"
                             else f"{p['territory'].level_label} : {p['territory'].name}" for p in self.d.parents)
        return Title(heading, t.name, t.level_label, t.nature or "", t.code, parents, list(self.d.notes))

    def changes(self) -> Changes:
        """« Ce qui a changé » since the previous run of this territory's report."""
        def build() -> Changes:
            t = self.t
            if not self.previous_figures or not Path(self.previous_figures).is_file():
                return Changes(True, [], 0)
            previous = read_csv(self.previous_figures)
            found = _changes.compare(list(self.d.figures), previous, level=t.level, code=t.code,
                                     current_sources=_diag.source_versions(self.model.manifest),
                                     previous_sources=self.previous_sources)
            return Changes(False, [c.text for c in found[:CHANGES_SHOWN]], max(0, len(found) - CHANGES_SHOWN))
        return self._once(("changes",), build)

    def key_figures(self) -> Table:
        d, t = self.d, self.t
        rows = [["Population municipale", f"{fmt.number(d.population[d.vintage])} hab", str(d.vintage)],
                [f"Évolution annuelle moyenne {d.first_year}-{d.vintage}", fmt.rate(d.growth),
                 f"{d.first_year}-{d.vintage}"],
                ["Superficie", f"{fmt.number(d.area_km2, 1)} km²" if d.area_km2 else "non disponible", ""],
                ["Densité", f"{fmt.number(d.density, 1)} hab/km²" if d.density else "non disponible", str(d.vintage)]]
        if t.level != "commune":
            rows.append(["Communes membres", fmt.number(t.members_count), ""])
        return Table(["Indicateur", "Valeur", "Année"], rows, frozenset({1}))

    def demography(self) -> tuple[SeriesChart, str]:
        return self.population_chart(), self.growth_sentence()

    def population_chart(self) -> SeriesChart:
        return SeriesChart(dict(self.d.population), f"Population municipale de {self.t.name}")

    def growth_sentence(self) -> str:
        d, t = self.d, self.t
        if d.growth is None:
            return "L'évolution de la population ne peut pas être calculée (une seule année disponible)."
        trend = "augmente" if d.growth > 0.05 else "diminue" if d.growth < -0.05 else "est stable"
        text = (f"Entre {d.first_year} et {d.vintage}, la population de {t.name} {trend} "
                f"({fmt.rate(d.growth)} en moyenne")
        ref = next((p for p in reversed(d.parents) if p["territory"].level == "departement"), None)
        if ref is not None and ref["growth"] is not None:
            gap = d.growth - ref["growth"]
            faster = "au même rythme que" if abs(gap) < 0.005 else "plus vite que" if gap > 0 else "moins vite que"
            text += (f" ; {ref['territory'].name} : {fmt.rate(ref['growth'])}, la population évolue donc {faster} "
                     "le département")
        return text + ")."

    def themes(self, only: list[str] | None = None) -> Themes:
        """One section per indicator theme with data; themes without data and why, for the annex."""
        return self._once(("themes", tuple(only) if only is not None else None), lambda: self._themes(only))

    def _themes(self, only: list[str] | None) -> Themes:
        cube, comp, error = self.comparison()
        if comp is None:
            return Themes(error=error or "indicateurs non chargés")
        sections: list[ThemeSection] = []
        missing: dict[str, list] = {}
        for theme_id, label in cube.catalogue.themes.items():
            if only is not None and theme_id not in only:
                continue
            items = [i for i in comp.indicators if i.theme == theme_id]
            shown = [i for i in items if i.available]
            if not shown:
                if items:
                    missing[label] = items
                continue
            series = growth = None
            if theme_id == "demographie":
                series, growth = self.population_chart(), self.growth_sentence()
            table = self._theme_table(label, shown)
            lead = next((i for i in shown if is_ratio(i.unit)), None)
            bars = [] if lead is None else [(bar_label(self.t.name, self.t.level), lead.value)] + [
                (bar_label(g.name or g.code, g.group), g.value) for g in lead.groups
                if g.group != "peers" and g.value is not None]
            chart = (BarChart([b[0] for b in bars], [b[1] for b in bars], f"{lead.label} ({lead.year})", lead.unit,
                              highlight=0) if len(bars) > 1 and lead is not None else None)
            by_source: dict[str, list[str]] = {}
            for i in items:
                if not i.available:
                    by_source.setdefault(source_short(cube, i.source), []).append(i.label)
            sections.append(ThemeSection(label, series, growth, table, chart,
                                         [i.sentence for i in shown if i.sentence],
                                         [(", ".join(labels), src) for src, labels in by_source.items()]))
        causes: dict[str, str] = {}
        for i in comp.indicators:
            if not i.available and (only is None or i.theme in only):
                causes.setdefault(source_short(cube, i.source), i.reason or "source absente")
        return Themes(None, sections,
                      [(label, sorted({source_short(cube, i.source) for i in its})) for label, its in missing.items()],
                      causes)

    def _theme_table(self, label: str, shown: list) -> Table:
        reg, t = self.d.figures, self.t
        rows = []
        for i in shown:
            src = f"{i.source} ({i.vintage})" if i.vintage else i.source
            reg.add(label, i.label, t, i.value, i.unit, i.year, src)
            for g in i.groups:
                who = SimpleNamespace(code=g.code, level=g.group, name=g.name or g.code)
                reg.add(label, i.label, who, g.value, i.unit, i.year,
                        src if g.group != "peers" else f"{src}, médiane des communes comparables")
            evo = (i.evolution or {}).get("text", fmt.MISSING)
            if i.evolution:
                e = i.evolution
                reg.add(label, f"{i.label} : évolution {e['from_year']}-{e['to_year']}", t, e.get("difference"),
                        i.unit, e["to_year"], src)
                if e.get("annual_growth_pct") is not None:
                    reg.add(label, f"{i.label} : évolution annuelle {e['from_year']}-{e['to_year']}", t,
                            e["annual_growth_pct"], "%", e["to_year"], src)
            rows.append([i.label + (" (estimation)" if i.estimate else ""), i.value_text, str(i.year or ""), evo])
        return Table(["Indicateur", "Valeur", "Année", "Évolution"], rows, frozenset({1}))

    def land(self) -> Land:
        d, t = self.d, self.t
        if not d.area_km2:
            return Land(None, [])
        text = (f"{t.name} couvre {fmt.number(d.area_km2, 1)} km², soit une densité de "
                f"{fmt.number(d.density, 1)} habitants par km² en {d.vintage}.")
        densest: list[tuple[str, str]] = []
        if not d.members.empty:
            top = d.members.dropna(subset=["densite"]).sort_values("densite", ascending=False).head(5)
            densest = [(r.nom, f"{fmt.number(r.densite)} hab/km²") for r in top.itertuples()]
        return Land(text, densest)

    def position(self) -> Position:
        d, t = self.d, self.t
        if not d.parents:
            return Position(t.name, None)
        rows = [[p["territory"].level_label, p["territory"].name, fmt.number(p["population"]),
                 fmt.percent(p["share"], 2), fmt.rate(p["growth"])] for p in d.parents]
        rows.insert(0, [t.level_label, t.name, fmt.number(d.population[d.vintage]), "100,00 %", fmt.rate(d.growth)])
        return Position(t.name, Table(["Niveau", "Territoire", f"Population {d.vintage}", f"Part de {t.name}",
                                       f"Évolution {d.first_year}-{d.vintage}"], rows, frozenset({2, 3, 4})))

    def peers(self, limit: int = 15) -> list[PeerSection]:
        """The commune's catalogue peer group (communes only), then the same-level territories of the parent."""
        def build() -> list[PeerSection]:
            out = []
            if self.t.level == "commune":
                cat = self._catalogue_peers(limit)
                if cat is not None:
                    out.append(cat)
            out.append(self._parent_peers(limit))
            return out
        return self._once(("peers", limit), build)

    def _catalogue_peers(self, limit: int) -> PeerSection | None:
        """« Parmi les communes comparables »: the commune's peer group of the indicator catalogue."""
        d, t = self.d, self.t
        cube, _comp, _err = self.comparison()
        if cube is None:
            return None
        from planeco_kernel.indicators.comparison import comparator

        tab = comparator(cube).tables("commune")
        i = tab.row.get(t.code)
        keys = tab.groups.get("peers")
        if i is None or keys is None or keys[i] is None:  # no peer group for this commune: the section is left out
            return None
        key = keys[i]
        pool = [c for c, r in tab.row.items() if keys[r] == key]
        label = tab.peer_labels[i] if tab.peer_labels is not None else ""
        df = _diag.peer_table(self.model, "commune", pool, d.vintage, d.first_year, d.vintage)
        reg = d.figures
        section = "Parmi les communes comparables"
        who = "communes comparables"  # the group (size, density) is named in the text above
        intro = (f"Communes de France de même taille et de même densité que {t.name} ({label}), "
                 "selon le groupe de comparaison du catalogue d'indicateurs.")
        chart = self._peer_chart(df, who, limit)
        row = df.loc[df["code"] == t.code]
        med = df["evolution_annuelle"].median()
        summary = None
        if not row.empty:
            rp, rg = row["rang_population"].iloc[0], row["rang_evolution"].iloc[0]
            reg.add(section, f"Rang par population parmi {len(df)} communes comparables", t, int(rp), "rang",
                    d.vintage, d.pop_source)
            if rg == rg:
                reg.add(section, f"Rang par évolution annuelle parmi {len(df)} communes comparables", t, int(rg),
                        "rang", d.vintage, d.pop_source)
            summary = (f"Parmi ces {fmt.number(len(df))} communes, {t.name} est au rang {fmt.number(rp)} par la "
                       "population"
                       + (f" et au rang {fmt.number(rg)} par l'évolution annuelle (médiane du groupe : "
                          f"{fmt.rate(med)})." if rg == rg else "."))
        for r in df.itertuples():
            if r.code != t.code:
                reg.add(section, f"Évolution annuelle moyenne {d.first_year}-{d.vintage}",
                        self.model.get(r.code, "commune"), r.evolution_annuelle, "%", d.vintage, d.pop_source)
        return PeerSection(section, intro, chart, summary)

    def _peer_chart(self, peers: pd.DataFrame, who: str, limit: int) -> BarChart:
        d, t = self.d, self.t
        df = peers.dropna(subset=["evolution_annuelle"]).sort_values("evolution_annuelle", ascending=False)
        me = df.index[df["code"] == t.code]
        shown = df.head(limit)
        if len(me) and me[0] not in shown.index:
            import pandas as pd

            shown = pd.concat([shown, df.loc[me]])
        labels = [f"▶ {n}" if c == t.code else n for n, c in zip(shown["nom"], shown["code"])]
        hi = list(shown["code"]).index(t.code) if t.code in list(shown["code"]) else None
        first = "premières" if who.split()[0] in ("communes", "intercommunalités", "régions") else "premiers"
        part = (f"les {fmt.number(limit)} {first} sur {fmt.number(len(df))}"
                + (f", et {t.name}" if len(me) and me[0] not in df.head(limit).index else "")
                if len(df) > limit else f"{fmt.number(len(df))}")
        return BarChart(labels, list(shown["evolution_annuelle"]),
                        f"Évolution annuelle moyenne {d.first_year}-{d.vintage}\n{who[0].upper() + who[1:]} ({part})",
                        "%/an", highlight=hi)

    def _parent_peers(self, limit: int) -> PeerSection:
        d, t = self.d, self.t
        anchor = t.parent(d.peer_level) if d.peer_level not in ("france", t.level) else None
        what = LEVEL_PLURAL.get(t.level, "territoires")
        where = f"de {anchor.name}" if anchor is not None else "de France"
        heading = f"Parmi les {what} {where}"
        if d.peers.empty:
            return PeerSection(heading, None, None, f"Pas d'autres {what} dans ce groupe.")
        chart = self._peer_chart(d.peers, f"{what} {where}", limit)
        row = d.peers.loc[d.peers["code"] == t.code]
        summary = None
        if not row.empty:
            rp, rg = row["rang_population"].iloc[0], row["rang_evolution"].iloc[0]
            med = d.peers["evolution_annuelle"].median()
            summary = (f"Parmi les {fmt.number(len(d.peers))} {what} {where}, {t.name} est au rang {fmt.number(rp)} "
                       "par la population"
                       + (f" et au rang {fmt.number(rg)} par l'évolution annuelle (médiane de ces {what} : "
                          f"{fmt.rate(med)})." if rg == rg else "."))
        return PeerSection(heading, None, chart, summary)

    def members(self, show_map: bool = True) -> Members | None:
        """Map and table of the member communes (``None`` for a commune)."""
        d, t = self.d, self.t
        if t.level == "commune":
            return None
        mem = d.members
        chart, note = self._map(mem) if show_map else (None, None)
        rows = [[r.nom, r.code, fmt.number(r.population), fmt.rate(r.evolution_annuelle), fmt.number(r.densite, 1)]
                for r in mem.head(20).itertuples()]
        more = f" (les 20 plus peuplées sur {len(mem)} ; toutes figurent dans l'annexe CSV)" if len(mem) > 20 else ""
        table = Table(["Commune", "Code", f"Population {d.vintage}", f"Évolution {d.first_year}-{d.vintage}",
                       "Densité (hab/km²)"], rows, frozenset({2, 3, 4}))
        return Members(chart, note, f"Communes membres par population{more} :", table)

    def _map(self, mem: pd.DataFrame) -> tuple[MapChart | None, str | None]:
        import numpy as np

        from planeco_kernel import geo

        try:
            shapes = geo.load_display("commune", list(mem["code"]))
            outline = geo.load_display(self.t.level, [self.t.code])
        except Exception as exc:  # noqa: BLE001 - bundle without contours: said, not hidden
            return None, f"Carte non disponible : {exc}"
        if shapes.empty:
            return None, "Carte non disponible : aucune commune membre n'a de contour dans le paquet de données."
        note = None
        if self.t.level == "france":  # one frame cannot show metropolitan France and the DROM usefully
            shapes = shapes[~shapes["code"].str.startswith("97")]
            outline = outline.iloc[0:0]
            note = "La carte montre la France métropolitaine ; les communes des DROM figurent dans l'annexe CSV."
        values = shapes["code"].map(dict(zip(mem["code"], mem["evolution_annuelle"]))).astype(float).to_numpy()
        finite = values[np.isfinite(values)]
        k = int(min(5, max(1, len(np.unique(finite)))))
        breaks = geo.classify(finite, k=k) if len(finite) else [0.0, 0.0]
        chart = MapChart(list(shapes["geometry"]), list(geo.colors_for(values, breaks)),
                         geo.legend_items(breaks, "%/an"),
                         f"Évolution annuelle moyenne de la population {self.d.first_year}-{self.d.vintage}",
                         outline=outline["geometry"].iloc[0] if not outline.empty else None)
        return chart, note

    def sources(self) -> Sources:
        grouped: dict[str, tuple[list[str], str]] = {}
        for s_ in self.d.sources:
            years, _lic = grouped.setdefault(source_label(s_), ([], str(s_["licence"] or "")))
            y = str(s_.get("census_year") or s_.get("vintage") or "")
            if y and y not in years:
                years.append(y)
        table = Table(["Source", "Millésime", "Licence"],
                      [[label, ", ".join(years), lic] for label, (years, lic) in grouped.items()])
        indicators: list[tuple[str, str]] = []
        _cube, comp, _err = self.comparison()
        if comp is not None:
            used: dict[str, set[str]] = {}
            for i in comp.indicators:
                if i.available and i.source:
                    used.setdefault(i.source, set()).add(str(i.vintage or i.year or ""))
            indicators = [(src, ", ".join(sorted(v for v in vs if v))) for src, vs in used.items()]
        files = [(str(s_["name"]), str(s_["version"]), str(s_["origin"] or "")) for s_ in self.d.sources]
        return Sources(table, indicators, self.d.first_year, self.d.vintage, files, self.d.pop_source,
                       self.d.geo_source)

    def stamp(self) -> Table:
        """Data manifest, template, package version and parameters of this report."""
        from planeco_kernel import __version__
        from planeco_kernel.reports.stamp import data_fingerprint

        man = self.model.manifest
        s = self.run_stamp
        rows = [["Version de planeco", __version__],
                ["Paquet de données", f"construit le {date_fr(man.get('built_at'))}, géographie (COG) "
                                      f"{man.get('current_cog', '?')}"],
                ["Empreinte des données", data_fingerprint(man)[:16]],
                ["Modèle de rapport", f"{s.get('template', 'inconnu')} ({str(s.get('template_sha256', ''))[:12]})"],
                ["Empreinte des entrées", str(s.get("inputs_hash", "non calculée (exécution hors lot)"))[:16]],
                ["Paramètres", " ; ".join(f"{PARAMETER_LABELS.get(k, k)} : {param_value(k, v)}"
                                          for k, v in self.parameters.items()) or "–"]]
        return Table(["", ""], rows)

    def write_appendix(self, output_dir: str | Path) -> Path:
        """Write the CSV appendix of every number registered so far; return its path."""
        return self.d.figures.to_csv(Path(output_dir) / APPENDIX_FILE)
