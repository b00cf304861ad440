"""AT parser throughput on a realistic stream, and AtModem round trips against the emulator.

The stream is what a busy line looks like: AT+CMGL=4 answers listing 30 stored messages
(160-character GSM-7 and UCS2 reports) with +CMTI, ^RSSI and +CDS URCs between their
lines. It is fed in chunks the size serial reads return.

    python bench/bench_at.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from smsbridge.modem.at import AtSession, Final, PduLine
from smsbridge.sms.pdu import encode_deliver, encode_status_report

STAMP = datetime(2024, 5, 17, 9, 30, tzinfo=UTC)


def listing(messages: int = 30) -> bytes:
    """One AT+CMGL=4 answer, echo and URCs included."""
    texts = ["Lapor, ada pencurian motor di Jl. Merdeka no. 12, pelaku dua orang, "
             "kabur ke arah pasar. Mohon segera ditindak. Terima kasih pak polisi!!"[:160],
             "Tolong ada kecelakaan di perempatan 🚑 korban dua orang"]
    report = encode_status_report(7, "+6281234567890", status=0).hex().upper()
    out = [b"AT+CMGL=4\r\r\n"]
    for index in range(messages):
        (pdu,) = encode_deliver("+6281234567890", texts[index % 2], timestamp=STAMP)
        tpdu_length = len(pdu) - 1 - pdu[0]  # 27.005 §3.1 <length>: without the SMSC part
        out.append(f"+CMGL: {index + 1},1,,{tpdu_length}\r\n{pdu.hex().upper()}\r\n".encode())
        if index % 7 == 3:
            out.append(f'+CMTI: "SM",{index + 40}\r\n^RSSI:17\r\n'.encode())
        if index % 11 == 5:
            out.append(f"+CDS: 25\r\n{report}\r\n".encode())
    out.append(b"\r\nOK\r\n")
    return b"".join(out)


def parse_all(stream: bytes, repeats: int, chunk: int) -> int:
    session = AtSession()
    pdus = 0
    for _ in range(repeats):
        session.send("AT+CMGL=4")
        for start in range(0, len(stream), chunk):
            session.receive_data(stream[start:start + chunk])
            while (event := session.next_event()) is not None:
                if isinstance(event, PduLine):
                    pdus += 1
                elif isinstance(event, Final):
                    break
    return pdus


def bench_parser(seconds: float) -> None:
    stream = listing()
    for chunk in (64, 4096):
        repeats, elapsed = 1, 0.0
        while elapsed < seconds:
            repeats *= 2
            start = time.perf_counter()
            pdus = parse_all(stream, repeats, chunk)
            elapsed = time.perf_counter() - start
        assert pdus == 30 * repeats
        mb = len(stream) * repeats / 1e6
        print(f"AT parser, {chunk:>4}-byte reads: {mb / elapsed:6.2f} MB/s "
              f"({30 * repeats / elapsed:,.0f} listed messages/s, {len(stream)} B per listing)")


def bench_driver() -> None:
    from smsbridge.emulator import Emulator, EmulatorSettings
    from smsbridge.modem.atmodem import AtModem

    with Emulator(EmulatorSettings(storage_size=30)) as emu:
        for i in range(30):
            emu.inject_text("+6281234567890", f"laporan {i} " + "x" * 140)
        emu.wait_for(lambda e: e.storage_used == 30, timeout=10)
        modem = AtModem(emu.port, profile="generic")
        modem.open()
        try:
            for name, run in (("list 30 messages (AT+CMGL)", modem.list_stored),
                              ("status (11 queries)", modem.status),
                              ("send one SMS (AT+CMGS)", lambda: modem.send("+6281234567890",
                                                                            "Laporan diterima"))):
                rounds, start = 0, time.perf_counter()
                while time.perf_counter() - start < 1.0:
                    run()
                    rounds += 1
                per = (time.perf_counter() - start) / rounds * 1000
                print(f"AtModem over a pty, {name}: {per:.2f} ms")
        finally:
            modem.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0,
                        help="minimum measuring time per parser figure")
    args = parser.parse_args()
    bench_parser(args.seconds)
    bench_driver()


if __name__ == "__main__":
    main()
