"""`make cluster`: the scaled topology on one machine, in the foreground; Ctrl-C stops it all.

    python -m scripts.cluster [--port-base 63000] [--data-dir var/cluster]   # run it
    python -m scripts.cluster status [--data-dir …]    # processes, memory, PostgreSQL connections

It installs what is missing from Debian (postgresql, redis-server, haproxy, supervisor), keeps
their data under `var/cluster/`, and runs, every process supervised by Debian's `supervisor`
(a crashed process is started again, the others keep serving):

| what | port (default) | with `--port-base B` |
|---|---|---|
| PostgreSQL (accounts, queue, transcripts, Rasa's trackers) | 5433 | B+33 |
| Redis (pushes between instances, locks, rate limits) | 6380 | B+79 |
| Rasa | 5005, 5006 | B+5, B+6 |
| action servers | 5055, 5056 | B+55, B+56 |
| HAProxy → action servers (Rasa's `action_endpoint`) | 5054 | B+54 |
| live-agent service | 8081, 8082 | B+81, B+82 |
| HAProxy → live-agent instances (the public URL) | 8080 | B+80 |

The public URLs are those of `make run`: the widget and the console on 8080, Rasa's REST
channel on 5005, the action server's health on 5055. Migrations and the demo data run once,
under the project's migration lock, before the services start.
"""
from __future__ import annotations

import argparse
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import yaml

from bot.settings import DEV_ACTION_SERVER_SECRET, ROOT, InsecureSettings, get_settings
from scripts.runtime import answers, postgres_bin_dir

PYTHON = sys.executable
READY_TIMEOUT_SECONDS = 420
# Supervisor stops the services in parallel, then PostgreSQL, Redis and HAProxy: each gets TERM
# (PostgreSQL INT: its fast shutdown) and KILL after these many seconds.
SERVICE_STOP_SECONDS = 4
INFRA_STOP_SECONDS = 2
STOP_DEADLINE_SECONDS = 8.5

# Debian package -> a file it installs that the cluster runs.
PACKAGES = {
    "postgresql": "/usr/lib/postgresql/*/bin/postgres",
    "redis-server": "/usr/bin/redis-server",
    "haproxy": "/usr/sbin/haproxy",
    "supervisor": "/usr/bin/supervisord",
}


# --- what is installed ------------------------------------------------------------------------

def missing_packages() -> List[str]:
    return [package for package, path in PACKAGES.items() if not glob.glob(path)]


def ensure_packages(out=sys.stdout) -> None:
    """Install the Debian packages the cluster needs when they are missing (scripts/system_deps.sh:
    root and apt-get, waiting for other apt runs; otherwise it says what to install)."""
    missing = missing_packages()
    if not missing:
        return
    print(f"Installing {', '.join(missing)} from Debian …", file=out, flush=True)
    if subprocess.run([str(ROOT / "scripts" / "system_deps.sh"), *missing]).returncode != 0:
        raise SystemExit(f"make cluster needs {', '.join(missing)} (see above)")


def postgres_bin(name: str) -> str:
    directory = postgres_bin_dir()
    if directory is None or not (directory / name).exists():
        raise SystemExit(f"PostgreSQL's {name} not found (apt-get install postgresql)")
    return str(directory / name)


# --- the layout -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ports:
    rasa: Sequence[int] = (5005, 5006)
    actions: Sequence[int] = (5055, 5056)
    actions_balancer: int = 5054
    handoff: Sequence[int] = (8081, 8082)
    balancer: int = 8080
    postgres: int = 5433
    redis: int = 6380

    @classmethod
    def from_base(cls, base: int) -> "Ports":
        return cls(rasa=(base + 5, base + 6), actions=(base + 55, base + 56), actions_balancer=base + 54,
                   handoff=(base + 81, base + 82), balancer=base + 80, postgres=base + 33, redis=base + 79)

    @classmethod
    def from_settings(cls) -> "Ports":
        """The contract's ports, moved as a whole by RASA_PORT, ACTION_SERVER_PORT, HANDOFF_PORT."""
        settings = get_settings()
        r, a, h = settings.rasa_port, settings.action_server_port, settings.handoff_port
        return cls(rasa=(r, r + 1), actions=(a, a + 1), actions_balancer=a - 1, handoff=(h + 1, h + 2),
                   balancer=h)

    def all(self) -> List[int]:
        return [*self.rasa, *self.actions, self.actions_balancer, *self.handoff, self.balancer,
                self.postgres, self.redis]


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.3)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _quote(value: str) -> str:
    # supervisor's environment= values: double quotes, '%' doubled (it expands %(name)s).
    return '"' + value.replace("%", "%%").replace('"', '\\"') + '"'


@dataclass
class Cluster:
    data_dir: Path
    ports: Ports = field(default_factory=Ports)
    model: Path = ROOT / "models" / "bolt.tar.gz"

    # paths
    @property
    def log_dir(self) -> Path:
        return self.data_dir / "log"

    @property
    def pg_data(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def redis_dir(self) -> Path:
        return self.data_dir / "redis"

    @property
    def supervisor_conf(self) -> Path:
        return self.data_dir / "supervisord.conf"

    @property
    def haproxy_cfg(self) -> Path:
        return self.data_dir / "haproxy.cfg"

    @property
    def endpoints(self) -> Path:
        return self.data_dir / "endpoints.yml"

    # URLs
    def database_url(self, application: str = "bolt") -> str:
        return f"postgresql://bolt@127.0.0.1:{self.ports.postgres}/bolt?application_name={application}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.ports.redis}/0"

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.balancer}"

    def rasa_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports.rasa[index]}"

    def programs(self) -> List[str]:
        names = [f"{kind}-{n}" for kind in ("rasa", "actions", "handoff") for n in (1, 2)]
        return names

    # --- configuration files ----------------------------------------------------------------

    def _service_user(self, name: str) -> Optional[str]:
        """PostgreSQL refuses to run as root; Redis needn't."""
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            return None

    def prepare(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.redis_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(self.data_dir.stat().st_mode | 0o755)  # PostgreSQL's user walks through
        pg_user = self._service_user("postgres")
        if not (self.pg_data / "PG_VERSION").exists():
            self.pg_data.mkdir(parents=True, exist_ok=True)
            if pg_user:
                shutil.chown(self.pg_data, pg_user, pg_user)
            command = [postgres_bin("initdb"), "-D", str(self.pg_data), "-U", "bolt", "--auth=trust",
                       "-E", "UTF8", "--no-locale"]
            if pg_user:
                command = ["runuser", "-u", pg_user, "--", *command]
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                raise SystemExit(f"initdb failed:\n{result.stdout}\n{result.stderr}")
        redis_user = self._service_user("redis")
        if redis_user:
            shutil.chown(self.redis_dir, redis_user, redis_user)
        self.endpoints.write_text(yaml.safe_dump(self.endpoints_config(), sort_keys=False), encoding="utf-8")
        self.haproxy_cfg.write_text(self.haproxy_config(), encoding="utf-8")
        self.supervisor_conf.write_text(self.supervisor_config(), encoding="utf-8")

    def endpoints_config(self) -> dict:
        endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
        endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{self.ports.actions_balancer}/webhook"
        endpoints["lock_store"] = {"type": "bot.lock_store.RedisLockStore"}
        return endpoints

    def haproxy_config(self) -> str:
        p = self.ports
        handoff = "\n".join(f"    server handoff-{n} 127.0.0.1:{port} check"
                            for n, port in enumerate(p.handoff, start=1))
        actions = "\n".join(f"    server actions-{n} 127.0.0.1:{port} check"
                            for n, port in enumerate(p.actions, start=1))
        return f"""# Written by scripts/cluster.py: HAProxy in front of the live-agent instances and the action servers.
global
    maxconn 4096

defaults
    mode http
    option dontlognull
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # Websockets, once upgraded: far longer than the service's 30 s heartbeat.
    timeout tunnel 1h
    timeout client-fin 5s
    timeout http-keep-alive 10s
    # A server that refuses the connection is skipped: retried on another one at once.
    retries 3
    option redispatch 1
    default-server inter 1s fastinter 500ms downinter 1s fall 2 rise 2

frontend live_agent
    bind *:{p.balancer}
    default_backend live_agent

backend live_agent
    # Sockets live long: a new one goes where the fewest are.
    balance leastconn
    option forwardfor
    option httpchk GET /health
    http-check expect status 200
{handoff}

frontend actions
    bind 127.0.0.1:{p.actions_balancer}
    default_backend actions

backend actions
    balance roundrobin
    option httpchk GET /health
    http-check expect status 200
{actions}
"""

    def environment(self, program: str) -> Dict[str, str]:
        """What differs per program from the launcher's own environment."""
        p = self.ports
        env = {
            "DATABASE_URL": self.database_url(f"bolt-{program}"),
            "REDIS_URL": self.redis_url,
            "RASA_URLS": ",".join(self.rasa_url(i) for i in range(len(p.rasa))),
            "RASA_URL": self.rasa_url(0),
            "HANDOFF_URL": self.public_url,
            "PYTHONPATH": str(ROOT),
            "RASA_TELEMETRY_ENABLED": "false",
        }
        kind, number = program.rsplit("-", 1)
        index = int(number) - 1
        if kind == "rasa":
            env["RASA_PORT"] = str(p.rasa[index])
            # endpoints.yml hands it to Rasa as ${ACTION_SERVER_SECRET}; a real one comes from
            # the launcher's environment, which supervisord passes on.
            if "ACTION_SERVER_SECRET" not in os.environ:
                env["ACTION_SERVER_SECRET"] = DEV_ACTION_SERVER_SECRET
        elif kind == "actions":
            env["ACTION_SERVER_PORT"] = str(p.actions[index])
        elif kind == "handoff":
            env["HANDOFF_PORT"] = str(p.handoff[index])
            env["HANDOFF_INSTANCE"] = program
            # Reached through HAProxy only, which names the client in X-Forwarded-For (the
            # sign-in throttle counts per client address).
            env["HANDOFF_HOST"] = "127.0.0.1"
            env["HANDOFF_TRUST_FORWARDED_FOR"] = "true"
        return env

    def command(self, program: str) -> List[str]:
        kind, number = program.rsplit("-", 1)
        if kind == "rasa":
            port = self.ports.rasa[int(number) - 1]
            return [PYTHON, "-m", "rasa", "run", "--model", str(self.model), "--port", str(port),
                    "--endpoints", str(self.endpoints), "--credentials", str(ROOT / "credentials.yml"),
                    "--enable-api", "--auth-token", get_settings().rasa_api_token]
        if kind == "actions":
            return [PYTHON, "-m", "actions"]
        return [PYTHON, "-m", "handoff"]

    def supervisor_config(self) -> str:
        d, p = self.data_dir, self.ports
        pg_user, redis_user = self._service_user("postgres"), self._service_user("redis")

        def program(name: str, command: Sequence[str], stopsecs: int, *, user: Optional[str] = None,
                    autostart: bool = True, stopsignal: str = "TERM", env: Optional[Dict[str, str]] = None) -> str:
            lines = [
                f"[program:{name}]",
                "command=" + " ".join(_quote(part) if " " in part or not part else part for part in command),
                f"directory={ROOT}",
                f"autostart={'true' if autostart else 'false'}",
                "autorestart=true",
                "startsecs=3",
                "startretries=1000",
                f"stopsignal={stopsignal}",
                f"stopwaitsecs={stopsecs}",
                "stopasgroup=true",
                "killasgroup=true",
                f"stdout_logfile={self.log_dir / (name + '.log')}",
                "stdout_logfile_maxbytes=20MB",
                "stdout_logfile_backups=2",
                "redirect_stderr=true",
            ]
            if user:
                lines.append(f"user={user}")
            if env:
                lines.append("environment=" + ",".join(f"{k}={_quote(v)}" for k, v in env.items()))
            return "\n".join(lines) + "\n"

        infra = [
            program("postgres", [postgres_bin("postgres"), "-D", str(self.pg_data), "-p", str(p.postgres),
                                 "-k", str(self.pg_data), "-c", "listen_addresses=127.0.0.1",
                                 "-c", "max_connections=100"],
                    INFRA_STOP_SECONDS, user=pg_user, stopsignal="INT"),
            program("redis", ["/usr/bin/redis-server", "--port", str(p.redis), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", str(self.redis_dir)],
                    INFRA_STOP_SECONDS, user=redis_user),
            program("haproxy", ["/usr/sbin/haproxy", "-db", "-f", str(self.haproxy_cfg)], INFRA_STOP_SECONDS),
        ]
        services = [program(name, self.command(name), SERVICE_STOP_SECONDS, autostart=False,
                            env=self.environment(name)) for name in self.programs()]
        return "\n".join([
            "; Written by scripts/cluster.py: every process of `make cluster`, supervised.",
            "[supervisord]",
            "nodaemon=true",
            f"logfile={self.log_dir / 'supervisord.log'}",
            f"pidfile={d / 'supervisord.pid'}",
            f"childlogdir={self.log_dir}",
            "loglevel=info",
            "",
            "[unix_http_server]",
            f"file={d / 'supervisor.sock'}",
            "chmod=0700",
            "",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "",
            "[supervisorctl]",
            f"serverurl=unix://{d / 'supervisor.sock'}",
            "",
            *infra,
            *services,
            "; Stopped in reverse priority: the services together, then what they stand on.",
            "[group:infra]",
            "programs=postgres,redis,haproxy",
            "priority=100",
            "",
            "[group:bolt]",
            "programs=" + ",".join(self.programs()),
            "priority=200",
            "",
        ])

    # --- running ----------------------------------------------------------------------------

    def ctl(self, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        return subprocess.run(["supervisorctl", "-c", str(self.supervisor_conf), *args],
                              capture_output=True, text=True, check=check)

    def pid(self, program: str) -> int:
        group = "infra" if program in ("postgres", "redis", "haproxy") else "bolt"
        out = self.ctl("pid", f"{group}:{program}").stdout.strip()
        return int(out) if out.isdigit() else 0

    def wait_for_postgres(self, deadline: float) -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.exc import OperationalError

        admin = create_engine(f"postgresql://bolt@127.0.0.1:{self.ports.postgres}/postgres",
                              isolation_level="AUTOCOMMIT", future=True)
        try:
            while True:
                try:
                    with admin.connect() as connection:
                        exists = connection.execute(
                            text("SELECT 1 FROM pg_database WHERE datname = 'bolt'")).scalar()
                        if not exists:
                            connection.execute(text("CREATE DATABASE bolt"))
                    return
                except OperationalError:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"PostgreSQL did not start: see {self.log_dir / 'postgres.log'}")
                    time.sleep(0.3)
        finally:
            admin.dispose()

    def migrate(self) -> None:
        """Schema and demo data, once, under the migration lock (the services would too)."""
        env = dict(os.environ, DATABASE_URL=self.database_url("bolt-migrate"), PYTHONPATH=str(ROOT))
        for command in (["bot.accounts.cli", "migrate"], ["bot.accounts.cli", "seed"],
                        ["handoff", "migrate"], ["handoff", "seed"]):
            result = subprocess.run([PYTHON, "-m", *command], cwd=ROOT, env=env, capture_output=True, text=True)
            if result.returncode != 0:
                raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")

    def ready(self) -> bool:
        token = get_settings().rasa_api_token
        checks = [f"http://127.0.0.1:{port}/health" for port in self.ports.handoff]
        checks += [f"http://127.0.0.1:{port}/health" for port in self.ports.actions]
        checks += [f"{self.rasa_url(i)}/status?token={token}" for i in range(len(self.ports.rasa))]
        checks += [f"{self.public_url}/health", f"http://127.0.0.1:{self.ports.actions_balancer}/health"]
        return all(answers(url) for url in checks)


def _tail(path: Path, position: int) -> tuple[List[str], int]:
    try:
        with path.open("rb") as handle:
            handle.seek(position)
            data = handle.read()
    except FileNotFoundError:
        return [], position
    return data.decode("utf-8", "replace").splitlines(), position + len(data)


def run(cluster: Cluster, out=sys.stdout) -> int:
    stopping = False
    asked_at = 0.0

    def stop(*_: object) -> None:
        nonlocal stopping, asked_at
        if not stopping:
            asked_at = time.monotonic()
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    ensure_packages(out)
    busy = [port for port in cluster.ports.all() if port_in_use(port)]
    if busy:
        print(f"Ports in use: {', '.join(map(str, busy))} (is `make run` or another cluster up? "
              "`--port-base` moves the cluster)", file=sys.stderr)
        return 1
    if not cluster.model.exists():
        print(f"No trained model at {cluster.model}: run `make train`", file=sys.stderr)
        return 1
    started = time.monotonic()
    cluster.prepare()
    log_position = (cluster.log_dir / "supervisord.log").stat().st_size \
        if (cluster.log_dir / "supervisord.log").exists() else 0
    supervisor = subprocess.Popen(["supervisord", "-c", str(cluster.supervisor_conf)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    print(f"PostgreSQL (:{cluster.ports.postgres}), Redis (:{cluster.ports.redis}) and HAProxy under "
          f"supervisor; logs in {cluster.log_dir} …", file=out, flush=True)
    code = 0
    try:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not (cluster.supervisor_conf.parent / "supervisor.sock").exists():
            if supervisor.poll() is not None:
                raise SystemExit(f"supervisord exited: see {cluster.log_dir / 'supervisord.log'}")
            time.sleep(0.1)
        cluster.wait_for_postgres(deadline)
        cluster.migrate()
        cluster.ctl("start", "bolt:*")
        print("Two Rasa processes, two action servers and two live-agent instances starting …",
              file=out, flush=True)
        while not stopping and not cluster.ready():
            if time.monotonic() > deadline:
                raise SystemExit(f"not ready after {READY_TIMEOUT_SECONDS} s: see {cluster.log_dir}")
            if supervisor.poll() is not None:
                raise SystemExit("supervisord exited")
            time.sleep(1)
        if not stopping:
            p = cluster.ports
            log_position = (cluster.log_dir / "supervisord.log").stat().st_size
            print(
                f"Ready in {time.monotonic() - started:.0f} s.\n"
                f"  Help-center page with the chat widget: http://localhost:{p.balancer}/\n"
                f"  Agent console:                         http://localhost:{p.balancer}/agent\n"
                f"  Rasa REST channel:                     http://localhost:{p.rasa[0]}/webhooks/rest/webhook"
                f" (and :{p.rasa[1]})\n"
                f"  Live-agent instances :{p.handoff[0]}, :{p.handoff[1]}; action servers :{p.actions[0]}, "
                f":{p.actions[1]}\n"
                "A crashed process is started again by supervisor. Press Ctrl-C to stop.",
                file=out, flush=True,
            )
        while not stopping:
            if supervisor.poll() is not None:
                print("supervisord exited unexpectedly", file=sys.stderr)
                code = 1
                break
            lines, log_position = _tail(cluster.log_dir / "supervisord.log", log_position)
            for line in lines:
                if " exited: " in line or "entered RUNNING" in line:
                    print(line.split(" ", 2)[-1], file=out, flush=True)
            time.sleep(0.5)
    except SystemExit as error:
        print(error, file=sys.stderr)
        code = 1
    finally:
        began = asked_at or time.monotonic()
        print(f"Stopping … ({time.monotonic() - began:.1f} s after the signal)", file=out, flush=True)
        stop_supervisor(cluster, supervisor)
        print(f"Stopped in {time.monotonic() - began:.1f} s.", file=out, flush=True)
    return code


def children_of(pid: int) -> List[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def stop_supervisor(cluster: Cluster, supervisor: subprocess.Popen) -> None:
    """TERM to supervisord (it stops the services, then the infrastructure); KILL what is left."""
    # Each program is a child of supervisord and leads its own process group.
    pids = children_of(supervisor.pid) if supervisor.poll() is None else []
    if supervisor.poll() is None:
        supervisor.send_signal(signal.SIGTERM)
    try:
        supervisor.wait(timeout=STOP_DEADLINE_SECONDS)
    except subprocess.TimeoutExpired:
        supervisor.kill()
        supervisor.wait()
    for pid in pids:  # each program is its own process group under supervisor
        if pid:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def status(cluster: Cluster, out=sys.stdout) -> int:
    """Each program's pid and resident memory (its whole process tree), and who holds how many
    PostgreSQL connections: the figures of docs/scaling.md."""
    print(f"{'program':<12} {'pid':>7} {'RSS MB':>8}", file=out)
    total = 0.0
    for name in ["postgres", "redis", "haproxy", *cluster.programs()]:
        pid = cluster.pid(name)
        rss = tree_rss_mb(pid) if pid else 0.0
        total += rss
        print(f"{name:<12} {pid:>7} {rss:>8.0f}", file=out)
    print(f"{'all':<12} {'':>7} {total:>8.0f}", file=out)
    from sqlalchemy import create_engine, text

    engine = create_engine(cluster.database_url("bolt-status"), future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT application_name, count(*) FROM pg_stat_activity "
                "WHERE datname = 'bolt' GROUP BY 1 ORDER BY 1")).all()
            limit = connection.execute(text("SHOW max_connections")).scalar()
    finally:
        engine.dispose()
    print(f"\nPostgreSQL connections (max_connections {limit}):", file=out)
    for application, count in rows:
        print(f"  {application or '(none)':<20} {count}", file=out)
    return 0


def tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and its descendants, in MB (from /proc)."""
    children: Dict[int, List[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        stack.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="run", choices=("run", "status"))
    parser.add_argument("--port-base", type=int, help="move every port to base + offset (see the table)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "cluster")
    args = parser.parse_args(argv)
    try:
        get_settings()
    except InsecureSettings as error:
        print(f"Refusing to start: {error}", file=sys.stderr)
        return 2
    ports = Ports.from_base(args.port_base) if args.port_base else Ports.from_settings()
    cluster = Cluster(data_dir=args.data_dir.resolve(), ports=ports)
    if args.command == "status":
        return status(cluster)
    return run(cluster)


if __name__ == "__main__":
    sys.exit(main())
