"""The tallies ``stats`` and the briefing read on a big line: schema version 10's SQL
(schema.py lists it among the migrations)."""

from __future__ import annotations

from smsbridge import tickets

# Version 10: the line's figures on a million cases. ``stats --all`` read every case
# four ways (2.5 s on a million); tallies kept by triggers answer it from a few
# thousand rows: cases per UTC hour (the first 13 characters of received_at, so any
# zone's days and hours add up from them) by status, and by category with their fakes;
# first-action delays in whole seconds, for the median of all time, and the field's
# (report to first dispatch, first dispatch to first accepted answer). The actions
# index covers what ``stats`` counts per operator; cases_open what the briefing counts.
_HOUR = "substr({row}.received_at, 1, 13)"
_DELAY = ("CAST(round((julianday({row}.first_action_at) - julianday({row}.received_at))"
          " * 86400) AS INTEGER)")


_FIRST_ANSWER = ("(SELECT min(a.at) FROM field_answers a WHERE a.case_id = {case}"
                 " AND a.accepted = 1)")


def _seconds(start: str, end: str) -> str:
    """Whole seconds from ``start`` to ``end``, none below 0 (as FieldLog.stats counts)."""
    return f"max(0, CAST(round((julianday({end}) - julianday({start})) * 86400) AS INTEGER))"


def _tally(row: str, sign: str) -> str:
    """The statements that count ``row`` (NEW or OLD) in (+1) or out (-1)."""
    hour, delay = _HOUR.format(row=row), _DELAY.format(row=row)
    return f"""
    INSERT INTO case_hours (hour, status, cases) VALUES ({hour}, {row}.status, {sign}1)
        ON CONFLICT (hour, status) DO UPDATE SET cases = cases + excluded.cases;
    INSERT INTO case_hour_categories (hour, category, cases, fakes)
        VALUES ({hour}, coalesce({row}.category, ''), {sign}1, {sign}({row}.status = 'fake'))
        ON CONFLICT (hour, category) DO UPDATE SET cases = cases + excluded.cases,
            fakes = fakes + excluded.fakes;
    INSERT INTO case_delays (seconds, cases) SELECT {delay}, {sign}1
        WHERE {row}.first_action_at IS NOT NULL
        ON CONFLICT (seconds) DO UPDATE SET cases = cases + excluded.cases;"""


SCHEMA_14 = f"""
CREATE TABLE case_hours (
    hour TEXT NOT NULL,
    status TEXT NOT NULL,
    cases INTEGER NOT NULL,
    PRIMARY KEY (hour, status)
) WITHOUT ROWID;
CREATE TABLE case_hour_categories (
    hour TEXT NOT NULL,
    category TEXT NOT NULL,
    cases INTEGER NOT NULL,
    fakes INTEGER NOT NULL,
    PRIMARY KEY (hour, category)
) WITHOUT ROWID;
CREATE TABLE case_delays (
    seconds INTEGER PRIMARY KEY,
    cases INTEGER NOT NULL
);
INSERT INTO case_hours (hour, status, cases)
    SELECT {_HOUR.format(row="c")}, status, count(*) FROM cases c INDEXED BY cases_received
    GROUP BY 1, 2;
INSERT INTO case_hour_categories (hour, category, cases, fakes)
    SELECT {_HOUR.format(row="c")}, coalesce(category, ''), count(*), sum(status = 'fake')
    FROM cases c GROUP BY 1, 2;
INSERT INTO case_delays (seconds, cases)
    SELECT {_DELAY.format(row="c")}, count(*) FROM cases c INDEXED BY cases_received
    WHERE first_action_at IS NOT NULL GROUP BY 1;
CREATE TRIGGER case_tally_insert AFTER INSERT ON cases BEGIN{_tally("NEW", "+")}
END;
CREATE TRIGGER case_tally_delete AFTER DELETE ON cases BEGIN{_tally("OLD", "-")}
END;
CREATE TRIGGER case_tally_update AFTER UPDATE OF status, category, received_at,
    first_action_at ON cases
    WHEN OLD.status IS NOT NEW.status OR OLD.category IS NOT NEW.category
        OR OLD.received_at IS NOT NEW.received_at
        OR OLD.first_action_at IS NOT NEW.first_action_at BEGIN{_tally("OLD", "-")}
{_tally("NEW", "+")}
END;
CREATE INDEX case_events_action ON case_events (action, operator, at);
-- What the briefing asks of the open cases (their age, lateness, urgency) without
-- reading a row of the table.
CREATE INDEX cases_open ON cases (status, received_at, updated_at, first_action_at, flags)
    WHERE status IN ({', '.join(repr(s) for s in tickets.OPEN_STATUSES)});

CREATE TABLE field_delays (
    leg TEXT NOT NULL CHECK (leg IN ('dispatch', 'answer')),
    seconds INTEGER NOT NULL,
    cases INTEGER NOT NULL,
    PRIMARY KEY (leg, seconds)
) WITHOUT ROWID;
INSERT INTO field_delays (leg, seconds, cases)
    SELECT 'dispatch', delay, count(*) FROM (
        SELECT {_seconds("c.received_at", "min(d.at)")} AS delay
        FROM dispatches d JOIN cases c ON c.id = d.case_id GROUP BY d.case_id)
    GROUP BY 2;
INSERT INTO field_delays (leg, seconds, cases)
    SELECT 'answer', delay, count(*) FROM (
        SELECT {_seconds("min(d.at)", _FIRST_ANSWER.format(case="d.case_id"))} AS delay
        FROM dispatches d GROUP BY d.case_id
        HAVING {_FIRST_ANSWER.format(case="d.case_id")} IS NOT NULL)
    GROUP BY 2;
CREATE TRIGGER field_delays_dispatch AFTER INSERT ON dispatches
    WHEN NOT EXISTS (SELECT 1 FROM dispatches WHERE case_id = NEW.case_id AND id != NEW.id)
    BEGIN
    INSERT INTO field_delays (leg, seconds, cases)
        SELECT 'dispatch', {_seconds("c.received_at", "NEW.at")}, 1 FROM cases c
        WHERE c.id = NEW.case_id
        ON CONFLICT (leg, seconds) DO UPDATE SET cases = cases + 1;
    INSERT INTO field_delays (leg, seconds, cases)
        SELECT 'answer', {_seconds("NEW.at", _FIRST_ANSWER.format(case="NEW.case_id"))}, 1
        WHERE {_FIRST_ANSWER.format(case="NEW.case_id")} IS NOT NULL
        ON CONFLICT (leg, seconds) DO UPDATE SET cases = cases + 1;
END;
CREATE TRIGGER field_delays_answer AFTER INSERT ON field_answers
    WHEN NEW.accepted = 1 AND NEW.case_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM field_answers WHERE case_id = NEW.case_id AND accepted = 1
        AND id != NEW.id) BEGIN
    INSERT INTO field_delays (leg, seconds, cases)
        SELECT 'answer', {_seconds("min(d.at)", "NEW.at")}, 1 FROM dispatches d
        WHERE d.case_id = NEW.case_id HAVING count(*) > 0
        ON CONFLICT (leg, seconds) DO UPDATE SET cases = cases + 1;
END;
"""
