#!/bin/sh
# tests/cli/central_config.sh — deploy/central/ (the central side: Grafana provisioning, InfluxDB
# 1.8 and VictoriaMetrics cluster examples, compose.yaml), checked without Docker:
#
#   1. static (/usr/bin/python3; YAML through Debian's python3-yaml, "skip" without it): every
#      YAML file parses; compose.yaml pins every image, gives every service a healthcheck, mounts
#      only files that are in the repository, publishes only Grafana, InfluxDB and vmauth and only
#      on ${VW_BIND_ADDR}, and takes every variable it uses from .env.example, whose secrets are
#      all placeholders (make-env.sh turns them into distinct random ones, mode 0600); the
#      provisioned data sources, the dashboard provider, vmauth's routes and the cluster's flags
#      agree with compose.yaml; the InfluxDB data source is InfluxQL, as every query of the
#      dashboards is;
#   2. the dashboards rendered by grafana/render-dashboards.sh (as compose.yaml runs it): valid
#      JSON, no import placeholder left, the data-source variable defaulting to the provisioned
#      InfluxDB data source (its uid as value, its name as text), every panel, target and
#      annotation going through that variable, nothing else changed;
#   3. every `outputs` snippet of deploy/central/README.md passes `vibewatch check-config`;
#   4. when influxd is installed: influxdb.conf is accepted (`influxd config`) and names no key
#      influxd does not know (but the 1.8-only ones listed below); then a real influxd runs with
#      it, auth on, initialised like the image does (admin, write-only box user, read-only
#      Grafana user, then influxdb/init/10-vibewatch.sh through a stand-in for the `influx` CLI):
#      the database has its default retention policy, a replay through the README's InfluxDB
#      snippet arrives, Grafana's user reads but cannot write, the box's user writes but cannot read;
#   5. when victoria-metrics and vmauth are installed: vmauth runs with victoriametrics/
#      vmauth.yaml and compose.yaml's flags, its routes pointed at a single-node
#      victoria-metrics in place of vminsert and vmselect (the cluster is not packaged): a replay
#      through the README's VictoriaMetrics snippet arrives, a wrong password and vmauth's own
#      endpoints without the key are refused, the reader queries through it.
#
# Prints "ok - central_config: …", "not ok - central_config: …: WHY" or "skip - …" (tests/run.sh).
# Uses $VW_BIN (tests/run.sh exports it) and $VW_TEST_TMP when set.
set -u
PROG=central_config
top=$(cd "$(dirname "$0")/../.." && pwd)
C="$top/deploy/central"
PY=/usr/bin/python3
VW_BIN=${VW_BIN:-$top/vibewatch}
ok() { echo "ok - $PROG: $1"; }
bad() { echo "not ok - $PROG: $1"; }
skip() { echo "skip - $PROG: $1"; }
if [ ! -x "$PY" ]; then
    bad "/usr/bin/python3 is missing (apt-get install -y python3)"
    exit 1
fi
own_tmp=
if [ -n "${VW_TEST_TMP:-}" ]; then
    W="$VW_TEST_TMP/$PROG"
    rm -rf "$W"
    mkdir -p "$W" || { bad "cannot create $W"; exit 1; }
else
    W=$(mktemp -d "${TMPDIR:-/tmp}/$PROG.XXXXXX") || { bad "mktemp failed"; exit 1; }
    own_tmp=1
fi

# ---- 1-3: static checks, the rendered dashboards, the README's snippets ---------------------------
cat >"$W/static.py" <<'EOF'
import json
import os
import re
import stat
import subprocess
import sys

TOP, W, VW_BIN = sys.argv[1], sys.argv[2], sys.argv[3]
C = os.path.join(TOP, "deploy/central")
PROG = "central_config"
sys.path.insert(0, os.path.join(TOP, "tests/tools"))
import tap  # noqa: E402
from tap import nok, ok, report, skip  # noqa: E402

tap.PROG = PROG


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def uncommented(text):
    """YAML or sh text without its comments (a # at the start or after a blank), for scanning."""
    return "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in text.splitlines())


try:
    import yaml
except ImportError:
    yaml = None

YAML_FILES = ["compose.yaml", "grafana/provisioning/datasources/vibewatch.yaml",
              "grafana/provisioning/dashboards/vibewatch.yaml", "victoriametrics/vmauth.yaml",
              "influxdb2/grafana-datasource.yaml"]
docs = {}
if yaml is None:
    skip("every YAML file of deploy/central parses", "python3-yaml is not installed (import yaml failed)")
else:
    p = []
    found = sorted(os.path.relpath(os.path.join(d, f), C) for d, _, fs in os.walk(C) for f in fs
                   if f.endswith((".yaml", ".yml")))
    for rel in found:
        try:
            docs[rel] = yaml.safe_load(read(os.path.join(C, rel)))
        except yaml.YAMLError as e:
            p.append("%s: %s" % (rel, str(e).replace("\n", " ")))
    for rel in YAML_FILES:
        if rel not in found:
            p.append("%s is missing" % rel)
    report("every YAML file of deploy/central parses (%d: %s)" % (len(found), ", ".join(found)), p)

env_example = {}
for line in read(os.path.join(C, ".env.example")).splitlines():
    m = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
    if m:
        env_example[m.group(1)] = m.group(2)
SECRET = re.compile(r"PASSWORD|_KEY$|TOKEN|SECRET")

compose = docs.get("compose.yaml")
compose_text = read(os.path.join(C, "compose.yaml"))
if compose is not None:
    services = compose.get("services", {})
    p = []
    want = {"grafana", "influxdb", "vmstorage-1", "vmstorage-2", "vminsert", "vmselect", "vmauth"}
    if set(services) != want:
        p.append("services %s, want %s" % (sorted(services), sorted(want)))
    for name, s in services.items():
        img = s.get("image", "")
        if not re.fullmatch(r"[a-z0-9./-]+:v?\d+\.\d+\.\d+(-cluster)?", img):
            p.append("%s: image %r is not pinned to a version" % (name, img))
        hc = s.get("healthcheck") or {}
        if not hc.get("test"):
            p.append("%s: no healthcheck" % name)
        if s.get("restart") != "unless-stopped":
            p.append("%s: restart %r" % (name, s.get("restart")))
    prof = {n: tuple(s.get("profiles", ())) for n, s in services.items()}
    for n in want - {"grafana"}:
        if prof.get(n) != (("influxdb",) if n == "influxdb" else ("victoriametrics",)):
            p.append("%s: profiles %s" % (n, prof.get(n)))
    if prof.get("grafana"):
        p.append("grafana has a profile: it must always run")
    report("compose.yaml: the 7 services, each pinned to a version, with a healthcheck and a restart policy; "
           "InfluxDB and the VictoriaMetrics cluster are profiles, Grafana always runs", p)

    # mounts
    p, n = [], 0
    declared = set(compose.get("volumes") or {})
    for name, s in services.items():
        for v in s.get("volumes", []):
            src, dst = v.split(":")[0], v.split(":")[1]
            if src.startswith((".", "/")):
                n += 1
                path = os.path.normpath(os.path.join(C, src))
                if not os.path.exists(path):
                    p.append("%s mounts %s, which is not in the repository" % (name, src))
                elif not path.startswith(TOP + os.sep):
                    p.append("%s mounts %s, outside the repository" % (name, src))
            elif src not in declared:
                p.append("%s: named volume %s is not declared" % (name, src))
    report("compose.yaml mounts only what is in the repository (%d bind mounts) and declared volumes" % n, p)

    # ports
    p = []
    published = {n: s.get("ports", []) for n, s in services.items() if s.get("ports")}
    if set(published) != {"grafana", "influxdb", "vmauth"}:
        p.append("services publishing ports: %s" % sorted(published))
    for n, ports in published.items():
        for port in ports:
            if not str(port).startswith("${VW_BIND_ADDR:-127.0.0.1}:"):
                p.append("%s publishes %r, not on ${VW_BIND_ADDR:-127.0.0.1}" % (n, port))
    report("compose.yaml publishes only Grafana, InfluxDB and vmauth, on ${VW_BIND_ADDR} (127.0.0.1 by default)", p)

    # variables and secrets
    p = []
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", uncommented(compose_text)))
    for v in sorted(used - set(env_example)):
        p.append("compose.yaml uses ${%s}, which .env.example does not define" % v)
    for k, v in env_example.items():
        if SECRET.search(k) and v != "CHANGE-ME":
            p.append(".env.example: %s is not the placeholder CHANGE-ME" % k)
    for name, s in services.items():
        env = s.get("environment") or {}
        for k, v in (env.items() if isinstance(env, dict) else []):
            if SECRET.search(k) and not re.fullmatch(r"\$\{[A-Z0-9_]+(:\?[^}]*)?\}", str(v)):
                p.append("%s: %s is written in compose.yaml (%r), not taken from .env" % (name, k, v))
            if SECRET.search(k) and ":?" not in str(v):
                p.append("%s: %s has no ${…:?…}: an unset secret would start the service without one" % (name, k))
    gi = read(os.path.join(C, ".gitignore")).split()
    if ".env" not in gi:
        p.append("deploy/central/.gitignore does not ignore .env")
    if "COMPOSE_PROFILES" not in env_example:
        p.append(".env.example does not choose COMPOSE_PROFILES")
    report("every variable of compose.yaml (%d) is in .env.example, every secret there is a placeholder, and "
           "compose.yaml writes no secret" % len(used), p)
else:
    skip("compose.yaml: services, images, healthchecks, mounts, ports, variables", "python3-yaml is not installed")

# make-env.sh
p = []
out = os.path.join(W, "env.made")
r = subprocess.run(["sh", os.path.join(C, "make-env.sh"), out], capture_output=True, text=True)
if r.returncode != 0:
    p.append("make-env.sh exited %d: %s" % (r.returncode, r.stderr.strip()))
else:
    made = dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", read(out), re.M))
    secrets = {k: v for k, v in made.items() if env_example.get(k) == "CHANGE-ME"}
    if set(made) != set(env_example):
        p.append("keys %s differ from .env.example's" % sorted(set(made) ^ set(env_example)))
    if not secrets or any(not re.fullmatch(r"[0-9a-f]{48}", v) for v in secrets.values()):
        p.append("secrets not 48 hex digits: %s" % sorted(k for k, v in secrets.items() if not re.fullmatch(r"[0-9a-f]{48}", v)))
    if len(set(secrets.values())) != len(secrets):
        p.append("two secrets are the same")
    if stat.S_IMODE(os.stat(out).st_mode) != 0o600:
        p.append("mode %o, want 600" % stat.S_IMODE(os.stat(out).st_mode))
    r2 = subprocess.run(["sh", os.path.join(C, "make-env.sh"), out], capture_output=True, text=True)
    if r2.returncode == 0:
        p.append("a second run overwrote the existing file")
    for k, v in made.items():
        if env_example[k] != "CHANGE-ME" and v != env_example[k]:
            p.append("%s changed from %r to %r" % (k, env_example[k], v))
report("make-env.sh makes .env from .env.example with a distinct random 48-hex-digit secret for each of its "
       "CHANGE-MEs, mode 0600, and never overwrites one", p)

# ---- the dashboards: rendered as compose.yaml renders them -----------------------------------------------
DASH = ["vibewatch-asset.json", "vibewatch-fleet.json"]
ds_docs = docs.get("grafana/provisioning/datasources/vibewatch.yaml")
prov = docs.get("grafana/provisioning/dashboards/vibewatch.yaml")
m = re.search(r"sh (/\S+/render-dashboards\.sh) (\S+)\s+(\S+) (\S+) \"([^\"]+)\"", compose_text)
render_args = m.groups() if m else None
p = []
if not render_args:
    p.append("compose.yaml's grafana entrypoint does not run render-dashboards.sh SRC DST UID \"NAME\"")
influx_ds = None
if ds_docs is not None:
    dss = ds_docs.get("datasources", [])
    influx_ds = next((d for d in dss if d.get("type") == "influxdb"), None)
    if not influx_ds:
        p.append("no InfluxDB data source is provisioned")
else:
    # without python3-yaml: the first data source's name, uid and type, read line by line (enough
    # for the rendering check below; the provisioning check is skipped)
    t = uncommented(read(os.path.join(C, "grafana/provisioning/datasources/vibewatch.yaml")))
    blocks = re.split(r"^  - ", t, flags=re.M)[1:]
    f = dict(re.findall(r"^\s*(name|uid|type):\s*(.+?)\s*$", blocks[0], re.M)) if blocks else {}
    if f.get("type") == "influxdb":
        influx_ds = {"name": f.get("name"), "uid": f.get("uid"), "type": "influxdb"}
if ds_docs is None or compose is None:
    skip("provisioning: the data sources, the provider and compose.yaml agree", "python3-yaml is not installed")
elif render_args and influx_ds:
    script, src, dst, uid, name = render_args
    if uid != influx_ds.get("uid") or name != influx_ds.get("name"):
        p.append("the dashboards are rendered for %s (%s), the provisioned InfluxDB data source is %s (%s)"
                 % (uid, name, influx_ds.get("uid"), influx_ds.get("name")))
    if prov is not None:
        path = [x.get("options", {}).get("path") for x in prov.get("providers", [])]
        if path != [dst]:
            p.append("the dashboard provider reads %s, the dashboards are rendered into %s" % (path, dst))
        if any(x.get("type") != "file" for x in prov.get("providers", [])):
            p.append("the provider is not of type file")
    mounts = {v.split(":")[1]: v.split(":")[0] for v in compose["services"]["grafana"]["volumes"]} if compose else {}
    if os.path.normpath(os.path.join(C, mounts.get(src, "?"))) != os.path.join(TOP, "deploy/grafana"):
        p.append("%s in the container is %s, not deploy/grafana" % (src, mounts.get(src)))
    if os.path.normpath(os.path.join(C, mounts.get(script, "?"))) != os.path.join(C, "grafana/render-dashboards.sh"):
        p.append("%s in the container is %s, not grafana/render-dashboards.sh" % (script, mounts.get(script)))
    if influx_ds.get("jsonData", {}).get("version") != "InfluxQL":
        p.append("the InfluxDB data source's query language is %r, not InfluxQL" % influx_ds.get("jsonData", {}).get("version"))
    if influx_ds.get("url") != "http://influxdb:8086":
        p.append("the InfluxDB data source's url is %r, not compose's influxdb:8086" % influx_ds.get("url"))
    # the data source file's $VARIABLES are Grafana's environment
    genv = set((compose or {}).get("services", {}).get("grafana", {}).get("environment", {}))
    for v in sorted(set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", uncommented(read(os.path.join(C, "grafana/provisioning/datasources/vibewatch.yaml")))))):
        if v not in genv:
            p.append("provisioning uses $%s, which compose.yaml does not give Grafana" % v)
    prom = next((d for d in ds_docs.get("datasources", []) if d.get("type") == "prometheus"), None)
    if not prom or prom.get("url") != "http://vmselect:8481/select/0/prometheus":
        p.append("the VictoriaMetrics data source is %r, not vmselect's /select/0/prometheus" % (prom or {}).get("url"))
if ds_docs is not None and compose is not None:
    report("provisioning: an InfluxQL data source for compose's InfluxDB and a Prometheus one for vmselect; the "
           "provider reads the folder the dashboards are rendered into, from deploy/grafana, for that data source", p)

rendered = os.path.join(W, "dashboards")
if not (render_args and influx_ds):
    nok("render-dashboards.sh: the dashboards rendered for the provisioned data source",
        "no render step in compose.yaml or no InfluxDB data source provisioned")
else:
    script, src, dst, uid, name = render_args
    r = subprocess.run(["sh", os.path.join(C, "grafana/render-dashboards.sh"), os.path.join(TOP, "deploy/grafana"),
                        rendered, uid, name], capture_output=True, text=True)
    p = []
    if r.returncode != 0:
        p.append("render-dashboards.sh exited %d: %s" % (r.returncode, r.stderr.strip()))
    else:
        for f in DASH:
            orig_text = read(os.path.join(TOP, "deploy/grafana", f))
            text = read(os.path.join(rendered, f))
            try:
                d = json.loads(text)
            except ValueError as e:
                p.append("%s: not JSON after rendering: %s" % (f, e))
                continue
            if "${DS_" in text:
                p.append("%s: an import placeholder is left" % f)
            orig = json.loads(orig_text)
            inputs = [i["name"] for i in orig.get("__inputs", [])]
            if inputs != ["DS_INFLUXDB"]:
                p.append("%s: import inputs %s, want only DS_INFLUXDB" % (f, inputs))
            v = [x for x in d["templating"]["list"] if x.get("type") == "datasource"]
            if len(v) != 1 or v[0].get("name") != "datasource":
                p.append("%s: %d data-source variables" % (f, len(v)))
                continue
            v = v[0]
            if v.get("current", {}).get("value") != uid or v.get("current", {}).get("text") != name:
                p.append("%s: the variable defaults to %s" % (f, v.get("current")))
            if v.get("query") != influx_ds["type"]:
                p.append("%s: the variable lists %r data sources, the provisioned one is %r" % (f, v.get("query"), influx_ds["type"]))
            # every data-source reference goes through the variable (or is Grafana's built-in)
            refs = []
            def walk(o, where):
                if isinstance(o, dict):
                    ds = o.get("datasource")
                    if isinstance(ds, dict):
                        refs.append((where, ds.get("uid")))
                    for k, x in o.items():
                        walk(x, where + "/" + str(k))
                elif isinstance(o, list):
                    for i, x in enumerate(o):
                        walk(x, where + "/" + str(i))
            walk(d, f)
            wrong = [w for w, u in refs if u not in ("${datasource}", "-- Grafana --")]
            if wrong:
                p.append("%s: data sources not through $datasource: %s" % (f, wrong[:3]))
            # nothing else changed: the source with the placeholder filled in is the rendered file
            want = json.loads(orig_text.replace('"text": "${DS_INFLUXDB}"', '"text": "%s"' % name).replace("${DS_INFLUXDB}", uid))
            if want != d:
                p.append("%s: the rendering changed more than the data-source default" % f)
            if d.get("uid") != orig.get("uid"):
                p.append("%s: uid changed" % f)
    report("render-dashboards.sh: both dashboards stay valid JSON with every data source through $datasource, "
           "which defaults to the provisioned InfluxDB data source (value %s, text %s); nothing else changes"
           % (render_args[3], render_args[4]), p)

# ---- vmauth and the cluster ----------------------------------------------------------------------------
vmauth = docs.get("victoriametrics/vmauth.yaml")
if vmauth is not None and compose is not None:
    p = []
    s = compose["services"]
    routes = {u.get("url_prefix") for u in vmauth.get("users", [])}
    if routes != {"http://vminsert:8480/insert/0/influx", "http://vmselect:8481/select/0/prometheus"}:
        p.append("vmauth routes to %s" % sorted(routes))
    ph = set(re.findall(r"%\{([A-Z0-9_]+)\}", uncommented(read(os.path.join(C, "victoriametrics/vmauth.yaml")))))
    missing = ph - set(s["vmauth"].get("environment", {}))
    if missing:
        p.append("vmauth.yaml's %s are not in vmauth's environment" % sorted(missing))
    def flags(n):
        return s[n].get("command", [])
    for n in ("vminsert", "vmselect"):
        port = 8400 if n == "vminsert" else 8401
        if "-storageNode=vmstorage-1:%d,vmstorage-2:%d" % (port, port) not in flags(n):
            p.append("%s does not name both vmstorage nodes at :%d" % (n, port))
        if "-replicationFactor=2" not in flags(n):
            p.append("%s has no -replicationFactor=2" % n)
    for n in ("vmstorage-1", "vmstorage-2", "vmselect"):
        if "-dedup.minScrapeInterval=1ms" not in flags(n):
            p.append("%s does not deduplicate (-dedup.minScrapeInterval=1ms)" % n)
    for n in ("vmstorage-1", "vmstorage-2"):
        if not any(f.startswith("-retentionPeriod=") for f in flags(n)):
            p.append("%s has no -retentionPeriod" % n)
    for k in ("metricsAuthKey", "flagsAuthKey", "pprofAuthKey", "reloadAuthKey"):
        if not any(f.startswith("-%s=${VW_VM_ADMIN_KEY" % k) for f in flags("vmauth")):
            p.append("vmauth has no -%s" % k)
    report("VictoriaMetrics: vmauth routes the boxes to vminsert's /insert/0/influx and readers to vmselect's "
           "/select/0/prometheus with credentials from .env; two vmstorage nodes, replication factor 2, "
           "deduplication, retention; vmauth's own endpoints keyed", p)

else:
    skip("VictoriaMetrics: vmauth's routes and the cluster's flags", "python3-yaml is not installed")

# ---- InfluxDB 1.8 in compose ---------------------------------------------------------------------------
if compose is None:
    skip("compose.yaml's InfluxDB", "python3-yaml is not installed")
else:
    p = []
    s = compose["services"]["influxdb"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in s["volumes"]}
    if os.path.normpath(os.path.join(C, mounts.get("/etc/influxdb/influxdb.conf", "?"))) != os.path.join(C, "influxdb/influxdb.conf"):
        p.append("influxdb.conf is not mounted at /etc/influxdb/influxdb.conf")
    if os.path.normpath(os.path.join(C, mounts.get("/docker-entrypoint-initdb.d", "?"))) != os.path.join(C, "influxdb/init"):
        p.append("influxdb/init is not mounted at /docker-entrypoint-initdb.d")
    if mounts.get("/var/lib/influxdb") != "influxdb-data":
        p.append("/var/lib/influxdb is not a volume")
    conf = read(os.path.join(C, "influxdb/influxdb.conf"))
    for d in re.findall(r'^\s*(?:dir|wal-dir)\s*=\s*"([^"]+)"', conf, re.M):
        if not d.startswith("/var/lib/influxdb/"):
            p.append("influxdb.conf keeps data in %s, outside the volume" % d)
    if not re.search(r"^\s*auth-enabled\s*=\s*true", conf, re.M):
        p.append("auth-enabled = true is not in influxdb.conf (the image's init greps for it too)")
    env = s.get("environment", {})
    if "INFLUXDB_DB" in env:
        p.append("INFLUXDB_DB is set: the image would create the database with an infinite autogen policy first")
    for k in ("INFLUXDB_ADMIN_USER", "INFLUXDB_WRITE_USER", "INFLUXDB_READ_USER"):
        if k not in env:
            p.append("%s is not set" % k)
    if env.get("INFLUXDB_READ_USER") != compose["services"]["grafana"]["environment"].get("VW_INFLUX_READ_USER"):
        p.append("Grafana does not log in as the read-only user")
    report("compose.yaml's InfluxDB: influxdb.conf and init/ mounted where the image reads them, data in its volume, "
           "auth on, the image's users and no INFLUXDB_DB", p)

# ---- the README's outputs snippets pass check-config ----------------------------------------------------------
readme = read(os.path.join(C, "README.md"))
snips = []
for block in re.findall(r"```json\n(.*?)```", readme, re.S):
    try:
        d = json.loads(block)
    except ValueError as e:
        if '"outputs"' in block:
            nok("README.md: an outputs snippet is valid JSON", "%s: %s" % (e, block[:80]))
        continue
    if isinstance(d, dict) and "outputs" in d:
        snips.append(d)
p = []
kinds = set()
for i, d in enumerate(snips):
    cfg = {"box": {"id": "pumphouse-3"}, "data_dir": os.path.join(W, "data%d" % i), "web": {"listen": ""},
           "assets": [{"id": "p101", "type": "pump", "sensors": [{"id": "s1", "source": "sim:pump"}]}]}
    cfg.update(d)
    path = os.path.join(W, "snippet%d.json" % i)
    json.dump(cfg, open(path, "w"), indent=1)
    r = subprocess.run([VW_BIN, "check-config", path], capture_output=True, text=True)
    if r.returncode != 0:
        p.append("snippet %d (%s): %s" % (i + 1, d["outputs"]["influx"][0].get("url"), (r.stderr or r.stdout).strip()[:300]))
    for o in d["outputs"]["influx"]:
        u = o.get("url", "")
        kinds.add("influxdb1" if u.endswith(":8086") and o.get("api", 1) == 1 else
                  "influxdb2" if o.get("api") == 2 else "victoriametrics" if u.endswith(":8427") else "other")
        if u.endswith(":8427") and o.get("strings") is not False:
            p.append("the VictoriaMetrics snippet sends strings (they become zeros there)")
        if u.endswith(":8427") and o.get("user") != env_example.get("VW_VM_BOX_USER"):
            p.append("the VictoriaMetrics snippet's user is not .env.example's VW_VM_BOX_USER")
        if u.endswith(":8086") and o.get("api", 1) == 1 and (o.get("user") != env_example.get("VW_INFLUX_BOX_USER")
                                                            or o.get("db") != env_example.get("VW_INFLUX_DB")):
            p.append("the InfluxDB snippet's user or db is not .env.example's")
for k in ("influxdb1", "influxdb2", "victoriametrics"):
    if k not in kinds:
        p.append("no snippet for %s" % k)
report("the %d outputs snippets of deploy/central/README.md (%s) pass `vibewatch check-config` and use "
       ".env.example's users and database" % (len(snips), ", ".join(sorted(kinds))), p)
json.dump([d["outputs"]["influx"][0] for d in snips], open(os.path.join(W, "snippets.json"), "w"))
sys.exit(1 if tap.failures else 0)
EOF

"$PY" "$W/static.py" "$top" "$W" "$VW_BIN"
static_rc=$?

# ---- 4: InfluxDB, live ---------------------------------------------------------------------------------------
. "$top/tests/servers.sh"
IPID=""; VMAUTH_PID=""
cleanup() {
    servers_stop_all
    [ -n "$IPID" ] && srv_stop_pid "$IPID"
    [ -n "$VMAUTH_PID" ] && srv_stop_pid "$VMAUTH_PID"
    [ -n "$own_tmp" ] && rm -rf "$W"
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM

snippet() { # KIND (influxdb1|victoriametrics) URL PASSWORD → the README's snippet as JSON with URL and password replaced
    "$PY" -c "
import json, sys
kind, url, pw = sys.argv[1:4]
for o in json.load(open(sys.argv[4])):
    u = o['url']
    if u.startswith('http://') and ((kind == 'influxdb1' and u.endswith(':8086') and o.get('api', 1) == 1)
                                    or (kind == 'victoriametrics' and u.endswith(':8427'))):
        o.update(url=url, password=pw, batch_s=0.2)
        print(json.dumps(o)); break
" "$1" "$2" "$3" "$W/snippets.json"
}
box_config() { # FILE DATA_DIR OUTPUT_JSON
    cat >"$1" <<CFG
{"box": {"id": "pumphouse-3"}, "data_dir": "$2", "web": {"listen": ""},
 "schedule": {"snapshot_s": 1, "interval_s": 600},
 "models": {"baseline": {"snapshots": 3}},
 "outputs": {"influx": [$3]},
 "assets": [{"id": "p101", "type": "pump", "speed": {"rpm": 2970}, "bearings": [{"id": "de", "name": "Timken 6309"}],
             "sensors": [{"id": "s1", "source": "sim:", "channels": [0, 1, 2], "axes": ["x", "y", "z"], "bearing": "de"}]}]}
CFG
}
# one hour of a 3-axis pump, a snapshot every 10 min, ending an hour ago (inside every retention)
T0=$("$PY" -c "import time; print(time.strftime('%Y-%m-%dT%H:00:00Z', time.gmtime(time.time() - 3 * 3600)))")
SIM="sim:pump?fault=none&speedup=1&channels=3&rate=25600&seed=3&end_days=0.0417&t0=$T0"
json_lines() { grep -c '^{"t"' "$1"; }

if [ ! -x "$INFLUXD" ] || ! command -v curl >/dev/null 2>&1; then
    skip "influxdb.conf with a real influxd: influxd ($INFLUXD) or curl is not installed (make deps)"
elif [ ! -x "$VW_BIN" ]; then
    bad "influxdb.conf with a real influxd: $VW_BIN is not built"
else
    # 4a. the configuration as influxd reads it
    if "$INFLUXD" config -config "$C/influxdb/influxdb.conf" >"$W/influxd.config" 2>"$W/influxd.config.err"; then
        unknown=$("$PY" - "$C/influxdb/influxdb.conf" "$W/influxd.config" <<'EOF'
import re, sys
def keys(text):
    out, sec = set(), ""
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        m = re.match(r"^\[\[?([^\]]+)\]\]?$", line)
        if m:
            sec = m.group(1)
        elif "=" in line:
            out.add(sec + "." + line.split("=", 1)[0].strip())
    return out
# InfluxDB 1.8 has these, Debian's influxd 1.6 (the one here) does not: flux-enabled came with 1.7,
# and Debian's build names reporting-disabled "reporting-enabled"
ONLY_18 = {"http.flux-enabled", ".reporting-disabled"}
print(" ".join(sorted(keys(open(sys.argv[1]).read()) - keys(open(sys.argv[2]).read()) - ONLY_18)))
EOF
)
        if [ -n "$unknown" ]; then
            bad "influxdb.conf: influxd does not know these keys (a typo is silently ignored): $unknown"
        elif ! grep -q '^  auth-enabled = true' "$W/influxd.config" || ! grep -q '^  index-version = "tsi1"' "$W/influxd.config"; then
            bad "influxdb.conf: influxd's merged configuration lacks auth-enabled = true or index-version = tsi1"
        else
            ok "influxdb.conf: \`influxd config\` ($("$INFLUXD" version | cut -d' ' -f2)) takes it; every key is one influxd knows (but 1.8's flux-enabled and upstream's reporting-disabled); auth on, tsi1"
        fi
    else
        bad "influxdb.conf: influxd config refused it: $(head -c 300 "$W/influxd.config.err")"
    fi

    # 4b. a real influxd with it, initialised as the image initialises it
    mkdir -p "$W/influx"
    IPORT=$(srv_free_port); RPORT=$(srv_free_port)
    sed -e "s#/var/lib/influxdb#$W/influx#" -e "s#127.0.0.1:8088#127.0.0.1:$RPORT#" \
        -e "s#\":8086\"#\"127.0.0.1:$IPORT\"#" -e 's#store-enabled = true#store-enabled = false#' \
        "$C/influxdb/influxdb.conf" >"$W/influx/influxdb.conf"
    "$INFLUXD" run -config "$W/influx/influxdb.conf" >"$W/influx/influxd.log" 2>&1 &
    IPID=$!
    IURL="http://127.0.0.1:$IPORT"
    # the `influx` CLI is not packaged with Debian's influxd: a stand-in for `influx -host H -port P
    # -username U -password PW -execute Q`, as the image's init calls it
    cat >"$W/influx-cli" <<'EOF'
#!/usr/bin/python3
import base64, json, sys, urllib.parse, urllib.request
a = sys.argv[1:]
o = dict(zip(a[0:-1:2], a[1::2]))
req = urllib.request.Request("http://%s:%s/query" % (o["-host"], o["-port"]),
                             data=urllib.parse.urlencode({"q": a[-1]}).encode())
if "-username" in o:
    req.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % (o["-username"], o["-password"])).encode()).decode())
try:
    doc = json.load(urllib.request.urlopen(req))
except urllib.error.HTTPError as e:
    sys.exit("influx: HTTP %d %s" % (e.code, e.read()[:200]))
errs = [r["error"] for r in doc.get("results", []) if "error" in r]
if errs or "error" in doc:
    sys.exit("influx: %s" % (errs or doc["error"]))
EOF
    chmod +x "$W/influx-cli"
    ADMIN=admin; ADMINPW=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    BOXU=vibewatch-box; BOXPW=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    GRU=grafana; GRPW=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    q() { # USER PASSWORD QUERY [DB] → JSON
        curl -sS --max-time 10 -u "$1:$2" -XPOST "$IURL/query" --data-urlencode "q=$3" --data-urlencode "db=${4:-}"
    }
    if ! srv_wait_http "$IURL/ping" 204 "$IPID" "$W/influx/influxd.log" 2>"$W/influx.start.err"; then
        bad "influxd with influxdb.conf did not start: $(head -c 300 "$W/influx.start.err" | tr '\n' ' ')"
    else
        CLI="$W/influx-cli -host 127.0.0.1 -port $IPORT"
        # what the image's init-influxdb.sh does before influxdb/init/*.sh (INFLUXDB_DB unset)
        init_ok=1
        $CLI -execute "CREATE USER \"$ADMIN\" WITH PASSWORD '$ADMINPW' WITH ALL PRIVILEGES" || init_ok=
        for u in "$BOXU:$BOXPW" "$GRU:$GRPW"; do
            $CLI -username "$ADMIN" -password "$ADMINPW" -execute "CREATE USER \"${u%%:*}\" WITH PASSWORD '${u#*:}'" || init_ok=
            $CLI -username "$ADMIN" -password "$ADMINPW" -execute "REVOKE ALL PRIVILEGES FROM \"${u%%:*}\"" || init_ok=
        done
        # then the image sources the init script with set -e, INFLUX_CMD as the admin
        INFLUX_CMD="$CLI -username $ADMIN -password $ADMINPW -execute " INFLUXDB_WRITE_USER=$BOXU INFLUXDB_READ_USER=$GRU \
            VW_INFLUX_DB=vibewatch VW_INFLUX_RETENTION=730d VW_INFLUX_SHARD=7d \
            sh -ec ". '$C/influxdb/init/10-vibewatch.sh'" >"$W/init.out" 2>&1 || init_ok=
        rps=$(q "$ADMIN" "$ADMINPW" 'SHOW RETENTION POLICIES ON "vibewatch"')
        grants_box=$(q "$ADMIN" "$ADMINPW" "SHOW GRANTS FOR \"$BOXU\""); grants_gr=$(q "$ADMIN" "$ADMINPW" "SHOW GRANTS FOR \"$GRU\"")
        if [ -n "$init_ok" ] && echo "$rps" | grep -q '"vibewatch_rp","17520h0m0s","168h0m0s",1,true' \
            && echo "$grants_box" | grep -q '"vibewatch","WRITE"' && echo "$grants_gr" | grep -q '"vibewatch","READ"'; then
            ok "influxdb/init/10-vibewatch.sh, sourced as the image does with set -e: database vibewatch with its default policy vibewatch_rp (730 d, shards of 7 d), WRITE for the box's user, READ for Grafana's"
        else
            bad "the init script: $(tail -3 "$W/init.out" | tr '\n' ' ') policies $rps, grants $grants_box / $grants_gr"
        fi
        # a replay through the README's snippet
        out=$(snippet influxdb1 "$IURL" "$BOXPW")
        box_config "$W/box-influx.json" "$W/d-influx" "$out"
        "$VW_BIN" replay "$SIM" -c "$W/box-influx.json" --json --flush-timeout 30 >"$W/r-influx.jsonl" 2>"$W/r-influx.err"; rc=$?
        n=$(json_lines "$W/r-influx.jsonl")
        got=$(q "$GRU" "$GRPW" 'SELECT count("accel_rms_g") FROM "vw_features"' vibewatch | "$PY" -c "
import json, sys
s = json.load(sys.stdin)['results'][0].get('series')
print(s[0]['values'][0][1] if s else 0)")
        gw=$(curl -sS -o /dev/null -w '%{http_code}' -u "$GRU:$GRPW" -XPOST "$IURL/write?db=vibewatch" --data-binary 'x v=1')
        br=$(q "$BOXU" "$BOXPW" 'SELECT count("accel_rms_g") FROM "vw_features"' vibewatch)
        if [ $rc -eq 0 ] && [ "$n" -gt 0 ] && [ "$got" = "$n" ] && [ "$gw" = 403 ] && echo "$br" | grep -q 'not authorized'; then
            ok "a replay through the README's InfluxDB snippet (its url and password set to this server's): all $n channel-snapshots in vibewatch; Grafana's user reads them and may not write (403), the box's user may not read"
        else
            bad "replay through the InfluxDB snippet: exit $rc, $n lines, $got read by Grafana's user; Grafana's write $gw; the box's read: $br; $(tail -3 "$W/r-influx.err" | tr '\n' ' ')"
        fi
    fi
    srv_stop_pid "$IPID"; IPID=""
fi

# ---- 5: vmauth in front of VictoriaMetrics, live ---------------------------------------------------------------
VMAUTH=${VMAUTH:-/usr/bin/vmauth}
if [ ! -x "$VICTORIA" ] || [ ! -x "$VMAUTH" ] || ! command -v curl >/dev/null 2>&1; then
    skip "vmauth.yaml with a real vmauth: victoria-metrics, vmauth ($VMAUTH) or curl is not installed (make deps)"
elif [ ! -x "$VW_BIN" ]; then
    bad "vmauth.yaml with a real vmauth: $VW_BIN is not built"
elif ! vm_start "$W/vm" -dedup.minScrapeInterval=1ms 2>"$W/vm.start.err"; then
    bad "victoria-metrics did not start: $(head -c 300 "$W/vm.start.err" | tr '\n' ' ')"
else
    # the cluster's vminsert and vmselect are not packaged: the single node takes their place, at
    # its own paths for the same APIs (/influx for /insert/0/influx, /prometheus for /select/0/prometheus)
    sed -e "s#http://vminsert:8480/insert/0/influx#$VM_URL/influx#" \
        -e "s#http://vmselect:8481/select/0/prometheus#$VM_URL/prometheus#" \
        "$C/victoriametrics/vmauth.yaml" >"$W/vmauth.yaml"
    APORT=$(srv_free_port)
    KEY=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n'); VBOXPW=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    VRPW=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    # compose.yaml's vmauth flags, with this test's key
    flags=$("$PY" -c "
import re, sys
t = open(sys.argv[1]).read()
s = t[t.index('  vmauth:'):]
print(' '.join(f.replace('\${VW_VM_ADMIN_KEY:?set VW_VM_ADMIN_KEY in .env (sh make-env.sh)}', sys.argv[2]).replace('\${VW_VM_ADMIN_KEY}', sys.argv[2])
               for f in re.findall(r'^      - (-[a-zA-Z.]+=.*)$', s[:s.index('    environment:')], re.M)
               if not f.startswith(('-auth.config', '-httpListenAddr'))))" "$C/compose.yaml" "$KEY")
    # shellcheck disable=SC2086
    VW_VM_BOX_USER=vibewatch-box VW_VM_BOX_PASSWORD=$VBOXPW VW_VM_READ_USER=reader VW_VM_READ_PASSWORD=$VRPW \
        "$VMAUTH" -auth.config="$W/vmauth.yaml" -httpListenAddr="127.0.0.1:$APORT" -loggerLevel=ERROR $flags \
        >"$W/vmauth.log" 2>&1 &
    VMAUTH_PID=$!
    AURL="http://127.0.0.1:$APORT"
    if ! srv_wait_http "$AURL/health" 200 "$VMAUTH_PID" "$W/vmauth.log" 2>"$W/vmauth.start.err"; then
        bad "vmauth with vmauth.yaml did not start: $(head -c 300 "$W/vmauth.start.err" | tr '\n' ' ')"
    else
        out=$(snippet victoriametrics "$AURL" "$VBOXPW")
        box_config "$W/box-vm.json" "$W/d-vm" "$out"
        "$VW_BIN" replay "$SIM" -c "$W/box-vm.json" --json --flush-timeout 30 >"$W/r-vm.jsonl" 2>"$W/r-vm.err"; rc=$?
        n=$(json_lines "$W/r-vm.jsonl")
        vm_flush
        got=$(curl -sS --max-time 10 -u "reader:$VRPW" -G "$AURL/api/v1/query" \
            --data-urlencode 'query=count_over_time(vw_features_accel_rms_g{box="pumphouse-3",db="vibewatch"}[1d])' \
            | "$PY" -c "import json,sys; print(sum(int(float(r['value'][1])) for r in json.load(sys.stdin)['data']['result']))" 2>/dev/null)
        wrong=$(curl -sS -o /dev/null -w '%{http_code}' -u "vibewatch-box:wrong" -XPOST "$AURL/write?db=vibewatch" --data-binary 'x v=1')
        m_nokey=$(curl -sS -o /dev/null -w '%{http_code}' "$AURL/metrics")
        m_key=$(curl -sS -o /dev/null -w '%{http_code}' "$AURL/metrics?authKey=$KEY")
        if [ $rc -eq 0 ] && [ "$n" -gt 0 ] && [ "$got" = "$n" ] && [ "$wrong" != 204 ] && [ "$wrong" -ge 400 ] \
            && [ "$m_nokey" = 401 ] && [ "$m_key" = 200 ]; then
            ok "a replay through the README's VictoriaMetrics snippet into vmauth with vmauth.yaml (Debian's $(dpkg-query -W -f '${Version}' victoria-metrics 2>/dev/null || echo vmauth)): all $n channel-snapshots arrive with db=\"vibewatch\" and the reader counts them through vmauth; a wrong password gets $wrong, vmauth's /metrics 401 without the key"
        else
            bad "through vmauth: exit $rc, $n lines, $got counted; wrong password $wrong; /metrics $m_nokey without key, $m_key with; $(tail -3 "$W/r-vm.err" | tr '\n' ' ') $(tail -3 "$W/vmauth.log" | tr '\n' ' ')"
        fi
    fi
fi
exit $static_rc
