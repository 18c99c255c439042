#!/usr/bin/env python3
"""Exercises every file in deploy/ and scripts/install.sh as far as a machine
without systemd as PID 1, a Docker engine or a Kubernetes cluster allows.

- scripts/install.sh installs into a temporary prefix; the man page must
  render without warnings and the bash completion must complete.
- deploy/systemd: `systemd-analyze verify`, then each service's ExecStartPre
  and ExecStart run the way systemd would start them: as an unprivileged user,
  with the unit's UMask, the state directory and the master key as a
  credential in $CREDENTIALS_DIRECTORY. The daemon must answer /healthz and
  /metrics and exit 0 on its KillSignal.
- deploy/docker/Dockerfile: its stages are checked, then the runtime stage's
  ENV, USER, ENTRYPOINT, CMD and HEALTHCHECK run against the installed binary
  with the volume and the key where the Dockerfile's comments put them.
- deploy/kubernetes: `kubectl kustomize` renders it; the Deployment is
  checked, then its init container and container run as its securityContext
  says, with the volumes laid out as the kubelet would (the Secret file
  group-readable through fsGroup). Probes and the Prometheus annotations are
  fetched, and the exec hook update-k8s-secret.sh delivers a real rotation
  (against `rotor sandbox`) to a stand-in for the Kubernetes API server.
- deploy/kubernetes/postgres: renders; three replicas on different hosts, no
  volume claim, the database URL and password from a Secret, the pod's name
  as the node. Its init container runs twice and its container three times
  against a real PostgreSQL server (the one scripts/soak starts), as three
  pods would; each answers its probes, they name themselves in `rotor
  status`, and each exits 0 on SIGTERM.

Run from the repository root after the debug build: scripts/check-deploy.py
"""

import base64
import http.server
import importlib.machinery
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IS_ROOT = os.geteuid() == 0


def fail(message):
    print(f"check-deploy: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def ok(message):
    print(f"check-deploy: ok: {message}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def world_traversable(path):
    """Makes `path` (mkdtemp makes 0700 directories) reachable by unprivileged users."""
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o755)
    return path


def http_get(url, timeout=2.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return None, ""


def wait_http(url, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, body = http_get(url)
        if status is not None:
            return status, body
        time.sleep(0.2)
    fail(f"nothing answered at {url} within {seconds:.0f} s")


class Identity:
    """Who a process runs as: a uid, a gid, supplementary groups, a umask."""

    def __init__(self, uid=None, gid=None, groups=(), umask=0o022):
        self.uid, self.gid, self.groups, self.umask = uid, gid, list(groups), umask

    def popen_arguments(self):
        arguments = {"umask": self.umask}
        if IS_ROOT and self.uid is not None:
            arguments.update(user=self.uid, group=self.gid, extra_groups=self.groups)
        return arguments

    def chown(self, path, uid=None, gid=None):
        if IS_ROOT:
            os.chown(path, self.uid if uid is None else uid, self.gid if gid is None else gid)


def run(argv, env, identity, stdin="", timeout=120, cwd=None, expect=0):
    result = subprocess.run(
        argv, input=stdin, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
        **identity.popen_arguments())
    if expect is not None and result.returncode != expect:
        fail(f"{shlex.join(argv)} exited {result.returncode}, expected {expect}:\n{result.stdout}{result.stderr}")
    return result


def start(argv, env, identity, cwd=None):
    return subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        **identity.popen_arguments())


def stop(process, stop_signal, seconds, what):
    process.send_signal(stop_signal)
    try:
        out, err = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        fail(f"{what} did not exit within {seconds} s of {signal.Signals(stop_signal).name}")
    check(process.returncode == 0, f"{what} exited {process.returncode} on {signal.Signals(stop_signal).name}:\n{err}")
    return out, err


def check_ops_endpoints(port, what):
    status, body = wait_http(f"http://127.0.0.1:{port}/healthz")
    check(status == 200, f"{what}: /healthz answered {status}: {body}")
    status, body = http_get(f"http://127.0.0.1:{port}/metrics")
    check(status == 200 and "# TYPE rotor_" in body, f"{what}: /metrics answered {status}")


def base_environment(home):
    return {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": home, "LANG": "C.UTF-8"}


def replace_paths(text, mapping):
    """Maps whole container paths (and their descendants) to host paths, in one pass."""
    names = sorted(mapping, key=len, reverse=True)
    pattern = r"(?<![\w./%-])(" + "|".join(map(re.escape, names)) + r")(?=[/\s'\"]|$)"
    return re.sub(pattern, lambda match: mapping[match.group(1)], text)


def with_listen_port(argv, port):
    """Moves `--listen HOST:PORT` to a free loopback port; returns the new argv and the old port."""
    argv = list(argv)
    index = argv.index("--listen")
    old = int(argv[index + 1].rsplit(":", 1)[1])
    argv[index + 1] = f"127.0.0.1:{port}"
    return argv, old


# scripts/install.sh ---------------------------------------------------------


def check_install(work):
    prefix = world_traversable(os.path.join(work, "prefix"))
    env = dict(os.environ, ROTOR_BUILD_CONFIGURATION="debug")
    result = subprocess.run(
        ["scripts/install.sh", prefix], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    check(result.returncode == 0, f"scripts/install.sh exited {result.returncode}:\n{result.stdout}{result.stderr}")
    for path in ["bin/rotor", "share/man/man1/rotor.1", "share/bash-completion/completions/rotor",
                 "share/zsh/site-functions/_rotor", "share/fish/vendor_completions.d/rotor.fish"]:
        check(os.path.getsize(os.path.join(prefix, path)) > 0, f"install.sh left {path} empty or missing")
    binary = os.path.join(prefix, "bin/rotor")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    check(re.fullmatch(r"\d+\.\d+\.\d+", version) is not None, f"rotor --version printed {version!r}")

    manual = os.path.join(prefix, "share/man/man1/rotor.1")
    rendered = subprocess.run(
        ["groff", "-mandoc", "-Tutf8", "-ww", "-z", manual], capture_output=True, text=True)
    check(rendered.returncode == 0 and rendered.stderr == "", f"groff warns about rotor.1: {rendered.stderr}")
    page = open(manual).read()
    for needle in ["key-command", "CREDENTIALS_DIRECTORY", "generate", "backup", '.Sh "GLOBAL OPTIONS"',
                   ".Sh ENVIRONMENT", ".Sh FILES", ".Sh EXAMPLES", "ROTOR_LOG_LEVEL", "NO_COLOR"]:
        check(needle in page, f"the man page does not mention {needle}")
    # The real exit codes, and the global options once rather than under each of the commands.
    status = page.split('.Sh "EXIT STATUS"')[-1].split(".Sh ")[0]
    for code in ["0", "1", "3", "4", "64"]:
        check(f".It {code}\n" in status, f"EXIT STATUS does not give {code}")
    check(".Ex -std" not in page, "the man page keeps the generic EXIT STATUS")
    check(page.count(".It Fl -db Ar path") == 1, "--db is described more than once in the man page")

    completion = os.path.join(prefix, "share/bash-completion/completions/rotor")
    script = f"""
        source {shlex.quote(completion)}
        function=$(complete -p rotor | sed -E 's/.* -F ([^ ]+) .*/\\1/')
        COMP_WORDS=(rotor ke); COMP_CWORD=1; COMP_LINE='rotor ke'; COMP_POINT=${{#COMP_LINE}}
        "$function" rotor ke rotor
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    completed = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    check(completed.returncode == 0 and "key" in completed.stdout.split(),
          f"bash completion of `rotor ke` gave {completed.stdout!r} {completed.stderr!r}")
    for shell, path in [("zsh", "share/zsh/site-functions/_rotor"), ("fish", "share/fish/vendor_completions.d/rotor.fish")]:
        if shutil.which(shell):
            parsed = subprocess.run([shell, "-n", os.path.join(prefix, path)], capture_output=True, text=True)
            check(parsed.returncode == 0, f"{shell} -n {path}: {parsed.stderr}")
    ok(f"scripts/install.sh: rotor {version}, man page renders cleanly, bash completes `rotor ke` to `key`")
    return binary


# deploy/systemd -------------------------------------------------------------


def parse_unit(path):
    sections, current = {}, None
    for raw in open(path):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, value = line.split("=", 1)
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def check_systemd(work, binary):
    units_dir = world_traversable(os.path.join(work, "units"))
    for name in os.listdir(os.path.join(ROOT, "deploy/systemd")):
        text = open(os.path.join(ROOT, "deploy/systemd", name)).read()
        open(os.path.join(units_dir, name), "w").write(text.replace("/usr/local/bin/rotor", binary))
    units = sorted(os.path.join(units_dir, name) for name in os.listdir(units_dir))
    verify = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True)
    check(verify.returncode == 0 and verify.stderr.strip() == "", f"systemd-analyze verify: {verify.stderr}")
    ok("deploy/systemd: systemd-analyze verify passes for " + ", ".join(sorted(os.listdir(units_dir))))

    timer = parse_unit(os.path.join(units_dir, "rotor.timer"))
    check(timer["Timer"]["Unit"] == ["rotor-once.service"], "rotor.timer must start rotor-once.service")

    for name in ["rotor-once.service", "rotor.service"]:
        service = parse_unit(os.path.join(units_dir, name))["Service"]
        for key, expected in [("DynamicUser", "yes"), ("NoNewPrivileges", "yes"), ("PrivateTmp", "yes"),
                              ("ProtectSystem", "strict"), ("UMask", "0077")]:
            check(service.get(key) == [expected], f"{name}: {key} must be {expected}")
        state = world_traversable(os.path.join(work, name, "state"))
        credentials = os.path.join(work, name, "credentials")
        os.makedirs(credentials)
        world_traversable(os.path.join(work, name))
        # A dynamic user, as systemd allocates one; the credential is its own, mode 0400.
        identity = Identity(uid=61873, gid=61873, umask=int(service["UMask"][0], 8))
        credential_name, credential_source = service["LoadCredential"][0].split(":", 1)
        check(credential_source.startswith("/etc/"), f"{name}: the credential comes from {credential_source}")
        key = os.path.join(credentials, credential_name)
        run([binary, "key", "generate", key], base_environment(work), Identity())
        os.chmod(key, 0o400)
        identity.chown(key)
        os.chmod(credentials, 0o500)
        identity.chown(credentials)
        identity.chown(state)
        mapping = {"/var/lib/rotor": state, "%d": credentials}
        env = dict(base_environment(state), CREDENTIALS_DIRECTORY=credentials, STATE_DIRECTORY=state)
        for assignment in service.get("Environment", []):
            variable, value = assignment.split("=", 1)
            env[variable] = replace_paths(value, mapping)
        cwd = replace_paths(service["WorkingDirectory"][0], mapping)
        for command in service.get("ExecStartPre", []):
            run(shlex.split(replace_paths(command, mapping)), env, identity, cwd=cwd)
        argv = shlex.split(replace_paths(service["ExecStart"][0], mapping))
        if "--once" in argv:
            run(argv, env, identity, cwd=cwd)
            ok(f"deploy/systemd/{name}: ExecStartPre and ExecStart exit 0 as a dynamic user with the credential")
        else:
            port = free_port()
            argv, _ = with_listen_port(argv, port)
            daemon = start(argv, env, identity, cwd=cwd)
            check_ops_endpoints(port, name)
            stop_signal = signal.Signals[service["KillSignal"][0]]
            timeout = int(service["TimeoutStopSec"][0])
            stop(daemon, stop_signal, timeout, name)
            ok(f"deploy/systemd/{name}: serves /healthz and /metrics, exits 0 on {stop_signal.name}")
        database = os.path.join(state, "rotor.db")
        check(os.stat(database).st_mode & 0o077 == 0, f"{name}: the database is readable by others")
        if IS_ROOT:
            check(os.stat(database).st_uid == identity.uid, f"{name}: the database is not the service user's")


# deploy/docker ----------------------------------------------------------------


def parse_dockerfile(path):
    """[(instruction, arguments)] with continuation lines joined."""
    instructions, pending = [], ""
    for raw in open(path):
        line = raw.rstrip("\n")
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.lstrip().startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        words = (pending + line).strip().split(None, 1)
        pending = ""
        instructions.append((words[0].upper(), words[1] if len(words) > 1 else ""))
    return instructions


def exec_form(arguments):
    return json.loads(arguments) if arguments.startswith("[") else ["/bin/sh", "-c", arguments]


def check_docker(work, binary):
    instructions = parse_dockerfile(os.path.join(ROOT, "deploy/docker/Dockerfile"))
    stages, stage = [], None
    for instruction, arguments in instructions:
        if instruction == "FROM":
            stage = {"from": arguments, "lines": []}
            stages.append(stage)
        else:
            stage["lines"].append((instruction, arguments))
    check(len(stages) >= 2, "the Dockerfile must have a build stage and a runtime stage")
    check(stages[0]["from"].startswith("swift:6") and " AS build" in stages[0]["from"],
          "the build stage must be a Swift 6 image named build")
    check(any(i == "RUN" and "scripts/install.sh" in a for i, a in stages[0]["lines"]),
          "the build stage must build with scripts/install.sh")
    runtime = stages[-1]
    check(not runtime["from"].startswith("swift:"), "the runtime stage must be a slim image, not the toolchain")
    settings = {}
    env = {}
    for instruction, arguments in runtime["lines"]:
        if instruction == "ENV":
            for pair in shlex.split(arguments):
                key, value = pair.split("=", 1)
                env[key] = value
        else:
            settings.setdefault(instruction, []).append(arguments)
    check(any("--from=build" in a for a in settings["COPY"]), "the runtime stage must copy from the build stage")
    user = settings["USER"][-1]
    uid, gid = (int(part) for part in user.split(":"))
    check(uid != 0, "the image must not run as root")
    volumes = json.loads(settings["VOLUME"][0])
    check("/var/lib/rotor" in volumes, "the database directory must be a volume")
    check(env["ROTOR_DB"].startswith("/var/lib/rotor/"), "ROTOR_DB must live on the volume")
    entrypoint = exec_form(settings["ENTRYPOINT"][0])
    command = exec_form(settings["CMD"][0])
    healthcheck = settings["HEALTHCHECK"][0]
    health = exec_form(healthcheck[healthcheck.index("CMD") + 3:].strip())
    stop_signal = signal.Signals[settings["STOPSIGNAL"][0]]

    base = world_traversable(os.path.join(work, "docker"))
    volume = os.path.join(base, "volume")
    secrets = world_traversable(os.path.join(base, "secrets"))
    os.makedirs(volume, mode=0o700)
    identity = Identity(uid=uid, gid=gid)
    identity.chown(volume)
    mapping = {"/var/lib/rotor": volume, "/run/secrets": secrets}
    key = replace_paths(env["ROTOR_KEY_FILE"], mapping)
    # As the Dockerfile's comments say: a generated key, chowned to the image's user.
    run([binary, "key", "generate", key], base_environment(base), Identity())
    identity.chown(key)
    environment = dict(base_environment(volume), **{k: replace_paths(v, mapping) for k, v in env.items()})
    image_binary = [binary if word == "rotor" else word for word in entrypoint]
    run(image_binary + ["init"], environment, identity, cwd=volume)
    port = free_port()
    argv, image_port = with_listen_port(image_binary + command, port)
    check(str(image_port) in settings["EXPOSE"][0].split(), "the image must EXPOSE its --listen port")
    container = start(argv, environment, identity, cwd=volume)
    check_ops_endpoints(port, "the image's CMD")
    probe = [word.replace(f":{image_port}/", f":{port}/") for word in health]
    result = subprocess.run(probe, capture_output=True, text=True, timeout=10)
    check(result.returncode == 0, f"the HEALTHCHECK command failed: {result.stderr}")
    stop(container, stop_signal, 120, "the image's CMD")
    ok(f"deploy/docker/Dockerfile: stages check; init, CMD and HEALTHCHECK run as uid {uid}; exits 0 on {stop_signal.name}")


# deploy/kubernetes ------------------------------------------------------------


class FakeSecretsAPI(http.server.BaseHTTPRequestHandler):
    """The one call update-k8s-secret.sh makes: a merge patch of a Secret."""

    token = ""
    secrets = {}

    def do_PATCH(self):
        match = re.fullmatch(r"/api/v1/namespaces/([^/]+)/secrets/([^/]+)", self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Authorization") != f"Bearer {self.token}":
            return self.answer(401, {"kind": "Status", "code": 401})
        if self.headers.get("Content-Type") != "application/merge-patch+json" or not match:
            return self.answer(400, {"kind": "Status", "code": 400})
        key = f"{match.group(1)}/{match.group(2)}"
        if key not in self.secrets:
            return self.answer(404, {"kind": "Status", "code": 404})
        patch = json.loads(body)
        self.secrets[key] = patch
        self.answer(200, {"kind": "Secret", "metadata": {"name": match.group(2)}})

    def answer(self, status, document):
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *arguments):
        pass


def start_sandbox(binary, work):
    sandbox = subprocess.Popen(
        [binary, "sandbox", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=work)
    fields = {}
    for line in sandbox.stdout:
        if match := re.search(r"listening on (\S+)", line):
            fields["url"] = match.group(1)
        for label in ["application id", "client id", "client secret"]:
            if match := re.match(rf"\s+{label}\s+(\S+)$", line):
                fields.setdefault(label, match.group(1))
        if line.startswith("State:"):
            break
    check({"url", "application id", "client id", "client secret"} <= fields.keys(), "rotor sandbox did not start")
    return sandbox, fields


def kustomize(path):
    """The objects `kubectl kustomize` renders from `path`, by kind."""
    rendered = subprocess.run(["kubectl", "kustomize", os.path.join(ROOT, path)], capture_output=True, text=True)
    check(rendered.returncode == 0, f"kubectl kustomize {path}: {rendered.stderr}")
    by_kind = {}
    for document in yaml.safe_load_all(rendered.stdout):
        if document:
            by_kind.setdefault(document["kind"], []).append(document)
    return by_kind


def check_kubernetes(work, binary):
    if not shutil.which("kubectl"):
        print("check-deploy: SKIPPED: deploy/kubernetes needs kubectl (for `kubectl kustomize`), which is not installed")
        return
    by_kind = kustomize("deploy/kubernetes")
    deployments = by_kind["Deployment"]
    check(len(deployments) == 1, "one Deployment")
    deployment = deployments[0]
    check(deployment["spec"]["replicas"] == 1, "the Deployment must run one replica")
    check(deployment["spec"]["strategy"]["type"] == "Recreate", "the Deployment must use the Recreate strategy")
    pod = deployment["spec"]["template"]
    spec = pod["spec"]
    context = spec["securityContext"]
    check(context["runAsNonRoot"] and context["runAsUser"] != 0, "the pod must run as a non-root user")
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    claims = {claim["metadata"]["name"] for claim in by_kind["PersistentVolumeClaim"]}
    config_maps = {config["metadata"]["name"]: config for config in by_kind["ConfigMap"]}
    check(any(v.get("persistentVolumeClaim", {}).get("claimName") in claims for v in volumes.values()),
          "the database must be on a PersistentVolumeClaim defined here")
    check(any("secret" in v for v in volumes.values()), "the master key must come from a Secret")
    container = spec["containers"][0]
    port_by_name = {port["name"]: port["containerPort"] for port in container["ports"]}
    listen_port = int(container["args"][container["args"].index("--listen") + 1].rsplit(":", 1)[1])
    annotations = pod["metadata"]["annotations"]
    check(annotations["prometheus.io/scrape"] == "true", "prometheus.io/scrape must be true")
    check(int(annotations["prometheus.io/port"]) == listen_port, "prometheus.io/port must be the --listen port")
    probes = [container[name]["httpGet"] for name in ["readinessProbe", "livenessProbe"]]
    for probe in probes:
        check(port_by_name.get(probe["port"], probe["port"]) == listen_port, "the probes must use the --listen port")
        check(probe["path"] == "/healthz", "the probes must ask /healthz")
    role = by_kind["Role"][0]
    check(role["rules"][0].get("resourceNames"), "the Role must name the Secrets it may patch")

    # The volumes, laid out as the kubelet would for this pod.
    base = world_traversable(os.path.join(work, "kubernetes"))
    uid, gid, fs_group = context["runAsUser"], context["runAsGroup"], context["fsGroup"]
    identity = Identity(uid=uid, gid=gid, groups=[fs_group])
    mounts, key_mount = {}, None
    for name, volume in volumes.items():
        path = os.path.join(base, name)
        os.makedirs(path)
        if "persistentVolumeClaim" in volume or "emptyDir" in volume:
            os.chmod(path, 0o2770)
            identity.chown(path, uid=0, gid=fs_group)
        elif "secret" in volume:
            key_mount = path
            os.chmod(path, 0o755)
        elif "configMap" in volume:
            data = config_maps[volume["configMap"]["name"]]["data"]
            for file_name, text in data.items():
                open(os.path.join(path, file_name), "w").write(text)
                os.chmod(os.path.join(path, file_name), volume["configMap"]["defaultMode"])
            os.chmod(path, 0o755)
        mounts[name] = path
    key = os.path.join(key_mount, "rotor.key")
    run([binary, "key", "generate", key], base_environment(base), Identity())
    # fsGroup makes Secret files group-readable: 0440, group fsGroup.
    os.chmod(key, volumes["master-key"]["secret"]["defaultMode"] | 0o440)
    identity.chown(key, uid=0, gid=fs_group)

    def container_environment(spec_container):
        mapping = {mount["mountPath"]: mounts[mount["name"]] for mount in spec_container["volumeMounts"]}
        env = base_environment(mounts["tmp"])
        for variable in spec_container["env"]:
            env[variable["name"]] = replace_paths(variable["value"], mapping)
        env["TMPDIR"] = mapping["/tmp"]
        return env, mapping

    for init in spec["initContainers"]:
        env, _ = container_environment(init)
        run([binary] + init["args"], env, identity)
        again = run([binary] + init["args"], env, identity)
        check("nothing changed" in again.stdout, "the init container must be a no-op on a restart")
    env, mapping = container_environment(container)
    port = free_port()
    argv, _ = with_listen_port([binary] + container["args"], port)
    daemon = start(argv, env, identity)
    for probe in probes:
        status, body = wait_http(f"http://127.0.0.1:{port}{probe['path']}")
        check(status == 200, f"the probe {probe['path']} answered {status}: {body}")
    status, body = http_get(f"http://127.0.0.1:{port}{annotations['prometheus.io/path']}")
    check(status == 200 and "# TYPE rotor_" in body, "the scrape path must serve Prometheus text")

    # The exec hook, through a real rotation against the sandbox.
    sandbox, vendor = start_sandbox(binary, base)
    api_port = free_port()
    FakeSecretsAPI.token = "service-account-token-for-the-check"
    FakeSecretsAPI.secrets = {"rotor-check/billing-api-credentials": None}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", api_port), FakeSecretsAPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    account = world_traversable(os.path.join(base, "serviceaccount"))
    for name, text in [("namespace", "rotor-check"), ("token", FakeSecretsAPI.token), ("ca.crt", "")]:
        open(os.path.join(account, name), "w").write(text)
    hook = os.path.join(mapping["/etc/rotor/hooks"], "update-k8s-secret.sh")
    try:
        run([binary, "app", "add", "billing", "--application-id", vendor["application id"],
             "--client-id", vendor["client id"], "--client-secret-stdin", "--api-url", vendor["url"]],
            env, identity, stdin=vendor["client secret"] + "\n")
        target = (f"ROTOR_K8S_API=http://127.0.0.1:{api_port} ROTOR_K8S_SERVICEACCOUNT_DIR={account} "
                  f"{hook} billing-api-credentials")
        run([binary, "target", "add", "billing", "--env", "--exec", target], env, identity)
        run([binary, "rotate", "billing"], env, identity)
        shown = json.loads(run([binary, "secret", "show", "billing", "--json"], env, identity).stdout)
    finally:
        sandbox.terminate()
        sandbox.wait(10)
        server.shutdown()
    patch = FakeSecretsAPI.secrets["rotor-check/billing-api-credentials"]
    check(patch is not None, "the hook did not patch the Secret")
    data = {k: base64.b64decode(v).decode() for k, v in patch["data"].items()}
    check(data["VITALERA_CLIENT_SECRET"] == shown["client_secret"], "the Secret holds another client secret")
    check(data["VITALERA_CLIENT_ID"] == shown["client_id"], "the Secret holds another client id")
    check(data["VITALERA_APPLICATION_ID"] == vendor["application id"], "the Secret holds another application id")
    check(data["VITALERA_CLIENT_SECRET"] != vendor["client secret"], "the Secret still holds the old secret")
    check(patch["metadata"]["annotations"]["rotor/version"] == "2", "the Secret's rotor/version must be 2")

    out, err = stop(daemon, signal.SIGTERM, spec["terminationGracePeriodSeconds"], "the Deployment's container")
    for stream in (out, err):
        check(shown["client_secret"] not in stream, "the daemon's output holds the client secret")
    ok("deploy/kubernetes: renders; init container idempotent; probes and scrape path answer; "
       "the hook delivered a real rotation to the Secret; exits 0 on SIGTERM")


def check_kubernetes_postgres(work, binary):
    if not shutil.which("kubectl"):
        print("check-deploy: SKIPPED: deploy/kubernetes/postgres needs kubectl, which is not installed")
        return
    by_kind = kustomize("deploy/kubernetes/postgres")
    check("PersistentVolumeClaim" not in by_kind, "the PostgreSQL variant needs no volume claim")
    check(len(by_kind.get("PodDisruptionBudget", [])) == 1, "the PostgreSQL variant keeps a replica through drains")
    deployment = by_kind["Deployment"][0]
    check(deployment["spec"]["replicas"] == 3, "the PostgreSQL variant runs three replicas")
    check(deployment["spec"]["strategy"]["type"] == "RollingUpdate", "several instances may overlap: RollingUpdate")
    spec = deployment["spec"]["template"]["spec"]
    spread = spec.get("topologySpreadConstraints", [])
    check(any(c["topologyKey"] == "kubernetes.io/hostname" for c in spread), "one replica per host")
    container = spec["containers"][0]
    for spec_container in spec["initContainers"] + [container]:
        env = {variable["name"]: variable for variable in spec_container["env"]}
        check("secretKeyRef" in env["ROTOR_DB"].get("valueFrom", {}) and "value" not in env["ROTOR_DB"],
              "ROTOR_DB comes from a Secret")
        check("secretKeyRef" in env["PGPASSWORD"].get("valueFrom", {}), "the password comes from a Secret")
        check(env["ROTOR_NODE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name", "the node is the pod's name")
        check(all("rotor-test" not in json.dumps(v) for v in env.values()), "no password in the manifest")

    # Three pods' processes against one real server, the Secret's values as env.
    loader = importlib.machinery.SourceFileLoader("soak", os.path.join(ROOT, "scripts", "soak"))
    soak = importlib.util.module_from_spec(importlib.util.spec_from_loader("soak", loader))
    loader.exec_module(soak)
    server = soak.Postgres()
    base = world_traversable(os.path.join(work, "kubernetes-postgres"))
    context = spec["securityContext"]
    identity = Identity(uid=context["runAsUser"], gid=context["runAsGroup"], groups=[context["fsGroup"]])
    key = os.path.join(world_traversable(os.path.join(base, "master-key")), "rotor.key")
    run([binary, "key", "generate", key], base_environment(base), Identity())
    os.chmod(key, 0o440)
    identity.chown(key, uid=0, gid=context["fsGroup"])
    daemons = []
    try:
        def pod_environment(spec_container, pod):
            spill = os.path.join(base, pod)
            if not os.path.isdir(spill):
                os.makedirs(spill)
                os.chmod(spill, 0o2770)
                identity.chown(spill, uid=0, gid=context["fsGroup"])
            env = base_environment(spill)
            secret = {"url": server.url(), "password": server.PASSWORD}
            for variable in spec_container["env"]:
                source = variable.get("valueFrom", {})
                if "secretKeyRef" in source:
                    env[variable["name"]] = secret[source["secretKeyRef"]["key"]]
                elif "fieldRef" in source:
                    env[variable["name"]] = pod
                else:
                    env[variable["name"]] = replace_paths(
                        variable["value"], {"/var/lib/rotor": spill, "/etc/rotor/key": os.path.dirname(key)})
            env["TMPDIR"] = spill
            return env

        for pod in ["rotor-0", "rotor-1"]:
            for init in spec["initContainers"]:
                result = run([binary] + init["args"], pod_environment(init, pod), identity)
        check("nothing changed" in result.stdout, "the second pod's init container must change nothing")
        ports = []
        for index in range(deployment["spec"]["replicas"]):
            port = free_port()
            argv, _ = with_listen_port([binary] + container["args"], port)
            daemons.append(start(argv, pod_environment(container, f"rotor-{index}"), identity))
            ports.append(port)
        for port in ports:
            check_ops_endpoints(port, "a replica of the PostgreSQL variant")
        deadline = time.monotonic() + 60
        status = ""
        while time.monotonic() < deadline:
            status = run([binary, "status"], pod_environment(container, "rotor-0"), identity).stdout
            if all(f"rotor-{index} " in status for index in range(len(ports))):
                break
            time.sleep(0.5)
        for index in range(len(ports)):
            check(f"rotor-{index} " in status, f"rotor status does not show the node rotor-{index}:\n{status}")
        for daemon in daemons:
            out, err = stop(daemon, signal.SIGTERM, spec["terminationGracePeriodSeconds"], "a replica")
            check(server.PASSWORD not in out + err, "a replica's output holds the database password")
        daemons = []
    finally:
        for daemon in daemons:
            daemon.kill()
            daemon.wait()
        server.remove()
    ok("deploy/kubernetes/postgres: renders; three replicas on one PostgreSQL database answer their probes, "
       "name themselves in rotor status and exit 0 on SIGTERM; the init container is idempotent")


def main():
    work = world_traversable(tempfile.mkdtemp(prefix="rotor-deploy-"))
    try:
        binary = check_install(work)
        check_systemd(work, binary)
        check_docker(work, binary)
        check_kubernetes(work, binary)
        check_kubernetes_postgres(work, binary)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
