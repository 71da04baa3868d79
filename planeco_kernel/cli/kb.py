"""``planeco kb …`` commands: a thin layer over :mod:`planeco_kernel.knowledge`.

The knowledge base is ``--kb PATH``, else ``PLANECO_KB``. The acting member comes from what the
person cannot choose (:mod:`planeco_kernel.knowledge.identity`): the JupyterHub user behind
JupyterHub, else the git/OS identity of the install matched to the registry. ``--as ID`` is
only for a moderator acting on behalf of a member (recorded as such, with that member's rights).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from planeco_kernel.knowledge.kb import KnowledgeBase

app = typer.Typer(no_args_is_help=True)
members_app = typer.Typer(no_args_is_help=True, help="Registre des membres (modification réservée aux modérateur·rices).")
app.add_typer(members_app, name="members")

KB_OPT = typer.Option(None, "--kb", help="Dossier de la base de connaissances (défaut : PLANECO_KB).")
AS_OPT = typer.Option(None, "--as", help="Agir au nom de ce membre (modérateur·rices seulement ; enregistré comme tel).")
KEY_OPT = typer.Option(None, "--key", help="Clé d'idempotence : un nouvel essai avec la même clé ne crée pas de doublon.")
JSON_OPT = typer.Option(False, "--json", help="Sortie JSON.")


def _open(kb: Path | None) -> KnowledgeBase:
    from planeco_kernel.knowledge.kb import KnowledgeBase

    return KnowledgeBase(kb)


def _actor(base: KnowledgeBase, as_: str | None) -> tuple[str, str | None]:
    """``(member whose rights apply, moderator acting on their behalf or None)``; the façade checks the rights."""
    me = base.identity()
    if as_ and base.member(as_).id != me.id:
        return base.member(as_).id, me.id
    return me.id, None


def _read_body(body: str | None, body_file: Path | None) -> str:
    from planeco_kernel.knowledge.errors import InvalidInputError
    from planeco_kernel.knowledge.model import MAX_BODY_CHARS

    if body is not None and body_file is not None:
        raise InvalidInputError("Donnez le message avec --body ou --body-file, pas les deux.")
    if body_file is not None:
        from planeco_kernel import fmt
        from planeco_kernel.knowledge.model import fr_size

        limit = MAX_BODY_CHARS * 4  # the most bytes 20 000 characters can take in UTF-8
        stdin = str(body_file) == "-"
        if stdin:
            raw = sys.stdin.buffer.read(limit + 1)
            size = f"plus de {fr_size(limit)}" if len(raw) > limit else fr_size(len(raw))
        else:
            try:
                with body_file.open("rb") as f:
                    raw = f.read(limit + 1)
                    size = fr_size(os.fstat(f.fileno()).st_size)
            except OSError as exc:
                raise InvalidInputError(f"Fichier du message illisible : {body_file} ({exc.strerror}).") from None
        if len(raw) > limit:
            raise InvalidInputError(
                f"Message trop volumineux : {'l’entrée standard fait' if stdin else 'le fichier fait'} {size}, pour "
                f"{fmt.integer(MAX_BODY_CHARS)} caractères au plus (soit au plus {fr_size(limit)}). "
                "Raccourcissez-le ou découpez-le en plusieurs messages."
            )
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(
                f"Le fichier du message n'est pas en UTF-8 (octet invalide en position {exc.start}) : enregistrez-le en UTF-8."
            ) from None
    if body is None:
        raise InvalidInputError("Message vide : donnez --body TEXTE ou --body-file FICHIER (- pour l'entrée standard).")
    return body


def _dump(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2))


@app.command()
def init(
    path: Path = typer.Argument(None, help="Dossier à créer (ou dépôt git existant, ex. le dossier du projet)."),
    admin: str = typer.Option(None, "--admin", help="Identifiant du premier membre (modérateur·rice)."),
    name: str = typer.Option(None, "--name", help="Nom affiché du premier membre."),
    role: str = typer.Option("agent", "--role", help="Rôle : elu, agent, entreprise, association, bureau_etudes."),
    territory: str = typer.Option("", "--territory", help="Code du territoire (INSEE commune, SIREN EPCI…)."),
    organisation: str = typer.Option("", "--org", help="Organisation."),
    email: str = typer.Option("", "--email", help="Adresse e-mail (auteur des commits)."),
    kb_name: str = typer.Option("", "--kb-name", help="Nom de la base."),
    from_remote: str = typer.Option(None, "--from", help="Copier une base existante (chemin ou URL) au lieu d'en créer une."),
) -> None:
    """Créer une base de connaissances (dépôt git), ou en copier une avec --from."""
    from planeco_kernel.knowledge import Member
    from planeco_kernel.knowledge.errors import InvalidInputError
    from planeco_kernel.knowledge.kb import KnowledgeBase
    from planeco_kernel.knowledge.location import default_kb_dir

    target = path or default_kb_dir()
    if from_remote:
        from planeco_kernel.knowledge import integrity

        base = KnowledgeBase.clone(from_remote, target)
        typer.echo(f"Base copiée depuis {from_remote} dans {base.root}.")
        found = integrity.verify(base.root).open_findings
        if found:
            typer.secho(f"{len(found)} changement(s) illégitime(s) dans l'historique copié, mis en quarantaine : "
                        "voir `planeco kb check`.", err=True, fg=typer.colors.YELLOW)  # fmt: skip
        typer.echo(f"Configurez votre identité dans cette copie : `git -C {base.root} config user.email ADRESSE` "
                   "(l'adresse de votre fiche de membre).")  # fmt: skip
        return
    if not admin:
        raise InvalidInputError("Indiquez le premier membre (modérateur·rice) avec --admin IDENTIFIANT --name « Nom ».")
    m = Member(id=admin, name=name or admin, role=role, territory=territory, organisation=organisation, email=email)
    base = KnowledgeBase.init(target, m, name=kb_name)
    typer.echo(f"Base de connaissances créée dans {base.root} ; modérateur·rice : {admin}.")
    from planeco_kernel.knowledge.errors import NotFoundError

    try:
        base.identity()
    except NotFoundError as exc:
        typer.secho(f"Attention : {exc}", err=True, fg=typer.colors.YELLOW)


@app.command()
def whoami(
    set_: str = typer.Option(None, "--set", help="Enregistrer l'identité locale (identifiant de membre)."),
    kb: Path = KB_OPT,
) -> None:
    """Afficher (ou enregistrer) le membre qui agit."""
    base = _open(kb)
    m = base.set_identity(set_) if set_ else base.identity()
    typer.echo(f"{m.id} — {m.name} ({m.role}{', modérateur·rice' if m.moderator else ''})")


@app.command()
def post(
    title: str = typer.Option(..., "--title", help="Titre du fil."),
    kind: str = typer.Option("discussion", "--kind", help="question, rex_request, rex, solution, recommendation, discussion."),
    anchor: str = typer.Option(..., "--anchor", help="notebook:CHEMIN, app:CLÉ, territory:CODE, indicator:CLÉ, lever:CLÉ ou action:CLÉ."),
    body: str = typer.Option(None, "--body", help="Message (Markdown)."),
    body_file: Path = typer.Option(None, "--body-file", help="Fichier du message ; - pour l'entrée standard."),
    territory: str = typer.Option(None, "--territory", help="Territoire concerné (défaut : celui du membre)."),
    theme: list[str] = typer.Option(None, "--theme", help="Thème (répétable)."),
    audience: str = typer.Option("open", "--audience", help="open, no_companies ou public_sector."),
    to: list[str] = typer.Option(None, "--to", help="Destinataire : rôle ou identifiant de membre (répétable)."),
    results: str = typer.Option(None, "--results", help="Solution/REX : résultats obtenus."),
    cost: str = typer.Option(None, "--cost", help="Solution/REX : coût en euros."),
    partner: list[str] = typer.Option(None, "--partner", help="Solution/REX : partenaire (répétable)."),
    company: str = typer.Option(None, "--company", help="Recommandation : entreprise recommandée."),
    key: str = KEY_OPT,
    as_: str = AS_OPT,
    kb: Path = KB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Ouvrir un fil (question, demande de REX, REX, solution, recommandation, discussion)."""
    base = _open(kb)
    details = {"results": results, "cost_eur": cost, "partners": partner or None, "company": company}
    details = {k: v for k, v in details.items() if v}
    author, by = _actor(base, as_)
    p = base.start_thread(
        author, kind=kind, title=title, body=_read_body(body, body_file), anchor=anchor, territory=territory,
        themes=theme or [], audience=audience, addressed_to=to or [], details=details, key=key, acted_by=by,
    )  # fmt: skip
    _report(base, p, as_json)


@app.command()
def reply(
    thread: str = typer.Argument(..., help="Identifiant du fil."),
    body: str = typer.Option(None, "--body", help="Message (Markdown)."),
    body_file: Path = typer.Option(None, "--body-file", help="Fichier du message ; - pour l'entrée standard."),
    to: str = typer.Option(None, "--to", help="Identifiant du message auquel répondre (défaut : le premier)."),
    kind: str = typer.Option("reply", "--kind", help="reply, rex ou solution."),
    results: str = typer.Option(None, "--results", help="REX/solution : résultats."),
    cost: str = typer.Option(None, "--cost", help="REX/solution : coût en euros."),
    partner: list[str] = typer.Option(None, "--partner", help="REX/solution : partenaire (répétable)."),
    key: str = KEY_OPT,
    as_: str = AS_OPT,
    kb: Path = KB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Répondre dans un fil."""
    base = _open(kb)
    details = {k: v for k, v in {"results": results, "cost_eur": cost, "partners": partner or None}.items() if v}
    author, by = _actor(base, as_)
    p = base.reply(author, thread, _read_body(body, body_file), reply_to=to, kind=kind, details=details, key=key, acted_by=by)
    _report(base, p, as_json)


def _report(base: KnowledgeBase, p: Any, as_json: bool) -> None:
    if as_json:
        _dump(p.to_dict())
    else:
        typer.echo(f"Message {p.id} enregistré dans le fil {p.thread}.")
        if p.status == "held":
            typer.secho(p.held_reason, fg=typer.colors.YELLOW)
    if base.pending_index:
        typer.secho(
            "Le message est enregistré (commit publié). L'index git est verrouillé par un autre programme "
            "(.git/index.lock, par exemple l'intégration git d'un éditeur) : il sera mis à jour au prochain envoi "
            "ou à la prochaine ouverture de la base. Ne renvoyez pas le message.",
            err=True, fg=typer.colors.YELLOW,
        )  # fmt: skip


def _viewer(base: KnowledgeBase, as_: str | None) -> str | None:
    """The reader: the session's identity (anonymous if none); ``--as`` only for a moderator."""
    from planeco_kernel.knowledge.errors import NotFoundError, PermissionDeniedError

    try:
        me = base.identity()
    except NotFoundError:
        if as_:
            raise
        return None  # anonymous reader: public threads only
    if as_ and base.member(as_).id != me.id:
        if not me.moderator:
            raise PermissionDeniedError(
                f"Vous êtes « {me.id} » : seul·es les modérateur·rices peuvent lire au nom d'un autre membre (--as)."
            )
        return base.member(as_).id
    return me.id


@app.command("list")
def list_(
    territory: str = typer.Option(None, "--territory", help="Code de territoire."),
    nearby: bool = typer.Option(False, "--nearby", help="Inclure les territoires proches ou similaires."),
    theme: str = typer.Option(None, "--theme", help="Thème."),
    kind: str = typer.Option(None, "--kind", help="Type de fil."),
    anchor: str = typer.Option(None, "--anchor", help="Ancrage exact (ex. notebook:analyses/zan.ipynb)."),
    text: str = typer.Option(None, "--text", help="Texte recherché."),
    moderation: bool = typer.Option(False, "--moderation", help="File de modération (signalés, retenus, masqués)."),
    as_: str = AS_OPT,
    kb: Path = KB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Lister les fils visibles, activité la plus récente d'abord."""
    base = _open(kb)
    threads = base.threads(
        _viewer(base, as_), territory=territory, nearby=nearby, theme=theme, kind=kind, anchor=anchor, text=text,
        moderation=moderation,
    )  # fmt: skip
    if as_json:
        _dump([t.to_dict() for t in threads])
        return
    from planeco_kernel.knowledge.model import THREAD_KINDS

    if not threads:
        typer.echo("Aucun fil.")
    for t in threads:
        extra = " [masqué]" if t.hidden else (" [en attente de modération]" if t.status == "held" else "")
        flags = f" ⚑{t.flags}" if t.flags else ""
        typer.echo(f"{t.id}  {THREAD_KINDS[t.kind]:<28} {t.territory or '-':<9} {t.replies:>3} rép.  {t.title}{extra}{flags}")


@app.command()
def search(
    kind: list[str] = typer.Option(None, "--kind", help="Types (défaut : solution et rex)."),
    territory: str = typer.Option(None, "--territory", help="Code de territoire."),
    nearby: bool = typer.Option(False, "--nearby", help="Inclure les territoires proches ou similaires."),
    theme: str = typer.Option(None, "--theme", help="Thème."),
    text: str = typer.Option(None, "--text", help="Texte recherché."),
    as_: str = AS_OPT,
    kb: Path = KB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Chercher des solutions et REX par thème, territoire et type."""
    base = _open(kb)
    posts = base.search(_viewer(base, as_), kinds=kind or ("solution", "rex"), territory=territory, nearby=nearby, theme=theme, text=text)
    if as_json:
        _dump([p.to_dict() for p in posts])
        return
    if not posts:
        typer.echo("Aucun résultat.")
    for p in posts:
        typer.echo(f"{p.thread} {p.id}  {p.kind:<9} {p.territory or '-':<9} {p.title}")


@app.command()
def show(
    thread: str = typer.Argument(..., help="Identifiant du fil."),
    as_: str = AS_OPT,
    kb: Path = KB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Afficher un fil et ses messages."""
    base = _open(kb)
    t = base.thread(thread, _viewer(base, as_))
    if as_json:
        _dump(t.to_dict())
        return
    typer.echo(f"# {t.title}\n{t.id} · {t.kind} · {t.anchor} · audience {t.audience} · thèmes : {', '.join(t.themes) or '-'}\n")
    for p in t.posts:
        head = f"── {p.id} · {p.author} ({p.role}) · {p.created}"
        if p.reply_to and p.reply_to != t.posts[0].id:
            head += f" · en réponse à {p.reply_to}"
        typer.echo(head)
        if p.hidden:
            typer.echo(f"[message masqué par la modération : {p.hidden_reason}]")
        else:
            if p.status == "held":
                typer.echo(f"[en attente de modération] {p.held_reason}")
            typer.echo(p.body.rstrip() + ("\n(modifié)" if p.edited else ""))
            for k, v in p.details.items():
                typer.echo(f"  {k} : {', '.join(v) if isinstance(v, list) else v}")
        typer.echo("")


def _moderate(action: str, post: str, reason: str, as_: str | None, kb: Path | None) -> None:
    base = _open(kb)
    actor, by = _actor(base, as_)
    eid = getattr(base, action)(actor, post, reason, acted_by=by)
    typer.echo(f"{ {'flag': 'Signalement', 'hide': 'Masquage', 'restore': 'Rétablissement'}[action]} enregistré ({eid}).")


@app.command()
def flag(post: str = typer.Argument(..., help="Identifiant du message."), reason: str = typer.Option(..., "--reason", help="Motif."), as_: str = AS_OPT, kb: Path = KB_OPT) -> None:  # noqa: E501
    """Signaler un message aux modérateur·rices."""
    _moderate("flag", post, reason, as_, kb)


@app.command()
def hide(post: str = typer.Argument(..., help="Identifiant du message."), reason: str = typer.Option(..., "--reason", help="Motif."), as_: str = AS_OPT, kb: Path = KB_OPT) -> None:  # noqa: E501
    """Masquer un message (modérateur·rices)."""
    _moderate("hide", post, reason, as_, kb)


@app.command()
def restore(post: str = typer.Argument(..., help="Identifiant du message."), reason: str = typer.Option(..., "--reason", help="Motif."), as_: str = AS_OPT, kb: Path = KB_OPT) -> None:  # noqa: E501
    """Rétablir un message masqué ou publier un message retenu (modérateur·rices)."""
    _moderate("restore", post, reason, as_, kb)


@app.command()
def edit(
    post: str = typer.Argument(..., help="Identifiant du message."),
    body: str = typer.Option(None, "--body", help="Nouveau texte."),
    body_file: Path = typer.Option(None, "--body-file", help="Fichier du nouveau texte ; - pour l'entrée standard."),
    as_: str = AS_OPT,
    kb: Path = KB_OPT,
) -> None:
    """Modifier un de ses messages (nouveau commit ; l'original reste dans l'historique)."""
    base = _open(kb)
    author, by = _actor(base, as_)
    eid = base.edit(author, post, _read_body(body, body_file), acted_by=by)
    typer.echo(f"Modification enregistrée ({eid}).")


@app.command()
def sync(
    remote: str = typer.Argument(..., help="Autre copie de la base : dépôt nu commun, copie locale (dossier) ou URL."),
    kb: Path = KB_OPT,
) -> None:
    """Échanger les messages avec une autre copie de la base (récupérer, vérifier, fusionner, envoyer).

    L'historique reçu est vérifié (auteur·rices, droits, pas de réécriture) avant toute fusion ; ce qui
    échoue est mis en quarantaine avec un rapport, et rien n'est fusionné.
    """
    from planeco_kernel.knowledge.errors import NotFoundError
    from planeco_kernel.knowledge.identity import member_email
    from planeco_kernel.knowledge.sync import sync as do_sync

    base = _open(kb)
    try:
        me = base.identity()
        name, email = me.name, member_email(me)
    except NotFoundError:
        name, email = "planeco sync", "sync@planeco.invalid"  # merge commits carry no record
    r = do_sync(base.root, remote, name=name, email=email)
    typer.echo(f"Synchronisé avec {remote} : {r.received} commit(s) reçu(s), envoi {'fait' if r.pushed else 'non fait'}.")


@app.command()
def check(kb: Path = KB_OPT) -> None:
    """Vérifier la base : fichiers illisibles, écritures hors règles (ignorées), intégrité git."""
    problems = _open(kb).check()
    for p in problems:
        typer.echo(p)
    if problems:
        raise typer.Exit(1)
    typer.echo("Base de connaissances saine.")


@members_app.command("list")
def members_list(
    all_: bool = typer.Option(False, "--all", help="Inclure les membres désactivés."),
    kb: Path = KB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Lister les membres."""
    from planeco_kernel.knowledge.model import ROLES
    from planeco_kernel.knowledge.signing import fingerprint

    ms = _open(kb).members(include_inactive=all_)
    if as_json:
        _dump([m.to_dict() for m in ms])
        return
    for m in ms:
        mod = " (modérateur·rice)" if m.moderator else ""
        key = f" [clé {fingerprint(m.signing_key)}]" if m.signing_key else ""
        typer.echo(f"{m.id:<20} {ROLES[m.role]:<18} {m.territory or '-':<9} {m.name} — {m.organisation or '-'}{mod}{key}")


@members_app.command("add")
def members_add(
    member_id: str = typer.Argument(..., help="Identifiant (minuscules, chiffres, . _ -)."),
    name: str = typer.Option(..., "--name", help="Nom affiché."),
    role: str = typer.Option(..., "--role", help="elu, agent, entreprise, association, bureau_etudes."),
    territory: str = typer.Option("", "--territory", help="Code du territoire."),
    organisation: str = typer.Option("", "--org", help="Organisation."),
    email: str = typer.Option("", "--email", help="Adresse e-mail (auteur des commits)."),
    moderator: bool = typer.Option(False, "--moderator", help="Donner le rôle de modérateur·rice."),
    hub_user: str = typer.Option("", "--hub-user", help="Nom d'utilisateur JupyterHub."),
    inactive: bool = typer.Option(False, "--inactive", help="Désactiver ce membre."),
    as_: str = AS_OPT,
    kb: Path = KB_OPT,
) -> None:
    """Ajouter ou mettre à jour un membre (modérateur·rices)."""
    from planeco_kernel.knowledge import Member

    base = _open(kb)
    m = Member(
        id=member_id, name=name, role=role, territory=territory, organisation=organisation, email=email,
        moderator=moderator, hub_user=hub_user, active=not inactive,
    )  # fmt: skip
    known = {x.id: x for x in base.members(include_inactive=True)}
    if member_id in known:  # an update keeps the signing key (`members set-key` changes it)
        m.signing_key = known[member_id].signing_key
    actor, by = _actor(base, as_)
    base.add_member(m, actor=actor, acted_by=by)
    typer.echo(f"Membre {member_id} enregistré.")


def _key_arg(value: str) -> str:
    """A public key given inline (``ssh-ed25519 AAAA…``) or as a key file; '' removes it."""
    from planeco_kernel.knowledge import signing

    if value in ("", "-"):
        return ""
    return signing.public_key(value) if value.split(" ", 1)[0].startswith(("ssh-", "ecdsa-", "sk-")) else signing.read_public_key(value)


@members_app.command("set-key")
def members_set_key(
    member_id: str = typer.Argument(..., help="Membre dont c'est la clé."),
    key: str = typer.Argument(..., help="Clé publique SSH (« ssh-ed25519 AAAA… ») ou son fichier .pub ; « - » la retire."),
    as_: str = AS_OPT,
    kb: Path = KB_OPT,
) -> None:
    """Enregistrer la clé SSH qui signe les commits d'un membre (un·e modérateur·rice, ou le membre pour lui·elle-même)."""
    base = _open(kb)
    actor, by = _actor(base, as_)
    m = base.set_signing_key(member_id, _key_arg(key), actor=actor, acted_by=by)
    typer.echo(f"Clé de signature de {m.id} enregistrée." if m.signing_key else f"Clé de signature de {m.id} retirée.")


@app.command("settings")
def settings_cmd(
    signatures: str = typer.Option(None, "--signatures", help="optional (défaut) ou required : exiger des commits signés."),
    service_key: str = typer.Option(None, "--service-key", help="Clé publique (ou fichier .pub) du service de la base du hub ; « - » la retire."),
    as_: str = AS_OPT,
    kb: Path = KB_OPT,
) -> None:
    """Afficher ou changer les réglages de la base (signatures ; modérateur·rices pour changer)."""
    from planeco_kernel.knowledge import signing

    base = _open(kb)
    if signatures is not None or service_key is not None:
        actor, by = _actor(base, as_)
        base.configure(actor=actor, signatures=signatures, service_key=None if service_key is None else _key_arg(service_key),
                       acted_by=by)  # fmt: skip
    s = base.signature_settings()
    typer.echo(f"signatures : {s['signatures']}")
    typer.echo(f"clé du service : {signing.fingerprint(s['service_key']) if s['service_key'] else 'aucune'}")
