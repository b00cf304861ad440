"""The ``smsbridge`` command line: a click group, thin over the library.

Each command parses its options, calls one library function, formats the result
and maps SmsBridgeError to one clear line (exit 1; config errors exit 2). Commands
live in small modules by area and register themselves on ``main``.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click

from smsbridge import __version__
from smsbridge import config as config_mod
from smsbridge.errors import ConfigError, SmsBridgeError


@dataclass
class AppContext:
    """Shared state of one CLI invocation; the config is loaded on first use."""

    config_path: str | None = None
    _config: config_mod.Config | None = field(default=None, repr=False)

    @property
    def config(self) -> config_mod.Config:
        if self._config is None:
            self._config = config_mod.load(self.config_path)
        return self._config


pass_app = click.make_pass_decorator(AppContext, ensure=True)


class ConfigUsageError(click.ClickException):
    exit_code = 2


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain errors into one line on stderr and a non-zero exit, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            raise ConfigUsageError(str(exc)) from None
        except SmsBridgeError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def operator_name(explicit: str | None) -> str:
    """``--as NAME``, else ``$SMSBRIDGE_OPERATOR``, else the login name."""
    if explicit:
        return explicit
    if os.environ.get("SMSBRIDGE_OPERATOR"):
        return os.environ["SMSBRIDGE_OPERATOR"]
    try:
        return os.getlogin()
    except OSError:
        import getpass

        return getpass.getuser()


def setup_cli_logging(level: str = "WARNING") -> None:
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, level, logging.WARNING),
                        format="%(levelname)s %(name)s: %(message)s")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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


def _register() -> None:
    # Importing the command modules attaches their commands to ``main``.
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


_register()
