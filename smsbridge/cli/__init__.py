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
from typing import Any

import click

from smsbridge import __version__
from smsbridge.clock import Clock, SystemClock
from smsbridge.config import load as config_mod
from smsbridge.errors import ConfigError, InvalidInput, SmsBridgeError


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
                    f"{param.get_error_hint(ctx)} is not valid text (bytes that are not "
                    "UTF-8); check the terminal's character set")


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
        raise InvalidInput(f"{where} needs a name; leave it out to be recorded by your "
                           "login name")
    if neutralise(clean) != clean or _UNDECODABLE.search(clean):
        raise InvalidInput(f"{where}: a name cannot hold control or invisible characters "
                           "or bytes that are not text")
    if len(clean) > _MAX_NAME:
        raise InvalidInput(f"{where}: a name has at most {_MAX_NAME} characters")
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
}


def register_all() -> None:
    """Import every command module; each attaches its commands to ``main``."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


class LazyGroup(click.Group):
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

