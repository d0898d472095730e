#!/bin/sh
# tests/cli/grafana_dashboards.sh — the Grafana dashboards of deploy/grafana/ (vibewatch-asset.json,
# vibewatch-fleet.json) against the schema the box streams, "vw-lp-1":
#
#   1. static: valid JSON, schemaVersion ≥ 36, the InfluxDB data source as the import input
#      DS_INFLUXDB feeding a data-source variable, unique panel ids and no overlapping panels,
#      every panel with a data source and raw InfluxQL targets; every query (panels, annotations,
#      template variables) uses only measurements, fields and tags of the schema — read from
#      daemon/stream.h's comment, daemon/snapshot_features.h's VW_SNAPSHOT_FEATURE_NAMES and, for
#      vw_box (whose comment does not name its fields), the numbers daemon/pipeline.c's
#      box_metrics_json() puts in — every template variable used is defined, the state mappings
#      follow stream.h's state codes, and the velocity panels' ISO 10816-3 zone thresholds are the
#      standard's numbers listed below (and the box's models/iso10816.c has the same ones);
#   2. live, when influxd (InfluxDB 1.6, tests/servers.sh) is installed: points shaped like the
#      box's are written to a real server and every query of both dashboards is run with its
#      variables filled in as Grafana fills them: no error, data back, and the fleet's counts and
#      merged table come out right.
#
# Prints "ok - grafana_dashboards: …", "not ok - grafana_dashboards: …: WHY" or "skip - …" lines
# (see tests/run.sh). Needs /usr/bin/python3 (standard library only); curl and influxd for part 2.
set -u
PROG=grafana_dashboards
top=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
if [ ! -x "$PY" ]; then
    echo "not ok - $PROG: /usr/bin/python3 is missing (apt-get install -y python3)"
    exit 1
fi
own_tmp=
if [ -n "${VW_TEST_TMP:-}" ]; then
    W="$VW_TEST_TMP/$PROG"
    rm -rf "$W"
    mkdir -p "$W" || { echo "not ok - $PROG: cannot create $W"; exit 1; }
else
    W=$(mktemp -d "${TMPDIR:-/tmp}/$PROG.XXXXXX") || { echo "not ok - $PROG: mktemp failed"; exit 1; }
    own_tmp=1
fi

cat >"$W/check.py" <<'EOF'
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

TOP, INFLUX_URL, LIVE_NOTE = sys.argv[1], sys.argv[2], sys.argv[3]
PROG = "grafana_dashboards"
DASHBOARDS = ["deploy/grafana/vibewatch-asset.json", "deploy/grafana/vibewatch-fleet.json"]
sys.path.insert(0, os.path.join(TOP, "tests/tools"))
import tap  # noqa: E402
from tap import nok, ok, report, skip  # noqa: E402

tap.PROG = PROG


def read(rel):
    with open(os.path.join(TOP, rel), encoding="utf-8") as f:
        return f.read()


# ---- ISO 10816-3 -------------------------------------------------------------------------------
# ISO 10816-3, Annex A: the evaluation zone boundaries of the velocity RMS (10–1000 Hz) measured on
# the bearing housings, in mm/s, as A/B, B/C, C/D:
#   Table A.1 — group 1: large machines, rated power above 300 kW up to 50 MW; electrical machines
#               with shaft height H ≥ 315 mm. Rigid foundation 2.3 / 4.5 / 7.1, flexible 3.5 / 7.1 / 11.
#   Table A.2 — group 2: medium machines, 15 kW to 300 kW; electrical machines with
#               160 mm ≤ H < 315 mm. Rigid 1.4 / 2.8 / 4.5, flexible 2.3 / 4.5 / 7.1.
# Groups 3 and 4, the pumps above 15 kW with a separate and with an integrated driver, have the
# boundaries of group 1 and of group 2 respectively (so do the box's models/iso10816.c and the
# README's table). The default class of an asset is group 2, rigid (README: assets[].iso).
ISO_10816_3 = {
    (1, "rigid"): (2.3, 4.5, 7.1), (1, "flexible"): (3.5, 7.1, 11.0),
    (2, "rigid"): (1.4, 2.8, 4.5), (2, "flexible"): (2.3, 4.5, 7.1),
}
ISO_10816_3[(3, "rigid")], ISO_10816_3[(3, "flexible")] = ISO_10816_3[(1, "rigid")], ISO_10816_3[(1, "flexible")]
ISO_10816_3[(4, "rigid")], ISO_10816_3[(4, "flexible")] = ISO_10816_3[(2, "rigid")], ISO_10816_3[(2, "flexible")]
ISO_DEFAULT = (2, "rigid")

# The colours the dashboards promise for the states (a design choice, not the schema's).
STATE_COLOURS = {"learning": "blue", "ok": "green", "watch": "yellow", "warning": "orange", "alarm": "red",
                 "sensor_fault": "grey"}


def colour_is(c, want):
    if not isinstance(c, str):
        return False
    c = c.lower()
    if want == "grey":
        m = re.fullmatch(r"#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})", c)
        return c in ("gray", "grey") or bool(m and m.group(1) == m.group(2) == m.group(3))
    return c == want or c.endswith("-" + want) and c.split("-")[0] in ("dark", "semi-dark", "light", "super-light")


# ---- the schema, read from the sources ----------------------------------------------------------
class SchemaError(Exception):
    pass


def parse_features():
    h = read("daemon/snapshot_features.h")
    m = re.search(r"#define\s+VW_SNAPSHOT_FEATURE_NAMES((?:[^\n]*\\\n)*[^\n]*)", h)
    if not m:
        raise SchemaError("VW_SNAPSHOT_FEATURE_NAMES not found in daemon/snapshot_features.h")
    names = re.findall(r'"([^"]+)"', m.group(1))
    e = re.search(r"enum\s*\{([^}]*)\}", h)
    if e:
        consts = [c.strip() for c in e.group(1).split(",") if c.strip()]
        if "NFEAT" in consts and consts.index("NFEAT") != len(names):
            raise SchemaError("snapshot_features.h: %d names for %d enum entries before NFEAT"
                              % (len(names), consts.index("NFEAT")))
    if not names:
        raise SchemaError("VW_SNAPSHOT_FEATURE_NAMES holds no name")
    return names


def parse_box_metrics():
    """vw_box's fields other than schema_version: the numbers box_metrics_json() puts in its JSON
    object (vw_stream_metrics streams every number of it; stream.h's comment only describes them)."""
    c = read("daemon/pipeline.c")
    m = re.search(r"\n[^\n]*\bbox_metrics_json\s*\([^)]*\)\s*\{(.*?)\n\}", c, re.S)
    if not m:
        raise SchemaError("box_metrics_json() not found in daemon/pipeline.c")
    names = re.findall(r'cJSON_AddNumberToObject\s*\(\s*\w+\s*,\s*"([^"]+)"', m.group(1))
    if not names:
        raise SchemaError("box_metrics_json() adds no number")
    return names


def strip_parens(s):
    prev = None
    while prev != s:
        prev, s = s, re.sub(r"\([^()]*\)", " ", s)
    return s


IDENT = re.compile(r"[a-z_][a-z0-9_]*")


def parse_schema():
    h = read("daemon/stream.h")
    m = re.search(r"/\*(.*?)\*/", h, re.S)
    if not m:
        raise SchemaError("daemon/stream.h has no leading comment")
    lines = [re.sub(r"^\s*\* ?", "", l) for l in m.group(1).splitlines()]
    entries, cur = [], None
    for l in lines:
        mm = re.match(r"^\s{2,}(vw_[a-z0-9_]+)\s+(.*)$", l)
        if mm:
            cur = [mm.group(1), mm.group(2)]
            entries.append(cur)
        elif cur is not None and re.match(r"^\s{6,}\S", l):
            cur[1] += " " + l.strip()
        else:
            cur = None
    if not entries:
        raise SchemaError("no measurement found in daemon/stream.h's comment")
    features = parse_features()
    schema, prev_tags = {}, None
    for meas, text in entries:
        mt = re.match(r"(same tags|tags\s+(.*?))\s+fields:\s*(.*)$", text, re.S)
        if not mt:
            raise SchemaError("%s: cannot read \"tags … fields: …\" in: %s" % (meas, text))
        if mt.group(1) == "same tags":
            if prev_tags is None:
                raise SchemaError("%s: \"same tags\" with no measurement before it" % meas)
            tags = list(prev_tags)
        else:
            tags = []
            for t in strip_parens(mt.group(2)).replace("[", ",").replace("]", "").split(","):
                t = t.strip()
                if not t:
                    continue
                if not IDENT.fullmatch(t):
                    raise SchemaError("%s: cannot read the tag %r" % (meas, t))
                tags.append(t)
        fields = []
        for item in re.split(r",|\band\b", strip_parens(mt.group(3))):
            item = item.strip()
            if not item:
                continue
            mf = re.fullmatch(r"([a-z_][a-z0-9_]*)(=\S+)?", item)
            if mf:
                fields.append(mf.group(1))
            elif "snapshot feature" in item:
                fields += features
            elif "own metrics" in item:
                fields += parse_box_metrics()
            else:
                raise SchemaError("%s: cannot read the field item %r" % (meas, item))
        schema[meas] = {"tags": tags, "fields": fields}
        prev_tags = tags
    mc = re.search(r"state_code:\s*((?:\d+\s+[a-z_]+\s*,?\s*)+)", " ".join(l.strip() for l in lines))
    if not mc:
        raise SchemaError("the state codes (\"state_code: 0 learning, …\") are not in stream.h's comment")
    states = {int(c): n for c, n in re.findall(r"(\d+)\s+([a-z_]+)", mc.group(1))}
    return schema, states, features


def field_types():
    """The line-protocol type of each named field, from daemon/stream.c's fnum/fint/fstr/fbool calls
    (a feature or a box metric: float). Only the live check needs it."""
    types = {}
    for kind, name in re.findall(r'\bf(num|int|str|bool)\(\s*"(\w+)"', read("daemon/stream.c")):
        types[name] = kind
    return types


# ---- InfluxQL ------------------------------------------------------------------------------------
KEYWORDS = {"select", "from", "where", "and", "or", "not", "group", "by", "order", "asc", "desc", "limit",
            "slimit", "offset", "soffset", "as", "time", "now", "none", "null", "previous", "linear", "tz",
            "show", "tag", "values", "with", "key", "in", "true", "false", "measurements", "field", "keys"}
FUNCTIONS = {"mean", "median", "mode", "spread", "stddev", "sum", "count", "distinct", "integral", "first",
             "last", "max", "min", "percentile", "sample", "top", "bottom", "derivative", "difference",
             "non_negative_derivative", "non_negative_difference", "moving_average", "cumulative_sum",
             "elapsed", "abs", "ceil", "floor", "round", "sqrt", "pow", "exp", "ln", "log", "log2", "log10",
             "fill", "now", "time"}
CLAUSES = {"select", "from", "where", "group", "order", "limit", "slimit", "offset", "soffset"}


class QueryError(Exception):
    pass


def tokenize(q):
    toks, i, n = [], 0, len(q)
    dur = re.compile(r"\d+(?:\.\d+)?(?:ns|us|µs|u|µ|ms|s|m|h|d|w)(?![\w.])")
    num = re.compile(r"\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
    word = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
    var = re.compile(r"\$\{[^}]*\}|\$\w+|\[\[\w+(?::\w+)?\]\]")
    op = re.compile(r"=~|!~|!=|<>|<=|>=|[=<>+\-*/%(),;.]")
    while i < n:
        c = q[i]
        if c.isspace():
            i += 1
            continue
        if c in "\"'":
            j, buf = i + 1, ""
            while j < n and q[j] != c:
                if q[j] == "\\" and j + 1 < n:
                    buf += q[j + 1]
                    j += 2
                    continue
                buf += q[j]
                j += 1
            if j >= n:
                raise QueryError("unterminated %s at %d" % (c, i))
            toks.append(("qid" if c == '"' else "str", buf))
            i = j + 1
            continue
        if c == "/" and toks and toks[-1] in (("op", "=~"), ("op", "!~")):
            j = i + 1
            while j < n and q[j] != "/":
                j += 2 if q[j] == "\\" else 1
            if j >= n:
                raise QueryError("unterminated regex at %d" % i)
            toks.append(("regex", q[i + 1:j]))
            i = j + 1
            continue
        for kind, rx in (("var", var), ("dur", dur), ("num", num), ("word", word), ("op", op)):
            m = rx.match(q, i)
            if m:
                toks.append((kind, m.group(0).lower() if kind == "word" else m.group(0)))
                i = m.end()
                break
        else:
            raise QueryError("unexpected character %r at %d" % (c, i))
    return toks


def has_time_filter(toks):
    return any(t == ("var", "$timeFilter") or t == ("word", "time") for t in toks)


def analyse_select(toks, i, schema, problems):
    """toks[i] is SELECT; returns (index of the closing ')' or len, the names it outputs)."""
    clause, j, depth = "select", i + 1, 0
    parts = {c: [] for c in CLAUSES}
    sub_outputs = []
    while j < len(toks):
        t = toks[j]
        if depth == 0 and t in (("op", ")"), ("op", ";")):
            break
        if depth == 0 and t[0] == "word" and t[1] in CLAUSES:
            clause = t[1]
            j += 2 if t[1] in ("group", "order") and j + 1 < len(toks) and toks[j + 1] == ("word", "by") else 1
            continue
        if clause == "from" and depth == 0 and t == ("op", "(") and j + 1 < len(toks) and toks[j + 1] == ("word", "select"):
            end, outs = analyse_select(toks, j + 1, schema, problems)
            sub_outputs.append(outs)
            j = end + 1
            continue
        if t == ("op", "("):
            depth += 1
        elif t == ("op", ")"):
            depth -= 1
        parts[clause].append((j, t))
        j += 1
    measurements = [t[1] for _, t in parts["from"] if t[0] in ("qid", "word")]
    fields, tags = set(), set()
    for m in measurements:
        if m not in schema:
            problems.append("unknown measurement \"%s\"" % m)
        else:
            fields |= set(schema[m]["fields"])
            tags |= set(schema[m]["tags"])
    for outs in sub_outputs:
        fields |= outs["fields"]
        tags |= outs["tags"]
    if not measurements and not sub_outputs:
        problems.append("a SELECT without FROM")
    aliases, selected_fields = set(), []
    for clause in ("select", "where", "group", "order", "limit"):
        for at, t in parts[clause]:
            before = toks[at - 1] if at > 0 else None
            if t[0] == "qid":
                if before == ("word", "as"):
                    aliases.add(t[1])
                elif clause == "group":
                    if t[1] not in tags:
                        problems.append("GROUP BY \"%s\": not a tag of %s" % (t[1], "/".join(measurements) or "the subquery"))
                elif t[1] in fields:
                    if clause == "select":
                        selected_fields.append(t[1])
                elif t[1] in tags:
                    pass
                else:
                    problems.append("\"%s\" is neither a field nor a tag of %s" % (t[1], "/".join(measurements) or "the subquery"))
            elif t[0] == "word":
                nxt = toks[at + 1] if at + 1 < len(toks) else None
                if t[1] in FUNCTIONS and nxt == ("op", "("):
                    continue
                if t[1] in KEYWORDS:
                    continue
                problems.append("bare word %r: quote identifiers (\"name\")" % t[1])
    if not selected_fields:
        problems.append("the SELECT names no field of %s" % ("/".join(measurements) or "its subquery"))
    if not has_time_filter([t for _, t in parts["where"]]):
        problems.append("a SELECT without $timeFilter (a scan of all time)")
    out_fields = set(aliases) | {f for f in selected_fields}
    out_tags = {t[1] for _, t in parts["group"] if t[0] == "qid"}
    return j, {"fields": out_fields, "tags": out_tags}


def check_query(q, schema):
    """Problems of one InfluxQL text (one or more statements) against the schema."""
    problems = []
    try:
        toks = tokenize(q)
    except QueryError as e:
        return ["cannot read the query: %s" % e]
    stmts, cur = [], []
    for t in toks:
        if t == ("op", ";"):
            stmts.append(cur)
            cur = []
        else:
            cur.append(t)
    stmts.append(cur)
    for st in stmts:
        if not st:
            continue
        if st[0] == ("word", "select"):
            end, _ = analyse_select(st, 0, schema, problems)
            if end != len(st):
                problems.append("unbalanced parentheses")
        elif st[:3] == [("word", "show"), ("word", "tag"), ("word", "values")]:
            # SHOW TAG VALUES FROM "m" WITH KEY = "k" [WHERE …]
            shape = (len(st) >= 9 and st[3] == ("word", "from") and st[4][0] in ("qid", "word")
                     and st[5:8] == [("word", "with"), ("word", "key"), ("op", "=")] and st[8][0] == "qid"
                     and (len(st) == 9 or st[9] == ("word", "where")))
            if not shape:
                problems.append("not SHOW TAG VALUES FROM \"measurement\" WITH KEY = \"tag\" [WHERE …]")
                continue
            meas = st[4][1]
            if meas not in schema:
                problems.append("unknown measurement \"%s\"" % meas)
                continue
            tags = set(schema[meas]["tags"])
            for t in st[8:]:
                if t[0] == "qid" and t[1] not in tags:
                    problems.append("SHOW TAG VALUES: \"%s\" is not a tag of %s" % (t[1], meas))
                elif t[0] == "word" and t[1] not in KEYWORDS:
                    problems.append("bare word %r" % t[1])
        else:
            problems.append("neither SELECT nor SHOW TAG VALUES: %s" % " ".join(t[1] for t in st[:3]))
    return problems


# ---- dashboards ----------------------------------------------------------------------------------
BUILTIN_VARS = {"timeFilter", "__timeFilter", "__interval", "__interval_ms", "__rate_interval", "__from", "__to",
                "__range", "__range_s", "__range_ms", "__data", "__url_time_range", "__value", "__field",
                "__series", "__dashboard", "__org", "__user", "__name", "__all"}
ALIAS_VARS = {"col", "m", "measurement"}
VAR_RE = re.compile(r"\$\{(\w+)(?:[.:][^}]*)?\}|\$(\w+)|\[\[(\w+)(?::\w+)?\]\]")


def strings(o, path=""):
    if isinstance(o, str):
        yield path, o
    elif isinstance(o, dict):
        for k, v in o.items():
            yield from strings(v, path + "/" + str(k))
    elif isinstance(o, list):
        for k, v in enumerate(o):
            yield from strings(v, "%s[%d]" % (path, k))


def queries(d):
    """(where, query text, the panel or None, target) of every InfluxQL query of a dashboard."""
    out = []
    for p in d.get("panels", []):
        for t in p.get("targets", []):
            out.append(("panel %s (%s) %s" % (p.get("id"), p.get("title"), t.get("refId")), t.get("query", ""), p, t))
    for a in d.get("annotations", {}).get("list", []):
        if a.get("builtIn"):
            continue
        out.append(("annotation %s" % a.get("name"), a.get("query", ""), None, a))
    for v in d.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v.get("query")
            q = q.get("query", "") if isinstance(q, dict) else q
            out.append(("variable %s" % v.get("name"), q or "", None, v))
    return out


def grafana_custom_options(query):
    """A custom variable's options as Grafana reads its query: comma-separated (\\, escapes),
    each "text : value" or a value."""
    out = []
    for part in re.findall(r"(?:\\,|[^,])+", query):
        part = part.replace("\\,", ",").strip()
        m = re.match(r"^(.+)\s:\s(.+)$", part)
        out.append((m.group(1).strip(), m.group(2).strip()) if m else (part, part))
    return out


def main():
    try:
        schema, states, features = parse_schema()
    except (SchemaError, OSError) as e:
        nok("the schema can be read from daemon/stream.h, snapshot_features.h and pipeline.c", str(e))
        return
    ok("the schema read from daemon/stream.h (+ snapshot_features.h, pipeline.c): %s; states %s"
       % (", ".join("%s %d fields/%d tags" % (m, len(s["fields"]), len(s["tags"])) for m, s in schema.items()),
          " ".join("%d=%s" % kv for kv in sorted(states.items()))))

    # The checker itself must refuse what it is there to refuse.
    bad = {
        'SELECT mean("no_such_field") FROM "vw_features" WHERE $timeFilter': "an unknown field",
        'SELECT mean("velocity_rms_mm_s") FROM "vw_nothing" WHERE $timeFilter': "an unknown measurement",
        'SELECT mean("anomaly") FROM "vw_features" WHERE $timeFilter': "a field of another measurement",
        'SELECT mean("velocity_rms_mm_s") FROM "vw_features" WHERE $timeFilter GROUP BY "state"': "GROUP BY a field",
        'SELECT mean(velocity_rms_mm_s) FROM "vw_features" WHERE $timeFilter': "a bare identifier",
        'SELECT mean("velocity_rms_mm_s") FROM "vw_features"': "no time filter",
        'SHOW TAG VALUES FROM "vw_features" WITH KEY = "state"': "a field as a tag key",
    }
    good = ['SELECT count("c") FROM (SELECT last("state_code") AS "c" FROM "vw_features" WHERE $timeFilter '
            'GROUP BY "box") WHERE "c" = 1 AND $timeFilter']
    missed = [why for q, why in bad.items() if not check_query(q, schema)]
    wrong = ["%s: %s" % (q, check_query(q, schema)) for q in good if check_query(q, schema)]
    report("the query checker refuses unknown names, misplaced fields and tags, bare words and unbounded queries",
           ["it let through " + w for w in missed] + ["it refused a good query " + w for w in wrong])

    docs = {}
    for rel in DASHBOARDS:
        try:
            docs[rel] = json.loads(read(rel))
            ok("%s is valid JSON" % rel)
        except (OSError, ValueError) as e:
            nok("%s is valid JSON" % rel, str(e))
    uids = [d.get("uid") for d in docs.values()]
    if len(docs) == len(DASHBOARDS):
        report("the dashboards have distinct uids", [] if len(set(uids)) == len(uids) and all(uids) else ["uids %s" % uids])

    for rel, d in docs.items():
        name = os.path.basename(rel)
        check_dashboard(name, d, schema, states)
    if "deploy/grafana/vibewatch-asset.json" in docs:
        check_asset(docs["deploy/grafana/vibewatch-asset.json"], schema, states)
    if "deploy/grafana/vibewatch-fleet.json" in docs:
        check_fleet(docs["deploy/grafana/vibewatch-fleet.json"], states)
    check_iso_source()
    if len(docs) == len(DASHBOARDS):
        live(docs, schema, states, features)


def check_dashboard(name, d, schema, states):
    p = []
    if not isinstance(d.get("schemaVersion"), int) or d["schemaVersion"] < 36:
        p.append("schemaVersion %r (want ≥ 36)" % d.get("schemaVersion"))
    inputs = [i for i in d.get("__inputs", []) if i.get("name") == "DS_INFLUXDB"]
    if not inputs or inputs[0].get("type") != "datasource" or inputs[0].get("pluginId") != "influxdb":
        p.append("no __inputs entry DS_INFLUXDB of type datasource, pluginId influxdb")
    variables = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
    dsv = variables.get("datasource")
    if not dsv or dsv.get("type") != "datasource" or dsv.get("query") != "influxdb":
        p.append("no data-source variable \"datasource\" of InfluxDB data sources")
    elif dsv.get("current", {}).get("value") != "${DS_INFLUXDB}":
        p.append("the datasource variable's current value is not the import input ${DS_INFLUXDB}")
    report("%s: schemaVersion ≥ 36, import input DS_INFLUXDB feeds the datasource variable" % name, p)

    panels = d.get("panels", [])
    p = []
    ids = [x.get("id") for x in panels]
    dup = sorted({i for i in ids if ids.count(i) > 1 or not isinstance(i, int)}, key=str)
    if dup:
        p.append("panel ids not unique integers: %s" % dup)
    cells = {}
    for x in panels:
        g = x.get("gridPos", {})
        try:
            gx, gy, gw, gh = (int(g[k]) for k in "xywh")
        except (KeyError, TypeError, ValueError):
            p.append("panel %s: no gridPos x/y/w/h" % x.get("id"))
            continue
        if gx < 0 or gw <= 0 or gh <= 0 or gx + gw > 24:
            p.append("panel %s: gridPos %s outside the 24 columns" % (x.get("id"), g))
        for cx in range(gx, gx + gw):
            for cy in range(gy, gy + gh):
                if (cx, cy) in cells and cells[(cx, cy)] != x.get("id"):
                    p.append("panels %s and %s overlap at (%d,%d)" % (cells[(cx, cy)], x.get("id"), cx, cy))
                    break
                cells[(cx, cy)] = x.get("id")
            else:
                continue
            break
    report("%s: %d panels, unique ids, no overlap" % (name, len(panels)), p)

    ds = {"type": "influxdb", "uid": "${datasource}"}
    p = []
    for x in panels:
        label = "panel %s (%s)" % (x.get("id"), x.get("title"))
        if x.get("datasource") != ds:
            p.append("%s: datasource %s, want %s" % (label, x.get("datasource"), ds))
        tg = x.get("targets")
        if not tg:
            p.append("%s: no targets" % label)
            continue
        refs = [t.get("refId") for t in tg]
        if len(set(refs)) != len(refs) or not all(refs):
            p.append("%s: refIds %s" % (label, refs))
        for t in tg:
            if t.get("datasource", ds) != ds:
                p.append("%s %s: target datasource %s" % (label, t.get("refId"), t.get("datasource")))
            if not t.get("rawQuery") or not t.get("query", "").strip():
                p.append("%s %s: not a raw InfluxQL query" % (label, t.get("refId")))
    for v in variables.values():
        if v.get("type") == "query" and v.get("datasource") != ds:
            p.append("variable %s: datasource %s" % (v.get("name"), v.get("datasource")))
    for a in d.get("annotations", {}).get("list", []):
        if not a.get("builtIn") and a.get("datasource") != ds:
            p.append("annotation %s: datasource %s" % (a.get("name"), a.get("datasource")))
    report("%s: every panel has the InfluxDB data source and raw InfluxQL targets" % name, p)

    p = []
    n = 0
    for where, q, _, _ in queries(d):
        n += 1
        p += ["%s: %s" % (where, e) for e in check_query(q, schema)]
    report("%s: all %d InfluxQL queries use only measurements, fields and tags of vw-lp-1" % (name, n), p)

    defined = set(variables) | {i.get("name") for i in d.get("__inputs", [])}
    all_tags = {t for s in schema.values() for t in s["tags"]}
    p, used = [], set()
    for path, s in strings({k: v for k, v in d.items() if k not in ("__inputs", "__requires")}):
        for m in VAR_RE.finditer(s):
            v = m.group(1) or m.group(2) or m.group(3)
            used.add(v)
            if v in defined or v in BUILTIN_VARS or v in ALIAS_VARS and "alias" in path:
                continue
            if v.startswith("tag_") and "alias" in path:
                if v[4:] not in all_tags:
                    p.append("%s: $%s names no tag of the schema" % (path, v))
                continue
            p.append("%s: $%s is not a defined variable" % (path, v))
    unused = sorted(set(variables) - used - {"datasource"})
    if unused:
        p.append("variables defined but never used: %s" % unused)
    report("%s: every template variable used is defined (%s)" % (name, ", ".join(sorted(variables))), p)

    # Every value mapping that names states uses stream.h's codes.
    p = []
    names = set(states.values())
    for x in panels:
        fc = x.get("fieldConfig", {})
        maps = [("defaults", fc.get("defaults", {}).get("mappings", []))]
        for o in fc.get("overrides", []):
            for pr in o.get("properties", []):
                if pr.get("id") == "mappings":
                    maps.append(("override %s" % o.get("matcher", {}).get("options"), pr.get("value")))
        for where, ms in maps:
            for mp in ms or []:
                for key, res in (mp.get("options") or {}).items():
                    if not isinstance(res, dict):
                        continue
                    if res.get("text") in names:
                        code = [c for c, s in states.items() if s == res["text"]][0]
                        if key != str(code):
                            p.append("panel %s %s: %s → %s, but stream.h has %d %s"
                                     % (x.get("id"), where, key, res["text"], code, res["text"]))
                    if key in names and "color" in res and not colour_is(res["color"], STATE_COLOURS[key]):
                        p.append("panel %s %s: %s coloured %s" % (x.get("id"), where, key, res["color"]))
    report("%s: state mappings follow stream.h's codes (%s)" % (name, ", ".join("%d %s" % kv for kv in sorted(states.items()))), p)


def velocity_panels(d):
    return [x for x in d.get("panels", []) if any("velocity_rms_mm_s" in t.get("query", "") for t in x.get("targets", []))
            and x.get("type") in ("timeseries", "stat", "gauge", "bargauge")]


def steps_of(th):
    return [s.get("value") for s in (th or {}).get("steps", [])]


def check_asset(d, schema, states):
    name = "vibewatch-asset.json"
    variables = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
    p = []
    for tag, chain in (("box", []), ("asset", ["box"]), ("sensor", ["box", "asset"]), ("axis", ["box", "asset", "sensor"])):
        v = variables.get(tag)
        if not v or v.get("type") != "query":
            p.append("no query variable %s" % tag)
            continue
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else q or ""
        if not re.match(r'^SHOW TAG VALUES FROM "vw_features" WITH KEY = "%s"' % tag, q):
            p.append("%s: %r is not SHOW TAG VALUES FROM \"vw_features\" WITH KEY = \"%s\"" % (tag, q, tag))
        for c in chain:
            if not re.search(r'"%s" =~ /\^\$(\{%s\}|%s)\$/' % (c, c, c), q):
                p.append("%s: not filtered by $%s" % (tag, c))
    report("%s: variables box → asset → sensor → axis are SHOW TAG VALUES of vw_features, chained" % name, p)

    text = json.dumps(d)
    want = ["velocity_rms_mm_s", "accel_rms_g", "accel_peak_g", "bpfo_db", "bpfi_db", "bsf_db", "ftf_db", "anomaly",
            "health", "threshold", "rul_h", "rul_lo_h", "rul_hi_h", "p_fail_7d", "p_fail_14d", "state_code"]
    missing = [f for f in want if '\\"%s\\"' % f not in text]
    kinds = [a for a in d.get("annotations", {}).get("list", []) if "vw_events" in a.get("query", "")]
    tables = [x for x in d.get("panels", []) if x.get("type") == "table"
              and any("vw_events" in t.get("query", "") for t in x.get("targets", []))]
    timelines = [x for x in d.get("panels", []) if x.get("type") == "state-timeline"
                 and any("state_code" in t.get("query", "") for t in x.get("targets", []))]
    p = ["no query reads %s" % f for f in missing]
    for kind in ("state", "maintenance"):
        if not any("\"kind\" = '%s'" % kind in a.get("query", "") for a in kinds):
            p.append("no annotation of vw_events kind %s" % kind)
    if not tables:
        p.append("no table of vw_events")
    if not timelines:
        p.append("no state timeline of state_code")
    rul = [x for x in d.get("panels", []) if x.get("type") == "timeseries"
           and {"rul_h", "rul_lo_h", "rul_hi_h"} <= set(re.findall(r'"(rul_\w+)"', " ".join(t.get("query", "") for t in x["targets"])))]
    if not rul:
        p.append("no time series with rul_h, rul_lo_h and rul_hi_h")
    elif not any(pr.get("id") == "custom.fillBelowTo" for x in rul for o in x["fieldConfig"].get("overrides", [])
                 for pr in o.get("properties", [])):
        p.append("the RUL panel draws no band (custom.fillBelowTo)")
    if not any("/ 24" in t.get("query", "") and "rul_h" in t.get("query", "") for x in d.get("panels", []) for t in x.get("targets", [])):
        p.append("RUL is nowhere shown in days (rul_h / 24)")
    report("%s: shows velocity, acceleration, envelope families, anomaly/health/threshold, RUL band in hours "
           "and days, P(fail), state timeline, events as annotations and table" % name, p)

    # The state timeline maps every code of stream.h to its name and colour.
    p = []
    for x in timelines:
        opts = {}
        for mp in x.get("fieldConfig", {}).get("defaults", {}).get("mappings", []):
            opts.update(mp.get("options") or {})
        for code, st in sorted(states.items()):
            r = opts.get(str(code))
            if not r or r.get("text") != st:
                p.append("panel %s: code %d is not mapped to %s (%s)" % (x["id"], code, st, r))
            elif not colour_is(r.get("color"), STATE_COLOURS.get(st, "?")):
                p.append("panel %s: %s is %s, want %s" % (x["id"], st, r.get("color"), STATE_COLOURS.get(st)))
    report("%s: the state timeline names and colours every state code of stream.h" % name, p)

    # ISO 10816-3 zones: the class variable, the default thresholds and one override per class.
    p = []
    iso = variables.get("iso_class")
    classes = {}
    if not iso or iso.get("type") != "custom":
        p.append("no custom variable iso_class")
    else:
        parsed = grafana_custom_options(iso.get("query", ""))
        listed = [(o.get("text"), o.get("value")) for o in iso.get("options", [])]
        if parsed != listed:
            p.append("iso_class: its query gives %s but its options list %s" % (parsed, listed))
        for text, value in parsed:
            m = re.fullmatch(r"([1-4])-(rigid|flexible)", value)
            if not m:
                p.append("iso_class value %r is not GROUP-rigid|flexible" % value)
                continue
            key = (int(m.group(1)), m.group(2))
            classes[value] = key
            nums = [float(x) for x in re.findall(r"\d+(?:\.\d+)?(?= /| mm/s)", text.split("A/B", 1)[-1])]
            if tuple(nums) != ISO_10816_3[key]:
                p.append("iso_class %s says %s, ISO 10816-3 has %s" % (value, nums, ISO_10816_3[key]))
        if set(classes.values()) != set(ISO_10816_3):
            p.append("iso_class offers %s, want all of groups 1–4 × rigid/flexible" % sorted(classes.values()))
        cur = iso.get("current", {}).get("value")
        if classes.get(cur) != ISO_DEFAULT:
            p.append("iso_class defaults to %r, want group %d %s" % ((cur,) + ISO_DEFAULT))
    vps = velocity_panels(d)
    if not vps:
        p.append("no velocity panel")
    for x in vps:
        label = "panel %s (%s)" % (x["id"], x["title"])
        defaults = x.get("fieldConfig", {}).get("defaults", {})
        got = steps_of(defaults.get("thresholds"))
        if got[1:] != list(ISO_10816_3[ISO_DEFAULT]) or len(got) != 4:
            p.append("%s: default thresholds %s, want -∞ then %s" % (label, got, ISO_10816_3[ISO_DEFAULT]))
        if "description" not in x or "ISO 10816-3" not in x["description"] or "Table A.1" not in x["description"]:
            p.append("%s: the description does not say the numbers come from ISO 10816-3 Table A.1/A.2" % label)
        if x.get("type") == "timeseries" and defaults.get("custom", {}).get("thresholdsStyle", {}).get("mode", "off") == "off":
            p.append("%s: the zones are not drawn (thresholdsStyle off)" % label)
        for t in x.get("targets", []):
            alias = t.get("alias", "")
            if not re.search(r"\$\{?iso_class\b", alias):
                p.append("%s %s: the alias %r does not carry $iso_class" % (label, t.get("refId"), alias))
                continue
            for value, key in classes.items():
                series = re.sub(r"\$\{?iso_class\}?", value, alias)
                series = re.sub(r"\$\{?tag_(\w+)\}?", r"\1-value", series)
                hits = []
                for o in x.get("fieldConfig", {}).get("overrides", []):
                    mt = o.get("matcher", {})
                    th = [pr["value"] for pr in o.get("properties", []) if pr.get("id") == "thresholds"]
                    if not th:
                        continue
                    if (mt.get("id") == "byRegexp" and re.search(mt.get("options", ""), series)) or \
                       (mt.get("id") == "byName" and mt.get("options") == series):
                        hits.append(steps_of(th[0]))
                if len(hits) != 1:
                    p.append("%s: series %r matches %d threshold overrides, want 1" % (label, series, len(hits)))
                elif hits[0][1:] != list(ISO_10816_3[key]) or len(hits[0]) != 4:
                    p.append("%s: class %s has thresholds %s, ISO 10816-3 says %s" % (label, value, hits[0], ISO_10816_3[key]))
    report("%s: velocity zone thresholds are ISO 10816-3 Annex A's (Table A.1 group 1, A.2 group 2; 3 → 1, "
           "4 → 2), for every class of $iso_class, default group 2 rigid" % name, p)


def check_fleet(d, states):
    name = "vibewatch-fleet.json"
    panels = d.get("panels", [])
    p = []
    counts = [x for x in panels if len(x.get("targets", [])) == len(states)
              and all("state_code" in t.get("query", "") for t in x["targets"])]
    if not counts:
        p.append("no panel with one count query per state")
    for x in counts:
        got = {}
        for t in x["targets"]:   # Σ floor(1 / (1 + ("code" - N) * ("code" - N))): 1 for code N, else 0
            m = re.search(r'\(1 \+ \("code" - (\d+)\) \* \("code" - (\d+)\)\)', t.get("query", ""))
            got[t.get("alias")] = int(m.group(1)) if m and m.group(1) == m.group(2) else None
        want = {n: c for c, n in states.items()}
        if got != want:
            p.append("panel %s counts %s, want %s" % (x["id"], got, want))
        for o in x.get("fieldConfig", {}).get("overrides", []):
            st = o.get("matcher", {}).get("options")
            for pr in o.get("properties", []):
                if pr.get("id") == "color" and st in STATE_COLOURS and \
                        not colour_is(pr["value"].get("fixedColor"), STATE_COLOURS[st]):
                    p.append("panel %s: %s coloured %s" % (x["id"], st, pr["value"].get("fixedColor")))
    table = [x for x in panels if x.get("type") == "table"
             and {"state_code", "rul_h", "anomaly", "threshold"} <= set(re.findall(r'"(\w+)"', " ".join(t.get("query", "") for t in x.get("targets", []))))]
    if not table:
        p.append("no table with state_code, rul_h, anomaly and threshold")
    else:
        q = " ".join(t.get("query", "") for t in table[0]["targets"])
        for tag in ("box", "asset", "sensor", "axis"):
            if '"%s"' % tag not in q.split("GROUP BY")[-1]:
                p.append("the channel table is not grouped by %s" % tag)
        if not any(o.get("matcher", {}).get("options") == "Time" for o in table[0]["fieldConfig"].get("overrides", [])):
            p.append("the channel table does not show the time of the last point")
    text = json.dumps(d)
    for f in ("spool_bytes", "output_dropped_bytes", "snapshots_dropped", "gaps", "rss_bytes", "disk_free_bytes"):
        if '\\"%s\\"' % f not in text:
            p.append("no query reads vw_box %s" % f)
    if not re.search(r'(non_negative_)?derivative\(last\(\\"cpu_s\\"\)', text):
        p.append("no rate of cpu_s")
    if "dateTimeFromNow" not in text:
        p.append("no staleness (time since the last point, unit dateTimeFromNow)")
    report("%s: channels per state, a channel table (state, RUL, anomaly/threshold, box, time), vw_box metrics, "
           "CPU rate and staleness" % name, p)


def check_iso_source():
    """The box computes its zone (iso_zone) from models/iso10816.c: same numbers as the dashboard."""
    try:
        c = read("models/iso10816.c")
    except OSError as e:
        nok("models/iso10816.c has the ISO 10816-3 numbers", str(e))
        return
    m = re.search(r"limits\s*\[2\]\s*\[2\]\s*\[3\]\s*=\s*\{(.*?)\};", c, re.S)
    if not m:
        nok("models/iso10816.c has the ISO 10816-3 numbers", "its limits[2][2][3] table was not found")
        return
    nums = [float(x) for x in re.findall(r"\d+\.\d+|\d+", re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S))]
    want = list(ISO_10816_3[(1, "rigid")] + ISO_10816_3[(1, "flexible")] + ISO_10816_3[(2, "rigid")]
                + ISO_10816_3[(2, "flexible")])
    report("models/iso10816.c (the box's iso_zone) has the same ISO 10816-3 numbers",
           [] if nums == want else ["it has %s, want %s" % (nums, want)])


# ---- live: a real InfluxDB 1.6 -----------------------------------------------------------------------
DB = "vw_grafana_test"


def http(method, path, params, body=None):
    url = INFLUX_URL + path + "?" + urllib.parse.urlencode(params)
    req = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def lp_escape_tag(s):
    return re.sub(r"([ ,=])", r"\\\1", s)


def lp_value(kind, v):
    if kind == "str":
        return '"%s"' % str(v).replace("\\", "\\\\").replace('"', '\\"')
    if kind == "int":
        return "%di" % int(v)
    if kind == "bool":
        return "true" if v else "false"
    return repr(float(v))


def line(meas, tags, fields, t_ns, types):
    ts = ",".join("%s=%s" % (k, lp_escape_tag(v)) for k, v in tags.items())
    fs = ",".join("%s=%s" % (k, lp_value(types.get(k, "num"), v)) for k, v in fields.items())
    return "%s,%s %s %d" % (meas, ts, fs, t_ns)


CHANNELS = [("box-1", "pump-1", "de", "x"), ("box-1", "pump-1", "de", "y"), ("box-1", "pump-1", "de", "z"),
            ("box-2", "fan-1", "nde", "x"), ("box-2", "fan-1", "nde", "y"), ("box-2", "fan-1", "nde", "z")]


def make_points(schema, states, features, now_ns):
    """Points as the box writes them: 48 snapshots per channel, 30 min apart; channel i ends in the
    state of code i (so each state has one channel); events; vw_box once every 5 minutes."""
    types = field_types()
    lines = []
    step = 30 * 60 * 10**9
    codes = sorted(states)
    for i, (box, asset, sensor, axis) in enumerate(CHANNELS):
        tags = {"box": box, "asset": asset, "sensor": sensor, "axis": axis}
        for k in range(48):
            t = now_ns - (47 - k) * step - i * 10**9
            code = codes[i % len(codes)] if k == 47 else codes[1 % len(codes)]
            f = {}
            for j, name in enumerate(features):
                f[name] = 1 + j + 0.01 * k
            f.update({"state": states[code], "state_code": code, "diagnosis": "none"})
            f = {n: v for n, v in f.items() if n in schema["vw_features"]["fields"]}
            lines.append(line("vw_features", dict(tags, bearing="6205"), f, t, types))
            h = {}
            for name in schema["vw_health"]["fields"]:
                kind = types.get(name, "num")
                h[name] = {"str": "trend", "int": code, "bool": k > 30}.get(kind, 2.0 + 0.1 * k)
            h["rul_lo_h"], h["rul_h"], h["rul_hi_h"] = 100 - k, 200 - k, 400 - k
            h["state"], h["state_code"] = states[code], code
            lines.append(line("vw_health", tags, h, t, types))
        ev = dict(tags, kind="state")
        lines.append(line("vw_events", ev, {"from": "ok", "to": states[codes[i % len(codes)]], "count": 1},
                          now_ns - i * 10**9, types))
        ev = dict(tags, kind="maintenance")
        lines.append(line("vw_events", ev, {"detail": "new baseline", "count": 1}, now_ns - 20 * step, types))
    box_fields = schema["vw_box"]["fields"]
    for box in sorted({c[0] for c in CHANNELS}):
        for k in range(288):
            t = now_ns - (287 - k) * 5 * 60 * 10**9
            f = {n: (1 if n == "schema_version" else 1000.0 + k) for n in box_fields}
            if "cpu_s" in f:
                f["cpu_s"] = 30.0 * k
            lines.append(line("vw_box", {"box": box}, f, t, types))
    return "\n".join(lines) + "\n"


def regex_value(values):
    esc = [re.sub(r"([\\^$*+?.()|{}\[\]/])", r"\\\1", v) for v in values]
    return esc[0] if len(esc) == 1 else "(" + "|".join(esc) + ")"


def fill(q, values, from_ms, to_ms):
    q = q.replace("$timeFilter", "time >= %dms and time <= %dms" % (from_ms, to_ms))
    q = re.sub(r"\$\{?__interval\}?", "5m", q)

    def sub(m):
        n = m.group(1) or m.group(2)
        if n not in values:
            raise KeyError(n)
        return values[n]
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", sub, q)


def run(q):
    code, body = http("GET", "/query", {"db": DB, "q": q, "epoch": "ns"})
    try:
        doc = json.loads(body)
    except ValueError:
        return None, "HTTP %d: %s" % (code, body[:200])
    errs = [r.get("error") for r in doc.get("results", []) if r.get("error")] + ([doc["error"]] if "error" in doc else [])
    if code != 200 or errs:
        return None, "HTTP %d: %s" % (code, "; ".join(errs) or body[:200])
    return doc["results"], None


def live(docs, schema, states, features):
    name = "live: the queries of both dashboards run on a real InfluxDB 1.6 and find the box's points"
    if not INFLUX_URL:
        skip(name, LIVE_NOTE or "no influxd")
        return
    code, body = http("POST", "/query", {"q": 'CREATE DATABASE "%s"' % DB})
    if code != 200 or '"error"' in body:
        nok(name, "CREATE DATABASE: HTTP %d %s" % (code, body[:200]))
        return
    now_ns = (int(time.time()) - 60) * 10**9
    data = make_points(schema, states, features, now_ns)
    code, body = http("POST", "/write", {"db": DB, "precision": "ns"}, data.encode("utf-8"))
    if code != 204:
        nok(name, "writing %d lines: HTTP %d %s" % (data.count("\n"), code, body[:300]))
        return
    from_ms, to_ms = now_ns // 10**6 - 2 * 86400 * 1000, now_ns // 10**6 + 120 * 1000
    asset_vals = {"box": regex_value(["box-1"]), "asset": regex_value(["pump-1"]), "sensor": regex_value(["de"]),
                  "axis": regex_value(["x", "y", "z"])}
    fleet_vals = {"box": regex_value(["box-1", "box-2"])}
    p, n, results = [], 0, {}
    for rel, vals in (("deploy/grafana/vibewatch-asset.json", asset_vals), ("deploy/grafana/vibewatch-fleet.json", fleet_vals)):
        for where, q, panel, t in queries(docs[rel]):
            v = dict(vals)
            if panel is not None and panel.get("repeat") in v:   # a repeated panel has one value each
                v[panel["repeat"]] = regex_value(["x"])
            try:
                fq = fill(q, v, from_ms, to_ms)
            except KeyError as e:
                p.append("%s: %s: no value for $%s" % (os.path.basename(rel), where, e.args[0]))
                continue
            n += 1
            res, err = run(fq)
            if err:
                p.append("%s: %s: %s — %s" % (os.path.basename(rel), where, err, fq))
                continue
            results[(rel, where)] = res
            if any(not r.get("series") for r in res):
                p.append("%s: %s: no data — %s" % (os.path.basename(rel), where, fq))
    report(name.replace("the queries", "all %d queries" % n), p)
    if p:
        return

    # The fleet's numbers: one channel per state, one merged row per channel.
    fleet = docs["deploy/grafana/vibewatch-fleet.json"]
    p = []
    codes = {n: c for c, n in states.items()}
    box1 = [CHANNELS.index(c) for c in CHANNELS if c[0] == "box-1"]
    for where, q, panel, t in queries(fleet):
        if panel is None or t.get("alias") not in codes or "state_code" not in q:
            continue
        res = results[("deploy/grafana/vibewatch-fleet.json", where)]
        vals = [row[1] for r in res for s in r.get("series", []) for row in s["values"]]
        if vals != [1]:
            p.append("%s (%s) gives %s, want [1] (one channel in each state)" % (where, t.get("alias"), vals))
        # box-1 alone holds the channels 0..2: the other states must read 0, not nothing
        want = [1] if codes[t["alias"]] in [sorted(states)[i % len(states)] for i in box1] else [0]
        res, err = run(fill(q, {"box": regex_value(["box-1"])}, from_ms, to_ms))
        vals = [row[1] for r in res or [] for s in r.get("series", []) for row in s["values"]]
        if err or vals != want:
            p.append("%s (%s) with box=box-1 gives %s, want %s" % (where, t.get("alias"), err or vals, want))
    table = [x for x in fleet["panels"] if x.get("type") == "table" and len(x.get("targets", [])) == 2]
    for x in table:
        per = []
        for t in x["targets"]:
            res = results[("deploy/grafana/vibewatch-fleet.json", "panel %s (%s) %s" % (x["id"], x["title"], t["refId"]))]
            rows = {}
            for s in res[0]["series"]:
                key = tuple(s["tags"].get(k) for k in ("box", "asset", "sensor", "axis"))
                rows[key] = (s["values"][0][0], s["values"][0][s["columns"].index("state_code")])
            per.append(rows)
        want = {c: None for c in CHANNELS}
        if set(per[0]) != set(want) or set(per[1]) != set(want):
            p.append("panel %s: channels %s / %s, want the %d written" % (x["id"], sorted(per[0]), sorted(per[1]), len(CHANNELS)))
        for c in CHANNELS:
            if c in per[0] and c in per[1] and per[0][c] != per[1][c]:
                p.append("panel %s: %s: vw_features' last (time, state) %s ≠ vw_health's %s: the merge would split "
                         "the row" % (x["id"], "/".join(c), per[0][c], per[1][c]))
            elif c in per[0] and per[0][c][1] != sorted(states)[CHANNELS.index(c) % len(states)]:
                p.append("panel %s: %s: last state_code %s" % (x["id"], "/".join(c), per[0][c][1]))
    res = results.get(("deploy/grafana/vibewatch-asset.json", "variable asset"))
    got = sorted(row[1] for r in res or [] for s in r.get("series", []) for row in s["values"])
    if got != ["pump-1"]:
        p.append("variable asset with box=box-1 gives %s, want ['pump-1']" % got)
    report("live: the fleet counts one channel per state (0 for a state without one), its table merges vw_features and vw_health into one row "
           "per channel, the variables chain", p)


main()
sys.exit(1 if tap.failures else 0)
EOF

. "$top/tests/servers.sh"
cleanup() {
    servers_stop_all
    [ -n "$own_tmp" ] && rm -rf "$W"
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM

url= note=
if [ ! -x "$INFLUXD" ] || ! command -v curl >/dev/null 2>&1; then
    note="influxd ($INFLUXD) or curl is not installed (make deps)"
elif influx_start "$W/influx" 2>"$W/influx_start.err"; then
    url=$INFLUX_URL
else
    echo "not ok - $PROG: influxd did not start: $(head -c 300 "$W/influx_start.err" | tr '\n' ' ')"
    note="influxd did not start"
fi
"$PY" "$W/check.py" "$top" "$url" "$note"
