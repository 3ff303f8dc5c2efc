#!/usr/bin/env python3
"""Throwaway redis-server for every test runner (cargo, pytest, node --test, C).

    redis_server.py start [--port N] [--dir DIR] [--tls] [-- extra redis-server args]
        Starts redis-server on 127.0.0.1 (a free port unless --port), with
        --save '' --appendonly no, waits until it answers PING, and prints one JSON
        line: {"url": ..., "host": ..., "port": ..., "pid": ..., "pidfile": ..., "dir": ...}.
        --tls: the port speaks TLS only (url rediss://…). The harness makes a CA, a server
        certificate for 127.0.0.1 (not for "localhost", to test hostname checks), a client
        certificate, and a second CA nobody trusts, with openssl; the JSON line adds their
        paths: ca, cert, key (the client's), other_ca. Clients need no certificate unless
        extra args say --tls-auth-clients yes.
    redis_server.py cluster [--replicas N] [--tls] [-- extra redis-server args]
        Starts 3 primaries (+ N replicas each, default 1) with cluster-enabled yes on free
        loopback ports, joins them with `redis-cli --cluster create`, waits until the
        cluster is ok, and prints one JSON line: {"url": seed url, "nodes": [urls],
        "ports": [...], "pidfiles": [...], "dir": ...}. Stop each node by its pidfile.
    redis_server.py sentinel [--replicas N] [--sentinels M] [--tls] [-- extra redis-server args]
        Starts a primary and N replicas (default 2) on free loopback ports, then M
        sentinels (default 3; `redis-server sentinel.conf --sentinel`) monitoring the
        primary as service "mymaster" with quorum 2, down-after 1000 ms and failover
        timeout 5000 ms; waits until the replicas are in sync and every sentinel knows
        the replicas and the other sentinels; prints one JSON line: {"service": ...,
        "primary": port, "replicas": [ports], "sentinels": [ports], "pidfiles": [...],
        "dir": ...}. Stop each process by its pidfile.
        --tls: every port speaks TLS only. The data nodes use the certificates of `start
        --tls` (replication over TLS); the sentinels have their own CA and ask clients for
        a certificate signed by it (mutual TLS; they talk to each other and to the data
        nodes over TLS too). The JSON line adds the data nodes' ca, cert, key, other_ca
        and the sentinels' sentinel_ca, sentinel_cert, sentinel_key.
    redis_server.py stop PIDFILE
        Stops the server started with that pid file (SIGTERM, then SIGKILL), by PID.

The binary is $REDIS_SERVER or `redis-server` on PATH. Only loopback is ever used.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


def free_port(cluster: bool = False) -> int:
    """A free loopback port. For a cluster node also its bus port (port + 10000, which
    must exist, so port <= 55535, and be free), else the node cannot start."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if not cluster:
            return port
        if port > 55535:
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as b:
                b.bind((HOST, port + 10000))
        except OSError:
            continue
        return port
    sys.exit("redis_server.py: no free port pair (port, port + 10000) for a cluster node")


def log_tail(path: str, lines: int = 5) -> str:
    try:
        with open(path) as f:
            return "".join(f.readlines()[-lines:]).strip()
    except OSError:
        return ""


def make_certs(workdir: str) -> dict:
    """A CA, a server cert for IP 127.0.0.1, a client cert, and an untrusted CA (openssl);
    made once per directory (the nodes of a TLS cluster share them)."""
    os.makedirs(workdir, exist_ok=True)
    path = lambda name: os.path.join(workdir, name)  # noqa: E731
    certs = {"ca": path("ca.crt"), "cert": path("client.crt"), "key": path("client.key"),
             "other_ca": path("other_ca.crt"), "server_cert": path("server.crt"),
             "server_key": path("server.key")}
    if all(os.path.exists(f) for f in certs.values()):
        return certs

    def ssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, cwd=workdir,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    for ca in ("ca", "other_ca"):
        ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            f"/CN=redbridge test {ca}", "-keyout", f"{ca}.key", "-out", f"{ca}.crt")
    with open(os.path.join(workdir, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    with open(os.path.join(workdir, "client.ext"), "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    for who in ("server", "client"):
        ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN=redbridge test {who}",
            "-keyout", f"{who}.key", "-out", f"{who}.csr")
        ssl("x509", "-req", "-in", f"{who}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", f"{who}.ext", "-out", f"{who}.crt")
    return certs


def answers_ping(port: int, certs: "dict | None" = None) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as raw:
            s = raw
            if certs:
                import ssl
                ctx = ssl.create_default_context(cafile=certs["ca"])
                ctx.load_cert_chain(certs["cert"], certs["key"])
                s = ctx.wrap_socket(raw, server_hostname=HOST)
            s.sendall(b"PING\r\n")
            reply = s.recv(64)
            # A server started with --requirepass answers, but refuses PING: it is up.
            return reply.startswith(b"+PONG") or reply.startswith(b"-NOAUTH")
    except OSError:
        return False


def start(argv):
    port = None
    workdir = None
    extra = []
    tls = False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--tls":
            tls = True
            i += 1
        elif a == "--port":
            port = int(argv[i + 1])
            i += 2
        elif a == "--dir":
            workdir = argv[i + 1]
            i += 2
        elif a == "--":
            extra = argv[i + 1:]
            break
        else:
            sys.exit(f"redis_server.py: unknown argument {a!r}")
    binary = os.environ.get("REDIS_SERVER") or shutil.which("redis-server")
    if not binary:
        sys.exit(
            "redis_server.py: redis-server not found; install it (apt-get install redis-server) "
            "or set REDIS_SERVER=/path/to/redis-server"
        )
    workdir = workdir or tempfile.mkdtemp(prefix="redbridge-redis-")
    os.makedirs(workdir, exist_ok=True)
    certs = make_certs(workdir) if tls else None
    attempts = 1 if port else 5
    clustered = "--cluster-enabled" in extra
    failures = []
    for _ in range(attempts):
        p = port or free_port(clustered)
        pidfile = os.path.join(workdir, f"redis-{p}.pid")
        logfile = os.path.join(workdir, f"redis-{p}.log")
        listen = ["--port", str(p)]
        if certs:
            listen = ["--port", "0", "--tls-port", str(p), "--tls-cert-file", certs["server_cert"],
                      "--tls-key-file", certs["server_key"], "--tls-ca-cert-file", certs["ca"],
                      "--tls-auth-clients", "no"]
        # A cluster node's config file is named after its port: an attempt that failed
        # leaves nothing behind for the next one to trip over.
        node_conf = ["--cluster-config-file", f"nodes-{p}.conf"] if clustered else []
        args = [
            binary, *listen, "--bind", HOST, "--save", "", "--appendonly", "no",
            "--dir", workdir, "--daemonize", "no", "--logfile", logfile,
            "--enable-debug-command", "local", *extra, *node_conf,
        ]
        errfile = os.path.join(workdir, f"redis-{p}.err")  # what it says before its log opens
        with open(errfile, "w") as err:
            proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=err, stderr=err, start_new_session=True,
            )
        with open(pidfile, "w") as f:
            f.write(str(proc.pid))
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            if answers_ping(p, certs):
                info = {
                    "url": f"{'rediss' if certs else 'redis'}://{HOST}:{p}", "host": HOST, "port": p,
                    "pid": proc.pid, "pidfile": pidfile, "dir": workdir,
                }
                if certs:
                    info.update({k: v for k, v in certs.items() if not k.startswith("server")})
                print(json.dumps(info), flush=True)
                return
            time.sleep(0.02)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        failures.append(f"port {p}: {log_tail(logfile)} {log_tail(errfile)}")
        try:
            os.unlink(pidfile)
        except OSError:
            pass
    sys.exit("redis_server.py: redis-server did not start:\n" + "\n".join(failures))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (not reaped by a container's PID 1) counts as stopped
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


def stop(argv):
    if len(argv) != 1:
        sys.exit("usage: redis_server.py stop PIDFILE")
    pidfile = argv[0]
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        if not alive(pid):
            break
        time.sleep(0.02)
    else:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.unlink(pidfile)
    except OSError:
        pass
    workdir = os.path.dirname(os.path.abspath(pidfile))
    if os.path.basename(workdir).startswith("redbridge-redis-") and not any(
        n.endswith(".pid") for n in os.listdir(workdir)
    ):
        shutil.rmtree(workdir, ignore_errors=True)


def cluster(argv):
    replicas = 1
    extra = []
    tls = False
    i = 0
    while i < len(argv):
        if argv[i] == "--tls":
            tls = True
            i += 1
        elif argv[i] == "--replicas":
            replicas = int(argv[i + 1])
            i += 2
        elif argv[i] == "--":
            extra = argv[i + 1:]
            break
        else:
            sys.exit(f"redis_server.py: unknown argument {argv[i]!r}")
    workdir = tempfile.mkdtemp(prefix="redbridge-redis-")
    nodes = []
    try:
        for _ in range(3 * (1 + replicas)):
            tls_args = ["--tls"] if tls else []
            tls_extra = ["--tls-cluster", "yes", "--tls-replication", "yes"] if tls else []
            out = subprocess.run(
                [sys.executable, __file__, "start", "--dir", workdir, *tls_args, "--", *tls_extra,
                 "--cluster-enabled", "yes", "--cluster-node-timeout", "2000", *extra],
                check=True, capture_output=True, text=True,
            ).stdout
            nodes.append(json.loads(out))
        addrs = [f"{HOST}:{n['port']}" for n in nodes]
        cli_bin = shutil.which("redis-cli") or "redis-cli"
        cli = [cli_bin] + (["--tls", "--cacert", nodes[0]["ca"]] if tls else [])
        subprocess.run([*cli, "--cluster", "create", *addrs, "--cluster-replicas", str(replicas), "--cluster-yes"],
                       check=True, capture_output=True, text=True, timeout=60)
        # Ready when every node says the cluster is ok and every replica is attached and
        # in sync (a replica that never synced cannot take over when its primary dies).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ok, in_sync = 0, 0
            for n in nodes:
                info = subprocess.run([*cli, "-h", HOST, "-p", str(n["port"]), "INFO", "replication"],
                                      capture_output=True, text=True).stdout
                state = subprocess.run([*cli, "-h", HOST, "-p", str(n["port"]), "CLUSTER", "INFO"],
                                       capture_output=True, text=True).stdout
                ok += "cluster_state:ok" in state
                in_sync += "role:slave" in info and "master_link_status:up" in info and "master_sync_in_progress:0" in info
            if ok == len(nodes) and in_sync == 3 * replicas:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("the cluster did not reach cluster_state:ok with replicas in sync in 30 s")
    except Exception as e:  # stop what was started, then fail
        for n in nodes:
            stop([n["pidfile"]])
        why = getattr(e, "stderr", None) or ""
        sys.exit(f"redis_server.py: cluster did not start: {e}\n{why}".rstrip())
    out = {
        "url": nodes[0]["url"], "nodes": [n["url"] for n in nodes], "ports": [n["port"] for n in nodes],
        "pidfiles": [n["pidfile"] for n in nodes], "dir": workdir,
    }
    if tls:
        out.update({k: nodes[0][k] for k in ("ca", "cert", "key", "other_ca")})
    print(json.dumps(out), flush=True)


def sentinel(argv):
    replicas, sentinels, extra, tls = 2, 3, [], False
    i = 0
    while i < len(argv):
        if argv[i] == "--tls":
            tls = True
            i += 1
        elif argv[i] == "--replicas":
            replicas = int(argv[i + 1])
            i += 2
        elif argv[i] == "--sentinels":
            sentinels = int(argv[i + 1])
            i += 2
        elif argv[i] == "--":
            extra = argv[i + 1:]
            break
        else:
            sys.exit(f"redis_server.py: unknown argument {argv[i]!r}")
    binary = os.environ.get("REDIS_SERVER") or shutil.which("redis-server") or "redis-server"
    cli = shutil.which("redis-cli") or "redis-cli"
    workdir = tempfile.mkdtemp(prefix="redbridge-redis-")
    service = "mymaster"
    started = []  # pidfiles, to stop on failure
    certs = scerts = None
    tls_conf = ""
    if tls:
        certs = make_certs(workdir)
        scerts = make_certs(os.path.join(workdir, "sentinel-tls"))
        # The sentinels trust their own CA (each other, clients) and the data nodes'.
        trust = os.path.join(workdir, "sentinel-tls", "trust.crt")
        with open(trust, "w") as out:
            for ca in (scerts["ca"], certs["ca"]):
                with open(ca) as f:
                    out.write(f.read())
        tls_conf = (f"tls-cert-file {scerts['server_cert']}\ntls-key-file {scerts['server_key']}\n"
                    f"tls-ca-cert-file {trust}\ntls-replication yes\ntls-auth-clients yes\n")
    node_tls = ["--tls"] if tls else []

    def data_node(*args):
        more = ["--tls-replication", "yes"] if tls else []
        out = subprocess.run([sys.executable, __file__, "start", "--dir", workdir, *node_tls, "--", *args, *more,
                              *extra], check=True, capture_output=True, text=True).stdout
        info = json.loads(out)
        started.append(info["pidfile"])
        return info

    def ask(port, *args, sentinel=False):
        how = []
        if tls:
            c = scerts if sentinel else certs
            how = ["--tls", "--cacert", c["ca"], "--cert", c["cert"], "--key", c["key"]]
        return subprocess.run([cli, "-h", HOST, "-p", str(port), *how, *args], capture_output=True,
                              text=True).stdout

    try:
        primary = data_node()
        reps = [data_node("--replicaof", HOST, str(primary["port"])) for _ in range(replicas)]
        sents = []
        for _ in range(sentinels):
            for _attempt in range(5):
                p = free_port()
                conf = os.path.join(workdir, f"sentinel-{p}.conf")
                listen = f"port 0\ntls-port {p}\n{tls_conf}" if tls else f"port {p}\n"
                with open(conf, "w") as f:
                    f.write(f"{listen}bind {HOST}\ndaemonize no\ndir {workdir}\n"
                            f"logfile {os.path.join(workdir, f'sentinel-{p}.log')}\n"
                            f"sentinel monitor {service} {HOST} {primary['port']} 2\n"
                            f"sentinel down-after-milliseconds {service} 1000\n"
                            f"sentinel failover-timeout {service} 3000\n"
                            f"sentinel parallel-syncs {service} 1\n")
                pidfile = os.path.join(workdir, f"sentinel-{p}.pid")
                proc = subprocess.Popen([binary, conf, "--sentinel"], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
                with open(pidfile, "w") as f:
                    f.write(str(proc.pid))
                deadline = time.monotonic() + START_TIMEOUT
                while time.monotonic() < deadline and proc.poll() is None and not answers_ping(p, scerts):
                    time.sleep(0.02)
                if proc.poll() is None and answers_ping(p, scerts):
                    started.append(pidfile)
                    sents.append({"port": p, "pid": proc.pid, "pidfile": pidfile})
                    break
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                os.unlink(pidfile)
            else:
                raise RuntimeError("a sentinel did not start")
        # Ready when the replicas are in sync and every sentinel sees them all and the
        # other sentinels (sentinels find each other through hello messages, every 2 s).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            synced = sum("master_link_status:up" in ask(r["port"], "INFO", "replication") for r in reps)
            known = 0
            for s in sents:
                lines = (ask(s["port"], "SENTINEL", "REPLICAS", service, sentinel=True)
                         + ask(s["port"], "SENTINEL", "SENTINELS", service, sentinel=True)).splitlines()
                known += lines.count("name") == replicas + sentinels - 1  # a "name" field per entry
            if synced == replicas and known == sentinels:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("sentinels did not see every replica and each other in 30 s")
    except Exception as e:
        for pf in started:
            stop([pf])
        sys.exit(f"redis_server.py: sentinel topology did not start: {e}")
    out = {
        "service": service, "primary": primary["port"], "replicas": [r["port"] for r in reps],
        "sentinels": [s["port"] for s in sents], "pidfiles": started, "dir": workdir,
    }
    if tls:
        out.update({k: certs[k] for k in ("ca", "cert", "key", "other_ca")})
        out.update({f"sentinel_{k}": scerts[k] for k in ("ca", "cert", "key")})
    print(json.dumps(out), flush=True)


def main():
    commands = {"start": start, "stop": stop, "cluster": cluster, "sentinel": sentinel}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
