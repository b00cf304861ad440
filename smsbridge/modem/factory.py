"""Pick the modem backend the config names; import it only when chosen."""

from __future__ import annotations

from smsbridge.config.sections import ModemConfig
from smsbridge.errors import BackendUnavailable
from smsbridge.modem.base import Modem


def make_modem(cfg: ModemConfig, *, port: str | None = None,
               refused_pin: str | None = None) -> Modem:
    """A closed modem of ``cfg.backend``; ``port`` overrides ``cfg.port``;
    ``refused_pin`` is ``sim.fingerprint()`` of a PIN the SIM refused (never sent)."""
    if cfg.backend == "gammu":
        try:
            from smsbridge.modem.gammu import GammuModem
        except ImportError as exc:
            if exc.name not in ("gammu", "smsbridge.modem.gammu"):
                raise
            raise BackendUnavailable(
                "the gammu backend needs python-gammu: pip install 'smsbridge[gammu]'"
            ) from None
        return GammuModem.from_config(cfg, port=port, refused_pin=refused_pin)
    from smsbridge.modem.atmodem import AtModem

    return AtModem.from_config(cfg, port=port, refused_pin=refused_pin)
