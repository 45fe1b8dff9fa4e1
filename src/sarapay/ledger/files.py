"""The ledger file itself: created 0600, checked before SQLite reads it, and SQLite's errors turned into
one French sentence that names the file and says what to do.

Decisions:
- A new ledger is created with os.open(..., 0o600) before SQLite touches it, so there is no moment when it
  is readable by others. SQLite gives its -wal and -shm files the main file's permissions.
- An existing ledger (and its -wal/-shm) loses any group/other permission bits when sarapay opens it: the
  ledger links patients to practitioners and dates, which can be health data. Owner bits are kept as they
  are, so a ledger made read-only on purpose (0400) stays read-only. If the file belongs to someone else
  the chmod fails and the file is left as it is: sarapay does not own the decision then.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import threading
from pathlib import Path

from sarapay import i18n
from sarapay.errors import ConfigError

i18n.register(
    {
        "ledger.damaged": {
            "fr": "Le registre local {path} est endommagé ou n'est pas une base SQLite lisible. "
            "Mettez-le de côté (par exemple : mv {path} {path}.endommage) puis reconstruisez-le depuis Stripe "
            "avec « sarapay sync --rebuild ».",
            "en": "The local ledger {path} is damaged or is not a readable SQLite database. "
            "Move it aside (for example: mv {path} {path}.damaged) then rebuild it from Stripe "
            "with `sarapay sync --rebuild`.",
        },
        "ledger.foreign": {
            "fr": "Le fichier {path} est une base SQLite qui n'appartient pas à sarapay (tables inconnues : {tables}). "
            "sarapay n'y touchera pas : choisissez un autre emplacement (SARAPAY_HOME) ou déplacez ce fichier, "
            "puis lancez « sarapay sync --rebuild ».",
            "en": "The file {path} is an SQLite database that does not belong to sarapay (unknown tables: {tables}). "
            "sarapay will not touch it: choose another location (SARAPAY_HOME) or move this file away, "
            "then run `sarapay sync --rebuild`.",
        },
        "ledger.newer_schema": {
            "fr": "Le registre {path} a été écrit par une version plus récente de sarapay (étapes de schéma inconnues : "
            "{steps}). Mettez sarapay à jour, ou mettez ce fichier de côté et lancez « sarapay sync --rebuild ».",
            "en": "The ledger {path} was written by a newer version of sarapay (unknown schema steps: {steps}). "
            "Upgrade sarapay, or move this file aside and run `sarapay sync --rebuild`.",
        },
        "ledger.unreadable": {
            "fr": "Impossible d'ouvrir le registre {path} ({reason}). Vérifiez que ce chemin désigne un fichier, "
            "que son dossier existe et que vous avez le droit d'y lire et d'y écrire.",
            "en": "Cannot open the ledger {path} ({reason}). Check that this path names a file, that its folder "
            "exists and that you may read and write there.",
        },
        "ledger.missing": {
            "fr": "Le registre {path} n'existe pas encore. Lancez « sarapay sync --rebuild » pour le créer depuis Stripe.",
            "en": "The ledger {path} does not exist yet. Run `sarapay sync --rebuild` to create it from Stripe.",
        },
        "ledger.read_only": {
            "fr": "Le registre {path} est en lecture seule : sarapay ne peut pas y écrire. "
            "Rendez-le modifiable (chmod u+w {path}) ou vérifiez les droits de son dossier, puis relancez la commande.",
            "en": "The ledger {path} is read-only: sarapay cannot write to it. "
            "Make it writable (chmod u+w {path}) or check its folder's permissions, then run the command again.",
        },
        "ledger.needs_upgrade": {
            "fr": "Le registre {path} doit être mis à jour par cette version de sarapay, mais il est ouvert en lecture "
            "seule. Ouvrez-le une fois en écriture (n'importe quelle commande sarapay sans lecture seule).",
            "en": "The ledger {path} needs an upgrade by this version of sarapay, but it is opened read-only. "
            "Open it once with write access (any sarapay command that is not read-only).",
        },
        "ledger.busy": {
            "fr": "Le registre {path} est occupé par une autre commande sarapay depuis plus de {seconds} s. "
            "Réessayez dans un instant ; si cela dure, vérifiez qu'aucune commande sarapay n'est restée bloquée.",
            "en": "The ledger {path} has been busy with another sarapay command for more than {seconds} s. "
            "Try again in a moment; if it persists, check that no sarapay command is stuck.",
        },
        "ledger.disk_full": {
            "fr": "Plus de place sur le disque pour écrire le registre {path}. Libérez de l'espace puis relancez la commande.",
            "en": "No space left on the disk to write the ledger {path}. Free some space then run the command again.",
        },
    }
)

SQLITE_MAGIC = b"SQLite format 3\x00"


def damaged(path: Path, detail: str) -> ConfigError:
    # `detail` is not in the sentence (it is SQLite's English) but stays on the error for debugging.
    return ConfigError("ledger.damaged", path=str(path), detail=detail)


def unreadable(path: Path, reason: str) -> ConfigError:
    return ConfigError("ledger.unreadable", path=str(path), reason=reason)


def create_private(path: Path) -> bool:
    """Create an empty ledger file readable by its owner only. Returns False if it already existed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:  # a parent is a file, or we may not create the folder
        raise unreadable(path, exc.strerror or type(exc).__name__) from exc
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    except FileExistsError:
        return False
    except OSError as exc:
        raise unreadable(path, exc.strerror or type(exc).__name__) from exc
    try:
        os.fchmod(fd, 0o600)  # the umask can only remove bits, but a umask of 0o177 or laxer changes nothing
    finally:
        os.close(fd)
    return True


def tighten(path: Path) -> None:
    """Remove group/other permissions from the ledger and its companions (see the module docstring)."""
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            mode = stat.S_IMODE(os.stat(candidate).st_mode)
            if mode & 0o077:
                os.chmod(candidate, mode & 0o700)
        except (FileNotFoundError, PermissionError):
            continue


DISK_FULL_BELOW = 64 * 1024  # bytes left: less than a few SQLite pages and a -shm file


def disk_full(path: Path) -> bool:
    """Whether the file system holding `path` has (next to) no space left."""
    try:
        return shutil.disk_usage(path.parent).free < DISK_FULL_BELOW
    except OSError:
        return False


def on_read_only_file_system(path: Path) -> bool:
    """Whether the folder holding `path` is on a file system mounted read-only (a backup, a ro volume)."""
    try:
        return bool(os.statvfs(path.parent).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs (Windows) or no such folder: not known to be read-only
        return False


# Files this process has a ledger connection on, by (device, inode) -> how many connections.
# POSIX advisory locks belong to the process, and closing *any* descriptor of a file drops all of them
# (SQLite, "How To Corrupt An SQLite Database File" §2.2): reading the header of a ledger this process
# already has open would drop the SHARED lock its other connections hold, and another process closing
# would then believe it is the last one, checkpoint and delete the WAL under our feet (lost commits). A
# long-running process with several connections (`webhooks serve`) opens the same file many times.
_IN_USE: dict[tuple[int, int], int] = {}
_IN_USE_LOCK = threading.Lock()
OPENING = threading.RLock()  # held by store.open_ledger from the header check to the registration


def _file_key(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)  # stat opens no descriptor
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def opened(path: Path) -> tuple[int, int] | None:
    """Counts a connection of this process on `path`; returns the key to give `closed`."""
    key = _file_key(path)
    if key is not None:
        with _IN_USE_LOCK:
            _IN_USE[key] = _IN_USE.get(key, 0) + 1
    return key


def closed(key: tuple[int, int] | None) -> None:
    if key is None:
        return
    with _IN_USE_LOCK:
        left = _IN_USE.get(key, 0) - 1
        if left > 0:
            _IN_USE[key] = left
        else:
            _IN_USE.pop(key, None)


def check_header(path: Path) -> None:
    """Refuse, before SQLite reads it, a file that is not an SQLite database or is visibly truncated.

    An empty file is a new ledger. A truncated file still opens in SQLite when its first page survived,
    and only fails later, in the middle of a command; the header's page count catches that at open time.
    Skipped while this process has a connection on the file (see _IN_USE: the check itself would drop
    that connection's locks); it was checked when that connection opened.
    """
    key = _file_key(path)
    if key is not None:
        with _IN_USE_LOCK:
            if _IN_USE.get(key):
                return
    try:
        with open(path, "rb") as f:
            header = f.read(100)
            size = os.fstat(f.fileno()).st_size
    except OSError as exc:
        raise unreadable(path, exc.strerror or type(exc).__name__) from exc
    if not header:
        return
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise damaged(path, "not an SQLite file")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    header_trusted = header[24:28] == header[92:96]  # "version-valid-for" matches the change counter
    # A non-empty -wal or -journal means a checkpoint or a transaction may be half-way; SQLite will recover
    # it, and the file may legitimately be shorter than the header says until then.
    recovering = any(_nonempty(path.with_name(path.name + suffix)) for suffix in ("-wal", "-journal"))
    if header_trusted and pages and not recovering and size < pages * page_size:
        raise damaged(path, f"truncated: {size} bytes, header says {pages} pages of {page_size}")


def _nonempty(path: Path) -> bool:
    try:
        return os.stat(path).st_size > 0
    except OSError:
        return False


# SQLite primary result codes (https://www.sqlite.org/rescode.html).
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _PERM, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 3, 26


def translate(exc: sqlite3.Error, path: Path, busy_timeout_ms: int) -> Exception:
    """sarapay's error for a SQLite error about the file, or `exc` itself when it is a bug to show as such."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (_BUSY, _LOCKED):
        return ConfigError("ledger.busy", path=str(path), seconds=max(1, round(busy_timeout_ms / 1000)))
    if primary == _READONLY:
        return ConfigError("ledger.read_only", path=str(path))
    if primary == _FULL or (primary in (_CANTOPEN, _IOERR) and disk_full(path)):
        # A full disk often shows as "unable to open database file": the WAL's -shm cannot be created.
        return ConfigError("ledger.disk_full", path=str(path))
    if primary in (_CORRUPT, _NOTADB):
        return damaged(path, str(exc))
    if primary in (_CANTOPEN, _PERM, _IOERR):
        return unreadable(path, str(exc))
    return exc
