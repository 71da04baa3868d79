"""Signed commits: git's own SSH signing, checked against the member registry's keys.

The commit's author name and e-mail are only claims (``git -c user.name=… commit``); a signature
made with a member's SSH key is not. Nothing cryptographic is done here: commits are signed by
``git commit-tree -S`` with ``gpg.format=ssh`` and ``user.signingkey`` given per invocation
(``git -c …``), and verified by ``git log --format=%G?…`` with an allowed-signers file
(``gpg.ssh.allowedSignersFile``), git calling ``ssh-keygen -Y sign/verify`` itself.

- A **member entry** may carry ``signing_key: "ssh-ed25519 AAAA…"`` (the public key);
  ``planeco kb members set-key`` writes it (a moderator, or a member for themself).
- The knowledge base's **settings** live in its marker ``planeco-kb.yaml`` (read by
  :mod:`~.integrity`, changed only by a moderator's commit, ``planeco kb settings``):
  ``signatures: optional|required`` (default ``optional``, so existing bases keep working) and
  ``service_key:``, the public key of the hub's knowledge-base service.
- **Who signs**: a local install signs with ``PLANECO_KB_SIGNING_KEY`` (a key file, private or
  public with an agent) or else with the repository's ``user.signingkey`` when its
  ``gpg.format`` is ``ssh``; the hub service signs with its own key (generated at first start
  into its state directory) once that key is the base's ``service_key``, and names the hub user
  it checked the token of in the trailer ``Planeco-Hub-User: <name>``.
- **What is checked** (:func:`commit_reason`): a good signature must be by the key of the member
  who committed (the author, or the moderator acting on their behalf), or by the service key
  with a trailer naming that member's hub user; a signature by any other key, or a bad one, is
  illegitimate under both policies. Under ``required`` an unsigned commit is illegitimate too;
  under ``optional`` it is judged by its e-mail addresses as before. The trailer of an unsigned
  commit, or of one not signed by the service, means nothing. An OpenPGP signature (``gpg``) is
  not checked and counts as none.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from planeco_kernel.knowledge.errors import InvalidInputError, KnowledgeError

POLICIES = ("optional", "required")
KEY_VARIABLE = "PLANECO_KB_SIGNING_KEY"
HUB_TRAILER = "Planeco-Hub-User"
MIN_GIT = (2, 34)
_KEY = re.compile(r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|"
                  r"sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) ([A-Za-z0-9+/]+={0,3})(?: .*)?$")  # fmt: skip
_TRAILER = re.compile(rf"^{HUB_TRAILER}: *(\S+) *$", re.M)


class SigningError(KnowledgeError):
    """A commit could not be signed (git too old, key file missing or refused by ssh-keygen)."""


# ---------------------------------------------------------------------- keys
def public_key(value: Any) -> str:
    """A validated SSH public key ``"<type> <base64>"`` (comment dropped); ``""`` stays ``""``.

    Raises
    ------
    InvalidInputError
        When it is not one line of an OpenSSH public key (``ssh-ed25519 AAAA…``).
    """
    if value in (None, ""):
        return ""
    m = _KEY.match(str(value).strip()) if isinstance(value, str) and "\n" not in value.strip() else None
    if m is None:
        raise InvalidInputError("Clé de signature invalide : donnez une clé publique SSH sur une ligne (« ssh-ed25519 AAAA… », "
                                "le contenu d'un fichier .pub), pas la clé privée.")  # fmt: skip
    try:
        base64.b64decode(m.group(2), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError("Clé de signature invalide : la partie base64 est illisible.") from None
    return f"{m.group(1)} {m.group(2)}"


def fingerprint(key: str) -> str:
    """The ``SHA256:…`` fingerprint git shows for a signature (``%GK``), as ``ssh-keygen -l`` prints it."""
    blob = base64.b64decode(key.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def read_public_key(path: str | os.PathLike) -> str:
    """The public key of a key file (``x.pub``, or ``x`` whose ``x.pub`` sits beside it)."""
    p = Path(path).expanduser()
    for cand in (p, p.with_name(p.name + ".pub")):
        if cand.is_file():
            try:
                text = cand.read_text("utf-8").strip()
            except (OSError, UnicodeDecodeError):
                continue
            if _KEY.match(text):
                return public_key(text)
    raise InvalidInputError(f"Aucune clé publique SSH lisible dans {p} (ni {p}.pub) : donnez le fichier .pub de votre clé.")


def generate_key(directory: Path, name: str = "signing_key") -> Path:
    """The ed25519 key at ``directory/name``, made with ``ssh-keygen -t ed25519 -N ""`` if absent."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = directory / name
    if not key.exists():
        r = subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "planeco-kb-service", "-f", str(key)],
                           capture_output=True, text=True)  # fmt: skip
        if r.returncode != 0:
            raise SigningError(f"Impossible de créer la clé de signature du service dans {directory} : {r.stderr.strip()}")
    return key


# ---------------------------------------------------------------------- settings (in the marker)
def settings_of(marker: dict[str, Any]) -> tuple[dict[str, str], str]:
    """``(settings, problem)`` from the parsed marker: ``signatures`` and ``service_key`` (problem: French, or '')."""
    pol = marker.get("signatures", "optional") or "optional"
    if pol not in POLICIES:
        return {"signatures": "optional", "service_key": ""}, f"réglage « signatures » inconnu « {str(pol)[:30]} »"
    try:
        key = public_key(marker.get("service_key") or "")
    except InvalidInputError:
        return {"signatures": pol, "service_key": ""}, "clé du service (service_key) invalide"
    return {"signatures": pol, "service_key": key}, ""


def parse_marker(data: bytes) -> dict[str, Any] | None:
    """The marker's YAML mapping, None if unreadable."""
    import yaml

    try:
        d = yaml.safe_load(data.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return None
    return d if isinstance(d, dict) else None


def marker_change(old: bytes, new: bytes, *, by_moderator: bool) -> tuple[dict[str, str], str]:
    """``(new settings, why the change is illegitimate or '')`` for a commit changing the marker."""
    if not by_moderator:
        return {}, "marqueur de la base (réglages) modifié par un commit qui n'est pas d'un·e modérateur·rice"
    o, n = parse_marker(old), parse_marker(new)
    if o is None or n is None or o.get("format") != n.get("format"):
        return {}, "marqueur de la base modifié : illisible, ou son format changé"
    settings, problem = settings_of(n)
    return settings, f"marqueur de la base : {problem}" if problem else ""


# ---------------------------------------------------------------------- git
def git_env() -> dict[str, str]:
    """The environment for git subprocesses, without variables that redirect the repository."""
    drop = {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def git_supports_ssh_signing() -> bool:
    git = shutil.which("git")
    if not git or not shutil.which("ssh-keygen"):
        return False
    out = subprocess.run([git, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"(\d+)\.(\d+)", out)
    return bool(m) and (int(m.group(1)), int(m.group(2))) >= MIN_GIT


def local_key(root: Path) -> str:
    """The key file this install signs with: ``PLANECO_KB_SIGNING_KEY``, else an ssh ``user.signingkey`` ('' if none)."""
    env = os.environ.get(KEY_VARIABLE, "").strip()
    if env:
        return env
    from dulwich.repo import Repo

    try:
        with Repo(str(root)) as repo:
            cfg = repo.get_config_stack()
            fmt = cfg.get((b"gpg",), b"format").decode().strip()
            key = cfg.get((b"user",), b"signingkey").decode().strip()
    except (KeyError, OSError, UnicodeDecodeError):
        return ""
    return key if fmt == "ssh" else ""


def signed_commit(root: Path, *, tree: bytes, parents: list[bytes], author: bytes, committer: bytes,
                  timestamp: int, message: str, key: str) -> bytes:  # fmt: skip
    """Write a commit signed with ``key`` by ``git commit-tree -S`` (nothing is moved); return its sha."""
    if not git_supports_ssh_signing():
        raise SigningError("Signer les commits demande git 2.34 ou plus récent et ssh-keygen : installez-les, ou retirez "
                           f"la clé de signature configurée ({KEY_VARIABLE} / user.signingkey).")  # fmt: skip

    def split(ident: bytes) -> tuple[str, str]:
        s = ident.decode("utf-8")
        name, _, mail = s.rpartition(" <")
        return name, mail.rstrip(">")

    an, ae = split(author)
    cn, ce = split(committer)
    env = {**git_env(), "GIT_AUTHOR_NAME": an, "GIT_AUTHOR_EMAIL": ae, "GIT_AUTHOR_DATE": f"@{timestamp} +0000",
           "GIT_COMMITTER_NAME": cn, "GIT_COMMITTER_EMAIL": ce, "GIT_COMMITTER_DATE": f"@{timestamp} +0000"}  # fmt: skip
    cmd = ["git", "-c", "gpg.format=ssh", "-c", f"user.signingkey={key}", "-c", "commit.gpgsign=true",
           "commit-tree", tree.decode(), "-S"]  # fmt: skip
    for p in parents:
        cmd += ["-p", p.decode()]
    r = subprocess.run(cmd, cwd=root, input=message.encode("utf-8"), capture_output=True, env=env)
    if r.returncode != 0:
        raise SigningError(f"La signature du commit a échoué avec la clé {key} : {r.stderr.decode('utf-8', 'replace').strip()}")
    return r.stdout.strip()


def signatures(root: Path, shas: list[str], keys: dict[str, str]) -> dict[str, tuple[str, str]]:
    """``sha → (%G?, %GK)`` for signed commits, verified by git with ``keys`` (principal → public key) as allowed signers.

    ``G``/``U``: good signature (``U``: by a key the allowed-signers file does not list), ``%GK``
    its key's fingerprint; ``B``: bad; ``E``: cannot be checked; ``N``: none.
    """
    if not shas:
        return {}
    if not git_supports_ssh_signing():
        return {s: ("E", "") for s in shas}
    with tempfile.TemporaryDirectory(prefix="planeco-signers-") as tmp:
        allowed = Path(tmp) / "allowed_signers"
        allowed.write_text("".join(f'{who} namespaces="git" {k}\n' for who, k in sorted(keys.items()) if k), "utf-8")
        r = subprocess.run(["git", "-c", f"gpg.ssh.allowedSignersFile={allowed}", "log", "--no-walk=unsorted", "--stdin",
                            "--format=%H%x00%G?%x00%GK"], cwd=root, input="\n".join(shas) + "\n", capture_output=True,
                           text=True, env=git_env())  # fmt: skip
    out: dict[str, tuple[str, str]] = {s: ("E", "") for s in shas}
    for line in r.stdout.splitlines():
        parts = line.split("\0")
        if len(parts) == 3:
            out[parts[0]] = (parts[1], parts[2])
    return out


# ---------------------------------------------------------------------- the rule
def ssh_signed(gpgsig: bytes | None) -> bool:
    """Whether a commit carries an SSH signature (an OpenPGP one is not checked: it counts as unsigned)."""
    return bool(gpgsig) and gpgsig.lstrip().startswith(b"-----BEGIN SSH SIGNATURE-----")


def hub_user_of(message: bytes) -> str:
    """The hub user a service commit names (``Planeco-Hub-User:`` trailer), '' if none."""
    found = _TRAILER.findall(message.decode("utf-8", "replace"))
    return found[-1] if len(found) == 1 else ""


def commit_reason(sig: tuple[str, str] | None, *, policy: str, service_key: str, committer: str,
                  keys: dict[str, str], hub_users: dict[str, str], message: bytes) -> str:  # fmt: skip
    """Why a commit's signature makes its changes illegitimate (French), '' when it does not.

    ``sig``: ``(%G?, %GK)`` or None for an unsigned commit; ``committer``: the member id the
    commit's committer e-mail matches ('' if none); ``keys``/``hub_users``: member id → public
    key / hub user name, from the registry at that point of history.
    """
    if sig is None or sig[0] == "N":
        return "commit non signé (la base exige des commits signés avec une clé SSH)" if policy == "required" else ""
    status, fp = sig
    if status == "B":
        return "signature invalide (le commit a été modifié après sa signature)"
    if status not in ("G", "U") or not fp:
        return "signature invérifiable ici (git 2.34 ou plus récent et ssh-keygen sont nécessaires pour la vérifier)"
    if service_key and fp == fingerprint(service_key):
        user = hub_user_of(message)
        if not user:
            return "signé par le service de la base sans nommer d'utilisateur·rice du hub (Planeco-Hub-User)"
        if not committer or hub_users.get(committer) != user:
            return f"signé par le service pour « {user} », qui n'est pas le membre qui a commis"
        return ""
    mine = keys.get(committer, "")
    if mine and fingerprint(mine) == fp:
        return ""
    return "signé par une clé qui n'est pas celle de l'auteur·rice (ni celle du service de la base)"
