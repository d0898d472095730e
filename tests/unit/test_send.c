/* tests/unit/test_send.c — alerts/send.c through the real libcurl against real servers on loopback
 * ports: tests/tools/smtp_sink.py (Debian's python3-aiosmtpd) and tests/tools/webhook_sink.py
 * (Python's http.server), run with /usr/bin/python3 on a free port each, killed at the end of their
 * test (and by PR_SET_PDEATHSIG and an atexit hook should this program stop early). The TLS tests
 * use a CA and a server certificate for 127.0.0.1 made with openssl (tls_make_ca of
 * tests/servers.sh) in the test's temporary folder.
 *
 * SMTP: two recipients in the clear, the saved message byte-equal to what was sent (a "." line and
 * lines starting with dots survive the SMTP dot-stuffing) and the envelope as given; opportunistic
 * STARTTLS against a server without it; STARTTLS required + AUTH delivered over TLS with the CA,
 * refused without it (the system's CAs) as a certificate error; a wrong password (535, retried);
 * STARTTLS required, or credentials with "try", against a server without STARTTLS: nothing sent;
 * smtps:// with AUTH; 451 to the first DATA (retried) then delivered; a refused lone recipient (550,
 * not retried) and a refused one of two (delivered, the refusal in the answer); connection refused
 * and a server that never greets (code 0, retried, bounded by the timeout, the URL named).
 * Webhook: POST of JSON and PUT of a form body arrive byte-exact with their Content-Type, extra
 * headers, basic auth (decoded), a bearer token and the Idempotency-Key; 500 and 429 are retried,
 * 400 is not; a 302 is not followed and its Location is named; https with the CA, and without it a
 * certificate error. Bad configurations are refused (-EINVAL) without a password in the message.
 *
 * VW_TEST_ONLY=NAME runs the tests whose name contains NAME; VW_TEST_VERBOSE=1 prints every result
 * (code, answer, error) on stderr.
 */
#define _GNU_SOURCE
#include "alerts/send.h"
#include "testlib.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PYTHON "/usr/bin/python3"

/* ---- helpers ---------------------------------------------------------------------------------- */

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs argv (stdout and stderr to /dev/null); its exit status, or -1. */
static int run_quiet(const char *const *argv)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The whole file (NUL-terminated, *len its size) or NULL; free() it. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t k;
    while (buf && (k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (cap - n < 2) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        if (len)
            *len = n;
    }
    return buf;
}

static cJSON *read_json(const char *path)
{
    char *s = slurp(path, NULL);
    cJSON *j = s ? cJSON_Parse(s) : NULL;
    free(s);
    return j;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Base64 (with padding) into out; the length, or -1. */
static long b64decode(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; *in && *in != '='; in++) {
        int v = b64val((unsigned char)*in);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n + 1 >= cap)
                return -1;
            out[n++] = (char)((acc >> bits) & 0xFF);
        }
    }
    out[n] = 0;
    return (long)n;
}

/* A loopback port nothing listens on (bound then closed). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &al) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* VW_TEST_VERBOSE=1: every result on stderr, to see what the servers answered. */
static void show(const char *what, int rc, const alerts_send_result *r)
{
    const char *v = getenv("VW_TEST_VERBOSE");
    if (v && *v && strcmp(v, "0") != 0)
        fprintf(stderr, "  %s: rc %d code %d retry %d\n    answer: %s\n    error:  %s\n", what, rc, r->code, r->retry,
                r->answer, r->error);
}
#define SMTP_SEND(c, m, n, r) smtp_send_shown(__LINE__, (c), (m), (n), (r))
#define HTTP_SEND(c, b, n, r) http_send_shown(__LINE__, (c), (b), (n), (r))
static int smtp_send_shown(int line, const alerts_smtp_cfg *c, const char *m, size_t n, alerts_send_result *r)
{
    int rc = alerts_smtp_send(c, m, n, r);
    char what[64];
    snprintf(what, sizeof what, "line %d smtp", line);
    show(what, rc, r);
    return rc;
}
static int http_send_shown(int line, const alerts_http_cfg *c, const char *b, size_t n, alerts_send_result *r)
{
    int rc = alerts_http_send(c, b, n, r);
    char what[64];
    snprintf(what, sizeof what, "line %d http", line);
    show(what, rc, r);
    return rc;
}

/* ---- the servers -------------------------------------------------------------------------------- */

static char tools[1024], testsdir[1024];

/* True when python3-aiosmtpd and openssl are here and the sink scripts found; a skip otherwise. */
static bool have_servers(void)
{
    static int state; /* 0 unknown, 1 yes, 2 no */
    static char why[300];
    if (state == 0) {
        const char *t = t_repo_dir("tests/tools");
        if (t)
            snprintf(tools, sizeof tools, "%s", t);
        const char *d = t_repo_dir("tests");
        if (d)
            snprintf(testsdir, sizeof testsdir, "%s", d);
        const char *py[] = {PYTHON, "-c", "import aiosmtpd", NULL};
        const char *ossl[] = {"/bin/sh", "-c", "command -v openssl", NULL};
        char f[1200];
        snprintf(f, sizeof f, "%s/smtp_sink.py", tools);
        if (!tools[0] || !testsdir[0] || access(f, R_OK) != 0)
            snprintf(why, sizeof why, "tests/tools/smtp_sink.py not found (run from the repository's top folder)");
        else if (access(PYTHON, X_OK) != 0 || run_quiet(py) != 0)
            snprintf(why, sizeof why, "%s with aiosmtpd is missing (apt-get install python3-aiosmtpd)", PYTHON);
        else if (run_quiet(ossl) != 0)
            snprintf(why, sizeof why, "openssl is missing (apt-get install openssl)");
        state = why[0] ? 2 : 1;
    }
    if (state == 2)
        t_skip("%s", why);
    return state == 1;
}

typedef struct server {
    pid_t pid;
    int port;
    char dir[700];
    char maildir[760], log[760], portfile[760], errfile[760];
} server;

/* Starts tests/tools/KIND_sink.py ("smtp" or "webhook") on a free port with extra arguments
 * (NULL-terminated); false with a failed check when it does not come up. */
static bool server_start(server *sv, const char *kind, const char *const *extra)
{
    static int serial;
    memset(sv, 0, sizeof *sv);
    snprintf(sv->dir, sizeof sv->dir, "%s/%s%d", t_tmpdir(), kind, serial++);
    mkdir(sv->dir, 0755);
    snprintf(sv->maildir, sizeof sv->maildir, "%s/mail", sv->dir);
    snprintf(sv->log, sizeof sv->log, "%s/requests.jsonl", sv->dir);
    snprintf(sv->portfile, sizeof sv->portfile, "%s/port", sv->dir);
    snprintf(sv->errfile, sizeof sv->errfile, "%s/stderr", sv->dir);
    char script[1200];
    snprintf(script, sizeof script, "%s/%s_sink.py", tools, kind);
    const char *argv[40] = {PYTHON, script, "--port", "0", "--port-file", sv->portfile};
    int argc = 6;
    if (strcmp(kind, "smtp") == 0) {
        argv[argc++] = "--maildir";
        argv[argc++] = sv->maildir;
    } else {
        argv[argc++] = "--log";
        argv[argc++] = sv->log;
    }
    for (int i = 0; extra && extra[i] && argc < 38; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    pid_t pid = t_server_start(argv, sv->errfile, sv->portfile, 15, &sv->port);
    if (pid > 0) {
        sv->pid = pid;
        return true;
    }
    if (pid == T_SERVER_EXITED) {
        char *err = slurp(sv->errfile, NULL);
        T_CHECK(0, "%s_sink.py exited at start: %.300s", kind, err ? err : "");
        free(err);
    } else if (pid == T_SERVER_SLOW) {
        T_CHECK(0, "%s_sink.py did not listen within 15 s (see %s)", kind, sv->errfile);
    } else {
        T_CHECK(0, "fork: %s", strerror(errno));
    }
    return false;
}

static void server_stop(server *sv)
{
    t_server_stop(sv->pid);
    sv->pid = 0;
}

/* How many messages the SMTP sink saved. */
static int mail_count(const server *sv)
{
    int n = 0;
    char p[900];
    for (int i = 1; i < 1000; i++) {
        snprintf(p, sizeof p, "%s/%04d.eml", sv->maildir, i);
        if (access(p, F_OK) != 0)
            break;
        n++;
    }
    return n;
}

/* Message i (from 1) of the SMTP sink and its envelope. */
static char *mail_get(const server *sv, int i, size_t *len, cJSON **env)
{
    char p[900];
    snprintf(p, sizeof p, "%s/%04d.json", sv->maildir, i);
    *env = read_json(p);
    snprintf(p, sizeof p, "%s/%04d.eml", sv->maildir, i);
    return slurp(p, len);
}

/* The webhook sink's requests (a JSON array built from its lines). */
static cJSON *hook_requests(const server *sv)
{
    cJSON *arr = cJSON_CreateArray();
    char *s = slurp(sv->log, NULL);
    for (char *line = s, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        cJSON *j = cJSON_Parse(line);
        if (j)
            cJSON_AddItemToArray(arr, j);
        if (!next)
            break;
    }
    free(s);
    return arr;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A request header (name case-insensitive), or NULL. */
static const char *jheader(const cJSON *req, const char *name)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(req, "headers");
    const cJSON *v = h ? cJSON_GetObjectItem(h, name) : NULL; /* cJSON_GetObjectItem ignores case */
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The request's body bytes (from body_b64) into out; its length or -1. */
static long jbody(const cJSON *req, char *out, size_t cap)
{
    const char *b = jstr(req, "body_b64");
    return b ? b64decode(b, out, cap) : -1;
}

/* CA, certificate and key for 127.0.0.1, made once per run; false with a failed check. */
static char ca_pem[800], cert_pem[800], key_pem[800];
static bool make_ca(void)
{
    static int state;
    if (state == 0) {
        char dir[700], script[1200];
        snprintf(dir, sizeof dir, "%s/tls", t_tmpdir());
        snprintf(script, sizeof script, "%s/servers.sh", testsdir);
        const char *argv[] = {"/bin/sh", "-c", ". \"$1\" && tls_make_ca \"$2\"", "sh", script, dir, NULL};
        snprintf(ca_pem, sizeof ca_pem, "%s/ca.pem", dir);
        snprintf(cert_pem, sizeof cert_pem, "%s/server.pem", dir);
        snprintf(key_pem, sizeof key_pem, "%s/server.key", dir);
        state = run_quiet(argv) == 0 && access(ca_pem, R_OK) == 0 && access(key_pem, R_OK) == 0 ? 1 : 2;
    }
    T_CHECK(state == 1, "making a test CA with openssl (tls_make_ca of tests/servers.sh) failed");
    return state == 1;
}

/* ---- SMTP ------------------------------------------------------------------------------------ */

static const char MSG[] =
    "From: Vibewatch <box@example.com>\r\n"
    "To: a@example.com, b@example.com\r\n"
    "Subject: pump-3: outer race fault\r\n"
    "Message-ID: <alert-1@box.example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=UTF-8\r\n"
    "\r\n"
    "Outer race fault on pump-3 (BPFO 107.4 Hz).\r\n"
    ".a line that starts with a dot\r\n"
    "..and one with two\r\n"
    ".\r\n"
    "the line above is a lone dot; the end.\r\n";

static const char *const TWO[] = {"a@example.com", "b@example.com"};

static char url_buf[128];
static const char *url_of(const char *scheme, int port)
{
    snprintf(url_buf, sizeof url_buf, "%s://127.0.0.1:%d", scheme, port);
    return url_buf;
}

static alerts_smtp_cfg smtp_cfg(const char *url, enum alerts_tls tls)
{
    alerts_smtp_cfg c = {0};
    c.url = url;
    c.tls = tls;
    c.from_addr = "box@example.com";
    c.rcpt = TWO;
    c.nrcpt = 2;
    c.timeout_s = 5;
    return c;
}

/* The saved message i equals MSG and its envelope is from box@ to the n addresses of rcpt. */
static void check_delivered(const server *sv, int i, const char *const *rcpt, size_t n, bool tls, const char *user)
{
    size_t len = 0;
    cJSON *env = NULL;
    char *got = mail_get(sv, i, &len, &env);
    T_CHECK(got != NULL, "message %d was not saved in %s", i, sv->maildir);
    if (got)
        T_CHECK(len == sizeof MSG - 1 && memcmp(got, MSG, len) == 0,
                "the saved message differs from what was sent (%zu bytes, want %zu): %.200s", len, sizeof MSG - 1,
                got);
    T_CHECK(env != NULL, "envelope %d missing", i);
    if (env) {
        const char *from = jstr(env, "mail_from");
        T_CHECK(from && strcmp(from, "box@example.com") == 0, "MAIL FROM %s", from ? from : "(none)");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(env, "rcpt_tos");
        T_CHECK(cJSON_GetArraySize(to) == (int)n, "%d recipients in the envelope, want %zu", cJSON_GetArraySize(to),
                n);
        for (size_t k = 0; k < n && k < (size_t)cJSON_GetArraySize(to); k++) {
            const cJSON *a = cJSON_GetArrayItem(to, (int)k);
            T_CHECK(cJSON_IsString(a) && strcmp(a->valuestring, rcpt[k]) == 0, "RCPT TO %zu: %s, want %s", k,
                    cJSON_IsString(a) ? a->valuestring : "?", rcpt[k]);
        }
        T_CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(env, "tls")) == tls, "delivered %s TLS, want %s",
                tls ? "without" : "over", tls ? "over it" : "without");
        const char *au = jstr(env, "auth_user");
        if (user)
            T_CHECK(au && strcmp(au, user) == 0, "authenticated as %s, want %s", au ? au : "(nobody)", user);
        else
            T_CHECK(au == NULL, "authenticated as %s, want no AUTH", au);
    }
    cJSON_Delete(env);
    free(got);
}

static void test_smtp_plain_two_recipients(void)
{
    server sv;
    if (!have_servers() || !server_start(&sv, "smtp", NULL))
        return;
    alerts_smtp_cfg c = smtp_cfg(url_of("smtp", sv.port), ALERTS_TLS_NONE);
    alerts_send_result r;
    int rc = SMTP_SEND(&c, MSG, sizeof MSG - 1, &r);
    T_CHECK(rc == 0, "send: %d: %s (answer %s)", rc, r.error, r.answer);
    T_CHECK(r.code == 250, "code %d, want 250", r.code);
    T_CHECK(t_starts_with(r.answer, "250"), "answer \"%s\"", r.answer);
    T_CHECK(r.error[0] == 0 && !r.retry, "error \"%s\" retry %d on success", r.error, r.retry);
    T_CHECK(mail_count(&sv) == 1, "%d messages saved, want 1", mail_count(&sv));
    check_delivered(&sv, 1, TWO, 2, false, NULL);

    /* opportunistic STARTTLS, no credentials: the server has none, so in the clear */
    c.tls = ALERTS_TLS_TRY;
    rc = SMTP_SEND(&c, MSG, sizeof MSG - 1, &r);
    T_CHECK(rc == 0, "tls=try without STARTTLS on the server: %d: %s", rc, r.error);
    T_CHECK(mail_count(&sv) == 2, "%d messages saved, want 2", mail_count(&sv));
    check_delivered(&sv, 2, TWO, 2, false, NULL);
    server_stop(&sv);
}

static void test_smtp_starttls_auth_with_ca(void)
{
    server sv;
    if (!have_servers() || !make_ca())
        return;
    const char *args[] = {"--starttls", cert_pem, key_pem, "--require-tls", "--auth", "vw:s3cret word", NULL};
    if (!server_start(&sv, "smtp", args))
        return;
    alerts_smtp_cfg c = smtp_cfg(url_of("smtp", sv.port), ALERTS_TLS_REQUIRED);
    c.user = "vw";
    c.password = "s3cret word";
    c.ca_file = ca_pem;
    alerts_send_result r;
    int rc = SMTP_SEND(&c, MSG, sizeof MSG - 1, &r);
    T_CHECK(rc == 0, "STARTTLS + AUTH: %d: %s (answer %s)", rc, r.error, r.answer);
    T_CHECK(r.code == 250, "code %d", r.code);
    T_CHECK(mail_count(&sv) == 1, "%d saved", mail_count(&sv));
    check_delivered(&sv, 1, TWO, 2, true, "vw");

    /* "try" with credentials is "required": the same server takes it over TLS too */
    c.tls = ALERTS_TLS_TRY;
    rc = SMTP_SEND(&c, MSG, sizeof MSG - 1, &r);
    T_CHECK(rc == 0, "tls=try + AUTH: %d: %s", rc, r.error);
    if (mail_count(&sv) == 2)
        check_delivered(&sv, 2, TWO, 2, true, "vw");

    /* the certificate is checked: not signed by a CA the system knows */
    c.tls = ALERTS_TLS_REQUIRED;
    c.ca_file = NULL;
    rc = SMTP_SEND(&c, MSG, sizeof MSG - 1, &r);
    T_CHECK(rc == -EIO, "no CA: %d, want -EIO", rc);
    T_CHECK(r.retry, "a TLS failure is retried");
    T_CHECK(strstr(r.error, "TLS") && (strstr(r.error, "certificate") || strstr(r.error, "SSL")),
            "error \"%s\" does not say TLS/certificate", r.error);
    T_CHECK(strstr(r.error, c.url) != NULL, "error \"%s\" does not name %s", r.error, c.url);
    T_CHECK(mail_count(&sv) == 2, "%d saved after a certificate failure", mail_count(&sv));

    /* tls_insecure (tests only) skips the check */
    c.tls_insecure = true;
    rc = SMTP_SEND(&c, MSG, sizeof MSG - 1, &r);
    T_CHECK(rc == 0, "tls_insecure: %d: %s", rc, r.error);

    /* a wrong password: 535, worth retrying after the configuration is fixed */
    c.tls_insecure = false;
    c.ca_file = ca_pem;
    c.password = "wrong-pass";
    rc = SMTP_SEND(&c, MSG, sizeof MSG - 1, &r);
    T_CHECK(rc == -EIO, "wrong password: %d, want -EIO", rc);
    T_CHECK(r.code == 535, "wrong password: code %d, want 535 (answer \"%s\")", r.code, r.answer);
    T_CHECK(r.retry, "an authentication failure is retried");
    T_CHECK(strstr(r.answer, "535") != NULL, "answer \"%s\" lacks the 535", r.answer);
    T_CHECK(strstr(r.error, "535") && strstr(r.error, "vw") && strstr(r.error, c.url),
            "error \"%s\" should name the URL, the user and the 535", r.error);
    T_CHECK(!strstr(r.error, "wrong-pass") && !strstr(r.answer, "wrong-pass"), "the password leaked: %s", r.error);
    T_CHECK(mail_count(&sv) == 3, "%d saved after a refused AUTH", mail_count(&sv));

    /* tls none to a server that requires STARTTLS: refused for good, nothing sent */
    c.password = "s3cret word";
    c.user = NULL;
    c.tls = ALERTS_TLS_NONE;
    rc = SMTP_SEND(&c, MSG, sizeof MSG - 1, &r);
    T_CHECK(rc == -EIO && r.code == 530 && !r.retry, "clear to a STARTTLS-only server: %d code %d retry %d (%s)", rc,
            r.code, r.retry, r.error);
    T_CHECK(mail_count(&sv) == 3, "%d saved", mail_count(&sv));
    server_stop(&sv);
}

static void test_smtp_tls_required_without_starttls(void)
{
    server sv;
    const char *args[] = {"--auth", "vw:pw", NULL};
    if (!have_servers() || !server_start(&sv, "smtp", args))
        return;
    alerts_smtp_cfg c = smtp_cfg(url_of("smtp", sv.port), ALERTS_TLS_REQUIRED);
    c.user = "vw";
    c.password = "pw";
    alerts_send_result r;
    int rc = SMTP_SEND(&c, MSG, sizeof MSG - 1, &r);
    T_CHECK(rc == -EIO, "STARTTLS required, server without: %d", rc);
    T_CHECK(strstr(r.error, "STARTTLS") && strstr(r.error, c.url), "error \"%s\"", r.error);
    T_CHECK(r.retry, "a TLS failure is retried");
    T_CHECK(r.answer[0] != 0, "the server's EHLO answer is kept: \"%s\"", r.answer);

    /* credentials with "try": never AUTH in the clear */
    c.tls = ALERTS_TLS_TRY;
    rc = SMTP_SEND(&c, MSG, sizeof MSG - 1, &r);
    T_CHECK(rc == -EIO && strstr(r.error, "STARTTLS"), "tls=try + AUTH, no STARTTLS: %d: %s", rc, r.error);
    T_CHECK(mail_count(&sv) == 0, "%d messages saved, want none", mail_count(&sv));

    /* tls none: AUTH in the clear, as configured */
    c.tls = ALERTS_TLS_NONE;
    rc = SMTP_SEND(&c, MSG, sizeof MSG - 1, &r);
    T_CHECK(rc == 0, "tls=none + AUTH: %d: %s", rc, r.error);
    if (mail_count(&sv) == 1)
        check_delivered(&sv, 1, TWO, 2, false, "vw");
    else
        T_CHECK(0, "%d messages saved, want 1", mail_count(&sv));
    server_stop(&sv);
}

static void test_smtps_with_auth(void)
{
    server sv;
    if (!have_servers() || !make_ca())
        return;
    const char *args[] = {"--smtps", cert_pem, key_pem, "--auth", "vw:pw", NULL};
    if (!server_start(&sv, "smtp", args))
        return;
    alerts_smtp_cfg c = smtp_cfg(url_of("smtps", sv.port), ALERTS_TLS_NONE); /* tls is moot for smtps */
    c.user = "vw";
    c.password = "pw";
    c.ca_file = ca_pem;
    alerts_send_result r;
    int rc = SMTP_SEND(&c, MSG, sizeof MSG - 1, &r);
    T_CHECK(rc == 0, "smtps: %d: %s (answer %s)", rc, r.error, r.answer);
    T_CHECK(r.code == 250, "code %d", r.code);
    T_CHECK(mail_count(&sv) == 1, "%d saved", mail_count(&sv));
    check_delivered(&sv, 1, TWO, 2, true, "vw");
    server_stop(&sv);
}

static void test_smtp_451_then_delivered(void)
{
    server sv;
    const char *args[] = {"--fail-first", "1", NULL};
    if (!have_servers() || !server_start(&sv, "smtp", args))
        return;
    alerts_smtp_cfg c = smtp_cfg(url_of("smtp", sv.port), ALERTS_TLS_NONE);
    alerts_send_result r;
    int rc = SMTP_SEND(&c, MSG, sizeof MSG - 1, &r);
    T_CHECK(rc == -EIO && r.code == 451, "first try: %d code %d (%s)", rc, r.code, r.error);
    T_CHECK(r.retry, "451 is retried");
    T_CHECK(t_starts_with(r.answer, "451"), "answer \"%s\"", r.answer);
    T_CHECK(strstr(r.error, "451") && strstr(r.error, c.url), "error \"%s\"", r.error);
    T_CHECK(mail_count(&sv) == 0, "%d saved after a 451", mail_count(&sv));
    rc = SMTP_SEND(&c, MSG, sizeof MSG - 1, &r);
    T_CHECK(rc == 0 && r.code == 250, "second try: %d code %d (%s)", rc, r.code, r.error);
    T_CHECK(mail_count(&sv) == 1, "%d saved", mail_count(&sv));
    server_stop(&sv);
}

static void test_smtp_rejected_recipient(void)
{
    server sv;
    const char *args[] = {"--reject-rcpt", "gone@example.com", NULL};
    if (!have_servers() || !server_start(&sv, "smtp", args))
        return;
    static const char *const one[] = {"gone@example.com"};
    alerts_smtp_cfg c = smtp_cfg(url_of("smtp", sv.port), ALERTS_TLS_NONE);
    c.rcpt = one;
    c.nrcpt = 1;
    alerts_send_result r;
    int rc = SMTP_SEND(&c, MSG, sizeof MSG - 1, &r);
    T_CHECK(rc == -EIO && r.code == 550, "lone refused recipient: %d code %d (%s)", rc, r.code, r.error);
    T_CHECK(!r.retry, "a 550 is not retried");
    T_CHECK(strstr(r.answer, "550") && strstr(r.error, "550"), "answer \"%s\" error \"%s\"", r.answer, r.error);
    T_CHECK(mail_count(&sv) == 0, "%d saved", mail_count(&sv));

    /* one refused of two: delivered to the other, and the answer says who was refused */
    static const char *const both[] = {"gone@example.com", "b@example.com"};
    c.rcpt = both;
    c.nrcpt = 2;
    rc = SMTP_SEND(&c, MSG, sizeof MSG - 1, &r);
    T_CHECK(rc == 0 && r.code == 250, "one of two refused: %d code %d (%s)", rc, r.code, r.error);
    T_CHECK(strstr(r.answer, "gone@example.com") && strstr(r.answer, "550"), "answer \"%s\" hides the refusal",
            r.answer);
    if (mail_count(&sv) == 1)
        check_delivered(&sv, 1, both + 1, 1, false, NULL);
    else
        T_CHECK(0, "%d saved, want 1", mail_count(&sv));
    server_stop(&sv);
}

static void test_smtp_connection_refused_and_silent_server(void)
{
    int port = free_port();
    char url[64];
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", port);
    alerts_smtp_cfg c = smtp_cfg(url, ALERTS_TLS_REQUIRED);
    alerts_send_result r;
    int rc = SMTP_SEND(&c, MSG, sizeof MSG - 1, &r);
    T_CHECK(rc == -EIO && r.code == 0 && r.retry, "refused: %d code %d retry %d", rc, r.code, r.retry);
    T_CHECK(strstr(r.error, url) != NULL, "error \"%s\" does not name %s", r.error, url);
    T_CHECK(r.answer[0] == 0, "answer \"%s\" with no server", r.answer);

    /* a server that accepts the connection and never greets: the timeout bounds the call */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        T_CHECK(0, "listening socket: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return;
    }
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", ntohs(a.sin_port));
    c.url = url;
    c.timeout_s = 0.5;
    double t0 = mono_s();
    rc = SMTP_SEND(&c, MSG, sizeof MSG - 1, &r);
    double dt = mono_s() - t0;
    close(fd);
    T_CHECK(rc == -EIO && r.code == 0 && r.retry, "silent server: %d code %d retry %d (%s)", rc, r.code, r.retry,
            r.error);
    T_CHECK(dt < 3.0, "took %.2f s with a 0.5 s timeout", dt);
    T_CHECK(strstr(r.error, url) != NULL, "error \"%s\"", r.error);
}

static void test_refused_configurations(void)
{
    alerts_send_result r;
    alerts_smtp_cfg c = smtp_cfg("http://127.0.0.1:1", ALERTS_TLS_NONE);
    T_CHECK(SMTP_SEND(&c, MSG, sizeof MSG - 1, &r) == -EINVAL && r.error[0], "http:// for SMTP: %s", r.error);
    c.url = "smtp://vw:hunter2@127.0.0.1:1/box?x=secret";
    c.nrcpt = 0;
    T_CHECK(SMTP_SEND(&c, MSG, sizeof MSG - 1, &r) == -EINVAL, "no recipient accepted");
    T_CHECK(strstr(r.error, "smtp://127.0.0.1:1/box") && !strstr(r.error, "hunter2") && !strstr(r.error, "secret"),
            "error \"%s\": the URL without userinfo nor query", r.error);
    static const char *const inj[] = {"a@example.com>\r\nRCPT TO:<evil@example.com"};
    c.rcpt = inj;
    c.nrcpt = 1;
    T_CHECK(SMTP_SEND(&c, MSG, sizeof MSG - 1, &r) == -EINVAL, "CR LF in a recipient accepted");
    c = smtp_cfg("smtp://127.0.0.1:1", ALERTS_TLS_NONE);
    T_CHECK(SMTP_SEND(&c, MSG, 0, &r) == -EINVAL, "empty message accepted");

    alerts_http_cfg h = {.url = "ftp://127.0.0.1/x"};
    T_CHECK(HTTP_SEND(&h, "x", 1, &r) == -EINVAL, "ftp:// webhook accepted");
    h.url = "http://127.0.0.1:1/x";
    h.method = "GET";
    T_CHECK(HTTP_SEND(&h, "x", 1, &r) == -EINVAL, "GET accepted");
    h.method = NULL;
    h.user = "u";
    h.password = "pw";
    h.token = "tok";
    T_CHECK(HTTP_SEND(&h, "x", 1, &r) == -EINVAL, "basic and bearer together accepted");
    h.token = NULL;
    static const char *const bad_hdr[] = {"X-Fine: yes", "no colon here"};
    h.headers = bad_hdr;
    h.nheaders = 2;
    T_CHECK(HTTP_SEND(&h, "x", 1, &r) == -EINVAL, "a header without a colon accepted");
    static const char *const crlf_hdr[] = {"X-A: 1\r\nX-Injected: 2"};
    h.headers = crlf_hdr;
    h.nheaders = 1;
    T_CHECK(HTTP_SEND(&h, "x", 1, &r) == -EINVAL, "CR LF in a header accepted");
    h.headers = NULL;
    h.nheaders = 0;
    h.idempotency_key = "k\n";
    T_CHECK(HTTP_SEND(&h, "x", 1, &r) == -EINVAL, "LF in the Idempotency-Key accepted");
}

/* ---- webhook --------------------------------------------------------------------------------- */

static void test_webhook_post_json_basic_auth(void)
{
    server sv;
    if (!have_servers() || !server_start(&sv, "webhook", NULL))
        return;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hooks/sms", sv.port);
    static const char body[] = "{\"asset\":\"pump-3\",\"level\":\"alarm\",\n"
                               " \"text\":\"BPFO 107.4 Hz, 9.1 mm/s, 71 \xc2\xb0""C\"}";
    static const char *const extra[] = {"X-Vibewatch-Asset: pump-3", "X-Api-Version: 2"};
    alerts_http_cfg c = {.url = url, .method = "POST", .content_type = "application/json", .headers = extra,
                         .nheaders = 2, .user = "box", .password = "p:a ss", .idempotency_key = "vw-alert-42-1",
                         .timeout_s = 5};
    alerts_send_result r;
    int rc = HTTP_SEND(&c, body, sizeof body - 1, &r);
    T_CHECK(rc == 0 && r.code == 200, "POST: %d code %d: %s", rc, r.code, r.error);
    T_CHECK(t_starts_with(r.answer, "HTTP/1.1 200") && strstr(r.answer, "\"sink\""), "answer \"%s\"", r.answer);
    T_CHECK(!r.retry && r.error[0] == 0, "retry %d error \"%s\" on success", r.retry, r.error);
    cJSON *reqs = hook_requests(&sv);
    T_CHECK(cJSON_GetArraySize(reqs) == 1, "%d requests, want 1", cJSON_GetArraySize(reqs));
    const cJSON *q = cJSON_GetArrayItem(reqs, 0);
    if (q) {
        const char *m = jstr(q, "method"), *path = jstr(q, "path");
        T_CHECK(m && strcmp(m, "POST") == 0, "method %s", m ? m : "?");
        T_CHECK(path && strcmp(path, "/hooks/sms") == 0, "path %s", path ? path : "?");
        char got[1024];
        long n = jbody(q, got, sizeof got);
        T_CHECK(n == (long)sizeof body - 1 && memcmp(got, body, sizeof body - 1) == 0, "body %ld bytes: %s", n,
                n >= 0 ? got : "?");
        const char *ct = jheader(q, "Content-Type"), *ik = jheader(q, "Idempotency-Key");
        const char *x1 = jheader(q, "X-Vibewatch-Asset"), *x2 = jheader(q, "X-Api-Version");
        T_CHECK(ct && strcmp(ct, "application/json") == 0, "Content-Type %s", ct ? ct : "(none)");
        T_CHECK(ik && strcmp(ik, "vw-alert-42-1") == 0, "Idempotency-Key %s", ik ? ik : "(none)");
        T_CHECK(x1 && strcmp(x1, "pump-3") == 0 && x2 && strcmp(x2, "2") == 0, "extra headers %s, %s",
                x1 ? x1 : "(none)", x2 ? x2 : "(none)");
        T_CHECK(jheader(q, "Expect") == NULL, "an Expect header was sent");
        const char *au = jheader(q, "Authorization");
        char dec[128] = "";
        T_CHECK(au && t_starts_with(au, "Basic ") && b64decode(au + 6, dec, sizeof dec) > 0 &&
                    strcmp(dec, "box:p:a ss") == 0,
                "Authorization %s (decoded \"%s\"), want Basic box:p:a ss", au ? au : "(none)", dec);
    }
    cJSON_Delete(reqs);
    server_stop(&sv);
}

static void test_webhook_put_form_bearer(void)
{
    server sv;
    const char *args[] = {"--status", "204", NULL};
    if (!have_servers() || !server_start(&sv, "webhook", args))
        return;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/messages", sv.port);
    static const char body[] = "to=%2B4915112345678&text=pump-3%3A+alarm+%C2%B0C&flash=0";
    alerts_http_cfg c = {.url = url, .method = "PUT", .content_type = "application/x-www-form-urlencoded",
                         .token = "eyJhbGciOi.tok-en_42", .timeout_s = 5};
    alerts_send_result r;
    int rc = HTTP_SEND(&c, body, sizeof body - 1, &r);
    T_CHECK(rc == 0 && r.code == 204, "PUT: %d code %d: %s", rc, r.code, r.error);
    cJSON *reqs = hook_requests(&sv);
    const cJSON *q = cJSON_GetArrayItem(reqs, 0);
    T_CHECK(cJSON_GetArraySize(reqs) == 1, "%d requests", cJSON_GetArraySize(reqs));
    if (q) {
        const char *m = jstr(q, "method");
        T_CHECK(m && strcmp(m, "PUT") == 0, "method %s", m ? m : "?");
        char got[1024];
        long n = jbody(q, got, sizeof got);
        T_CHECK(n == (long)sizeof body - 1 && memcmp(got, body, sizeof body - 1) == 0, "body %ld bytes: %s", n,
                n >= 0 ? got : "?");
        const char *ct = jheader(q, "Content-Type"), *au = jheader(q, "Authorization");
        T_CHECK(ct && strcmp(ct, "application/x-www-form-urlencoded") == 0, "Content-Type %s", ct ? ct : "(none)");
        T_CHECK(au && strcmp(au, "Bearer eyJhbGciOi.tok-en_42") == 0, "Authorization %s", au ? au : "(none)");
        T_CHECK(jheader(q, "Idempotency-Key") == NULL, "an Idempotency-Key without a key");
    }
    cJSON_Delete(reqs);
    server_stop(&sv);
}

static void test_webhook_status_classes(void)
{
    server sv;
    const char *args[] = {"--fail-first", "1", "--status", "400", "--body", "{\"error\":\"bad number\"}", NULL};
    if (!have_servers() || !server_start(&sv, "webhook", args))
        return;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", sv.port);
    alerts_http_cfg c = {.url = url, .content_type = "application/json", .timeout_s = 5};
    alerts_send_result r;
    int rc = HTTP_SEND(&c, "{}", 2, &r);
    T_CHECK(rc == -EIO && r.code == 500 && r.retry, "500: %d code %d retry %d", rc, r.code, r.retry);
    T_CHECK(t_starts_with(r.answer, "HTTP/1.1 500 Internal Server Error"), "answer \"%s\"", r.answer);
    T_CHECK(strstr(r.error, "500") && strstr(r.error, url), "error \"%s\"", r.error);
    rc = HTTP_SEND(&c, "{}", 2, &r);
    T_CHECK(rc == -EIO && r.code == 400 && !r.retry, "400: %d code %d retry %d", rc, r.code, r.retry);
    T_CHECK(strstr(r.answer, "400 Bad Request") && strstr(r.answer, "bad number"),
            "answer \"%s\" lacks the status line or the body", r.answer);
    server_stop(&sv);

    const char *args429[] = {"--status", "429", NULL};
    if (!server_start(&sv, "webhook", args429))
        return;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", sv.port);
    rc = HTTP_SEND(&c, "{}", 2, &r);
    T_CHECK(rc == -EIO && r.code == 429 && r.retry, "429: %d code %d retry %d", rc, r.code, r.retry);
    server_stop(&sv);
}

static void test_webhook_redirect_not_followed(void)
{
    server sv;
    const char *args[] = {"--status", "302", "--location", "/moved/here", NULL};
    if (!have_servers() || !server_start(&sv, "webhook", args))
        return;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", sv.port);
    alerts_http_cfg c = {.url = url, .content_type = "application/json", .timeout_s = 5};
    alerts_send_result r;
    int rc = HTTP_SEND(&c, "{}", 2, &r);
    T_CHECK(rc == -EIO && r.code == 302 && !r.retry, "302: %d code %d retry %d", rc, r.code, r.retry);
    T_CHECK(strstr(r.error, "/moved/here") && strstr(r.error, url), "error \"%s\" should name the Location", r.error);
    cJSON *reqs = hook_requests(&sv);
    T_CHECK(cJSON_GetArraySize(reqs) == 1, "%d requests: the redirect was followed", cJSON_GetArraySize(reqs));
    cJSON_Delete(reqs);
    server_stop(&sv);
}

static void test_webhook_https_with_ca(void)
{
    server sv;
    if (!have_servers() || !make_ca())
        return;
    const char *args[] = {"--tls", cert_pem, key_pem, NULL};
    if (!server_start(&sv, "webhook", args))
        return;
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/hook", sv.port);
    alerts_http_cfg c = {.url = url, .content_type = "text/plain", .ca_file = ca_pem, .timeout_s = 5};
    alerts_send_result r;
    int rc = HTTP_SEND(&c, "hello", 5, &r);
    T_CHECK(rc == 0 && r.code == 200, "https with the CA: %d code %d: %s", rc, r.code, r.error);
    cJSON *reqs = hook_requests(&sv);
    const cJSON *q = cJSON_GetArrayItem(reqs, 0);
    T_CHECK(q && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "tls")), "the request did not arrive over TLS");
    cJSON_Delete(reqs);

    c.ca_file = NULL;
    rc = HTTP_SEND(&c, "hello", 5, &r);
    T_CHECK(rc == -EIO && r.code == 0 && r.retry, "https without the CA: %d code %d retry %d", rc, r.code, r.retry);
    T_CHECK(strstr(r.error, url) && (strstr(r.error, "certificate") || strstr(r.error, "SSL")),
            "error \"%s\" should name the URL and the certificate", r.error);
    server_stop(&sv);

    /* nothing listening */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", free_port());
    c.url = url;
    rc = HTTP_SEND(&c, "hello", 5, &r);
    T_CHECK(rc == -EIO && r.code == 0 && r.retry && strstr(r.error, url), "refused: %d code %d retry %d: %s", rc,
            r.code, r.retry, r.error);
}

/* VW_TEST_ONLY=NAME runs just the tests whose name contains NAME. */
#define RUN(fn) t_run_only(#fn, fn)

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    /* the servers are on loopback: a proxy from the environment must not stand in between */
    setenv("no_proxy", "*", 1);
    setenv("NO_PROXY", "*", 1);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    atexit(t_server_stop_all);
    RUN(test_smtp_plain_two_recipients);
    RUN(test_smtp_starttls_auth_with_ca);
    RUN(test_smtp_tls_required_without_starttls);
    RUN(test_smtps_with_auth);
    RUN(test_smtp_451_then_delivered);
    RUN(test_smtp_rejected_recipient);
    RUN(test_smtp_connection_refused_and_silent_server);
    RUN(test_refused_configurations);
    RUN(test_webhook_post_json_basic_auth);
    RUN(test_webhook_put_form_bearer);
    RUN(test_webhook_status_classes);
    RUN(test_webhook_redirect_not_followed);
    RUN(test_webhook_https_with_ca);
    t_server_stop_all();
    curl_global_cleanup();
    return t_done();
}
