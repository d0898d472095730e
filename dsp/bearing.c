/* dsp/bearing.c — defect-frequency kinematics and the name lookup. The table itself lives in
 * bearing_catalog.c. Everything here is pure: no state, no allocation, safe from any thread. */
#include "bearing.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

int dsp_bearing_orders_from_geometry(int n, double ball_d, double pitch_d, double contact_deg,
                                     dsp_bearing_orders *out, char *err, size_t errlen)
{
    if (!out)
        return fail(err, errlen, "no place given for the orders");
    if (!isfinite(ball_d) || !isfinite(pitch_d) || !isfinite(contact_deg))
        return fail(err, errlen, "bearing geometry must be finite numbers");
    if (n < 3)
        return fail(err, errlen, "a bearing needs at least 3 rolling elements (got %d)", n);
    if (ball_d <= 0)
        return fail(err, errlen, "ball diameter must be positive (got %g)", ball_d);
    if (pitch_d <= ball_d)
        return fail(err, errlen, "ball diameter must be smaller than the pitch diameter "
                                 "(ball %g, pitch %g)", ball_d, pitch_d);
    /* radial bearings run well below 45°; 60° or more is a thrust bearing, which this module
     * does not describe, or a typo (15.17 entered as 151.7) that should not pass silently */
    if (!(contact_deg >= 0 && contact_deg < 60))
        return fail(err, errlen, "contact angle must be in [0, 60) degrees (got %g)", contact_deg);

    double x = ball_d / pitch_d * cos(contact_deg * M_PI / 180.0);
    out->bpfo = 0.5 * n * (1 - x);
    out->bpfi = 0.5 * n * (1 + x);
    out->ftf = 0.5 * (1 - x);
    out->bsf = pitch_d / (2 * ball_d) * (1 - x * x);
    return 0;
}

void dsp_bearing_freqs_hz(const dsp_bearing_orders *o, double shaft_hz, dsp_bearing_orders *out_hz)
{
    if (!o || !out_hz)
        return;
    dsp_bearing_orders r = {o->bpfo * shaft_hz, o->bpfi * shaft_hz, o->bsf * shaft_hz,
                            o->ftf * shaft_hz};
    *out_hz = r;
}

/* ---- lookup ------------------------------------------------------------------------------ */

/* Names people type differ from the catalogue's in case and in the separators ("6205-2RS",
 * "6205 2RS", "6205/2RS"), so both sides are compared without them. */
enum { NAME_CAP = 96 };

static int is_sep(char c) { return c == ' ' || c == '-' || c == '/' || c == '\t'; }

/* Lower-cased s without separators; 0 when it does not fit (no catalogue name is that long). */
static size_t normalise(const char *s, char out[NAME_CAP])
{
    size_t k = 0;
    for (; *s; s++) {
        if (is_sep(*s))
            continue;
        if (k + 1 >= NAME_CAP)
            return 0;
        out[k++] = (char)tolower((unsigned char)*s);
    }
    out[k] = 0;
    return k;
}

/* Does q equal the normalised text of s cut where a word or a '-'/'/' part of s ends? */
static int prefix_hit(const char *s, const char *q, size_t qn)
{
    char buf[NAME_CAP];
    size_t k = 0;
    for (;; s++) {
        if ((*s == 0 || is_sep(*s)) && k == qn && memcmp(buf, q, qn) == 0)
            return 1;
        if (*s == 0 || k + 1 >= NAME_CAP)
            return 0;
        if (!is_sep(*s))
            buf[k++] = (char)tolower((unsigned char)*s);
    }
}

enum { MISS = 0, PARTIAL = 1, EXACT = 2 };

static int match(const char *name, const char *q, size_t qn, int has_digit)
{
    char full[NAME_CAP];
    if (!name)
        return MISS;
    size_t fn = normalise(name, full);
    if (fn && fn == qn && memcmp(full, q, qn) == 0)
        return EXACT;
    /* A digitless part ("SKF", "Rexnord ZA") names a maker or a family, not one bearing. */
    if (!has_digit)
        return MISS;
    if (prefix_hit(name, q, qn))
        return PARTIAL;
    const char *sp = strchr(name, ' '); /* the designation without the maker's name */
    return sp && prefix_hit(sp + 1, q, qn) ? PARTIAL : MISS;
}

typedef const dsp_bearing *(*entry_fn)(const void *ctx, size_t i);

static const dsp_bearing *find(entry_fn entry, const void *ctx, size_t n, const char *name)
{
    char q[NAME_CAP];
    if (!name)
        return NULL;
    size_t qn = normalise(name, q);
    if (qn == 0)
        return NULL;
    int has_digit = 0;
    for (size_t i = 0; i < qn; i++)
        has_digit |= isdigit((unsigned char)q[i]) != 0;

    const dsp_bearing *exact = NULL, *partial = NULL;
    size_t n_exact = 0, n_partial = 0;
    for (size_t i = 0; i < n; i++) {
        const dsp_bearing *b = entry(ctx, i);
        int m = match(b->name, q, qn, has_digit);
        if (m == EXACT) {
            exact = b;
            n_exact++;
        } else if (m == PARTIAL) {
            partial = b;
            n_partial++;
        }
    }
    if (n_exact)
        return n_exact == 1 ? exact : NULL;
    return n_partial == 1 ? partial : NULL;
}

static const dsp_bearing *table_entry(const void *ctx, size_t i)
{
    return (const dsp_bearing *)ctx + i;
}

static const dsp_bearing *catalogue_entry(const void *ctx, size_t i)
{
    (void)ctx;
    return dsp_bearing_at(i);
}

const dsp_bearing *dsp_bearing_find_in(const dsp_bearing *table, size_t n, const char *name)
{
    return table ? find(table_entry, table, n, name) : NULL;
}

const dsp_bearing *dsp_bearing_find(const char *name)
{
    return find(catalogue_entry, NULL, dsp_bearing_count(), name);
}
