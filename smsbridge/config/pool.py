"""The pool's config checks: each ``[[modems]]`` entry on its own, then the pool as a
whole (names and ports unique, someone to receive the reports and someone to answer
them), and what makes two ports one device or a number an on-net prefix.

``load`` reads the tables like its others (every key checked against its type); what
needs the whole pool is here, as ``roster`` is for the officers'.
"""

from __future__ import annotations

import os

from smsbridge.config.sections import ROUTES, Config, ModemConfig
from smsbridge.errors import ConfigError


def _modem_key(cfg: Config, i: int, key: str) -> str:
    return f"modems[{i + 1}].{key}" if cfg.modems else f"modem.{key}"


def check_pool(cfg: Config, path: str | None) -> None:
    """Each modem on its own, then the pool: names and ports unique, someone to
    receive the reports and someone to answer them."""
    names: dict[str, int] = {}
    ports: dict[str, int] = {}
    for i, modem in enumerate(cfg.pool_modems):
        if modem.pin and not (modem.pin.isdigit() and 4 <= len(modem.pin) <= 8):
            raise ConfigError("expected 4 to 8 digits", path=path, key=_modem_key(cfg, i, "pin"))
        if not modem.port:
            raise ConfigError("expected a device path or a pyserial URL", path=path,
                              key=_modem_key(cfg, i, "port"))
        if not (modem.name and len(modem.name) <= 32
                and all(c.isascii() and (c.isalnum() or c in "-_.") for c in modem.name)):
            raise ConfigError(f"expected up to 32 letters, digits, '-', '_' or '.', got "
                              f"{modem.name!r}", path=path, key=_modem_key(cfg, i, "name"))
        if modem.name in names:
            raise ConfigError(f"two modems are named {modem.name!r}", path=path,
                              key=_modem_key(cfg, i, "name"))
        names[modem.name] = i
        where = port_identity(modem)
        if where in ports:
            other = cfg.pool_modems[ports[where]].name
            raise ConfigError(f"{modem.name!r} and {other!r} are on one port ({modem.port}): "
                              "one program, one owner per port", path=path,
                              key=_modem_key(cfg, i, "port"))
        ports[where] = i
        for prefix in modem.prefixes:
            if normalize_prefix(prefix, cfg.daemon.country_code) is None:
                raise ConfigError(f"expected a number prefix such as 0811 or +62811, got "
                                  f"{prefix!r}", path=path, key=_modem_key(cfg, i, "prefixes"))
    roles = {m.role for m in cfg.pool_modems}
    if not roles & {"receive", "both"}:
        raise ConfigError("no modem receives: give one role = \"receive\" or \"both\"",
                          path=path, key="modems")
    if not roles & {"send", "both"}:
        raise ConfigError("no modem sends replies: give one role = \"send\" or \"both\"",
                          path=path, key="modems")
    for route in cfg.pool.route:
        if route not in ROUTES:
            raise ConfigError(f"expected some of {', '.join(ROUTES)}, got {route!r}",
                              path=path, key="pool.route")


def port_identity(modem: ModemConfig) -> str:
    """What makes two configured ports one device: symlinks (udev names) resolved."""
    if modem.backend == "gammu" and modem.gammurc:
        return f"gammurc:{os.path.realpath(modem.gammurc)}#{modem.gammu_section}"
    port = modem.port.strip()
    for scheme in ("spy://", ""):
        if port.startswith(scheme + "/"):
            return os.path.realpath(port[len(scheme):])
    return port


def normalize_prefix(prefix: str, country_code: str) -> str | None:
    """``0811`` -> ``+62811``; ``62811``/``+62811`` -> ``+62811``; None if not a prefix."""
    raw = prefix.strip().replace(" ", "").replace("-", "")
    digits = raw.removeprefix("+")
    if not (digits.isascii() and digits.isdigit() and 2 <= len(digits) <= 12):
        return None
    if raw.startswith("+"):
        return raw
    if digits.startswith("0"):
        return f"+{country_code}{digits[1:]}"
    if digits.startswith(country_code):
        return "+" + digits
    return None
