"""The pool's routing as plain values: who may send which reply, paces and caps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smsbridge.models import AUTO_LANE, FIRST_LANE
from smsbridge.pool.routing import (
    Identity,
    Known,
    Pace,
    Reply,
    Routing,
    Sender,
    SendHealth,
    choose,
    judge_identity,
    local_midnight,
    reservations,
)
from smsbridge.retry import RetryPolicy

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
TSEL = ("+62811", "+62812", "+62813")
ISAT = ("+62814", "+62815", "+62816")


def reply(i: int, number: str = "+6281200000001", *, prefer: str | None = None,
          waited: float = 0.0) -> Reply:
    return Reply(i, number, NOW - timedelta(seconds=waited), prefer)


def test_the_modem_that_received_the_report_sends_its_reply():
    senders = [Sender("a", TSEL), Sender("b", TSEL)]
    replies = [reply(1, prefer="b")]
    assert choose("a", replies, senders, Routing(), NOW) == []
    assert choose("b", replies, senders, Routing(), NOW) == [1]


def test_on_net_prefix_picks_the_matching_sim_when_the_receiver_cannot_send():
    senders = [Sender("tsel", TSEL), Sender("isat", ISAT)]
    replies = [reply(1, "+6281599999999", prefer="receiver-only"),
               reply(2, "+6281299999999")]
    assert choose("isat", replies, senders, Routing(), NOW) == [1]
    assert choose("tsel", replies, senders, Routing(), NOW) == [2]


def test_a_number_of_no_known_network_goes_to_whoever_is_free():
    senders = [Sender("tsel", TSEL), Sender("isat", ISAT)]
    replies = [reply(1, "+6289599999999")]  # Tri: no SIM of it in the pool
    assert choose("tsel", replies, senders, Routing(), NOW) == [1]
    assert choose("isat", replies, senders, Routing(), NOW) == [1]


def test_a_modem_that_is_down_or_capped_loses_its_replies_to_the_others():
    replies = [reply(1, "+6281299999999", prefer="tsel")]
    for tsel in (Sender("tsel", TSEL, up=False), Sender("tsel", TSEL, capped=True)):
        assert choose("isat", replies, [tsel, Sender("isat", ISAT)], Routing(), NOW) == [1]


def test_a_backlog_older_than_the_bound_fails_over_to_the_other_modems():
    senders = [Sender("tsel", TSEL), Sender("isat", ISAT)]
    routing = Routing(failover=timedelta(seconds=120))
    fresh = [reply(1, "+6281299999999", prefer="tsel", waited=30)]
    stale = [reply(1, "+6281299999999", prefer="tsel", waited=300),
             reply(2, "+6281299999998", prefer="tsel", waited=5)]
    assert choose("isat", fresh, senders, routing, NOW) == []
    # Every reply of the stale modem is released, not only the oldest.
    assert choose("isat", stale, senders, routing, NOW) == [1, 2]


def test_the_route_order_is_configurable():
    senders = [Sender("tsel", TSEL), Sender("isat", ISAT)]
    replies = [reply(1, "+6281599999999", prefer="tsel")]
    assert choose("tsel", replies, senders, Routing(), NOW) == [1]
    on_net_first = Routing(order=("on-net", "received", "least-busy"))
    assert choose("tsel", replies, senders, on_net_first, NOW) == []
    assert choose("isat", replies, senders, on_net_first, NOW) == [1]
    only_received = Routing(order=("received",))
    assert reservations([reply(2, prefer=None)], senders, only_received, NOW) == {2: None}


def test_no_modem_idles_while_a_reply_waits_that_it_may_send():
    # Whatever the mix, every reply is claimable by at least one live sender.
    senders = [Sender("tsel", TSEL), Sender("isat", ISAT, capped=True), Sender("x", up=False)]
    replies = [reply(i, n, prefer=p) for i, (n, p) in enumerate([
        ("+6281500000000", "isat"), ("+6281200000000", "x"), ("+6289900000000", None),
        ("+6281500000001", None)], start=1)]
    assert choose("tsel", replies, senders, Routing(), NOW) == [1, 2, 3, 4]


def test_pace_spaces_sends_by_parts_and_counts_a_cap():
    assert Pace().gap_after(3) == 0.0
    assert Pace(per_minute=12).gap_after(1) == 5.0
    assert Pace(per_minute=12).gap_after(2) == 10.0
    assert not Pace(daily_cap=0).capped(10_000)
    assert Pace(daily_cap=100).capped(100) and not Pace(daily_cap=100).capped(99)


def test_a_day_starts_at_local_midnight():
    start = local_midnight(NOW)
    assert start <= NOW and (start.hour, start.minute) == (0, 0)
    assert NOW - start < timedelta(days=1)


def test_the_first_lane_goes_before_older_acknowledgements_which_keep_their_order():
    senders = [Sender("tsel", TSEL)]
    acks = [Reply(i, "+6281200000001", NOW - timedelta(seconds=300 - i)) for i in range(1, 4)]
    dispatch = Reply(9, "+6281200000009", NOW, lane=FIRST_LANE)
    assert choose("tsel", [*acks, dispatch], senders, Routing(), NOW) == [9, 1, 2, 3]
    assert all(a.lane == AUTO_LANE for a in acks)


def test_three_failed_sends_in_a_row_stop_a_stick_until_its_first_success():
    backoff = RetryPolicy(60.0, 3600.0)
    health = SendHealth()
    for _ in range(2):
        health = health.failed("+CMS ERROR: 38", NOW, limit=3, backoff=backoff)
        assert health.can_send and health.may_try(NOW)
    health = health.failed("+CMS ERROR: 38", NOW, limit=3, backoff=backoff)
    assert not health.can_send and "3 sends failed" in health.reason
    assert not health.may_try(NOW) and health.may_try(NOW + timedelta(seconds=60))
    # A failed try doubles the wait; the first success brings it back.
    later = NOW + timedelta(seconds=60)
    again = health.failed("+CMS ERROR: 38", later, limit=3, backoff=backoff)
    assert again.retry_at == later + timedelta(seconds=120) and again.reason == health.reason
    assert again.succeeded() == SendHealth()
    # A success between failures starts the count again.
    assert SendHealth(failures=2).succeeded().failures == 0


def test_a_stick_that_cannot_send_loses_even_the_replies_of_its_own_reports():
    replies = [reply(1, "+6281299999999", prefer="tsel")]
    tsel = Sender("tsel", TSEL, can_send=False)
    assert choose("isat", replies, [tsel, Sender("isat", ISAT)], Routing(), NOW) == [1]
    assert SendHealth().no_credit("pulsa Rp0", NOW, backoff=RetryPolicy(60, 60)).reason \
        == "pulsa Rp0"


def test_a_stick_is_known_by_its_imsi_and_imei_not_its_port_name():
    old, other = Identity("510101", "8612"), Identity("510011", "8699")
    none = Identity()
    assert judge_identity(old, none, none, join_new=False) is Known.FIRST
    assert judge_identity(old, old, none, join_new=False) is Known.SAME
    assert judge_identity(Identity(None, "8612"), old, none, join_new=False) is Known.SAME
    assert judge_identity(other, old, none, join_new=False) is Known.REFUSED
    assert judge_identity(other, old, none, join_new=True) is Known.NEW
    # The administrator's word: the configured stick joins as new, any other is refused.
    assert judge_identity(other, old, Identity("510011"), join_new=False) is Known.NEW
    assert judge_identity(old, old, Identity("510011"), join_new=True) is Known.REFUSED
