"""`make soak`: ten minutes of mixed traffic against one release server on 127.0.0.1, with
its memory and file descriptors sampled throughout (not part of `make test`).

The traffic, at a bounded rate: sign-ins (some with wrong passwords, so lockouts happen),
refresh-token rotations, authenticated reads, requests with random methods, paths and
headers, and 200 slow clients that send headers announcing a body and then trickle it a
byte at a time (the body deadline must close them; they reconnect). The slow clients come
from 50 loopback addresses, so the per-address connection cap is not what stops them.

It fails when the RSS after warm-up grows past 10 % of its level at the end of warm-up,
when a 5xx other than 503 is answered, or when sockets are left open once the load stops
(descriptors of all kinds are reported: the database pool may grow under load).
Settings (environment): SOAK_SECONDS (600), SOAK_RATE (requests per second, 150),
SOAK_SLOW_CLIENTS (200), TESSERA_BIN (target/release/tessera). The figures go to stdout
and, between the `soak:begin`/`soak:end` markers, to docs/benchmarks.md.
"""

import base64
import collections
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.getcwd()
TESSERA = os.path.join(ROOT, os.environ.get("TESSERA_BIN", "target/release/tessera"))
DOC = os.path.join(ROOT, "docs", "benchmarks.md")
SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
RATE = float(os.environ.get("SOAK_RATE", "150"))
SLOW_CLIENTS = int(os.environ.get("SOAK_SLOW_CLIENTS", "200"))
WARM_UP = max(10, SECONDS // 5)
SAMPLE_EVERY = 5
USERS = 40
PASSWORD = "soak password 51ce"
THREADS = 6

started_at = time.time()
stop_load = threading.Event()
statuses = collections.Counter()
statuses_lock = threading.Lock()
errors = collections.Counter()


def log(message):
    print(f"soak [{time.time() - started_at:5.0f}s] {message}", flush=True)


def count(status):
    with statuses_lock:
        statuses[status] += 1


def count_error(kind):
    with statuses_lock:
        errors[kind] += 1


def connection(port, source=None, timeout=10):
    address = (source, 0) if source else None
    return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=address)


def call(conn, method, path, headers=None, body=None):
    """One request on a keep-alive connection: (status, parsed JSON or None)."""
    data = json.dumps(body) if isinstance(body, dict) else body
    all_headers = {"Content-Type": "application/json"} if isinstance(body, dict) else {}
    all_headers.update(headers or {})
    conn.request(method, path, body=data, headers=all_headers)
    response = conn.getresponse()
    raw = response.read()
    count(response.status)
    try:
        return response.status, json.loads(raw) if raw else None
    except ValueError:
        return response.status, None


# --- the server -------------------------------------------------------------------------


def start_server(directory):
    log_path = os.path.join(directory, "tessera.log")
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite://{directory}/tessera.db",
        TESSERA_DATA_DIR=directory,
        TESSERA_BCRYPT_COST="4",
        TESSERA_LOG_FORMAT="json",
    )
    out = open(log_path, "wb")
    proc = subprocess.Popen(
        [TESSERA, "serve", "--bind", "127.0.0.1:0"], env=env, stdout=out, stderr=out
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        with open(log_path, encoding="utf-8", errors="replace") as lines:
            found = re.search(r'"port":(\d+)', lines.read())
        if found:
            return proc, int(found.group(1)), log_path
        if proc.poll() is not None:
            sys.exit(f"soak: tessera exited at start; see {log_path}")
        time.sleep(0.1)
    sys.exit("soak: tessera did not start within 60 s")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def open_sockets(pid):
    """Sockets only: database connections the pool opens under load are not a leak."""
    sockets = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            sockets += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return sockets


# --- the traffic ------------------------------------------------------------------------


def register_users(port):
    """USERS accounts, registered from as many loopback addresses (the registration limit
    counts per address), each with its current refresh token."""
    users = []
    for n in range(USERS):
        name = f"soak{n}"
        conn = connection(port, source=f"127.0.1.{n + 1}")
        status, _ = call(
            conn, "POST", "/api/v1/users", body={"username": name, "password": PASSWORD}
        )
        if status != 201:
            sys.exit(f"soak: registering {name} answered {status}")
        status, tokens = call(
            conn, "POST", "/api/v1/tokens", body={"username": name, "password": PASSWORD}
        )
        if status != 200:
            sys.exit(f"soak: signing in {name} answered {status}")
        users.append(
            {"name": name, "access": tokens["access_token"], "refresh": tokens["refresh_token"]}
        )
        conn.close()
    return users


def junk(n):
    return "".join(random.choice(string.ascii_letters + string.digits) for _ in range(n))


def garbage(port):
    """A request with a random method, path and headers, on a connection of its own."""
    method = random.choice(["GET", "PUT", "BREW", "M-SEARCH", junk(random.randint(1, 2000))])
    path = random.choice(
        ["/", "/api/v1/me", "/api/login", "/metrics", "/" + junk(random.randint(1, 300))]
    )
    headers = "".join(
        f"X-{junk(8)}: {junk(random.randint(0, 500))}\r\n" for _ in range(random.randint(0, 20))
    )
    if random.random() < 0.3:
        headers += f"Authorization: Bearer {junk(random.randint(1, 800))}\r\n"
    payload = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(payload.encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    if answer.startswith(b"HTTP/1.1 "):
        count(int(answer[9:12]))
    else:
        count_error("garbage: no status line")


def worker(port, users, index):
    conn = connection(port)
    interval = THREADS / RATE
    next_at = time.time()
    while not stop_load.is_set():
        user = random.choice(users)
        roll = random.random()
        try:
            if roll < 0.55:
                path = random.choice(["/", "/api/v1/me"])
                call(conn, "GET", path, headers={"Authorization": f"Bearer {user['access']}"})
            elif roll < 0.70:
                with user_lock(user):
                    status, tokens = call(
                        conn,
                        "POST",
                        "/api/v1/tokens/refresh",
                        body={"refresh_token": user["refresh"]},
                    )
                    if status == 200:
                        user["access"], user["refresh"] = (
                            tokens["access_token"],
                            tokens["refresh_token"],
                        )
            elif roll < 0.85:
                # One in four with a wrong password, so some accounts reach their lockout.
                wrong = random.random() < 0.25
                password = "wrong password" if wrong else PASSWORD
                call(
                    conn,
                    "POST",
                    "/api/v1/tokens",
                    body={"username": user["name"], "password": password},
                )
            elif roll < 0.92:
                basic = base64.b64encode(f"{user['name']}:{PASSWORD}".encode()).decode()
                call(conn, "GET", "/api/login", headers={"Authorization": f"Basic {basic}"})
            else:
                garbage(port)
        except (OSError, http.client.HTTPException) as error:
            count_error(type(error).__name__)
            conn.close()
            conn = connection(port)
        next_at += interval
        pause = next_at - time.time()
        if pause > 0:
            stop_load.wait(pause)
        else:
            next_at = time.time()
    conn.close()


locks = {}


def user_lock(user):
    return locks.setdefault(user["name"], threading.Lock())


def slow_client(port, source):
    """Announces a 10,000-byte body and sends a byte every 2 s until the server closes the
    connection, then starts again."""
    while not stop_load.is_set():
        try:
            with socket.create_connection(
                ("127.0.0.1", port), timeout=60, source_address=(source, 0)
            ) as sock:
                sock.sendall(
                    b"POST /api/v1/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 10000\r\n\r\n{"
                )
                sock.settimeout(2)
                while not stop_load.is_set():
                    try:
                        answer = sock.recv(65536)
                    except TimeoutError:
                        sock.sendall(b" ")
                        continue
                    if not answer:
                        break
                    if answer.startswith(b"HTTP/1.1 "):
                        count(int(answer[9:12]))
                    break
        except OSError as error:
            count_error(f"slow: {type(error).__name__}")
            stop_load.wait(1)


# --- the run ----------------------------------------------------------------------------


def write_doc(figures):
    begin, end = "<!-- soak:begin -->", "<!-- soak:end -->"
    with open(DOC, encoding="utf-8") as doc:
        text = doc.read()
    table = "\n".join(
        [
            begin,
            f"Measured {figures['date']} by `make soak` ({figures['seconds']} s, "
            f"{figures['rate']:.0f} req/s target, {figures['slow_clients']} slow clients; "
            "SQLite, bcrypt cost 4).",
            "",
            "| figure | value |",
            "|---|---|",
            f"| requests answered | {figures['answered']} ({figures['per_second']:.0f}/s) |",
            f"| by status | {figures['by_status']} |",
            f"| client-side errors | {figures['client_errors'] or 'none'} |",
            f"| RSS at end of warm-up ({figures['warm_up']} s) | "
            f"{figures['rss_warm_kib'] / 1024:.1f} MiB |",
            f"| RSS max after warm-up | {figures['rss_max_kib'] / 1024:.1f} MiB "
            f"({figures['rss_growth'] * 100:+.1f} %) |",
            f"| RSS at the end | {figures['rss_end_kib'] / 1024:.1f} MiB |",
            f"| open descriptors: before, peak, after the load | {figures['fds_before']}, "
            f"{figures['fds_peak']}, {figures['fds_after']} |",
            f"| open sockets: before, after the load | {figures['sockets_before']}, "
            f"{figures['sockets_after']} |",
            f"| verdict | {figures['verdict']} |",
            end,
        ]
    )
    if begin in text and end in text:
        text = text[: text.index(begin)] + table + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n## Soak\n\n" + table + "\n"
    with open(DOC, "w", encoding="utf-8") as doc:
        doc.write(text)


def main():
    if not os.access(TESSERA, os.X_OK):
        sys.exit(f"soak: {TESSERA} is missing; run `make soak` (it builds first)")
    directory = tempfile.mkdtemp(prefix="tessera-soak-")
    proc, port, log_path = start_server(directory)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    try:
        return run(proc, port, log_path)
    finally:
        stop_load.set()
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(directory, ignore_errors=True)


def run(proc, port, log_path):
    log(f"server on 127.0.0.1:{port}; registering {USERS} users")
    users = register_users(port)
    fds_before, sockets_before = open_fds(proc.pid), open_sockets(proc.pid)
    threads = [
        threading.Thread(target=worker, args=(port, users, i), daemon=True) for i in range(THREADS)
    ]
    threads += [
        threading.Thread(target=slow_client, args=(port, f"127.0.2.{i % 50 + 1}"), daemon=True)
        for i in range(SLOW_CLIENTS)
    ]
    for thread in threads:
        thread.start()
    samples = []
    end_at = time.time() + SECONDS
    while time.time() < end_at:
        stop_load.wait(SAMPLE_EVERY)
        if proc.poll() is not None:
            sys.exit(f"soak: tessera died (exit {proc.returncode}); see {log_path}")
        samples.append((time.time() - started_at, rss_kib(proc.pid), open_fds(proc.pid)))
        if len(samples) % 12 == 0:
            log(
                f"RSS {samples[-1][1] / 1024:.1f} MiB, {samples[-1][2]} fds, "
                f"{sum(statuses.values())} answers"
            )
    stop_load.set()
    for thread in threads:
        thread.join(timeout=30)
    # The server closes what the clients left behind within its keep-alive bound.
    deadline = time.time() + 60
    while open_sockets(proc.pid) > sockets_before and time.time() < deadline:
        time.sleep(0.5)
    fds_after, sockets_after = open_fds(proc.pid), open_sockets(proc.pid)

    run_started = samples[0][0] - SAMPLE_EVERY
    warm = [s for s in samples if s[0] - run_started <= WARM_UP]
    after = [s for s in samples if s[0] - run_started > WARM_UP] or samples[-1:]
    rss_warm = warm[-1][1] if warm else samples[0][1]
    rss_max = max(s[1] for s in after)
    growth = rss_max / rss_warm - 1
    bad_5xx = {status: n for status, n in statuses.items() if status >= 500 and status != 503}
    failures = []
    if growth > 0.10:
        failures.append(f"RSS grew {growth * 100:.1f} % after warm-up")
    if bad_5xx:
        failures.append(f"unexpected 5xx: {bad_5xx}")
    if sockets_after > sockets_before:
        failures.append(f"sockets left open: {sockets_before} before, {sockets_after} after")
    answered = sum(statuses.values())
    figures = {
        "date": time.strftime("%Y-%m-%d"),
        "seconds": SECONDS,
        "rate": RATE,
        "slow_clients": SLOW_CLIENTS,
        "answered": answered,
        "per_second": answered / SECONDS,
        "by_status": ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())),
        "client_errors": ", ".join(f"{k}: {n}" for k, n in sorted(errors.items())),
        "warm_up": WARM_UP,
        "rss_warm_kib": rss_warm,
        "rss_max_kib": rss_max,
        "rss_growth": growth,
        "rss_end_kib": samples[-1][1],
        "fds_before": fds_before,
        "fds_peak": max(s[2] for s in samples),
        "fds_after": fds_after,
        "sockets_before": sockets_before,
        "sockets_after": sockets_after,
        "verdict": "; ".join(failures) or "pass",
    }
    print(json.dumps(figures, indent=2))
    write_doc(figures)
    if failures:
        log("FAILED: " + "; ".join(failures))
        return 1
    log("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
