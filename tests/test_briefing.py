"""``smsbridge report --html``: the morning briefing, one page that opens with no network,
checked as written and as a real headless browser draws it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smsbridge.cli.briefing import CHARTS
from smsbridge.fieldwork.answers import Officer
from smsbridge.models import NewCase
from smsbridge.store import Store

REPORTER = "+6281299998888"
CATEGORIES = ("knalpot_brong", "judi", "miras", "pencurian", "tawuran")
PLACES = ("Pasar Gede", "Stasiun Solo Balapan", "Ngarsopuro")


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat(timespec="seconds")


@pytest.fixture
def desk(db_path: Path) -> Path:
    """Two weeks of a small desk: categories, places, fakes, actions, an urgent case,
    an overdue one, dispatches to two officers and an answer."""
    with Store.open(db_path) as store:
        store.cases.import_many((NewCase(
            reporter=f"+628123450{i % 7:04d}", text=f"laporan {i} di {PLACES[i % 3]}",
            received_at=ago(days=i % 14, hours=i % 24), category=CATEGORIES[i % 5],
            place=PLACES[i % 3], status=("new", "checking", "fake", "resolved")[i % 4],
            first_action_at=None if i % 4 == 0 else ago(days=i % 14, hours=i % 24, minutes=-9))
            for i in range(1, 120)), operator="daemon")
        store.cases.create(NewCase(
            REPORTER, "ada orang bawa parang <script>alert(1)</script> hub 081299998888",
            received_at=ago(hours=3), urgent=("parang",), category="tawuran",
            place="Pasar Gede"), operator="daemon")
        officers = [Officer("bripka.agus", "+6281200000001", None, "mawar"),
                    Officer("briptu.rina", "+6281200000002", None, "melati")]
        for number, officer in ((1, officers[0]), (5, officers[1]), (4, officers[0])):
            store.field.dispatch(str(number), [officer], compose=lambda c, code: c.ticket,
                                 operator="sari")
        store.field.record_answer(message_id=None, officer="bripka.agus", case_id=1,
                                  ticket="LP-000001", finding="confirmed", note="",
                                  accepted=True)
    return db_path


def write_report(cli, tmp_path: Path, *args: str) -> str:
    target = tmp_path / "pagi.html"
    cli("report", "--html", str(target), *args)
    return target.read_text(encoding="utf-8")


def test_report_is_one_page_with_every_chart_inline_and_nothing_to_fetch(desk, cli, tmp_path):
    page = write_report(cli, tmp_path)
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') == CHARTS
    assert "<script" not in page.lower().replace("&lt;script", "")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert "url(" not in page and "@import" not in page
    assert "No data" not in page


def test_report_names_urgent_and_overdue_cases_with_numbers_masked(desk, cli, tmp_path):
    page = write_report(cli, tmp_path)
    assert "1 urgent case open" in page
    assert "LP-000120" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "081299998888" not in page and REPORTER not in page
    overdue = re.search(r"([\d,]+) cases past their deadline", page)
    assert overdue and int(overdue.group(1)) > 0


def test_report_counts_the_window_and_the_officers(desk, cli, tmp_path):
    page = write_report(cli, tmp_path, "--since", ago(days=3)[:10])
    total = int(re.search(r"<b>([\d,]+)</b>cases received", page).group(1))
    assert 0 < total < 120
    # Case 5, sent to rina, came in five days ago: outside the window.
    assert "bripka.agus" in page and "briptu.rina" not in page
    page = write_report(cli, tmp_path)
    assert "bripka.agus" in page and "briptu.rina" in page
    assert "Top places" in page and "Pasar Gede" in page


def test_report_file_is_private(desk, cli, tmp_path):
    write_report(cli, tmp_path)
    assert (tmp_path / "pagi.html").stat().st_mode & 0o007 == 0


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def page_requests(page: Path, profile: Path) -> tuple[str, list[str]]:
    """The DOM a headless chromium built from ``page``, and every URL the page itself
    asked the network for (the browser's own update checks are not the page's: they
    carry no file:// isolation key). Host names resolve nowhere, so nothing leaves."""
    log = profile / "net.json"
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", f"--user-data-dir={profile}",
         "--host-resolver-rules=MAP * ~NOTFOUND", f"--log-net-log={log}",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    events = json.loads(log.read_text())["events"]
    asked = {e["params"]["url"] for e in events
             if str(e.get("params", {}).get("network_isolation_key", "")).startswith("file://")
             and "url" in e["params"]}
    return done.stdout, sorted(u for u in asked if not u.startswith(("file:", "data:")))


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install "
                                                "chromium) to render the page headless")
def test_a_real_browser_draws_every_chart_and_fetches_nothing(desk, cli, tmp_path):
    write_report(cli, tmp_path)
    # The check itself is checked: a page with one remote image is caught.
    control = tmp_path / "control.html"
    control.write_text('<html><body><img src="http://example.com/x.png"></body></html>')
    assert page_requests(control, tmp_path / "p1")[1] == ["http://example.com/x.png"]

    dom, fetched = page_requests(tmp_path / "pagi.html", tmp_path / "p2")
    assert fetched == []
    charts = re.findall(r'<svg[^>]*class="pygal-chart".*?</svg>', dom, flags=re.S)
    assert len(charts) == CHARTS
    for chart in charts:
        # Parsed as SVG by the browser, with a plotted series (bars, a line) in it.
        assert re.search(r'class="series serie-0[^"]*"', chart)
        assert re.search(r"<(?:rect|path)[^>]*class=\"[^\"]*(?:rect|line)", chart)


def test_a_long_window_is_drawn_by_week(db_path, cli, tmp_path):
    from smsbridge.cli.briefing import by_week

    assert by_week([("2026-12-07", {"judi": 1}), ("2026-12-09", {"judi": 2, "miras": 1}),
                    ("2026-12-14", {"miras": 4})]) == [
        ("2026-12-07", {"judi": 3, "miras": 1}), ("2026-12-14", {"miras": 4})]
    with Store.open(db_path) as store:
        store.cases.import_many((NewCase(reporter=REPORTER, text="x", category="judi",
                                         received_at=ago(days=d)) for d in range(90)),
                                operator="daemon")
    page = write_report(cli, tmp_path, "--since", ago(days=100)[:10])
    assert "Cases per week (from Monday) by category" in page
    assert "Share of fake reports per week" in page
