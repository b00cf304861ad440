"""What an administrator installs beside the package: example config, systemd unit, udev rule."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from smsbridge.config import load as config

ROOT = Path(__file__).resolve().parent.parent


def _commented_array_example(text: str, name: str) -> str:
    """The commented-out ``[[name]]`` tables of the example, uncommented."""
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith(f"# [[{name}]]"):
            inside = True
        elif inside and not line.startswith("#"):
            inside = False
        if inside:
            lines.append(line.removeprefix("#").removeprefix(" "))
    return "\n".join(lines) + "\n"


def test_example_config_documents_every_key_with_its_default():
    text = (ROOT / "config.example.toml").read_text()
    data = tomllib.loads(text)
    defaults = config.as_dict(config.Config(), mask_secrets=False)
    # Arrays of tables ([[modems]]) are empty by default: the example shows them
    # commented out, and each of their keys is documented with its default in the
    # section whose keys they take ([modem]).
    arrays = {name for name, value in defaults.items() if isinstance(value, list)}
    assert arrays == {"modems", "officers", "teams"}
    assert set(data) == set(defaults) - arrays
    for section, keys in defaults.items():
        if section in arrays:
            continue
        assert set(data[section]) == set(keys), section
        for key, value in keys.items():
            if (section, key) == ("database", "path"):
                continue  # the example names the production path
            assert data[section][key] == value, f"{section}.{key}"
    example = tomllib.loads(_commented_array_example(text, "modems"))
    entries = example["modems"]
    assert len(entries) >= 2, "the example shows a pool in [[modems]]"
    for entry in entries:
        assert set(entry) <= set(data["modem"])
    # The example's pool, put in the example file, is a valid config.
    pool = config.from_dict({**data, **example})
    assert [m.name for m in pool.pool_modems] == [e["name"] for e in entries]


def test_example_config_shows_every_key_of_officers_and_teams_in_a_valid_roster():
    from smsbridge.config.sections import OfficerConfig, TeamConfig

    text = (ROOT / "config.example.toml").read_text()
    example = tomllib.loads(_commented_array_example(text, "officers"))
    for name, cls in (("officers", OfficerConfig), ("teams", TeamConfig)):
        shown = {key for entry in example[name] for key in entry}
        assert shown == {f.name for f in dataclasses.fields(cls)}, name
    roster = config.from_dict({**tomllib.loads(text), **example})
    assert [o.name for o in roster.officers] == ["budi", "sari"]


def test_example_config_explains_every_section():
    text = (ROOT / "config.example.toml").read_text()
    for section, value in config.as_dict(config.Config()).items():
        if isinstance(value, list):
            # An array of tables is shown commented out, after the lines explaining it.
            before, found, _ = text.partition(f"# [[{section}]]\n")
            assert found and before.rstrip().splitlines()[-1].startswith("#"), section
            continue
        _, _, body = text.partition(f"[{section}]\n")
        assert body.startswith("#"), f"[{section}] has no comment"


def test_example_config_loads():
    cfg = config.load(ROOT / "config.example.toml")
    assert cfg.database.path == "/var/lib/smsbridge/cases.db"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_unit_passes_systemd_analyze_verify(tmp_path):
    unit = (ROOT / "contrib" / "smsbridge.service").read_text()
    # verify checks that ExecStart exists: point it at this installation's script.
    exe = shutil.which("smsbridge") or str(Path(sys.executable).parent / "smsbridge")
    unit = unit.replace("/opt/smsbridge/bin/smsbridge", exe)
    path = tmp_path / "smsbridge.service"
    path.write_text(unit)
    result = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_the_backup_timer_and_service_pass_systemd_analyze_verify(tmp_path):
    exe = shutil.which("smsbridge") or str(Path(sys.executable).parent / "smsbridge")
    for name in ("smsbridge-backup.service", "smsbridge-backup.timer"):
        unit = (ROOT / "contrib" / name).read_text()
        (tmp_path / name).write_text(unit.replace("/opt/smsbridge/bin/smsbridge", exe))
    result = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "smsbridge-backup.timer"),
                             str(tmp_path / "smsbridge-backup.service")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_the_backup_service_writes_where_the_readme_makes_room_for_it():
    unit = (ROOT / "contrib" / "smsbridge-backup.service").read_text()
    readme = (ROOT / "README.md").read_text()
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    directory = exec_start.split()[-1]
    assert "backup --keep" in exec_start and f"ReadWritePaths={directory}" in unit
    assert any("install -d" in line and line.endswith(directory)
               for line in readme.splitlines())
    assert "smsbridge-backup.timer" in readme


def test_systemd_unit_is_a_watched_notify_service_with_sandboxing():
    unit = (ROOT / "contrib" / "smsbridge.service").read_text()
    for line in ("Type=notify", "WatchdogSec=", "Restart=always", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "StateDirectory=smsbridge",
                 "SupplementaryGroups=dialout", "ExecReload=/bin/kill -HUP $MAINPID"):
        assert line in unit


def test_the_state_directory_keeps_its_group_in_the_unit_and_the_readme():
    unit = (ROOT / "contrib" / "smsbridge.service").read_text()
    readme = (ROOT / "README.md").read_text()
    mode = next(line for line in unit.splitlines()
                if line.startswith("StateDirectoryMode=")).removeprefix("StateDirectoryMode=")
    assert int(mode, 8) & 0o2000, "setgid: new files get group smsbridge"
    assert f"StateDirectoryMode={mode}" in readme and f"-m {mode} /var/lib/smsbridge" in readme


def test_udev_rule_names_the_modem_gsm_modem():
    rules = (ROOT / "contrib" / "99-gsm-modem.rules").read_text()
    active = [line for line in rules.splitlines() if line and not line.startswith("#")]
    assert active and all('SYMLINK+="gsm-modem"' in line for line in active)


def test_every_config_field_has_validation_metadata():
    for section in dataclasses.fields(config.Config):
        if section.name in ("source", "modems"):
            continue  # [[modems]] entries are ModemConfig, checked as [modem]
        if section.name in ("officers", "teams"):
            from smsbridge.config.sections import ARRAY_SECTIONS

            for f in dataclasses.fields(ARRAY_SECTIONS[section.name]):
                assert "secret" in f.metadata, f"{section.name}.{f.name}"
            continue
        for f in dataclasses.fields(section.default_factory()):
            assert "secret" in f.metadata, f"{section.name}.{f.name}"


def test_the_unit_starts_what_the_readme_installs():
    unit = (ROOT / "contrib" / "smsbridge.service").read_text()
    readme = (ROOT / "README.md").read_text()
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    program = exec_start.removeprefix("ExecStart=").split()[0]
    venv = program.removesuffix("/bin/smsbridge")
    assert f"python3 -m venv {venv}" in readme
    assert f"{venv}/bin/python -m pip install" in readme
