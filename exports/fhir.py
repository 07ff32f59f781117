"""FHIR R4 export of the milk reports of a time range: one Bundle (type `collection`) as JSON.

What is in it, in this order:

- one `CodeSystem` (ours, `CODE_SYSTEM`): the codes this export uses — the questions
  (`milk-flow`, `danger-signs`, `feeds-24h`, `wet-nappies-24h`, `breasts`, `postpartum-day`), the
  milk-flow categories of the Bener study (`not_out`, `not_smooth`, `smooth`), the breasts
  (`soft`, `full`, `hard_painful`), and every danger sign of the checklist plus `none`. No LOINC
  or SNOMED code says "milk flow, mother's own three-level report", so we do not pretend one does;
- one `Questionnaire` (ours, `QUESTIONNAIRE`): the report as the bot asks it;
- per mother with a report in the range, one `Patient`: identifier = her pseudonym under
  `PSEUDONYM_SYSTEM`, her name as she typed it, gender female, the clinic as
  `managingOrganization` (by name only: we have no SATUSEHAT Organization id). No NIK, no birth
  date, no address, no phone: the bot does not collect them;
- per report, one `QuestionnaireResponse` (the answers given; skipped questions are left out),
  one `Observation` of the milk-flow category (category `survey`, code `milk-flow`,
  `derivedFrom` the QuestionnaireResponse), and when the checklist was answered one `Observation`
  of the danger signs (`danger-signs`: `valueCodeableConcept` `none`, or one component per sign).

Shaped after SATUSEHAT's postnatal-care (PNC) guide where that makes sense: resources linked by
`urn:uuid:` full URLs as in its bundles, times in UTC with an explicit offset
(`2026-11-30T02:00:00+00:00`), Observation categories from HL7's observation-category code
system. Not claimed: `meta.profile` is left out (SATUSEHAT's profiles require an IHS patient
number, an Encounter and a Practitioner that a self-report has not), so SATUSEHAT will not accept
this Bundle as it is; it is a faithful, standard-conformant hand-over that an integrator can map.

Every resource is built as a dict and validated with the `fhir.resources` models before it is
written (`_valid`; the Bundle's shell too). Sent in chat, a range with more than
`REPORTS_PER_FILE` reports is split into several complete Bundles (a bot may send at most 50 MB
per document); a Puskesmas's month is far below that. fhir.resources 8 ships
R5, R4B (4.3) and STU3 but not R4 (4.0.1) itself; we use R4B, whose Patient, Observation,
QuestionnaireResponse, Questionnaire, CodeSystem and Bundle have the same elements as R4's for
everything written here. The Bundle is written one entry at a time (no list of resources is
ever held in memory) and the range keeps it bounded.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import iso
from db.queries.clinic_scope import Scope
from db.queries.exports import fhir_reports
from exports.research import connect_read_only

FHIR_VERSION = "4.0.1"   # what SATUSEHAT speaks; the models are R4B (see above)
SYSTEM_BASE = "https://sahabat-nifas.id/fhir"
PSEUDONYM_SYSTEM = f"{SYSTEM_BASE}/sid/pseudonym"
CODE_SYSTEM = f"{SYSTEM_BASE}/CodeSystem/laporan-asi"
QUESTIONNAIRE = f"{SYSTEM_BASE}/Questionnaire/laporan-asi"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, SYSTEM_BASE)
LANG = "id"
RANGES = ("d30", "d7", "month")     # the first is the default
REPORTS_PER_FILE = 5_000            # about 15 MB of JSON: well under Telegram's 50 MB for a bot's document,
                                    # and python-telegram-bot holds the file in memory while it uploads
QUESTIONS = {
    "postpartum-day": ("integer", "Hari nifas ke- (hari melahirkan = hari ke-1)"),
    "milk-flow": ("choice", "Kelancaran ASI sekarang (laporan ibu atau pendamping)"),
    "danger-signs": ("choice", "Tanda bahaya pada ibu atau bayi sekarang (daftar periksa)"),
    "feeds-24h": ("integer", "Berapa kali bayi menyusu dalam 24 jam terakhir"),
    "wet-nappies-24h": ("integer", "Popok basah dalam 24 jam terakhir (6 = 6 atau lebih bila dipilih dengan tombol)"),
    "breasts": ("choice", "Keadaan payudara ibu"),
}


def date_range(choice: str, now: datetime, zone: str) -> tuple[datetime, datetime]:
    """(start, end) in UTC: the last 7 or 30 days, or this month in the clinic's time zone."""
    if choice == "d7":
        return now - timedelta(days=7), now
    if choice == "month":
        local = now.astimezone(ZoneInfo(zone))
        first = datetime.combine(local.date().replace(day=1), time(0, 0), tzinfo=ZoneInfo(zone))
        return first.astimezone(timezone.utc), now
    if choice == "d30":
        return now - timedelta(days=30), now
    raise ValueError(f"unknown range {choice!r}")


def fhir_time(stored: str) -> str:
    """'2026-11-30T02:00:00Z' → '2026-11-30T02:00:00+00:00' (SATUSEHAT writes UTC with an offset)."""
    return stored[:-1] + "+00:00" if stored.endswith("Z") else stored


def _valid(model, data: dict) -> dict:
    """Validate `data` with the fhir.resources model (raises on anything FHIR does not allow) and
    return it: the Bundle is written from these dicts, as pydantic's own JSON dump costs three
    times the validation."""
    model.model_validate(data)
    return data


def _urn(kind: str, key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{kind}/{key}')}"


class Codes:
    """Our CodeSystem's concepts, with Indonesian displays from the bot's own texts."""

    def __init__(self, texts):
        self.flow = dict(texts.data(LANG, "reports.flow"))
        self.breasts = dict(texts.data(LANG, "reports.breasts"))
        self.signs = {item["id"]: item["label"] for item in texts.data(LANG, "reports.danger_signs")}
        self.signs["none"] = "Tidak ada tanda bahaya"
        self.questions = {code: text for code, (_, text) in QUESTIONS.items()}
        concepts: dict[str, str] = {}
        for group in (self.questions, self.flow, self.breasts, self.signs):
            for code, display in group.items():
                if code in concepts:
                    raise ValueError(f"code {code!r} twice in {CODE_SYSTEM}")
                concepts[code] = display
        self.concepts = concepts

    def coding(self, code: str) -> dict:
        return {"system": CODE_SYSTEM, "code": code, "display": self.concepts.get(code, code)}


def code_system(codes: Codes, now: datetime):
    from fhir.resources.R4B.codesystem import CodeSystem

    return _valid(CodeSystem, {
        "resourceType": "CodeSystem", "id": "laporan-asi", "url": CODE_SYSTEM, "name": "LaporanAsi",
        "title": "Sahabat Nifas: laporan kelancaran ASI", "status": "active", "experimental": False,
        "date": fhir_time(iso(now)), "publisher": "Sahabat Nifas", "content": "complete",
        "description": "Kode lokal Sahabat Nifas untuk laporan ASI ibu nifas (tidak ada kode LOINC/SNOMED yang "
                       "tepat untuk laporan kelancaran ASI tiga tingkat oleh ibu sendiri).",
        "caseSensitive": True,
        "concept": [{"code": code, "display": display} for code, display in codes.concepts.items()]})


def questionnaire(codes: Codes, now: datetime):
    from fhir.resources.R4B.questionnaire import Questionnaire

    def options(group: dict) -> list[dict]:
        return [{"valueCoding": codes.coding(code)} for code in group]

    items = []
    for link, (kind, text) in QUESTIONS.items():
        item = {"linkId": link, "text": text, "type": kind, "code": [codes.coding(link)]}
        if link == "milk-flow":
            item |= {"required": True, "answerOption": options(codes.flow)}
        elif link == "breasts":
            item["answerOption"] = options(codes.breasts)
        elif link == "danger-signs":
            item |= {"repeats": True, "answerOption": options(codes.signs)}
        items.append(item)
    return _valid(Questionnaire, {
        "resourceType": "Questionnaire", "id": "laporan-asi", "url": QUESTIONNAIRE, "name": "LaporanAsi",
        "title": "Laporan ASI Sahabat Nifas", "status": "active", "subjectType": ["Patient"],
        "date": fhir_time(iso(now)), "publisher": "Sahabat Nifas", "item": items})


def patient(pseudonym: str, name: str, clinic: str):
    from fhir.resources.R4B.patient import Patient

    return _valid(Patient, {
        "resourceType": "Patient", "id": pseudonym, "active": True,
        "identifier": [{"use": "secondary", "system": PSEUDONYM_SYSTEM, "value": pseudonym}],
        "name": [{"use": "usual", "text": name}], "gender": "female",
        "managingOrganization": {"display": clinic}})


def report_resources(row: tuple, patient_ref: str, codes: Codes) -> list[tuple[str, dict]]:
    """(fullUrl, validated resource) of one report: its QuestionnaireResponse and Observations."""
    from fhir.resources.R4B.observation import Observation
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    (_, _, pseudonym, _, _, rid, at, day, role, relation, flow, feeds, wet, breasts, signs) = row
    when = fhir_time(at)
    subject = {"reference": patient_ref, "display": pseudonym}
    if role == "companion":
        who = {"display": f"Pendamping ({relation})" if relation else "Pendamping"}
    else:
        who = subject

    def answer_item(link: str, answers: list[dict]) -> dict:   # the question's text is in the Questionnaire
        return {"linkId": link, "answer": answers}

    items = [answer_item("postpartum-day", [{"valueInteger": day}]),
             answer_item("milk-flow", [{"valueCoding": codes.coding(flow)}])]
    if signs is not None:
        items.append(answer_item("danger-signs", [{"valueCoding": codes.coding(s)}
                                                  for s in (signs.split(",") if signs else ["none"])]))
    if feeds is not None:
        items.append(answer_item("feeds-24h", [{"valueInteger": feeds}]))
    if wet is not None:
        items.append(answer_item("wet-nappies-24h", [{"valueInteger": wet}]))
    if breasts is not None:
        items.append(answer_item("breasts", [{"valueCoding": codes.coding(breasts)}]))
    qr_url = _urn("QuestionnaireResponse", str(rid))
    qr = {"resourceType": "QuestionnaireResponse", "id": f"laporan-{rid}",
          "identifier": {"system": f"{SYSTEM_BASE}/sid/laporan-asi", "value": str(rid)},
          "questionnaire": QUESTIONNAIRE, "status": "completed", "subject": subject, "authored": when,
          "source" if role != "companion" else "author": who, "item": items}
    category = [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}]
    derived = [{"reference": qr_url}]
    flow_obs = {"resourceType": "Observation", "id": f"laporan-{rid}-asi", "status": "final",
                "category": category, "code": {"coding": [codes.coding("milk-flow")]}, "subject": subject,
                "effectiveDateTime": when, "performer": [who],
                "valueCodeableConcept": {"coding": [codes.coding(flow)], "text": codes.flow.get(flow, flow)},
                "derivedFrom": derived}
    out = [(qr_url, _valid(QuestionnaireResponse, qr)),
           (_urn("Observation", f"{rid}/milk-flow"), _valid(Observation, flow_obs))]
    if signs is not None:
        danger = {"resourceType": "Observation", "id": f"laporan-{rid}-tanda-bahaya", "status": "final",
                  "category": category, "code": {"coding": [codes.coding("danger-signs")]}, "subject": subject,
                  "effectiveDateTime": when, "performer": [who], "derivedFrom": derived}
        if signs:
            danger["component"] = [{"code": {"coding": [codes.coding(s)]}, "valueBoolean": True}
                                   for s in signs.split(",")]
        else:
            danger["valueCodeableConcept"] = {"coding": [codes.coding("none")]}
        out.append((_urn("Observation", f"{rid}/danger-signs"), _valid(Observation, danger)))
    return out


class _BundleFile:
    """One Bundle file, written entry by entry."""

    def __init__(self, path: Path, head: str, counts: dict[str, int]):
        self.path, self.counts, self.first, self.reports = path, counts, True, 0
        self.out = open(path, "w", encoding="utf-8")
        self.out.write(head[:-1] + ',"entry":[')

    def add(self, full_url: str, resource: dict) -> None:
        self.out.write(("" if self.first else ",") + json.dumps(
            {"fullUrl": full_url, "resource": resource}, ensure_ascii=False, separators=(",", ":")))
        self.first = False
        self.counts[resource["resourceType"]] += 1

    def close(self) -> None:
        self.out.write("]}")
        self.out.close()


def write_fhir_bundle(db_path: str | Path, midwife_id: int, path: Path, start: datetime, end: datetime,
                      now: datetime, texts, max_reports: int | None = None) -> tuple[Scope, dict[str, int], list[Path]]:
    """In a worker thread, with its own read-only connection: the Bundle as JSON at `path`.

    With `max_reports`, a range with more reports is split into several files (`path` with -1,
    -2 … before the suffix), each a complete Bundle (the CodeSystem, the Questionnaire and the
    Patients of its reports), so each stays under Telegram's 50 MB for a bot's document.
    Returns her clinic, the count of each resource type written (all files; "mothers": distinct
    mothers) and the files."""
    from fhir.resources.R4B.bundle import Bundle

    codes = Codes(texts)
    conn = connect_read_only(db_path)
    files: list[_BundleFile] = []
    try:
        scope, rows = fhir_reports(conn, midwife_id, start, end)
        head = Bundle.model_validate({
            "resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "collection",
            "timestamp": fhir_time(iso(now)),
            "meta": {"tag": [{"system": f"{SYSTEM_BASE}/CodeSystem/export-range",
                              "code": f"{iso(start)}/{iso(end)}",
                              "display": f"Laporan {iso(start)} sampai {iso(end)} (UTC), {scope.clinic_name}"}]}}
        ).model_dump_json()
        counts = {"Patient": 0, "QuestionnaireResponse": 0, "Observation": 0, "CodeSystem": 0, "Questionnaire": 0,
                  "mothers": 0}   # mothers: distinct (a mother whose reports span two files has a Patient in each)
        shared = [(CODE_SYSTEM, code_system(codes, now)), (QUESTIONNAIRE, questionnaire(codes, now))]

        def new_file() -> _BundleFile:
            name = path if not files else path.with_name(f"{path.stem}-{len(files) + 1}{path.suffix}")
            bundle = _BundleFile(name, head, counts)
            files.append(bundle)
            for full_url, resource in shared:
                bundle.add(full_url, resource)
            return bundle

        bundle = new_file()
        current = last = None
        patient_ref = ""
        for row in rows():
            pseudonym = row[2]
            if pseudonym != last:
                last = pseudonym
                counts["mothers"] += 1
            if max_reports and bundle.reports >= max_reports:
                bundle.close()
                bundle, current = new_file(), None
            if pseudonym != current:
                current, patient_ref = pseudonym, _urn("Patient", pseudonym)
                bundle.add(patient_ref, patient(pseudonym, row[1], scope.clinic_name))
            for full_url, resource in report_resources(row, patient_ref, codes):
                bundle.add(full_url, resource)
            bundle.reports += 1
        bundle.close()
        paths = [f.path for f in files]
        if len(paths) > 1:   # the first one gets its number too: -1, -2, ...
            first = path.with_name(f"{path.stem}-1{path.suffix}")
            path.rename(first)
            paths[0] = first
        return scope, counts, paths
    finally:
        for f in files:
            if not f.out.closed:
                f.out.close()
        conn.close()
