"""``smsbridge export -o FILE``: private, never through a symlink, never half-written, and
one clear line for a path it cannot write (the CLI as a process, on real files)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from rigs import run_smsbridge

from smsbridge.models import NewCase
from smsbridge.store import Store


@pytest.fixture
def seeded(db_path: Path) -> Path:
    with Store.open(db_path) as store:
        store.cases.import_many(
            (NewCase("+6281234567110", f"ada judi di pasar {i}") for i in range(1500)),
            operator="x")
    db_path.chmod(0o660)
    return db_path


def export(env: dict[str, str], *args: str | bytes, umask: int = 0o022
           ) -> subprocess.CompletedProcess[str]:
    return run_smsbridge("export", *args, env=env, timeout=120, umask=umask)


def one_clear_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: ") and "Traceback" not in line
    return line


def listing(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_export_file_is_0640_whatever_the_umask(seeded, cli_env, tmp_path: Path, umask: int):
    target = tmp_path / "cases.json"
    result = export(cli_env, "--format", "json", "-o", str(target), umask=umask)
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"1500 cases written to {target}\n"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert len(json.loads(target.read_text())) == 1500


def test_export_refuses_an_existing_symlink_and_leaves_its_target_alone(
        seeded, cli_env, tmp_path: Path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    link = tmp_path / "out.csv"
    link.symlink_to(victim)
    line = one_clear_line(export(cli_env, "-o", str(link)))
    assert f"{link} is a symbolic link" in line
    assert victim.read_text() == "keep me\n" and link.is_symlink()


def test_export_refuses_a_dangling_symlink_without_creating_its_target(
        seeded, cli_env, tmp_path: Path):
    link = tmp_path / "out.csv"
    link.symlink_to(tmp_path / "planted.csv")
    assert "is a symbolic link" in one_clear_line(export(cli_env, "-o", str(link)))
    assert not (tmp_path / "planted.csv").exists()


def test_export_replaces_an_earlier_file_whole_and_makes_it_private(
        seeded, cli_env, tmp_path: Path):
    target = tmp_path / "cases.csv"
    target.write_text("an older export, much longer than the new one\n" * 100_000)
    target.chmod(0o644)
    result = export(cli_env, "--since", "2000-01-01", "-o", str(target))
    assert result.returncode == 0, result.stderr
    lines = target.read_text().splitlines()
    assert lines[0].startswith("ticket,") and len(lines) == 1501
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert listing(tmp_path) == ["cases.csv", "config.toml", "smsbridge.db", "smsbridge.key"]


def test_export_that_fails_midway_leaves_nothing_and_an_earlier_file_whole(
        seeded, cli_env, tmp_path: Path):
    # A row SQLite cannot hand over as text, after a first batch was written out.
    with Store.open(seeded) as store, store.transaction():
        store.db.execute("UPDATE cases SET text = CAST(x'ff' AS TEXT) WHERE id = 1200")
    fresh, earlier = tmp_path / "fresh.csv", tmp_path / "earlier.csv"
    earlier.write_text("the last good export\n")
    for target in (fresh, earlier):
        line = one_clear_line(export(cli_env, "-o", str(target)))
        assert "decode" in line
    assert not fresh.exists() and earlier.read_text() == "the last good export\n"
    assert listing(tmp_path) == ["config.toml", "earlier.csv", "smsbridge.db",
                                 "smsbridge.key"]


def unwritable(tmp_path: Path, kind: str) -> tuple[str, str]:
    """A path export cannot write, and what its one line says about it."""
    if kind == "missing-directory":
        return str(tmp_path / "nonexistent" / "x.csv"), "does not exist"
    if kind == "directory":
        return str(tmp_path), "is a directory"
    if kind == "under-a-file":
        (tmp_path / "plain.txt").write_text("")
        return str(tmp_path / "plain.txt" / "x.csv"), "is not a directory"
    if kind == "device":
        return "/dev/null", "not a regular file"
    assert kind == "permission-denied"
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    return str(locked / "x.csv"), "Permission denied"


@pytest.mark.parametrize("kind", [
    "missing-directory", "directory", "under-a-file", "device",
    pytest.param("permission-denied", marks=pytest.mark.skipif(
        os.geteuid() == 0, reason="root writes into a directory without write permission")),
])
def test_unwritable_path_is_one_line_exit_1_and_nothing_left_behind(
        seeded, cli_env, tmp_path: Path, kind: str):
    path, says = unwritable(tmp_path, kind)
    before = listing(tmp_path)
    line = one_clear_line(export(cli_env, "-o", path))
    assert says in line and path in line
    assert listing(tmp_path) == before


def test_file_name_that_is_not_utf8_is_written_and_named_without_a_traceback(
        seeded, cli_env, tmp_path: Path):
    target = os.fsencode(tmp_path) + b"/kasus-\xff.csv"
    result = export(cli_env, "-o", target)
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"1500 cases written to {tmp_path}/kasus-\\xff.csv\n"
    assert os.path.exists(target)
    missing = os.fsencode(tmp_path) + b"/\xfe/x.csv"
    line = one_clear_line(export(cli_env, "-o", missing))
    assert f"{tmp_path}/\\xfe does not exist" in line
