"""The ``smsbridge`` command line: a click group, thin over the library.

Each command parses its options, calls one library function, formats the result
and maps SmsBridgeError to one clear line (exit 1; config errors exit 2). Commands
live in small modules by area and register themselves on ``main``.
"""

from __future__ import annotations

import functools
import io
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

import click

from smsbridge import __version__, i18n
from smsbridge.clock import Clock, SystemClock
from smsbridge.config import load as config_mod
from smsbridge.errors import ConfigError, InvalidInput, SmsBridgeError

if TYPE_CHECKING:
    from smsbridge.triage.urgent import Deadlines


def _chosen_language(argv: list[str], environ: dict[str, str] | os._Environ[str]) -> str:
    """The operator's language, decided before any command's help text is made: their
    variables, else ``[desk] language`` of the config this run will read. A config that
    cannot be read here says so later, when the command loads it."""
    explicit = None
    for i, arg in enumerate(argv):
        if arg == "--config" and i + 1 < len(argv):
            explicit = argv[i + 1]
            break
        if arg.startswith("--config="):
            explicit = arg.partition("=")[2]
            break
    configured = None
    try:
        path = config_mod.find_config_path(explicit, dict(environ))
        if path is not None:
            import tomllib

            desk = tomllib.loads(path.read_text(encoding="utf-8")).get("desk", {})
            configured = desk.get("language") if isinstance(desk, dict) else None
    except (OSError, ValueError, UnicodeDecodeError):
        pass
    return i18n.choose(configured if isinstance(configured, str) else None, environ)


i18n.install(_chosen_language(sys.argv[1:], os.environ))


@dataclass
class AppContext:
    """Shared state of one CLI invocation; the config is loaded on first use. ``clock``
    is the one "now" of the invocation, handed to whatever the command opens."""

    config_path: str | None = None
    clock: Clock = field(default_factory=SystemClock)
    _config: config_mod.Config | None = field(default=None, repr=False)

    @property
    def config(self) -> config_mod.Config:
        if self._config is None:
            self._config = config_mod.load(self.config_path)
            apply_privacy(self._config)
        return self._config

    @property
    def zone(self) -> tzinfo | None:
        """The zone of every time shown and typed: ``[desk] timezone``, else None (the
        box's own)."""
        name = self.config.desk.timezone
        if not name:
            return None
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)

    @property
    def deadlines(self) -> Deadlines:
        """``[desk] deadlines``: how long a case may stay in each open status."""
        from smsbridge.triage.urgent import Deadlines

        return Deadlines.parse(self.config.desk.deadlines)


def apply_privacy(cfg: config_mod.Config) -> None:
    """``[privacy]``'s mask for every number this process shows, logs or hands on."""
    from smsbridge.privacy import MaskPolicy, set_mask_policy

    set_mask_policy(MaskPolicy(prefix=cfg.privacy.mask_prefix,
                               last_digits=cfg.privacy.mask_last_digits))


pass_app = click.make_pass_decorator(AppContext, ensure=True)


class ConfigUsageError(click.ClickException):
    exit_code = 2


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain errors into one line on stderr and a non-zero exit, never a traceback.

    Arguments that are not text (bytes that are not UTF-8, which Python hands over as
    lone surrogates) are refused first, except paths, which may be any bytes; a file
    the system refuses (missing directory, not writable) is one line naming it.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            _refuse_undecodable(click.get_current_context(silent=True))
            return fn(*args, **kwargs)
        except ConfigError as exc:
            raise ConfigUsageError(str(exc)) from None
        except SmsBridgeError as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            if exc.filename is None:
                raise
            raise click.ClickException(f"{exc.filename}: {exc.strerror or exc}") from None

    return wrapper


_UNDECODABLE = re.compile("[\ud800-\udfff]")


def _refuse_undecodable(ctx: click.Context | None) -> None:
    if ctx is None:
        return
    for param in ctx.command.params:
        if isinstance(param.type, click.Path | click.File):
            continue
        value = ctx.params.get(param.name or "")
        for item in value if isinstance(value, tuple | list) else (value,):
            if isinstance(item, str) and _UNDECODABLE.search(item):
                raise ConfigUsageError(
                    i18n._("{option} is not valid text (bytes that are not UTF-8); check "
                           "the terminal's character set").format(
                        option=param.get_error_hint(ctx)))


_MAX_NAME = 64


def operator_name(explicit: str | None) -> str:
    """``--as NAME``, else ``$SMSBRIDGE_OPERATOR``, else the login name.

    The name is what the history shows; the OS account is recorded beside it whatever
    is given here (``identity.os_login``), so a name is never a way around the audit.
    An empty ``--as`` is refused rather than recorded as nobody.
    """
    if explicit is not None:
        return _checked_name(explicit, "--as")
    from_env = os.environ.get("SMSBRIDGE_OPERATOR", "")
    if from_env.strip():
        return _checked_name(from_env, "$SMSBRIDGE_OPERATOR")
    from smsbridge.identity import os_login

    return os_login()


def _checked_name(name: str, where: str) -> str:
    from smsbridge.privacy import neutralise

    clean = name.strip()
    if not clean:
        raise InvalidInput(i18n._("{option} needs a name; leave it out to be recorded by "
                                  "your login name").format(option=where))
    if neutralise(clean) != clean or _UNDECODABLE.search(clean):
        raise InvalidInput(i18n._("{option}: a name cannot hold control or invisible "
                                  "characters or bytes that are not text").format(option=where))
    if len(clean) > _MAX_NAME:
        raise InvalidInput(i18n._("{option}: a name has at most {count} characters").format(
            option=where, count=_MAX_NAME))
    return clean


# Which module defines each command: running one command imports only its module
# (start-up time is most of a short command's time). A command missing here still
# works, after importing every module; tests/test_cli_cases.py keeps the table true.
COMMAND_MODULES = {
    "cases": "cases_cmd", "config": "config_cmd", "daemon": "daemon_cmd",
    "status": "daemon_cmd", "demo": "demo_cmd", "emulator": "emulator_cmd",
    "modem": "modem_cmd", "stats": "report_cmd", "export": "report_cmd",
    "report": "report_cmd",
    "messages": "messages_cmd", "outbox": "outbox_cmd", "audit": "audit_cmd",
    "backup": "backup_cmd", "retention": "retention_cmd",
}


def register_all() -> None:
    """Import every command module; each attaches its commands to ``main``."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


class _TranslatedHelp:
    """Help texts stay English in the code (docstrings, ``help=``) and are translated
    when shown, so that tools/catalog.py extracts them from the commands themselves."""

    _texts_translated = False
    help: str | None
    short_help: str | None
    epilog: str | None
    params: list[click.Parameter]

    def _translate_texts(self) -> None:
        if self._texts_translated:
            return
        self._texts_translated = True
        import inspect

        # As tools/catalog.py extracts them: without the docstring's indentation.
        for name in ("help", "short_help", "epilog"):
            value = getattr(self, name, None)
            if value:
                setattr(self, name, i18n._(inspect.cleandoc(value)))
        for param in self.params:
            if isinstance(param, click.Option) and param.help:
                param.help = i18n._(inspect.cleandoc(param.help))

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._translate_texts()
        super().format_help(ctx, formatter)  # type: ignore[misc]

    def get_short_help_str(self, limit: int = 45) -> str:
        self._translate_texts()
        return super().get_short_help_str(limit)  # type: ignore[misc]


class Command(_TranslatedHelp, click.Command):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", i18n._("[OPTIONS]"))
        super().__init__(*args, **kwargs)


class Group(_TranslatedHelp, click.Group):
    command_class = Command
    group_class: type[click.Group] | type[type] | None = type  # its groups are Groups too

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", i18n._("[OPTIONS]"))
        kwargs.setdefault("subcommand_metavar", i18n._("COMMAND [ARGS]..."))
        super().__init__(*args, **kwargs)


class LazyGroup(Group):
    group_class = Group  # its groups (cases, modem, ...) load nothing lazily themselves

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            import importlib

            module = COMMAND_MODULES.get(cmd_name)
            if module:
                importlib.import_module(f"{__name__}.{module}")
            if cmd_name not in self.commands:
                register_all()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        register_all()
        return super().list_commands(ctx)


@click.group(cls=LazyGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_path", metavar="FILE", type=click.Path(dir_okay=False),
              help="Config file (default: $SMSBRIDGE_CONFIG, then /etc/smsbridge/config.toml).")
@click.version_option(__version__, prog_name="smsbridge")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """smsbridge: citizens' SMS reports from a GSM modem into cases with ticket numbers.

    \b
    Example:
        smsbridge --config /etc/smsbridge/config.toml cases list --status new
    """
    ctx.obj = AppContext(config_path=config_path)
    # A terminal whose character set lacks a citizen's emoji shows an escape
    # (\U0001f600), not a traceback.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")

