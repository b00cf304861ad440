"""The operators' language catalogues: extract, update, check.

    python3 tools/catalog.py update    marked strings -> smsbridge/locale/smsbridge.pot,
                                       and new ones into each language's .po to translate
    python3 tools/catalog.py check     what is untranslated, fuzzy, or has placeholders
                                       that differ from the English (exit 1 if any)
    python3 tools/catalog.py compile   the .mo files beside the .po sources, as an
                                       editable install does (after editing a .po)

Strings are marked in the package with ``_()``, ``N_()``, ``ngettext()`` and
``pgettext()`` (smsbridge/i18n.py). Click's own usage and error texts are extracted
from the installed click, so they are translated with ours. Needs Babel (a test
dependency; the built package only carries the compiled .mo files).
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "smsbridge"
LOCALE = PACKAGE / "locale"
TEMPLATE = LOCALE / "smsbridge.pot"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2),
            "NP_": ((1, "c"), 2)}
CLICK_KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}
# {name}, {name:>6}, {0}, %s, %(name)s, %d: what must survive translation unchanged.
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")


def _click_dir() -> Path:
    import click

    return Path(click.__file__).parent


def _package_version() -> str:
    found = re.search(r"^version = (\S+)", (ROOT / "setup.cfg").read_text(encoding="utf-8"), re.M)
    return found.group(1) if found else ""


def _click_version() -> str:
    from importlib.metadata import version

    return version("click")


# The mark of click's own texts: a newer click may bring texts the catalogue has not
# translated yet; they show in English until the catalogue is updated, and only the
# click the catalogue was made with is held to completeness.
CLICK = "click"

HEADER = dict(project="smsbridge", domain="smsbridge", copyright_holder="the smsbridge authors",
              msgid_bugs_address="the smsbridge issue tracker")


def template() -> Catalog:
    """Every marked string of the package and of click, as one template."""
    catalogue = Catalog(**HEADER, version=_package_version(), fuzzy=False,  # type: ignore[arg-type]
                        header_comment=f"# smsbridge's operators' texts, with click "
                                       f"{_click_version()}'s own.")
    sources = [(PACKAGE, KEYWORDS, "smsbridge/"), (_click_dir(), CLICK_KEYWORDS, None)]
    for directory, keywords, prefix in sources:
        for filename, lineno, message, comments, context in extract_from_dir(
                str(directory), keywords=keywords, comment_tags=("TRANSLATORS:",),
                strip_comment_tags=True):
            if filename.startswith(("emulator/", "locale/")):
                continue
            # click's lines are named without a path: the template must not depend on
            # where click happens to be installed.
            locations = [(prefix + filename, lineno)] if prefix else []
            catalogue.add(message, locations=locations,
                          auto_comments=list(comments) if prefix else [*comments, CLICK],
                          context=context)
    for text, module in _help_texts():
        catalogue.add(text, locations=[(module, 0)], auto_comments=["help text"])
    return catalogue


def _help_texts() -> list[tuple[str, str]]:
    """Every command's help, short help and options' help, as click keeps them (the CLI
    translates them when it shows them, cli/__init__.py)."""
    import inspect
    import os

    import click

    os.environ["SMSBRIDGE_LANG"] = "en"  # click's own option texts as click wrote them
    from smsbridge import cli

    cli.register_all()
    found: list[tuple[str, str]] = []
    todo: list[click.Command] = [cli.main]
    while todo:
        command = todo.pop(0)
        callback = inspect.unwrap(command.callback) if command.callback else None
        source = Path(inspect.getsourcefile(callback) or "") if callback else ROOT
        where = str(source.relative_to(ROOT)) if source.is_relative_to(ROOT) else "click"
        texts = [command.help, command.short_help, command.epilog]
        texts += [p.help for p in command.params if isinstance(p, click.Option)]
        found += [(inspect.cleandoc(text), where) for text in texts if text]
        if isinstance(command, click.Group):
            todo += [command.commands[name] for name in sorted(command.commands)]
    return found


def _write(catalogue: Catalog, path: Path, **options: object) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalogue, width=88, sort_output=False, **options)  # type: ignore[arg-type]
    path.write_bytes(buffer.getvalue())


def languages() -> list[Path]:
    return sorted(LOCALE.glob("*/LC_MESSAGES/smsbridge.po"))


def update() -> None:
    fresh = template()
    _write(fresh, TEMPLATE, omit_header=False)
    for po in languages():
        with po.open("rb") as source:
            catalogue = read_po(source, locale=po.parent.parent.name)
        catalogue.update(fresh, no_fuzzy_matching=True)
        catalogue.fuzzy = False
        catalogue.header_comment = (f"# The operators' texts of smsbridge in "
                                    f"{catalogue.locale.english_name}, with click "
                                    f"{_click_version()}'s own.")
        catalogue.last_translator = catalogue.language_team = "the smsbridge desk team"
        catalogue.msgid_bugs_address = str(HEADER["msgid_bugs_address"])
        catalogue.version = _package_version()
        _write(catalogue, po, ignore_obsolete=True)


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def problems(po: Path) -> list[str]:
    """What a language's catalogue lacks against the code as it is now."""
    with po.open("rb") as source:
        catalogue = read_po(source, locale=po.parent.parent.name)
    found = []
    wanted = template()
    same_click = f"click {_click_version()}'s own" in (catalogue.header_comment or "")
    for message in wanted:
        if not message.id:
            continue
        have = catalogue.get(message.id, context=message.context)
        where = message.id if isinstance(message.id, str) else message.id[0]
        if have is None or not have.string or (
                isinstance(have.string, tuple) and not all(have.string)):
            if same_click or not (CLICK in message.auto_comments and not message.locations):
                found.append(f"untranslated: {where!r}")
            continue
        if have.fuzzy:
            found.append(f"fuzzy: {where!r}")
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        translated = have.string if isinstance(have.string, tuple) else (have.string,)
        for text in translated:
            if _placeholders(text) != _placeholders(english[-1]) and _placeholders(
                    text) != _placeholders(english[0]):
                found.append(f"placeholders differ: {where!r} -> {text!r}")
    return found


def compile_in_place() -> list[str]:
    """What the build does (setup.py), for a checkout run in place."""
    import runpy

    build = runpy.run_path(str(ROOT / "setup.py"), run_name="catalog")
    return build["compile_catalogues"](PACKAGE, PACKAGE)


def main(argv: list[str]) -> int:
    if argv == ["update"]:
        update()
        return 0
    if argv == ["compile"]:
        print("\n".join(compile_in_place()))
        return 0
    if argv == ["check"]:
        bad = [f"{po.parent.parent.name}: {p}" for po in languages() for p in problems(po)]
        print("\n".join(bad) or "every marked string is translated")
        return 1 if bad else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
