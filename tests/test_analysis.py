"""Tests for the offline before/after analysis package (no Telegram code)."""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import openpyxl
import pytest

from analysis.chart import milk_flow_chart_png
from analysis.cli import main
from analysis.csv_input import AnalysisInputError, analyze_file, load_csv
from analysis.export import write_csv, write_xlsx
from analysis.report import format_text
from analysis.stats import NOTE, milk_flow_analysis, quiz_analysis

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BENER = EXAMPLES / "bener_milk_flow.csv"
QUIZ = EXAMPLES / "palu_quiz_example.csv"


def write(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the Bener example -------------------------------------------------------

def test_bener_percentages_match_paper():
    r = analyze_file(BENER)
    assert r["kind"] == "milk_flow"
    assert (r["n_pairs"], r["excluded"]) == (23, 0)
    assert r["pre"]["not_out"] == {"n": 17, "pct": 73.9}
    assert r["pre"]["not_smooth"] == {"n": 6, "pct": 26.1}
    assert r["pre"]["smooth"] == {"n": 0, "pct": 0.0}
    assert r["post"]["smooth"] == {"n": 19, "pct": 82.6}
    assert r["post"]["not_out"] == {"n": 4, "pct": 17.4}
    assert r["cross_table"]["not_out"] == {"not_out": 4, "not_smooth": 0, "smooth": 13}
    assert r["cross_table"]["not_smooth"]["smooth"] == 6
    assert (r["improved"], r["same"], r["worse"]) == (19, 4, 0)
    assert r["tests"]["sign"]["p"] == pytest.approx(2 * 0.5**19)
    assert r["tests"]["mcnemar_smooth"]["p"] == pytest.approx(2 * 0.5**19)
    assert r["tests"]["paired_t"]["df"] == 22
    assert r["tests"]["paired_t"]["t"] == pytest.approx(8.5247, abs=1e-3)
    json.dumps(r)  # JSON-able


# --- hand-computed small cases -------------------------------------------------

def test_sign_test_five_improved_none_worse():
    r = milk_flow_analysis([("not_out", "smooth")] * 3 + [("not_out", "not_smooth")] * 2
                           + [("smooth", "smooth")])
    assert (r["improved"], r["same"], r["worse"]) == (5, 1, 0)
    assert r["tests"]["sign"]["p"] == pytest.approx(0.0625)


def test_wilcoxon_small_case():
    # differences +1 x5 (one zero dropped): W- = 0, exact two-sided p = 2/32
    r = milk_flow_analysis([("not_out", "not_smooth")] * 5 + [("smooth", "smooth")])
    assert r["tests"]["wilcoxon"]["statistic"] == 0.0
    assert r["tests"]["wilcoxon"]["p"] == pytest.approx(0.0625)


def test_mcnemar_uses_only_discordant_smooth_cells():
    # b = 4 became smooth, c = 1 stopped being smooth; not_out -> not_smooth is not discordant
    pairs = ([("not_out", "smooth")] * 4 + [("smooth", "not_smooth")]
             + [("not_out", "not_smooth")] * 3 + [("smooth", "smooth")] * 2)
    r = milk_flow_analysis(pairs)
    assert r["tests"]["mcnemar_smooth"]["p"] == pytest.approx(12 / 32)  # 2*(1+5)/32
    assert r["tests"]["sign"]["p"] == pytest.approx(18 / 256)  # 7 improved, 1 worse: 2*(1+8)/256


def test_paired_t_small_case():
    # differences 1, 1, 2 -> mean 4/3, sd 1/sqrt(3), t = 4, df 2
    r = milk_flow_analysis([("not_out", "not_smooth"), ("not_smooth", "smooth"),
                            ("not_out", "smooth")])
    t = r["tests"]["paired_t"]
    assert t["t"] == pytest.approx(4.0)
    assert t["df"] == 2
    assert t["p"] == pytest.approx(0.0572, abs=1e-4)


def test_no_change_does_not_crash():
    r = milk_flow_analysis([("smooth", "smooth")] * 4)
    assert r["tests"]["sign"]["p"] == 1.0
    assert r["tests"]["mcnemar_smooth"]["p"] == 1.0
    assert r["tests"]["wilcoxon"] == {"statistic": None, "p": 1.0}
    assert r["tests"]["paired_t"] == {"t": None, "df": 3, "p": None}


def test_constant_nonzero_change_gives_no_t():
    r = milk_flow_analysis([("not_out", "not_smooth")] * 4)
    assert r["tests"]["paired_t"]["t"] is None
    assert r["tests"]["paired_t"]["p"] is None


def test_empty_milk_flow_analysis():
    r = milk_flow_analysis([], excluded=3)
    assert r["n_pairs"] == 0 and r["excluded"] == 3
    assert r["pre"]["smooth"] == {"n": 0, "pct": None}
    assert r["tests"]["sign"]["p"] is None
    assert r["tests"]["paired_t"]["t"] is None
    json.dumps(r)
    assert "0" in format_text(r)


def test_unknown_category_in_pairs_is_rejected():
    with pytest.raises(ValueError):
        milk_flow_analysis([("lancar", "smooth")])


def test_quiz_mean_and_ci():
    # changes 10, 20, 30: mean 20, sd 10, sem 10/sqrt(3), t(0.975, 2) = 4.302653
    r = quiz_analysis([(50, 60), (40, 60), (50, 80)])
    assert (r["mean_pre"], r["mean_post"], r["mean_change"]) == (46.67, 66.67, 20.0)
    half = 4.302653 * 10 / math.sqrt(3)
    assert r["ci95"] == [pytest.approx(20 - half, abs=0.01), pytest.approx(20 + half, abs=0.01)]
    assert r["tests"]["paired_t"]["t"] == pytest.approx(20 / (10 / math.sqrt(3)))
    assert r["tests"]["paired_t"]["df"] == 2
    assert r["tests"]["wilcoxon"]["p"] == pytest.approx(0.25)


def test_quiz_small_n():
    one = quiz_analysis([(50, 70)])
    assert one["mean_change"] == 20.0 and one["ci95"] == [None, None]
    assert one["tests"]["paired_t"]["t"] is None
    none = quiz_analysis([], excluded=2)
    assert none["mean_pre"] is None and none["ci95"] == [None, None]
    assert "2" in format_text(none)


def test_quiz_example_file():
    r = analyze_file(QUIZ)
    assert r["kind"] == "quiz" and r["n_pairs"] == 25
    assert 12 <= r["mean_change"] <= 14
    lo, hi = r["ci95"]
    assert lo < r["mean_change"] < hi


# --- CSV input -----------------------------------------------------------------

def test_exclusion_counting(tmp_path):
    path = write(tmp_path, "mother_id,phase,milk_flow\n"
                           "A,pre,not_out\nA,post,smooth\n"
                           "B,pre,not_out\n"
                           "C,post,smooth\n\n"
                           "D,post,smooth\nD,pre,not_smooth\n")
    kind, pairs, excluded = load_csv(path)
    assert kind == "milk_flow"
    assert pairs == [("not_out", "smooth"), ("not_smooth", "smooth")]
    assert excluded == 2


def test_labels_and_codes_any_case(tmp_path):
    path = write(tmp_path, "\ufeffMother_ID, Phase ,MILK_FLOW\n"
                           "1,PRE,  asi BELUM  keluar \n1,Post,ASI LANCAR\n"
                           "2,pre,Asi keluar tapi belum lancar\n2,post,NOT_SMOOTH\n"
                           "3,pre,Not_Out\n3,post,smooth\n")
    kind, pairs, excluded = load_csv(path)
    assert pairs == [("not_out", "smooth"), ("not_smooth", "not_smooth"), ("not_out", "smooth")]
    assert excluded == 0


def test_quiz_file_with_semicolons_and_decimal_comma(tmp_path):
    path = write(tmp_path, "participant_id;phase;score\nP1;pre;50,5\nP1;post;70\n")
    assert load_csv(path) == ("quiz", [(50.5, 70.0)], 0)


@pytest.mark.parametrize("text, line, fragment", [
    ("", 1, "empty"),
    ("\n\n", 1, "empty"),
    ("mother_id,phase,milk_flow\n", 2, "no data rows"),
    ("mother_id,milk_flow\nA,not_out\n", 1, "missing column(s) phase"),
    ("id,when,value\n1,pre,2\n", 1, "unrecognised header"),
    ("mother_id,phase,milk_flow\nA,pre,not_out\nA,post,banyak\n", 3, "unknown milk_flow"),
    ("mother_id,phase,milk_flow\nA,before,not_out\n", 2, "phase"),
    ("mother_id,phase,milk_flow\nA,pre,not_out\nA,PRE,smooth\n", 3, "duplicate pre row"),
    ("mother_id,phase,milk_flow\nA,pre\n", 2, "expected 3 columns"),
    ("mother_id,phase,milk_flow\n,pre,smooth\n", 2, "empty mother_id"),
    ("participant_id,phase,score\nP1,pre,abc\n", 2, "not a number"),
    ("participant_id,phase,score\nP1,pre,50\nP1,post,101\n", 3, "out of range"),
    ("participant_id,phase,score\nP1,pre,-1\n", 2, "out of range"),
    ("participant_id,phase,score\nP1,pre,nan\n", 2, "out of range"),
])
def test_bad_files(tmp_path, text, line, fragment):
    path = write(tmp_path, text)
    with pytest.raises(AnalysisInputError) as exc:
        load_csv(path)
    msg = str(exc.value)
    assert msg.startswith(f"line {line}:"), msg
    assert fragment in msg


def test_duplicate_error_names_first_line(tmp_path):
    path = write(tmp_path, "mother_id,phase,milk_flow\nA,pre,not_out\nB,pre,smooth\nA,pre,smooth\n")
    with pytest.raises(AnalysisInputError, match="line 4: .*first seen on line 2"):
        load_csv(path)


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(AnalysisInputError, match="cannot read"):
        load_csv(tmp_path / "nope.csv")
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(b"mother_id,phase,milk_flow\nA,pre,\xe9\n")
    with pytest.raises(AnalysisInputError, match="UTF-8"):
        load_csv(bad)


# --- CLI and report --------------------------------------------------------------

MILK_KEYS = {"kind", "n_pairs", "excluded", "pre", "post", "cross_table", "improved", "same",
             "worse", "tests", "note"}


def test_cli_json(capsys):
    assert main([str(BENER), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == MILK_KEYS
    assert set(data["tests"]) == {"sign", "wilcoxon", "mcnemar_smooth", "paired_t"}
    assert set(data["tests"]["paired_t"]) == {"t", "df", "p"}
    assert set(data["tests"]["wilcoxon"]) == {"statistic", "p"}
    assert set(data["pre"]["not_out"]) == {"n", "pct"}


def test_cli_json_quiz(capsys):
    assert main([str(QUIZ), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"kind", "n_pairs", "excluded", "mean_pre", "mean_post", "mean_change",
                         "ci95", "tests"}
    assert set(data["tests"]) == {"paired_t", "wilcoxon"}


def test_cli_text_and_lang(capsys):
    assert main([str(BENER)]) == 0
    out = capsys.readouterr().out
    assert "73.9%" in out and "82.6%" in out
    assert main([str(BENER), "--lang", "id"]) == 0
    assert "ASI belum keluar" in capsys.readouterr().out


def test_cli_error(tmp_path, capsys):
    path = write(tmp_path, "mother_id,phase,milk_flow\nA,pre,maybe\n")
    assert main([str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: line 2: unknown milk_flow category")


def test_text_report_contains_note_and_tests():
    r = analyze_file(BENER)
    text = format_text(r)
    assert " ".join(text.split()).find(" ".join(NOTE.split())) != -1
    for word in ("Sign test", "Wilcoxon", "McNemar", "Paired t-test", "Improved: 19"):
        assert word in text
    text_id = format_text(r, "id")
    assert "Catatan" in text_id and "hari ke-2" in text_id and "Membaik: 19" in text_id
    with pytest.raises(ValueError):
        format_text(r, "fr")


def test_text_report_quiz():
    text = format_text(analyze_file(QUIZ), "id")
    assert "Rata-rata sebelum: 56.00" in text and "+13.00" in text


# --- chart and exports -------------------------------------------------------------

def test_chart_png():
    png = milk_flow_chart_png(analyze_file(BENER), title="Bener (n = 23)")
    assert png.startswith(b"\x89PNG")
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    assert (width, height) == (800, 600)
    assert milk_flow_chart_png(milk_flow_analysis([])).startswith(b"\x89PNG")


def test_write_csv_to_path_and_file(tmp_path):
    rows = ((i, f"ibu {i}", None) for i in range(3))  # a generator: consumed once
    path = tmp_path / "out.csv"
    assert write_csv(path, ["id", "name", "note"], rows) == 3
    with open(path, newline="", encoding="utf-8-sig") as f:
        assert list(csv.reader(f)) == [["id", "name", "note"], ["0", "ibu 0", ""],
                                       ["1", "ibu 1", ""], ["2", "ibu 2", ""]]
    buf = io.StringIO(newline="")
    write_csv(buf, ["a", "b"], [("x,y", 'say "hi"')])
    assert list(csv.reader(io.StringIO(buf.getvalue()))) == [["a", "b"], ["x,y", 'say "hi"']]


def test_write_xlsx_roundtrip(tmp_path):
    import datetime as dt

    path = tmp_path / "out.xlsx"
    when = dt.datetime(2024, 8, 1, 9, 30)
    counts = write_xlsx(path, [
        ("mothers", ["id", "name", "day", "text"],
         ((i, f"ibu {i}", when, "=1+1") for i in range(1, 4))),
        ("empty", ["x"], iter([])),
    ])
    assert counts == [3, 0]
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["mothers", "empty"]
    rows = list(wb["mothers"].iter_rows(values_only=True))
    assert rows[0] == ("id", "name", "day", "text")
    assert rows[1] == (1, "ibu 1", when, "=1+1")  # text stays text, not a formula
    assert len(rows) == 4
    assert wb["mothers"]["D2"].data_type == "s"
    assert list(wb["empty"].iter_rows(values_only=True)) == [("x",)]
