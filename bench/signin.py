"""Sign-in cost on a real `safehold serve` (gunicorn, SQLite), against a baseline page.

Starts Safehold in a fresh data directory on 127.0.0.1, creates one account, then
times, sequentially from one client: the home page (baseline), the sign-in page, and
a full sign-in (argon2id verification with the production parameters, session
creation, the session-list row). Prints medians and ratios to the baseline, which
is measured in the same run so that the machine's load cancels out.

    python bench/signin.py [--rounds 25]

Sign-ins from one IP are rate-limited to 30 a minute (the limit is part of what is
measured, not switched off), so one run makes at most 27 of them.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from _common import free_port, print_timings

PASSWORD = "Bench-mark-passphrase-2026"


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=25)
    args = parser.parse_args()
    if args.rounds > 27:
        parser.error("at most 27 rounds: sign-ins are limited to 30 a minute per IP")

    data_dir = Path(tempfile.mkdtemp(prefix="safehold-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFEHOLD_")}
    env |= {"SAFEHOLD_DATA_DIR": str(data_dir), "SAFEHOLD_ADMIN_PASSWORD": PASSWORD}
    cmd = [sys.executable, "-m", "safehold"]
    subprocess.run([*cmd, "init"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*cmd, "createadmin", "--username", "bench", "--email", "bench@example.test", "--no-input"],
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    server = subprocess.Popen(
        [*cmd, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)

        def home() -> None:
            urllib.request.urlopen(base + "/").read()

        def login_page() -> None:
            urllib.request.urlopen(base + "/accounts/login/").read()

        def sign_in() -> None:
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            page = opener.open(base + "/accounts/login/").read().decode()
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            body = urllib.parse.urlencode(
                {"csrfmiddlewaretoken": token, "login": "bench", "password": PASSWORD}
            ).encode()
            request = urllib.request.Request(
                base + "/accounts/login/", data=body, headers={"Referer": base + "/accounts/login/"}
            )
            final = opener.open(request)
            assert final.url.endswith("/account/"), final.url

        for fn in (home, login_page, sign_in):  # warm up
            fn()
        results = {name: [] for name in ("home", "login_page", "sign_in")}
        for _ in range(args.rounds):
            results["home"].append(_timed(home))
            results["login_page"].append(_timed(login_page))
            results["sign_in"].append(_timed(sign_in))
    finally:
        server.terminate()
        server.wait(timeout=30)

    print_timings(results, "home", "home page", args.rounds)


if __name__ == "__main__":
    main()
