# tests/servers.sh — real InfluxDB 1.6 and VictoriaMetrics servers for tests, on 127.0.0.1 ports
# chosen free. A POSIX sh library: `. tests/servers.sh` from a test script, then
#
#   influx_start DIR [auth]        influxd with a config of its own under DIR; sets INFLUX_PORT,
#                                  INFLUX_PID, INFLUX_URL. With "auth": auth-enabled, and an admin
#                                  $INFLUX_USER / $INFLUX_PASSWORD (default vw / vwsecret) created.
#   influx_start_tls DIR CERT KEY [auth]   the same over https (see tls_make_ca)
#   influx_stop                    SIGTERM, wait up to 5 s, then SIGKILL
#   influx_query DB QUERY          GET /query (epoch=ns by default: INFLUX_EPOCH= for RFC 3339);
#                                  prints the JSON answer
#   influx_create_db NAME          POST /query CREATE DATABASE
#   vm_start DIR [FLAG...]         victoria-metrics on DIR/data; sets VM_PORT, VM_PID, VM_URL.
#                                  Extra flags are passed on (e.g. -httpAuth.username=u ...)
#   vm_start_tls DIR CERT KEY [FLAG...]    the same with its own -tls
#   vm_stop, vm_flush              force_flush makes what was written searchable at once
#   vm_export SELECTOR             GET /api/v1/export?match[]=SELECTOR: prints JSON lines
#   tls_make_ca DIR                a CA, a server certificate for 127.0.0.1 and localhost and a
#                                  client certificate, signed by it; sets and prints TLS_CA,
#                                  TLS_CERT, TLS_KEY, TLS_CLIENT_CERT, TLS_CLIENT_KEY
#   servers_stop_all               stops whatever of the above runs: call it from the EXIT trap
#   servers_have                   true when influxd, victoria-metrics, curl and openssl are there
#
# Every function returns non-zero and writes a reason to stderr on failure (for a start: the tail of
# the server's log). Logs: DIR/influxd.log, DIR/victoria-metrics.log. Facts about both servers
# (endpoints, auth, name mapping, precision) are in the comments by each function.

SRV_PY=/usr/bin/python3
INFLUXD=${INFLUXD:-/usr/bin/influxd}
VICTORIA=${VICTORIA:-/usr/bin/victoria-metrics}
INFLUX_PID=""; INFLUX_PORT=""; INFLUX_URL=""; INFLUX_CURL_TLS=""; INFLUX_AUTH=""
VM_PID=""; VM_PORT=""; VM_URL=""; VM_CURL_TLS=""
: "${INFLUX_USER:=vw}" "${INFLUX_PASSWORD:=vwsecret}"

servers_have() {
    [ -x "$INFLUXD" ] && [ -x "$VICTORIA" ] && [ -x "$SRV_PY" ] \
        && command -v curl >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1
}

srv_free_port() {
    "$SRV_PY" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"
}

# srv_wait_http URL WANT_CODE PID LOG [CURL_OPTS] — up to ~10 s, 0.05 s apart
srv_wait_http() {
    _u=$1; _want=$2; _pid=$3; _log=$4; _opts=${5:-}
    _i=0
    while [ $_i -lt 200 ]; do
        # shellcheck disable=SC2086
        _c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 $_opts "$_u" 2>/dev/null)
        [ "$_c" = "$_want" ] && return 0
        if ! kill -0 "$_pid" 2>/dev/null; then
            echo "servers: the server (pid $_pid) exited before $_u answered; its log ends:" >&2
            tail -15 "$_log" >&2
            return 1
        fi
        sleep 0.05
        _i=$((_i + 1))
    done
    echo "servers: $_u did not answer $_want within 10 s (last: $_c); the log ends:" >&2
    tail -15 "$_log" >&2
    return 1
}

# srv_stop_pid PID — SIGTERM, up to 5 s, then SIGKILL; reaps it when it is our child
srv_stop_pid() {
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }
    _i=0
    while kill -0 "$1" 2>/dev/null && [ $_i -lt 40 ]; do
        # a zombie child still answers kill -0: look at its state
        _st=$(ps -o stat= -p "$1" 2>/dev/null)
        case "$_st" in Z*|"") break ;; esac
        sleep 0.1; _i=$((_i + 1))
    done
    if [ $_i -ge 40 ]; then
        echo "servers: pid $1 ignored SIGTERM for 5 s: SIGKILL" >&2
        kill -KILL "$1" 2>/dev/null
    fi
    wait "$1" 2>/dev/null
    return 0
}

# ---- InfluxDB 1.6 -----------------------------------------------------------------------------
# influxd 1.6 has: /write?db=&precision=n|ns|u|ms|s|m|h (204; an unknown precision is taken as ns),
# /query, /ping (204). No /api/v2/write (that came in 1.8): 404. A database must exist (404
# "database not found" otherwise). A bad line or a field-type conflict: 400 "partial write: …", the
# good lines of that body are stored. Auth (auth-enabled): Basic or ?u=&p=; "Authorization: Token"
# is refused (401 "unable to parse authentication credentials"), Bearer needs shared-secret (JWT).
_influx_launch() { # DIR AUTH CERT KEY
    _d=$1; _auth=$2; _cert=$3; _key=$4
    [ -n "$INFLUX_PID" ] && { echo "servers: influxd already runs (pid $INFLUX_PID)" >&2; return 1; }
    mkdir -p "$_d/meta" "$_d/data" "$_d/wal" || return 1
    INFLUX_PORT=${INFLUX_REUSE_PORT:-$(srv_free_port)} || return 1 # REUSE_PORT: a restart on the same port
    _rpc=$(srv_free_port) || return 1
    while [ "$_rpc" = "$INFLUX_PORT" ]; do _rpc=$(srv_free_port); done
    _https=false; INFLUX_CURL_TLS=""; _scheme=http
    if [ -n "$_cert" ]; then
        _https=true; _scheme=https
        INFLUX_CURL_TLS="--cacert ${TLS_CA:-$(dirname "$_cert")/ca.pem}"
    fi
    INFLUX_AUTH=""
    _authcfg=false
    [ "$_auth" = auth ] && _authcfg=true
    cat >"$_d/influxdb.conf" <<EOF
reporting-enabled = false
bind-address = "127.0.0.1:$_rpc"

[meta]
  dir = "$_d/meta"
  retention-autocreate = true
  logging-enabled = false

[data]
  dir = "$_d/data"
  wal-dir = "$_d/wal"
  index-version = "inmem"
  wal-fsync-delay = "0s"
  query-log-enabled = false
  cache-max-memory-size = 67108864
  trace-logging-enabled = false

[coordinator]
  log-queries-after = "0s"

[retention]
  enabled = false

[shard-precreation]
  enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:$INFLUX_PORT"
  auth-enabled = $_authcfg
  log-enabled = false
  suppress-write-log = true
  write-tracing = false
  pprof-enabled = false
  https-enabled = $_https
  https-certificate = "$_cert"
  https-private-key = "$_key"
  unix-socket-enabled = false

[ifql]
  enabled = false

[logging]
  format = "logfmt"
  level = "warn"
  suppress-logo = true

[[graphite]]
  enabled = false
[[collectd]]
  enabled = false
[[opentsdb]]
  enabled = false
[[udp]]
  enabled = false

[continuous_queries]
  enabled = false
  log-enabled = false
EOF
    "$INFLUXD" run -config "$_d/influxdb.conf" >"$_d/influxd.log" 2>&1 &
    INFLUX_PID=$!
    INFLUX_URL="$_scheme://127.0.0.1:$INFLUX_PORT"
    if ! srv_wait_http "$INFLUX_URL/ping" 204 "$INFLUX_PID" "$_d/influxd.log" "$INFLUX_CURL_TLS"; then
        influx_stop; return 1
    fi
    if [ "$_auth" = auth ]; then
        # with no user yet, 1.x lets anyone create the first admin
        _r=$(influx_q_post "" "CREATE USER \"$INFLUX_USER\" WITH PASSWORD '$INFLUX_PASSWORD' WITH ALL PRIVILEGES")
        case "$_r" in *error*) echo "servers: creating the admin failed: $_r" >&2; influx_stop; return 1 ;; esac
        INFLUX_AUTH="-u $INFLUX_USER:$INFLUX_PASSWORD"
    fi
    return 0
}
influx_start() { _influx_launch "$1" "${2:-}" "" ""; }
influx_start_tls() { _influx_launch "$1" "${4:-}" "$2" "$3"; }

influx_stop() {
    srv_stop_pid "$INFLUX_PID"
    INFLUX_PID=""
}

influx_q_post() { # DB QUERY — for statements that change something (CREATE, DROP)
    # shellcheck disable=SC2086
    curl -sS --max-time 10 $INFLUX_CURL_TLS $INFLUX_AUTH -XPOST "$INFLUX_URL/query" \
        --data-urlencode "db=$1" --data-urlencode "q=$2"
}

influx_query() { # DB QUERY → JSON on stdout; times as integer ns unless INFLUX_EPOCH is set otherwise
    _ep=${INFLUX_EPOCH-ns}
    # shellcheck disable=SC2086
    curl -sS --max-time 10 $INFLUX_CURL_TLS $INFLUX_AUTH -G "$INFLUX_URL/query" \
        --data-urlencode "db=$1" --data-urlencode "q=$2" ${_ep:+--data-urlencode "epoch=$_ep"}
}

influx_create_db() { # NAME
    _r=$(influx_q_post "" "CREATE DATABASE \"$1\"") || return 1
    case "$_r" in *'"error"'*) echo "servers: CREATE DATABASE $1: $_r" >&2; return 1 ;; esac
    return 0
}

# ---- VictoriaMetrics 1.79 -----------------------------------------------------------------------
# /write, /api/v2/write, /influx/write, /influx/api/v2/write all take line protocol (204). Without
# -httpAuth.* no auth at all (a Token header is ignored); with -httpAuth.username (non-empty) and
# -httpAuth.password only Basic auth passes, Token/Bearer/?u=&p= get 401. measurement + field →
# metric "measurement_field"; ?db=NAME adds the label db="NAME" (a tag named db wins); org and bucket
# are ignored. A string field is stored as value 0, a bool as 1/0, NaN is dropped. Timestamps are
# milliseconds: ns are truncated. Bad lines are skipped with 204 (only logged). Points older than the
# retention or more than 2 days ahead are dropped silently with 204. Duplicates are kept unless
# -dedup.minScrapeInterval is set. Not searchable for up to ~10 s unless vm_flush.
# Flags: data under DIR/data; no self-scrape (the default); -search.latencyOffset=0s and
# -search.disableCache so a point is visible right after vm_flush; -retentionPeriod=100y so points
# with old timestamps (test data from years ago) are kept — outside the retention they are dropped
# silently; log only errors.
_vm_launch() { # DIR CERT KEY [FLAG...]
    _d=$1; _cert=$2; _key=$3; shift 3
    [ -n "$VM_PID" ] && { echo "servers: victoria-metrics already runs (pid $VM_PID)" >&2; return 1; }
    mkdir -p "$_d/data" || return 1
    VM_PORT=${VM_REUSE_PORT:-$(srv_free_port)} || return 1
    VM_CURL_TLS=""; _scheme=http
    if [ -n "$_cert" ]; then
        _scheme=https
        VM_CURL_TLS="--cacert ${TLS_CA:-$(dirname "$_cert")/ca.pem}"
        set -- -tls "-tlsCertFile=$_cert" "-tlsKeyFile=$_key" "$@"
    fi
    "$VICTORIA" -storageDataPath="$_d/data" -httpListenAddr="127.0.0.1:$VM_PORT" \
        -retentionPeriod=100y -search.latencyOffset=0s -search.disableCache \
        -loggerLevel=ERROR -http.shutdownDelay=0s -http.maxGracefulShutdownDuration=1s \
        -memory.allowedBytes=64MiB "$@" >"$_d/victoria-metrics.log" 2>&1 &
    VM_PID=$!
    VM_URL="$_scheme://127.0.0.1:$VM_PORT"
    # /health answers "OK" without auth, even when -httpAuth.* is set
    if ! srv_wait_http "$VM_URL/health" 200 "$VM_PID" "$_d/victoria-metrics.log" "$VM_CURL_TLS"; then
        vm_stop; return 1
    fi
    return 0
}
vm_start() { _d=$1; shift; _vm_launch "$_d" "" "" "$@"; }
vm_start_tls() { _d=$1; _c=$2; _k=$3; shift 3; _vm_launch "$_d" "$_c" "$_k" "$@"; }

vm_stop() {
    srv_stop_pid "$VM_PID"
    VM_PID=""
}

# VM_CURL_AUTH (e.g. "-u user:pass") is added to the helpers' requests when the test sets it.
vm_flush() {
    # shellcheck disable=SC2086
    curl -sS --max-time 10 -o /dev/null -f $VM_CURL_TLS ${VM_CURL_AUTH:-} "$VM_URL/internal/force_flush"
}

vm_export() { # SELECTOR → JSON lines {"metric":{...},"values":[...],"timestamps":[ms...]}
    # shellcheck disable=SC2086
    curl -sS --max-time 10 $VM_CURL_TLS ${VM_CURL_AUTH:-} -G "$VM_URL/api/v1/export" \
        --data-urlencode "match[]=$1" --data-urlencode "start=0"
}

# ---- TLS ----------------------------------------------------------------------------------------
tls_make_ca() { # DIR → DIR/ca.pem ca.key server.pem server.key (EC P-256, 10 years)
    _d=$1
    mkdir -p "$_d" || return 1
    TLS_CA="$_d/ca.pem"; TLS_CERT="$_d/server.pem"; TLS_KEY="$_d/server.key"
    {
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
            -subj "/CN=vibewatch test CA" -keyout "$_d/ca.key" -out "$TLS_CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" &&
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -subj "/CN=127.0.0.1" -keyout "$TLS_KEY" -out "$_d/server.csr" &&
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' >"$_d/server.ext" &&
        openssl x509 -req -in "$_d/server.csr" -CA "$TLS_CA" -CAkey "$_d/ca.key" -CAcreateserial \
            -days 3650 -extfile "$_d/server.ext" -out "$TLS_CERT"
    } >"$_d/openssl.log" 2>&1 || { echo "servers: openssl failed:" >&2; tail -5 "$_d/openssl.log" >&2; return 1; }
    # a client certificate signed by the same CA, for servers that ask for one
    TLS_CLIENT_CERT="$_d/client.pem"; TLS_CLIENT_KEY="$_d/client.key"
    {
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -subj "/CN=vibewatch box" -keyout "$TLS_CLIENT_KEY" -out "$_d/client.csr" &&
        printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >"$_d/client.ext" &&
        openssl x509 -req -in "$_d/client.csr" -CA "$TLS_CA" -CAkey "$_d/ca.key" -CAcreateserial \
            -days 3650 -extfile "$_d/client.ext" -out "$TLS_CLIENT_CERT"
    } >>"$_d/openssl.log" 2>&1 || { echo "servers: openssl failed:" >&2; tail -5 "$_d/openssl.log" >&2; return 1; }
    chmod 600 "$TLS_KEY" "$_d/ca.key" "$TLS_CLIENT_KEY"
    printf 'TLS_CA=%s\nTLS_CERT=%s\nTLS_KEY=%s\nTLS_CLIENT_CERT=%s\nTLS_CLIENT_KEY=%s\n' "$TLS_CA" "$TLS_CERT" \
        "$TLS_KEY" "$TLS_CLIENT_CERT" "$TLS_CLIENT_KEY"
}

servers_stop_all() {
    influx_stop
    vm_stop
}
