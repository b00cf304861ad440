"""Vendor quirks as small named data, not branches spread through the driver.

The driver asks ``AT+CGMI`` once and picks the profile whose ``makers`` match (config
``[modem] profile = "auto"``), or takes the one named in the config. Each field is a
question the driver would otherwise answer with an ``if vendor == …``.
"""

from __future__ import annotations

from dataclasses import dataclass

from smsbridge.errors import ConfigError


@dataclass(frozen=True)
class Profile:
    name: str
    makers: tuple[str, ...] = ()  # lower-case substrings of the AT+CGMI answer
    # First storage index: 0 or 1 both exist in the field; None = probe both when scanning.
    index_base: int | None = None
    # False: never trust AT+CMGL=4, read slot by slot with AT+CMGR.
    cmgl: bool = True
    # Seconds to wait for AT+CMGL=4 before falling back to AT+CMGR slot by slot
    # (None = the command timeout). A hung CMGL on a Huawei stick never answers.
    cmgl_timeout: float | None = None
    # How many memories AT+CPMS= accepts (27.005 §3.2.2 allows 1 to 3).
    cpms_memories: int = 3
    # Best-effort commands after the standard initialisation; an ERROR is only logged.
    init_extra: tuple[str, ...] = ()
    # URCs that may mean the modem restarted: the driver then checks AT+CMGF? and
    # re-initialises when the settings were lost.
    reboot_hints: frozenset[str] = frozenset({"^BOOT", "^SYSSTART", "RDY", "+PBREADY"})
    # Send through storage (AT+CMGW then AT+CMSS) when the modem answers both: a crash
    # mid-send is then answerable from the slot's status. False: always AT+CMGS.
    store_send: bool = True


GENERIC = Profile("generic")

PROFILES: dict[str, Profile] = {p.name: p for p in (
    GENERIC,
    # Huawei E173/E1550/E3531: AT^CURC=0 stops the periodic ^RSSI/^BOOT/^DSFLOWRPT flood
    # (Huawei "HSPA USB Stick AT Command Interface Specification" §13); CMGL=4 is known to
    # hang on some firmware, so give up on it early.
    Profile("huawei", makers=("huawei",), cmgl_timeout=5.0,
            init_extra=("AT^CURC=0",)),
    # ZTE MF190/MF627: indexes start at 0 on some firmware and 1 on others (scan both).
    Profile("zte", makers=("zte",)),
    # SIMCom SIM800/SIM7600: 1-based; "SMS Ready" after boot.
    Profile("simcom", makers=("simcom",), index_base=1,
            reboot_hints=frozenset({"RDY", "SMS READY", "CALL READY"})),
    # Quectel EC25/M95: route URCs to the AT port we hold (Quectel AT manual, AT+QURCCFG).
    Profile("quectel", makers=("quectel",),
            init_extra=('AT+QURCCFG="urcport","usbat"',), reboot_hints=frozenset({"RDY"})),
    # Wavecom/Sierra Fastrack: 1-based, one memory set at a time on old firmware.
    Profile("wavecom", makers=("wavecom", "sierra"), index_base=1, cpms_memories=1,
            reboot_hints=frozenset({"+WIND"})),
)}


def by_name(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(f"unknown modem profile {name!r}; known: auto, "
                          + ", ".join(PROFILES), key="modem.profile") from None


def for_manufacturer(manufacturer: str | None) -> Profile:
    """The profile whose maker matches the AT+CGMI answer, else the generic one."""
    maker = (manufacturer or "").lower()
    for profile in PROFILES.values():
        if any(m in maker for m in profile.makers):
            return profile
    return GENERIC
