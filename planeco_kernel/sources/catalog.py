"""The catalogue of official open-data sources planeco reads, and what is reachable now.

:data:`SOURCES` lists each source once: id, French title, publisher, licence, official URL(s),
vintage(s), themes, and the connector module that reads it. :func:`available` tells, for each
source, whether its file is in the download cache, in the offline mirror, or reachable on the
network — without downloading anything (a ``HEAD`` request at most) — so that
``planeco data build`` can record which sources it skipped and why.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Literal

from planeco_kernel import config

log = logging.getLogger(__name__)


Status = Literal["cache", "mirror", "network", "unavailable"]

LICENCE_OUVERTE = "Licence Ouverte 2.0 (Etalab)"


@dataclass(frozen=True)
class SourceInfo:
    """One official source.

    Attributes
    ----------
    id
        Connector id, also the module name under :mod:`planeco_kernel.sources`.
    title
        French title, as shown to users.
    publisher, licence
        Who publishes it and under which licence.
    urls
        Official URLs: the file (or API) first, then documentation pages.
    vintages
        Reference years available to planeco (``"courant"`` for files replaced in place).
    themes
        What it informs (French words used in the apps' filters).
    release_attr
        Name of the connector's default :class:`~planeco_kernel.sources.base.Release`.
    """

    id: str
    title: str
    publisher: str
    licence: str
    urls: tuple[str, ...]
    vintages: tuple[str, ...]
    themes: tuple[str, ...]
    release_attr: str = "RELEASE"

    def release(self):
        """The connector's default release (the newest)."""
        return self.releases()[0]

    def releases(self) -> list:
        """The releases :func:`available` checks, preferred first (newest, then older mirrored ones)."""
        module = import_module(f"planeco_kernel.sources.{self.id}")
        if self.id == "filosofi":
            commune = sorted((v for v, lv in module.RELEASES if lv == "commune"), reverse=True)
            return [module.RELEASES[(v, "commune")] for v in commune]
        if callable(getattr(module, "releases", None)):
            return module.releases()
        return [getattr(module, self.release_attr)]


SOURCES: dict[str, SourceInfo] = {
    s.id: s
    for s in (
        SourceInfo(
            "filosofi", "Revenus, pauvreté et niveau de vie (Filosofi)", "Insee", LICENCE_OUVERTE,
            ("https://www.insee.fr/fr/statistiques/fichier/8984752/FILOSOFI_CC_csv.zip",
             "https://www.insee.fr/fr/statistiques/8984752",
             "https://www.insee.fr/fr/statistiques/fichier/3560121/filo-revenu-pauvrete-menage-2015.zip"),
            ("2015", "2016", "2023"), ("revenus", "pauvreté", "cohésion sociale"),
        ),
        SourceInfo(
            "insee_rp", "Recensement de la population : dossier complet par commune", "Insee", LICENCE_OUVERTE,
            ("https://www.insee.fr/fr/statistiques/fichier/5359146/dossier_complet.zip",
             "https://www.insee.fr/fr/statistiques/5359146"),
            ("courant",), ("démographie", "logement", "emploi", "mobilité"),
        ),
        SourceInfo(
            "insee_iris_pop", "Recensement de la population : évolution et structure de la population par IRIS",
            "Insee", LICENCE_OUVERTE,
            ("https://www.insee.fr/fr/statistiques/fichier/8647014/base-ic-evol-struct-pop-2022_csv.zip",
             "https://www.insee.fr/fr/statistiques/8647014",
             "https://www.insee.fr/fr/statistiques/fichier/8268806/base-ic-evol-struct-pop-2021_csv.zip",
             "https://www.insee.fr/fr/statistiques/8268806"),
            ("2021", "2022"), ("démographie", "vieillissement"),
        ),
        SourceInfo(
            "cerema_conso", "Consommation d'espaces naturels, agricoles et forestiers (fichiers fonciers)",
            "Cerema — Observatoire de l'artificialisation des sols", LICENCE_OUVERTE,
            ("https://www.data.gouv.fr/api/1/datasets/r/8c67a68a-bb1a-4b7e-b221-62ccfb8bc4f9",
             "https://artificialisation.developpement-durable.gouv.fr/"),
            tuple(str(y) for y in range(2009, 2024)), ("sobriété foncière", "ZAN", "artificialisation"),
        ),
        SourceInfo(
            "ademe_dpe", "Diagnostics de performance énergétique des logements existants (depuis juillet 2021)",
            "ADEME", LICENCE_OUVERTE,
            ("https://data.ademe.fr/data-fair/api/v1/datasets/dpe03existant/lines",
             "https://data.ademe.fr/datasets/dpe03existant"),
            ("courant",), ("logement", "rénovation énergétique", "bâtiment"),
        ),
        SourceInfo(
            "sitadel", "Logements autorisés et commencés (Sit@del)",
            "SDES — ministère de la Transition écologique", LICENCE_OUVERTE,
            ("https://www.data.gouv.fr/fr/datasets/r/1fa467ef-5e3a-456f-b961-be9032cfa3df",
             "https://www.data.gouv.fr/fr/datasets/base-des-permis-de-construire-et-autres-autorisations-durbanisme-sitadel/"),
            tuple(str(y) for y in range(2017, 2024)), ("logement", "construction", "sobriété foncière"),
        ),
        SourceInfo(
            "energy", "Consommation annuelle d'électricité et de gaz par commune et par secteur",
            "Agence ORE (gestionnaires de réseaux de distribution)", LICENCE_OUVERTE,
            ("https://opendata.agenceore.fr/api/explore/v2.1/catalog/datasets/"
             "conso-elec-gaz-annuelle-par-secteur-dactivite-agregee-commune/exports/csv?delimiter=%3B&use_labels=false",
             "https://opendata.agenceore.fr/explore/dataset/conso-elec-gaz-annuelle-par-secteur-dactivite-agregee-commune/"),
            ("courant",), ("énergie", "climat", "PCAET"),
        ),
        SourceInfo(
            "ghg", "Inventaire territorialisé des émissions de gaz à effet de serre (IGT)",
            "Citepa pour le ministère de la Transition écologique, diffusé par l'ADEME", LICENCE_OUVERTE,
            ("https://data.ademe.fr/data-fair/api/v1/datasets/igt-pouvoir-de-rechauffement-global/data-files/"
             "IGT%20-%20Pouvoir%20de%20r%C3%A9chauffement%20global.csv",
             "https://www.data.gouv.fr/fr/datasets/inventaire-de-gaz-a-effet-de-serre-territorialise/",
             "https://www.data.gouv.fr/datasets/emissions-de-gaz-a-effet-de-serre-annuelles-par-secteur"),
            ("2016",), ("climat", "émissions", "PCAET"),
        ),
        # Per-commune aggregates of national files (mirror README, « Per-commune aggregates »):
        # read from the offline mirror only (sha256 pinned in each connector's RELEASE).
        SourceInfo(
            "sitadel_communes", "Logements autorisés et commencés par commune (Sit@del, séries annuelles)",
            "SDES — ministère de la Transition écologique", LICENCE_OUVERTE,
            ("https://www.statistiques.developpement-durable.gouv.fr/",
             "https://www.data.gouv.fr/fr/datasets/base-des-permis-de-construire-et-autres-autorisations-durbanisme-sitadel/"),
            tuple(str(y) for y in range(2013, 2026)), ("logement", "construction", "sobriété foncière"),
        ),
        SourceInfo(
            "insee_rp_logement", "Recensement de la population 2021 : logements par commune", "Insee", LICENCE_OUVERTE,
            ("https://www.insee.fr/fr/statistiques/8202349",), ("2021",), ("logement",),
        ),
        SourceInfo(
            "filosofi_2021", "Revenus localisés 2021 (Filosofi) : niveau de vie médian, part des minima sociaux",
            "Insee", LICENCE_OUVERTE,
            ("https://www.data.gouv.fr/fr/datasets/revenu-des-francais-a-la-commune/",
             "https://www.insee.fr/fr/statistiques/8984752"), ("2021",), ("revenus", "cohésion sociale"),
        ),
        SourceInfo(
            "lovac", "Logements vacants du parc privé (LOVAC)", "DGFiP, Cerema — ministère du Logement (Zéro Logement Vacant)",
            LICENCE_OUVERTE,
            ("https://www.data.gouv.fr/fr/datasets/logements-vacants-du-parc-prive-par-anciennete-de-vacance-par-commune-et-par-epci/",
             "https://zerologementvacant.beta.gouv.fr/"), ("2025",), ("logement", "vacance", "sobriété foncière"),
        ),
        SourceInfo(
            "sru", "Taux de logements sociaux dans les communes (inventaire SRU)", "Ministère chargé du Logement",
            LICENCE_OUVERTE,
            ("https://www.data.gouv.fr/fr/datasets/taux-de-logements-sociaux-dans-les-communes/",), ("2024",),
            ("logement", "cohésion sociale"),
        ),
        SourceInfo(
            "catnat", "Arrêtés de catastrophe naturelle (base GASPAR, Géorisques)",
            "Ministère de la Transition écologique — Géorisques", LICENCE_OUVERTE,
            ("https://www.georisques.gouv.fr/donnees/bases-de-donnees/base-gaspar",
             "https://www.data.gouv.fr/fr/datasets/base-nationale-de-gestion-assistee-des-procedures-administratives-relatives-aux-risques-gaspar/"),
            ("1982-2025",), ("risques", "adaptation"),
        ),
        SourceInfo(
            "cartofriches", "Friches référencées (Cartofriches)", "Cerema", LICENCE_OUVERTE,
            ("https://www.data.gouv.fr/fr/datasets/sites-references-dans-cartofriches/", "https://cartofriches.cerema.fr/"),
            ("2026",), ("foncier", "friches", "ZAN"),
        ),
        SourceInfo(
            "anct_programmes", "Programmes Action Cœur de Ville, Petites Villes de Demain et ORT",
            "Agence nationale de la cohésion des territoires (ANCT)", LICENCE_OUVERTE,
            ("https://www.data.gouv.fr/fr/organizations/agence-nationale-de-la-cohesion-des-territoires/",
             "https://agence-cohesion-territoires.gouv.fr/"), ("2026",), ("revitalisation", "centralités"),
        ),
    )
}


def probe_url(url: str, *, timeout: float = 3.0) -> tuple[bool, str]:
    """Whether ``url`` answers a ``HEAD`` request (nothing is downloaded); returns (ok, reason)."""
    req = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "planeco (+https://github.com/planeco)"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return True, f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        # 405: the server refuses HEAD but is there; other 4xx/5xx: the file is not.
        if exc.code == 405:
            return True, "HTTP 405 (HEAD refusé, serveur joignable)"
        return False, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        log.info("probe of %s failed: %r", url, exc)
        return False, f"injoignable ({_network_reason(exc)})"


def _network_reason(exc: BaseException) -> str:
    """A plain French reason for a network failure (shown to users; the raw error goes to the log)."""
    import socket

    cause = getattr(exc, "reason", exc)
    if isinstance(cause, socket.gaierror):
        return "pas d'accès à internet ou serveur inconnu"
    if isinstance(cause, (TimeoutError, socket.timeout)):
        return "délai de réponse dépassé"
    if isinstance(cause, ConnectionRefusedError):
        return "connexion refusée"
    return "erreur réseau"


def _in_cache(url: str) -> Path | None:
    from planeco_kernel.sources.fetch import Cache, _cache_name_for_url

    cache = Cache()
    path = cache.path_for("url", _cache_name_for_url(url))
    sidecar = path.with_name(path.name + ".sha256")
    return path if path.is_file() and sidecar.is_file() else None


def available(
    mirror: str | Path | None = None,
    *,
    network: bool = True,
    probe: Callable[[str], tuple[bool, str]] = probe_url,
) -> dict[str, dict[str, str]]:
    """Which sources can be read now, and from where, without downloading them.

    Checked in order: the offline mirror (``mirror`` or ``PLANECO_MIRROR``), the download cache
    (``PLANECO_CACHE``; the presence of a complete entry, not its checksum), then the network
    (a ``HEAD`` request, skipped when ``network`` is false or ``PLANECO_OFFLINE`` is set).

    Returns
    -------
    dict
        ``{source_id: {"status": "mirror"|"cache"|"network"|"unavailable", "reason": <French text>,
        "location": <path or URL>}}``.
    """
    root = config.mirror_dir(mirror)
    offline = config.offline()

    def local(rel) -> dict[str, str] | None:
        if root is not None and rel.mirror_path and (root / rel.mirror_path).is_file():
            return {"status": "mirror", "reason": f"fichier présent dans le miroir ({rel.mirror_path})",
                    "location": str(root / rel.mirror_path)}
        hit = None if rel.extra.get("mirror_only") else _in_cache(rel.url)
        if hit is not None:
            return {"status": "cache", "reason": "fichier déjà téléchargé (cache)", "location": str(hit)}
        return None

    result: dict[str, dict[str, str]] = {}
    to_probe: dict[str, str] = {}
    for sid, info in SOURCES.items():
        newest = info.release()
        found = local(newest)
        if found is not None:
            result[sid] = found
        elif not (offline or not network or newest.extra.get("mirror_only")):
            to_probe[sid] = newest.url
    answers: dict[str, tuple[bool, str]] = {}
    if to_probe:
        with ThreadPoolExecutor(max_workers=min(8, len(to_probe))) as pool:
            answers = dict(zip(to_probe, pool.map(probe, to_probe.values())))
    for sid, info in SOURCES.items():
        if sid in result:
            continue
        newest = info.release()
        host = urllib.parse.urlparse(newest.url).netloc
        if sid in answers and answers[sid][0]:
            result[sid] = {"status": "network", "location": newest.url,
                           "reason": f"{host} répond ({answers[sid][1]}) ; téléchargement à la construction"}
            continue
        if sid in answers:
            why = f"{host} {answers[sid][1]}"
        elif offline:
            why = "mode hors ligne (PLANECO_OFFLINE)"
        else:
            why = "réseau non vérifié"
        older = next((f for rel in info.releases()[1:] if (f := local(rel)) is not None), None)
        if older is not None:
            vintage = next(rel.vintage for rel in info.releases()[1:] if local(rel) is not None)
            older["reason"] = (f"millésime {newest.vintage} indisponible ({why}) ; millésime ancien {vintage} "
                               f"utilisé : {older['reason']}")
            result[sid] = older
        else:
            result[sid] = {"status": "unavailable", "location": newest.url,
                           "reason": f"{why} ; fichier absent du miroir ({newest.mirror_path}) et du cache"}
    return {sid: result[sid] for sid in SOURCES}


def load(source_id: str, /, **kwargs):
    """Load one source's tidy frame by id: ``load("cerema_conso", mirror=...)``.

    Keyword arguments go to the connector's ``load`` (``ademe_dpe`` needs ``communes=[...]``;
    ``filosofi`` takes ``vintage`` and ``level``).

    Raises
    ------
    KeyError
        Unknown source id (the message lists the known ones).
    """
    if source_id not in SOURCES:
        raise KeyError(f"Source inconnue : {source_id!r}. Sources connues : {', '.join(SOURCES)}.")
    return import_module(f"planeco_kernel.sources.{source_id}").load(**kwargs)
