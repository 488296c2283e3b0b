#!/usr/bin/env python3
"""Writes scripts/link-order.txt: the release server's functions that run at start-up and on the
common requests, hottest first, for the linker to place together (build.rs).

Why: a process maps its code from the binary in 64 KiB runs around each page it touches (the
kernel's fault-around), so a few hundred bytes used from each of many scattered places keep
tens of MiB resident. Placed together, the same functions fill a few MiB.

How: the built server runs under valgrind's callgrind on a fresh embedded store, with a webhook
SMS gateway on loopback, while a tour makes the requests a real server sees: every public page
and asset, registration and its code, sign-in with right and wrong passwords and codes, the
account pages, sign-out and a password reset. Every function callgrind saw run in the binary
goes in the list, by its own instruction count.

Usage: scripts/link-order.py [BINARY]   (needs valgrind)
Without BINARY it builds the server with the command `cargo leptos build --release` runs for it:
the names must be those of the binary that ships (a `cargo bench` build unifies features with
the dev-dependencies, which changes many of them).
"""

import http.cookiejar
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "scripts", "link-order.txt")
USERS = 3
SENT = {}  # phone -> last SMS text


class Gateway(http.server.BaseHTTPRequestHandler):
    """The webhook SMS provider: keeps each message so the tour can read its code."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
        try:
            sms = json.loads(body)
        except ValueError:
            sms = dict(urllib.parse.parse_qsl(body))
        SENT[sms.get("to")] = sms.get("message") or sms.get("text") or body
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"id":"tour"}')

    def log_message(self, *_):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Visitor:
    """One browser: its own cookies, its own address."""

    def __init__(self, base, address):
        self.base, self.address = base, address
        jar = http.cookiejar.CookieJar()
        self.http = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def _send(self, request, expect):
        try:
            status = self.http.open(request, timeout=300).status
        except urllib.error.HTTPError as e:
            status = e.code
        if status >= 500 or (status >= 400 and not expect):
            sys.exit(f"link-order: {request.get_method()} {request.full_url} answered {status}")

    def get(self, path):
        headers = {"x-forwarded-for": self.address, "accept-encoding": "gzip, br"}
        self._send(urllib.request.Request(self.base + path, headers=headers), False)

    def call(self, endpoint, expect_refusal=False, **form):
        headers = {
            "accept": "application/json",
            "sec-fetch-site": "same-origin",
            "x-forwarded-for": self.address,
        }
        data = urllib.parse.urlencode(form).encode()
        url = f"{self.base}/api/{endpoint}"
        self._send(urllib.request.Request(url, data=data, headers=headers), expect_refusal)


def code_sent_to(phone):
    return re.search(r"code is (\d{6})", SENT.get(phone, "")).group(1)


def wrong(code):
    return "000000" if code != "000000" else "111111"


def tour(base, i):
    address = f"10.1.0.{i + 1}"
    phone, user = f"+91987650{i:04d}", f"tour{i}"
    password = f"correct horse battery staple {i}"
    v = Visitor(base, address)
    for path in ["/", "/login", "/register", "/forgot", "/healthz", "/readyz",
                 "/.well-known/openid-configuration"]:
        v.get(path)
    v.call("register", username=user, full_name="राज शर्मा", phone=phone,
           email="tour@example.in", password=password)
    v.get("/verify")
    v.call("verify_code", expect_refusal=True, code=wrong(code_sent_to(phone)))
    v.call("verify_code", code=code_sent_to(phone))
    for path in ["/", "/account/sessions", "/account/security", "/account/password",
                 "/account/phone", "/account/profile", "/account/apps"]:
        v.get(path)
    v.call("logout")
    v = Visitor(base, address)
    v.call("login", expect_refusal=True, username=user, password="not the password")
    v.call("login", expect_refusal=True, username=f"nobody{i}", password=password)
    v.call("login", username=user, password=password)
    v.get("/verify")
    v.call("code_status")
    v.call("verify_code", code=code_sent_to(phone))
    v.call("sessions")
    v.call("recent_activity")
    v.call("logout")
    v = Visitor(base, address)
    v.call("forgot_password", username=user)
    v.get("/reset")


def assets(base):
    """The hashed or plain names the pages load, read from the login page."""
    page = urllib.request.urlopen(base + "/login", timeout=300).read().decode()
    return sorted(set(re.findall(r'"(/pkg/[^"]+)"', page)))


def run(binary, work):
    gateway = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(binary))), "site")
    if not os.path.isdir(site):
        site = os.path.join(ROOT, "target", "site")
    env = dict(os.environ,
               DOTP_DATABASE_URL=f"surrealkv://{work}/app.db", DOTP_DATA_DIR=work,
               DOTP_DEV_MODE="false", DOTP_COOKIE_SECURE="false",
               DOTP_OTP_SECRET="link-order-secret-0123456789abcdef", DOTP_METRICS_ADDR="off",
               DOTP_TRUSTED_PROXIES="127.0.0.1", DOTP_SMS_PROVIDER="webhook",
               DOTP_SMS_WEBHOOK_URL=f"http://127.0.0.1:{gateway.server_address[1]}/sms",
               LEPTOS_SITE_ADDR=f"127.0.0.1:{port}", LEPTOS_SITE_ROOT=site,
               LEPTOS_OUTPUT_NAME="dynamic_otp", LEPTOS_ENV="PROD", RUST_LOG="warn")
    profile = os.path.join(work, "callgrind.out")
    with open(os.path.join(work, "server.log"), "w") as log:
        server = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--demangle=no", "--dump-instr=no",
             f"--callgrind-out-file={profile}", binary],
            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(1200):
            try:
                urllib.request.urlopen(base + "/readyz", timeout=5)
                break
            except OSError:
                time.sleep(0.25)
        else:
            sys.exit("link-order: the server did not get ready; see " + work)
        visitor = Visitor(base, "10.1.1.1")
        for asset in assets(base):
            visitor.get(asset)
        for i in range(USERS):
            tour(base, i)
        time.sleep(6)  # the janitor's and the memory release's ticks
    finally:
        server.terminate()
        server.wait()
    return profile


def functions_run(profile, binary):
    """Self cost per function of `binary`, from a callgrind profile (names compressed as
    `(id) name` on first use; the line after `calls=` is the callee's inclusive cost)."""
    names, objects, cost = {}, {}, {}
    obj = fn = None
    after_call = False

    def name(table, text):
        m = re.match(r"\((\d+)\)(?: (.*))?", text)
        if not m:
            return text
        if m.group(2) is not None:
            table[m.group(1)] = m.group(2)
        return table[m.group(1)]

    for line in open(profile, errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("ob="):
            obj = name(objects, line[3:])
        elif line.startswith("fn="):
            fn = (obj, name(names, line[3:]))
        elif line.startswith("cob="):
            name(objects, line[4:])
        elif line.startswith("cfn="):
            name(names, line[4:])
        elif line.startswith("calls="):
            after_call = True
        elif line[:1].isdigit() or line[:1] in "+-*":
            if after_call:
                after_call = False
                continue
            parts = line.split()
            if len(parts) >= 2 and fn:
                cost[fn] = cost.get(fn, 0) + int(parts[1])
    own = os.path.realpath(binary)
    totals = {}
    for (o, f), c in cost.items():
        if o and os.path.realpath(o) == own:
            f = re.sub(r"'\d+$", "", f)  # callgrind marks recursion levels
            totals[f] = totals.get(f, 0) + c
    return totals


def main():
    if len(sys.argv) > 1:
        binary = os.path.abspath(sys.argv[1])
    else:
        subprocess.run(["cargo", "build", "--release", "--no-default-features", "--features",
                        "ssr", "--bin", "dynamic_otp"], cwd=ROOT, check=True)
        binary = os.path.join(ROOT, "target/release/dynamic_otp")
    if not shutil.which("valgrind"):
        sys.exit("link-order: needs valgrind (apt-get install valgrind)")
    symbols = set(subprocess.run(["nm", "--defined-only", binary], capture_output=True,
                                 text=True, check=True).stdout.split())
    work = tempfile.mkdtemp(prefix="dotp-link-order-")
    profile = run(binary, work)
    ran = functions_run(profile, binary)
    ordered = [f for f, _ in sorted(ran.items(), key=lambda x: (-x[1], x[0])) if f in symbols]
    with open(OUT, "w") as out:
        out.write("# Made by scripts/link-order.py; read by build.rs. The release server's functions\n"
                  "# that ran at start-up and on the common requests, hottest first.\n")
        out.write("\n".join(ordered) + "\n")
    shutil.rmtree(work)
    print(f"link-order: {len(ordered)} functions written to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
