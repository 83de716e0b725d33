"""The cmsreporting command line, run as a user would run it."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from cmsreporting.config import Settings
from cmsreporting.main import create_app
from tests.helpers import minimal_template


def cli(
    db_url: str, *args: str, timeout: float = 60, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `cmsreporting ARGS` against the given database (with `stdin` as its input)."""
    env = os.environ | {"CMSREPORTING_DATABASE_URL": db_url, "COLUMNS": "200"}
    return subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "cmsreporting.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        input=stdin,
    )


async def test_users_and_tokens(db_url: str, client: httpx.AsyncClient) -> None:
    made = cli(
        db_url,
        "users",
        "create",
        "nfp-brazil",
        "--role",
        "focal_point",
        "--convention",
        "CMS",
        "--party",
        "bra",
    )
    assert made.returncode == 0, made.stderr
    granted = cli(
        db_url,
        "users",
        "grant",
        "nfp-brazil",
        "--role",
        "focal_point",
        "--convention",
        "CBD",
        "--party",
        "BRA",
    )
    assert granted.returncode == 0, granted.stderr
    token = cli(db_url, "tokens", "create", "nfp-brazil", "--label", "laptop")
    assert token.returncode == 0, token.stderr
    clear = token.stdout.strip()
    assert clear.startswith("cmsr_")
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {clear}"})
    assert me.status_code == 200
    assert {(r["role"], r["convention"], r["party"]) for r in me.json()["roles"]} == {
        ("focal_point", "CMS", "BRA"),
        ("focal_point", "CBD", "BRA"),
    }
    listed = cli(db_url, "users", "list")
    assert "nfp-brazil" in listed.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["users", "create", "x", "--role", "wizard"], "unknown role"),
        (["users", "create", "x", "--role", "secretariat"], "needs convention"),
        (
            [
                "users",
                "create",
                "x",
                "--role",
                "focal_point",
                "--convention",
                "CMS",
                "--party",
                "ZZZ",
            ],
            "unknown Party",
        ),
        (["users", "create", "x", "--role", "admin", "--convention", "CMS"], "takes no convention"),
        (["tokens", "create", "nobody"], "no user named"),
        (["users", "grant", "nobody", "--role", "admin"], "no user named"),
    ],
)
async def test_cli_errors_are_clear_and_write_nothing(
    db_url: str,
    client: httpx.AsyncClient,
    auth: dict[str, dict[str, str]],
    args: list[str],
    message: str,
) -> None:
    result = cli(db_url, *args)
    assert result.returncode == 1
    assert message in result.stderr
    events = (
        await client.get("/api/v1/audit", params={"actor": "cli"}, headers=auth["admin"])
    ).json()
    assert events["items"] == []


async def test_load_is_all_or_nothing(
    db_url: str, client: httpx.AsyncClient, auth: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    good = minimal_template(version="7.0.0")
    bad = minimal_template(version="7.1.0")
    bad["sections"][0]["questions"][0]["options"][1]["code"] = "yes"
    (tmp_path / "a.json").write_text(json.dumps(good))
    (tmp_path / "b.json").write_text(json.dumps(bad))
    failed = cli(db_url, "load", str(tmp_path))
    assert failed.returncode == 1
    assert "b.json" in failed.stderr
    assert "/sections/0/questions/0/options/1/code" in failed.stderr
    drafts = await client.get(
        "/api/v1/templates", params={"status": "draft"}, headers=auth["admin"]
    )
    assert drafts.json()["items"] == []
    (tmp_path / "b.json").unlink()
    loaded = cli(db_url, "load", str(tmp_path), "--publish")
    assert loaded.returncode == 0, loaded.stderr
    published = await client.get("/api/v1/templates", params={"cycle": "CMS:COP15"})
    assert "7.0.0" in [t["version"] for t in published.json()["items"]]
    again = cli(db_url, "load", str(tmp_path / "a.json"))
    assert again.returncode == 0
    assert "exists" in again.stdout
    missing = cli(db_url, "load", str(tmp_path / "nope.json"))
    assert missing.returncode == 1
    assert "no such file" in missing.stderr
    (tmp_path / "c.json").write_text("{not json")
    broken = cli(db_url, "load", str(tmp_path / "c.json"))
    assert broken.returncode == 1
    assert "not a readable JSON document" in broken.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_demo_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    """The README's run command: migrate, load, create demo users, print their tokens and
    passwords, listen."""
    port = _free_port()
    env = os.environ | {
        "CMSREPORTING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}",
        # a log is 80 columns wide: the tokens and passwords must still be printed whole
        "COLUMNS": "80",
    }
    env.pop("CMSREPORTING_TEST_DATABASE_URL", None)
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv
            [sys.executable, "-m", "cmsreporting.cli", "serve", "--demo", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
        assert health.json()["database"] == "ok"
        text = log.read_text()
        tokens = dict(re.findall(r"(demo-[a-z-]+)\s*│\s*(cmsr_[A-Za-z0-9_-]+)", text))
        assert set(tokens) == {
            "demo-admin",
            "demo-cms-secretariat",
            "demo-cbd-secretariat",
            "demo-ken-focal-point",
            "demo-reviewer",
        }
        me = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/me",
            headers={"Authorization": f"Bearer {tokens['demo-ken-focal-point']}"},
        )
        assert {r["convention"] for r in me.json()["roles"]} == {"CMS", "CBD", "AEWA"}
        # each demo user's password is printed once, beside the token, and signs in
        passwords = dict(
            re.findall(r"(demo-[a-z-]+)\s*│\s*cmsr_[A-Za-z0-9_-]+\s*│\s*([A-Za-z0-9_-]{12,})", text)
        )
        assert set(passwords) == set(tokens)
        signed = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/auth/signin",
            json={"login": "demo-admin", "password": passwords["demo-admin"]},
        )
        assert signed.status_code == 200, signed.text
        assert signed.json()["user"]["email"] == "demo-admin@example.org"
        kenya = httpx.get(f"http://127.0.0.1:{port}/api/v1/parties/KEN").json()
        assert {m["convention"] for m in kenya["memberships"] if m["demo"]} == {
            "CMS",
            "CBD",
            "AEWA",
        }
        templates = httpx.get(f"http://127.0.0.1:{port}/api/v1/templates").json()
        assert len([t for t in templates["items"] if t["status"] == "published"]) == 5
        docs = httpx.get(f"http://127.0.0.1:{port}/docs")
        assert docs.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def test_admins_lock_users_out_and_revoke_roles_and_tokens(
    db_url: str, auth: dict[str, dict[str, str]]
) -> None:
    # a server that asks the database on every request: the command line is another process,
    # whose changes a server sees within its auth cache delay (tests/test_worker_caches.py)
    app = create_app(Settings(database_url=db_url, auth_cache_seconds=0))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        await _lock_out(db_url, client, auth)


async def _lock_out(
    db_url: str, client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    token = cli(db_url, "tokens", "create", "tza_fp", "--label", "script").stdout.strip()
    script = {"Authorization": f"Bearer {token}"}
    me = await client.get("/api/v1/me", headers=script)
    assert me.status_code == 200
    listed = cli(db_url, "tokens", "list", "tza_fp")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if "script" in line)
    assert "active" in row
    assert "never" not in row  # tokens expire by default
    token_id = row.split("│")[1].strip()
    revoked = cli(db_url, "tokens", "revoke", "tza_fp", token_id)
    assert revoked.returncode == 0, revoked.stderr
    assert (await client.get("/api/v1/me", headers=script)).status_code == 401
    assert "revoked" in cli(db_url, "tokens", "list", "tza_fp").stdout

    off = cli(db_url, "users", "deactivate", "ken_fp")
    assert off.returncode == 0, off.stderr
    assert (await client.get("/api/v1/me", headers=auth["ken_fp"])).status_code == 401
    assert "inactive" in cli(db_url, "users", "list").stdout
    assert cli(db_url, "users", "activate", "ken_fp").returncode == 0
    assert (await client.get("/api/v1/me", headers=auth["ken_fp"])).status_code == 200

    revoke = cli(
        db_url,
        "users",
        "revoke",
        "ken_fp",
        "--role",
        "focal_point",
        "--convention",
        "CBD",
        "--party",
        "KEN",
    )
    assert revoke.returncode == 0, revoke.stderr
    roles = (await client.get("/api/v1/me", headers=auth["ken_fp"])).json()["roles"]
    assert [r["convention"] for r in roles] == ["CMS"]
    missing = cli(db_url, "users", "revoke", "ken_fp", "--role", "admin")
    assert missing.returncode == 1
    assert "has no admin role" in missing.stderr

    events = (
        await client.get("/api/v1/audit", params={"limit": 100}, headers=auth["admin"])
    ).json()
    actions = {(e["actor"], e["action"]) for e in events["items"]}
    assert {
        ("cli", "token.revoke"),
        ("cli", "user.deactivate"),
        ("cli", "user.activate"),
        ("cli", "user.revoke"),
    } <= actions


async def test_passwords_set_from_the_command_line(db_url: str, client: httpx.AsyncClient) -> None:
    weak = cli(db_url, "users", "set-password", "tza_fp", "--password-stdin", stdin="qwertyuiop\n")
    assert weak.returncode == 1
    assert "too common" in weak.stderr
    done = cli(
        db_url,
        "users",
        "set-password",
        "tza_fp",
        "--password-stdin",
        stdin="a sturdy phrase for dodoma\n",
    )
    assert done.returncode == 0, done.stderr
    signed = await client.post(
        "/api/v1/auth/signin", json={"login": "tza_fp", "password": "a sturdy phrase for dodoma"}
    )
    assert signed.status_code == 200, signed.text
    bad_email = cli(db_url, "users", "set", "tza_fp", "--email", "not an address")
    assert bad_email.returncode == 1
    assert "not an e-mail address" in bad_email.stderr
