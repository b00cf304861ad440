"""``smsbridge config …``: inspect the effective configuration."""

from __future__ import annotations

import json

import click

from smsbridge.cli import AppContext, handle_errors, main, pass_app
from smsbridge.config import load as config_mod
from smsbridge.i18n import _


@main.group("config")
def config_group() -> None:
    """Inspect the configuration.

    \b
    Example:
        smsbridge --config /etc/smsbridge/config.toml config check
    """


@config_group.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the effective config as JSON.")
@pass_app
@handle_errors
def config_check(app: AppContext, as_json: bool) -> None:
    """Validate the config and print the effective values (the SIM PIN masked).

    Warns (on standard error; with --json, as "warning") when the file holds a
    secret (the SIM PIN, officers' verification words, a hook's credentials) and
    users other than its owner and group may read it.

    \b
    Example:
        smsbridge --config /etc/smsbridge/config.toml config check
    """
    cfg = app.config
    data = config_mod.as_dict(cfg)
    exposed = config_mod.exposed_secrets(cfg)
    if as_json:
        warned = {"warning": exposed} if exposed else {}
        click.echo(json.dumps({"source": cfg.source, **warned, **data}, indent=2))
        return
    if exposed:
        click.echo(_("warning: {problem}").format(problem=exposed), err=True)
    source = cfg.source or _("built-in defaults (no config file found)")
    click.echo("# " + _("config: {source}").format(source=source))
    for section, body in data.items():
        # An array of tables ([[modems]]) prints one table per entry.
        tables = [(f"[[{section}]]", b) for b in body] if isinstance(body, list) else [
            (f"[{section}]", body)]
        for header, table in tables:
            click.echo(f"\n{header}")
            for key, value in table.items():
                click.echo(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    click.echo("\n# " + _("OK: the config is valid"))
