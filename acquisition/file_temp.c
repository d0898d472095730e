/* acquisition/file_temp.c — the PRONOSTIA temperature record beside the acc files (see
 * file_series.h). Files are read forward, once each, as the snapshots' time advances; the
 * tracker holds the file that covers the current time and the one after it (600 readings
 * each), which is all "nearest in time" needs at a file boundary. */
#include "file_series.h"
#include "file_time.h"
#include "recording.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HALF_DAY_NS (ACQ_NS_PER_DAY / 2)

struct tfile {
    int64_t *t; /* local ns, non-decreasing */
    double *v;  /* °C */
    size_t n;
};

struct acq_file_temp {
    const acq_file_entry *files;
    size_t n, next;  /* next file to read */
    FILE *log;
    int started;
    int64_t chain;   /* reference for the next reading's day (the last reading read) */
    struct tfile cur, nxt;
};

int acq_file_pronostia_tod(double h, double m, double s, double sub, int sub_is_us, int64_t *tod_ns)
{
    if (!(h >= 0 && h < 24 && h == floor(h)) || !(m >= 0 && m < 60 && m == floor(m)) ||
        !(s >= 0 && s < 60 && s == floor(s)) || !(sub >= 0))
        return -EINVAL;
    double sub_ns;
    if (sub_is_us)
        sub_ns = sub * 1e3;
    else if (sub < 1)
        sub_ns = sub * 1e9;
    else if (sub < 10)
        sub_ns = sub * 1e8;
    else
        sub_ns = sub * 1e3;
    if (!(sub_ns < 1e9))
        return -EINVAL;
    *tod_ns = ((int64_t)h * 3600 + (int64_t)m * 60 + (int64_t)s) * ACQ_NS_PER_S + (int64_t)llround(sub_ns);
    return 0;
}

acq_file_temp *acq_file_temp_new(const acq_file_entry *files, size_t n, FILE *log)
{
    acq_file_temp *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->files = files;
    t->n = n;
    t->log = log;
    return t;
}

static void tfile_free(struct tfile *f)
{
    free(f->t);
    free(f->v);
    memset(f, 0, sizeof *f);
}

/* Reads one file into out; a message in msg when it is unusable. */
static int load_one(acq_file_temp *tr, const char *path, struct tfile *out, char *msg, size_t msglen)
{
    acq_recording r;
    int rc = acq_read_file(path, 10.0, &r, msg, msglen);
    if (rc < 0)
        return rc;
    if (r.nchan != 5) {
        snprintf(msg, msglen, "%s: %u columns, expected 5 (hour, minute, second, 0.x second, temperature)", path,
                 r.nchan);
        acq_recording_free(&r);
        return -EINVAL;
    }
    out->t = malloc(r.nframes * sizeof *out->t);
    out->v = malloc(r.nframes * sizeof *out->v);
    if (!out->t || !out->v) {
        snprintf(msg, msglen, "%s: out of memory", path);
        rc = -ENOMEM;
        goto fail;
    }
    int64_t chain = tr->chain;
    for (size_t i = 0; i < r.nframes; i++) {
        const float *row = r.samples + i * 5;
        int64_t tod;
        if (acq_file_pronostia_tod(row[0], row[1], row[2], row[3], 0, &tod) != 0) {
            snprintf(msg, msglen, "%s: row %zu: time %g:%g:%g + %g out of range", path, i + 1, (double)row[0],
                     (double)row[1], (double)row[2], (double)row[3]);
            rc = -EINVAL;
            goto fail;
        }
        chain = acq_file_next_tod(chain, tod);
        out->t[i] = chain;
        out->v[i] = row[4];
    }
    out->n = r.nframes;
    tr->chain = chain;
    acq_recording_free(&r);
    return 0;
fail:
    acq_recording_free(&r);
    tfile_free(out);
    return rc;
}

/* The next readable file into out; 0 (out empty) when none is left. */
static void load_next(acq_file_temp *tr, struct tfile *out)
{
    char msg[512];
    while (tr->next < tr->n) {
        const char *path = tr->files[tr->next++].path;
        if (load_one(tr, path, out, msg, sizeof msg) == 0)
            return;
        if (tr->log)
            fprintf(tr->log, "file: temperature file skipped: %s\n", msg);
    }
}

static void consider(int64_t t, double v, int64_t at, int64_t *best_d, double *best)
{
    int64_t d = t > at ? t - at : at - t;
    if (d < *best_d) {
        *best_d = d;
        *best = v;
    }
}

double acq_file_temp_at(acq_file_temp *tr, int64_t at)
{
    if (!tr || tr->n == 0)
        return NAN;
    if (!tr->started) {
        /* the first reading goes on the day that puts it within half a day of the first snapshot */
        tr->started = 1;
        tr->chain = at - HALF_DAY_NS;
        load_next(tr, &tr->cur);
        load_next(tr, &tr->nxt);
    }
    while (tr->nxt.n > 0 && tr->nxt.t[0] <= at) {
        tfile_free(&tr->cur);
        tr->cur = tr->nxt;
        memset(&tr->nxt, 0, sizeof tr->nxt);
        load_next(tr, &tr->nxt);
    }
    int64_t best_d = INT64_MAX;
    double best = NAN;
    if (tr->cur.n > 0) {
        size_t lo = 0, hi = tr->cur.n; /* first reading at or after `at` */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (tr->cur.t[mid] < at)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < tr->cur.n)
            consider(tr->cur.t[lo], tr->cur.v[lo], at, &best_d, &best);
        if (lo > 0)
            consider(tr->cur.t[lo - 1], tr->cur.v[lo - 1], at, &best_d, &best);
    }
    if (tr->nxt.n > 0)
        consider(tr->nxt.t[0], tr->nxt.v[0], at, &best_d, &best);
    return (double)best_d <= ACQ_FILE_TEMP_MAX_DIST_S * 1e9 ? best : NAN;
}

void acq_file_temp_free(acq_file_temp *tr)
{
    if (!tr)
        return;
    tfile_free(&tr->cur);
    tfile_free(&tr->nxt);
    free(tr);
}
