/* Tests of store/history_read.h against known data written through store/history.h: a feature that
 * is a linear ramp (v = hours since T0) over 10 days at one snapshot per 10 min, a sine with a
 * period of one day, a feature present in every other snapshot, a feature whose name needs JSON
 * escapes, and a 6-hour gap left on purpose. Bucket means, minima, maxima and counts are checked
 * against the ramp's closed forms (mean of bucket i of 1 h = i + 5/12) and against the defining
 * functions evaluated at the sample times; the source switches to hourly and daily aggregates once
 * retention removed the raw rows. Spectra with known peaks come back decimated by maximum within
 * the codec's 0.017 %; a waterfall of 50 spectra whose peak moves picks the expected rows; a
 * stored sine's min/max pairs bracket its samples within the codec's peak/65534; events filter
 * and order; errors are the documented ones; a reader sees what a writer commits meanwhile. */
#include "store/history.h"
#include "store/history_read.h"
#include "testlib.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SEC INT64_C(1000000000)
#define MIN (60 * SEC)
#define HOUR (3600 * SEC)
#define DAY (24 * HOUR)
#define T0 (INT64_C(1704067200) * SEC) /* 2024-01-01T00:00:00Z: a UTC midnight */
#define NSNAP 1440                     /* 10 days at one snapshot per 10 min */
#define GAP_FROM 756                   /* snapshots 756…791 (day 5, 06:00–12:00) are missing */
#define GAP_TO 792
#define WEIRD "we\"ird\\name\x01\xc3\xa9" /* needs escapes in JSON; UTF-8 é */
#define SPEC_TOL 2e-4                  /* relative: 0.017 % codec precision, and a margin */

static char err[1024];

/* ---- the known data ---------------------------------------------------------------------------- */

static int present(int k) { return k < GAP_FROM || k >= GAP_TO; }
static int64_t t_of(int k) { return T0 + k * 10 * MIN; }
static double ramp(int k) { return k / 6.0; } /* hours since T0 */
static double sine(int k) { return sin(2 * M_PI * k / 144.0); }
static double odd(int k) { return k % 2 ? 2 * (k / 6.0) : NAN; }
static double weird(int k) { (void)k; return 3.0; }

static const char *const feature_names[] = {"ramp", "sine", "odd", WEIRD};
static double (*const feature_fn[])(int) = {ramp, sine, odd, weird};
#define NFEAT 4

static char dir_buf[8][600];
static const char *new_dir(const char *name)
{
    static int next;
    char *d = dir_buf[next++ % 8];
    snprintf(d, sizeof dir_buf[0], "%s/%s", t_tmpdir(), name);
    return d;
}

static store_history *writer(const char *dir, const store_retention *ret)
{
    store_history *h = store_history_open(dir, ret, err, sizeof err);
    T_CHECK(h != NULL, "open the writer: %s", err);
    return h;
}

static store_reader *reader(const char *dir)
{
    store_reader *r = store_reader_open(dir, err, sizeof err);
    T_CHECK(r != NULL, "open the reader: %s", err);
    return r;
}

static void add(store_history *h, const store_snapshot *s)
{
    int rc = store_history_add(h, s, err, sizeof err);
    T_CHECK(rc == 0, "add at %lld: %d %s", (long long)s->t_ns, rc, err);
}

/* The ramp data of p1/de/x, then the writer is left open for the caller (NULL on failure). */
static store_history *write_ramp(const char *dir, const store_retention *ret)
{
    store_history *h = writer(dir, ret);
    if (!h)
        return NULL;
    for (int k = 0; k < NSNAP; k++) {
        if (!present(k))
            continue;
        double v[NFEAT];
        for (int f = 0; f < NFEAT; f++)
            v[f] = feature_fn[f](k);
        store_snapshot s = {.t_ns = t_of(k), .asset_id = "p1", .sensor_id = "de", .channel = "x", .state = "ok",
                            .nfeatures = NFEAT, .feature_names = feature_names, .features = v};
        add(h, &s);
    }
    return h;
}

/* The truth of a bucket [a, b) (b inclusive when last) of feature f, from the sample times. */
typedef struct truth {
    double mean, min, max;
    unsigned count;
} truth;

static truth truth_of(int f, int64_t a, int64_t b, int last)
{
    truth t = {0, INFINITY, -INFINITY, 0};
    double sum = 0;
    for (int k = 0; k < NSNAP; k++) {
        int64_t tk = t_of(k);
        double v = feature_fn[f](k);
        if (!present(k) || tk < a || tk > b || (tk == b && !last) || !isfinite(v))
            continue;
        sum += v;
        t.min = v < t.min ? v : t.min;
        t.max = v > t.max ? v : t.max;
        t.count++;
    }
    t.mean = t.count ? sum / t.count : NAN;
    if (!t.count)
        t.min = t.max = NAN;
    return t;
}

typedef struct trend_res {
    double mean[NFEAT * 1000], min[NFEAT * 1000], max[NFEAT * 1000];
    unsigned count[NFEAT * 1000];
    store_trend_out out;
} trend_res;

static int trend(store_reader *r, const char *ch, int64_t from, int64_t to, size_t np, trend_res *res)
{
    res->out = (store_trend_out){.mean = res->mean, .min = res->min, .max = res->max, .count = res->count};
    int rc = store_reader_trend(r, "de", ch, from, to, NFEAT, feature_names, np, &res->out, err, sizeof err);
    T_CHECK(rc == 0, "trend: %d %s", rc, err);
    return rc;
}

/* Each bucket of each feature against the truth of its sample times. */
static void check_against_truth(const trend_res *res, int64_t from, int64_t to, size_t np, const char *what)
{
    int bad = 0;
    for (int f = 0; f < NFEAT && bad < 5; f++)
        for (size_t i = 0; i < np && bad < 5; i++) {
            int64_t a = from + (int64_t)i * ((to - from) / (int64_t)np), b = from + (int64_t)(i + 1) * ((to - from) / (int64_t)np);
            truth t = truth_of(f, a, b, i + 1 == np);
            size_t j = f * np + i;
            int ok = res->count[j] == t.count &&
                     (t.count ? fabs(res->mean[j] - t.mean) <= 1e-9 * (1 + fabs(t.mean)) && res->min[j] == t.min &&
                                    res->max[j] == t.max
                              : isnan(res->mean[j]) && isnan(res->min[j]) && isnan(res->max[j]));
            if (!ok) {
                bad++;
                t_fail_at(__FILE__, __LINE__, "%s: %s bucket %zu: count %u mean %.12g min %.12g max %.12g, want %u %.12g %.12g %.12g",
                          what, feature_names[f], i, res->count[j], res->mean[j], res->min[j], res->max[j], t.count,
                          t.mean, t.min, t.max);
            }
        }
}

/* ---- trends ------------------------------------------------------------------------------------ */

static void test_trend_raw(void)
{
    const char *dir = new_dir("raw");
    store_history *h = write_ramp(dir, NULL);
    store_reader *r = reader(dir);
    static trend_res res;
    if (!h || !r || trend(r, "x", T0, T0 + 10 * DAY, 240, &res) < 0)
        goto out;
    T_CHECK(!strcmp(res.out.resolution, "raw"), "resolution %s, want raw", res.out.resolution);
    /* the ramp in closed form: bucket i (hour i) holds the samples at i + k/6, k = 0…5 */
    int bad = 0;
    for (int i = 0; i < 240 && bad < 5; i++) {
        int gap = i >= 126 && i < 132;
        int ok = gap ? res.count[i] == 0 && isnan(res.mean[i]) && isnan(res.min[i]) && isnan(res.max[i])
                     : res.count[i] == 6 && fabs(res.mean[i] - (i + 5.0 / 12)) < 1e-9 && fabs(res.min[i] - i) < 1e-12 &&
                           fabs(res.max[i] - (i + 5.0 / 6)) < 1e-9;
        /* "odd": 2·hours at k = 1, 3, 5: mean 2i + 1, count 3 */
        size_t j = 2 * 240 + i;
        ok = ok && (gap ? res.count[j] == 0 && isnan(res.mean[j])
                        : res.count[j] == 3 && fabs(res.mean[j] - (2 * i + 1)) < 1e-9 &&
                              fabs(res.min[j] - (2 * i + 1.0 / 3)) < 1e-9 && fabs(res.max[j] - (2 * i + 5.0 / 3)) < 1e-9);
        /* the escaped name: 3 everywhere */
        j = 3 * 240 + i;
        ok = ok && (gap ? res.count[j] == 0 : res.count[j] == 6 && res.mean[j] == 3.0);
        if (!ok) {
            bad++;
            T_CHECK(0, "hour %d: ramp count %u mean %.12g min %.12g max %.12g; odd count %u mean %.12g; weird %u %.12g",
                    i, res.count[i], res.mean[i], res.min[i], res.max[i], res.count[2 * 240 + i],
                    res.mean[2 * 240 + i], res.count[3 * 240 + i], res.mean[3 * 240 + i]);
        }
    }
    check_against_truth(&res, T0, T0 + 10 * DAY, 240, "raw, 1 h buckets");

    /* buckets that are not aligned with the samples; `to` is inclusive (the last bucket has 4) */
    if (trend(r, "x", T0 + 20 * MIN, T0 + 140 * MIN, 4, &res) == 0) {
        T_CHECK(res.count[0] == 3 && res.count[3] == 4, "counts %u … %u, want 3 … 4", res.count[0], res.count[3]);
        T_NEAR(res.mean[0], (2 + 3 + 4) / 18.0, 1e-12, "mean of 20, 30, 40 min in hours");
        check_against_truth(&res, T0 + 20 * MIN, T0 + 140 * MIN, 4, "raw, 30 min buckets");
    }
    /* a range before and after the data: NAN there, the data where it is */
    if (trend(r, "x", T0 - DAY, T0 + DAY, 48, &res) == 0) {
        T_CHECK(res.count[23] == 0 && isnan(res.mean[23]) && res.count[24] == 6, "before the data: %u, %u",
                res.count[23], res.count[24]);
        check_against_truth(&res, T0 - DAY, T0 + DAY, 48, "raw, from before the data");
    }
    /* one bucket for everything */
    if (trend(r, "x", T0, T0 + 10 * DAY, 1, &res) == 0) {
        T_CHECK(res.count[0] == NSNAP - (GAP_TO - GAP_FROM), "one bucket: count %u", res.count[0]);
        T_CHECK(res.min[0] == 0 && fabs(res.max[0] - (NSNAP - 1) / 6.0) < 1e-12, "one bucket: min %g max %g",
                res.min[0], res.max[0]);
        check_against_truth(&res, T0, T0 + 10 * DAY, 1, "raw, one bucket");
    }
out:
    store_reader_close(r);
    store_history_close(h);
}

static void test_trend_aggregates(void)
{
    const char *dir = new_dir("agg");
    store_retention ret;
    store_history_defaults(&ret);
    ret.trend_days = 3;
    ret.aggregate_days = 8;
    store_history *h = write_ramp(dir, &ret);
    store_reader *r = reader(dir);
    static trend_res res;
    if (!h || !r)
        goto out;
    /* before retention: the raw trend covers everything */
    if (trend(r, "x", T0, T0 + 10 * DAY, 240, &res) == 0)
        T_CHECK(!strcmp(res.out.resolution, "raw"), "before pruning: %s", res.out.resolution);
    int64_t first = 0, last = 0;
    int rc = store_reader_span(r, "de", "x", &first, &last);
    T_CHECK(rc == 0 && first == T0 && last == t_of(NSNAP - 1), "span %d: %lld … %lld", rc, (long long)first,
            (long long)last);

    /* now = T0 + 10.5 d: raw rows before T0 + 7.5 d go, hourly buckets ending by T0 + 2.5 d go,
     * daily buckets ending by then go (day 2 stays) */
    long n = store_history_prune(h, T0 + 10 * DAY + 12 * HOUR, err, sizeof err);
    T_CHECK(n > 0, "prune: %ld %s", n, err);
    rc = store_reader_span(r, "de", "x", &first, &last);
    T_CHECK(rc == 0 && first == T0 + 60 * HOUR && last == t_of(NSNAP - 1), "span after pruning %d: T0 + %g h … %g h",
            rc, (double)(first - T0) / HOUR, (double)(last - T0) / HOUR);

    /* 1 h buckets from T0 + 6 d: the hourly aggregates, the ramp's hour means */
    if (trend(r, "x", T0 + 6 * DAY, T0 + 10 * DAY, 96, &res) == 0) {
        T_CHECK(!strcmp(res.out.resolution, "hourly"), "from T0 + 6 d, 1 h buckets: %s", res.out.resolution);
        int bad = 0;
        for (int i = 0; i < 96 && bad < 3; i++) {
            int hour = 144 + i;
            if (!(res.count[i] == 6 && fabs(res.mean[i] - (hour + 5.0 / 12)) < 1e-9 && fabs(res.min[i] - hour) < 1e-12 &&
                  fabs(res.max[i] - (hour + 5.0 / 6)) < 1e-9)) {
                bad++;
                T_CHECK(0, "hourly, hour %d: count %u mean %.12g min %.12g max %.12g", hour, res.count[i], res.mean[i],
                        res.min[i], res.max[i]);
            }
        }
        check_against_truth(&res, T0 + 6 * DAY, T0 + 10 * DAY, 96, "hourly from T0 + 6 d");
    }
    /* from T0 with 1 h buckets: hourly, nothing before T0 + 60 h, the gap empty */
    if (trend(r, "x", T0, T0 + 10 * DAY, 240, &res) == 0) {
        T_CHECK(!strcmp(res.out.resolution, "hourly"), "from T0, 1 h buckets: %s", res.out.resolution);
        T_CHECK(res.count[59] == 0 && res.count[60] == 6 && res.count[126] == 0 && res.count[132] == 6,
                "hourly counts %u %u %u %u", res.count[59], res.count[60], res.count[126], res.count[132]);
        int bad = 0;
        for (int f = 0; f < NFEAT && bad < 3; f++)
            for (int i = 0; i < 240 && bad < 3; i++) {
                size_t j = (size_t)f * 240 + i;
                truth t = truth_of(f, T0 + i * HOUR, T0 + (i + 1) * HOUR, i == 239);
                if (i < 60) /* pruned */
                    t = (truth){NAN, NAN, NAN, 0};
                int ok = res.count[j] == t.count &&
                         (t.count ? fabs(res.mean[j] - t.mean) <= 1e-9 * (1 + fabs(t.mean)) && res.min[j] == t.min &&
                                        res.max[j] == t.max
                                  : isnan(res.mean[j]) && isnan(res.min[j]) && isnan(res.max[j]));
                if (!ok) {
                    bad++;
                    T_CHECK(0, "hourly from T0: %s hour %d: count %u mean %.12g, want %u %.12g", feature_names[f], i,
                            res.count[j], res.mean[j], t.count, t.mean);
                }
            }
    }
    if (trend(r, "x", T0 + 60 * HOUR, T0 + 10 * DAY, 180, &res) == 0) {
        T_CHECK(!strcmp(res.out.resolution, "hourly"), "from T0 + 60 h: %s", res.out.resolution);
        check_against_truth(&res, T0 + 60 * HOUR, T0 + 10 * DAY, 180, "hourly from the first hour kept");
    }
    /* 10 min buckets: the raw trend even where it was pruned (NAN there) */
    if (trend(r, "x", T0 + 7 * DAY, T0 + 8 * DAY, 144, &res) == 0) {
        T_CHECK(!strcmp(res.out.resolution, "raw"), "10 min buckets: %s", res.out.resolution);
        T_CHECK(res.count[71] == 0 && res.count[72] == 1, "raw from T0 + 7.5 d: %u %u", res.count[71], res.count[72]);
        T_NEAR(res.mean[72], 7 * 24 + 12, 1e-12, "the first raw row kept (hours)");
    }
    /* from within the raw trend: raw, 1 h buckets */
    if (trend(r, "x", T0 + 8 * DAY, T0 + 10 * DAY, 48, &res) == 0) {
        T_CHECK(!strcmp(res.out.resolution, "raw"), "from T0 + 8 d: %s", res.out.resolution);
        check_against_truth(&res, T0 + 8 * DAY, T0 + 10 * DAY, 48, "raw from T0 + 8 d");
    }
    /* day buckets from before the hourly aggregates: the daily ones; day 2 whole (144 samples),
     * day 5 with its gap, days 0 and 1 empty */
    if (trend(r, "x", T0, T0 + 10 * DAY, 10, &res) == 0) {
        T_CHECK(!strcmp(res.out.resolution, "daily"), "day buckets from T0: %s", res.out.resolution);
        T_CHECK(res.count[0] == 0 && res.count[1] == 0 && isnan(res.mean[1]), "days 0, 1: %u %u", res.count[0],
                res.count[1]);
        T_CHECK(res.count[2] == 144 && fabs(res.mean[2] - (48 + 143.0 / 12)) < 1e-9 && res.min[2] == 48 &&
                    fabs(res.max[2] - (48 + 143.0 / 6)) < 1e-9,
                "day 2: count %u mean %.12g min %g max %g", res.count[2], res.mean[2], res.min[2], res.max[2]);
        T_CHECK(res.count[5] == 144 - 36, "day 5: count %u", res.count[5]);
        for (int i = 2; i < 10; i++) {
            truth t = truth_of(0, T0 + i * DAY, T0 + (i + 1) * DAY, 0);
            T_NEAR(res.mean[i], t.mean, 1e-9, "daily mean of the ramp");
            T_CHECK(res.count[i] == t.count, "day %d: count %u, want %u", i, res.count[i], t.count);
            t = truth_of(1, T0 + i * DAY, T0 + (i + 1) * DAY, 0);
            T_NEAR(res.mean[10 + i], t.mean, 1e-9, "daily mean of the sine");
            T_CHECK(res.min[10 + i] == t.min && res.max[10 + i] == t.max, "day %d: sine min/max", i);
        }
    }
out:
    store_reader_close(r);
    store_history_close(h);
}

/* ---- spectra ----------------------------------------------------------------------------------- */

#define NB 4096
static float spec_known(size_t b) { return b == 100 ? 1.0f : b == 2001 ? 0.5f : 1e-4f * (float)(1 + b % 7); }

static void test_spectrum(void)
{
    const char *dir = new_dir("spectrum");
    store_history *h = writer(dir, NULL);
    store_reader *r = NULL;
    if (!h)
        return;
    static float a[NB], old[NB], env[1000];
    for (size_t b = 0; b < NB; b++) {
        a[b] = spec_known(b);
        old[b] = b == 300 ? 2.0f : 1e-3f;
    }
    for (size_t b = 0; b < 1000; b++)
        env[b] = b == 77 ? 0.25f : 1e-5f;
    store_snapshot s = {.t_ns = T0, .asset_id = "p1", .sensor_id = "de", .channel = "z", .state = "ok",
                        .spectrum = old, .spectrum_bins = NB, .spectrum_df_hz = 0.5};
    add(h, &s);
    s.t_ns = T0 + HOUR;
    s.spectrum = a;
    s.envelope = env;
    s.envelope_bins = 1000;
    s.envelope_df_hz = 0.25;
    add(h, &s);
    if (!(r = reader(dir)))
        goto out;

    float *v = NULL;
    size_t nv = 0;
    double df = 0;
    unsigned m = 0;
    int64_t t = INT64_MAX;
    int rc = store_reader_spectrum(r, "de", "z", 0, &t, 0, 1000, &v, &nv, &df, &m);
    T_CHECK(rc == 0 && t == T0 + HOUR, "newest: %d, t %lld", rc, (long long)t);
    T_CHECK(m == 5 && nv == 820 && fabs(df - 2.5) < 1e-12, "max_of %u, %zu values, df %g; want 5, 820, 2.5", m, nv, df);
    if (rc == 0 && nv == 820) {
        T_NEAR(v[20], 1.0, SPEC_TOL, "the peak of bin 100 in value 20");
        T_NEAR(v[400], 0.5, 0.5 * SPEC_TOL, "the peak of bin 2001 in value 400");
        int bad = 0;
        for (size_t i = 0; i < nv && bad < 3; i++) {
            float want = 0;
            for (size_t b = i * 5; b < i * 5 + 5 && b < NB; b++)
                want = spec_known(b) > want ? spec_known(b) : want;
            if (!(fabs(v[i] - want) <= SPEC_TOL * want)) {
                bad++;
                T_CHECK(0, "value %zu: %g, want the max of its 5 bins %g", i, v[i], want);
            }
        }
    }
    free(v);
    /* up to 500 Hz: bins 0…1000, 11 per value; the 0.5 at bin 2001 (1000.5 Hz) is cut */
    t = INT64_MAX;
    rc = store_reader_spectrum(r, "de", "z", 0, &t, 500, 100, &v, &nv, &df, &m);
    T_CHECK(rc == 0 && m == 11 && nv == 91 && fabs(df - 5.5) < 1e-12, "fmax 500: %d max_of %u, %zu values, df %g", rc,
            m, nv, df);
    if (rc == 0 && nv == 91) {
        T_NEAR(v[9], 1.0, SPEC_TOL, "the peak of bin 100 in value 9");
        float top = 0;
        for (size_t i = 0; i < nv; i++)
            if (i != 9 && v[i] > top)
                top = v[i];
        T_CHECK(top < 1e-3, "fmax 500: another value %g", top);
    }
    free(v);
    /* no decimation: every bin */
    t = INT64_MAX;
    rc = store_reader_spectrum(r, "de", "z", 0, &t, 0, 100000, &v, &nv, &df, &m);
    T_CHECK(rc == 0 && m == 1 && nv == NB && df == 0.5, "all bins: %d %u %zu %g", rc, m, nv, df);
    if (rc == 0 && nv == NB)
        for (size_t b = 0; b < NB; b++)
            if (!(fabs(v[b] - spec_known(b)) <= SPEC_TOL * spec_known(b))) {
                T_CHECK(0, "bin %zu: %g, want %g", b, v[b], spec_known(b));
                break;
            }
    free(v);
    /* at or before T0 + 30 min: the older spectrum */
    t = T0 + 30 * MIN;
    rc = store_reader_spectrum(r, "de", "z", 0, &t, 0, 4096, &v, &nv, &df, &m);
    T_CHECK(rc == 0 && t == T0 && nv == NB, "older: %d t %lld", rc, (long long)t);
    if (rc == 0 && nv == NB)
        T_NEAR(v[300], 2.0, 2 * SPEC_TOL, "the older spectrum's peak");
    free(v);
    /* the envelope spectrum: only the newest has one */
    t = INT64_MAX;
    rc = store_reader_spectrum(r, "de", "z", 1, &t, 0, 100, &v, &nv, &df, &m);
    T_CHECK(rc == 0 && t == T0 + HOUR && m == 10 && nv == 100 && fabs(df - 2.5) < 1e-12, "envelope: %d %u %zu %g", rc,
            m, nv, df);
    if (rc == 0 && nv == 100)
        T_NEAR(v[7], 0.25, 0.25 * SPEC_TOL, "the envelope's peak of bin 77 in value 7");
    free(v);
    t = T0 + 30 * MIN;
    v = NULL;
    T_CHECK(store_reader_spectrum(r, "de", "z", 1, &t, 0, 100, &v, &nv, &df, &m) == -ENOENT && !v,
            "no envelope at or before T0 + 30 min");
    t = T0 - 1;
    T_CHECK(store_reader_spectrum(r, "de", "z", 0, &t, 0, 100, &v, &nv, &df, &m) == -ENOENT, "none before T0");
    t = INT64_MAX;
    T_CHECK(store_reader_spectrum(r, "de", "nope", 0, &t, 0, 100, &v, &nv, &df, &m) == -ENOENT, "unknown channel");
    T_CHECK(store_reader_spectrum(r, "de", "z", 0, &t, 0, 0, &v, &nv, &df, &m) == -EINVAL, "max_points 0");
out:
    store_reader_close(r);
    store_history_close(h);
}

/* 50 spectra of 2048 bins (df 1 Hz) at T0 + j·10 min, a peak of 1 at bin 100 + 20 j. */
#define WF_N 50
#define WF_BINS 2048
static size_t wf_peak(int j) { return 100 + 20 * (size_t)j; }

static size_t argmax(const float *x, size_t n)
{
    size_t k = 0;
    for (size_t i = 1; i < n; i++)
        if (x[i] > x[k])
            k = i;
    return k;
}

static void test_waterfall(void)
{
    const char *dir = new_dir("waterfall");
    store_history *h = writer(dir, NULL);
    store_reader *r = NULL;
    if (!h)
        return;
    static float a[WF_BINS];
    for (int j = 0; j < WF_N; j++) {
        for (size_t b = 0; b < WF_BINS; b++)
            a[b] = b == wf_peak(j) ? 1.0f : 1e-3f;
        store_snapshot s = {.t_ns = t_of(j), .asset_id = "p1", .sensor_id = "de", .channel = "y", .state = "ok",
                            .spectrum = a, .spectrum_bins = WF_BINS, .spectrum_df_hz = 1.0};
        add(h, &s);
    }
    /* y2: two old spectra of 1024 bins (one with df 2 Hz), then a newest of 2048 bins at df 1 Hz */
    for (int j = 0; j < 3; j++) {
        size_t n = j < 2 ? 1024 : 2048;
        for (size_t b = 0; b < n; b++)
            a[b] = b == 300 ? 1.0f : 1e-3f;
        store_snapshot s = {.t_ns = t_of(j), .asset_id = "p1", .sensor_id = "de", .channel = "y2", .state = "ok",
                            .spectrum = a, .spectrum_bins = n, .spectrum_df_hz = j == 1 ? 2.0 : 1.0};
        add(h, &s);
    }
    if (!(r = reader(dir)))
        goto out;
    int64_t *t = NULL;
    float *v = NULL;
    size_t nr = 0, nc = 0;
    double df = 0;
    int rc = store_reader_waterfall(r, "de", "y", 0, T0, t_of(WF_N - 1), 0, 10, WF_BINS, &t, &v, &nr, &nc, &df);
    T_CHECK(rc == 0 && nr == 10 && nc == WF_BINS && df == 1.0, "10 rows: %d, %zu × %zu, df %g", rc, nr, nc, df);
    for (size_t k = 0; rc == 0 && k < nr; k++) {
        int j = (int)lround(k * (WF_N - 1) / 9.0);
        T_CHECK(t[k] == t_of(j), "row %zu: t = T0 + %g min, want spectrum %d (T0 + %d min)", k,
                (double)(t[k] - T0) / MIN, j, j * 10);
        size_t p = argmax(v + k * nc, nc);
        T_CHECK(p == wf_peak(j) && fabs(v[k * nc + p] - 1.0) <= SPEC_TOL, "row %zu: peak at column %zu (%g), want %zu",
                k, p, v[k * nc + p], wf_peak(j));
    }
    free(t);
    free(v);
    /* decimated by 8: the peak in column peak / 8 */
    rc = store_reader_waterfall(r, "de", "y", 0, T0, t_of(WF_N - 1), 0, 5, 256, &t, &v, &nr, &nc, &df);
    T_CHECK(rc == 0 && nr == 5 && nc == 256 && df == 8.0, "5 rows of 256: %d, %zu × %zu, df %g", rc, nr, nc, df);
    for (size_t k = 0; rc == 0 && k < nr; k++) {
        int j = (int)lround(k * (WF_N - 1) / 4.0);
        T_CHECK(t[k] == t_of(j) && argmax(v + k * nc, nc) == wf_peak(j) / 8, "row %zu: spectrum %d, peak column %zu", k,
                j, argmax(v + k * nc, nc));
    }
    free(t);
    free(v);
    /* more rows asked than stored: all of them; up to 600 Hz: peaks beyond are cut */
    rc = store_reader_waterfall(r, "de", "y", 0, T0, T0 + DAY, 600, 200, 10000, &t, &v, &nr, &nc, &df);
    T_CHECK(rc == 0 && nr == WF_N && nc == 601, "all rows up to 600 Hz: %d, %zu × %zu", rc, nr, nc);
    for (size_t k = 0; rc == 0 && k < nr; k++) {
        float top = v[k * nc + argmax(v + k * nc, nc)];
        T_CHECK(t[k] == t_of((int)k) && (wf_peak((int)k) <= 600 ? argmax(v + k * nc, nc) == wf_peak((int)k) : top < 2e-3),
                "row %zu: peak column %zu (%g)", k, argmax(v + k * nc, nc), top);
    }
    free(t);
    free(v);
    /* a part of the range: spectra 10…20, 3 rows → 10, 15, 20 */
    rc = store_reader_waterfall(r, "de", "y", 0, t_of(10), t_of(20), 0, 3, WF_BINS, &t, &v, &nr, &nc, &df);
    T_CHECK(rc == 0 && nr == 3 && t[0] == t_of(10) && t[1] == t_of(15) && t[2] == t_of(20), "spectra 10…20 in 3 rows");
    free(t);
    free(v);
    /* one row: the newest of the range */
    rc = store_reader_waterfall(r, "de", "y", 0, t_of(10), t_of(20), 0, 1, WF_BINS, &t, &v, &nr, &nc, &df);
    T_CHECK(rc == 0 && nr == 1 && t[0] == t_of(20), "one row: the newest");
    free(t);
    free(v);
    /* shorter rows padded with 0; a row of another df placed by frequency (bin 300 at 2 Hz: 600 Hz) */
    rc = store_reader_waterfall(r, "de", "y2", 0, T0, T0 + DAY, 0, 10, WF_BINS, &t, &v, &nr, &nc, &df);
    T_CHECK(rc == 0 && nr == 3 && nc == WF_BINS && df == 1.0, "y2: %d, %zu × %zu, df %g", rc, nr, nc, df);
    if (rc == 0 && nr == 3 && nc == WF_BINS) {
        T_CHECK(argmax(v, nc) == 300 && v[1024] == 0 && v[2047] == 0, "y2 row 0: peak %zu, padding %g %g", argmax(v, nc),
                v[1024], v[2047]);
        T_CHECK(argmax(v + nc, nc) == 600 && v[nc + 601] > 0.99f && v[nc + 2047] > 0 && v[nc + 2047] < 2e-3,
                "y2 row 1 (df 2 Hz): peak at column %zu, want 600", argmax(v + nc, nc));
        T_CHECK(argmax(v + 2 * nc, nc) == 300 && v[2 * nc + 2047] > 0, "y2 row 2: peak %zu", argmax(v + 2 * nc, nc));
    }
    free(t);
    free(v);
    t = NULL;
    T_CHECK(store_reader_waterfall(r, "de", "y", 0, T0 + 2 * DAY, T0 + 3 * DAY, 0, 10, 100, &t, &v, &nr, &nc, &df) ==
                    -ENOENT && !t,
            "no spectra in the range");
    T_CHECK(store_reader_waterfall(r, "de", "y", 1, T0, T0 + DAY, 0, 10, 100, &t, &v, &nr, &nc, &df) == -ENOENT,
            "no envelope spectra");
    T_CHECK(store_reader_waterfall(r, "de", "q", 0, T0, T0 + DAY, 0, 10, 100, &t, &v, &nr, &nc, &df) == -ENOENT,
            "unknown channel");
    T_CHECK(store_reader_waterfall(r, "de", "y", 0, T0 + DAY, T0, 0, 10, 100, &t, &v, &nr, &nc, &df) == -EINVAL,
            "from after to");
    T_CHECK(store_reader_waterfall(r, "de", "y", 0, T0, T0 + DAY, 0, 0, 100, &t, &v, &nr, &nc, &df) == -EINVAL,
            "0 rows");
    T_CHECK(store_reader_waterfall(r, "de", "y", 0, T0, T0 + DAY, 0, 10, 0, &t, &v, &nr, &nc, &df) == -EINVAL,
            "0 points");
out:
    store_reader_close(r);
    store_history_close(h);
}

/* ---- waveforms --------------------------------------------------------------------------------- */

#define WV_N 10000
#define WV_RATE 25600.0
static double wave(size_t j) { return 2.0 * sin(2 * M_PI * 50 * (double)j / WV_RATE + 0.3); }

static void test_waveform(void)
{
    const char *dir = new_dir("waveform");
    store_history *h = writer(dir, NULL);
    store_reader *r = NULL;
    if (!h)
        return;
    static float w[WV_N];
    for (size_t j = 0; j < 1000; j++)
        w[j] = (float)(j % 2 ? 1 : -1);
    store_snapshot s = {.t_ns = T0, .asset_id = "p1", .sensor_id = "de", .channel = "w", .state = "ok",
                        .waveform = w, .waveform_len = 1000, .waveform_rate_hz = 1000};
    add(h, &s);
    for (size_t j = 0; j < WV_N; j++)
        w[j] = (float)wave(j);
    s.t_ns = T0 + HOUR;
    s.waveform_len = WV_N;
    s.waveform_rate_hz = WV_RATE;
    add(h, &s);
    if (!(r = reader(dir)))
        goto out;
    const double tol = 2.0 / 65534 + 1e-6;
    float *lo = NULL, *hi = NULL;
    size_t np = 0, n = 0;
    unsigned step = 0;
    double rate = 0;
    int64_t t = INT64_MAX;
    int rc = store_reader_waveform(r, "de", "w", &t, 100, &lo, &hi, &np, &n, &step, &rate);
    T_CHECK(rc == 0 && t == T0 + HOUR && n == WV_N && step == 100 && np == 100 && rate == WV_RATE,
            "newest: %d n %zu step %u pairs %zu rate %g", rc, n, step, np, rate);
    for (size_t i = 0; rc == 0 && i < np; i++) {
        double a = INFINITY, b = -INFINITY;
        for (size_t j = i * 100; j < (i + 1) * 100; j++) {
            a = fmin(a, wave(j));
            b = fmax(b, wave(j));
        }
        if (!(fabs(lo[i] - a) <= tol && fabs(hi[i] - b) <= tol)) {
            T_CHECK(0, "pair %zu: [%g, %g], want [%g, %g] ± %g", i, lo[i], hi[i], a, b, tol);
            break;
        }
    }
    free(lo);
    free(hi);
    /* three pairs: steps of 3334, the last shorter; together the sine's extremes */
    t = INT64_MAX;
    rc = store_reader_waveform(r, "de", "w", &t, 3, &lo, &hi, &np, &n, &step, &rate);
    T_CHECK(rc == 0 && step == 3334 && np == 3, "3 pairs: %d step %u pairs %zu", rc, step, np);
    if (rc == 0 && np == 3)
        T_CHECK(fabs(hi[0] - 2.0) < tol + 1e-4 && fabs(lo[2] + 2.0) < tol + 1e-4, "extremes %g %g", hi[0], lo[2]);
    free(lo);
    free(hi);
    /* step 1: min = max = the samples */
    t = INT64_MAX;
    rc = store_reader_waveform(r, "de", "w", &t, 20000, &lo, &hi, &np, &n, &step, &rate);
    T_CHECK(rc == 0 && step == 1 && np == WV_N, "step 1: %d %u %zu", rc, step, np);
    for (size_t j = 0; rc == 0 && j < np; j++)
        if (!(lo[j] == hi[j] && fabs(lo[j] - wave(j)) <= tol)) {
            T_CHECK(0, "sample %zu: %g %g, want %g", j, lo[j], hi[j], wave(j));
            break;
        }
    free(lo);
    free(hi);
    /* at or before T0 + 30 min: the older one */
    t = T0 + 30 * MIN;
    rc = store_reader_waveform(r, "de", "w", &t, 500, &lo, &hi, &np, &n, &step, &rate);
    T_CHECK(rc == 0 && t == T0 && n == 1000 && step == 2 && rate == 1000 && lo[0] == -1 && hi[0] == 1,
            "older: %d n %zu step %u", rc, n, step);
    free(lo);
    free(hi);
    t = T0 - 1;
    lo = NULL;
    T_CHECK(store_reader_waveform(r, "de", "w", &t, 500, &lo, &hi, &np, &n, &step, &rate) == -ENOENT && !lo,
            "none before T0");
    t = INT64_MAX;
    T_CHECK(store_reader_waveform(r, "xx", "w", &t, 500, &lo, &hi, &np, &n, &step, &rate) == -ENOENT, "unknown sensor");
    T_CHECK(store_reader_waveform(r, "de", "w", &t, 0, &lo, &hi, &np, &n, &step, &rate) == -EINVAL, "0 points");
out:
    store_reader_close(r);
    store_history_close(h);
}

/* ---- events ------------------------------------------------------------------------------------ */

typedef struct ev_list {
    int n, stop_after;
    int64_t id[16], t[16];
    char asset[16][16], kind[16][24], detail[16][64];
} ev_list;

static int ev_cb(void *ctx, int64_t id, int64_t t_ns, const char *asset, const char *kind, const char *detail)
{
    ev_list *l = ctx;
    if (l->n < 16) {
        l->id[l->n] = id;
        l->t[l->n] = t_ns;
        snprintf(l->asset[l->n], sizeof l->asset[0], "%s", asset ? asset : "(null)");
        snprintf(l->kind[l->n], sizeof l->kind[0], "%s", kind);
        snprintf(l->detail[l->n], sizeof l->detail[0], "%s", detail ? detail : "(null)");
    }
    l->n++;
    return l->stop_after && l->n >= l->stop_after;
}

static long events(store_reader *r, const char *asset, const char *kind, int64_t from, int64_t to, size_t limit,
                   ev_list *l)
{
    memset(l, 0, sizeof *l);
    return store_reader_events(r, asset, kind, from, to, limit, ev_cb, l);
}

static void test_events(void)
{
    const char *dir = new_dir("events");
    store_history *h = writer(dir, NULL);
    store_reader *r = NULL;
    if (!h)
        return;
    static const struct { int64_t t; const char *asset, *kind, *detail; } ev[] = {
        {T0 + 1 * HOUR, "p1", "state_change", "{\"to\":\"watch\"}"},
        {T0 + 2 * HOUR, "p2", "maintenance", NULL},
        {T0 + 3 * HOUR, "p1", "maintenance", "{\"note\":\"bearing\"}"},
        {T0 + 3 * HOUR, "p1", "state_change", "{\"to\":\"warning\"}"},
        {T0 + 5 * HOUR, NULL, "config", "{}"},
    };
    for (size_t i = 0; i < 5; i++)
        T_CHECK(store_history_event(h, ev[i].t, ev[i].asset, ev[i].kind, ev[i].detail, err, sizeof err) == 0,
                "event %zu: %s", i, err);
    if (!(r = reader(dir)))
        goto out;
    ev_list l;
    long n = events(r, NULL, NULL, INT64_MIN, INT64_MAX, 100, &l);
    /* newest first; two at the same time: the later added first */
    static const int order[] = {4, 3, 2, 1, 0};
    T_CHECK(n == 5 && l.n == 5, "all: %ld", n);
    for (int i = 0; i < 5 && i < l.n; i++) {
        int e = order[i];
        T_CHECK(l.t[i] == ev[e].t && !strcmp(l.kind[i], ev[e].kind) &&
                    !strcmp(l.asset[i], ev[e].asset ? ev[e].asset : "(null)") &&
                    !strcmp(l.detail[i], ev[e].detail ? ev[e].detail : "(null)"),
                "event %d: %s %s %s, want event %d", i, l.asset[i], l.kind[i], l.detail[i], e);
    }
    T_CHECK(l.id[0] > l.id[1] && l.id[1] > l.id[2], "ids %lld %lld %lld", (long long)l.id[0], (long long)l.id[1],
            (long long)l.id[2]);
    n = events(r, "p1", NULL, INT64_MIN, INT64_MAX, 100, &l);
    T_CHECK(n == 3 && !strcmp(l.kind[0], "state_change") && !strcmp(l.kind[1], "maintenance") && l.t[2] == T0 + HOUR,
            "p1: %ld", n);
    n = events(r, NULL, "maintenance", INT64_MIN, INT64_MAX, 100, &l);
    T_CHECK(n == 2 && !strcmp(l.asset[0], "p1") && !strcmp(l.asset[1], "p2"), "maintenance: %ld", n);
    n = events(r, "p1", "state_change", INT64_MIN, INT64_MAX, 100, &l);
    T_CHECK(n == 2 && l.t[0] == T0 + 3 * HOUR && l.t[1] == T0 + HOUR, "p1 state changes: %ld", n);
    n = events(r, NULL, NULL, T0 + 2 * HOUR, T0 + 3 * HOUR, 100, &l);
    T_CHECK(n == 3 && l.t[2] == T0 + 2 * HOUR, "[2 h, 3 h] inclusive: %ld", n);
    n = events(r, NULL, NULL, INT64_MIN, INT64_MAX, 2, &l);
    T_CHECK(n == 2 && !strcmp(l.kind[0], "config"), "limit 2: %ld", n);
    memset(&l, 0, sizeof l);
    l.stop_after = 1;
    n = store_reader_events(r, NULL, NULL, INT64_MIN, INT64_MAX, 100, ev_cb, &l);
    T_CHECK(n == 1 && l.n == 1, "the callback stops: %ld", n);
    T_CHECK(events(r, "p9", NULL, INT64_MIN, INT64_MAX, 100, &l) == 0, "an unknown asset: none");
    T_CHECK(events(r, NULL, NULL, T0 + HOUR, T0, 100, &l) == -EINVAL, "from after to");
    T_CHECK(store_reader_events(r, NULL, NULL, T0, T0 + DAY, 10, NULL, NULL) == -EINVAL, "no callback");
out:
    store_reader_close(r);
    store_history_close(h);
}

/* ---- errors and concurrency --------------------------------------------------------------------- */

static void test_errors(void)
{
    /* no database: NULL, the message names the file, nothing is created */
    const char *dir = new_dir("empty");
    mkdir(dir, 0755);
    char path[700];
    snprintf(path, sizeof path, "%s/history.sqlite3", dir);
    err[0] = 0;
    store_reader *r = store_reader_open(dir, err, sizeof err);
    struct stat st;
    T_CHECK(r == NULL && strstr(err, path) != NULL, "missing database: %p \"%s\"", (void *)r, err);
    T_CHECK(stat(path, &st) != 0, "opening for reading created %s", path);
    store_reader_close(r);
    r = store_reader_open(new_dir("no/such/folder"), err, sizeof err);
    T_CHECK(r == NULL, "a missing folder");
    /* an SQLite file that is not a history */
    const char *other = new_dir("other");
    store_history *h = writer(other, NULL);
    store_history_close(h);
    snprintf(path, sizeof path, "%s/history.sqlite3", other);
    FILE *f = fopen(path, "r+b");
    if (f) { /* application_id is the big-endian int at offset 68 */
        fseek(f, 68, SEEK_SET);
        fputc(0, f);
        fclose(f);
    }
    err[0] = 0;
    r = store_reader_open(other, err, sizeof err);
    T_CHECK(r == NULL && strstr(err, "not a vibewatch history"), "another database: \"%s\"", err);
    store_reader_close(r);
    store_reader_close(NULL);

    /* bad arguments and unknown channels */
    const char *d2 = new_dir("errors");
    h = write_ramp(d2, NULL);
    r = reader(d2);
    if (!h || !r)
        goto out;
    static trend_res res;
    store_trend_out out = {.mean = res.mean, .min = res.min, .max = res.max, .count = res.count};
    const char *names17[17];
    for (int i = 0; i < 17; i++)
        names17[i] = "ramp";
    const struct { int64_t from, to; size_t nf; const char *const *names; size_t np; const char *what; } bad[] = {
        {T0, T0, 1, feature_names, 10, "from = to"},
        {T0 + 1, T0, 1, feature_names, 10, "from after to"},
        {T0, T0 + DAY, 1, feature_names, 0, "0 points"},
        {T0, T0 + DAY, 1, feature_names, 100001, "100001 points"},
        {T0, T0 + DAY, 0, feature_names, 10, "0 features"},
        {T0, T0 + DAY, 17, names17, 10, "17 features"},
        {T0, T0 + DAY, 1, NULL, 10, "no names"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        int rc = store_reader_trend(r, "de", "x", bad[i].from, bad[i].to, bad[i].nf, bad[i].names, bad[i].np, &out, err,
                                    sizeof err);
        T_CHECK(rc == -EINVAL && err[0], "%s: %d \"%s\"", bad[i].what, rc, err);
    }
    store_trend_out no_count = out;
    no_count.count = NULL;
    T_CHECK(store_reader_trend(r, "de", "x", T0, T0 + DAY, 1, feature_names, 10, &no_count, err, sizeof err) == -EINVAL,
            "no count array");
    T_CHECK(store_reader_trend(r, NULL, "x", T0, T0 + DAY, 1, feature_names, 10, &out, err, sizeof err) == -EINVAL,
            "no sensor");
    T_CHECK(store_reader_trend(r, "de", "x", T0, T0 + DAY, 1, feature_names, 10, NULL, err, sizeof err) == -EINVAL,
            "no output");
    err[0] = 0;
    int rc = store_reader_trend(r, "de", "nope", T0, T0 + DAY, 1, feature_names, 10, &out, err, sizeof err);
    T_CHECK(rc == -ENOENT && strstr(err, "de/nope"), "unknown channel: %d \"%s\"", rc, err);
    T_CHECK(store_reader_trend(r, "dd", "x", T0, T0 + DAY, 1, feature_names, 10, &out, err, sizeof err) == -ENOENT,
            "unknown sensor");
    /* unknown features: NAN, not an error */
    const char *unknown[] = {"nope", "ramp"};
    rc = store_reader_trend(r, "de", "x", T0, T0 + DAY, 2, unknown, 24, &out, err, sizeof err);
    T_CHECK(rc == 0 && out.count[0] == 0 && isnan(out.mean[0]) && out.count[24] == 6, "unknown feature: %d", rc);
    int64_t a, b;
    T_CHECK(store_reader_span(r, "de", "nope", &a, &b) == -ENOENT, "span of an unknown channel");
    T_CHECK(store_reader_span(r, "de", "x", NULL, &b) == -EINVAL, "span without first");
    int64_t t = INT64_MAX;
    float *v = NULL;
    size_t nv;
    double df;
    unsigned m;
    T_CHECK(store_reader_spectrum(r, "de", "x", 0, &t, 0, 100, &v, &nv, &df, &m) == -ENOENT, "no spectra stored");
out:
    store_reader_close(r);
    store_history_close(h);
}

static void test_reader_sees_writer(void)
{
    const char *dir = new_dir("concurrent");
    store_history *h = writer(dir, NULL);
    store_reader *r = reader(dir); /* the file exists (the writer made it), with no data yet */
    if (!h || !r)
        goto out;
    int64_t a = 0, b = 0;
    T_CHECK(store_reader_span(r, "de", "x", &a, &b) == -ENOENT, "no channel yet");
    const char *names[] = {"ramp"};
    double v = 1.5;
    store_snapshot s = {.t_ns = T0, .asset_id = "p1", .sensor_id = "de", .channel = "x", .state = "ok",
                        .nfeatures = 1, .feature_names = names, .features = &v};
    add(h, &s);
    T_CHECK(store_reader_span(r, "de", "x", &a, &b) == 0 && a == T0 && b == T0, "after the first add");
    s.t_ns = T0 + MIN;
    v = 2.5;
    add(h, &s);
    T_CHECK(store_reader_span(r, "de", "x", &a, &b) == 0 && a == T0 && b == T0 + MIN, "after the second add: %lld",
            (long long)(b - T0));
    static trend_res res;
    store_trend_out out = {.mean = res.mean, .min = res.min, .max = res.max, .count = res.count};
    int rc = store_reader_trend(r, "de", "x", T0, T0 + HOUR, 1, names, 1, &out, err, sizeof err);
    T_CHECK(rc == 0 && out.count[0] == 2 && out.mean[0] == 2.0 && out.min[0] == 1.5 && out.max[0] == 2.5,
            "trend of the committed rows: %d count %u mean %g", rc, out.count[0], out.mean[0]);
    /* the reader holds nothing between calls: the writer can still checkpoint and prune */
    T_CHECK(store_history_prune(h, T0 + MIN, err, sizeof err) >= 0, "prune beside a reader: %s", err);
out:
    store_reader_close(r);
    store_history_close(h);
}

int main(void)
{
    T_RUN(test_trend_raw);
    T_RUN(test_trend_aggregates);
    T_RUN(test_spectrum);
    T_RUN(test_waterfall);
    T_RUN(test_waveform);
    T_RUN(test_events);
    T_RUN(test_errors);
    T_RUN(test_reader_sees_writer);
    return t_done();
}
