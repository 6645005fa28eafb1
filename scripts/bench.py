"""The measuring half of `make bench`: scripts/bench.sh builds and installs what it needs,
then runs this from the repository root (its header lists the settings)."""

import atexit
import base64
import datetime
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.getcwd()
TARGET = os.path.join(ROOT, os.environ["BENCH_TARGET_DIR"])
TESSERA = os.path.join(ROOT, os.environ["TESSERA_BIN"])
EXAMPLES = os.path.join(TARGET, "release", "examples")
DOC = os.path.join(ROOT, "docs", "benchmarks.md")
RAW = os.path.join(TARGET, "bench-results.json")
# wrk's script for the OAuth section's form POSTs (body and Authorization from the env).
FORM_POST = os.path.join(ROOT, "scripts", "bench-form-post.lua")

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
# The request-rate comparison: more, shorter runs, as the spread there is widest.
HTTP_ROUNDS = int(os.environ.get("BENCH_HTTP_ROUNDS", str(ROUNDS + 2)))
HTTP_SECONDS = int(os.environ.get("BENCH_HTTP_SECONDS", str(max(2, SECONDS * 5 // 8))))
STEADY = 0.2
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
CORES = os.cpu_count() or 1
# The load generator and the server each get a core of their own for the request-rate
# comparison (on a machine with more cores: the server gets all but the first).
WRK_CPUS = "0"
SERVER_CPUS = "1" if CORES == 2 else f"1-{CORES - 1}"
SERVER_WORKERS = max(1, CORES - 1)
CONNECTIONS = 32
BCRYPT_COST = 12  # Tessera's default: sign-in is measured as configured out of the box
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
USER = ("benchuser", "bench password 7f3a")

started_at = time.time()
children = []
scratch = []
pg_databases = []


def log(message):
    print(f"bench [{time.time() - started_at:5.0f}s] {message}", flush=True)


def cleanup():
    for proc in children:
        if proc.poll() is None:
            proc.terminate()
    for proc in children:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for db in pg_databases:
        subprocess.run(
            psql_command(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'), capture_output=True
        )
    for path in scratch:
        shutil.rmtree(path, ignore_errors=True)


atexit.register(cleanup)
for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(signum, lambda *_: sys.exit(130))


def spawn(command, **kwargs):
    proc = subprocess.Popen(command, **kwargs)
    children.append(proc)
    return proc


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(command, **kwargs):
    return subprocess.run(command, check=True, text=True, capture_output=True, **kwargs).stdout


def pinned(cpus, command):
    return ["taskset", "-c", cpus] + command


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": values,
    }


def summaries(rounds, *keys):
    """The summary of each key's values over the rounds, by key."""
    return {key: summary([r[key] for r in rounds]) for key in keys}


# --- HTTP helpers -----------------------------------------------------------------------


def request(port, method, path, headers=None, body=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def answers(port, path):
    try:
        return request(port, "GET", path, timeout=1)[0] == 200
    except OSError:
        return False


def wait_until_ready(port, proc, path="/readyz", timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before it was ready")
        if answers(port, path):
            return
        time.sleep(0.002)
    raise RuntimeError(f"server not ready on {path} within {timeout}s")


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Tessera:
    """One `tessera serve` on a fresh data directory (SQLite) or a fresh PostgreSQL db."""

    def __init__(
        self,
        name,
        database="sqlite",
        cpus=None,
        workers=0,
        cost=BCRYPT_COST,
        log_level="warn",
        signing_alg="HS256",
    ):
        self.name = name
        self.data = tempfile.mkdtemp(prefix="tessera-bench-")
        scratch.append(self.data)
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
        env.pop("DATABASE_URL", None)
        # Sign-in throttling off: the bench measures hashing, and a flood from one
        # address would otherwise be answered 429 before any password is checked.
        env.update(
            TESSERA_DATA_DIR=self.data,
            TESSERA_LOG_FORMAT="json",
            TESSERA_LOG=log_level,
            TESSERA_TOKEN_TTL="3600",
            TESSERA_BCRYPT_COST=str(cost),
            TESSERA_WORKERS=str(workers),
            TESSERA_HASHING_CONCURRENCY="0",
            TESSERA_LOGIN_MAX_FAILURES="0",
            TESSERA_SIGNING_ALG=signing_alg,
        )
        if database == "postgres":
            db = f"tessera_bench_{os.getpid()}_{len(pg_databases)}"
            run(psql_command(f'CREATE DATABASE "{db}"'))
            pg_databases.append(db)
            env["DATABASE_URL"] = f"{PG_URL}/{db}"
        command = [TESSERA, "serve", "--bind", f"127.0.0.1:{self.port}"]
        self.command = pinned(cpus, command) if cpus else command
        self.env = env
        self.log = open(os.path.join(self.data, "server.log"), "wb")
        # Its own working directory: no stray ./tessera.toml or web/dist is picked up.
        self.spawned_at = time.monotonic()
        self.proc = spawn(
            self.command, cwd=self.data, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        wait_until_ready(self.port, self.proc)
        self.ready_after = time.monotonic() - self.spawned_at

    def register_and_sign_in(self):
        body = json.dumps({"username": USER[0], "password": USER[1]})
        status, text = request(
            self.port, "POST", "/api/users", {"Content-Type": "application/json"}, body
        )
        if status != 200:
            raise RuntimeError(f"register: {status} {text[:200]!r}")
        status, text = request(self.port, "GET", "/api/login", {"Authorization": basic(*USER)})
        if status != 200:
            raise RuntimeError(f"login: {status} {text[:200]!r}")
        self.token = json.loads(text)
        self.bearer = f"Authorization: Bearer {self.token}"
        for path in ("/", "/api/v1/me"):
            status, text = request(
                self.port, "GET", path, {"Authorization": f"Bearer {self.token}"}
            )
            if status != 200:
                raise RuntimeError(f"GET {path}: {status} {text[:200]!r}")
        self.me_body = request(
            self.port, "GET", "/api/v1/me", {"Authorization": f"Bearer {self.token}"}
        )[1].decode()
        return self

    def add_client(self, name):
        """`tessera clients add NAME --json` on this server's database: (id, secret)."""
        out = run([TESSERA, "clients", "add", name, "--json"], cwd=self.data, env=self.env)
        client = json.loads(out)
        return client["client_id"], client["client_secret"]

    def rss_kib(self, field="VmRSS"):
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return None

    def stop(self):
        stop(self.proc)
        self.log.close()


def psql_command(sql):
    return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", f"{PG_URL}/postgres", "-c", sql]


def postgres_available():
    if not shutil.which("psql"):
        return "psql is not installed"
    probe = subprocess.run(psql_command("SELECT 1"), capture_output=True, text=True)
    if probe.returncode == 0:
        return None
    if shutil.which("pg_ctlcluster") and os.path.isdir("/etc/postgresql"):
        for version in os.listdir("/etc/postgresql"):
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                capture_output=True,
            )
        for _ in range(30):
            if subprocess.run(psql_command("SELECT 1"), capture_output=True).returncode == 0:
                return None
            time.sleep(1)
    return f"PostgreSQL at {PG_URL} does not answer: {probe.stderr.strip()[:200]}"


# --- wrk ------------------------------------------------------------------------------

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def parse_wrk(text):
    def number(pattern):
        match = re.search(pattern, text)
        return float(match.group(1)) if match else None

    latency = {}
    for pct, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M):
        latency[pct] = float(value) * UNITS[unit]
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    return {
        "rps": number(r"Requests/sec:\s+([\d.]+)"),
        "requests": number(r"(\d+) requests in"),
        "p50_ms": latency.get("50"),
        "p99_ms": latency.get("99"),
        "non_2xx": int(number(r"Non-2xx or 3xx responses: (\d+)") or 0),
        "socket_errors": sum(map(int, errors.groups())) if errors else 0,
    }


def wrk_command(url, connections, seconds, header=None, threads=1, cpus=WRK_CPUS, script=None):
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if header:
        command += ["-H", header]
    if script:
        command += ["-s", script]
    command.append(url)
    return pinned(cpus, command) if cpus else command


def wrk(
    url,
    connections=CONNECTIONS,
    seconds=SECONDS,
    header=None,
    threads=1,
    cpus=WRK_CPUS,
    script=None,
    env=None,
):
    text = run(wrk_command(url, connections, seconds, header, threads, cpus, script), env=env)
    result = parse_wrk(text)
    if result["rps"] is None:
        raise RuntimeError(f"could not read wrk's output:\n{text}")
    return result


def shown(command, secrets=()):
    """A command line for the document, tokens and passwords replaced by names."""
    text = " ".join(f"'{part}'" if " " in part else part for part in command)
    for secret, name in secrets:
        text = text.replace(secret, name)
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:$PORT", text)
    return text.replace(ROOT + "/", "")


# --- sections -------------------------------------------------------------------------


TOKEN_GROUPS = {
    "access_token": "HS256",
    "access_token_eddsa": "EdDSA",
    "access_token_es256": "ES256",
}


def bench_tokens():
    """criterion, ROUNDS runs; each run's medians are read from criterion's estimates."""
    names = [
        "tessera_token/sign",
        "jsonwebtoken/encode",
        "tessera_token/verify",
        "tessera_token/verify_foreign",
        "jsonwebtoken/decode",
    ]
    args = ["--warm-up-time", "1", "--measurement-time", "3", "--noplot"]
    command = [
        "cargo",
        "bench",
        "--locked",
        "-p",
        "tessera-token",
        "--bench",
        "tokens",
        "--",
    ] + args
    runs = {group: {name: [] for name in names} for group in TOKEN_GROUPS}
    env = dict(os.environ, CARGO_TARGET_DIR=TARGET)
    for round_ in range(ROUNDS):
        log(f"tokens: criterion run {round_ + 1}/{ROUNDS}")
        run(command, env=env)
        for group, name in ((g, n) for g in TOKEN_GROUPS for n in names):
            path = os.path.join(
                TARGET, "criterion", group, name.replace("/", "_"), "new", "estimates.json"
            )
            with open(path) as estimates:
                runs[group][name].append(json.load(estimates)["median"]["point_estimate"])

    def ratios_of(group, mine, peer):
        return [a / b for a, b in zip(runs[group][mine], runs[group][peer], strict=True)]

    ratios = {
        group: {
            "verify": ratios_of(group, "tessera_token/verify", "jsonwebtoken/decode"),
            "verify_foreign": ratios_of(
                group, "tessera_token/verify_foreign", "jsonwebtoken/decode"
            ),
            "sign": ratios_of(group, "tessera_token/sign", "jsonwebtoken/encode"),
        }
        for group in TOKEN_GROUPS
    }
    return {
        "command": f"CARGO_TARGET_DIR={os.environ['BENCH_TARGET_DIR']} " + " ".join(command),
        "ns": {
            group: {name: summary(values) for name, values in by_name.items()}
            for group, by_name in runs.items()
        },
        "ratio": {
            group: {name: summary(values) for name, values in by_name.items()}
            for group, by_name in ratios.items()
        },
    }


def bench_http():
    """Authenticated GET / and GET /api/v1/me against the ceiling, pinned, alternating."""
    pg_problem = postgres_available()
    log("http: starting the servers")
    servers = {
        "sqlite": Tessera(
            "sqlite", cpus=SERVER_CPUS, workers=SERVER_WORKERS
        ).register_and_sign_in(),
        # The default configuration: one `info` line per request, to a file (issue 16).
        "sqlite-logs": Tessera(
            "sqlite-logs", cpus=SERVER_CPUS, workers=SERVER_WORKERS, log_level="info"
        ).register_and_sign_in(),
        # EdDSA tokens: an Ed25519 verify costs ~50 µs; the verified-token cache must hide it.
        "sqlite-eddsa": Tessera(
            "sqlite-eddsa", cpus=SERVER_CPUS, workers=SERVER_WORKERS, signing_alg="EdDSA"
        ).register_and_sign_in(),
    }
    if pg_problem is None:
        servers["postgres"] = Tessera(
            "postgres", "postgres", cpus=SERVER_CPUS, workers=SERVER_WORKERS
        ).register_and_sign_in()
    else:
        log(f"http: skipping PostgreSQL: {pg_problem}")
    ceiling_port = free_port()
    ceiling_command = pinned(
        SERVER_CPUS,
        [
            os.path.join(EXAMPLES, "ceiling"),
            f"127.0.0.1:{ceiling_port}",
            str(SERVER_WORKERS),
            USER[0],
            servers["sqlite"].me_body,
        ],
    )
    ceiling = spawn(ceiling_command, stdout=subprocess.DEVNULL)
    wait_until_ready(ceiling_port, ceiling, "/")

    contenders = [("ceiling", ceiling_port, None)] + [
        (name, server.port, server.bearer) for name, server in servers.items()
    ]
    paths = ["/", "/api/v1/me"]
    for _name, port, header in contenders:  # warm-up, not recorded
        for path in paths:
            wrk(f"http://127.0.0.1:{port}{path}", seconds=1, header=header)
    results = {(name, path): [] for name, _, _ in contenders for path in paths}
    shares = {(name, path): [] for name, _, _ in contenders for path in paths}
    # Rounds whose two ceiling runs disagree by more than STEADY were disturbed by other
    # work on the machine: their shares are set aside unless no round was steady.
    unsteady = {(name, path): [] for name, _, _ in contenders for path in paths}

    def measure(name, port, header, path):
        result = wrk(f"http://127.0.0.1:{port}{path}", seconds=HTTP_SECONDS, header=header)
        if result["non_2xx"] or result["socket_errors"]:
            raise RuntimeError(f"{name} {path}: errors under load: {result}")
        results[(name, path)].append(result)
        return result

    # A virtual machine's speed drifts by the minute, so each Tessera run is bracketed by
    # ceiling runs on the same route and compared with their mean.
    for round_ in range(HTTP_ROUNDS):
        log(f"http: round {round_ + 1}/{HTTP_ROUNDS}")
        for path in paths:
            before = measure(*contenders[0], path)
            runs = [
                (name, measure(name, port, header, path)) for name, port, header in contenders[1:]
            ]
            after = measure(*contenders[0], path)
            reference = (before["rps"] + after["rps"]) / 2
            steady = abs(before["rps"] - after["rps"]) <= STEADY * reference
            for name, result in runs:
                (shares if steady else unsteady)[(name, path)].append(result["rps"] / reference)
            (shares if steady else unsteady)[("ceiling", path)].append(1.0)
    for server in servers.values():
        server.stop()
    stop(ceiling)

    table = []
    for name, _, _ in contenders:
        for path in paths:
            runs = results[(name, path)]
            steady_rounds = len(shares[(name, path)])
            counted = shares[(name, path)] or unsteady[(name, path)]
            table.append(
                {
                    "steady_rounds": steady_rounds,
                    "server": name,
                    "path": path,
                    "rps": summary([r["rps"] for r in runs]),
                    "p50_ms": summary([r["p50_ms"] for r in runs]),
                    "p99_ms": summary([r["p99_ms"] for r in runs]),
                    "of_ceiling": summary(counted),
                }
            )
    token = servers["sqlite"].token
    return {
        "table": table,
        "postgres_skipped": pg_problem,
        "commands": {
            "wrk": shown(
                wrk_command(
                    "http://127.0.0.1:0/",
                    CONNECTIONS,
                    HTTP_SECONDS,
                    f"Authorization: Bearer {token}",
                ),
                [(token, "$TOKEN")],
            ),
            "tessera": f"TESSERA_WORKERS={SERVER_WORKERS} TESSERA_LOG=warn "
            + shown(servers["sqlite"].command),
            "ceiling": shown(ceiling_command[:-2] + ["benchuser", "'$ME_BODY'"]),
        },
    }


def bcrypt_verify_ms(runs=6):
    out = run([os.path.join(EXAMPLES, "bcrypt_verify"), str(BCRYPT_COST), str(runs)])
    return statistics.median(json.loads(out)["ms"])


def bcrypt_parallel_per_second(runs=3):
    """Verifications per second with one thread per core hashing at once."""
    out = run([os.path.join(EXAMPLES, "bcrypt_verify"), str(BCRYPT_COST), str(runs), str(CORES)])
    return json.loads(out)["per_second"]


def bench_signin():
    """Sign-in throughput at the default cost against cores ÷ one verify, same run."""
    log("signin: starting tessera (unpinned, default workers)")
    server = Tessera("signin").register_and_sign_in()
    header = f"Authorization: {basic(*USER)}"
    seconds = max(SECONDS * 2, 15)
    rounds = []
    for round_ in range(ROUNDS):
        log(f"signin: round {round_ + 1}/{ROUNDS}")
        verify_ms = bcrypt_verify_ms()
        parallel = bcrypt_parallel_per_second()
        result = wrk(
            f"http://127.0.0.1:{server.port}/api/login",
            connections=4 * CORES,
            seconds=seconds,
            header=header,
            cpus=None,
        )
        if result["non_2xx"] or result["socket_errors"]:
            raise RuntimeError(f"sign-in errors under load: {result}")
        bound = CORES / (verify_ms / 1000)
        rounds.append(
            {
                "verify_ms": verify_ms,
                "bound_rps": bound,
                "rps": result["rps"],
                "p50_ms": result["p50_ms"],
                "p99_ms": result["p99_ms"],
                "of_bound": result["rps"] / bound,
                "parallel_rps": parallel,
                "parallel_of_bound": parallel / bound,
                "of_parallel": result["rps"] / parallel,
            }
        )
    server.stop()
    timer = f"{os.environ['BENCH_TARGET_DIR']}/release/examples/bcrypt_verify"
    return {
        "rounds": rounds,
        **summaries(
            rounds,
            "verify_ms",
            "bound_rps",
            "rps",
            "p50_ms",
            "p99_ms",
            "of_bound",
            "parallel_rps",
            "parallel_of_bound",
            "of_parallel",
        ),
        "commands": {
            "wrk": shown(
                wrk_command("http://127.0.0.1:0/api/login", 4 * CORES, seconds, header, cpus=None),
                [(header, "Authorization: Basic $CREDENTIALS")],
            ),
            "bcrypt": f"{timer} {BCRYPT_COST} 6",
            "parallel": f"{timer} {BCRYPT_COST} 3 {CORES}",
        },
    }


def bench_isolation():
    """GET / alone, then GET / while wrong-password sign-ins saturate the hashing pool."""
    log("isolation: starting tessera (unpinned, default workers)")
    server = Tessera("isolation").register_and_sign_in()
    hello = f"http://127.0.0.1:{server.port}/"
    login_header = f"Authorization: {basic(USER[0], 'not the password')}"
    login = wrk_command(
        f"http://127.0.0.1:{server.port}/api/login", 4 * CORES, SECONDS + 4, login_header, cpus=None
    )
    rounds = []
    for round_ in range(ROUNDS):
        log(f"isolation: round {round_ + 1}/{ROUNDS}")
        alone = wrk(hello, header=server.bearer, cpus=None)
        flood = spawn(login, stdout=subprocess.PIPE, text=True)
        time.sleep(2)  # the pool fills and the queue forms before measuring
        loaded = wrk(hello, header=server.bearer, cpus=None)
        flood_out, _ = flood.communicate(timeout=SECONDS + 30)
        flood_result = parse_wrk(flood_out)
        rounds.append(
            {
                "alone_rps": alone["rps"],
                "alone_p99_ms": alone["p99_ms"],
                "loaded_rps": loaded["rps"],
                "loaded_p50_ms": loaded["p50_ms"],
                "loaded_p99_ms": loaded["p99_ms"],
                "signins_rps": flood_result["rps"],
                "signins_refused": flood_result["non_2xx"],
                "kept": loaded["rps"] / alone["rps"],
            }
        )
    server.stop()
    return {
        "rounds": rounds,
        **summaries(
            rounds,
            "alone_rps",
            "alone_p99_ms",
            "loaded_rps",
            "loaded_p50_ms",
            "loaded_p99_ms",
            "signins_rps",
            "kept",
        ),
        "commands": {
            "hello": shown(
                wrk_command(hello, CONNECTIONS, SECONDS, server.bearer, cpus=None),
                [(server.token, "$TOKEN")],
            ),
            "flood": shown(login, [(login_header, "Authorization: Basic $WRONG_CREDENTIALS")]),
        },
    }


def bench_footprint():
    """Time to ready and idle RSS over fresh starts; RSS under 1,000 keep-alive clients."""
    starts = []
    for attempt in range(max(ROUNDS, 5)):
        log(f"footprint: fresh start {attempt + 1}")
        server = Tessera("ready", cost=4)
        time.sleep(1)
        starts.append(
            {"ready_ms": server.ready_after * 1000, "idle_rss_mib": server.rss_kib() / 1024}
        )
        server.stop()
    loaded = []
    for round_ in range(ROUNDS):
        log(f"footprint: 1,000 connections, round {round_ + 1}/{ROUNDS}")
        server = Tessera("loaded", cost=4).register_and_sign_in()
        idle = server.rss_kib() / 1024
        command = wrk_command(
            f"http://127.0.0.1:{server.port}/", 1000, SECONDS, server.bearer, threads=2, cpus=None
        )
        load = spawn(command, stdout=subprocess.PIPE, text=True)
        peak = 0
        while load.poll() is None:
            peak = max(peak, server.rss_kib() or 0)
            time.sleep(0.1)
        result = parse_wrk(load.communicate()[0])
        loaded.append(
            {
                "idle_after_sign_in_mib": idle,
                "peak_rss_mib": peak / 1024,
                "hwm_mib": server.rss_kib("VmHWM") / 1024,
                "rps": result["rps"],
                "p99_ms": result["p99_ms"],
                "errors": result["socket_errors"],
            }
        )
        server.stop()
    return {
        "ready_ms": summary([s["ready_ms"] for s in starts]),
        "idle_rss_mib": summary([s["idle_rss_mib"] for s in starts]),
        "idle_after_sign_in_mib": summary([r["idle_after_sign_in_mib"] for r in loaded]),
        "peak_rss_mib": summary([r["peak_rss_mib"] for r in loaded]),
        "hwm_mib": summary([r["hwm_mib"] for r in loaded]),
        "loaded_rps": summary([r["rps"] for r in loaded]),
        "loaded_p99_ms": summary([r["p99_ms"] for r in loaded]),
        "loaded_errors": [r["errors"] for r in loaded],
        "commands": {
            "wrk": shown(
                wrk_command(
                    "http://127.0.0.1:0/",
                    1000,
                    SECONDS,
                    "Authorization: Bearer $TOKEN",
                    threads=2,
                    cpus=None,
                )
            ),
        },
    }


def bench_profile():
    """perf samples of tessera serving authenticated GET / (pinned, as in the http section)."""
    if not shutil.which("perf"):
        return {"skipped": "perf is not installed"}
    server = Tessera("profile", cpus=SERVER_CPUS, workers=SERVER_WORKERS).register_and_sign_in()
    data = os.path.join(server.data, "perf.data")
    load = spawn(
        wrk_command(f"http://127.0.0.1:{server.port}/", CONNECTIONS, SECONDS, server.bearer),
        stdout=subprocess.DEVNULL,
    )
    time.sleep(1)
    record = subprocess.run(
        [
            "perf",
            "record",
            "-F",
            "499",
            "-g",
            "-o",
            data,
            "-p",
            str(server.proc.pid),
            "--",
            "sleep",
            str(max(SECONDS - 2, 3)),
        ],
        capture_output=True,
        text=True,
    )
    load.wait()
    server.stop()
    if record.returncode != 0 or not os.path.exists(data):
        return {"skipped": f"perf record failed: {record.stderr.strip()[-300:]}"}

    def report(*sort):
        out = subprocess.run(
            [
                "perf",
                "report",
                "-i",
                data,
                "--no-children",
                "--stdio",
                "-g",
                "none",
                "--percent-limit",
                "1.5",
                "--sort",
                ",".join(sort),
            ],
            capture_output=True,
            text=True,
        ).stdout
        rows = []
        for line in out.splitlines():
            match = re.match(r"^\s+([\d.]+)%\s+(.*?)\s*$", line)
            if match:
                name = re.sub(r"\s*\[[.k]\]\s*", ": ", match.group(2), count=1)
                rows.append((float(match.group(1)), re.sub(r"\s{2,}", " ", name).replace("|", "/")))
        return rows

    return {
        "threads": report("comm"),
        "libraries": report("dso"),
        "symbols": report("dso", "sym")[:20],
        "command": "perf record -F 499 -g -p $TESSERA_PID -- sleep "
        f"{max(SECONDS - 2, 3)}  (during the http section's GET / load); "
        "perf report --no-children --sort comm | dso | dso,sym",
    }


OAUTH_ROUTES = {
    "introspect": "/oauth/introspect",
    "grant": "/oauth/token",
}
OAUTH_KEYS = ("rps", "p50_ms", "p99_ms", "requests", "non_2xx", "socket_errors")


def bench_oauth():
    """POST /oauth/introspect with a user's token and POST /oauth/token (client credentials)
    from one service client authenticating by HTTP Basic, alternating, round by round."""
    log("oauth: starting tessera (unpinned, default workers)")
    server = Tessera("oauth").register_and_sign_in()
    try:
        client_id, secret = server.add_client("bench")
        authorization = basic(client_id, secret)
        bodies = {
            "introspect": urllib.parse.urlencode({"token": server.token}),
            "grant": urllib.parse.urlencode({"grant_type": "client_credentials"}),
        }

        def post(name):
            headers = {
                "Authorization": authorization,
                "Content-Type": "application/x-www-form-urlencoded",
            }
            return request(server.port, "POST", OAUTH_ROUTES[name], headers, bodies[name])

        def check():
            status, text = post("introspect")
            if status != 200 or json.loads(text).get("active") is not True:
                raise RuntimeError(f"introspect: {status} {text[:200]!r}")
            status, text = post("grant")
            if status != 200 or not json.loads(text).get("access_token"):
                raise RuntimeError(f"client-credentials grant: {status} {text[:200]!r}")

        def measure(name, seconds=SECONDS):
            result = wrk(
                f"http://127.0.0.1:{server.port}{OAUTH_ROUTES[name]}",
                seconds=seconds,
                cpus=None,
                script=FORM_POST,
                env=dict(os.environ, BENCH_FORM_AUTH=authorization, BENCH_FORM_BODY=bodies[name]),
            )
            if result["non_2xx"] or result["socket_errors"]:
                raise RuntimeError(f"{OAUTH_ROUTES[name]}: errors under load: {result}")
            return result

        check()
        for name in OAUTH_ROUTES:  # warm-up, not recorded
            measure(name, seconds=1)
        rounds = []
        for round_ in range(ROUNDS):
            log(f"oauth: round {round_ + 1}/{ROUNDS}")
            rounds.append(
                {
                    f"{name}_{key}": value
                    for name in OAUTH_ROUTES
                    for key, value in measure(name).items()
                    if key in OAUTH_KEYS
                }
            )
        check()  # the user's token is still active after the load
    finally:
        server.stop()

    def command(name, body):
        wrk_line = wrk_command(
            f"http://127.0.0.1:0{OAUTH_ROUTES[name]}",
            CONNECTIONS,
            SECONDS,
            cpus=None,
            script=FORM_POST,
        )
        return f"BENCH_FORM_AUTH='Basic $CLIENT_CREDENTIALS' BENCH_FORM_BODY='{body}' " + shown(
            wrk_line
        )

    return {
        "rounds": rounds,
        **summaries(rounds, *(f"{name}_{key}" for name in OAUTH_ROUTES for key in OAUTH_KEYS[:3])),
        **{
            f"{name}_{key}_total": sum(int(r[f"{name}_{key}"]) for r in rounds)
            for name in OAUTH_ROUTES
            for key in OAUTH_KEYS[3:]
        },
        "commands": {
            "introspect": command("introspect", "token=$TOKEN"),
            "grant": command("grant", bodies["grant"]),
            "client": shown([TESSERA, "clients", "add", "bench", "--json"]),
            "tessera": "TESSERA_LOG=warn " + shown(server.command),
        },
    }


# --- the document ----------------------------------------------------------------------


def fmt(s, digits=0, unit=""):
    if s is None:
        return "–"
    f = f"{{:,.{digits}f}}"
    if s["min"] == s["max"]:
        return f.format(s["median"]) + unit
    return f"{f.format(s['median'])}{unit} ({f.format(s['min'])}–{f.format(s['max'])})"


def pct(s):
    if s is None:
        return "–"
    return f"{s['median'] * 100:.0f} % ({s['min'] * 100:.0f}–{s['max'] * 100:.0f})"


def verdict(ok):
    return "**met**" if ok else "**not met**"


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as meminfo:
        mem_kib = int(meminfo.readline().split()[1])
    commit = (
        subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        or "unknown"
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu": model,
        "cores": CORES,
        "memory_gib": round(mem_kib / 2**20),
        "kernel": os.uname().release,
        "commit": commit + (" (with local changes)" if dirty else ""),
        "rustc": run(["rustc", "--version"]).strip(),
        "wrk": "wrk 4.1 (Debian)",
    }


def targets(results, kept_rows=()):
    """One line per target of issue 7: the figure and whether it is met (with the rows of
    the sections kept from the document, in section order)."""
    rows = []
    tokens, http, signin = results.get("tokens"), results.get("http"), results.get("signin")
    isolation, footprint = results.get("isolation"), results.get("footprint")
    if tokens:
        r = tokens["ratio"]["access_token"]["verify"]["median"]
        rows.append(("1. verify ≤ ½ of jsonwebtoken's time", f"{r:.2f}×", r <= 0.5))
    if http:
        for row in http["table"]:
            if row["server"] == "sqlite":
                r = row["of_ceiling"]["median"]
                rows.append(
                    (
                        f"2. SQLite `GET {row['path']}` ≥ 60 % of the ceiling",
                        f"{r * 100:.0f} %",
                        r >= 0.6,
                    )
                )
            if row["server"] == "sqlite-logs":
                r = row["of_ceiling"]["median"]
                rows.append(
                    (
                        f"2. default configuration (a log line per request) `GET {row['path']}` "
                        "≥ 80 % of the ceiling",
                        f"{r * 100:.0f} %",
                        r >= 0.8,
                    )
                )
            if row["server"] == "sqlite-eddsa" and row["path"] == "/":
                r = row["of_ceiling"]["median"]
                rows.append(
                    (
                        "2. SQLite `GET /` with EdDSA tokens ≥ 70 % of the ceiling",
                        f"{r * 100:.0f} %",
                        r >= 0.7,
                    )
                )
    if signin:
        r = signin["of_bound"]["median"]
        rows.append(("3. sign-ins ≥ 90 % of cores ÷ one verify", f"{r * 100:.0f} %", r >= 0.9))
    if isolation:
        kept, p99 = isolation["kept"]["median"], isolation["loaded_p99_ms"]["median"]
        rows.append(
            ("4. `GET /` keeps ≥ 50 % under a sign-in flood", f"{kept * 100:.0f} %", kept >= 0.5)
        )
        rows.append(("4. … with p99 < 20 ms", f"{p99:.1f} ms", p99 < 20))
    if footprint:
        for label, key, limit, unit in [
            ("5. idle RSS ≤ 30 MB", "idle_rss_mib", 30, " MiB"),
            ("5. RSS at 1,000 connections ≤ 100 MB", "peak_rss_mib", 100, " MiB"),
            ("5. start to ready ≤ 300 ms", "ready_ms", 300, " ms"),
        ]:
            value = footprint[key]["median"]
            rows.append((label, f"{value:.1f}{unit}", value <= limit))
    lines = [f"| {label} | {value} | {verdict(ok)} |" for label, value, ok in rows]
    lines += kept_rows
    lines.sort(key=lambda line: int(re.match(r"\| (\d+)\.", line).group(1)))
    return ["| target | median | |", "|---|---|---|"] + lines


SECTION_TITLES = {
    "tokens": "1. Token sign and verify (criterion)",
    "http": "2. Authenticated requests against the ceiling",
    "signin": "3. Sign-in throughput against its physical bound",
    "isolation": "4. Isolation: authenticated requests while sign-ins flood the hashing pool",
    "footprint": "5. Footprint",
    "profile": "6. Profile of authenticated `GET /` (SQLite)",
    "oauth": "7. Service clients: token introspection and client-credential grants",
}


FAILED = "**This section failed in this run:**"
# Where each section's part of the generated text begins: `### N. `.
SECTION_START = re.compile(r"(?m)^(?=### \d+\. )")


def section_number(block):
    return int(re.match(r"### (\d+)\.", block).group(1))


def render(results):
    failed = {
        name: results.pop(name)["error"]
        for name in list(SECTION_TITLES)
        if isinstance(results.get(name), dict) and "error" in results[name]
    }
    kept = {
        name: results.pop(name)
        for name in list(SECTION_TITLES)
        if isinstance(results.get(name), dict) and "kept" in results[name]
    }
    text = render_sections(
        results, [row for section in kept.values() for row in section["targets"]]
    )
    head, *blocks = SECTION_START.split(text)
    blocks += [section["kept"] for section in kept.values()]
    blocks += [
        f"### {SECTION_TITLES[name]}\n\n{FAILED} `{error}`" for name, error in failed.items()
    ]
    if not blocks:
        return text
    blocks.sort(key=section_number)
    return head + "\n\n".join(block.strip("\n") for block in blocks) + "\n"


def carried_from(results):
    """Which carried-over section was measured in which run: {name: date}."""
    carried = results.get("carried") or {}
    if "sections" in carried:  # raw results written when all came from one run
        return dict.fromkeys(carried["sections"], carried["from"])
    return carried


def carried_line(carried):
    runs = {}
    for name, date in carried.items():
        runs.setdefault(date, []).append(name)
    parts = [
        f"{', '.join(names)}{' are carried over' if not i else ''} from the run of {date}"
        for i, (date, names) in enumerate(runs.items())
    ]
    return f"- Sections {'; '.join(parts)} (`BENCH_ONLY`)"


def documented():
    """The sections the document already shows, for a partial run without raw results
    (a fresh BENCH_TARGET_DIR): {name: ({"kept": its text, "targets": its rows of the
    targets table}, the date of the run that measured it)}. Failed sections are not kept."""
    if not os.path.exists(DOC):
        return {}
    with open(DOC) as doc:
        text = doc.read()
    if BEGIN not in text or END not in text:
        return {}
    head, *blocks = SECTION_START.split(text.split(BEGIN, 1)[1].split(END, 1)[0])
    generated = re.search(r"Generated by `make bench` on (.+?) in ", head)
    date = generated.group(1) if generated else "an earlier run"
    origins = {}
    line = re.search(r"^- Sections (.+) \(`BENCH_ONLY`\)$", head, re.M)
    for part in line.group(1).split("; ") if line else []:
        match = re.match(r"(.+?)(?: are carried over)? from the run of (.+)$", part)
        if match:
            origins.update(dict.fromkeys(match.group(1).split(", "), match.group(2)))
    numbers = {int(title.split(".", 1)[0]): name for name, title in SECTION_TITLES.items()}
    found = {}
    for block in blocks:
        name = numbers.get(section_number(block))
        if name is None or FAILED in block:
            continue
        rows = [
            row for row in head.splitlines() if re.match(rf"\| {section_number(block)}\. ", row)
        ]
        found[name] = ({"kept": block.strip("\n"), "targets": rows}, origins.get(name, date))
    return found


def render_sections(results, kept_rows=()):
    m = results["machine"]
    out = (
        [
            f"Generated by `make bench` on {results['date']} in "
            f"{results['elapsed_s'] / 60:.1f} minutes.",
            "",
            f"- Machine: {m['cores']} cores, {m['cpu']}, {m['memory_gib']} GiB, "
            f"Linux {m['kernel']}",
            f"- Build: commit {m['commit']}, {m['rustc']}, release profile",
            f"- Load average (1 min) at start and end: {results['load'][0]:.2f} and "
            f"{results['load'][1]:.2f}"
            " (other work on the machine makes figures noisy; ratios are measured side by side)",
            f"- Figures: median (min–max) over {ROUNDS} runs ({HTTP_ROUNDS} for section 2); "
            "each ratio is taken within one round",
        ]
        + ([carried_line(carried_from(results))] if results.get("carried") else [])
        + [
            "",
            "Where a target is not met, the cause and the change that closes the gap are under "
            '"What the profile showed, and what changed" below.',
            "",
        ]
        + targets(results, kept_rows)
        + [""]
    )
    tokens = results.get("tokens")
    if tokens:
        ns, ratio = tokens["ns"], tokens["ratio"]
        ok = ratio["access_token"]["verify"]["median"] <= 0.5
        out += [
            "### 1. Token sign and verify (criterion)",
            "",
            f"`{tokens['command']}`, {ROUNDS} times; ns per operation, criterion's median.",
            "",
            "| algorithm | operation | tessera-token | jsonwebtoken 10 | ratio |",
            "|---|---|---|---|---|",
        ]
        for group, alg in TOKEN_GROUPS.items():
            n, r = ns[group], ratio[group]
            out += [
                f"| {alg} | sign / encode | {fmt(n['tessera_token/sign'])} ns | "
                f"{fmt(n['jsonwebtoken/encode'])} ns | {fmt(r['sign'], 2)} |",
                f"| {alg} | verify / decode with validation | "
                f"{fmt(n['tessera_token/verify'])} ns | "
                f"{fmt(n['jsonwebtoken/decode'])} ns | {fmt(r['verify'], 2)} |",
                f"| {alg} | verify a token jsonwebtoken minted | "
                f"{fmt(n['tessera_token/verify_foreign'])} ns | (same) | "
                f"{fmt(r['verify_foreign'], 2)} |",
            ]
        out += [
            "",
            f"Target (HS256): verify in at most half the peer's time — {verdict(ok)} "
            f"(ratio {ratio['access_token']['verify']['median']:.2f}). EdDSA and ES256 are "
            "dominated by the curve arithmetic both sides share; the server hides that cost "
            "behind its verified-token cache (section 2).",
            "",
        ]
    http = results.get("http")
    if http:
        out += [
            "### 2. Authenticated requests against the ceiling",
            "",
            f"Server pinned to CPU {SERVER_CPUS} with {SERVER_WORKERS} worker(s), "
            f"wrk pinned to CPU {WRK_CPUS}; {CONNECTIONS} keep-alive connections, "
            f"{HTTP_SECONDS} s per run, {HTTP_ROUNDS} rounds. "
            "In each round and route the ceiling runs just before and "
            "just after the Tessera servers, and each share is a Tessera run ÷ the mean of "
            f"those two; a round whose two ceiling runs differ by more than {STEADY * 100:.0f} % "
            "was disturbed by other work and is left out of the share (the column says how "
            "many rounds count). The ceiling is "
            "`crates/tessera-http/examples/ceiling.rs`: the same bodies from bare actix-web "
            "handlers, no auth, no database, no middleware. PostgreSQL runs unpinned (it is "
            "part of what is measured).",
            "",
            f"- wrk: `{http['commands']['wrk']}`",
            f"- tessera: `{http['commands']['tessera']}` (`sqlite-logs`: the same with "
            "`TESSERA_LOG` unset, the default `info`: one JSON line per request, to a file)",
            f"- ceiling: `{http['commands']['ceiling']}`",
            "",
            "| server | route | requests/s (all runs) | of ceiling (steady rounds) "
            "| p50 ms | p99 ms |",
            "|---|---|---|---|---|---|",
        ]
        for row in http["table"]:
            counted = row.get("steady_rounds")
            share = (
                "—"
                if row["server"] == "ceiling"
                else (
                    pct(row["of_ceiling"])
                    + (
                        f", {counted} of {HTTP_ROUNDS} rounds"
                        if counted
                        else ", no steady round: all rounds"
                    )
                )
            )
            out.append(
                f"| {row['server']} | `GET {row['path']}` | {fmt(row['rps'])} | {share} | "
                f"{fmt(row['p50_ms'], 2)} | {fmt(row['p99_ms'], 2)} |"
            )
        if http["postgres_skipped"]:
            out += ["", f"PostgreSQL was skipped: {http['postgres_skipped']}."]
        sqlite = [r for r in http["table"] if r["server"] == "sqlite"]
        ok = all(r["of_ceiling"]["median"] >= 0.6 for r in sqlite)
        out += ["", f"Target: at least 60 % of the ceiling on SQLite — {verdict(ok)}."]
        logged = [r for r in http["table"] if r["server"] == "sqlite-logs"]
        ok = all(r["of_ceiling"]["median"] >= 0.8 for r in logged)
        out += [
            "",
            "Target (issue 16): the default configuration, a log line per request, at least "
            f"80 % of the ceiling — {verdict(ok)}. The lines are formatted on the request's "
            "thread and written by one writer thread in batches (`tracing-appender`, not "
            "lossy: a full queue of 65,536 lines makes loggers wait rather than drop lines).",
            "",
        ]
    signin = results.get("signin")
    if signin:
        ok = signin["of_bound"]["median"] >= 0.9
        out += [
            "### 3. Sign-in throughput against its physical bound",
            "",
            f"`GET /api/login` with correct Basic credentials at bcrypt cost {BCRYPT_COST} "
            f"(the default), {4 * CORES} connections, server unpinned with default workers and "
            f"hashing concurrency (one per core). Bound = {CORES} cores ÷ the median time of "
            "one `PasswordHasher::verify` at the same cost, timed on one thread just before "
            "each run.",
            "",
            f"- wrk: `{signin['commands']['wrk']}`",
            f"- one verify: `{signin['commands']['bcrypt']}`",
            f"- all cores verifying at once (diagnostic, not the bound): "
            f"`{signin['commands']['parallel']}`",
            "",
            "| one verify | bound | sign-ins/s | of bound | p50 | p99 |",
            "|---|---|---|---|---|---|",
            f"| {fmt(signin['verify_ms'], 1, ' ms')} | {fmt(signin['bound_rps'], 2, '/s')} | "
            f"{fmt(signin['rps'], 2)} | {pct(signin['of_bound'])} | "
            f"{fmt(signin['p50_ms'], 0, ' ms')} | "
            f"{fmt(signin['p99_ms'], 0, ' ms')} |",
            "",
            f"With all {CORES} cores hashing at once, the bcrypt timer alone reaches "
            f"{fmt(signin.get('parallel_rps'), 2, '/s')} = {pct(signin.get('parallel_of_bound'))} "
            f"of the bound; the server's sign-ins reach {pct(signin.get('of_parallel'))} of that.",
            "",
            f"Target: at least 90 % of the bound — {verdict(ok)}.",
            "",
        ]
    isolation = results.get("isolation")
    if isolation:
        ok = isolation["kept"]["median"] >= 0.5 and isolation["loaded_p99_ms"]["median"] < 20
        out += [
            "### 4. Isolation: authenticated requests while sign-ins flood the hashing pool",
            "",
            f"Server unpinned, default workers, bcrypt cost {BCRYPT_COST}, hashing concurrency "
            f"one per core. `GET /` alone, then `GET /` while {4 * CORES} connections send "
            "sign-ins with a wrong password (started 2 s earlier so the pool is full).",
            "",
            f"- `GET /`: `{isolation['commands']['hello']}`",
            f"- flood: `{isolation['commands']['flood']}`",
            "",
            "| `GET /` alone | p99 alone | `GET /` under the flood | kept | p50 loaded "
            "| p99 loaded | refused sign-ins/s |",
            "|---|---|---|---|---|---|---|",
            f"| {fmt(isolation['alone_rps'])}/s | {fmt(isolation['alone_p99_ms'], 2, ' ms')} | "
            f"{fmt(isolation['loaded_rps'])}/s | {pct(isolation['kept'])} | "
            f"{fmt(isolation['loaded_p50_ms'], 2, ' ms')} | "
            f"{fmt(isolation['loaded_p99_ms'], 2, ' ms')} | "
            f"{fmt(isolation['signins_rps'], 1)} |",
            "",
            f"Target: keep at least 50 % of the throughput with p99 under 20 ms — {verdict(ok)}.",
            "",
        ]
    footprint = results.get("footprint")
    if footprint:
        ok_idle = footprint["idle_rss_mib"]["median"] <= 30
        ok_loaded = footprint["peak_rss_mib"]["median"] <= 100
        ok_ready = footprint["ready_ms"]["median"] <= 300
        out += [
            "### 5. Footprint",
            "",
            "SQLite, fresh data directory each start (so the development secret is generated "
            "and the migrations run), default workers; resident memory is `VmRSS` from "
            "`/proc/PID/status`, sampled every 100 ms under load. Ready = from spawn until "
            "`GET /readyz` (which queries the database) answers 200, polled every 2 ms. "
            "The loaded server uses bcrypt cost 4 for its one registration.",
            "",
            f"- 1,000 connections: `{footprint['commands']['wrk']}`",
            "",
            "| measure | value | target |",
            "|---|---|---|",
            f"| start to ready | {fmt(footprint['ready_ms'], 0, ' ms')} | "
            f"≤ 300 ms: {verdict(ok_ready)} |",
            f"| idle RSS, 1 s after ready | {fmt(footprint['idle_rss_mib'], 1, ' MiB')} | "
            f"≤ 30 MB: {verdict(ok_idle)} |",
            "| RSS after one sign-up and sign-in | "
            f"{fmt(footprint['idle_after_sign_in_mib'], 1, ' MiB')} | |",
            "| peak RSS under 1,000 keep-alive connections | "
            f"{fmt(footprint['peak_rss_mib'], 1, ' MiB')} | ≤ 100 MB: {verdict(ok_loaded)} |",
            f"| VmHWM at the end of the load | {fmt(footprint['hwm_mib'], 1, ' MiB')} | |",
            f"| `GET /` at 1,000 connections | {fmt(footprint['loaded_rps'])}/s, "
            f"p99 {fmt(footprint['loaded_p99_ms'], 1, ' ms')} | |",
            "",
        ]
    profile = results.get("profile")
    if profile:
        out += ["### 6. Profile of authenticated `GET /` (SQLite)", ""]
        if "skipped" in profile:
            out += [f"Skipped: {profile['skipped']}.", ""]
        else:
            out += [
                f"`{profile['command']}`. Shares of all samples (≥ 1.5 %).",
                "",
                "| by thread | % |",
                "|---|---|",
            ]
            out += [f"| {name} | {share:.1f} |" for share, name in profile["threads"]]
            out += ["", "| by library | % |", "|---|---|"]
            out += [f"| {name} | {share:.1f} |" for share, name in profile["libraries"]]
            out += ["", "| top symbols | % |", "|---|---|"]
            out += [f"| `{name}` | {share:.1f} |" for share, name in profile["symbols"]]
            out.append("")
    oauth = results.get("oauth")
    if oauth:
        out += [
            f"### {SECTION_TITLES['oauth']}",
            "",
            "SQLite, server unpinned with default workers, as configured out of the box. One "
            "service client, made with `tessera clients add`, authenticates every request by "
            "HTTP Basic; its secret is stored as SHA-256 (256 random bits need no slow hash), "
            "and a known client is checked in memory. Introspection is of the signed-in user's "
            '`GET /api/login` token, checked `"active": true` before and after the runs, as the '
            "grant is to answer 200 with an `access_token`. wrk POSTs the form "
            f"through `{os.path.relpath(FORM_POST, ROOT)}`, {CONNECTIONS} connections, "
            f"{SECONDS} s per run, {ROUNDS} rounds, the two routes one after the other in each.",
            "",
            f"- client: `{oauth['commands']['client']}`",
            f"- introspection: `{oauth['commands']['introspect']}`",
            f"- grant: `{oauth['commands']['grant']}`",
            f"- tessera: `{oauth['commands']['tessera']}`",
            "",
            "| route | per second | p50 ms | p99 ms | requests | non-2xx |",
            "|---|---|---|---|---|---|",
        ]
        for name, label in [
            ("introspect", "`POST /oauth/introspect` (introspections)"),
            ("grant", "`POST /oauth/token`, `grant_type=client_credentials` (grants)"),
        ]:
            out.append(
                f"| {label} | {fmt(oauth[f'{name}_rps'])} | {fmt(oauth[f'{name}_p50_ms'], 2)} | "
                f"{fmt(oauth[f'{name}_p99_ms'], 2)} | {oauth[f'{name}_requests_total']:,} | "
                f"{oauth[f'{name}_non_2xx_total']:,} |"
            )
        out += [
            "",
            "Any non-2xx answer or socket error fails the section. For context only, not a "
            "target (another machine, another load generator): Ory Hydra's published 2020 "
            "figures are 5,109 introspections/s and 513 client-credential grants/s, its client "
            "secrets at bcrypt cost 8, on 2 vCPU.",
            "",
        ]
    return "\n".join(out)


TEMPLATE = """# Benchmarks

Every figure here comes from `make bench` (`scripts/bench.sh`): it builds the release
binaries, runs each comparison side by side on the same machine in one run, and rewrites
the section between the markers below. Ratios are the headline; absolute numbers depend
on the machine and on what else it was doing. No test asserts a timing.

## Results

BEGIN
END

## What the profile showed, and what changed

(Written by hand; `make bench` keeps this section.)
"""
BEGIN = "<!-- bench:begin (generated by scripts/bench.sh; edits here are overwritten) -->"
END = "<!-- bench:end -->"


def write_doc(results):
    text = (
        open(DOC).read()
        if os.path.exists(DOC)
        else TEMPLATE.replace("BEGIN", BEGIN).replace("END", END, 1)
    )
    if BEGIN not in text or END not in text:
        text = text.rstrip() + f"\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(DOC, "w") as doc:
        doc.write(f"{head}{BEGIN}\n{render(results)}\n{END}{tail}")


def main():
    sections = [
        ("tokens", bench_tokens),
        ("http", bench_http),
        ("signin", bench_signin),
        ("isolation", bench_isolation),
        ("footprint", bench_footprint),
        ("profile", bench_profile),
        ("oauth", bench_oauth),
    ]
    results = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load": [os.getloadavg()[0]],
    }
    previous = {}
    if ONLY and os.path.exists(RAW):
        with open(RAW) as raw:
            previous = json.load(raw)
    # A section not run is carried over from the last raw results, else kept as the
    # document shows it.
    shown_before = documented() if ONLY else {}
    carried = {}
    for name, section in sections:
        if ONLY and name not in ONLY:
            if name in previous:
                results[name] = previous[name]
                carried[name] = carried_from(previous).get(
                    name, previous.get("date", "an earlier run")
                )
            elif name in shown_before:
                results[name], carried[name] = shown_before[name]
            continue
        try:
            results[name] = section()
        except Exception as error:  # one broken section must not lose the others
            log(f"{name}: FAILED: {error}")
            results[name] = {"error": str(error)[:500]}
    results["load"].append(os.getloadavg()[0])
    if carried:
        results["carried"] = carried
    results["elapsed_s"] = time.time() - started_at
    with open(RAW, "w") as raw:
        json.dump(results, raw, indent=1)
    write_doc(results)
    log(f"wrote {os.path.relpath(DOC)} and {os.path.relpath(RAW)}")


if __name__ == "__main__":
    main()
