"""What an AT modem says about itself: maker, model, IMEI, IMSI, network, signal,
storage, SMS centre (27.007 §5, §7; 27.005 §3.2.2), each question asked on its own so
that one a modem cannot answer leaves only its own field None."""

from __future__ import annotations

from smsbridge.modem.at import parse_cops, parse_cpms, parse_creg, parse_csca, parse_csq, unquoted
from smsbridge.modem.at_channel import AtChannel
from smsbridge.modem.base import ModemStatus


def read_status(channel: AtChannel, *, sim: str | None, memory: str) -> ModemStatus:
    """The modem's answers over ``channel``; ``sim`` as already read, ``memory`` the
    storage configured (shown when the modem names none)."""
    storage = None
    cpms = channel.query("AT+CPMS?")
    if cpms:
        storage = parse_cpms(f"+CPMS: {cpms}")
    creg = channel.query("AT+CREG?")
    cops = channel.query("AT+COPS?")
    csq = channel.query("AT+CSQ")
    csca = channel.query("AT+CSCA?")
    return ModemStatus(
        manufacturer=unquoted(channel.query("AT+CGMI")),
        model=unquoted(channel.query("AT+CGMM")),
        revision=unquoted(channel.query("AT+CGMR")),
        imei=unquoted(channel.query("AT+CGSN")),
        imsi=unquoted(channel.query("AT+CIMI")),
        sim=sim,
        registration=parse_creg(f"+CREG: {creg}") if creg else None,
        operator=parse_cops(f"+COPS: {cops}") if cops else None,
        rssi=parse_csq(f"+CSQ: {csq}") if csq else None,
        storage_memory=storage[0] or memory if storage else None,
        storage_used=storage[1] if storage else None,
        storage_total=storage[2] if storage else None,
        smsc=parse_csca(f"+CSCA: {csca}") if csca else None,
    )
