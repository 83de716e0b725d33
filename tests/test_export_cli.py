"""`cmsreporting export submission|cycle`, run as a user would run it, against the same database
the HTTP API serves: the files it writes hold what the API exports, a progress bar goes to
stderr, and a failure leaves no file behind (nor a half-written one in place of an older file).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import openpyxl
import pypdf

from tests.factories.exports import (
    CYCLE,
    PARTIES,
    Reporter,
    cell_text,
    check_xlsx,
    decide,
    document_of,
    export,
    export_template,
    party_values,
    publish,
    submission,
)
from tests.helpers import Headers

# cmsreporting.cli with stream_cycle failing after its second chunk (the CSV header and the
# first Party), as when the database goes away in the middle of an export
FAILING_MID_STREAM = """
import sys
from cmsreporting import cli
from cmsreporting.exports import service

original = service.stream_cycle

async def failing(*args, **kwargs):
    sent = 0
    async for chunk in original(*args, **kwargs):
        yield chunk
        sent += 1
        if sent == 2:
            raise RuntimeError("the database went away mid-export")

service.stream_cycle = failing
sys.argv = ["cmsreporting", *sys.argv[1:]]
cli.app()
"""


@dataclass(frozen=True)
class Ran:
    """A finished command."""

    returncode: int
    stdout: str
    stderr: str


async def run(db_url: str, *args: str, script: str | None = None, tty: bool = False) -> Ran:
    """Run `cmsreporting ARGS` (or a script standing in for it) against the database."""
    env = os.environ | {"CMSREPORTING_DATABASE_URL": db_url, "COLUMNS": "200"}
    env.pop("TTY_COMPATIBLE", None)
    env.pop("FORCE_COLOR", None)
    if tty:
        env["TTY_COMPATIBLE"] = "1"  # rich draws its progress bar as on a terminal
    program = ["-c", script] if script else ["-m", "cmsreporting.cli"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *program,
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return Ran(proc.returncode, plain(out.decode()), plain(err.decode()))


def plain(text: str) -> str:
    """Text without terminal escape sequences."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


async def reports(client: httpx.AsyncClient, auth: Headers, count: int = 4) -> dict[str, int]:
    """count Parties submit on the test cycle; the first is accepted. Submission ids by Party."""
    await publish(client, auth, export_template())
    reporter = Reporter(client, auth["admin"])
    ids = {
        party: await reporter.submit(party, party_values(i))
        for i, party in enumerate(PARTIES[:count])
    }
    await decide(client, auth, ids[PARTIES[0]], "accept")
    return ids


def output_folder(tmp_path: Path) -> Path:
    """An empty folder for the files the commands write (the SQLite test database is beside)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def sheets(content: bytes) -> dict[str, list[list[str]]]:
    """Every sheet of a workbook as rows of text."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {
        name: [[cell_text(v) for v in row] for row in book[name].iter_rows(values_only=True)]
        for name in book.sheetnames
    }


def pdf_text(content: bytes) -> str:
    """The text of a PDF (its bytes carry the time it was made)."""
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(content)).pages)


async def test_export_submission_writes_what_the_api_serves(
    db_url: str, client: httpx.AsyncClient, auth: Headers, tmp_path: Path
) -> None:
    out = output_folder(tmp_path)
    ids = await reports(client, auth, count=2)
    sid = ids[PARTIES[1]]
    formats = ("json", "csv", "xlsx", "html", "pdf")
    files = {fmt: out / f"report.{fmt}" for fmt in formats}
    ran = await asyncio.gather(
        *(
            run(
                db_url,
                "export",
                "submission",
                str(sid),
                "-o",
                str(files[fmt]),
                "--format",
                fmt,
                "--lang",
                "fr",
            )
            for fmt in formats
        )
    )
    for fmt, result in zip(formats, ran, strict=True):
        assert result.returncode == 0, result.stderr
        assert f"wrote {files[fmt]}" in result.stdout.replace("\n", "")
    assert sorted(p.name for p in out.iterdir()) == sorted(f.name for f in files.values())
    for fmt in ("json", "csv", "html"):
        served = await export(client, auth["admin"], sid, fmt, "fr")
        assert files[fmt].read_bytes() == served.content, fmt
    sub = await submission(client, auth, sid)
    document = await document_of(client, sub)
    name = (await client.get(f"/api/v1/parties/{sub['party']}")).json()["name"]
    written = files["xlsx"].read_bytes()
    check_xlsx(document, sub, name, written, "fr")
    served = await export(client, auth["admin"], sid, "xlsx", "fr")
    assert sheets(written) == sheets(served.content)
    served = await export(client, auth["admin"], sid, "pdf", "fr")
    assert pdf_text(files["pdf"].read_bytes()) == pdf_text(served.content)
    assert "Généralités" in pdf_text(served.content)
    body = json.loads(files["json"].read_text(encoding="utf-8"))
    assert (body["party"], body["lang"], body["sections"][0]["title"]) == (
        PARTIES[1],
        "fr",
        "Généralités",
    )


async def test_export_cycle_writes_what_the_api_streams(
    db_url: str, client: httpx.AsyncClient, auth: Headers, tmp_path: Path
) -> None:
    out = output_folder(tmp_path)
    ids = await reports(client, auth)
    admin = auth["admin"]
    cases = {
        "long.csv": (["--format", "csv"], {"format": "csv"}),
        "wide.csv": (
            ["--format", "csv", "--layout", "wide", "--values", "labels", "--lang", "fr"],
            {"format": "csv", "layout": "wide", "values": "labels", "lang": "fr"},
        ),
        "accepted.jsonl": (
            ["--format", "jsonl", "--status", "accepted"],
            {"format": "jsonl", "status": "accepted"},
        ),
        "all.xlsx": (["--format", "xlsx"], {"format": "xlsx"}),
    }
    ran = await asyncio.gather(
        *(
            run(
                db_url,
                "export",
                "cycle",
                CYCLE,
                "-o",
                str(out / name),
                *args,
                tty=name == "long.csv",
            )
            for name, (args, _) in cases.items()
        )
    )
    for (name, (_, params)), result in zip(cases.items(), ran, strict=True):
        assert result.returncode == 0, result.stderr
        assert f"wrote {out / name}" in result.stdout.replace("\n", "")
        served = await client.get(f"/api/v1/cycles/{CYCLE}/export", params=params, headers=admin)
        assert served.status_code == 200, served.text
        parties = served.headers["x-parties"]
        assert f"{parties} Parties" in result.stdout
        written = (out / name).read_bytes()
        if name.endswith(".xlsx"):
            assert sheets(written) == sheets(served.content)
        else:
            assert written == served.content, name
    assert sorted(p.name for p in out.iterdir()) == sorted(cases)
    # the progress bar is drawn on stderr, never in the output or on stdout
    long = ran[0]
    assert f"exporting {CYCLE}" in long.stderr
    assert "exporting" not in long.stdout
    assert f"{len(ids)} Parties" in long.stdout
    records = list(csv.DictReader(io.StringIO((out / "long.csv").read_text("utf-8"))))
    assert {r["party"] for r in records} == set(ids)
    accepted = (out / "accepted.jsonl").read_text("utf-8").splitlines()
    assert [json.loads(line)["party"] for line in accepted] == [PARTIES[0]]
    assert "1 Parties" in ran[2].stdout


async def test_failures_leave_no_file(
    db_url: str, client: httpx.AsyncClient, auth: Headers, tmp_path: Path
) -> None:
    """Refused arguments, unknown ids, and an export that fails after writing part of its file:
    no file is left behind, and an earlier file of the same name is kept as it was."""
    out = output_folder(tmp_path)
    await reports(client, auth, count=3)
    kept = out / "kept.csv"
    kept.write_text("an earlier export\n")
    cases = [
        (["export", "submission", "999999", "-o", str(out / "a.json")], 1, "no submission"),
        (["export", "cycle", "CMS:NOPE", "-o", str(kept)], 1, "CMS:NOPE"),
        (["export", "cycle", CYCLE, "-o", str(kept), "--layout", "tall"], 2, "tall"),
    ]
    ran = await asyncio.gather(
        *(run(db_url, *args) for args, _, _ in cases),
        run(db_url, "export", "cycle", CYCLE, "-o", str(kept), script=FAILING_MID_STREAM),
    )
    for (args, code, message), result in zip(cases, ran, strict=False):
        assert result.returncode == code, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    mid_stream = ran[-1]
    assert mid_stream.returncode != 0
    assert "the database went away mid-export" in mid_stream.stderr
    assert "wrote" not in mid_stream.stdout
    assert [p.name for p in out.iterdir()] == ["kept.csv"]
    assert kept.read_text() == "an earlier export\n"


async def test_raw_writes_csv_text_cells_unguarded(
    db_url: str, client: httpx.AsyncClient, auth: Headers, tmp_path: Path
) -> None:
    """CSV text that starts like a formula gets a leading apostrophe, as the API serves it;
    `--raw` writes it as it is, as `?guard=false` does. Numbers are never changed."""
    out = output_folder(tmp_path)
    await publish(client, auth, export_template())
    values = party_values(0) | {"A.4": "=1+2"}
    values["B.1"][0]["count"] = -3.5
    sid = await Reporter(client, auth["admin"]).submit("KEN", values)
    commands = {
        "one.csv": ["submission", str(sid), "--format", "csv"],
        "one-raw.csv": ["submission", str(sid), "--format", "csv", "--raw"],
        "all.csv": ["cycle", CYCLE, "--format", "csv"],
        "all-raw.csv": ["cycle", CYCLE, "--format", "csv", "--raw"],
    }
    ran = await asyncio.gather(
        *(run(db_url, "export", *args, "-o", str(out / name)) for name, args in commands.items())
    )
    for result in ran:
        assert result.returncode == 0, result.stderr

    def cell(name: str, column: str, question: str, row: str = "") -> str:
        text = (out / name).read_text("utf-8")
        for record in csv.DictReader(io.StringIO(text, newline="")):
            wanted = question != "B.1" or record["column"] == "count"
            if record["question"] == question and record["row"] == row and wanted:
                return record[column]
        raise AssertionError((name, question, row))

    assert cell("one.csv", "value_code", "A.4") == "'=1+2"
    assert cell("one-raw.csv", "value_code", "A.4") == "=1+2"
    assert cell("all.csv", "value", "A.4") == "'=1+2"
    assert cell("all-raw.csv", "value", "A.4") == "=1+2"
    for name, column in (("one.csv", "value_code"), ("all.csv", "value")):
        assert cell(name, column, "B.1", "0") == "-3.5"
    admin = auth["admin"]
    for name, params in (("one.csv", {}), ("one-raw.csv", {"guard": "false"})):
        served = await client.get(
            f"/api/v1/submissions/{sid}/export", params={"format": "csv", **params}, headers=admin
        )
        assert (out / name).read_bytes() == served.content, name
    for name, params in (("all.csv", {}), ("all-raw.csv", {"guard": "false"})):
        served = await client.get(
            f"/api/v1/cycles/{CYCLE}/export", params={"format": "csv", **params}, headers=admin
        )
        assert (out / name).read_bytes() == served.content, name
