"""The indicator catalogue, declared as data in ``catalogue.yaml`` and validated here.

Each indicator has an id, a French label, subject (for sentences) and definition, a unit, a
theme, a source, a formula over *components* (commune-level variables named exactly as the
connectors' tidy output), an aggregation rule, a coverage rule, a polarity and a reference to
the official definition. :func:`load_catalogue` parses and checks the file once (cached).

Formula language
----------------
``numerator`` / ``denominator`` are sums of terms (``a + b - c``); a term is a product of
factors (``taux_pauvrete_pct * nb_personnes_menages_fiscaux``); a factor is a number or a
component with an optional year selector: ``x`` (same year), ``x[-5]`` (five years earlier),
``x[-5:-1]`` (sum over years y-5 … y-1), ``x[~]`` (the nearest year where ``x`` exists).
Numerators and denominators are computed per commune and year, then *summed* up the territory
hierarchy before the ratio is taken: a rolled-up ratio is always a ratio of sums, never an
average of ratios.

``denominator_rule: positive`` (ratios only) makes the value unavailable wherever the
denominator — at the commune or after the roll-up — is zero or negative, instead of a negative
or infinite ratio: a consumption « par nouveau ménage » has no meaning where households did not
increase.

Territorial components and ``aggregation: published``
-----------------------------------------------------
A component declared with ``levels:`` (``[region, france]`` or ``[region]``) is published per
territory of those levels (the régions' Écolab series, France's baromètre series), never per
commune (:mod:`planeco_kernel.indicators.territorial`); ``france: sum_of_regions`` makes France the
sum of the régions for an extensive one without a national series. Indicators over such
components take ``aggregation: published``: read level by level, never rolled up, and their
``levels`` (default: those of their components) say where they exist.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from planeco_kernel.errors import PlanecoError
from planeco_kernel.levels import LEVEL, LEVELS

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")

Kind = Literal["sum", "ratio", "growth", "median"]
Aggregation = Literal["sum", "ratio_of_sums", "population_weighted", "growth_of_sums", "official_only", "published"]
Polarity = Literal["higher_better", "higher_worse", "neutral"]

KINDS = ("sum", "ratio", "growth", "median")
AGGREGATIONS = ("sum", "ratio_of_sums", "population_weighted", "growth_of_sums", "official_only", "published")
POLARITIES = ("higher_better", "higher_worse", "neutral")
COVERAGES = ("strict", "estimate")
DENOMINATOR_RULES = ("any", "positive")
# formula kind -> aggregation rules that are consistent with it
_COMPATIBLE = {
    "sum": {"sum", "published"},
    "ratio": {"ratio_of_sums", "population_weighted", "published"},
    "growth": {"growth_of_sums"},
    "median": {"official_only"},
}


class UnknownIndicatorError(PlanecoError, KeyError):
    """An indicator id that the catalogue does not hold."""

    def __init__(self, indicator_id: str, suggestions: list[str]):
        self.indicator_id = indicator_id
        hint = f" Vouliez-vous dire : {', '.join(suggestions)} ?" if suggestions else ""
        super().__init__(
            f"Indicateur inconnu : « {indicator_id} ».{hint} "
            "La liste complète : `planeco indicators list`."
        )

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class CatalogueError(PlanecoError):
    """``catalogue.yaml`` is inconsistent (a developer error, caught by the tests)."""


# --------------------------------------------------------------------------- formulas


@dataclass(frozen=True)
class Factor:
    """A number (``component`` is None) or a component at a year selector."""

    component: str | None = None
    number: float = 1.0
    lag: int = 0
    lag_to: int | None = None  # x[a:b]: sum over lags a..b
    nearest: bool = False  # x[~]

    def lags(self) -> range:
        if self.lag_to is None:
            return range(self.lag, self.lag + 1)
        return range(self.lag, self.lag_to + 1)


@dataclass(frozen=True)
class Term:
    sign: float
    factors: tuple[Factor, ...]


@dataclass(frozen=True)
class Expression:
    text: str
    terms: tuple[Term, ...]

    @property
    def components(self) -> set[str]:
        return {f.component for t in self.terms for f in t.factors if f.component}


_FACTOR = re.compile(
    r"^(?:(?P<num>\d+(?:\.\d+)?)|(?P<name>[a-z][a-z0-9_]*)(?:\[(?:(?P<near>~)|(?P<a>-?\d+)(?::(?P<b>-?\d+))?)\])?)$"
)


def parse_expression(text: str) -> Expression:
    """Parse ``"a + b[-5] - 2 * c[~]"`` into terms and factors.

    Raises
    ------
    CatalogueError
        On any syntax error, naming the expression.
    """
    src = str(text).strip()
    if not src:
        raise CatalogueError("expression vide")
    tokens = re.split(r"\s*([+-])\s*(?![^\[]*\])", src)
    if tokens[0] == "":
        tokens = tokens[1:]
    else:
        tokens = ["+", *tokens]
    terms = []
    for sign, body in zip(tokens[0::2], tokens[1::2]):
        factors = []
        for part in body.split("*"):
            m = _FACTOR.match(part.strip())
            if not m:
                raise CatalogueError(f"formule « {src} » : facteur illisible « {part.strip()} »")
            if m["num"]:
                factors.append(Factor(number=float(m["num"])))
            else:
                a = int(m["a"]) if m["a"] else 0
                b = int(m["b"]) if m["b"] else None
                if b is not None and b < a:
                    raise CatalogueError(f"formule « {src} » : intervalle d'années décroissant [{a}:{b}]")
                factors.append(Factor(component=m["name"], lag=a, lag_to=b, nearest=bool(m["near"])))
        terms.append(Term(1.0 if sign == "+" else -1.0, tuple(factors)))
    return Expression(src, tuple(terms))


# --------------------------------------------------------------------------- catalogue objects


@dataclass(frozen=True)
class Component:
    """A commune-level variable the formulas read, and the source(s) that publish it.

    ``sources`` are in order of preference: for a year that several sources give (the census
    dossier complet and the comparateur de territoires both give 2018 households), the first
    source's value is kept; the others fill the years it lacks.
    """

    name: str
    sources: tuple[str, ...]
    unit: str
    kind: Literal["extensive", "intensive"]
    when_absent: str = ""
    """For a variable the source publishes only in some files: why it may be missing (French)."""
    absent_is_zero: bool = False
    """``absent: zero`` in the YAML: a commune absent from the source's file has the value 0 (an
    inventory: CatNat decrees, referenced brownfields, programme members), not a missing value."""
    levels: tuple[str, ...] = ()
    """``levels:`` in the YAML: a *territorial* component, published per territory of these levels
    (the régions' Écolab series, France's baromètre series) rather than per commune; ``()`` for a
    commune component. Each level's values come from the first of its sources that gives that level."""
    france: str = ""
    """``france: sum_of_regions``: France is the sum of the régions (an extensive territorial
    component whose sources give no national value), in the years where every région has one."""

    @property
    def territorial(self) -> bool:
        return bool(self.levels)

    @property
    def source(self) -> str:
        """The preferred source."""
        return self.sources[0]


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    vintage: str
    url: str
    short: str = ""


def registry_sources() -> dict[str, Source]:
    """The sources of the source registry (``sources/registry.yaml``), as the catalogue shows them."""
    from planeco_kernel.sources.catalog import ALL

    return {k: Source(k, v.label, v.vintage_text, v.homepage, v.short) for k, v in ALL.items()}


@dataclass(frozen=True)
class Indicator:
    """One indicator of the catalogue (see the module docstring for the formula language)."""

    id: str
    label: str
    subject: str
    definition: str
    unit: str
    theme: str
    source: str
    kind: Kind
    numerator: Expression
    denominator: Expression | None
    scale: float
    growth_years: int
    aggregation: Aggregation
    coverage: Literal["strict", "estimate"]
    polarity: Polarity
    reference: str
    denominator_rule: Literal["any", "positive"] = "any"
    levels: tuple[str, ...] = LEVELS
    """Levels at which the indicator exists (``levels:`` in the catalogue; default: all). A
    regional series has no commune value: :meth:`level_note` says where to read it."""

    def available_at(self, level: str) -> bool:
        """Whether the indicator exists at ``level`` (see :attr:`levels`)."""
        return level in self.levels

    def level_note(self, level: str) -> str:
        """« disponible à l'échelle régionale » where the indicator does not exist at ``level``; else ``""``."""
        if self.available_at(level):
            return ""
        scales = [LEVEL[lv].scale for lv in self.levels]
        rest = [sc.removeprefix("à l'échelle ") for sc in scales[1:]]
        return "disponible " + " / ".join([scales[0], *rest])

    @property
    def components(self) -> set[str]:
        out = set(self.numerator.components)
        if self.denominator is not None:
            out |= self.denominator.components
        return out

    def formula_text(self) -> str:
        if self.kind == "growth":
            return f"(({self.numerator.text}) / ({self.denominator.text}))^(1/{self.growth_years}) - 1, en %"
        if self.denominator is None:
            return self.numerator.text
        scale = "" if self.scale == 1 else f"{self.scale:g} × "
        text = f"{scale}({self.numerator.text}) / ({self.denominator.text})"
        if self.denominator_rule == "positive":
            text += ", indisponible si le dénominateur est nul ou négatif"
        return text

    def to_dict(self) -> dict:
        return {
            "id": self.id, "label": self.label, "definition": self.definition, "unit": self.unit,
            "theme": self.theme, "source": self.source, "formula": self.formula_text(), "kind": self.kind,
            "aggregation": self.aggregation, "coverage": self.coverage, "polarity": self.polarity,
            "reference": self.reference, "components": sorted(self.components), "levels": list(self.levels),
        }


@dataclass(frozen=True)
class SizeClass:
    min: float
    label: str


@dataclass
class Catalogue:
    """The whole catalogue: themes, sources, peer-group classes, components and indicators."""

    themes: dict[str, str]
    sources: dict[str, Source]
    components: dict[str, Component]
    indicators: dict[str, Indicator]
    size_classes: tuple[SizeClass, ...]
    density_classes: tuple[SizeClass, ...]
    peer_description: str
    sha256: str = ""
    _ids: list[str] = field(default_factory=list)

    def __iter__(self):
        return iter(self.indicators.values())

    def __len__(self) -> int:
        return len(self.indicators)

    def get(self, indicator_id: str) -> Indicator:
        """The indicator ``indicator_id``; raises :class:`UnknownIndicatorError` with suggestions."""
        try:
            return self.indicators[indicator_id]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(indicator_id, list(self.indicators), n=3, cutoff=0.5)
            if not close:
                close = [i for i in self.indicators if indicator_id.lower() in i][:3]
            raise UnknownIndicatorError(indicator_id, close) from None

    def by_theme(self, theme: str | None = None) -> list[Indicator]:
        """Indicators of one theme (id or French label, case-insensitive), or all of them."""
        if theme is None:
            return list(self.indicators.values())
        key = self.theme_id(theme)
        return [i for i in self.indicators.values() if i.theme == key]

    def theme_id(self, theme: str) -> str:
        """Resolve a theme given by id or French label; raises a French error listing the themes."""
        from planeco_kernel.territory.names import normalize

        wanted = normalize(theme).replace(" ", "_").replace("-", "_")
        for tid, label in self.themes.items():
            if wanted in (tid, normalize(label).replace(" ", "_").replace("-", "_")) or normalize(label).startswith(normalize(theme)):
                return tid
        raise PlanecoError(
            f"Thème inconnu : « {theme} ». Thèmes disponibles : "
            + ", ".join(f"{k} ({v})" for k, v in self.themes.items()) + "."
        )


def _expr(value, where: str) -> Expression:
    try:
        return parse_expression(value)
    except CatalogueError as exc:
        raise CatalogueError(f"{where} : {exc}") from None


def parse_catalogue(data: dict, *, sha256: str = "") -> Catalogue:
    """Build and validate a :class:`Catalogue` from the parsed YAML mapping.

    Raises
    ------
    CatalogueError
        Listing every inconsistency (unknown theme, source or component; formula and
        aggregation that do not match; duplicated ids …).
    """
    problems: list[str] = []
    themes = dict(data["themes"])
    if "sources" in data:
        problems.append("le bloc « sources: » n'a plus cours : les sources sont déclarées une fois, dans "
                        "planeco_kernel/sources/registry.yaml")
    sources = registry_sources()
    components = {}
    for name, spec in data["components"].items():
        srcs = spec.get("sources") or [spec.get("source")]
        srcs = tuple(str(x) for x in (srcs if isinstance(srcs, list) else [srcs]))
        unknown = [x for x in srcs if x not in sources]
        if unknown:
            problems.append(f"composante {name} : source inconnue {unknown} (sources du registre : "
                            "planeco_kernel/sources/registry.yaml)")
        if spec["kind"] not in ("extensive", "intensive"):
            problems.append(f"composante {name} : kind {spec['kind']!r}")
        if spec.get("absent", "missing") not in ("missing", "zero"):
            problems.append(f"composante {name} : absent {spec['absent']!r} (attendu missing ou zero)")
        if spec.get("absent") == "zero" and spec["kind"] != "extensive":
            problems.append(f"composante {name} : absent: zero ne vaut que pour un effectif (extensive)")
        clevels = tuple(str(x) for x in spec.get("levels") or ())
        if any(lv not in LEVELS or lv == "commune" for lv in clevels):
            problems.append(f"composante {name} : levels {list(clevels)} (niveaux supra-communaux attendus parmi {LEVELS[1:]})")
        rule = str(spec.get("france") or "")
        if rule not in ("", "sum_of_regions"):
            problems.append(f"composante {name} : france {rule!r} (attendu sum_of_regions)")
        elif rule and (spec["kind"] != "extensive" or "france" not in clevels or "region" not in clevels):
            problems.append(f"composante {name} : france: sum_of_regions demande un effectif (extensive) "
                            "de niveaux [region, france]")
        components[name] = Component(name, srcs, str(spec["unit"]), spec["kind"],
                                     " ".join(str(spec.get("when_absent", "")).split()), spec.get("absent") == "zero",
                                     clevels, rule)
    indicators: dict[str, Indicator] = {}
    for raw in data["indicators"]:
        iid = raw.get("id", "?")
        where = f"indicateur {iid}"
        missing = [k for k in ("id", "label", "subject", "definition", "theme", "source", "formula",
                               "aggregation", "polarity", "reference") if not raw.get(k)]
        if missing:
            problems.append(f"{where} : champs manquants {missing}")
            continue
        f = raw["formula"]
        kind = f.get("kind")
        try:
            num = _expr(f["numerator"], where)
            den = _expr(f["denominator"], where) if f.get("denominator") is not None else None
        except (CatalogueError, KeyError) as exc:
            problems.append(str(exc))
            continue
        ind = Indicator(
            id=iid, label=raw["label"], subject=raw["subject"], definition=raw["definition"], unit=str(raw["unit"]),
            theme=raw["theme"], source=raw["source"], kind=kind, numerator=num, denominator=den,
            scale=float(f.get("scale", 1)), growth_years=int(f.get("growth_years", 0)),
            aggregation=raw["aggregation"], coverage=raw.get("coverage", "strict"), polarity=raw["polarity"],
            reference=raw["reference"], denominator_rule=f.get("denominator_rule", "any"),
            levels=tuple(raw.get("levels") or _published_levels(raw, num, den, components) or LEVELS),
        )
        problems += _check_indicator(ind, themes, sources, components)
        if iid in indicators:
            problems.append(f"{where} : id en double")
        indicators[iid] = ind
    peers = data["peer_groups"]
    size = tuple(SizeClass(float(c["min"]), c["label"]) for c in peers["size_classes"])
    dens = tuple(SizeClass(float(c["min"]), c["label"]) for c in peers["density_classes"])
    for name, classes in (("size_classes", size), ("density_classes", dens)):
        mins = [c.min for c in classes]
        if mins != sorted(mins) or mins[0] != 0:
            problems.append(f"peer_groups.{name} : bornes non croissantes ou ne partant pas de 0")
    if problems:
        raise CatalogueError("catalogue.yaml incohérent :\n- " + "\n- ".join(problems))
    return Catalogue(themes, sources, components, indicators, size, dens, " ".join(str(peers["description"]).split()),
                     sha256)


def _published_levels(raw: dict, num: Expression, den: Expression | None, components: dict) -> tuple[str, ...]:
    """Default levels of a ``published`` indicator: those all its components are published at."""
    if raw.get("aggregation") != "published":
        return ()
    names = num.components | (den.components if den is not None else set())
    sets = [components[c].levels for c in names if c in components and components[c].territorial]
    if not sets:
        return ()
    common = set.intersection(*(set(s) for s in sets))
    return tuple(lv for lv in LEVELS if lv in common)


def _check_indicator(ind: Indicator, themes, sources, components) -> list[str]:
    where = f"indicateur {ind.id}"
    out = []
    if not re.fullmatch(r"[a-z][a-z0-9_]*", ind.id):
        out.append(f"{where} : id non conforme (snake_case)")
    if ind.theme not in themes:
        out.append(f"{where} : thème inconnu {ind.theme!r}")
    if ind.source not in sources:
        out.append(f"{where} : source inconnue {ind.source!r}")
    if ind.kind not in KINDS:
        out.append(f"{where} : formula.kind {ind.kind!r} (attendu {KINDS})")
    elif ind.aggregation not in _COMPATIBLE[ind.kind]:
        out.append(f"{where} : agrégation {ind.aggregation!r} incompatible avec kind {ind.kind!r}")
    if ind.aggregation not in AGGREGATIONS:
        out.append(f"{where} : agrégation inconnue {ind.aggregation!r}")
    if ind.polarity not in POLARITIES:
        out.append(f"{where} : polarité inconnue {ind.polarity!r}")
    if ind.coverage not in COVERAGES:
        out.append(f"{where} : coverage inconnue {ind.coverage!r}")
    if ind.denominator_rule not in DENOMINATOR_RULES:
        out.append(f"{where} : denominator_rule {ind.denominator_rule!r} (attendu {DENOMINATOR_RULES})")
    elif ind.denominator_rule == "positive" and ind.kind != "ratio":
        out.append(f"{where} : denominator_rule positive ne vaut que pour un ratio")
    bad_levels = [lv for lv in ind.levels if lv not in LEVELS]
    if bad_levels:
        out.append(f"{where} : niveaux inconnus {bad_levels} (attendu parmi {LEVELS})")
    territorial = sorted(c for c in ind.components if c in components and components[c].territorial)
    if ind.aggregation == "published":
        if len(territorial) != len(ind.components):
            out.append(f"{where} : aggregation published ne lit que des composantes territoriales (levels:), "
                       f"pas {sorted(set(ind.components) - set(territorial))}")
        else:
            common = set.intersection(*(set(components[c].levels) for c in territorial)) if territorial else set()
            beyond = [lv for lv in ind.levels if lv not in common]
            if beyond:
                out.append(f"{where} : niveaux {beyond} absents des composantes {territorial}")
    elif territorial:
        out.append(f"{where} : les composantes territoriales {territorial} demandent aggregation: published")
    if ind.kind in ("ratio", "growth") and ind.denominator is None:
        out.append(f"{where} : un {ind.kind} demande un dénominateur")
    if ind.kind == "growth" and ind.growth_years <= 0:
        out.append(f"{where} : growth_years manquant")
    unknown = sorted(c for c in ind.components if c not in components)
    if unknown:
        out.append(f"{where} : composantes inconnues {unknown}")
    for expr in filter(None, (ind.numerator, ind.denominator)):
        for t in expr.terms:
            intensive = [f.component for f in t.factors if f.component in components and components[f.component].kind == "intensive"]
            if ind.kind != "median" and ind.aggregation != "published" and intensive and len(t.factors) < 2:
                out.append(f"{where} : la composante intensive {intensive} doit être pondérée (produit par un effectif)")
    if ind.aggregation == "population_weighted":
        if ind.denominator is None or not all(len(t.factors) == 2 for t in ind.numerator.terms):
            out.append(f"{where} : population_weighted demande numérateur = valeur × poids, dénominateur = poids")
    if ind.kind == "median" and (len(ind.numerator.terms) != 1 or len(ind.numerator.terms[0].factors) != 1):
        out.append(f"{where} : une médiane se lit sur une seule composante")
    return out


@functools.lru_cache(maxsize=4)
def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Parse and validate the catalogue (default: the packaged ``catalogue.yaml``); cached."""
    p = Path(path) if path is not None else CATALOGUE_PATH
    raw = p.read_bytes()
    return parse_catalogue(yaml.safe_load(raw), sha256=hashlib.sha256(raw).hexdigest())
