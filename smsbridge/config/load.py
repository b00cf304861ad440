"""Configuration: one TOML file -> the frozen dataclasses of ``sections``.

Lookup order: an explicit path (``--config``), ``$SMSBRIDGE_CONFIG``,
``/etc/smsbridge/config.toml``; with none of them, the defaults, which work for a first
try. Every key is checked: an unknown key, a wrong type or a value out of range is a
ConfigError naming the file, the key and what is expected.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from smsbridge.config.checks import check
from smsbridge.config.roster import secrets_held
from smsbridge.config.sections import ARRAY_SECTIONS, SECTION_CLASSES, Config, ModemConfig
from smsbridge.config.values import check_value
from smsbridge.errors import ConfigError
from smsbridge.privacy import mask_url

SYSTEM_CONFIG = Path("/etc/smsbridge/config.toml")
ENV_VAR = "SMSBRIDGE_CONFIG"


def _section_values(cls: type, name: str, body: Any, path: str | None,
                    where: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ConfigError("expected a table of keys", path=path, key=where)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in body.items():
        f = fields.get(key)
        if f is None:
            raise ConfigError(f"unknown key; known in [{name}]: {', '.join(fields)}",
                              path=path, key=f"{where}.{key}")
        values[key] = check_value(f, value, path, f"{where}.{key}")
    return values


def from_dict(data: dict[str, Any], *, path: str | None = None) -> Config:
    sections: dict[str, Any] = {}
    arrays: dict[str, Any] = {}
    for name, body in data.items():
        if name in ARRAY_SECTIONS:
            arrays[name] = body
            continue
        cls = SECTION_CLASSES.get(name)
        if cls is None:
            known = ", ".join([*SECTION_CLASSES, *(f"[{a}]" for a in ARRAY_SECTIONS)])
            raise ConfigError(f"unknown section; known: {known}", path=path, key=name)
        sections[name] = cls(**_section_values(cls, name, body, path, name))
    if "modems" in arrays:
        entries = arrays["modems"]
        if not isinstance(entries, list) or not entries:
            raise ConfigError("expected one [[modems]] table per modem", path=path, key="modems")
        # [modem] holds what the entries share (timeouts, backend, …); each entry adds its own.
        shared = data.get("modem", {})
        modems = []
        for i, entry in enumerate(entries):
            where = f"modems[{i + 1}]"
            values = {"name": f"modem{i + 1}", **shared,
                      **_section_values(ModemConfig, "modems", entry, path, where)}
            modems.append(ModemConfig(**values))
        sections["modems"] = tuple(modems)
    for name in ("officers", "teams"):
        cls = ARRAY_SECTIONS[name]
        sections[name] = tuple(cls(**_section_values(cls, name, e, path, f"{name}[{i}]"))
                               for i, e in enumerate(arrays.get(name, []), start=1))
    cfg = Config(**sections, source=path)
    check(cfg, path)
    if path and not Path(cfg.database.path).is_absolute():
        # A relative database path is relative to the config file, not to the cwd of
        # whoever runs the CLI: operators and the daemon must open the same file.
        db = str((Path(path).parent / cfg.database.path).resolve())
        cfg = cfg.replace(database={"path": db})
    return cfg


def find_config_path(explicit: str | os.PathLike | None = None,
                     environ: dict[str, str] | None = None) -> Path | None:
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if env.get(ENV_VAR):
        return Path(env[ENV_VAR])
    if SYSTEM_CONFIG.exists():
        return SYSTEM_CONFIG
    return None


def load(explicit: str | os.PathLike | None = None,
         environ: dict[str, str] | None = None) -> Config:
    """Load the effective config (see module docstring for the lookup order)."""
    path = find_config_path(explicit, environ)
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("config file not found", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file: {exc}", path=str(path)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=str(path)) from None
    return from_dict(data, path=str(path))


def as_dict(cfg: Config, *, mask_secrets: bool = True) -> dict[str, Any]:
    """The effective config as plain data; secrets are shown as ``****`` when set.
    ``modems`` is a list of tables (empty when [modem] is the only modem)."""
    out: dict[str, Any] = {}
    for name, cls in SECTION_CLASSES.items():
        out[name] = _section_dict(name, cls, getattr(cfg, name), mask_secrets)
    out["modems"] = [_section_dict("modem", ModemConfig, m, mask_secrets) for m in cfg.modems]
    for name in ("officers", "teams"):
        out[name] = [_section_dict(name, ARRAY_SECTIONS[name], o, mask_secrets)
                     for o in getattr(cfg, name)]
    return out


def _section_dict(name: str, cls: type, section: Any, mask_secrets: bool) -> dict[str, Any]:
    body = {}
    for f in dataclasses.fields(cls):
        value = getattr(section, f.name)
        if mask_secrets and f.metadata.get("secret") and value:
            value = "****"
        elif mask_secrets and (name, f.name) == ("hook", "url") and value:
            value = mask_url(value)
        body[f.name] = value
    return body


# A hook command that passes a secret: a token, a key, a password, an auth header.
_CREDENTIAL = re.compile(r"token|secret|passw|apikey|api[_-]key|bearer|authorization|"
                         r"\s-u\s|--user\b", re.IGNORECASE)


def exposed_secrets(cfg: Config) -> str | None:
    """A warning when the config file holds a secret (the SIM PIN, credentials in the
    hook URL) and every user of the box may read it; None when all is well."""
    held = []
    if any(m.pin for m in cfg.pool_modems):
        held.append("the SIM PIN")
    if cfg.hook.url and mask_url(cfg.hook.url) != cfg.hook.url:
        held.append("credentials in [hook] url")
    if cfg.hook.command and _CREDENTIAL.search(cfg.hook.command):
        held.append("what looks like credentials in [hook] command")
    held += secrets_held(cfg)
    if not held or not cfg.source:
        return None
    try:
        mode = os.stat(cfg.source).st_mode
    except OSError:
        return None
    if not mode & 0o004:
        return None
    return (f"{cfg.source} holds {' and '.join(held)} and is readable by every user; "
            f"make it readable by root and the smsbridge group only (chmod 640)")
