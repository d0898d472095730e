# tests/alert_servers.sh — the real servers of the alert tests, on 127.0.0.1 ports chosen free: an
# SMTP sink (tests/tools/smtp_sink.py, Debian's python3-aiosmtpd) and a webhook receiver
# (tests/tools/webhook_sink.py, Python's http.server), both run with /usr/bin/python3. A POSIX sh
# library in the style of tests/servers.sh (which it sources, for srv_stop_pid and tls_make_ca):
# `. tests/alert_servers.sh` from a test script run at the repository's top (or set VW_TOP), then
#
#   smtp_start DIR [OPT...]     the SMTP sink; saves each accepted message as DIR/mail/NNNN.eml
#                               (the bytes after dot-unstuffing) with its envelope in NNNN.json
#                               ({"mail_from", "rcpt_tos", "tls", "auth_user", "peer"}). Sets
#                               SMTP_PORT, SMTP_PID, SMTP_MAILDIR and SMTP_URL (smtp:// or, with
#                               --smtps, smtps://127.0.0.1:PORT). OPT: --starttls CERT KEY,
#                               --require-tls, --smtps CERT KEY, --auth USER:PASSWORD,
#                               --reject-rcpt ADDR, --fail-first N (451 to the first N DATA)
#   smtp_stop                   SIGTERM, up to 5 s, then SIGKILL
#   smtp_count                  prints how many messages the sink has saved
#   webhook_start DIR [OPT...]  the webhook receiver; one JSON line per request in DIR/webhook.jsonl
#                               ({"n", "method", "path", "query", "headers", "body", "body_b64",
#                               "tls", "time"}). Sets HOOK_PORT, HOOK_PID, HOOK_LOG and HOOK_URL
#                               (http:// or, with --tls, https://127.0.0.1:PORT). OPT: --status CODE,
#                               --location URL, --body TEXT, --fail-first N (500 with Retry-After: 1
#                               to the first N), --tls CERT KEY
#   webhook_stop
#   alert_servers_stop_all      stops whatever of the above runs: call it from the EXIT trap
#   alert_servers_have          true when /usr/bin/python3 with aiosmtpd is there (and openssl)
#   tls_make_ca DIR             (from tests/servers.sh) a CA and a certificate for 127.0.0.1;
#                               sets TLS_CA, TLS_CERT, TLS_KEY
#
# Every function returns non-zero and writes a reason to stderr on failure (for a start: the tail
# of the server's log, DIR/smtp_sink.log or DIR/webhook_sink.log). Example:
#
#   . tests/alert_servers.sh
#   trap alert_servers_stop_all EXIT
#   trap 'alert_servers_stop_all; exit 1' INT TERM     # (an EXIT trap alone misses a signal)
#   tls_make_ca "$W/tls" >/dev/null && smtp_start "$W/smtp" --starttls "$TLS_CERT" "$TLS_KEY" --auth u:pw
#   ... send to "$SMTP_URL" ...; ls "$SMTP_MAILDIR"

_as_top=${VW_TOP:-.}
# shellcheck source=tests/servers.sh
. "$_as_top/tests/servers.sh"
AS_PY=${SRV_PY:-/usr/bin/python3}
SMTP_PID=""; SMTP_PORT=""; SMTP_MAILDIR=""; SMTP_URL=""
HOOK_PID=""; HOOK_PORT=""; HOOK_LOG=""; HOOK_URL=""

alert_servers_have() {
    [ -x "$AS_PY" ] && "$AS_PY" -c 'import aiosmtpd' >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1
}

# _as_gone PID — the process has exited (a zombie child still answers kill -0)
_as_gone() {
    kill -0 "$1" 2>/dev/null || return 0
    case "$(ps -o stat= -p "$1" 2>/dev/null)" in Z*|"") return 0 ;; esac
    return 1
}

# _as_wait_port PORTFILE PID LOG NAME — up to ~10 s; prints the port
_as_wait_port() {
    _pf=$1; _pid=$2; _log=$3; _name=$4
    _i=0
    while [ $_i -lt 200 ]; do
        if [ -s "$_pf" ]; then
            _p=$(cat "$_pf")
            case "$_p" in ''|*[!0-9]*) ;; *) echo "$_p"; return 0 ;; esac
        fi
        if _as_gone "$_pid"; then
            echo "alert_servers: $_name (pid $_pid) exited at start; its log ends:" >&2
            tail -15 "$_log" >&2
            return 1
        fi
        sleep 0.05
        _i=$((_i + 1))
    done
    echo "alert_servers: $_name did not listen within 10 s; its log ends:" >&2
    tail -15 "$_log" >&2
    return 1
}

smtp_start() { # DIR [OPT...]
    _d=$1; shift
    [ -n "$SMTP_PID" ] && { echo "alert_servers: the SMTP sink already runs (pid $SMTP_PID)" >&2; return 1; }
    mkdir -p "$_d/mail" || return 1
    rm -f "$_d/smtp.port"
    _scheme=smtp
    for _a in "$@"; do [ "$_a" = --smtps ] && _scheme=smtps; done
    "$AS_PY" "$_as_top/tests/tools/smtp_sink.py" --port 0 --port-file "$_d/smtp.port" --maildir "$_d/mail" "$@" \
        >"$_d/smtp_sink.log" 2>&1 &
    SMTP_PID=$!
    SMTP_MAILDIR="$_d/mail"
    if ! SMTP_PORT=$(_as_wait_port "$_d/smtp.port" "$SMTP_PID" "$_d/smtp_sink.log" smtp_sink.py); then
        smtp_stop; return 1
    fi
    # shellcheck disable=SC2034 # for the caller
    SMTP_URL="$_scheme://127.0.0.1:$SMTP_PORT"
    return 0
}

smtp_stop() {
    srv_stop_pid "$SMTP_PID"
    SMTP_PID=""
}

smtp_count() {
    _n=0
    for _f in "$SMTP_MAILDIR"/*.eml; do [ -f "$_f" ] && _n=$((_n + 1)); done
    echo "$_n"
}

webhook_start() { # DIR [OPT...]
    _d=$1; shift
    [ -n "$HOOK_PID" ] && { echo "alert_servers: the webhook sink already runs (pid $HOOK_PID)" >&2; return 1; }
    mkdir -p "$_d" || return 1
    rm -f "$_d/webhook.port"
    _scheme=http
    for _a in "$@"; do [ "$_a" = --tls ] && _scheme=https; done
    HOOK_LOG="$_d/webhook.jsonl"
    : >"$HOOK_LOG"
    "$AS_PY" "$_as_top/tests/tools/webhook_sink.py" --port 0 --port-file "$_d/webhook.port" --log "$HOOK_LOG" "$@" \
        >"$_d/webhook_sink.log" 2>&1 &
    HOOK_PID=$!
    if ! HOOK_PORT=$(_as_wait_port "$_d/webhook.port" "$HOOK_PID" "$_d/webhook_sink.log" webhook_sink.py); then
        webhook_stop; return 1
    fi
    # shellcheck disable=SC2034 # for the caller
    HOOK_URL="$_scheme://127.0.0.1:$HOOK_PORT"
    return 0
}

webhook_stop() {
    srv_stop_pid "$HOOK_PID"
    HOOK_PID=""
}

alert_servers_stop_all() {
    smtp_stop
    webhook_stop
}
