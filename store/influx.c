/* store/influx.c — see influx.h. */
#include "store/influx.h"
#include "store/spool.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

#define BACKOFF_MIN_S 1.0
#define BACKOFF_MAX_S 60.0
#define BODY_MAX 2048 /* bytes of a server's answer kept for the message */

struct store_influx {
    store_influx_cfg cfg;
    char *name, *url, *db, *rp, *user, *password, *org, *bucket, *token, *ca_file, *client_cert, *client_key,
        *spool_dir;
    char write_url[2048];
    char auth_header[1200];
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;     /* guards the spool, st and the flags */
    pthread_cond_t wake, idle;
    bool stopping, flush_req;
    double oldest_t;          /* when the oldest unsent line was spooled (monotonic s); 0: none */
    bool in_flight;           /* a peeked batch is being sent */
    double put_in_flight_t;   /* the first put while it was (0: none): the age of what stays */
    uint64_t pending_at_peek; /* batches pending when it was peeked */
    store_influx_stats st;
    store_spool *spool;
    /* thread-owned */
    CURL *curl;
    double next_try;          /* monotonic s */
    int failures;
    double bucket_bytes, bucket_t; /* the drain rate's token bucket */
    unsigned rng;
    char body[BODY_MAX + 1];
    size_t body_len;
    double retry_after;
};

void store_influx_cfg_default(store_influx_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->api = 1;
    c->gzip = true;
    c->batch_bytes = 256u << 10;
    c->batch_s = 5;
    c->timeout_s = 10;
    c->spool_bytes = 256ull << 20;
    c->spool_fsync = true;
    c->drain_kb_s = 1024;
    c->dead_letter_bytes = 64ull << 20;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

const char *store_influx_name(const store_influx *w) { return w->name; }

static void set_error(store_influx *w, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_error(store_influx *w, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&w->lock);
    w->st.last_http_status = status;
    vsnprintf(w->st.last_error, sizeof w->st.last_error, fmt, ap);
    w->st.connected = false;
    pthread_mutex_unlock(&w->lock);
    va_end(ap);
}

/* ---- the request ---------------------------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    store_influx *w = ctx;
    size_t len = size * n, room = BODY_MAX - w->body_len;
    size_t take = len < room ? len : room;
    memcpy(w->body + w->body_len, p, take);
    w->body_len += take;
    w->body[w->body_len] = 0;
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    store_influx *w = ctx;
    size_t len = size * n;
    if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        char buf[64];
        size_t k = len - 12 < sizeof buf - 1 ? len - 12 : sizeof buf - 1;
        memcpy(buf, p + 12, k);
        buf[k] = 0;
        char *end;
        double v = strtod(buf, &end);
        if (end != buf && v >= 0 && v <= 3600) /* seconds; an HTTP date is not honoured (retry by backoff) */
            w->retry_after = v;
    }
    return len;
}

/* gzip of in[0..n) into a malloc'd buffer. */
static unsigned char *gzip_of(const void *in, size_t n, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong cap = deflateBound(&z, (uLong)n) + 32;
    unsigned char *out = malloc(cap);
    if (!out) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

enum send_result { SENT, RETRY, DEAD };

static enum send_result post(store_influx *w, const char *data, size_t len, int *status)
{
    *status = 0;
    w->body_len = 0;
    w->body[0] = 0;
    w->retry_after = -1;
    unsigned char *gz = NULL;
    size_t gz_len = 0;
    if (w->cfg.gzip)
        gz = gzip_of(data, len, &gz_len);
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Content-Type: text/plain; charset=utf-8");
    if (gz)
        h = curl_slist_append(h, "Content-Encoding: gzip");
    if (w->auth_header[0])
        h = curl_slist_append(h, w->auth_header);
    h = curl_slist_append(h, "Expect:");
    CURL *c = w->curl;
    curl_easy_setopt(c, CURLOPT_URL, w->write_url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, gz ? (const char *)gz : data);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(gz ? gz_len : len));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(h);
    free(gz);
    *status = (int)code;
    if (rc != CURLE_OK) {
        set_error(w, 0, "%s: %s", w->write_url, curl_easy_strerror(rc));
        return RETRY;
    }
    if (code >= 200 && code < 300)
        return SENT;
    /* the server's own words, on one line */
    for (char *p = w->body; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    set_error(w, (int)code, "HTTP %ld: %.200s", code, w->body);
    /* only a 4xx says the server will never take this batch; a redirect (a proxy sending http to
     * https) or anything else is a configuration or network problem: the data waits */
    if (code >= 400 && code < 500 && code != 408 && code != 429)
        return DEAD;
    if (code >= 300 && code < 400) {
        char *loc = NULL;
        curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
        set_error(w, (int)code, "HTTP %ld: redirected to %.150s (give that URL in the config)", code, loc ? loc : "?");
    }
    return RETRY;
}

/* ---- the dead letters ------------------------------------------------------------------------ */

static void dead_letter(store_influx *w, const char *data, size_t len, int status)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/deadletter.lp", w->spool_dir);
    struct stat sb;
    uint64_t have = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    bool kept = false;
    if (have + len + 512 <= w->cfg.dead_letter_bytes) {
        FILE *f = fopen(path, "a");
        if (f) {
            time_t t = time(NULL);
            struct tm tm;
            char when[32];
            gmtime_r(&t, &tm);
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
            fprintf(f, "# %s HTTP %d: %.400s\n", when, status, w->body);
            kept = fwrite(data, 1, len, f) == len;
            if (len && data[len - 1] != '\n')
                fputc('\n', f);
            kept = fclose(f) == 0 && kept;
        }
    }
    pthread_mutex_lock(&w->lock);
    w->st.dead_batches++;
    w->st.dead_bytes += len;
    if (!kept)
        w->st.dead_uncapped++;
    pthread_mutex_unlock(&w->lock);
    if (w->cfg.log)
        w->cfg.log(3, "output %s: the server refused a batch of %zu bytes for good (HTTP %d: %.200s); %s", w->name, len,
                   status, w->body, kept ? "it is kept in deadletter.lp" : "deadletter.lp is full: counted only");
}

/* ---- the thread ------------------------------------------------------------------------------ */

/* Under w->lock. */
static void refresh_spool_stats(store_influx *w)
{
    store_spool_stats s;
    store_spool_stats_get(w->spool, &s);
    w->st.spool_pending_batches = s.pending_batches;
    w->st.spool_pending_bytes = s.pending_bytes;
    w->st.spool_disk_bytes = s.disk_bytes;
    w->st.spool_dropped_batches = s.dropped_batches;
    w->st.spool_dropped_bytes = s.dropped_bytes;
    w->st.spool_corrupt_bytes = s.corrupt_bytes;
    if (!s.pending_batches)
        w->oldest_t = 0;
}

/* Sends the oldest spooled lines if a batch is due and the rate allows: true when some went. */
static bool send_some(store_influx *w)
{
    double t = now_s();
    if (t < w->next_try)
        return false;
    pthread_mutex_lock(&w->lock);
    bool due = w->st.spool_pending_bytes >= w->cfg.batch_bytes || w->flush_req ||
               (w->oldest_t > 0 && t - w->oldest_t >= w->cfg.batch_s);
    uint64_t id = 0;
    void *data = NULL;
    size_t len = 0, count = 0;
    int prc = due && w->st.spool_pending_batches ? store_spool_peek_many(w->spool, w->cfg.batch_bytes, &id, &data, &len, &count)
                                                 : -ENOENT;
    if (prc == 0) {
        w->in_flight = true;
        w->put_in_flight_t = 0;
        w->pending_at_peek = w->st.spool_pending_batches;
    } else if (due) {
        refresh_spool_stats(w); /* a peek may have cut corrupt records */
    }
    pthread_mutex_unlock(&w->lock);
    if (prc != 0) {
        if (due && prc != -ENOENT) { /* the disk, not the server: back off and say so */
            set_error(w, 0, "reading the spool: %s", strerror(-prc));
            if (w->cfg.log && w->failures == 0)
                w->cfg.log(3, "output %s: reading the spool: %s", w->name, strerror(-prc));
            w->failures++;
            w->next_try = t + fmin(BACKOFF_MAX_S, BACKOFF_MIN_S * pow(2, w->failures < 10 ? w->failures : 10));
        }
        return false;
    }
    /* token bucket: drain_kb_s, with a burst of one batch */
    double rate = w->cfg.drain_kb_s * 1024;
    double burst = (double)w->cfg.batch_bytes;
    w->bucket_bytes = fmin(w->bucket_bytes + (t - w->bucket_t) * rate, burst);
    w->bucket_t = t;
    if (w->bucket_bytes < fmin((double)len, burst)) {
        free(data);
        w->next_try = t + (fmin((double)len, burst) - w->bucket_bytes) / rate;
        return false;
    }
    int status;
    enum send_result r = post(w, data, len, &status);
    char err[256];
    if (r == SENT || r == DEAD) {
        if (r == DEAD)
            dead_letter(w, data, len, status);
        w->bucket_bytes -= (double)len;
        pthread_mutex_lock(&w->lock);
        int rrc = store_spool_release(w->spool, id, err, sizeof err);
        if (r == SENT) {
            w->st.batches_sent++;
            w->st.bytes_sent += len;
            w->st.connected = true;
            w->st.last_http_status = status;
        }
        if (r == SENT)
            w->st.last_error[0] = 0;
        refresh_spool_stats(w);
        /* what stays is due by its own age: lines put while this batch was out are as old as
         * the first of them; lines that were already waiting (the batch was full) are due now */
        if (w->st.spool_pending_batches && count >= w->pending_at_peek)
            w->oldest_t = w->put_in_flight_t > 0 ? w->put_in_flight_t : t;
        w->in_flight = false;
        pthread_cond_broadcast(&w->idle);
        pthread_mutex_unlock(&w->lock);
        if (rrc < 0 && w->cfg.log)
            w->cfg.log(3, "output %s: releasing a sent batch: %s", w->name, err);
        if (w->failures && r == SENT && w->cfg.log)
            w->cfg.log(5, "output %s: the server takes writes again", w->name);
        w->failures = 0;
        w->next_try = 0;
        free(data);
        return true;
    }
    /* retry later: exponential backoff, half of it jittered, at least what Retry-After asked */
    double backoff = fmin(BACKOFF_MAX_S, BACKOFF_MIN_S * pow(2, w->failures < 10 ? w->failures : 10));
    w->rng = w->rng * 1103515245u + 12345u;
    double delay = backoff / 2 + backoff / 2 * (double)(w->rng >> 8) / (double)(1u << 24);
    if (w->retry_after > delay)
        delay = w->retry_after;
    if (w->failures == 0 && w->cfg.log) {
        pthread_mutex_lock(&w->lock);
        char last[256];
        snprintf(last, sizeof last, "%s", w->st.last_error);
        pthread_mutex_unlock(&w->lock);
        w->cfg.log(4, "output %s: %s; the data waits in the spool, retrying", w->name, last);
    }
    w->failures++;
    w->next_try = t + delay;
    pthread_mutex_lock(&w->lock);
    w->st.retries++;
    w->in_flight = false;
    pthread_cond_broadcast(&w->idle);
    pthread_mutex_unlock(&w->lock);
    free(data);
    return false;
}

static void *writer_main(void *arg)
{
    store_influx *w = arg;
    for (;;) {
        bool sent = send_some(w);
        pthread_mutex_lock(&w->lock);
        if (w->stopping) {
            pthread_mutex_unlock(&w->lock);
            break;
        }
        if (!sent) { /* sleep until lines come, a batch is due, or the next try */
            double t = now_s(), wake = t + 0.25;
            if (w->oldest_t > 0)
                wake = fmin(wake, w->oldest_t + w->cfg.batch_s);
            if (w->next_try > t)
                wake = fmax(wake, w->next_try);
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            double dt = fmax(0.001, wake - t);
            ts.tv_sec += (time_t)dt;
            ts.tv_nsec += (long)((dt - floor(dt)) * 1e9);
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&w->wake, &w->lock, &ts);
        }
        pthread_mutex_unlock(&w->lock);
    }
    return NULL;
}

/* ---- the face -------------------------------------------------------------------------------- */

static int url_param(CURL *c, char *out, size_t cap, const char *sep, const char *key, const char *value)
{
    if (!value)
        return 0;
    char *e = curl_easy_escape(c, value, 0);
    if (!e)
        return -ENOMEM;
    size_t len = strlen(out);
    int n = snprintf(out + len, cap - len, "%s%s=%s", sep, key, e);
    curl_free(e);
    return n < 0 || (size_t)n >= cap - len ? -ENAMETOOLONG : 0;
}

static void free_strings(store_influx *w)
{
    char **s[] = {&w->name, &w->url, &w->db, &w->rp, &w->user, &w->password, &w->org, &w->bucket, &w->token,
                  &w->ca_file, &w->client_cert, &w->client_key, &w->spool_dir};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        free(*s[i]);
        *s[i] = NULL;
    }
}

static void destroy(store_influx *w)
{
    if (!w)
        return;
    if (w->curl)
        curl_easy_cleanup(w->curl);
    store_spool_close(w->spool);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->idle);
    free_strings(w);
    memset(w->auth_header, 0, sizeof w->auth_header); /* a token does not linger in freed memory */
    free(w);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

store_influx *store_influx_start(const store_influx_cfg *c, char *err, size_t errlen)
{
    const char *name = c && c->name ? c->name : "influx";
#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); destroy(w); return NULL; } while (0)
    store_influx *w = NULL;
    if (!c || !c->url || !c->spool_dir)
        FAIL("output %s: url and spool_dir are required", name);
    if (strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://", 8) != 0)
        FAIL("output %s: url \"%.200s\" must start with http:// or https://", name, c->url);
    if (c->api == 1 && !c->db)
        FAIL("output %s: the 1.x API needs db", name);
    if (c->api == 2 && (!c->org || !c->bucket))
        FAIL("output %s: the 2.x API needs org and bucket", name);
    if (c->api != 1 && c->api != 2)
        FAIL("output %s: api must be 1 or 2", name);
    if (c->batch_bytes < 1024 || c->batch_bytes > (64u << 20) || !(c->batch_s > 0) || !(c->timeout_s > 0) ||
        !(c->drain_kb_s > 0))
        FAIL("output %s: batch_bytes 1 KiB–64 MiB, and positive times and rates", name);
    if (c->spool_bytes < 4 * (uint64_t)c->batch_bytes)
        FAIL("output %s: the spool (%llu bytes) must hold at least 4 batches (%zu bytes each)", name,
             (unsigned long long)c->spool_bytes, c->batch_bytes);
    pthread_once(&curl_once, curl_init_once);
    w = calloc(1, sizeof *w);
    if (!w)
        FAIL("output %s: out of memory", name);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    pthread_cond_init(&w->idle, NULL);
    w->cfg = *c;
    w->name = strdup(name);
    w->url = strdup(c->url);
    w->db = dup_or_null(c->db);
    w->rp = dup_or_null(c->rp);
    w->user = dup_or_null(c->user);
    w->password = dup_or_null(c->password);
    w->org = dup_or_null(c->org);
    w->bucket = dup_or_null(c->bucket);
    w->token = dup_or_null(c->token);
    w->ca_file = dup_or_null(c->ca_file);
    w->client_cert = dup_or_null(c->client_cert);
    w->client_key = dup_or_null(c->client_key);
    w->spool_dir = strdup(c->spool_dir);
    w->curl = curl_easy_init();
    if (!w->name || !w->url || !w->spool_dir || !w->curl)
        FAIL("output %s: out of memory", name);
    /* the write URL */
    size_t ul = strlen(w->url);
    while (ul && w->url[ul - 1] == '/')
        w->url[--ul] = 0;
    snprintf(w->write_url, sizeof w->write_url, "%s%s", w->url, c->api == 1 ? "/write" : "/api/v2/write");
    int rc = c->api == 1 ? url_param(w->curl, w->write_url, sizeof w->write_url, "?", "db", w->db) ||
                               url_param(w->curl, w->write_url, sizeof w->write_url, "&", "rp", w->rp)
                         : url_param(w->curl, w->write_url, sizeof w->write_url, "?", "org", w->org) ||
                               url_param(w->curl, w->write_url, sizeof w->write_url, "&", "bucket", w->bucket);
    if (rc || url_param(w->curl, w->write_url, sizeof w->write_url, "&", "precision", c->api == 1 ? "n" : "ns"))
        FAIL("output %s: the write URL is too long", name);
    if (c->api == 2 && w->token)
        snprintf(w->auth_header, sizeof w->auth_header, "Authorization: Token %s", w->token);
    CURL *cu = w->curl;
    curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(cu, CURLOPT_TIMEOUT_MS, (long)(c->timeout_s * 1000));
    curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT_MS, (long)fmin(c->timeout_s * 1000, 5000));
    curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(cu, CURLOPT_WRITEDATA, w);
    curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(cu, CURLOPT_HEADERDATA, w);
    curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(cu, CURLOPT_FOLLOWLOCATION, 0L);
    if (c->api == 1 && w->user) {
        curl_easy_setopt(cu, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(cu, CURLOPT_USERNAME, w->user);
        curl_easy_setopt(cu, CURLOPT_PASSWORD, w->password ? w->password : "");
    }
    if (w->ca_file)
        curl_easy_setopt(cu, CURLOPT_CAINFO, w->ca_file);
    if (w->client_cert)
        curl_easy_setopt(cu, CURLOPT_SSLCERT, w->client_cert);
    if (w->client_key)
        curl_easy_setopt(cu, CURLOPT_SSLKEY, w->client_key);
    curl_easy_setopt(cu, CURLOPT_SSL_VERIFYPEER, c->tls_insecure ? 0L : 1L);
    curl_easy_setopt(cu, CURLOPT_SSL_VERIFYHOST, c->tls_insecure ? 0L : 2L);
    if (c->tls_insecure && c->log)
        c->log(4, "output %s: tls_insecure: the server's certificate is NOT checked", name);
    char e[512];
    w->spool = store_spool_open(w->spool_dir, c->spool_bytes, c->spool_fsync ? STORE_SPOOL_FSYNC_EACH : STORE_SPOOL_FSYNC_NONE,
                                e, sizeof e);
    if (!w->spool)
        FAIL("output %s: %s", name, e);
    refresh_spool_stats(w);
    if (w->st.spool_pending_batches)
        w->oldest_t = 1; /* an earlier run's lines: due at once */
    if (w->st.spool_corrupt_bytes && c->log)
        c->log(4, "output %s: %llu bytes of a torn spool record were cut off (a power cut while writing)", name,
               (unsigned long long)w->st.spool_corrupt_bytes);
    if (w->st.spool_pending_batches && c->log)
        c->log(5, "output %s: %llu batches (%llu bytes) left in the spool by an earlier run are sent first", name,
               (unsigned long long)w->st.spool_pending_batches, (unsigned long long)w->st.spool_pending_bytes);
    w->rng = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)w;
    w->bucket_t = now_s();
    w->bucket_bytes = (double)c->batch_bytes;
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0)
        FAIL("output %s: cannot start its thread", name);
    w->started = true;
    return w;
#undef FAIL
}

int store_influx_put(store_influx *w, const char *lines, size_t len)
{
    if (!w || !lines)
        return -EINVAL;
    if (!len)
        return 0;
    if (lines[len - 1] != '\n' || len > w->cfg.spool_bytes / 2) {
        pthread_mutex_lock(&w->lock);
        w->st.put_failed_bytes += len;
        snprintf(w->st.last_error, sizeof w->st.last_error, "a chunk of %zu bytes is not whole lines or is over "
                 "half the spool", len);
        pthread_mutex_unlock(&w->lock);
        if (w->cfg.log)
            w->cfg.log(3, "output %s: %zu bytes refused: not whole lines, or more than half the spool", w->name, len);
        return -EINVAL;
    }
    char err[200];
    pthread_mutex_lock(&w->lock);
    uint64_t dropped_before = w->st.spool_dropped_batches, dropped_bytes_before = w->st.spool_dropped_bytes;
    int rc = store_spool_append(w->spool, lines, len, NULL, err, sizeof err);
    if (rc == 0) {
        w->st.bytes_in += len;
        for (size_t k = 0; k < len; k++)
            w->st.lines_in += lines[k] == '\n';
        if (!w->oldest_t)
            w->oldest_t = now_s();
        if (w->in_flight && !w->put_in_flight_t)
            w->put_in_flight_t = now_s();
    } else {
        w->st.put_failed_bytes += len;
        snprintf(w->st.last_error, sizeof w->st.last_error, "spool: %s", err);
    }
    refresh_spool_stats(w);
    uint64_t dropped = w->st.spool_dropped_batches - dropped_before;
    uint64_t dropped_bytes = w->st.spool_dropped_bytes - dropped_bytes_before;
    uint64_t total = w->st.spool_dropped_batches;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    if (rc < 0 && w->cfg.log)
        w->cfg.log(3, "output %s: %zu bytes could not be spooled and are lost: %s", w->name, len, err);
    if (dropped && w->cfg.log && (total == dropped || total % 100 < dropped)) /* the first, then every 100th */
        w->cfg.log(4, "output %s: the spool is full: the oldest %llu unsent batch%s (%llu bytes) dropped; %llu dropped "
                      "since start", w->name, (unsigned long long)dropped, dropped == 1 ? "" : "es",
                   (unsigned long long)dropped_bytes, (unsigned long long)total);
    return rc;
}

uint64_t store_influx_flush(store_influx *w, double timeout_s)
{
    if (!w)
        return 0;
    double end = now_s() + timeout_s;
    pthread_mutex_lock(&w->lock);
    w->flush_req = true;
    pthread_cond_signal(&w->wake);
    uint64_t unsent;
    for (;;) {
        unsent = w->st.spool_pending_bytes;
        if (!unsent || now_s() >= end)
            break;
        double step = fmin(0.1, end - now_s());
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)(fmax(step, 0.001) * 1e9);
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&w->idle, &w->lock, &ts);
    }
    w->flush_req = false; /* (one flusher at a time: the stream has one) */
    pthread_mutex_unlock(&w->lock);
    return unsent;
}

void store_influx_stop(store_influx *w)
{
    if (!w)
        return;
    if (w->started) {
        pthread_mutex_lock(&w->lock);
        w->stopping = true;
        pthread_cond_broadcast(&w->wake);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
    }
    destroy(w);
}

void store_influx_get_stats(store_influx *w, store_influx_stats *out)
{
    pthread_mutex_lock(&w->lock);
    *out = w->st;
    pthread_mutex_unlock(&w->lock);
}
