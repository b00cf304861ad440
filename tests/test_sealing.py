"""Reporters' numbers sealed: no clear number in any column of any table, the keys
the daemon's alone, and a database written before sealed in batches and proven clear."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from rigs import START, BridgeRig, every_value, older_line, query

from smsbridge.clock import ManualClock
from smsbridge.errors import KeysError
from smsbridge.models import CaseQuery
from smsbridge.sealing.keys import Keys, load_keys
from smsbridge.sealing.run import Sealing
from smsbridge.store import Store
from smsbridge.store.sealed import unsealed_values

REPORTER = "+6285712345611"
OTHER = "+6281234567002"
OFFICER = "+6281298765400"


def forms(number: str) -> list[str]:
    """Every way a number can be written down: international, national, bare digits,
    and the swapped semi-octets a raw PDU carries it in (upper and lower case hex)."""
    digits = number.lstrip("+")
    national = "0" + digits[2:]
    padded = digits + ("F" if len(digits) % 2 else "")
    swapped = "".join(padded[i + 1] + padded[i] for i in range(0, len(padded), 2))
    return [number, digits, national, digits[2:], swapped, swapped.lower()]


def assert_no_clear_number(db: Path, *numbers: str) -> None:
    text = every_value(db)
    for number in numbers:
        for form in forms(number):
            assert form not in text, f"{form} ({number}) found in the database"


# --- the keys -------------------------------------------------------------------------


def test_a_token_finds_one_number_and_a_sealed_copy_opens_only_with_its_keys():
    keys, other = Keys.generate(), Keys.generate()
    assert keys.token(REPORTER) == keys.token(REPORTER) != keys.token(OTHER)
    assert keys.token(REPORTER) != other.token(REPORTER)
    assert keys.token(REPORTER).startswith("#") and not any(
        c.isdigit() for c in keys.token(REPORTER))
    sealed = keys.seal(REPORTER)
    assert keys.seal(REPORTER) != sealed  # a fresh nonce each time
    assert keys.open(sealed) == REPORTER
    with pytest.raises(KeysError, match="does not open"):
        other.open(sealed)
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(KeysError, match="does not open"):
        keys.open(tampered)


def test_the_key_file_is_the_daemons_alone_and_never_a_link(tmp_path: Path):
    path = tmp_path / "smsbridge.key"
    keys = load_keys(path, create=True)
    assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600 and path.stat().st_size == 64
    assert load_keys(path).token(REPORTER) == keys.token(REPORTER)
    path.chmod(0o640)
    with pytest.raises(KeysError, match="must belong to this user with mode 0600"):
        load_keys(path)
    path.chmod(0o600)
    link = tmp_path / "link.key"
    link.symlink_to(path)
    with pytest.raises(KeysError, match="cannot read the key file"):
        load_keys(link)
    (tmp_path / "short.key").write_bytes(b"x" * 10)
    (tmp_path / "short.key").chmod(0o600)
    with pytest.raises(KeysError, match="not a smsbridge key file"):
        load_keys(tmp_path / "short.key")


def test_a_lost_key_file_is_never_replaced_and_other_keys_are_refused(db_path: Path):
    with Store.open(db_path) as store:
        rig = BridgeRig(store, ManualClock(START))
        rig.sms(REPORTER, "ada balap liar")
        rig.step()
    key = db_path.parent / "smsbridge.key"
    kept = key.read_bytes()
    key.unlink()
    with pytest.raises(KeysError, match="no key file"):
        Store.open(db_path)  # the daemon's open: new keys would open nothing
    key.write_bytes(os.urandom(64))
    key.chmod(0o600)
    with pytest.raises(KeysError, match="not the keys this database's numbers were sealed"):
        Store.open(db_path)
    key.write_bytes(kept)
    with Store.open(db_path) as store:
        assert store.cases.get("LP-000001").reporter == REPORTER


# --- a day of the line ----------------------------------------------------------------


def test_after_a_day_of_the_line_no_column_of_any_table_holds_a_number(db_path: Path):
    clock = ManualClock(START)
    with Store.open(db_path, clock=clock) as store:
        rig = BridgeRig(store, clock)
        rig.sms(REPORTER, "ada judi di pasar gede, bandarnya pakai kaos merah")
        rig.sms(OTHER, "balap liar tiap malam di jalan slamet riyadi " * 6)  # 2 parts
        rig.sms("TELKOMSEL", "Sisa pulsa Anda Rp 1.000")
        rig.step()
        clock.advance(minutes=2)
        rig.sms(REPORTER, "tambahan: mereka di belakang pos ronda")  # a follow-up
        rig.sms(OTHER, "CEK LP-000002")
        rig.step()
        store.outbox.add_reply("LP-000001", "Terima kasih, petugas menuju lokasi",
                               operator="sari")
        store.cases.update("LP-000001", operator="sari", status="checking")
        store.outbox.add(OFFICER, "Cek LP-000001", kind="dispatch", created_by="sari",
                         case_id=1)
        rig.step()
        cases = store.cases.query(CaseQuery(limit=None))
        found = store.cases.query(CaseQuery(reporter=REPORTER, limit=None))
        sent = {s.recipient for s in rig.modem.sent}
        # The daemon holds the keys: what it reads is the number, to send to it.
        assert {c.reporter for c in cases} == {REPORTER, OTHER}
        assert [c.ticket for c in found] == ["LP-000001"]
        assert len(store.cases.detail("LP-000001").messages) == 2  # the follow-up joined
    assert {REPORTER, OTHER, OFFICER} <= sent
    assert_no_clear_number(db_path, REPORTER, OTHER, OFFICER)
    masks = {r[0] for r in query(db_path, "SELECT reporter_mask FROM cases")}
    assert masks == {"+62 857 \u2022\u2022\u2022\u2022\u2022 11",
                     "+62 812 \u2022\u2022\u2022\u2022\u2022 02"}
    with sqlite3.connect(db_path) as conn:
        pdus = [r[0] for r in conn.execute("SELECT pdu FROM messages")]
    assert pdus and all(p.startswith("s1.") for p in pdus)


def test_without_the_keys_a_store_shows_masks_and_never_the_number(db_path: Path):
    clock = ManualClock(START)
    with Store.open(db_path, clock=clock) as store:
        rig = BridgeRig(store, clock)
        rig.sms(REPORTER, "ada judi di pasar")
        rig.step()
    os.rename(db_path.parent / "smsbridge.key", db_path.parent / "elsewhere.key")
    with Store.open(db_path, create=False) as store:  # an operator: no keys, no daemon
        assert not store.can_open
        case = store.cases.get("LP-000001")
        detail = store.cases.detail("LP-000001")
    assert case.reporter == "+62 857 \u2022\u2022\u2022\u2022\u2022 11"
    assert detail.messages[0].sender == case.reporter and detail.messages[0].pdu == ""
    assert detail.outbox[0].number == case.reporter


# --- sealing a database written before --------------------------------------------------


def test_an_older_database_is_sealed_in_batches_resumably_and_proven_clear(db_path: Path):
    legacy = Keys.generate()
    retention_key = db_path.parent / "retention.key"
    retention_key.write_bytes(legacy.hash_key)
    retention_key.chmod(0o600)
    older_line(db_path, legacy)
    clock = ManualClock(START)
    with Store.open(db_path, clock=clock) as store:
        keys = store.db.sealer.keys  # made now, its hash key the retention key's
        assert keys.hash_key == legacy.hash_key
        first = Sealing(store, keys, clock, batch=7, time_slice=0)
        first.tick()  # one batch of each table, then the daemon is stopped
        assert 0 < first.sealed < 61 + 60 + 60
    assert query(db_path, "SELECT ticket FROM cases WHERE reporter_mask IS NOT NULL"
                          " ORDER BY id DESC LIMIT 1") == [("LP-000061",)]  # newest first
    with Store.open(db_path, clock=clock) as store:
        again = Sealing(store, store.db.sealer.keys, clock, batch=7)
        assert not again.done
        again.run_all()
        assert again.sealed + first.sealed == 61 + 60 + 60
        assert unsealed_values(store.db) == []
        assert store.state.read()["sealing"] == "done"
        # The line finds the sealed numbers as before: a reporter's CEK is answered,
        # and the forgotten case counts in its number's track record.
        rig = BridgeRig(store, clock)
        rig.sms("+6281234567005", "CEK LP-000005")
        rig.sms("+6281299999999", "ada judi lagi")
        rig.step()
        assert any("LP-000005" in text for text in rig.replies_to("+6281234567005"))
        new = store.cases.query(CaseQuery(limit=1))[0]
        assert new.ticket == "LP-000062" and new.reporter == "+6281299999999"
        assert store.desk.track_records([new])[new.id].fake == 1
        assert store.cases.get("LP-000005").reporter == "+6281234567005"
    assert_no_clear_number(db_path, *(f"+62812345670{i:02d}" for i in range(1, 61)),
                           "+6281299999999")


def test_status_says_how_much_is_left_to_seal_and_when_all_was(cli, db_path: Path):
    legacy = Keys.generate()
    older_line(db_path, legacy, cases=5)
    clock = ManualClock(START)
    with Store.open(db_path, clock=clock) as store:
        Sealing(store, store.db.sealer.keys, clock, batch=2, time_slice=0).tick()
    assert "numbers: 10 rows written before sealed numbers are still to seal" in cli(
        "status", ok=False).output
    with Store.open(db_path, clock=clock) as store:
        Sealing(store, store.db.sealer.keys, clock).run_all()
    assert "numbers: all sealed, none in clear (checked 2026-12-01T20:00:00+00:00)" in cli(
        "status", ok=False).output


def test_the_door_answers_a_bad_request_with_one_line_and_stays_open(tmp_path: Path,
                                                                     db_path: Path):
    """Garbage, a request of another shape, a number no phone has: each gets its error,
    and the next good request is answered (a real socket, the daemon's door thread)."""
    import json
    import socket as sockets

    from smsbridge.sealing.door import call
    from smsbridge.sealing.server import Door

    with Store.open(db_path) as store:
        keys = store.db.sealer.keys
    door = Door(tmp_path / "door.sock", lambda: Store.open(db_path, create=False), keys,
                country_code="62", lookups_per_hour=100)
    door.start()
    try:
        for raw in (b"\\xff\\x00 not json\\n", b"[1, 2]\\n",
                    json.dumps({"op": "reveal", "rows": [1]}).encode(),
                    json.dumps({"op": "token"}).encode(),
                    json.dumps({"op": "reveal", "rows": {"case": ["x"]}}).encode()):
            with sockets.socket(sockets.AF_UNIX) as client:
                client.connect(str(tmp_path / "door.sock"))
                client.sendall(raw)
                client.shutdown(sockets.SHUT_WR)
                assert "error" in json.loads(client.recv(65536))
        assert call(tmp_path / "door.sock", {"op": "token", "number": REPORTER})["token"] == (
            keys.token(REPORTER))
    finally:
        door.stop()
