"""The command line: clinics, midwives, migrate, backup, settings errors, run without a token."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot import cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "cli.db"))
    monkeypatch.setenv("BOT_USERNAME", "PuskesmasBot")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    return tmp_path


def test_clinic_add_json_list_and_midwives(env, capsys):
    assert cli.main(["clinic", "add", "Puskesmas Bener", "--timezone", "Asia/Jakarta", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"clinic_id", "mother_link", "midwife_link"}
    assert out["mother_link"].startswith("https://t.me/PuskesmasBot?start=m_")
    assert out["midwife_link"].startswith("https://t.me/PuskesmasBot?start=w_")
    assert cli.main(["clinic", "list"]) == 0
    assert "Puskesmas Bener" in capsys.readouterr().out
    assert cli.main(["midwife", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert cli.main(["midwife", "remove", "42"]) == 2
    assert cli.main(["clinic", "midwife-link", str(out["clinic_id"])]) == 0
    assert "start=w_" in capsys.readouterr().out


def test_clinic_add_rejects_unknown_zone(env, capsys):
    assert cli.main(["clinic", "add", "X", "--timezone", "Mars/Base"]) == 2
    assert "unknown time zone" in capsys.readouterr().err


def test_migrate_and_backup(env, capsys):
    assert cli.main(["migrate"]) == 0
    assert "0001_baseline" in capsys.readouterr().out
    cli.main(["clinic", "add", "Puskesmas Palu", "--timezone", "Asia/Makassar"])
    target = env / "backup" / "copy.db"
    assert cli.main(["backup", str(target)]) == 0
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT name FROM clinic").fetchall() == [("Puskesmas Palu",)]


def test_run_without_token_explains_in_one_line(env, capsys):
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert "@BotFather" in err and "sahabat-nifas demo" in err and "\n" not in err


def test_bad_setting_gives_a_clear_error(env, monkeypatch):
    monkeypatch.setenv("DEFAULT_TIMEZONE", "Jakarta")
    with pytest.raises(SystemExit) as exc:
        cli.main(["migrate"])
    assert "DEFAULT_TIMEZONE" in str(exc.value)


def test_demo_runs_a_script(tmp_path):
    # consent, mother, name, yesterday, birth time unknown, first child, WITA, search "demo", pick it
    script = "/start\n1\n1\nSari\n2\n5\n1\n2\ndemo\n1\n:pendamping\n:link\n1\n1\n:jam +2h\n:ibu\n/saya\n"
    result = subprocess.run([sys.executable, "-m", "bot.cli", "demo"], input=script, capture_output=True,
                            text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Pendaftaran selesai" in result.stdout
    assert "Budi sekarang menjadi pendamping" in result.stdout
    assert "Nama: Sari" in result.stdout
    assert "Ibu sekarang didampingi Puskesmas Demo" in result.stdout


def test_clinic_add_and_set_district_and_numbers(env, capsys):
    assert cli.main(["clinic", "add", "Puskesmas Bener", "--timezone", "Asia/Jakarta", "--district", "Purworejo",
                     "--phone", "0274-123456", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["district"] == "Purworejo" and out["phone"] == "+62 274 123456" and out["whatsapp"] is None
    clinic_id = str(out["clinic_id"])
    # numbers are checked, with a clear message, and nothing changes
    assert cli.main(["clinic", "set", clinic_id, "--phone", "274 12x"]) == 2
    assert "phone number '274 12x'" in capsys.readouterr().err
    assert cli.main(["clinic", "add", "X", "--phone", "0274"]) == 2
    assert "6 to 15" in capsys.readouterr().err
    assert cli.main(["clinic", "set", "99", "--name", "Y"]) == 2
    assert "no clinic 99" in capsys.readouterr().err
    assert cli.main(["clinic", "set", clinic_id]) == 2
    assert "nothing to change" in capsys.readouterr().err
    assert cli.main(["clinic", "set", clinic_id, "--timezone", "Mars/Base"]) == 2
    assert "unknown time zone" in capsys.readouterr().err
    # set changes only what is given; an Indonesian 0 number becomes +62, "+62 0..." loses the 0
    assert cli.main(["clinic", "set", clinic_id, "--whatsapp", "0812 3456 789", "--phone", "+62 0274 654321",
                     "--name", "Puskesmas Bener Baru", "--timezone", "Asia/Makassar", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"clinic_id": int(clinic_id), "name": "Puskesmas Bener Baru", "timezone": "Asia/Makassar",
                   "district": "Purworejo", "phone": "+62 274 654321", "whatsapp": "+62 812 3456 789"}
    assert cli.main(["clinic", "set", clinic_id, "--whatsapp", ""]) == 0  # "" clears it
    assert "WhatsApp" not in capsys.readouterr().out
    assert cli.main(["clinic", "list"]) == 0
    listing = capsys.readouterr().out
    assert "district=Purworejo" in listing and "phone=+62 274 654321" in listing
    assert cli.main(["clinic", "list", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert row["district"] == "Purworejo" and row["phone"] == "+62 274 654321" and row["whatsapp"] is None
    with sqlite3.connect(env / "cli.db") as db:
        assert db.execute("SELECT phone, whatsapp FROM clinic").fetchall() == [("+62 274 654321", None)]


def test_clinic_service_settings_and_coordinator(env, capsys):
    assert cli.main(["clinic", "add", "Puskesmas Bener", "--json"]) == 0
    clinic_id = str(json.loads(capsys.readouterr().out)["clinic_id"])
    assert cli.main(["clinic", "set", clinic_id, "--hours", "16:00-07:00"]) == 2
    assert "HH:MM-HH:MM" in capsys.readouterr().err
    assert cli.main(["clinic", "set", clinic_id, "--escalate-minutes", "0"]) == 2
    assert cli.main(["clinic", "set", clinic_id, "--days", "189"]) == 2
    assert cli.main(["clinic", "set", clinic_id, "--hours", "08:00-14:00", "--days", "654321",
                     "--escalate-minutes", "10", "--escalate-hours", "12", "--call-list-time", "06:30"]) == 0
    with sqlite3.connect(env / "cli.db") as db:
        assert db.execute("SELECT hours_open, hours_close, hours_days, escalate_urgent_minutes,"
                          " escalate_warning_hours, call_list_time FROM clinic").fetchone() == (
            "08:00", "14:00", "123456", 10, 12, "06:30")
        db.execute("INSERT INTO app_user(telegram_id, role, consent_at, created_at) VALUES (7, 'midwife', 'x', 'x')")
        db.execute("INSERT INTO midwife(user_id, clinic_id, joined_at) VALUES (7, ?, 'x')", (int(clinic_id),))
    assert cli.main(["midwife", "coordinator", "8"]) == 2
    assert cli.main(["midwife", "coordinator", "7"]) == 0
    with sqlite3.connect(env / "cli.db") as db:
        assert db.execute("SELECT coordinator FROM midwife").fetchone() == (1,)
    assert cli.main(["midwife", "coordinator", "7", "--off"]) == 0
    with sqlite3.connect(env / "cli.db") as db:
        assert db.execute("SELECT coordinator FROM midwife").fetchone() == (0,)
