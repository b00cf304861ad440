"""The schema: SQL text of each version and its named migration.

Schema changes are named migrations (``sqlite_utils.migrations``), each also setting
``PRAGMA user_version``, so ``Database.open`` can tell from one PRAGMA whether any is
pending and skip importing sqlite-utils (about 0.2 s, longer than an operator's whole
``cases list``) on every ordinary open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from smsbridge import tickets
from smsbridge.store.sealed import SCHEMA_15
from smsbridge.store.sqlscript import named_migrations, run_script, widen_check
from smsbridge.store.tallies import SCHEMA_14

if TYPE_CHECKING:
    from sqlite_utils import Database as SqliteUtilsDatabase
    from sqlite_utils.migrations import Migrations

CHANNELS = ("sms", "phone", "whatsapp", "walk-in")
# Version 9 adds "dispatch" (a case sent to an officer) and "field" (what an officer's
# answer gets back).
_OUTBOX_KINDS_1 = ("ack", "status", "operator", "notice")
_OUTBOX_KINDS_9 = (*_OUTBOX_KINDS_1, "dispatch", "field")
OUTBOX_KINDS = _OUTBOX_KINDS_9
# A migration's SQL must not change once released: each version's CHECK names its own
# tuple. Version 6 adds "cancelled" (an operator stopped a queued reply).
_OUTBOX_STATES_1 = ("queued", "sent", "delivered", "failed", "gave_up")
_OUTBOX_STATES_6 = (*_OUTBOX_STATES_1, "cancelled")
OUTBOX_STATES = _OUTBOX_STATES_6
MESSAGE_KINDS = ("deliver", "status_report", "undecodable")


def sql_list(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


# Version 1: the tables the daemon and the CLI share.
_SCHEMA_1 = f"""
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('ticket', 0);

-- id is the ticket's number, taken from counters.ticket inside the creating
-- transaction: monotonic, never reused, and a bare number finds its case directly.
CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    ticket TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ({sql_list(tickets.STATUSES)})),
    reporter TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT 'sms' CHECK (channel IN ({sql_list(CHANNELS)})),
    text TEXT NOT NULL DEFAULT '',
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    assigned_to TEXT,
    duplicate_of INTEGER REFERENCES cases (id),
    incomplete INTEGER NOT NULL DEFAULT 0 CHECK (incomplete IN (0, 1)),
    flags TEXT NOT NULL DEFAULT '',
    first_action_at TEXT,
    last_message_at TEXT
);
CREATE INDEX cases_status ON cases (status);
CREATE INDEX cases_reporter ON cases (reporter, status);
CREATE INDEX cases_received ON cases (received_at);
CREATE INDEX cases_assigned ON cases (assigned_to) WHERE assigned_to IS NOT NULL;
CREATE INDEX cases_duplicate_of ON cases (duplicate_of) WHERE duplicate_of IS NOT NULL;

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    pdu_hash TEXT NOT NULL UNIQUE,
    pdu TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ({sql_list(MESSAGE_KINDS)})),
    error TEXT,
    sender TEXT,
    sender_toa INTEGER,
    smsc TEXT,
    sent_at TEXT,
    received_at TEXT NOT NULL,
    text TEXT,
    concat_ref INTEGER,
    concat_total INTEGER,
    concat_seq INTEGER,
    case_id INTEGER REFERENCES cases (id)
);
CREATE INDEX messages_concat ON messages (sender, concat_ref, concat_total);
CREATE INDEX messages_sender_received ON messages (sender, received_at);
CREATE INDEX messages_case ON messages (case_id);

CREATE TABLE case_events (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    at TEXT NOT NULL,
    operator TEXT NOT NULL,
    action TEXT NOT NULL,
    old_status TEXT,
    new_status TEXT,
    note TEXT
);
CREATE INDEX case_events_case ON case_events (case_id);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    case_id INTEGER REFERENCES cases (id),
    number TEXT NOT NULL,
    text TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ({sql_list(_OUTBOX_KINDS_1)})),
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ({sql_list(_OUTBOX_STATES_1)})),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    delivered_at TEXT,
    refs TEXT NOT NULL DEFAULT '[]',
    created_by TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_case ON outbox (case_id);
CREATE INDEX outbox_number ON outbox (number, created_at);

CREATE TABLE daemon_state (
    key TEXT PRIMARY KEY,
    value TEXT,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE hooks (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error TEXT,
    done_at TEXT
);
CREATE INDEX hooks_pending ON hooks (done_at, next_attempt_at);
"""

# Version 2: full-text search over case texts. An external-content FTS5 table (the
# text is stored once, in cases) kept in step by triggers; detail=column keeps the
# index small and still answers "every word, in any order" and prefix queries.
_SCHEMA_2 = """
CREATE VIRTUAL TABLE cases_fts USING fts5(
    text, content='cases', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2', detail=column
);
CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases BEGIN
    INSERT INTO cases_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN
    INSERT INTO cases_fts (cases_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER cases_fts_update AFTER UPDATE OF text ON cases BEGIN
    INSERT INTO cases_fts (cases_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO cases_fts (rowid, text) VALUES (new.id, new.text);
END;
INSERT INTO cases_fts (cases_fts) VALUES ('rebuild');
"""

# Version 3: a part of a long SMS waits (handled_at NULL) until its siblings make a
# case with it, or the part timeout makes an incomplete case; whatever happens to it,
# handled_at says it is done, so it is never picked up twice.
_SCHEMA_3 = """
ALTER TABLE messages ADD COLUMN handled_at TEXT;
UPDATE messages SET handled_at = received_at WHERE case_id IS NOT NULL
    OR concat_total IS NULL OR concat_total <= 1;
CREATE INDEX messages_waiting ON messages (concat_total) WHERE handled_at IS NULL;
"""

# Version 4: ``stats`` reads one index range instead of a million table rows: every
# column it needs (status, first action, reporter) rides along with received_at.
_SCHEMA_4 = """
DROP INDEX cases_received;
CREATE INDEX cases_received ON cases (received_at, status, first_action_at, reporter);
"""

# Version 5: the line's reply budget counts the automatic replies of the last hour and
# day across all numbers at every report; a partial index keeps that a range read
# however long the outbox grows.
_SCHEMA_5 = """
CREATE INDEX outbox_auto_created ON outbox (created_at) WHERE kind IN ('ack', 'status');
"""

# Version 6: operators manage the outbox and every look at a reporter's identity is
# audited. SQLite cannot widen a CHECK in place, so the outbox is rebuilt (ids kept, every
# index made again); case_events says which OS account wrote each line beside the name
# given; audit_log keeps lookups by number and reveals, even those that found nothing,
# and refuses changes to what it holds.
_OUTBOX_COLUMNS = ("id, case_id, number, text, kind, state, attempts, next_attempt_at,"
                   " last_error, created_at, sent_at, delivered_at, refs, created_by")
_SCHEMA_6 = f"""
CREATE TABLE outbox_new (
    id INTEGER PRIMARY KEY,
    case_id INTEGER REFERENCES cases (id),
    number TEXT NOT NULL,
    text TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ({sql_list(_OUTBOX_KINDS_1)})),
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ({sql_list(_OUTBOX_STATES_6)})),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    delivered_at TEXT,
    refs TEXT NOT NULL DEFAULT '[]',
    created_by TEXT NOT NULL
);
INSERT INTO outbox_new ({_OUTBOX_COLUMNS}) SELECT {_OUTBOX_COLUMNS} FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_case ON outbox (case_id);
CREATE INDEX outbox_number ON outbox (number, created_at);
CREATE INDEX outbox_auto_created ON outbox (created_at) WHERE kind IN ('ack', 'status');

ALTER TABLE case_events ADD COLUMN login TEXT;

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    login TEXT NOT NULL,
    operator TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'the audit log cannot be changed');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'the audit log cannot be changed');
END;
"""

# Version 7: a pool of modems. Each message records the modem it came in on, and the
# crash dedupe becomes (pdu_hash, modem): a message listed again after a crash is listed
# by the modem that holds it, while byte-identical PDUs on two SIMs are two deliveries
# (a citizen who texted both numbers), each stored, intake deciding what they mean.
# SQLite cannot drop the column's UNIQUE in place, so messages is rebuilt (ids kept,
# every index made again); rows of before have modem '' and count as any modem's.
# The outbox gets the modem a reply prefers (the one its report came in on), the lease
# of the modem that claimed it (owner, expiry), the modem that sent it, and the storage
# slots its parts were written to (AT+CMGW) before they were sent (AT+CMSS).
_MESSAGES_COLUMNS = ("id, pdu_hash, pdu, kind, error, sender, sender_toa, smsc, sent_at,"
                     " received_at, text, concat_ref, concat_total, concat_seq, case_id,"
                     " handled_at")
_SCHEMA_7 = f"""
CREATE TABLE messages_new (
    id INTEGER PRIMARY KEY,
    pdu_hash TEXT NOT NULL,
    pdu TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ({sql_list(MESSAGE_KINDS)})),
    error TEXT,
    sender TEXT,
    sender_toa INTEGER,
    smsc TEXT,
    sent_at TEXT,
    received_at TEXT NOT NULL,
    text TEXT,
    concat_ref INTEGER,
    concat_total INTEGER,
    concat_seq INTEGER,
    case_id INTEGER REFERENCES cases (id),
    handled_at TEXT,
    modem TEXT NOT NULL DEFAULT ''
);
INSERT INTO messages_new ({_MESSAGES_COLUMNS}) SELECT {_MESSAGES_COLUMNS} FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE UNIQUE INDEX messages_delivery ON messages (pdu_hash, modem);
CREATE INDEX messages_concat ON messages (sender, concat_ref, concat_total);
CREATE INDEX messages_sender_received ON messages (sender, received_at);
CREATE INDEX messages_case ON messages (case_id);
CREATE INDEX messages_waiting ON messages (concat_total) WHERE handled_at IS NULL;

ALTER TABLE outbox ADD COLUMN prefer_modem TEXT;
ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
ALTER TABLE outbox ADD COLUMN lease_until TEXT;
ALTER TABLE outbox ADD COLUMN sent_by TEXT;
ALTER TABLE outbox ADD COLUMN slots TEXT;
CREATE INDEX outbox_sent_by ON outbox (sent_by, sent_at) WHERE sent_by IS NOT NULL;
CREATE INDEX outbox_leased ON outbox (lease_owner) WHERE lease_owner IS NOT NULL;
"""

# Version 8: the operators' desk. A case gets the category and place intake found in
# its text (operators correct them), the place's words spelled out ("jl" is "jalan")
# and searchable, and the incident it may repeat (the first case of it, which names
# itself). Cases of before have none of them. Indexes for what the desk asks often: a
# category's newest cases, an incident's cases, a name in any case, a window's actions.
_SCHEMA_8 = """
ALTER TABLE cases ADD COLUMN category TEXT;
ALTER TABLE cases ADD COLUMN place TEXT;
ALTER TABLE cases ADD COLUMN place_words TEXT;
ALTER TABLE cases ADD COLUMN incident_id INTEGER REFERENCES cases (id);
CREATE INDEX cases_category ON cases (category);
CREATE INDEX cases_incident ON cases (incident_id) WHERE incident_id IS NOT NULL;
CREATE INDEX cases_assigned_nocase ON cases (assigned_to COLLATE NOCASE)
    WHERE assigned_to IS NOT NULL;
CREATE INDEX case_events_at ON case_events (at);

CREATE VIRTUAL TABLE places_fts USING fts5(
    place_words, content='cases', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2', detail=column
);
CREATE TRIGGER places_fts_insert AFTER INSERT ON cases
    WHEN new.place_words IS NOT NULL BEGIN
    INSERT INTO places_fts (rowid, place_words) VALUES (new.id, new.place_words);
END;
CREATE TRIGGER places_fts_delete AFTER DELETE ON cases
    WHEN old.place_words IS NOT NULL BEGIN
    INSERT INTO places_fts (places_fts, rowid, place_words)
        VALUES ('delete', old.id, old.place_words);
END;
CREATE TRIGGER places_fts_forget AFTER UPDATE OF place_words ON cases
    WHEN old.place_words IS NOT NULL BEGIN
    INSERT INTO places_fts (places_fts, rowid, place_words)
        VALUES ('delete', old.id, old.place_words);
END;
CREATE TRIGGER places_fts_learn AFTER UPDATE OF place_words ON cases
    WHEN new.place_words IS NOT NULL BEGIN
    INSERT INTO places_fts (rowid, place_words) VALUES (new.id, new.place_words);
END;
"""

# Version 9: the field loop. Cases go to officers by SMS and their answers come back.
# ``dispatches``: who sent which case to which officer, and the SMS that carried it (its
# delivery state is the outbox's). ``field_answers``: every SMS in the officers' grammar,
# accepted or not (the desk sees why not), its text without the verification word.
# Neither refers to messages or outbox by a foreign key: both tables get rebuilt by
# migrations. The outbox's kinds widen to "dispatch" and "field"; and what the reply
# budgets count (AUTO_REPLIES) grows to citizens' notices and the neutral replies to
# answers that fail (a field SMS of no case), which a spoofer could otherwise make the
# line send without end.
_AUTO_REPLIES_9 = "(kind IN ('ack', 'status', 'notice') OR (kind = 'field' AND case_id IS NULL))"
AUTO_REPLIES = _AUTO_REPLIES_9
_SCHEMA_9 = f"""
DROP INDEX outbox_auto_created;
CREATE INDEX outbox_auto_created ON outbox (created_at) WHERE {_AUTO_REPLIES_9};

CREATE TABLE dispatches (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    officer TEXT NOT NULL,
    team TEXT,
    outbox_id INTEGER,
    at TEXT NOT NULL,
    operator TEXT NOT NULL,
    login TEXT,
    note TEXT
);
CREATE INDEX dispatches_case ON dispatches (case_id, officer);
CREATE INDEX dispatches_at ON dispatches (at);

CREATE TABLE field_answers (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    message_id INTEGER,
    officer TEXT,
    case_id INTEGER REFERENCES cases (id),
    ticket TEXT,
    finding TEXT CHECK (finding IN ('confirmed', 'fake', 'resolved')),
    note TEXT NOT NULL DEFAULT '',
    accepted INTEGER NOT NULL CHECK (accepted IN (0, 1)),
    reason TEXT,
    new_status TEXT,
    reply_id INTEGER
);
CREATE INDEX field_answers_case ON field_answers (case_id, at) WHERE case_id IS NOT NULL;
CREATE INDEX field_answers_at ON field_answers (at);
"""

# Version 10: SMS parts are what a SIM's package is charged, so they are what the reply
# budgets and the daily caps count. Each outbox row keeps how many parts its text takes
# (rows sent before: the references they got, at least 1), and the budgets' index holds
# the parts beside the time.
_SCHEMA_10 = f"""
ALTER TABLE outbox ADD COLUMN parts INTEGER NOT NULL DEFAULT 1;
UPDATE outbox SET parts = json_array_length(refs) WHERE json_array_length(refs) > 1;
DROP INDEX outbox_auto_created;
CREATE INDEX outbox_auto_created ON outbox (created_at, parts) WHERE {_AUTO_REPLIES_9};
"""


# Version 11: urgent cases (intake flags a report naming a weapon, an explosive or a
# person in danger). The few urgent cases are read by a partial index (they lead the
# list); overdue ones by status and the time their deadline counts from; unassigned
# ones and the numbers that sent fake reports by partial indexes, so that counting
# them ("50 of 412,003 shown") reads an index, not a million rows.
_SCHEMA_11 = """
ALTER TABLE cases ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0;
CREATE INDEX cases_urgent ON cases (status) WHERE urgent = 1;
CREATE INDEX cases_status_updated ON cases (status, updated_at);
CREATE INDEX cases_status_received ON cases (status, received_at);
CREATE INDEX cases_unassigned ON cases (status) WHERE coalesce(assigned_to, '') = '';
CREATE INDEX cases_fake_reporter ON cases (reporter, status) WHERE status = 'fake';
"""


# Version 12: an officer's word cannot be guessed or replayed. Each dispatch carries a
# one-time ``code`` that answers must quote; a later dispatch of the case supersedes the
# earlier ones. Every answer-shaped SMS that fails is kept as an ``attempt`` against a
# word, named by its hash; a word tried too often is locked (``field_locks``) until the
# administrator changes it, which changes its hash.
_SCHEMA_12 = """
ALTER TABLE dispatches ADD COLUMN code TEXT;
ALTER TABLE dispatches ADD COLUMN superseded_at TEXT;
ALTER TABLE field_answers ADD COLUMN code TEXT;
ALTER TABLE field_answers ADD COLUMN attempt TEXT CHECK (attempt IN ('guess', 'leak'));
ALTER TABLE field_answers ADD COLUMN word_hash TEXT;
CREATE INDEX field_answers_attempts ON field_answers (word_hash, at) WHERE attempt IS NOT NULL;
ALTER TABLE hooks ADD COLUMN alert TEXT;

CREATE TABLE field_locks (
    id INTEGER PRIMARY KEY,
    word_hash TEXT NOT NULL UNIQUE,
    owners TEXT NOT NULL,
    at TEXT NOT NULL,
    reason TEXT NOT NULL
);
"""


# Version 13: retention forgets the numbers of long-closed cases ([retention]); a
# forgotten case is marked, and the cases still to look at are indexed by their age.
# reporter_key, the number's keyed pseudonym (set by the daemon, which holds the key),
# lets a number's forgotten cases still count in its track record.
_SCHEMA_13 = """
ALTER TABLE cases ADD COLUMN forgotten_at TEXT;
ALTER TABLE cases ADD COLUMN reporter_key TEXT;
CREATE INDEX cases_remembered ON cases (updated_at) WHERE forgotten_at IS NULL;
CREATE INDEX cases_forgotten_key ON cases (reporter_key, status)
    WHERE forgotten_at IS NOT NULL;
CREATE INDEX cases_unkeyed ON cases (id) WHERE reporter_key IS NULL;
"""


def _modem_pool(db: SqliteUtilsDatabase) -> None:
    """Version 7, as _SCHEMA_7 defines it (inplace.py says how)."""
    from smsbridge.store.inplace import modem_pool

    modem_pool(db, _SCHEMA_7)


def _field_loop(db: SqliteUtilsDatabase) -> None:
    widen_check(db, "outbox", f"CHECK (kind IN ({sql_list(_OUTBOX_KINDS_1)}))",
                 f"CHECK (kind IN ({sql_list(_OUTBOX_KINDS_9)}))")
    run_script(db, _SCHEMA_9, 9)


# Version 16: alerts about the line (a stick low on credit, unable to send) for the
# hook; they belong to no case.
_SCHEMA_16 = """
CREATE TABLE hook_alerts (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    text TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error TEXT,
    done_at TEXT
);
CREATE INDEX hook_alerts_due ON hook_alerts (next_attempt_at) WHERE done_at IS NULL;
"""


# Every version in order: its number, its migration's name, and the SQL it runs or the
# step that runs it. A released entry never changes; a new version is a line at the end.
STEPS: tuple[tuple[int, str, str | Callable[[SqliteUtilsDatabase], None]], ...] = (
    (1, "0001_initial", _SCHEMA_1),
    (2, "0002_case_search", _SCHEMA_2),
    (3, "0003_message_handled", _SCHEMA_3),
    (4, "0004_stats_index", _SCHEMA_4),
    (5, "0005_reply_budget_index", _SCHEMA_5),
    (6, "0006_outbox_cancel_audit", _SCHEMA_6),
    (7, "0007_modem_pool", _modem_pool),
    (8, "0008_desk_triage", _SCHEMA_8),
    (9, "0009_field_loop", _field_loop),
    (10, "0010_line_parts", _SCHEMA_10),
    (11, "0011_desk_urgent", _SCHEMA_11),
    (12, "0012_field_codes", _SCHEMA_12),
    (13, "0013_retention", _SCHEMA_13),
    (14, "0014_brief_tallies", SCHEMA_14),
    (15, "0015_sealed_numbers", SCHEMA_15),
    (16, "0016_line_alerts", _SCHEMA_16),
)
MIGRATION_NAMES = tuple(name for _, name, _ in STEPS)
SCHEMA_VERSION = STEPS[-1][0]


def migrations() -> Migrations:
    """The named migrations of the schema, in order (imports sqlite-utils)."""
    return named_migrations(STEPS)
