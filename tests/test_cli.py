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
    assert "0001_foundation.sql" in capsys.readouterr().out
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
    script = "/start\n1\n1\nSari\n2\n1\n2\n:pendamping\n:link\n1\n1\n:jam +2h\n:ibu\n/saya\n"
    result = subprocess.run([sys.executable, "-m", "bot.cli", "demo"], input=script, capture_output=True,
                            text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Pendaftaran selesai" in result.stdout
    assert "Budi sekarang menjadi pendamping" in result.stdout
    assert "Nama: Sari" in result.stdout
