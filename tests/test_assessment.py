"""Self-assessment: référentiel validation (errors at the line), scoring on hand-computed cases,
storage in the knowledge base (one commit per save, author from the identity, concurrent saves),
anonymity threshold of the comparisons and the territory view, toolbox recommendations.

Every référentiel, actor and answer here is INVENTED TEST DATA.
"""

from __future__ import annotations

import json
import multiprocessing
from dataclasses import replace as dataclasses_replace
import os
import textwrap

import pytest

from planeco_kernel.assessment import (
    MIN_ACTORS,
    ActorProfile,
    Answer,
    Assessment,
    ChosenAction,
    DocumentError,
    load_referentiel,
    load_toolbox,
    method_text,
    new_assessment,
    peer_comparison,
    recommend,
    score,
    store,
    territory_view,
)  # fmt: skip
from planeco_kernel.assessment.referentiel import parse_referentiel

MINI = textwrap.dedent("""\
    # invented test référentiel
    format: 1
    id: test
    version: "1"
    title: Référentiel d'essai
    actor_types: {entreprise: Entreprise, association: Association}
    size_classes: {micro: Micro, grande: Grande}
    levels:
      - {id: a, label: Début, min_percent: 0}
      - {id: b, label: Milieu, min_percent: 50}
      - {id: c, label: Haut, min_percent: 75}
    weights: {d1: 3, fb: 2}
    fields:
      - id: fa
        title: Champ A
        criteria:
          - {id: c1, title: C1, points: 10, ladder: {0: a, 1: b, 2: c, 3: d, 4: e}}
          - {id: c2, title: C2, points: 10, ladder: {0: a, 1: b, 2: c, 3: d, 4: e}}
          - {id: c3, title: C3, points: 5, ladder: {0: a, 1: b, 2: c, 3: d, 4: e}}
      - id: fb
        title: Champ B
        criteria:
          - {id: d1, title: D1, points: 10, ladder: {0: a, 1: b, 2: c, 3: d, 4: e}}
          - id: d2
            title: D2
            points: 10
            applies_to: {size_classes: [grande]}
            ladder: {0: a, 1: b, 2: c, 3: d, 4: e}
    """)


@pytest.fixture(scope="module")
def mini():
    return parse_referentiel(MINI, "mini.yaml")


# ---------------------------------------------------------------- scoring, by hand
def test_not_concerned_points_are_redistributed_and_weights_apply(mini):
    answers = {"c1": Answer(2), "c2": Answer(None, True), "c3": Answer(4), "d1": Answer(4), "d2": Answer(0)}
    s = score(mini, answers, "entreprise", "grande")
    fa, fb = s.fields
    # champ A: potential 25; c2 out, its 10 points go to c1 and c3 pro rata (factor 25/15)
    assert fa.potential == 25
    assert fa.effective_points == pytest.approx({"c1": 10 * 25 / 15, "c3": 5 * 25 / 15})
    assert fa.points == pytest.approx(10 * 25 / 15 * 2 / 4 + 5 * 25 / 15 * 4 / 4)   # 16.667
    assert fa.percent == pytest.approx(200 / 3)                                      # 66.67 %
    # champ B: d1 weighs 3 -> 30 points at level 4, d2 10 points at level 0: 30/40
    assert fb.potential == 40 and fb.percent == pytest.approx(75.0)
    assert fb.level.label == "Haut" and fa.level.label == "Milieu"
    # overall: field B weighs 2 -> (66.67 + 2 × 75) / 3
    assert s.percent == pytest.approx((200 / 3 + 150) / 3)
    assert s.answered == s.total == 5


def test_not_applicable_criterion_redistributes_like_not_concerned(mini):
    # a micro company: d2 (large structures only) is out, d1 carries the whole potential of B
    s = score(mini, {"d1": Answer(2)}, "entreprise", "micro")
    fb = s.by_field()["fb"]
    assert fb.not_applicable == ["d2"] and fb.potential == 40 and fb.percent == pytest.approx(50.0)
    assert s.total == 4 and s.answered == 1
    # unanswered criteria count as level 0
    assert s.by_field()["fa"].percent == 0


def test_field_entirely_not_concerned_leaves_the_overall_score(mini):
    nc = Answer(None, True)
    s = score(mini, {"c1": nc, "c2": nc, "c3": nc, "d1": Answer(3)}, "association", "micro")
    assert s.by_field()["fa"].percent is None and s.by_field()["fa"].level is None
    assert s.percent == pytest.approx(75.0)


def test_shipped_referentiel_has_the_seven_fields_and_says_it_is_planeco_s():
    ref = load_referentiel()
    assert [f.title for f in ref.fields] == [
        "Pilotage de la performance environnementale", "Énergie", "Déchets", "Mobilité", "Alimentation durable", "Eau",
        "Biodiversité"]
    assert "planeco" in ref.owner and "adapter" in ref.owner
    assert all(set(c.ladder) == {0, 1, 2, 3, 4} for c in ref.criteria.values())
    text = " ".join(method_text(ref))
    assert "redistribués" in text and "Territoires en Transitions" in text and "Exemplaire" in text


def test_an_adapted_referentiel_is_chosen_by_the_installation(tmp_path, monkeypatch):
    p = tmp_path / "grand_essai.yaml"
    p.write_text(MINI, "utf-8")
    monkeypatch.setenv("PLANECO_REFERENTIEL", str(p))
    assert load_referentiel().id == "test"
    monkeypatch.delenv("PLANECO_REFERENTIEL")
    assert load_referentiel().id == "planeco-acteurs"


# ---------------------------------------------------------------- bad référentiel files
def _problems(text: str) -> list[str]:
    with pytest.raises(DocumentError) as exc:
        parse_referentiel(text, "bad.yaml")
    return exc.value.problems


def test_missing_ladder_levels_point_at_the_line():
    bad = MINI.replace("{id: c3, title: C3, points: 5, ladder: {0: a, 1: b, 2: c, 3: d, 4: e}}",
                       "{id: c3, title: C3, points: 5, ladder: {0: a, 1: b, 2: c}}")
    line = MINI.splitlines().index("      - {id: c3, title: C3, points: 5, ladder: {0: a, 1: b, 2: c, 3: d, 4: e}}") + 1
    (p,) = _problems(bad)
    assert p.startswith(f"bad.yaml, ligne {line} :") and "c3" in p and "manquent 3, 4" in p


def test_duplicate_ids_point_at_the_second_one():
    bad = MINI.replace("{id: c2, title: C2", "{id: c1, title: C2")
    line = MINI.splitlines().index("      - {id: c2, title: C2, points: 10, ladder: {0: a, 1: b, 2: c, 3: d, 4: e}}") + 1
    (p,) = _problems(bad)
    assert p.startswith(f"bad.yaml, ligne {line} :") and "« c1 » en double" in p and "ligne 17" in p


def test_weight_on_unknown_criterion():
    bad = MINI.replace("weights: {d1: 3, fb: 2}", "weights:\n  d1: 3\n  zz9: 2")
    (p,) = _problems(bad)
    line = bad.splitlines().index("  zz9: 2") + 1
    assert p.startswith(f"bad.yaml, ligne {line} :") and "inconnu « zz9 »" in p


def test_several_problems_are_all_reported_and_yaml_syntax_has_its_line():
    bad = MINI.replace("points: 10, ladder", "points: -1, ladder", 1).replace("size_classes: [grande]", "size_classes: [geante]")
    ps = _problems(bad)
    assert len(ps) == 2 and any("points" in p for p in ps) and any("geante" in p for p in ps)
    (p,) = _problems("format: 1\nid: [x\n")
    assert "ligne" in p and "YAML invalide" in p
    (p,) = _problems(MINI.replace("  - {id: b, label: Milieu, min_percent: 50}", "  - {id: b, label: Milieu, min_percent: 0}"))
    assert "croissants" in p


# ---------------------------------------------------------------- storage in the knowledge base
@pytest.fixture()
def kb(tmp_path, monkeypatch):
    from planeco_kernel.knowledge import KnowledgeBase, Member

    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    k = KnowledgeBase.init(tmp_path / "kb", Member("marie", "Marie Essai", "elu", territory="86194"))
    for i in range(7):
        k.add_member(Member(f"acteur{i}", f"Acteur {i} (essai)", "entreprise", territory="86194"), actor="marie")
    monkeypatch.setenv("JUPYTERHUB_USER", "acteur0")
    return k


def _profile(i: int, **kw) -> ActorProfile:
    return ActorProfile(kw.get("id", f"acteur{i}"), f"Structure d'essai {i}", kw.get("type", "entreprise"),
                        kw.get("size", "micro"), kw.get("territory", "86194"))


def test_one_commit_per_save_author_from_identity(kb):
    ref = load_referentiel()
    # the caller tries to save as someone else: the identity wins
    a = new_assessment(ref, _profile(0, id="acteur5"), 2026)
    a = store.save_assessment(kb, ref, a.with_answers({"pil_strategie": Answer(2, evidence="CA du 3 mars")}), note="pilotage")
    assert a.actor.id == "acteur0"
    store.save_assessment(kb, ref, a.with_answers({"ene_suivi": Answer(3)}), note="énergie")
    path = store.assessment_path("acteur0", 2026)
    revs = store.revisions(kb, path)
    assert len(revs) == 2 and all(r.author.startswith("Acteur 0 (essai) <") for r in revs)
    assert "énergie" in revs[0].message
    back = store.load_assessment(kb, ref, "acteur0", 2026)
    assert back.answers["pil_strategie"] == Answer(2, False, "CA du 3 mars") and back.answers["ene_suivi"].level == 3
    assert store.load_assessment(kb, ref, "acteur5", 2026) is None
    # knowledge-base listing still works after non-record commits
    assert kb.threads("acteur0") == []


def test_invalid_answers_are_refused_and_nothing_is_written(kb):
    ref = load_referentiel()
    a = new_assessment(ref, _profile(0), 2026).with_answers({"ene_suivi": Answer(7)})
    with pytest.raises(DocumentError, match="hors de l'échelle"):
        store.save_assessment(kb, ref, a)
    bad = new_assessment(ref, _profile(0, type="multinationale"), 2026)
    with pytest.raises(DocumentError, match="Type de structure inconnu"):
        store.save_assessment(kb, ref, bad)
    assert store.read_tree(kb, store.EVALUATIONS_DIR) == {}


def _git(root, *args: str, who: str) -> None:
    import subprocess

    email = f"{who}@membres.planeco.invalid"  # the address planeco writes for a member without one
    env = {**os.environ, "GIT_AUTHOR_NAME": who, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": who, "GIT_COMMITTER_EMAIL": email}
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def test_plain_git_forgeries_are_quarantined_and_checked(kb, capsys):
    """Assessments are knowledge-base documents: `planeco kb check` covers them."""
    from planeco_kernel.cli import main

    ref = load_referentiel()
    a = store.save_assessment(kb, ref, new_assessment(ref, _profile(0), 2026).with_answers({"ene_suivi": Answer(1)}))
    assert main(["kb", "check", "--kb", str(kb.root)]) == 0
    capsys.readouterr()
    path = store.assessment_path("acteur0", 2026)
    assert path.startswith("documents/engagement/evaluations/") and kb.documents(path) == {path: "acteur0"}
    # another member rewrites acteur0's answers with plain git: undone in what is read
    doc = kb.root / path
    doc.write_text(doc.read_text().replace("level: 1", "level: 4"))
    _git(kb.root, "commit", "-qam", "mieux", who="acteur1")
    back = store.load_assessment(kb, ref, "acteur0", 2026)
    assert back.answers["ene_suivi"].level == 1 and back.updated == a.updated
    # and files it adds in another actor's name are not that actor's assessment
    fake = kb.root / store.assessment_path("acteur2", 2026)
    fake.parent.mkdir(parents=True)
    fake.write_text(doc.read_text().replace("acteur0", "acteur2"))
    _git(kb.root, "add", "-A", who="acteur1")
    _git(kb.root, "commit", "-qm", "pour acteur2", who="acteur1")
    found, problems = store.all_assessments(kb, ref)
    assert [x.actor.id for x in found] == ["acteur0"] and found[0].answers["ene_suivi"].level == 1
    assert any("acteur2" in p and "acteur1" in p for p in problems)
    assert main(["kb", "check", "--kb", str(kb.root)]) == 1
    assert "acteur0" in capsys.readouterr().out


def _save_many(root: str, member: str, n: int) -> None:
    os.environ["JUPYTERHUB_USER"] = member
    from planeco_kernel.knowledge import KnowledgeBase

    k = KnowledgeBase(root)
    ref = load_referentiel()
    a = new_assessment(ref, ActorProfile(member, f"Structure {member}", "entreprise", "micro", "86194"), 2026)
    crits = list(ref.criteria)
    for i in range(n):
        a = store.save_assessment(k, ref, a.with_answers({crits[i]: Answer(i % 5)}))


def test_concurrent_saves_of_two_actors_lose_nothing(kb):
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_save_many, args=(str(kb.root), m, 8)) for m in ("acteur1", "acteur2")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    ref = load_referentiel()
    crits = list(ref.criteria)
    for m in ("acteur1", "acteur2"):
        a = store.load_assessment(kb, ref, m, 2026)
        assert {c: a.answers[c].level for c in crits[:8]} == {c: i % 5 for i, c in enumerate(crits[:8])}
        assert len(store.revisions(kb, store.assessment_path(m, 2026))) == 8
    import subprocess

    assert subprocess.run(["git", "fsck", "--no-progress"], cwd=kb.root, capture_output=True, check=False).returncode == 0


# ---------------------------------------------------------------- anonymity
def _actor(ref, i: int, level: int, year: int = 2026, size: str = "micro", type_: str = "entreprise") -> Assessment:
    a = new_assessment(ref, _profile(i, size=size, type=type_), year)
    return a.with_answers({c: Answer(level) for c in ref.criteria})


def test_comparison_only_from_five_actors_of_same_type_and_size():
    ref = load_referentiel()
    others = [_actor(ref, i, i % 5) for i in range(1, 4)] + [_actor(ref, 9, 4, size="grande")]
    me = _actor(ref, 0, 2)
    c = peer_comparison(ref, others, me, "86194")
    assert c.peers == 4 and not c.shown and c.fields == {} and "moins de 5" in c.message
    c = peer_comparison(ref, others + [_actor(ref, 4, 3)], me, "86194")
    assert c.peers == MIN_ACTORS and c.shown
    assert set(c.fields["energie"]) == {"q1", "median", "q3"}         # quartiles only, no min/max
    assert c.position["energie"] in {"dans le quart supérieur", "dans le quart inférieur", "dans la moitié centrale"}


def test_territory_view_publishes_nothing_below_five_and_no_one_is_identifiable():
    ref = load_referentiel()
    tb = load_toolbox(ref)
    four = [_actor(ref, i, i % 5) for i in range(4)]
    four[0].chosen_actions.append(ChosenAction("tb_plan_mobilite"))
    v = territory_view(ref, four, "86194", name="Poitiers", toolbox=tb)
    assert v.actors == 4 and not v.shown and v.distribution == {} and v.overall_median is None
    assert set(v.by_type.values()) == {"moins de 5"} and "Moins de 5" in v.message
    five = four + [_actor(ref, 4, 4), _actor(ref, 5, 1, size="grande", type_="association")]
    v = territory_view(ref, five, "86194", name="Poitiers", toolbox=tb)
    assert v.shown and sum(v.distribution["energie"].values()) == 6
    assert v.by_type == {"Entreprise — moins de 10 personnes": "5", "Association — 250 personnes et plus": "moins de 5"}
    assert v.top_actions == [("tb_plan_mobilite", "Adopter un plan de mobilité employeur", 1)]
    text = json.dumps(v.to_dict(), ensure_ascii=False)
    for a in five:          # no actor's id or name anywhere in what is published
        assert a.actor.id not in text and a.actor.name not in text
    assert "min" not in v.to_dict()["median_percent"]


@pytest.mark.bundle
def test_nested_territories_cannot_be_subtracted(bundle_dir):
    """5 actors in Poitiers and 1 in Buxerolles (same EPCI): publishing Poitiers and the EPCI would reveal
    the Buxerolles actor by difference, so neither is published; with 5 in each, both are."""
    from planeco_kernel.territory import load_model

    model = load_model()
    ref = load_referentiel()
    epci = model.get("86194").parent("epci").code
    poitiers = [_actor(ref, i, i % 5) for i in range(5)]
    other = [_actor(ref, 10 + i, 4) for i in range(5)]
    other = [dataclasses_replace(a, actor=dataclasses_replace(a.actor, territory="86041")) for a in other]
    assert model.get("86041").parent("epci").code == epci
    items = poitiers + other[:1]
    for code in ("86194", epci):
        v = territory_view(ref, items, code, model=model)
        assert v.actors >= 5 and not v.shown and v.distribution == {} and v.withheld_by
        assert "permettrait d'identifier" in v.message
    items = poitiers + other
    assert territory_view(ref, items, "86194", model=model).shown
    assert territory_view(ref, items, epci, model=model).shown
    assert territory_view(ref, items, "86041", model=model).shown  # 5 in Buxerolles: shown too


def test_trend_year_over_year_only_for_years_with_five_actors():
    ref = load_referentiel()
    y1 = [_actor(ref, i, 1, year=2025) for i in range(5)]
    y2 = [_actor(ref, i, 3, year=2026) for i in range(5)]
    y0 = [_actor(ref, i, 0, year=2024) for i in range(3)]
    v = territory_view(ref, y0 + y1 + y2, "86194")
    assert sorted(v.trend) == [2025, 2026]
    assert v.trend[2025]["energie"] == pytest.approx(25.0) and v.trend[2026]["energie"] == pytest.approx(75.0)


def test_yearly_reassessment_gives_progress_per_field(kb):
    from planeco_kernel.apps.engagement_html import render_results, results_context
    from planeco_kernel.assessment import progress

    ref = load_referentiel()
    a25 = store.save_assessment(kb, ref, _actor(ref, 0, 1, year=2025))
    a26 = store.save_assessment(kb, ref, _actor(ref, 0, 3, year=2026))
    items, problems = store.all_assessments(kb, ref)
    assert problems == [] and sorted(a.year for a in items) == [2025, 2026]
    p = progress(ref, items)
    assert p[2025]["energie"] == pytest.approx(25.0) and p[2026]["energie"] == pytest.approx(75.0)
    assert p[2026]["global"] == pytest.approx(75.0)
    s = score(ref, a26.answers, "entreprise", "micro")
    html = render_results(results_context(ref, a26, s, None, [], history=items))
    assert "Progression d'une année sur l'autre" in html and "<th scope=\"col\">2025</th>" in html
    assert a25.year == 2025


# ---------------------------------------------------------------- toolbox
def test_recommendations_target_the_weakest_fields_at_the_actor_s_step():
    ref = load_referentiel()
    tb = load_toolbox(ref)
    a = new_assessment(ref, _profile(0, size="petite_moyenne"), 2026)
    answers = {c: Answer(3) for c in ref.criteria}
    answers.update({"mob_domicile_travail": Answer(1), "mob_flotte": Answer(2), "mob_accueil": Answer(None, True),
                    "ene_sobriete": Answer(1), "ene_suivi": Answer(1), "ene_renouvelable": Answer(4)})
    a = a.with_answers(answers)
    recs = recommend(ref, tb, a, score(ref, a.answers, "entreprise", "petite_moyenne"), weakest=2)
    ids = [r.action.id for r in recs]
    assert ids[:2] == ["tb_plan_mobilite", "tb_flotte_electrique"]       # mobility is the weakest field
    assert "tb_plan_sobriete" in ids and "tb_suivi_energie" not in ids   # step 1 for level 1, not step 0
    assert all(r.action.field in {"mobilite", "energie"} for r in recs)


@pytest.mark.bundle
def test_toolbox_levers_exist_in_the_sgpe_file(bundle_dir):
    from planeco_kernel.assessment.levers import load_levers

    levers = load_levers()  # the bundle's sgpe_levers table
    assert len(levers) == 42 and levers["augm_covoit"].unit_phys.startswith("km annuels/voiture évités")
    tb = load_toolbox(load_referentiel(), levers=levers)
    assert {a.lever for a in tb.actions if a.lever} <= set(levers)


def test_levers_without_the_bundle_table_say_how_to_fix_it(tmp_path):

    from planeco_kernel.assessment.levers import load_levers
    from planeco_kernel.errors import ConfigError

    with pytest.raises(ConfigError, match="planeco data build"):
        load_levers(tmp_path / "nulle-part")


@pytest.mark.bundle
def test_levers_from_a_bundle_without_the_table_say_how_to_fix_it(tmp_path, bundle_dir):
    import shutil

    from planeco_kernel.assessment.levers import load_levers
    from planeco_kernel.errors import ConfigError

    src = bundle_dir
    partial = tmp_path / "paquet"
    partial.mkdir()
    for name in ("manifest.json", "territories.parquet"):  # a bundle without planning/
        shutil.copy(src / name, partial / name)
    with pytest.raises(ConfigError, match="ne contient pas la liste des leviers SGPE"):
        load_levers(partial)
