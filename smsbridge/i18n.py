"""The language the desk reads: gettext catalogues, chosen once per CLI process.

The desk and the officers read Bahasa Indonesia by default; English stays complete.
Strings are marked with ``_()`` (and ``ngettext`` where a number decides the form);
texts defined before a language can be known (table headers, click's help, names of
statuses) are marked with ``N_()`` and translated where they are shown.

Only the CLI calls :func:`install`. The daemon never does, so the journal stays in
English for administrators and for searching; stable interfaces (``--json``, CSV
headers, exit codes, the database) keep English codes whatever the language.

Choosing: ``SMSBRIDGE_LANG`` first, then the usual locale variables (``LANGUAGE``,
``LC_ALL``, ``LC_MESSAGES``, ``LANG``) when they name a language we have, then
``[desk] language`` in the config, then Indonesian. ``C`` and ``POSIX`` name none.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Mapping
from pathlib import Path

LANGUAGES = ("id", "en")
DEFAULT = "id"
DOMAIN = "smsbridge"
LOCALE_DIR = Path(__file__).parent / "locale"
ENV_VAR = "SMSBRIDGE_LANG"
LOCALE_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def _known(value: str) -> str | None:
    """The language a locale value names ("id_ID.UTF-8" -> "id"), if we have it."""
    for item in value.split(":"):  # LANGUAGE may list several, best first
        code = item.split(".")[0].split("@")[0].split("_")[0].split("-")[0].lower()
        if code in LANGUAGES:
            return code
        if code == "in":  # Java's and old glibc's code for Indonesian
            return "id"
    return None


def choose(configured: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """The language for this operator: their own variables, else the line's choice."""
    for name in (ENV_VAR, *LOCALE_VARS):
        found = _known(environ.get(name, ""))
        if found:
            return found
    return configured if configured in LANGUAGES else DEFAULT


def install(language: str) -> None:
    """Translate this process's texts into ``language``, click's own included.

    Click marks its usage and error texts with the standard library's ``gettext`` in
    the global domain, as the Python docs describe for applications; so the domain
    becomes ours and LANGUAGE names the choice (for this process and what it starts).
    """
    global _translation, _language
    _language = language if language in LANGUAGES else DEFAULT
    _translation = gettext.translation(DOMAIN, LOCALE_DIR, [_language], fallback=True)
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = _language


def language() -> str:
    """The language installed ("en" until :func:`install` is called)."""
    return _language


def _(message: str) -> str:
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """A short word whose translation depends on where it stands (a column, a verb)."""
    return _translation.pgettext(context, message)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it yet."""
    return message


def NP_(context: str, message: str) -> str:
    """Mark ``message`` in ``context`` for the catalogue without translating it yet."""
    return message
