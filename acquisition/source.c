/* acquisition/source.c — the scheme registry, URI query parsing, frames and statistics shared by
 * every backend. A source is the backend's ops, its private state, its info and its counters;
 * the counters are atomics because the daemon's status page reads them from another thread. */
#include "source.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct acq_source {
    const acq_source_ops *ops;
    void *priv;
    acq_info info;
    uint64_t next_seq;
    _Atomic uint64_t frames, samples, gaps, gap_samples, overruns, clipped, disconnects, reconnects;
};

static const acq_source_ops *const backends[] = {&acq_src_iio, &acq_src_alsa, &acq_src_file, &acq_src_sim};

static acq_bearing_lookup_fn bearing_lookup;

void acq_set_bearing_lookup(acq_bearing_lookup_fn fn) { bearing_lookup = fn; }

int acq_lookup_bearing(const char *name, double orders[4])
{
    return bearing_lookup && name ? bearing_lookup(name, orders) : -ENOENT;
}

int64_t acq_clock_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- query ---------------------------------------------------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Copies s[0..n) into out (size cap) decoding %XX; -1 when it does not fit or is malformed. */
static int decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int h = hexval((unsigned char)s[i + 1]), l = hexval((unsigned char)s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = h * 16 + l;
            i += 2;
        }
        if (c == 0 || o + 1 >= cap)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = 0;
    return 0;
}

int acq_query_parse(const char *q, acq_query *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!q || !*q)
        return 0;
    const char *p = q;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > 0) {
            const char *eq = memchr(p, '=', len);
            if (!eq) {
                snprintf(err, errlen, "query \"%.*s\": expected key=value", (int)len, p);
                return -EINVAL;
            }
            if (out->n >= ACQ_QUERY_MAX) {
                snprintf(err, errlen, "query: more than %d keys", ACQ_QUERY_MAX);
                return -EINVAL;
            }
            size_t klen = (size_t)(eq - p);
            if (klen == 0 || decode(p, klen, out->kv[out->n].key, sizeof out->kv[0].key) < 0 ||
                decode(eq + 1, len - klen - 1, out->kv[out->n].val, sizeof out->kv[0].val) < 0) {
                snprintf(err, errlen, "query \"%.*s\": empty, too long or badly %%-encoded", (int)len, p);
                return -EINVAL;
            }
            for (int i = 0; i < out->n; i++)
                if (strcmp(out->kv[i].key, out->kv[out->n].key) == 0) {
                    snprintf(err, errlen, "query: key \"%s\" given twice", out->kv[i].key);
                    return -EINVAL;
                }
            out->n++;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return 0;
}

const char *acq_query_get(acq_query *q, const char *key)
{
    for (int i = 0; i < q->n; i++)
        if (strcmp(q->kv[i].key, key) == 0) {
            q->kv[i].used = true;
            return q->kv[i].val;
        }
    return NULL;
}

int acq_query_double(acq_query *q, const char *key, double lo, double hi, double *out, char *err, size_t errlen)
{
    const char *v = acq_query_get(q, key);
    if (!v)
        return 0;
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end || !isfinite(d) || d < lo || d > hi) {
        snprintf(err, errlen, "%s=%s: expected a number from %g to %g", key, v, lo, hi);
        return -EINVAL;
    }
    *out = d;
    return 1;
}

int acq_query_check_unused(const acq_query *q, const char *scheme, char *err, size_t errlen)
{
    for (int i = 0; i < q->n; i++)
        if (!q->kv[i].used) {
            snprintf(err, errlen, "unknown key \"%s\" for %s: sources", q->kv[i].key, scheme);
            return -EINVAL;
        }
    return 0;
}

/* ---- sources -------------------------------------------------------------------------- */

acq_source *acq_open(const char *uri, char *err, size_t errlen)
{
    char msg[384] = "";
    if (!uri || !*uri) {
        snprintf(err, errlen, "empty source URI");
        return NULL;
    }
    const char *colon = strchr(uri, ':');
    if (!colon) {
        snprintf(err, errlen, "%s: no scheme (expected iio:, alsa:, file: or sim:)", uri);
        return NULL;
    }
    size_t slen = (size_t)(colon - uri);
    const acq_source_ops *ops = NULL;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        if (strlen(backends[i]->scheme) == slen && strncmp(backends[i]->scheme, uri, slen) == 0)
            ops = backends[i];
    if (!ops) {
        snprintf(err, errlen, "%s: unknown scheme \"%.*s\" (expected iio, alsa, file or sim)", uri, (int)slen, uri);
        return NULL;
    }
    /* the target ends at the last '?' (a libiio URI has no '?', a file path rarely does) */
    const char *rest = colon + 1, *qm = strrchr(rest, '?');
    char target[256];
    size_t tlen = qm ? (size_t)(qm - rest) : strlen(rest);
    if (tlen >= sizeof target) {
        snprintf(err, errlen, "%s: the part before '?' is longer than %zu bytes", uri, sizeof target - 1);
        return NULL;
    }
    memcpy(target, rest, tlen);
    target[tlen] = 0;
    acq_query q;
    if (acq_query_parse(qm ? qm + 1 : NULL, &q, msg, sizeof msg) < 0) {
        snprintf(err, errlen, "%s: %s", uri, msg);
        return NULL;
    }
    for (int i = 0; ops->keys && i < q.n; i++) {
        bool known = false;
        for (const char *const *k = ops->keys; *k && !known; k++)
            known = strcmp(*k, q.kv[i].key) == 0;
        if (!known) {
            char allowed[256] = "";
            for (const char *const *k = ops->keys; *k; k++)
                snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), "%s%s", k == ops->keys ? "" : ", ", *k);
            snprintf(err, errlen, "%s: unknown key \"%s\" for %s: sources (known: %s)", uri, q.kv[i].key, ops->scheme,
                     allowed);
            return NULL;
        }
    }
    acq_source *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", uri);
        return NULL;
    }
    s->ops = ops;
    snprintf(s->info.uri, sizeof s->info.uri, "%s", uri);
    int rc = ops->open(s, target, &q, &s->info, msg, sizeof msg);
    if (rc == 0)
        rc = acq_query_check_unused(&q, ops->scheme, msg, sizeof msg);
    if (rc == 0 && (s->info.nchan < 1 || s->info.nchan > ACQ_MAX_CHANNELS || !(s->info.rate_hz > 0))) {
        snprintf(msg, sizeof msg, "backend reported %u channels at %g Hz", s->info.nchan, s->info.rate_hz);
        rc = -EINVAL;
    }
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", uri, msg);
        if (s->priv && ops->close)
            ops->close(s);
        free(s);
        return NULL;
    }
    return s;
}

int acq_read(acq_source *s, acq_frame *f, char *err, size_t errlen)
{
    if (f->nchan < s->info.nchan || f->capacity == 0) {
        snprintf(err, errlen, "%s: frame holds %u channels, the source has %u", s->info.uri, f->nchan, s->info.nchan);
        return -EINVAL;
    }
    f->nchan = s->info.nchan;
    f->nsamp = 0;
    f->flags = 0;
    f->gap_samples = 0;
    f->temp_c = NAN;
    f->rate_hz = s->info.rate_hz;
    char msg[384] = "";
    int rc = s->ops->read(s, f, msg, sizeof msg);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", s->info.uri, msg);
        return rc;
    }
    if (rc == ACQ_END)
        return ACQ_END;
    f->seq = s->next_seq++;
    /* clipping is judged here against each channel's full scale, for every backend that does not
     * judge it exactly from its converter's codes (those flag it themselves: this coarser check
     * would only add frames near, but not at, a rail, and miss the smaller rail of an offset one) */
    for (unsigned c = 0; c < f->nchan && !s->info.clip_exact && !(f->flags & ACQ_FRAME_CLIPPED); c++) {
        double fsc = s->info.ch[c].full_scale;
        if (fsc <= 0)
            continue;
        for (size_t i = 0; i < f->nsamp; i++)
            if (fabsf(f->samples[i * f->nchan + c]) >= 0.999 * fsc) {
                f->flags |= ACQ_FRAME_CLIPPED;
                break;
            }
    }
    atomic_fetch_add(&s->frames, 1);
    atomic_fetch_add(&s->samples, f->nsamp);
    if (f->flags & ACQ_FRAME_CLIPPED)
        atomic_fetch_add(&s->clipped, 1);
    return 0;
}

void acq_close(acq_source *s)
{
    if (!s)
        return;
    if (s->ops->close)
        s->ops->close(s);
    free(s);
}

const acq_info *acq_source_info(const acq_source *s) { return &s->info; }

void acq_source_stats(const acq_source *s, acq_stats *o)
{
    acq_source *m = (acq_source *)s; /* atomic loads need a non-const object in C11 */
    o->frames = atomic_load(&m->frames);
    o->samples = atomic_load(&m->samples);
    o->gaps = atomic_load(&m->gaps);
    o->gap_samples = atomic_load(&m->gap_samples);
    o->overruns = atomic_load(&m->overruns);
    o->clipped_frames = atomic_load(&m->clipped);
    o->disconnects = atomic_load(&m->disconnects);
    o->reconnects = atomic_load(&m->reconnects);
}

void acq_source_set_priv(acq_source *s, void *priv) { s->priv = priv; }
void *acq_source_priv(const acq_source *s) { return s->priv; }

void acq_stats_add_gap(acq_source *s, uint64_t lost)
{
    atomic_fetch_add(&s->gaps, 1);
    atomic_fetch_add(&s->gap_samples, lost);
}
void acq_stats_add_overrun(acq_source *s) { atomic_fetch_add(&s->overruns, 1); }
void acq_stats_add_disconnect(acq_source *s) { atomic_fetch_add(&s->disconnects, 1); }
void acq_stats_add_reconnect(acq_source *s) { atomic_fetch_add(&s->reconnects, 1); }

/* ---- frames --------------------------------------------------------------------------- */

acq_frame *acq_frame_new(unsigned nchan, size_t capacity)
{
    if (nchan < 1 || nchan > ACQ_MAX_CHANNELS || capacity < 1 || capacity > SIZE_MAX / sizeof(float) / nchan ||
        capacity * nchan > ((size_t)1 << 28))
        return NULL;
    acq_frame *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->samples = calloc(capacity * nchan, sizeof *f->samples);
    if (!f->samples) {
        free(f);
        return NULL;
    }
    f->nchan = nchan;
    f->capacity = capacity;
    f->temp_c = NAN;
    return f;
}

void acq_frame_free(acq_frame *f)
{
    if (!f)
        return;
    free(f->samples);
    free(f);
}
