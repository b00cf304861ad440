"""How an emulated modem behaves: its SIM, its storage, its timing and its quirks.

A module of its own so that the modem (``core.py``) reads it without importing the
server (``device.py``) that runs the modem: the two used to import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class EmulatorSettings:
    storage_size: int = 30  # SIM slots
    first_index: int = 1  # 0 or 1: storage indexes start there (both exist in the field)
    baudrate: int = 0  # 0 = no line-speed delay; else bytes are paced at baud/10 B/s
    command_latency: float = 0.0  # seconds before each answer
    send_delay: float = 0.0  # seconds between the PDU's Ctrl-Z and "+CMGS: <mr>"
    delivery_gap: float = 0.0  # minimum seconds between two deliveries from the network queue
    echo: bool = True  # like a real modem at power-on (ATE0 turns it off)
    pin: str | None = None  # SIM PIN required at start (AT+CPIN? -> SIM PIN)
    cmgl_broken: bool = False  # Huawei quirk: AT+CMGL hangs (no answer); use CMGR slot by slot
    cpms_memories: int = 3  # answer +CPMS with 1, 2 or 3 memories
    usage_lag: bool = False  # +CPMS? used-count lags one query behind after a delete
    status_reports: bool = True  # store a status report (+CDSI) after each send asking one
    operator: str = "TELKOMSEL"
    rssi: int = 20
    manufacturer: str = "huawei"
    model: str = "E173"
    imei: str = "861234567890123"
    smsc: str = "+6281100000"
    # Additions beyond the first sketch:
    revision: str = "11.126.85.00.209"
    imsi: str = "510101234567890"  # MCC 510 MNC 10: Telkomsel
    registration: int = 1  # +CREG <stat>: 1 home, 5 roaming, 2 searching, 3 denied
    lac: str = "2B5C"  # location area code and cell id, hex, as +CREG/+CGREG with <n>=2 give
    cell: str = "0000A1F3"
    sim_busy_at_start: float = 0.0  # seconds of SIM busy after start and every reboot
    boot_urcs: tuple[str, ...] = ()  # lines announced after a reboot, e.g. ("RDY", "SMS Ready")
    # The memories +CPMS offers and accepts. "SM" (the SIM, storage_size slots) and "ME"
    # (the modem's own memory, phone_storage_size slots) are separate storages, as on a
    # real stick; "MT" reads the SIM. What the network delivers goes to <mem3>.
    memories: tuple[str, ...] = ("SM", "ME", "MT")
    phone_storage_size: int = 23
    # AT+CMGW/AT+CMSS (27.005 §3.5.3, §3.5.2): False answers ERROR, as modems without
    # them do; cmss_marks_sent False keeps a sent slot "STO UNSENT" (the spec allows it).
    store_send: bool = True
    cmss_marks_sent: bool = True
    # A prepaid SIM as an Indonesian operator runs it: credit (pulsa, rupiah), an SMS
    # package, the card's active period; each SMS sent takes one SMS of the package,
    # else Rp150 of credit, and a SIM with neither answers a send +CMS ERROR: 38.
    # AT+CUSD with balance_code answers with all three, as *888# does.
    credit: int = 25_000
    sms_package: int = 500
    active_until: str = "2027-06-30"
    balance_code: str = "*888#"
    refuse_sends: bool = False  # every send answers +CMS ERROR: 38 (barred, no service)
    drop_one_in: int = 0  # N: every Nth command gets no answer at all (0: none)


# Networks for a pool of emulated modems, one SIM each (23.003 IMSI: MCC 510 and the MNC).
NETWORKS = (("TELKOMSEL", "51010"), ("INDOSAT", "51001"), ("XL", "51011"),
            ("AXIS", "51008"), ("TRI", "51089"), ("SMARTFREN", "51009"))


def pool_settings(base: EmulatorSettings, count: int) -> list[EmulatorSettings]:
    """``count`` modems like ``base``, each with a SIM of another network."""
    return [replace(base, operator=operator, imsi=mnc + base.imsi[5:])
            for operator, mnc in (NETWORKS[i % len(NETWORKS)] for i in range(count))]
