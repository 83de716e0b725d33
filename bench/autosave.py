"""Autosave under a deadline rush: an open load of 20-answer saves against the real server.

    .venv/bin/python -m bench.autosave [--parties 200] [--interval 2] [--duration 60]
                                       [--warmup 10] [--batch 20] [--workers 2]
                                       [--processes 1] [--pg-url URL] [--profile]

It creates the PostgreSQL database ``cmsr_bench_autosave_<pid>`` (dropped at the end), migrates it
(``cmsreporting db upgrade``), seeds it (bench/loadkit: 200 Parties, one focal point and token
and one workspace each, the 500-question template of bench/export published, half of every
workspace answered), and starts the server as production does (``cmsreporting serve --no-load
--workers 2``). Then every simulated focal point saves a batch of 20 answers every 2 seconds,
whatever the response times (open load: each save is scheduled at a fixed time and sent then,
by a generator in its own process on aiohttp), each save based on the revisions its Party's
previous responses returned. The first ``--warmup`` seconds are not measured; the next
``--duration`` seconds are.

Latency is measured from the time a save was scheduled (so that a slow generator or a queue
would show, not hide), and also from the time it was sent. Afterwards the database is read
and every acknowledged save is checked: each of its slots holds the acknowledged value and
revision, or a later one of the same Party. Results go to ``bench/results/autosave.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import loadkit
from bench.export import DEFAULT_PG_URL, code_version

TARGET_P99_MS = 50.0
TIMEOUT_S = 30.0
MAX_REQUESTS = 100_000


# --- the generator (runs in its own process) ---------------------------------------------


_window = loadkit.window


async def _generate(config: dict[str, Any], ready: Any, go: Any) -> dict[str, Any]:
    import aiohttp

    slots: list[str] = config["slots"]
    pool = loadkit.value_pool(loadkit.bench_questions())
    parties: list[dict[str, Any]] = config["parties"]
    batch, interval = config["batch"], config["interval"]
    total = config["warmup"] + config["duration"]
    saves_per_party = math.ceil(total / interval)
    if len(parties) * (saves_per_party + 1) > MAX_REQUESTS:
        raise SystemExit("too many requests for one run")
    records: list[tuple[Any, ...]] = []
    messages: dict[str, int] = {}
    revisions: dict[int, dict[str, int]] = {}
    base = config["base"]
    # keep-alive connections, opened as needed (no pool limit: a save never waits for one);
    # an idle one is closed after 3 s, before uvicorn closes it (5 s), so that no save is sent
    # on a connection the server is closing
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=3)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
        # the page load: each focal point reads its answers and their revisions (not measured)
        gate = asyncio.Semaphore(8)

        async def load(party: dict[str, Any]) -> None:
            async with gate:
                async with client.get(
                    f"{base}/api/v1/workspaces/{party['workspace']}/answers",
                    headers={"Authorization": f"Bearer {party['token']}"},
                ) as reply:
                    reply.raise_for_status()
                    answers = json.loads(await reply.read())["answers"]
                revisions[party["index"]] = {a["slot"]: a["revision"] for a in answers}

        await asyncio.gather(*(load(p) for p in parties))
        ready.put(os.getpid())
        start = await asyncio.get_running_loop().run_in_executor(None, go.get)
        # the shared monotonic clock: CLOCK_MONOTONIC is the same in every process
        tasks: set[asyncio.Task[None]] = set()

        async def save(party: dict[str, Any], number: int, scheduled: float) -> None:
            index = party["index"]
            known = revisions[index]
            indexes = _window(party["offset"], number, batch, len(slots))
            body = loadkit.save_body(slots, pool, indexes, number + 1, known)
            headers = {
                "Authorization": f"Bearer {party['token']}",
                "Content-Type": "application/json",
            }
            sent = time.monotonic()
            acked: dict[str, int] | None = None
            status = "unsent"
            try:
                async with client.patch(
                    f"{base}/api/v1/workspaces/{party['workspace']}/answers",
                    data=body,
                    headers=headers,
                ) as reply:
                    content = await reply.read()
                    status = str(reply.status)
                if status == "200":
                    acked = {a["slot"]: a["revision"] for a in json.loads(content)["answers"]}
                    for slot, revision in acked.items():
                        known[slot] = max(known.get(slot, 0), revision)
                elif status == "409":  # resynchronise, and count it as an error
                    for error in json.loads(content).get("errors", []):
                        if "slot" in error:
                            known[error["slot"]] = error.get("current_revision") or 0
            except TimeoutError:
                status = "timeout"
            except aiohttp.ClientError as exc:
                status = type(exc).__name__
                messages[f"{status}: {exc}"[:160]] = messages.get(f"{status}: {exc}"[:160], 0) + 1
            except asyncio.CancelledError:
                status = "abandoned"  # outcome unknown: it may still be written
                raise
            finally:
                records.append((index, number, scheduled, sent, time.monotonic(), status, acked))

        async def party_loop(party: dict[str, Any]) -> None:
            rng = random.Random(f"phase:{party['index']}")  # noqa: S311 - a reproducible phase
            phase = rng.uniform(0, interval)
            for number in range(saves_per_party):
                scheduled = start + phase + number * interval
                if scheduled >= start + total:
                    break
                delay = scheduled - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                task = asyncio.create_task(save(party, number, scheduled))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

        async def progress() -> None:
            while True:
                await asyncio.sleep(10)
                done = len(records)
                ok = sum(1 for r in records if r[5] == "200")
                print(
                    f"  [generator {os.getpid()}] {time.monotonic() - start:5.0f} s: "
                    f"{done} completed ({ok} acknowledged), {len(tasks)} in flight",
                    file=sys.stderr,
                    flush=True,
                )

        reporter = asyncio.create_task(progress())
        await asyncio.gather(*(party_loop(p) for p in parties))
        # every save has its own timeout; past this deadline what is left is given up on
        deadline = start + total + 2 * TIMEOUT_S
        while tasks and time.monotonic() < deadline:
            await asyncio.wait(list(tasks), timeout=max(0.0, deadline - time.monotonic()))
        abandoned = len(tasks)
        for task in list(tasks):
            task.cancel()
        reporter.cancel()
    usage = os.times()
    return {
        "records": records,
        "cpu_s": usage.user + usage.system,
        "abandoned": abandoned,
        "client_errors": messages,
    }


def _generator_main(config: dict[str, Any], ready: Any, go: Any, results: Any) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        pass
    try:
        results.put(asyncio.run(_generate(config, ready, go)))
    except BaseException as exc:
        results.put({"error": repr(exc)})
        raise


# --- the checks ----------------------------------------------------------------------------


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def check_no_lost_answers(
    fixture: dict[str, Any], records: list[tuple[Any, ...]], batch: int
) -> dict[str, Any]:
    """Every acknowledged answer is stored, or a later answer of the same Party replaced it."""
    slots: list[str] = fixture["slots"]
    pool = loadkit.value_pool(loadkit.bench_questions())
    parties = fixture["parties"]
    stored = {
        (w, s): (_canonical(v), r)
        for w, s, v, r in loadkit.answer_rows(fixture["url"], [p["workspace"] for p in parties])
    }
    # per (Party, slot): every write, in order: (save number, status, acknowledged revision)
    writes: dict[tuple[int, int], list[tuple[int, str, int | None]]] = {}
    for index, number, _s, _t, _d, status, acked in records:
        party = parties[index]
        for i in _window(party["offset"], number, batch, len(slots)):
            revision = acked.get(slots[i]) if acked else None
            writes.setdefault((index, i), []).append((number, status, revision))
    checked = lost = later = 0
    problems: list[dict[str, Any]] = []
    for (index, i), history in writes.items():
        acked_writes = [(r, n) for n, status, r in history if status == "200" and r is not None]
        if not acked_writes:
            continue
        checked += 1
        revision, number = max(acked_writes)
        expected = _canonical(pool[i][(number + 1 + i) % len(pool[i])])
        row = stored.get((parties[index]["workspace"], slots[i]))
        verdict = None
        if row is None:
            verdict = "missing"
        elif row[1] < revision:
            verdict = f"revision {row[1]} < acknowledged {revision}"
        elif row[1] == revision and row[0] != expected:
            verdict = "another value at the acknowledged revision"
        elif row[1] > revision:
            # only a later save of this Party whose outcome the client does not know
            candidates = {
                _canonical(pool[i][(n + 1 + i) % len(pool[i])])
                for n, status, _ in history
                if n > number and status != "200"
            }
            if row[0] in candidates:
                later += 1
            else:
                verdict = f"revision {row[1]} > acknowledged {revision}, value of no later save"
        if verdict:
            lost += 1
            if len(problems) < 20:
                problems.append(
                    {"party": parties[index]["iso3"], "slot": slots[i], "problem": verdict}
                )
    return {
        "slots_checked": checked,
        "lost": lost,
        "replaced_by_later_unacknowledged_save": later,
        "problems": problems,
    }


# --- statistics ----------------------------------------------------------------------------


def _ms(values: list[float], pct: float) -> float:
    return round(1000 * loadkit.percentile(values, pct), 1)


def latency_stats(records: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Latency percentiles of completed saves, from the scheduled and from the sent time."""
    ok = [r for r in records if r[5] == "200"]
    scheduled = [r[4] - r[2] for r in ok]
    sent = [r[4] - r[3] for r in ok]
    lag = [r[3] - r[2] for r in records]
    return {
        "acknowledged": len(ok),
        "from_schedule_ms": {f"p{p}": _ms(scheduled, p) for p in (50, 90, 95, 99, 99.9)}
        | {"max": _ms(scheduled, 100), "mean": round(1000 * sum(scheduled) / max(len(ok), 1), 1)},
        "from_send_ms": {f"p{p}": _ms(sent, p) for p in (50, 95, 99)} | {"max": _ms(sent, 100)},
        "generator_lag_ms": {f"p{p}": _ms(lag, p) for p in (50, 99)} | {"max": _ms(lag, 100)},
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Create, seed, serve, load, check, drop."""
    uptime_before = loadkit.uptime()
    load_before = os.getloadavg()
    db = loadkit.database_for("autosave", args.pg_url)
    workdir = Path(tempfile.mkdtemp(prefix="cmsr-autosave-"))
    print(f"uptime before: {uptime_before}", flush=True)
    print(f"[setup] creating and migrating {db.name}…", flush=True)
    server_version = db.create()
    server: loadkit.Server | None = None
    try:
        fixture = loadkit.seed(db.url, args.parties)
        print(
            f"[setup] seeded in {fixture['seconds']} s: {len(fixture['parties'])} Parties, "
            f"{fixture['questions']} questions, {fixture['answers_at_start']} answers",
            flush=True,
        )
        revisions_before = loadkit.revision_sum(db.url)
        audit_before = loadkit.audit_answer_events(db.url)
        activity_before = loadkit.db_activity(db.url, db.name)
        code = code_version()  # what the server about to start runs
        server = loadkit.Server(db.url, workers=args.workers, log_path=workdir / "server.log")
        server.start()
        print(f"[serve] {server.command} (workers {server.worker_pids()})", flush=True)
        parties = [p | {"index": i} for i, p in enumerate(fixture["parties"])]
        shares = [parties[k :: args.processes] for k in range(args.processes)]
        context = multiprocessing.get_context("spawn")
        ready, results = context.Queue(), context.Queue()
        gos = [context.Queue() for _ in shares]
        children = []
        for share, go in zip(shares, gos, strict=True):
            config = {
                "base": server.base,
                "slots": fixture["slots"],
                "parties": share,
                "batch": args.batch,
                "interval": args.interval,
                "warmup": args.warmup,
                "duration": args.duration,
            }
            child = context.Process(
                target=_generator_main, args=(config, ready, go, results), daemon=True
            )
            child.start()
            children.append(child)
        for _ in children:
            ready.get(timeout=180)
        start = time.monotonic() + 1.0
        for go in gos:
            go.put(start)
        print(
            f"[load] {len(parties)} focal points, a {args.batch}-answer save every "
            f"{args.interval:g} s each ({len(parties) / args.interval:.0f} saves/s offered): "
            f"{args.warmup:g} s warm-up, then {args.duration:g} s measured",
            flush=True,
        )
        measure_from = start + args.warmup
        measure_to = measure_from + args.duration
        time.sleep(max(0.0, measure_from - time.monotonic()))
        cpu = loadkit.CpuWindow(
            db.url,
            db.name,
            {"server": server.pids(), "generator": [c.pid for c in children if c.pid]},
        )
        cpu.start()
        profiles = None
        if args.profile:
            profiles = loadkit.start_profiles(
                server.worker_pids(), args.duration, workdir / "autosave-profile"
            )
        time.sleep(max(0.0, measure_to - time.monotonic()))
        cpu_window = cpu.stop()
        outputs = [
            results.get(timeout=args.warmup + args.duration + 2 * TIMEOUT_S + 120) for _ in children
        ]
        for child in children:
            child.join(timeout=30)
        failed = [o["error"] for o in outputs if "error" in o]
        if failed:
            raise SystemExit(f"a generator failed: {failed}")
        records = [r for o in outputs for r in o["records"]]
        generator_cpu = sum(o["cpu_s"] for o in outputs)
        profile_summary = None
        if profiles is not None:
            files = loadkit.finish_profiles(profiles)
            kept = []
            for path in files:
                target = loadkit.RESULTS / path.name
                shutil.copyfile(path, target)
                kept.append(target)
            profile_summary = loadkit.summarize_profiles(kept)
        server_log = server.log_summary(
            loadkit.RESULTS / f"{Path(args.output or 'autosave.json').stem}-server.log"
        )
        server.stop()
        server = None
        print("[check] reading every answer back…", flush=True)
        lost = check_no_lost_answers(fixture, records, args.batch)
        activity_after = loadkit.db_activity(db.url, db.name)
        revisions_after = loadkit.revision_sum(db.url)
        audit_after = loadkit.audit_answer_events(db.url)
        acknowledged_all = sum(1 for r in records if r[5] == "200")
        database_bytes = loadkit.database_size(db.url)
        census = None
        if not args.no_census:
            census = loadkit.save_census(
                fixture["url"],
                fixture["parties"][0],
                fixture["slots"],
                args.batch,
                spy_seconds=20 if args.profile else 0,
                spy_out=loadkit.RESULTS / "autosave-inprocess-profile",
            )
        measured = [r for r in records if measure_from <= r[2] < measure_to]
        errors = [r[5] for r in measured if r[5] != "200"]
        stats = latency_stats(measured)
        per_10s = []
        for k in range(int(args.duration // 10)):
            lo, hi = measure_from + 10 * k, measure_from + 10 * (k + 1)
            part = [r for r in measured if lo <= r[2] < hi]
            ok = [r[4] - r[2] for r in part if r[5] == "200"]
            per_10s.append(
                {
                    "from_s": 10 * k,
                    "saves_per_s": round(len(ok) / 10, 1),
                    "p50_ms": _ms(ok, 50),
                    "p99_ms": _ms(ok, 99),
                    "errors": len(part) - len(ok),
                }
            )
        # a save scheduled in the window but completed after it still counts for its window
        completed_in_window = sum(
            1 for r in records if r[5] == "200" and measure_from <= r[4] < measure_to
        )
        saves = {
            "offered_per_s": round(len(measured) / args.duration, 1),
            "acknowledged_per_s": round(stats["acknowledged"] / args.duration, 1),
            "completed_in_window_per_s": round(completed_in_window / args.duration, 1),
            "scheduled_in_window": len(measured),
            "acknowledged_in_window": stats["acknowledged"],
            "errors_in_window": len(errors),
            "errors_by_kind": loadkit.count_by(errors),
            "all_requests": len(records),
            "all_acknowledged": acknowledged_all,
            "all_errors": loadkit.count_by([r[5] for r in records if r[5] != "200"]),
            "abandoned_after_deadline": sum(o["abandoned"] for o in outputs),
            "client_error_messages": {k: v for o in outputs for k, v in o["client_errors"].items()},
        }
        consistency = {
            "answer_writes_by_revisions": revisions_after - revisions_before,
            "answer_write_audit_events": audit_after - audit_before,
            "acknowledged_answer_writes": acknowledged_all * args.batch,
            "transactions_committed": activity_after["xact_commit"]
            - activity_before["xact_commit"],
            "rows_inserted": activity_after["tup_inserted"] - activity_before["tup_inserted"],
            "rows_updated": activity_after["tup_updated"] - activity_before["tup_updated"],
            "database_connections_opened": activity_after["sessions"] - activity_before["sessions"],
        }
        cpu_window["generator_cpu_s_whole_run"] = round(generator_cpu, 2)
        completed = max(completed_in_window, 1)
        cpu_ms = loadkit.per_request_ms(
            cpu_window, completed, ("server", "postgres_bench_db", "generator")
        )
        targets = {
            "p99_ms": {
                "limit": TARGET_P99_MS,
                "value": stats["from_schedule_ms"]["p99"],
                "met": stats["from_schedule_ms"]["p99"] <= TARGET_P99_MS,
            },
            "errors": {"limit": 0, "value": sum(saves["all_errors"].values()), "met": False},
            "lost_answers": {"limit": 0, "value": lost["lost"], "met": lost["lost"] == 0},
        }
        targets["errors"]["met"] = targets["errors"]["value"] == 0
        return {
            "bench": "autosave",
            "command": " ".join([".venv/bin/python -m bench.autosave", *sys.argv[1:]]),
            "server_command": server_command(args),
            "settings": vars(args),
            "machine": loadkit.machine(server_version) | {"load_average_at_start": load_before},
            "uptime_before": uptime_before,
            "uptime_after": loadkit.uptime(),
            "code": code,
            "fixture": loadkit.public_fixture(fixture),
            "saves": saves,
            "latency": stats,
            "per_10_s": per_10s,
            "no_lost_answers": lost,
            "consistency": consistency,
            "cpu": cpu_window,
            "cpu_ms_per_save": cpu_ms,
            "server_log": server_log,
            "in_process_save": census,
            "profile": profile_summary,
            "targets": targets,
            "database_bytes_after": database_bytes,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        db.drop()


def server_command(args: argparse.Namespace) -> str:
    """The server's command line, as run."""
    return (
        "CMSREPORTING_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/cmsr_bench_… "
        f".venv/bin/cmsreporting serve --no-load --host 127.0.0.1 --port P --workers {args.workers}"
    )


def print_report(report: dict[str, Any]) -> None:
    """The figures, briefly."""
    saves, latency = report["saves"], report["latency"]
    print(
        f"\nsaves: offered {saves['offered_per_s']}/s, acknowledged "
        f"{saves['acknowledged_per_s']}/s ({saves['acknowledged_in_window']} of "
        f"{saves['scheduled_in_window']} in the window); errors {saves['errors_in_window']} "
        f"{saves['errors_by_kind']} (whole run: {saves['all_errors']})"
    )
    print(f"latency from schedule (ms): {latency['from_schedule_ms']}")
    print(f"latency from send (ms):     {latency['from_send_ms']}")
    print(f"generator lag (ms):         {latency['generator_lag_ms']}")
    print("per 10 s:")
    for row in report["per_10_s"]:
        print(
            f"  {row['from_s']:>3}-{row['from_s'] + 10:<3} s  {row['saves_per_s']:>6}/s  "
            f"p50 {row['p50_ms']:>7} ms  p99 {row['p99_ms']:>7} ms  errors {row['errors']}"
        )
    lost = report["no_lost_answers"]
    print(
        f"no lost answers: {lost['slots_checked']} acknowledged slots checked, {lost['lost']} "
        f"lost, {lost['replaced_by_later_unacknowledged_save']} replaced by a later unacknowledged"
        f" save {lost['problems'][:3] if lost['problems'] else ''}"
    )
    print(f"consistency: {report['consistency']}")
    print(f"CPU over the window: {report['cpu']}")
    print(f"CPU ms per save: {report['cpu_ms_per_save']}")
    census = report["in_process_save"]
    if census:
        print(
            f"one save in-process (warm, one at a time): {census['statements']} statements "
            f"{census['by_kind']}, {census['pool_checkouts']} pool checkout(s); CPU "
            f"{census['cpu_ms_median']} ms median, {census['cpu_ms_mean']} ms mean, wall "
            f"{census['wall_ms_median']} ms, {census['new_answer_share']:.0%} new answers"
        )
        print(f"  CPU ms by step (inclusive): {census['phases_cpu_ms']}")
    print(f"server log: {report['server_log']}")
    if report["profile"]:
        loadkit.print_profile("py-spy, both workers, the measured window", report["profile"])
    if census and census.get("profile"):
        loadkit.print_profile("py-spy, saves one at a time in-process", census["profile"], 30)
    print(f"targets: {json.dumps(report['targets'])}")
    print(f"uptime before: {report['uptime_before']}\nuptime after:  {report['uptime_after']}")


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.autosave", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--parties", type=int, default=loadkit.PARTIES)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between saves")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before measuring")
    parser.add_argument("--batch", type=int, default=loadkit.BATCH, help="answers per save")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--processes", type=int, default=1, help="load generator processes")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("CMSR_BENCH_PG_URL", DEFAULT_PG_URL),
        help="PostgreSQL server URL without a database name",
    )
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the workers during the measured window"
    )
    parser.add_argument("--no-census", action="store_true", help="skip the statement census")
    parser.add_argument("--output", default=None, help="results file (default autosave.json)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a quick run that only shows the benchmark still works: --duration and --warmup "
        "from 1 s (too short for figures)",
    )
    args = parser.parse_args(argv)
    try:
        import aiohttp  # noqa: F401 - the load generator's HTTP client
    except ImportError:
        parser.error("the load generator needs aiohttp: .venv/bin/pip install aiohttp")
    shortest = 1 if args.smoke else 10
    if not (1 <= args.parties <= loadkit.PARTIES and args.duration >= shortest and args.batch >= 1):
        parser.error(f"--parties 1..200, --duration at least {shortest} s, --batch at least 1")
    loadkit.RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    report = run(args)
    target = loadkit.RESULTS / (args.output or "autosave.json")
    target.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print_report(report)
    print(f"wrote {target}; total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
