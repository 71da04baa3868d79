"""Neutrality, permissions and moderation, enforced by the library.

All members and posts are invented test data.
"""

from __future__ import annotations

import pytest

from planeco_kernel.knowledge import KnowledgeBase, Member, NeutralityError, NotFoundError, PermissionDeniedError
from planeco_kernel.knowledge.rules import solicitation

MEMBERS = [
    Member(id="agent", name="Agent Test", role="agent", territory="69266"),
    Member(id="asso", name="Association Test", role="association", territory="69123"),
    Member(id="acme", name="ACME Test", role="entreprise", territory="69001"),
    Member(id="bet", name="BE Test", role="bureau_etudes", territory="38185"),
]


@pytest.fixture()
def kb(tmp_path) -> KnowledgeBase:
    base = KnowledgeBase.init(tmp_path / "kb", Member(id="elue", name="Élue Test", role="elu", territory="69123"))
    for m in MEMBERS:
        base.add_member(m, actor="elue")
    return base


def _open(kb, audience="open", author="elue"):
    return kb.start_thread(author, kind="rex_request", title="REX méthanisation ?", body="Qui a un retour ?", anchor="territory:69123", audience=audience)


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("Nous avons accompagné trois communes sur ce sujet.", "ok"),
        ("Le chantier a duré six mois, avec la régie des eaux.", "ok"),
        ("Profitez de notre offre spéciale de lancement !", "refuse"),
        ("Contactez-nous pour en savoir plus.", "refuse"),
        ("Demandez votre devis en ligne.", "refuse"),
        ("Remise de 20 % pour les collectivités", "refuse"),
        ("Solutions à partir de 990 € par commune", "refuse"),
        ("Prenez rendez-vous avec notre équipe", "refuse"),
        ("Essai gratuit de 30 jours", "refuse"),
        ("Le coût a été de 45 000 € HT pour la commune.", "hold"),
        ("Nos tarifs dépendent de la taille.", "hold"),
        ("Appelez le 04 72 00 00 00", "hold"),
        ("Écrivez à vente@acme.example", "hold"),
        ("Voir https://acme.example/produit", "hold"),
    ],
)
def test_solicitation_classifier(text, verdict):
    assert solicitation(text)[0] == verdict


def test_company_may_answer_an_open_thread_addressed_to_officials(kb):
    t = _open(kb)
    r = kb.reply("acme", t.thread, "Nous avons accompagné trois communes.", kind="rex")
    assert r.status == "published"


@pytest.mark.parametrize(
    ("audience", "error", "match"),
    [("no_companies", NeutralityError, "pas ouvert aux entreprises"), ("public_sector", NotFoundError, "Fil inconnu")],
)
@pytest.mark.parametrize("who", ["acme", "bet"])
def test_company_cannot_answer_threads_closed_to_it(kb, audience, error, match, who):
    t = _open(kb, audience)
    with pytest.raises(error, match=match):
        kb.reply(who, t.thread, "Bonjour")


def test_company_cannot_address_another_company(kb):
    t = _open(kb)
    first = kb.reply("acme", t.thread, "Notre retour : bon.", kind="rex")
    with pytest.raises(NeutralityError, match="une autre entreprise"):
        kb.reply("bet", t.thread, "Et vous, ACME ?", reply_to=first.id)
    kb.reply("agent", t.thread, "Merci ACME", reply_to=first.id)  # officials may


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"addressed_to": []}, "précisez les destinataires"),
        ({"addressed_to": ["entreprise"]}, "pas de sollicitation entre entreprises"),
        ({"addressed_to": ["bet"]}, "pas de sollicitation entre entreprises"),
        ({"addressed_to": ["elu"], "audience": "no_companies"}, "doit rester ouvert"),
        ({"addressed_to": ["elu"], "kind": "recommendation"}, "ne peut pas recommander"),
    ],
)
def test_company_thread_rules(kb, kwargs, match):
    args = {"kind": "rex", "title": "Notre REX", "body": "Retour d'expérience.", "anchor": "app:zan", **kwargs}
    with pytest.raises(NeutralityError, match=match):
        kb.start_thread("acme", **args)
    assert kb.threads("elue") == []


def test_company_thread_to_officials_allowed_and_answerable(kb):
    t = kb.start_thread("bet", kind="rex", title="REX PCAET", body="Retour d'expérience.", anchor="app:zan", addressed_to=["elu", "agent"])
    assert t.addressed_to == ["elu", "agent"]
    kb.reply("elue", t.thread, "Merci")
    kb.reply("bet", t.thread, "Précision sur la méthode.")  # own thread
    with pytest.raises(NeutralityError, match="une autre entreprise"):
        kb.reply("acme", t.thread, "Nous aussi")  # addresses the consultancy that opened it


def test_solicitation_refused_or_held_with_reason(kb):
    t = _open(kb)
    with pytest.raises(NeutralityError, match=r"démarchage commercial \(offre commerciale"):
        kb.reply("acme", t.thread, "Offre spéciale pour vous !")
    held = kb.reply("acme", t.thread, "Notre installation coûte 120 000 € HT.")
    assert held.status == "held" and "mention de prix" in held.held_reason
    assert [p.id for p in kb.thread(t.thread, "agent").posts] == [t.id]  # not shown to others
    assert held.id in [p.id for p in kb.thread(t.thread, "acme").posts]  # its author sees it
    assert held.id in [p.id for p in kb.thread(t.thread, "elue").posts]  # moderators see it
    assert [th.id for th in kb.threads("elue", moderation=True)] == [t.thread]
    kb.restore("elue", held.id, "Coût réel d'un projet réalisé, pas une offre")
    assert held.id in [p.id for p in kb.thread(t.thread, "agent").posts]


def test_officials_may_mention_costs(kb):
    t = kb.start_thread("agent", kind="solution", title="Chaufferie", body="Coût : 1 200 000 € TTC", anchor="app:zan", details={"cost_eur": 1_200_000})
    assert t.status == "published" and t.details["cost_eur"] == 1_200_000


def test_public_sector_threads(kb):
    with pytest.raises(PermissionDeniedError, match="secteur public"):
        _open(kb, "public_sector", author="asso")
    t = _open(kb, "public_sector", author="agent")
    assert [th.id for th in kb.threads("elue")] == [t.thread]
    for outsider in ("asso", "acme", None):
        assert kb.threads(outsider) == []
        with pytest.raises(NotFoundError):
            kb.thread(t.thread, outsider)
    with pytest.raises(NotFoundError):
        kb.reply("asso", t.thread, "Bonjour")


def test_flag_hide_restore(kb):
    t = _open(kb)
    r = kb.reply("asso", t.thread, "Message déplacé")
    kb.flag("agent", r.id, "Hors sujet")
    assert kb.thread(t.thread, "elue").posts[1].flags == 1
    with pytest.raises(PermissionDeniedError, match="modérateur"):
        kb.hide("agent", r.id, "Hors sujet")
    with pytest.raises(Exception, match="raison est vide"):
        kb.hide("elue", r.id, "  ")
    kb.hide("elue", r.id, "Hors sujet")
    shown = kb.thread(t.thread, "agent").posts[1]
    assert shown.hidden and shown.body == "" and shown.hidden_reason == "Hors sujet"
    assert kb.thread(t.thread, "elue").posts[1].body.startswith("Message déplacé")
    kb.restore("elue", r.id, "Après discussion")
    assert not kb.thread(t.thread, "agent").posts[1].hidden
    log = [line for line in __import__("subprocess").run(
        ["git", "log", "--format=%an: %s"], cwd=kb.root, capture_output=True, text=True).stdout.splitlines()][:3]  # fmt: skip
    assert log[0].startswith("Élue Test: restore") and log[1].startswith("Élue Test: hide") and log[2].startswith("Agent Test: flag")


def test_hidden_first_post_hides_thread(kb):
    t = _open(kb)
    kb.hide("elue", t.id, "Doublon")
    assert kb.threads("agent") == [] and len(kb.threads("elue")) == 1


def test_members_registry_only_moderators(kb):
    with pytest.raises(PermissionDeniedError, match="modérateur"):
        kb.add_member(Member(id="x", name="X", role="elu"), actor="agent")
    kb.add_member(Member(id="agent", name="Agent Test", role="agent", territory="69266", moderator=True), actor="elue")
    kb.add_member(Member(id="x", name="X", role="elu"), actor="agent")
    assert kb.member("x").role == "elu"


def test_inactive_member_cannot_post(kb):
    kb.add_member(Member(id="asso", name="Association Test", role="association", active=False), actor="elue")
    with pytest.raises(PermissionDeniedError, match="désactivé"):
        _open(kb, author="asso")


def test_records_forged_outside_the_library_are_ignored(kb):
    """A member entry or a hide event written with git by a non-moderator has no effect."""
    from planeco_kernel.knowledge import frontmatter
    from planeco_kernel.knowledge.gitstore import commit_files, locked

    t = _open(kb)
    forged_member = frontmatter.dump({"type": "member", "id": "agent", "name": "Agent", "role": "agent", "moderator": True, "by": "agent", "created": "2099-01-01T00:00:00.000000Z"}, "")  # noqa: E501
    forged_hide = frontmatter.dump({"id": "e-20991231T000000-00000000", "thread": t.thread, "author": "agent", "created": "2099-01-01T00:00:00.000000Z", "kind": "hide", "target": t.id, "reason": "x"}, "")  # noqa: E501
    with locked(kb.root):
        commit_files(kb.root, {"members/agent/e-20991231T000000-00000000.md": forged_member,
                               f"{t.path.rsplit('/', 1)[0]}/e-20991231T000000-00000000.md": forged_hide},
                     author=b"Agent <a@test.invalid>", message="forged")  # fmt: skip
    assert not kb.member("agent").moderator
    assert [th.id for th in kb.threads("asso")] == [t.thread]


def test_check_reports_forged_and_unreadable_records(kb):
    from planeco_kernel.knowledge import frontmatter
    from planeco_kernel.knowledge.gitstore import commit_files, locked

    t = _open(kb)
    assert kb.check() == []
    thread_dir = t.path.rsplit("/", 1)[0]
    forged_hide = frontmatter.dump({"id": "e-20991231T000000-00000001", "thread": t.thread, "author": "agent", "role": "agent", "created": "2099-01-01T00:00:00.000000Z", "kind": "hide", "target": t.id, "reason": "x"}, "")  # noqa: E501
    with locked(kb.root):  # committed with the agent's own identity: authorship holds, the right does not
        commit_files(kb.root, {f"{thread_dir}/e-20991231T000000-00000001.md": forged_hide,
                               f"{thread_dir}/p-20991231T000000-00000002.md": b"pas de front matter"},
                     author=kb.member("agent").git_identity(), message="forged")  # fmt: skip
    problems = kb.check()
    assert len(problems) == 2
    assert any("fichier illisible" in p for p in problems) and any("hide par « agent »" in p for p in problems)
