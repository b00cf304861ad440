"""Files the CLI writes for an operator (``export -o FILE``): they hold reporters' cases,
so they are private, never written through a symbolic link, and never left half-written.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import click

from smsbridge.i18n import _

# Owner read/write, group read: operators share exports, nobody else reads them.
EXPORT_MODE = 0o640


def shown(path: str) -> str:
    """``path`` fit for a message; undecodable bytes of a file name are escaped, since
    printing them as they are would fail."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


@contextmanager
def private_file(path: str) -> Iterator[TextIO]:
    """A text file that appears at ``path``, mode 0640 whatever the umask, only once the
    block ends without an error.

    It is written under a temporary name beside ``path`` and renamed into place: a
    failed export leaves nothing behind, and an earlier file at ``path`` stays whole
    until the new one is complete. The rename replaces the name, so a link at ``path``
    is never written through; a symbolic link there is refused, being someone's
    pointer elsewhere. Any problem with the path is one line (click.ClickException).
    """
    name = shown(path)
    _check_target(path, name)
    directory = os.path.dirname(path) or "."
    try:
        # mkstemp: O_EXCL | O_NOFOLLOW, mode 0600 until fchmod below.
        fd, temp = tempfile.mkstemp(prefix=".smsbridge-", suffix=".part", dir=directory)
    except OSError as exc:
        raise _cannot_write(name, exc, directory) from None
    try:
        os.fchmod(fd, EXPORT_MODE)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.rename(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise _cannot_write(name, exc, directory) from None
        raise


def _check_target(path: str, name: str) -> None:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _cannot_write(name, exc, os.path.dirname(path) or ".") from None
    if stat.S_ISLNK(mode):
        raise click.ClickException(_("{file} is a symbolic link; not writing through it "
                                     "(remove it or choose another file name)").format(file=name))
    if stat.S_ISDIR(mode):
        raise click.ClickException(_("{file} is a directory; give a file name").format(file=name))
    if not stat.S_ISREG(mode):
        raise click.ClickException(_("{file} is not a regular file; give a file name").format(
            file=name))


def _cannot_write(name: str, exc: OSError, directory: str) -> click.ClickException:
    if isinstance(exc, FileNotFoundError):
        why = _("directory {directory} does not exist").format(directory=shown(directory))
    elif isinstance(exc, NotADirectoryError):
        why = _("{directory} is not a directory").format(directory=shown(directory))
    elif isinstance(exc, IsADirectoryError):
        why = _("it is a directory")
    else:
        why = exc.strerror or str(exc)
    return click.ClickException(_("cannot write {file}: {why}; nothing was written").format(
        file=name, why=why))
