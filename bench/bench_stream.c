/* bench/bench_stream.c — the time-series output (store/influx.c) against a real VictoriaMetrics:
 * throughput of one writer, the drain of a backlog spooled while the server was down, and a fleet of
 * boxes writing at once. Prints a table. Every count is checked against the server (its queries
 * and its own /metrics), never against the writers' stats, which are only shown beside them.
 *   bench_stream URL DIR [CTL ACK]
 * URL: a VictoriaMetrics started with -dedup.minScrapeInterval=1ms; DIR: an empty folder for the
 * spools. CTL and ACK are FIFOs to the script that runs the server (bench/bench_stream.sh): the
 * program writes "stop" or "start" on CTL and waits for "ok" on ACK; without them the backlog part
 * is skipped. Environment: VW_BENCH_STREAM_SECONDS (how long the throughput runs put, default 3),
 * VW_BENCH_STREAM_BOXES (the fleet, default 50), VW_BENCH_STREAM_FLEET_MIN (data minutes per box,
 * default 10).
 *
 * The lines are those of daemon/stream.c (vw_stream_snapshot): vw_features and vw_health, tags box,
 * asset, sensor, axis, bearing, for 4 sensors × 3 axes (12 channels), one snapshot per 10 s of data
 * time, one put per snapshot-channel (both lines), every feature and monitor figure finite, state
 * "ok", no diagnosis: 19 + 14 = 33 fields, which VictoriaMetrics stores as 33 samples ("points"). */
#include "daemon/snapshot_features.h"
#include "models/monitor.h"
#include "store/influx.h"
#include "store/lineproto.h"

#include "bench/bench_fs.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEC INT64_C(1000000000)
#define STEP_NS (10 * SEC) /* a snapshot per 10 s of data time */
#define NCHAN 12
#define DB "vw"
#define SERIES_PER_CHAN 33 /* vw_features 17 + state + state_code, vw_health 10 + rul_basis + state + state_code + onset */
#define LINES_PER_SNAP 2
#define UNLIMITED_KB_S 1e9 /* a drain rate that never limits: 1 TB/s */

typedef struct chan {
    const char *asset, *sensor, *axis, *bearing;
} chan;

static const chan CHANNELS[NCHAN] = {
    {"p1", "s1", "x", "de"}, {"p1", "s1", "y", "de"}, {"p1", "s1", "z", "de"},
    {"p1", "s2", "x", "de"}, {"p1", "s2", "y", "de"}, {"p1", "s2", "z", "de"},
    {"p2", "s3", "x", "de"}, {"p2", "s3", "y", "de"}, {"p2", "s3", "z", "de"},
    {"p2", "s4", "x", "de"}, {"p2", "s4", "y", "de"}, {"p2", "s4", "z", "de"},
};

static const char *const FEATURE_NAMES[NFEAT] = {VW_SNAPSHOT_FEATURE_NAMES};

typedef struct bench {
    const char *url, *dir;
    FILE *ctl_w, *ctl_r;
    int64_t t_base;     /* data time of the first snapshot of every run: 30 days ago, on the 10 s grid */
    size_t snap_bytes;  /* one snapshot-channel's two lines, as measured on the first */
} bench;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    nanosleep(&ts, NULL);
}

/* the writers' messages: errors only (the retries while the server is down are expected) */
__attribute__((format(printf, 2, 3))) static void writer_log(int level, const char *fmt, ...)
{
    if (level > 3)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_stream: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

/* ---- the lines, as daemon/stream.c writes them ------------------------------------------------ */

static double urand(uint64_t *s) /* xorshift64*, [0, 1) */
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * UINT64_C(2685821657736338717)) >> 11) * 0x1.0p-53;
}

static store_lp_field fnum(const char *k, double v) { return (store_lp_field){.key = k, .type = STORE_LP_FLOAT, .v.f = v}; }
static store_lp_field fint(const char *k, int64_t v) { return (store_lp_field){.key = k, .type = STORE_LP_INT, .v.i = v}; }
static store_lp_field fstr(const char *k, const char *v) { return (store_lp_field){.key = k, .type = STORE_LP_STRING, .v.s = v}; }
static store_lp_field fbool(const char *k, bool v) { return (store_lp_field){.key = k, .type = STORE_LP_BOOL, .v.b = v}; }

/* Appends one snapshot-channel's vw_features and vw_health lines (vw_stream_snapshot's tags, fields
 * and order) with plausible values of a healthy pump; the points (fields) written, or -1. */
static int snapshot_lines(char *buf, size_t cap, size_t *len, const char *box, const chan *c, int64_t t_ns,
                          uint64_t *rng)
{
    store_lp_tag tags[8];
    size_t nt = 0;
    tags[nt++] = (store_lp_tag){"box", box};
    tags[nt++] = (store_lp_tag){"asset", c->asset};
    tags[nt++] = (store_lp_tag){"sensor", c->sensor};
    tags[nt++] = (store_lp_tag){"axis", c->axis};
    tags[nt++] = (store_lp_tag){"bearing", c->bearing};
    double u[NFEAT + 10];
    for (size_t k = 0; k < sizeof u / sizeof u[0]; k++)
        u[k] = urand(rng) - 0.5;
    double rms = 0.21 * (1 + 0.05 * u[0]), peak = rms * 3.4 * (1 + 0.1 * u[1]);
    const double feat[NFEAT] = {
        [F_ACCEL_RMS] = rms, [F_ACCEL_PEAK] = peak, [F_CREST] = peak / rms, [F_KURTOSIS] = 3.1 + 0.3 * u[3],
        [F_SKEWNESS] = 0.04 * u[4], [F_VEL_RMS] = 2.3 * (1 + 0.05 * u[5]), [F_V1X] = 1.9 * (1 + 0.05 * u[6]),
        [F_V2X] = 0.42 * (1 + 0.1 * u[7]), [F_V3X] = 0.17 * (1 + 0.1 * u[8]), [F_SHAFT_HZ] = 49.5 + 0.02 * u[9],
        [F_BPFO_DB] = -58 + 2 * u[10], [F_BPFI_DB] = -61 + 2 * u[11], [F_BSF_DB] = -64 + 2 * u[12],
        [F_FTF_DB] = -70 + 2 * u[13], [F_BAND_SK] = 0.8 + 0.2 * u[14], [F_ISO_ZONE] = 1, [F_TEMP_C] = 41.5 + u[16]};
    store_lp_field f[NFEAT + 4];
    size_t nf = 0;
    for (int k = 0; k < NFEAT; k++)
        if (isfinite(feat[k]))
            f[nf++] = fnum(FEATURE_NAMES[k], feat[k]);
    f[nf++] = fstr("state", "ok");
    f[nf++] = fint("state_code", 1);
    char err[256];
    if (store_lp_line(buf, cap, len, "vw_features", tags, nt, f, nf, t_ns, err, sizeof err) != 0) {
        fprintf(stderr, "bench_stream: vw_features: %s\n", err);
        return -1;
    }
    const double *v = u + NFEAT;
    double hi = 1.05 + 0.05 * v[3], rul = 21000 * (1 + 0.1 * v[5]);
    const struct { const char *k; double x; } nums[] = {
        {"anomaly", 0.31 + 0.1 * v[0]}, {"threshold", 0.874216}, {"health", 0.36 + 0.1 * v[0]}, {"hi", hi},
        {"hi_limit", 10}, {"rul_h", rul}, {"rul_lo_h", rul * 0.55}, {"rul_hi_h", rul * 1.7},
        {"p_fail_7d", 1e-4 * (1 + v[8])}, {"p_fail_14d", 3e-4 * (1 + v[9])}};
    store_lp_field h[20];
    size_t nh = 0;
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
        if (isfinite(nums[k].x))
            h[nh++] = fnum(nums[k].k, nums[k].x);
    h[nh++] = fstr("rul_basis", models_rul_basis_name(MODELS_RUL_TREND));
    h[nh++] = fstr("state", "ok");
    h[nh++] = fint("state_code", 1);
    h[nh++] = fbool("onset", false);
    if (store_lp_line(buf, cap, len, "vw_health", tags, nt, h, nh, t_ns, err, sizeof err) != 0) {
        fprintf(stderr, "bench_stream: vw_health: %s\n", err);
        return -1;
    }
    return (int)(nf + nh);
}

/* ---- the server: HTTP GETs through libcurl ---------------------------------------------------- */

typedef struct membuf {
    char *p;
    size_t n, cap;
} membuf;

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    membuf *b = ctx;
    size_t len = size * n;
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + len + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q)
            return 0;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, len);
    b->n += len;
    b->p[b->n] = 0;
    return len;
}

/* The body of GET url (malloc'd; free it) or NULL with a message. */
static char *http_get(const char *url)
{
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    membuf b = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK || code != 200) {
        fprintf(stderr, "bench_stream: GET %.300s: %s (HTTP %ld) %.300s\n", url,
                rc != CURLE_OK ? curl_easy_strerror(rc) : "", code, b.p ? b.p : "");
        free(b.p);
        return NULL;
    }
    if (!b.p)
        b.p = calloc(1, 1);
    return b.p;
}

static int vm_force_flush(const bench *b)
{
    char url[600];
    snprintf(url, sizeof url, "%s/internal/force_flush", b->url);
    char *body = http_get(url);
    free(body);
    return body ? 0 : -1;
}

/* The server's own counters (process lifetime: they start at 0 when it starts). */
typedef struct vm_counters {
    double rows;     /* vm_rows_inserted_total{type="influx"}: samples ingested, duplicates included */
    double requests; /* vm_http_requests_total{path="/influx/write"}: write requests (batches) */
    double rx_bytes; /* vm_tcplistener_read_bytes_total: bytes it read from its sockets (HTTP, gzipped bodies) */
    double cpu;      /* process_cpu_seconds_total: the server's CPU time */
} vm_counters;

static double metric_sum(const char *text, const char *prefix)
{
    double sum = 0;
    size_t pl = strlen(prefix);
    for (const char *l = text; l && *l;) {
        const char *nl = strchr(l, '\n');
        if (strncmp(l, prefix, pl) == 0) { /* the value follows the line's last space (labels may hold spaces) */
            const char *end = nl ? nl : l + strlen(l), *sp = end;
            while (sp > l && sp[-1] != ' ')
                sp--;
            if (sp > l)
                sum += strtod(sp, NULL);
        }
        l = nl ? nl + 1 : NULL;
    }
    return sum;
}

static int vm_counters_get(const bench *b, vm_counters *out)
{
    char url[600];
    snprintf(url, sizeof url, "%s/metrics", b->url);
    char *m = http_get(url);
    if (!m) {
        out->rows = out->requests = out->rx_bytes = out->cpu = NAN;
        return -1;
    }
    out->rows = metric_sum(m, "vm_rows_inserted_total{type=\"influx\"}");
    out->requests = metric_sum(m, "vm_http_requests_total{path=\"/influx/write\"");
    out->rx_bytes = metric_sum(m, "vm_tcplistener_read_bytes_total{");
    out->cpu = metric_sum(m, "process_cpu_seconds_total ");
    free(m);
    return 0;
}

static void vm_version(const bench *b, char *out, size_t cap)
{
    char url[600];
    snprintf(url, sizeof url, "%s/metrics", b->url);
    char *m = http_get(url);
    snprintf(out, cap, "(version not reported)");
    const char *p = m ? strstr(m, "vm_app_version{") : NULL;
    const char *v = p ? strstr(p, "short_version=\"") : NULL;
    if (v) {
        v += strlen("short_version=\"");
        const char *e = strchr(v, '"');
        if (e && e > v)
            snprintf(out, cap, "%.*s", (int)(e - v), v);
    }
    free(m);
}

/* An instant query at time t (s); its result vector (cJSON, delete it) or NULL. */
static cJSON *vm_query(const bench *b, const char *q, double t)
{
    CURL *c = curl_easy_init();
    char *e = c ? curl_easy_escape(c, q, 0) : NULL;
    if (c)
        curl_easy_cleanup(c);
    if (!e)
        return NULL;
    size_t cap = strlen(e) + strlen(b->url) + 128;
    char *url = malloc(cap);
    snprintf(url, cap, "%s/api/v1/query?query=%s&time=%.3f", b->url, e, t);
    curl_free(e);
    char *body = http_get(url);
    free(url);
    if (!body)
        return NULL;
    cJSON *root = cJSON_Parse(body);
    free(body);
    cJSON *data = cJSON_GetObjectItem(root, "data");
    cJSON *res = cJSON_GetObjectItem(data, "result");
    if (!cJSON_IsArray(res)) {
        fprintf(stderr, "bench_stream: query %s: no result\n", q);
        cJSON_Delete(root);
        return NULL;
    }
    cJSON *out = cJSON_DetachItemViaPointer(data, res);
    cJSON_Delete(root);
    return out;
}

static double sample_value(const cJSON *s)
{
    const cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "value"), 1);
    return cJSON_IsString(v) ? strtod(v->valuestring, NULL) : NAN;
}

/* A query whose answer is one number (an aggregate): it, 0 for an empty answer, NAN on error. */
static double vm_scalar(const bench *b, const char *q, double t)
{
    cJSON *r = vm_query(b, q, t);
    if (!r)
        return NAN;
    double v = cJSON_GetArraySize(r) ? sample_value(cJSON_GetArrayItem(r, 0)) : 0;
    cJSON_Delete(r);
    return v;
}

/* What the server holds for a set of boxes, from its queries (deduplicated samples). */
typedef struct vm_check {
    double series, samples, min_per_series, max_per_series, first_s, last_s;
    int boxes, boxes_complete; /* with per_box: boxes seen, and those with all their samples */
    bool ok;
} vm_check;

static void vm_verify(const bench *b, const char *box_match, int64_t t_first, int64_t t_last, double expect_series,
                      double expect_per_series, int expect_boxes, vm_check *out)
{
    memset(out, 0, sizeof *out);
    vm_force_flush(b);
    double t = (double)(t_last / SEC) + 1;
    long long window = (long long)((t_last - t_first) / SEC) + 60;
    char sel[256], q[512];
    snprintf(sel, sizeof sel, "{__name__=~\"vw_.+\",%s}[%llds]", box_match, window);
    snprintf(q, sizeof q, "count(count_over_time(%s))", sel);
    out->series = vm_scalar(b, q, t);
    snprintf(q, sizeof q, "sum(count_over_time(%s))", sel);
    out->samples = vm_scalar(b, q, t);
    snprintf(q, sizeof q, "min(count_over_time(%s))", sel);
    out->min_per_series = vm_scalar(b, q, t);
    snprintf(q, sizeof q, "max(count_over_time(%s))", sel);
    out->max_per_series = vm_scalar(b, q, t);
    snprintf(q, sizeof q, "min(tfirst_over_time(%s))", sel);
    out->first_s = vm_scalar(b, q, t);
    snprintf(q, sizeof q, "max(tlast_over_time(%s))", sel);
    out->last_s = vm_scalar(b, q, t);
    snprintf(q, sizeof q, "sum by (box) (count_over_time(%s))", sel);
    cJSON *r = vm_query(b, q, t);
    const cJSON *s;
    cJSON_ArrayForEach(s, r) {
        out->boxes++;
        out->boxes_complete += sample_value(s) == expect_series / expect_boxes * expect_per_series;
    }
    cJSON_Delete(r);
    out->ok = out->series == expect_series && out->min_per_series == expect_per_series &&
              out->max_per_series == expect_per_series && out->first_s == (double)(t_first / SEC) &&
              out->last_s == (double)(t_last / SEC) && out->boxes == expect_boxes &&
              out->boxes_complete == expect_boxes;
}

/* ---- the writers -------------------------------------------------------------------------- */

static store_influx *writer_start(const bench *b, const char *box, bool fsync, double drain_kb_s)
{
    char dir[1200], err[600];
    snprintf(dir, sizeof dir, "%s/%s", b->dir, box);
    store_influx_cfg c;
    store_influx_cfg_default(&c);
    c.name = box;
    c.url = b->url;
    c.api = 1;
    c.db = DB;
    c.spool_dir = dir;
    c.spool_fsync = fsync;
    c.drain_kb_s = drain_kb_s;
    c.log = writer_log;
    store_influx *w = store_influx_start(&c, err, sizeof err);
    if (!w)
        fprintf(stderr, "bench_stream: %s\n", err);
    return w;
}

/* Puts snapshots [from, to) of all 12 channels, one put per snapshot-channel, stopping early once
 * until_s (monotonic) passes (0: never). Returns the snapshots put; adds the points and bytes. */
static long put_snapshots(store_influx *w, const char *box, int64_t t_base, long from, long to, double until_s,
                          uint64_t *rng, uint64_t *points, uint64_t *bytes, uint64_t *put_errors)
{
    char buf[8192];
    long i;
    for (i = from; i < to; i++) {
        if (until_s > 0 && now_s() >= until_s)
            break;
        for (int k = 0; k < NCHAN; k++) {
            size_t len = 0;
            int n = snapshot_lines(buf, sizeof buf, &len, box, &CHANNELS[k], t_base + i * STEP_NS, rng);
            if (n < 0) {
                (*put_errors)++;
                continue;
            }
            if (store_influx_put(w, buf, len) != 0) {
                (*put_errors)++;
                continue;
            }
            *points += (uint64_t)n;
            *bytes += len;
        }
    }
    return i - from;
}

static const char *yes_no(bool ok) { return ok ? "yes" : "NO"; }

/* ---- 1. throughput ---------------------------------------------------------------------------- */

static void run_throughput(const bench *b, bool fsync, double seconds)
{
    const char *box = fsync ? "tput-fsync" : "tput-nofsync";
    store_influx *w = writer_start(b, box, fsync, UNLIMITED_KB_S);
    if (!w)
        return;
    vm_counters c0, c1;
    vm_counters_get(b, &c0);
    uint64_t rng = 0x9E3779B97F4A7C15u ^ (uint64_t)fsync, points = 0, bytes = 0, errors = 0;
    long max_snaps = 20L * 86400 / 10; /* 20 days of data at most: it stays in the past */
    double cpu0 = cpu_s(), t0 = now_s();
    long snaps = put_snapshots(w, box, b->t_base, 0, max_snaps, t0 + seconds, &rng, &points, &bytes, &errors);
    double t_put = now_s();
    uint64_t unsent = store_influx_flush(w, 60);
    double t1 = now_s(), cpu1 = cpu_s();
    store_influx_stats st;
    store_influx_get_stats(w, &st);
    store_influx_stop(w);
    vm_counters_get(b, &c1);
    vm_check chk;
    vm_verify(b, fsync ? "box=\"tput-fsync\"" : "box=\"tput-nofsync\"", b->t_base, b->t_base + (snaps - 1) * STEP_NS,
              NCHAN * SERIES_PER_CHAN, (double)snaps, 1, &chk);
    double lines = (double)snaps * NCHAN * LINES_PER_SNAP, e2e = t1 - t0, srv_rows = c1.rows - c0.rows;
    printf("%-5s %5.2f %5.2f %7.0f %8" PRIu64 " %8.0f %8.0f %9.0f %7.2f %7.2f %6.1f %6.2f %7.0f %9.0f %5s\n",
           fsync ? "on" : "off", t_put - t0, e2e, lines, points, lines / (t_put - t0), lines / e2e,
           (double)points / e2e, 1e6 * (cpu1 - cpu0) / (double)points, 1e6 * (c1.cpu - c0.cpu) / (double)points,
           (double)bytes / (double)points, (c1.rx_bytes - c0.rx_bytes) / (double)points, c1.requests - c0.requests,
           chk.samples,
           yes_no(chk.ok && chk.samples == (double)points && srv_rows == (double)points && !unsent && !errors));
    if (unsent || errors || st.spool_dropped_bytes || !chk.ok || srv_rows != (double)points)
        printf("      (!) %.0f rows ingested for %" PRIu64 " points, unsent %" PRIu64 " B, put errors %" PRIu64 ", spool dropped %" PRIu64 " B; server: %.0f series, "
               "%.0f–%.0f samples each (want %d, %ld)\n", srv_rows, points, unsent, errors, st.spool_dropped_bytes, chk.series,
               chk.min_per_series, chk.max_per_series, NCHAN * SERIES_PER_CHAN, snaps);
}

/* ---- 2. backlog --------------------------------------------------------------------------------- */

static int ctl(const bench *b, const char *cmd)
{
    char line[64] = "";
    fprintf(b->ctl_w, "%s\n", cmd);
    fflush(b->ctl_w);
    if (!fgets(line, sizeof line, b->ctl_r) || strncmp(line, "ok", 2) != 0) {
        fprintf(stderr, "bench_stream: the script could not %s the server\n", cmd);
        return -1;
    }
    return 0;
}

typedef struct sampler {
    store_influx *w;
    volatile int done;
    double t_first; /* when the first batch was accepted */
    pthread_mutex_t lock;
} sampler;

static void *sampler_main(void *arg)
{
    sampler *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        int done = s->done;
        pthread_mutex_unlock(&s->lock);
        if (done)
            break;
        store_influx_stats st;
        store_influx_get_stats(s->w, &st);
        if (st.batches_sent && !s->t_first) {
            s->t_first = now_s();
            break;
        }
        sleep_s(0.002);
    }
    return NULL;
}

static void run_backlog(const bench *b, double drain_kb_s)
{
    bool unlimited = drain_kb_s >= UNLIMITED_KB_S;
    const char *box = unlimited ? "backlog-unlimited" : "backlog-1024";
    if (ctl(b, "stop") != 0)
        return;
    store_influx *w = writer_start(b, box, true, drain_kb_s);
    if (!w) {
        ctl(b, "start");
        return;
    }
    const long snaps = 360; /* one hour */
    uint64_t rng = 0xD1B54A32D192ED03u, points = 0, bytes = 0, errors = 0;
    double t0 = now_s();
    put_snapshots(w, box, b->t_base, 0, snaps, 0, &rng, &points, &bytes, &errors);
    double t_put = now_s() - t0;
    store_influx_stats st0;
    store_influx_get_stats(w, &st0);
    if (ctl(b, "start") != 0) {
        store_influx_stop(w);
        return;
    }
    double t_up = now_s();
    sampler s = {.w = w};
    pthread_mutex_init(&s.lock, NULL);
    pthread_t th;
    bool sampling = pthread_create(&th, NULL, sampler_main, &s) == 0;
    uint64_t unsent = store_influx_flush(w, 60);
    double t_done = now_s();
    if (sampling) {
        pthread_mutex_lock(&s.lock);
        s.done = 1;
        pthread_mutex_unlock(&s.lock);
        pthread_join(th, NULL);
    }
    pthread_mutex_destroy(&s.lock);
    store_influx_stats st;
    store_influx_get_stats(w, &st);
    store_influx_stop(w);
    vm_counters c; /* the server was started for this run: its counters are this run's */
    vm_counters_get(b, &c);
    vm_check chk;
    vm_verify(b, unlimited ? "box=\"backlog-unlimited\"" : "box=\"backlog-1024\"", b->t_base,
              b->t_base + (snaps - 1) * STEP_NS, NCHAN * SERIES_PER_CHAN, (double)snaps, 1, &chk);
    double t_first = s.t_first ? s.t_first : t_done;
    char rate[16];
    snprintf(rate, sizeof rate, unlimited ? "unlimited" : "%.0f", drain_kb_s);
    printf("%-9s %9" PRIu64 " %9" PRIu64 " %6.2f %7" PRIu64 " %8.2f %7.2f %7.2f %6.0f %7.0f %7" PRIu64 " %8.0f %9.0f %5s\n",
           rate, st0.spool_pending_bytes, st0.spool_disk_bytes, t_put, st.retries, t_first - t_up, t_done - t_first,
           t_done - t_up, (double)st0.spool_pending_bytes / 1024 / fmax(1e-9, t_done - t_first), c.requests, points,
           c.rows, chk.samples,
           yes_no(chk.ok && chk.samples == (double)points && c.rows == (double)points && !unsent && !errors));
    if (unsent || errors || !chk.ok || c.rows != (double)points)
        printf("          (!) unsent %" PRIu64 " B, put errors %" PRIu64 "; server: %.0f series, %.0f–%.0f samples "
               "each (want %d, %ld), %.0f rows ingested for %" PRIu64 " points\n", unsent, errors, chk.series,
               chk.min_per_series, chk.max_per_series, NCHAN * SERIES_PER_CHAN, snaps, c.rows, points);
}

/* ---- 3. fleet ----------------------------------------------------------------------------------- */

typedef struct box_run {
    const bench *b;
    int idx;
    long snaps;
    char name[32];
    store_influx *w;
    pthread_barrier_t *go;
    double t_put, t_done;
    uint64_t points, bytes, errors, unsent;
} box_run;

static void *box_main(void *arg)
{
    box_run *r = arg;
    pthread_barrier_wait(r->go);
    uint64_t rng = 0x2545F4914F6CDD1Du + (uint64_t)r->idx * 0x9E3779B97F4A7C15u;
    if (r->w) {
        put_snapshots(r->w, r->name, r->b->t_base, 0, r->snaps, 0, &rng, &r->points, &r->bytes, &r->errors);
        r->t_put = now_s();
        r->unsent = store_influx_flush(r->w, 60);
    }
    r->t_done = now_s();
    return NULL;
}

static void run_fleet(const bench *b, int nbox, int minutes)
{
    long snaps = minutes * 6L;
    box_run *runs = calloc((size_t)nbox, sizeof *runs);
    pthread_t *th = calloc((size_t)nbox, sizeof *th);
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, (unsigned)nbox + 1);
    int started = 0, threads = 0;
    for (int i = 0; i < nbox; i++) { /* the writers start (their spools open) before the clock does */
        box_run *r = &runs[i];
        r->b = b;
        r->idx = i;
        r->snaps = snaps;
        r->go = &go;
        snprintf(r->name, sizeof r->name, "fleet-%03d", i);
        r->w = writer_start(b, r->name, true, 1024);
        started += r->w != NULL;
    }
    vm_counters c0, c1;
    vm_counters_get(b, &c0);
    for (int i = 0; i < nbox; i++)
        if (pthread_create(&th[i], NULL, box_main, &runs[i]) == 0)
            threads++;
    if (threads < nbox) { /* cannot happen in practice; the barrier would wait forever */
        fprintf(stderr, "bench_stream: only %d of %d box threads started\n", threads, nbox);
        exit(1);
    }
    double cpu0 = cpu_s();
    pthread_barrier_wait(&go);
    double t0 = now_s();
    uint64_t points = 0, bytes = 0, errors = 0, unsent = 0;
    double t_put = 0, t_end = 0;
    for (int i = 0; i < nbox; i++) {
        pthread_join(th[i], NULL);
        points += runs[i].points;
        bytes += runs[i].bytes;
        errors += runs[i].errors;
        unsent += runs[i].unsent;
        t_put = fmax(t_put, runs[i].t_put);
        t_end = fmax(t_end, runs[i].t_done);
    }
    double cpu1 = cpu_s();
    vm_counters_get(b, &c1);
    uint64_t dropped = 0;
    for (int i = 0; i < nbox; i++) {
        store_influx_stats st;
        if (runs[i].w) {
            store_influx_get_stats(runs[i].w, &st);
            dropped += st.spool_dropped_bytes;
        }
        store_influx_stop(runs[i].w);
    }
    pthread_barrier_destroy(&go);
    double expect = (double)nbox * (double)snaps * NCHAN * SERIES_PER_CHAN;
    vm_check chk;
    vm_verify(b, "box=~\"fleet-.+\"", b->t_base, b->t_base + (snaps - 1) * STEP_NS,
              (double)nbox * NCHAN * SERIES_PER_CHAN, (double)snaps, nbox, &chk);
    double wall = t_end - t0, rows = c1.rows - c0.rows;
    printf("%5d %4d %6.2f %6.2f %8.0f %8.0f %9.0f %7.0f %6.1f %7.1f %7.1f %8.0f %5d/%-3d %5.0f %5.0f %5s\n", nbox,
           minutes, t_put - t0, wall, expect, rows, rows / wall, c1.requests - c0.requests,
           (c1.rx_bytes - c0.rx_bytes) / 1e6, c1.cpu - c0.cpu, cpu1 - cpu0, chk.samples, chk.boxes_complete, nbox,
           expect - chk.samples, rows - chk.samples,
           yes_no(chk.ok && chk.samples == expect && (double)points == expect && rows == expect && !unsent &&
                  !errors && started == nbox));
    if (!chk.ok || unsent || errors || dropped || started < nbox)
        printf("      (!) writers started %d/%d, put errors %" PRIu64 ", unsent %" PRIu64 " B, spool dropped %" PRIu64
               " B; server: %.0f series, %.0f–%.0f samples each (want %.0f, %ld), %d boxes seen\n", started, nbox,
               errors, unsent, dropped, chk.series, chk.min_per_series, chk.max_per_series,
               (double)nbox * NCHAN * SERIES_PER_CHAN, snaps, chk.boxes);
    free(runs);
    free(th);
}

/* ---- main --------------------------------------------------------------------------------------- */

static double env_num(const char *name, double def, double lo, double hi)
{
    const char *v = getenv(name);
    char *end;
    double x = v && *v ? strtod(v, &end) : def;
    if (v && *v && (*end || !(x >= lo && x <= hi))) {
        fprintf(stderr, "bench_stream: %s=%s is not a number in %g..%g: %g taken\n", name, v, lo, hi, def);
        x = def;
    }
    return x;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 5) {
        fprintf(stderr, "usage: bench_stream URL DIR [CTL ACK]\n");
        return 2;
    }
    bench b = {.url = argv[1], .dir = argv[2]};
    if (argc == 5) { /* the script holds both FIFOs open already: neither open blocks */
        b.ctl_w = fopen(argv[3], "w");
        b.ctl_r = fopen(argv[4], "r");
        if (!b.ctl_w || !b.ctl_r) {
            fprintf(stderr, "bench_stream: %s, %s: %s\n", argv[3], argv[4], strerror(errno));
            return 1;
        }
    }
    double seconds = env_num("VW_BENCH_STREAM_SECONDS", 3, 0.5, 600);
    int nbox = (int)env_num("VW_BENCH_STREAM_BOXES", 50, 1, 1000);
    int minutes = (int)env_num("VW_BENCH_STREAM_FLEET_MIN", 10, 1, 1440);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    b.t_base = ((int64_t)rt.tv_sec - 30 * 86400) / 10 * 10 * SEC;

    char ver[64], buf[8192];
    vm_version(&b, ver, sizeof ver);
    uint64_t rng = 1;
    size_t len = 0;
    if (snapshot_lines(buf, sizeof buf, &len, "tput-fsync", &CHANNELS[0], b.t_base, &rng) != SERIES_PER_CHAN) {
        fprintf(stderr, "bench_stream: the schema is not %d fields per snapshot-channel any more\n", SERIES_PER_CHAN);
        return 1;
    }
    b.snap_bytes = len;
    store_influx_cfg def;
    store_influx_cfg_default(&def);
    const char *vmdata = getenv("VW_BENCH_STREAM_VMDATA");
    printf("streaming: store/influx.c → VictoriaMetrics %s at %s (-dedup.minScrapeInterval=1ms, data on %s);\n"
           "  spools on %s (%s)\n", ver, b.url, vmdata ? bench_fs_name(vmdata) : "?", bench_fs_name(b.dir), b.dir);
    printf("lines: daemon/stream.c's vw_features (19 fields) + vw_health (14) per snapshot-channel = %d points, "
           "%zu bytes, 1 put;\n  4 sensors × 3 axes, a snapshot per 10 s of data time; writer defaults: batch %zu KiB "
           "or %.0f s, gzip, api 1, spool %llu MiB\n",
           SERIES_PER_CHAN, b.snap_bytes, def.batch_bytes >> 10, def.batch_s, (unsigned long long)(def.spool_bytes >> 20));
    printf("checks: counts from the server's queries (deduplicated samples per series, first/last time) and its "
           "/metrics (rows ingested, write requests, bytes read)\n\n");

    printf("1. throughput: one writer, drain unlimited; it puts for %.0f s, then flush until 0 (e2e: first put to "
           "flush 0)\n", seconds);
    printf("%-5s %5s %5s %7s %8s %8s %8s %9s %7s %7s %6s %6s %7s %9s %5s\n", "fsync", "put_s", "e2e_s", "lines",
           "points", "put_ln/s", "e2e_ln/s", "e2e_pt/s", "cpu_us", "srv_us", "lp_B", "wire_B", "batches", "srv_count",
           "exact");
    run_throughput(&b, true, seconds);
    run_throughput(&b, false, seconds);
    printf("  cpu_us: this process's CPU (getrusage: formatting, put, gzip, HTTP) per point; srv_us: the server's; "
           "lp_B: line protocol\n  per point; wire_B: what the server read per point (gzip on, HTTP included); "
           "batches: write requests it served\n");

    printf("\n2. backlog: 1 h of data (360 snapshots × 12 channels = 4320 puts, 8640 lines) spooled with the server "
           "down (fsync on),\n   then it starts on the same port; reconn: start to the first batch accepted (the "
           "writer's backoff), drain: from there\n   to flush 0, total: both; KiB/s: backlog_B / drain_s\n");
    printf("%-9s %9s %9s %6s %7s %8s %7s %7s %6s %7s %7s %8s %9s %5s\n", "limit", "backlog_B", "spool_B", "put_s",
           "retries", "reconn_s", "drain_s", "total_s", "KiB/s", "batches", "points", "srv_rows", "srv_count",
           "exact");
    if (b.ctl_w) {
        run_backlog(&b, 1024);
        run_backlog(&b, UNLIMITED_KB_S);
    } else {
        printf("(skipped: no CTL/ACK to stop and start the server)\n");
    }

    printf("\n3. fleet: boxes writing at once into the one server, %d min of data each as fast as they can (a thread "
           "and a writer\n   per box, own spool and box tag, default settings: fsync, drain 1024 KiB/s); wall: "
           "the go to the last flush 0\n", minutes);
    printf("%5s %4s %6s %6s %8s %8s %9s %7s %6s %7s %7s %8s %9s %5s %5s %5s\n", "boxes", "min", "put_s", "wall_s",
           "expected", "srv_rows", "ingest/s", "batches", "rx_MB", "srv_cpu", "cli_cpu", "srv_count", "boxes_ok",
           "lost", "dup", "exact");
    run_fleet(&b, nbox, minutes);
    printf("\nsrv_count: the samples the server's queries find (deduplicated); srv_rows: the samples it ingested "
           "(its vm_rows_inserted_total,\nduplicates included); exact: srv_count == srv_rows == the points put, every "
           "series has one sample per snapshot between the\nfirst and last data time, nothing left unsent\n");
    curl_global_cleanup();
    return 0;
}
