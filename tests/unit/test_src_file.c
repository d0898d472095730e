/* tests/unit/test_src_file.c — the file: source: single WAV/CSV recordings, IMS and PRONOSTIA
 * directories (real data from $VW_DATA and synthetic ones made here), manifests, realtime
 * pacing, and bad input. Expected times come from timegm() or plain arithmetic, never from the
 * source's own parser. */
#include "acquisition/file_time.h"
#include "acquisition/recording.h"
#include "acquisition/source.h"
#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NS 1000000000LL
#define MAXF 512

/* ---- helpers ------------------------------------------------------------------------------ */

typedef struct run {
    size_t nframes;
    int64_t t0[MAXF];
    unsigned flags[MAXF];
    size_t nsamp[MAXF];
    double temp[MAXF];
    float *samples;        /* all frames concatenated, interleaved */
    size_t total;          /* samples per channel */
    unsigned nchan;
    acq_info info;
    acq_stats stats;
    int end_rc;            /* ACQ_END, or the error */
    int end_again;         /* acq_read after ACQ_END */
    char err[512];
} run;

static void run_free(run *r) { free(r->samples); }

/* Opens uri and reads every frame with frames of `capacity` samples. 0, or -1 with r->err. */
static int run_uri(const char *uri, size_t capacity, run *r)
{
    memset(r, 0, sizeof *r);
    acq_source *s = acq_open(uri, r->err, sizeof r->err);
    if (!s)
        return -1;
    r->info = *acq_source_info(s);
    r->nchan = r->info.nchan;
    acq_frame *f = acq_frame_new(r->nchan, capacity);
    size_t cap = 0;
    int rc;
    while ((rc = acq_read(s, f, r->err, sizeof r->err)) == 0) {
        if (r->nframes < MAXF) {
            r->t0[r->nframes] = f->t0_ns;
            r->flags[r->nframes] = f->flags;
            r->nsamp[r->nframes] = f->nsamp;
            r->temp[r->nframes] = f->temp_c;
        }
        r->nframes++;
        if (r->total + f->nsamp > cap) {
            cap = (r->total + f->nsamp) * 2;
            r->samples = realloc(r->samples, cap * r->nchan * sizeof *r->samples);
        }
        memcpy(r->samples + r->total * r->nchan, f->samples, f->nsamp * r->nchan * sizeof *f->samples);
        r->total += f->nsamp;
    }
    r->end_rc = rc;
    if (rc == ACQ_END)
        r->end_again = acq_read(s, f, r->err, sizeof r->err);
    acq_source_stats(s, &r->stats);
    acq_frame_free(f);
    acq_close(s);
    return rc == ACQ_END ? 0 : -1;
}

/* A path in the test's temporary folder (four live at once). */
static const char *tpath(const char *name)
{
    static char buf[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", t_tmpdir(), name);
    return buf[k];
}

static void mkdir_p(const char *p) { mkdir(p, 0755); }

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    T_CHECK(fp != NULL, "cannot write %s", path);
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
}

/* A WAV of n samples × nchan with sample (i, c) = base + i * 0.001 + c * 0.5. */
static void write_wav(const char *path, size_t n, unsigned nchan, double fs, float base)
{
    float *x = malloc(n * nchan * sizeof *x);
    for (size_t i = 0; i < n; i++)
        for (unsigned c = 0; c < nchan; c++)
            x[i * nchan + c] = base + (float)i * 0.001f + (float)c * 0.5f;
    char err[256];
    int rc = acq_write_wav_f32(path, x, n, nchan, fs, err, sizeof err);
    T_CHECK(rc == 0, "write %s: %s", path, err);
    free(x);
}

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s};
    return (int64_t)timegm(&tm) * NS;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* stderr into a file while a source runs, to see what it reports */
static int saved_fd = -1;
static void stderr_capture_begin(void)
{
    fflush(stderr);
    int fd = open(tpath("stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    saved_fd = dup(2);
    dup2(fd, 2);
    close(fd);
}
static char *stderr_capture_end(void)
{
    fflush(stderr);
    dup2(saved_fd, 2);
    close(saved_fd);
    FILE *fp = fopen(tpath("stderr.txt"), "r");
    char *buf = calloc(1, 65536);
    if (fp) {
        size_t n = fread(buf, 1, 65535, fp);
        buf[n] = 0;
        fclose(fp);
    }
    return buf;
}

static int count_substr(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* ---- time helpers ------------------------------------------------------------------------- */

static void test_iso8601(void)
{
    int64_t ns;
    int off = -1;
    T_CHECK(acq_file_parse_iso8601("2024-03-01T12:00:00Z", &ns, &off) == 0 && ns == utc(2024, 3, 1, 12, 0, 0) &&
                off == 0, "Z");
    T_CHECK(acq_file_parse_iso8601("2024-03-01T13:00:00+01:00", &ns, &off) == 0 && ns == utc(2024, 3, 1, 12, 0, 0) &&
                off == 3600, "+01:00");
    T_CHECK(acq_file_parse_iso8601("2024-03-01 06:30:00-0530", &ns, &off) == 0 && ns == utc(2024, 3, 1, 12, 0, 0) &&
                off == -19800, "-0530 with a space");
    T_CHECK(acq_file_parse_iso8601("2003-10-22T12:06:24.123456789Z", &ns, NULL) == 0 &&
                ns == utc(2003, 10, 22, 12, 6, 24) + 123456789, "fraction");
    T_CHECK(acq_file_parse_iso8601("2024-02-29T00:00:00Z", &ns, NULL) == 0 && ns == utc(2024, 2, 29, 0, 0, 0), "leap day");
    T_CHECK(acq_file_parse_iso8601("1969-12-31T23:59:59Z", &ns, NULL) == 0 && ns == -NS, "before 1970");
    const char *bad[] = {"2024-03-01T12:00:00", "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-03-01T24:00:00Z",
                         "2024-03-01T12:00Z", "2024-03-01T12:00:00+1", "2024-03-01T12:00:00Zjunk", "yesterday", "",
                         "2024-03-01T12:00:00.Z", "2024-03-01T12:00:00.1234567891Z", "9999-01-01T00:00:00Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        T_CHECK(acq_file_parse_iso8601(bad[i], &ns, NULL) < 0, "accepted \"%s\"", bad[i]);
    T_CHECK(acq_file_parse_ims_name("2003.10.22.12.06.24", &ns) == 0 && ns == utc(2003, 10, 22, 12, 6, 24), "IMS name");
    T_CHECK(acq_file_parse_ims_name("2003.10.32.12.06.24", &ns) < 0, "IMS name with day 32");
    /* a dateless clock: 23:59:50 then 00:00:00 is 10 s later; equal times stay equal */
    int64_t a = acq_file_next_tod(0, (86400 - 10) * NS);
    T_CHECK(a == (86400 - 10) * NS, "first time of day");
    T_CHECK(acq_file_next_tod(a, 0) == 86400 * NS, "midnight wrap: got %lld", (long long)acq_file_next_tod(a, 0));
    T_CHECK(acq_file_next_tod(a, a) == a, "same time of day");
    T_CHECK(acq_file_next_tod(-NS, 5 * NS) == 5 * NS, "before 1970");
}

/* ---- single recordings -------------------------------------------------------------------- */

static void test_wav_single(void)
{
    const char *p = tpath("two.wav");
    write_wav(p, 2500, 2, 1000, 0.25f);
    char uri[1200];
    snprintf(uri, sizeof uri, "file:%s?t0=2024-03-01T13:00:00+01:00&frame=1000", p);
    run r;
    T_CHECK(run_uri(uri, 4096, &r) == 0, "%s", r.err);
    T_CHECK(r.info.nchan == 2 && r.info.rate_hz == 1000 && r.info.finite, "info: %u ch at %g Hz", r.info.nchan,
            r.info.rate_hz);
    T_CHECK(r.nframes == 3 && r.nsamp[0] == 1000 && r.nsamp[1] == 1000 && r.nsamp[2] == 500, "frames: %zu", r.nframes);
    int64_t t0 = utc(2024, 3, 1, 12, 0, 0);
    for (size_t k = 0; k < 3 && k < r.nframes; k++) {
        T_CHECK(r.t0[k] == t0 + (int64_t)k * NS, "frame %zu t0 %lld, want %lld", k, (long long)r.t0[k],
                (long long)(t0 + (int64_t)k * NS));
        T_CHECK(((r.flags[k] & ACQ_FRAME_SNAPSHOT) != 0) == (k == 0), "frame %zu flags %#x", k, r.flags[k]);
        T_CHECK(!(r.flags[k] & ACQ_FRAME_GAP), "gap on frame %zu", k);
    }
    T_CHECK(r.total == 2500, "total %zu", r.total);
    for (size_t i = 0; i < r.total; i += 499)
        for (unsigned c = 0; c < 2; c++)
            T_NEAR(r.samples[i * 2 + c], 0.25 + i * 0.001 + c * 0.5, 1e-6, "sample");
    T_CHECK(r.end_rc == ACQ_END && r.end_again == ACQ_END, "end %d then %d", r.end_rc, r.end_again);
    T_CHECK(r.stats.frames == 3 && r.stats.samples == 2500 && r.stats.gaps == 0, "stats");
    run_free(&r);
}

static void test_csv_single(void)
{
    const char *p = tpath("three.csv");
    FILE *fp = fopen(p, "w");
    fprintf(fp, "x,y,z\n");
    for (int i = 0; i < 300; i++)
        fprintf(fp, "%d,%g,%g\n", i, -i * 0.5, i * 0.25);
    fclose(fp);
    char uri[1200];
    snprintf(uri, sizeof uri, "file:%s?fs=500&t0=2024-03-01T12:00:00Z", p);
    run r;
    /* the caller's capacity (64) is smaller than the default frame: it wins */
    T_CHECK(run_uri(uri, 64, &r) == 0, "%s", r.err);
    T_CHECK(r.info.nchan == 3 && r.info.rate_hz == 500 && r.info.rate_requested_hz == 500, "info");
    T_CHECK(r.nframes == 5 && r.nsamp[0] == 64 && r.nsamp[4] == 300 - 4 * 64, "frames %zu", r.nframes);
    T_CHECK(r.t0[0] == utc(2024, 3, 1, 12, 0, 0) && r.t0[1] == r.t0[0] + 64 * NS / 500, "t0");
    T_CHECK((r.flags[0] & ACQ_FRAME_SNAPSHOT) && !(r.flags[1] & ACQ_FRAME_SNAPSHOT), "snapshot flag");
    T_CHECK(r.total == 300, "total %zu", r.total);
    for (size_t i = 0; i < r.total; i += 37) {
        T_NEAR(r.samples[i * 3], (double)i, 0, "x");
        T_NEAR(r.samples[i * 3 + 1], -0.5 * i, 0, "y");
        T_NEAR(r.samples[i * 3 + 2], 0.25 * i, 0, "z");
    }
    T_CHECK(r.end_rc == ACQ_END, "end");
    T_CHECK(strcmp(r.info.ch[0].name, "ch0") == 0 && strcmp(r.info.ch[2].name, "ch2") == 0, "names");
    run_free(&r);
}

static void test_time_from_mtime(void)
{
    const char *p = tpath("mtime.wav");
    write_wav(p, 4000, 1, 8000, 0); /* 0.5 s */
    struct timespec ts[2] = {{.tv_sec = 1700000000, .tv_nsec = 250000000}, {.tv_sec = 1700000000, .tv_nsec = 250000000}};
    T_CHECK(utimensat(AT_FDCWD, p, ts, 0) == 0, "utimensat: %s", strerror(errno));
    char uri[1200];
    snprintf(uri, sizeof uri, "file:%s", p);
    run r;
    T_CHECK(run_uri(uri, 8192, &r) == 0, "%s", r.err);
    T_CHECK(r.nframes == 1 && r.nsamp[0] == 4000, "one frame of 4000 (the default frame is 4096)");
    T_CHECK(r.t0[0] == 1700000000LL * NS + 250000000 - NS / 2, "t0 %lld: want mtime - 0.5 s", (long long)r.t0[0]);
    run_free(&r);
}

/* ---- IMS ---------------------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void test_ims_real(void)
{
    const char *dir = t_data_dir("ims/test1_raw");
    if (!dir)
        return;
    /* the expected times, from the names through timegm */
    char *names[64];
    int nn = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) && nn < 64)
        if (de->d_name[0] != '.')
            names[nn++] = strdup(de->d_name);
    if (d)
        closedir(d);
    qsort(names, (size_t)nn, sizeof names[0], cmp_str);
    T_CHECK(nn == 12, "%d files in %s", nn, dir);
    char uri[1200];
    snprintf(uri, sizeof uri, "file:%s", dir);
    run r;
    T_CHECK(run_uri(uri, 8192, &r) == 0, "%s", r.err);
    T_CHECK(r.info.nchan == 8 && r.info.rate_hz == 20000, "info %u ch at %g Hz", r.info.nchan, r.info.rate_hz);
    T_CHECK(strcmp(r.info.ch[0].name, "B1x") == 0 && strcmp(r.info.ch[7].name, "B4y") == 0, "channel names %s..%s",
            r.info.ch[0].name, r.info.ch[7].name);
    T_CHECK(r.total == 12 * 20480, "total %zu samples, want 12 x 20480", r.total);
    int snaps = 0;
    int64_t prev = 0;
    size_t per = 0;
    for (size_t k = 0; k < r.nframes && k < MAXF; k++) {
        if (r.flags[k] & ACQ_FRAME_SNAPSHOT) {
            if (snaps > 0)
                T_CHECK(per == 20480, "snapshot %d has %zu samples", snaps - 1, per);
            if (snaps < nn) {
                int y, mo, dd, h, mi, s;
                sscanf(names[snaps], "%d.%d.%d.%d.%d.%d", &y, &mo, &dd, &h, &mi, &s);
                T_CHECK(r.t0[k] == utc(y, mo, dd, h, mi, s), "snapshot %d (%s): t0 %lld", snaps, names[snaps],
                        (long long)r.t0[k]);
            }
            /* 2 min 49 s after the first, then every 5 minutes: increasing, at most 10 min apart */
            if (snaps > 0)
                T_CHECK(r.t0[k] > prev && r.t0[k] - prev <= 600 * NS, "snapshot %d: %lld s after the previous",
                        snaps, (long long)((r.t0[k] - prev) / NS));
            prev = r.t0[k];
            snaps++;
            per = 0;
        } else if (k > 0) {
            T_CHECK(r.t0[k] == r.t0[k - 1] + (int64_t)r.nsamp[k - 1] * NS / 20000, "frame %zu contiguous", k);
        }
        T_CHECK(!(r.flags[k] & ACQ_FRAME_GAP), "gap in frame %zu", k);
        per += r.nsamp[k];
    }
    T_CHECK(snaps == 12 && per == 20480, "%d snapshots", snaps);
    /* the first row of 2003.10.22.12.06.24 */
    static const float row0[8] = {-0.022f, -0.039f, -0.183f, -0.054f, -0.105f, -0.134f, -0.129f, -0.142f};
    for (int c = 0; c < 8 && r.samples; c++)
        T_NEAR(r.samples[c], row0[c], 1e-6, "first row");
    T_CHECK(r.stats.gaps == 0, "gaps %llu", (unsigned long long)r.stats.gaps);
    run_free(&r);
    for (int i = 0; i < nn; i++)
        free(names[i]);
}

static void write_ims(const char *dir, const char *name, int rows, int ncol, float base, int ragged_row)
{
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *fp = fopen(p, "w");
    for (int i = 0; i < rows; i++)
        for (int c = 0; c < (i == ragged_row ? ncol - 1 : ncol); c++)
            fprintf(fp, "%.3f%c", base + i * 0.001 + c, c == (i == ragged_row ? ncol - 2 : ncol - 1) ? '\n' : '\t');
    fclose(fp);
}

/* A 4-column IMS directory (tests 2 and 3) with a malformed snapshot in the middle: skipped,
 * reported once on stderr with its name, counted as a gap, flagged on the next frame. */
static void test_ims_bad_snapshot(void)
{
    const char *dir = tpath("ims4");
    mkdir_p(dir);
    write_ims(dir, "2004.02.12.10.32.39", 100, 4, 0, -1);
    write_ims(dir, "2004.02.12.10.42.39", 100, 4, 1, 50); /* row 51 has 3 columns */
    write_ims(dir, "2004.02.12.10.52.39", 100, 4, 2, -1);
    write_text(tpath("ims4/README"), "not data\n");
    T_CHECK(symlink("nowhere", tpath("ims4/2004.02.12.11.02.39")) == 0, "symlink"); /* dangling: ignored */
    mkdir_p(tpath("ims4/2004.02.12.11.12.39"));                                     /* a folder: ignored */
    char uri[1200];
    snprintf(uri, sizeof uri, "file:%s?frame=60", dir);
    run r;
    stderr_capture_begin();
    int rc = run_uri(uri, 4096, &r);
    char *log = stderr_capture_end();
    T_CHECK(rc == 0, "%s", r.err);
    T_CHECK(r.info.nchan == 4 && strcmp(r.info.ch[0].name, "B1") == 0 && strcmp(r.info.ch[3].name, "B4") == 0,
            "4 channels B1..B4");
    T_CHECK(r.nframes == 4 && r.total == 200, "%zu frames, %zu samples: want 2 snapshots of 100", r.nframes, r.total);
    T_CHECK(r.flags[0] == ACQ_FRAME_SNAPSHOT && r.flags[1] == 0, "first snapshot flags %#x %#x", r.flags[0], r.flags[1]);
    T_CHECK(r.flags[2] == (ACQ_FRAME_SNAPSHOT | ACQ_FRAME_GAP), "after the bad one: flags %#x", r.flags[2]);
    T_CHECK(r.t0[2] == utc(2004, 2, 12, 10, 52, 39), "third snapshot's time");
    T_NEAR(r.samples[100 * 4], 2.0, 1e-6, "first sample after the gap is from the third file");
    T_CHECK(r.stats.gaps == 1, "gaps %llu", (unsigned long long)r.stats.gaps);
    T_CHECK(count_substr(log, "2004.02.12.10.42.39") == 1 && strstr(log, ":51:"), "stderr: %s", log);
    free(log);
    run_free(&r);
}

/* ---- PRONOSTIA ---------------------------------------------------------------------------- */

static void write_acc(const char *dir, const char *name, char sep, int h, int m, int s, float base)
{
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *fp = fopen(p, "w");
    for (int i = 0; i < 2560; i++) /* µs advance by 1e6/25600 = 39.0625 per sample */
        fprintf(fp, "%d%c%d%c%d%c%.4g%c%.3f%c%.3f\n", h, sep, m, sep, s, sep, i * 39.0625, sep,
                base + (i % 100) * 0.01, sep, -base - (i % 50) * 0.02);
    fclose(fp);
}

static void make_pronostia(const char *dir)
{
    mkdir_p(dir);
    write_acc(dir, "acc_00001.csv", ',', 23, 59, 50, 1);
    write_acc(dir, "acc_00002.csv", ';', 0, 0, 0, 2); /* the other bench's separator */
    write_acc(dir, "acc_00003.csv", ',', 0, 0, 10, 3);
    write_acc(dir, "acc_00004.csv", ',', 0, 0, 38, 4); /* nearer the next temp file's first reading */
    write_acc(dir, "acc_00005.csv", ',', 0, 5, 0, 5);  /* no temperature within a minute */
    /* temp_00001: 600 readings at 10 Hz from 23:59:30.0 across midnight, 30 °C + 0.01 °C per
     * reading; temp_00002 (';') from 00:00:40.0 after a 10-s hole, 50 °C + 0.01 °C per reading */
    char p[1200];
    for (int file = 1; file <= 2; file++) {
        snprintf(p, sizeof p, "%s/temp_0000%d.csv", dir, file);
        FILE *fp = fopen(p, "w");
        char sep = file == 1 ? ',' : ';';
        for (int k = 0; k < 600; k++) {
            int tenths = (file == 1 ? 86370 * 10 : 40 * 10) + k, secs = (tenths / 10) % 86400;
            fprintf(fp, "%d%c%d%c%d%c%d%c%.3f\n", secs / 3600, sep, secs / 60 % 60, sep, secs % 60, sep, tenths % 10,
                    sep, (file == 1 ? 30 : 50) + 0.01 * k);
        }
        fclose(fp);
    }
    snprintf(p, sizeof p, "%s/notes.txt", dir);
    write_text(p, "bench log\n");
}

static void test_pronostia_synthetic(void)
{
    const char *dir = tpath("pron");
    make_pronostia(dir);
    char uri[1200];
    struct { const char *q; int64_t first; } cases[] = {
        {"", (86400 - 10) * NS},                                                 /* 1970-01-01 */
        {"?t0=2011-04-14T00:00:00Z", utc(2011, 4, 14, 23, 59, 50)},
        {"?t0=2011-04-14T00:00:00%2B02:00", utc(2011, 4, 14, 21, 59, 50)},       /* the files' clock at +02:00 */
        {"?t0=2011-04-14T23:59:50Z", utc(2011, 4, 14, 23, 59, 50)},             /* t0 = the first snapshot */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        snprintf(uri, sizeof uri, "file:%s%s", dir, cases[c].q);
        run r;
        T_CHECK(run_uri(uri, 4096, &r) == 0, "%s: %s", cases[c].q, r.err);
        T_CHECK(r.info.nchan == 2 && r.info.rate_hz == 25600 && r.info.has_temp, "info");
        T_CHECK(strcmp(r.info.ch[0].name, "horizontal") == 0 && strcmp(r.info.ch[1].name, "vertical") == 0 &&
                    strcmp(r.info.ch[0].unit, "g") == 0, "channel names");
        T_CHECK(r.nframes == 5 && r.total == 5 * 2560, "%zu frames, %zu samples", r.nframes, r.total);
        if (r.nframes != 5) {
            run_free(&r);
            continue;
        }
        T_CHECK(r.t0[0] == cases[c].first, "%s: first at %lld, want %lld", cases[c].q, (long long)r.t0[0],
                (long long)cases[c].first);
        T_CHECK(r.t0[1] - r.t0[0] == 10 * NS, "23:59:50 -> 00:00:00 is 10 s later, got %lld ns",
                (long long)(r.t0[1] - r.t0[0]));
        T_CHECK(r.t0[2] - r.t0[1] == 10 * NS && r.t0[3] - r.t0[2] == 28 * NS && r.t0[4] - r.t0[3] == 262 * NS,
                "later steps");
        for (int k = 0; k < 5; k++)
            T_CHECK(r.flags[k] == ACQ_FRAME_SNAPSHOT, "flags %#x", r.flags[k]);
        T_NEAR(r.temp[0], 32.0, 1e-4, "temperature at 23:59:50");
        T_NEAR(r.temp[1], 33.0, 1e-4, "temperature at 00:00:00 (the temp file crosses midnight too)");
        T_NEAR(r.temp[2], 34.0, 1e-4, "temperature at 00:00:10");
        T_NEAR(r.temp[3], 50.0, 1e-4, "temperature at 00:00:38: temp_00002's first reading (2 s) beats "
               "temp_00001's last (8.1 s)");
        T_CHECK(isnan(r.temp[4]), "no reading within a minute of 00:05:00: got %g", r.temp[4]);
        for (int k = 0; k < 5; k++) {
            T_NEAR(r.samples[(size_t)k * 2560 * 2 + 2 * 7], (k + 1) + 0.07, 1e-5, "horizontal");
            T_NEAR(r.samples[(size_t)k * 2560 * 2 + 2 * 7 + 1], -(k + 1) - 0.14, 1e-5, "vertical");
        }
        run_free(&r);
    }
}

static void test_pronostia_real(void)
{
    const char *data = t_data_dir("pronostia");
    if (!data)
        return;
    char arch[1200], cmd[3000];
    snprintf(arch, sizeof arch, "%s/Bearing1_1.tar.gz", data);
    if (access(arch, R_OK) != 0) {
        if (getenv("VW_REQUIRE_DATA") && strcmp(getenv("VW_REQUIRE_DATA"), "1") == 0)
            T_CHECK(0, "%s is missing and VW_REQUIRE_DATA=1", arch);
        else
            t_skip("%s is missing", arch);
        return;
    }
    const char *dir = tpath("bearing1_1");
    mkdir_p(dir);
    snprintf(cmd, sizeof cmd, "tar -xzf '%s' -C '%s' --strip-components=2 --wildcards '*/acc_0000[1-5].csv'", arch,
             dir);
    if (system(cmd) != 0) {
        T_CHECK(0, "%s failed", cmd);
        return;
    }
    char uri[1200];
    snprintf(uri, sizeof uri, "file:%s?t0=2010-01-01T00:00:00Z", dir);
    run r;
    T_CHECK(run_uri(uri, 4096, &r) == 0, "%s", r.err);
    T_CHECK(r.nframes == 5 && r.total == 5 * 2560 && r.info.nchan == 2 && r.info.rate_hz == 25600,
            "%zu frames, %zu samples", r.nframes, r.total);
    T_CHECK(!r.info.has_temp && isnan(r.temp[0]), "Bearing1_1 has no temperature files");
    /* acc_00001.csv starts "9,39,39,65664,0.552,-0.146"; snapshots every 10 s */
    T_CHECK(r.t0[0] == utc(2010, 1, 1, 9, 39, 39) + 65664000, "first t0 %lld", (long long)r.t0[0]);
    for (size_t k = 1; k < r.nframes && k < 5; k++)
        T_CHECK(llabs(r.t0[k] - r.t0[k - 1] - 10 * NS) < NS / 1000, "snapshot %zu: %lld ns after the previous", k,
                (long long)(r.t0[k] - r.t0[k - 1]));
    for (size_t k = 0; k < r.nframes && k < 5; k++)
        T_CHECK(r.flags[k] == ACQ_FRAME_SNAPSHOT && r.nsamp[k] == 2560, "frame %zu: flags %#x, %zu samples", k,
                r.flags[k], r.nsamp[k]);
    if (r.samples) {
        T_NEAR(r.samples[0], 0.552, 1e-6, "first horizontal sample");
        T_NEAR(r.samples[1], -0.146, 1e-6, "first vertical sample");
    }
    run_free(&r);
}

/* ---- manifests ---------------------------------------------------------------------------- */

static void test_manifest(void)
{
    const char *dir = tpath("man");
    mkdir_p(dir);
    mkdir_p(tpath("man/rec"));
    write_wav(tpath("man/rec/a.wav"), 300, 2, 1000, 0);
    write_wav(tpath("man/rec/c.wav"), 200, 2, 1000, 2);
    FILE *fp = fopen(tpath("man/rec/b.csv"), "w");
    for (int i = 0; i < 100; i++)
        fprintf(fp, "%g;%g\n", 1 + i * 0.001, 1.5 + i * 0.001);
    fclose(fp);
    /* out of order on purpose: sorted by time; a zone offset; a quoted name; a comment */
    write_text(tpath("man/list.csv"),
               "Time , File\r\n"
               "# the third recording\r\n"
               "2024-03-01T12:20:00Z,rec/c.wav\r\n"
               "2024-03-01T12:00:00Z,rec/a.wav\r\n"
               "2024-03-01T13:10:00+01:00,\"rec/b.csv\"\r\n");
    char uri[1200];
    snprintf(uri, sizeof uri, "file:%s?fs=1000&frame=256", tpath("man/list.csv"));
    run r;
    T_CHECK(run_uri(uri, 4096, &r) == 0, "%s", r.err);
    T_CHECK(r.info.nchan == 2 && r.info.rate_hz == 1000, "info");
    T_CHECK(r.nframes == 4 && r.total == 600, "%zu frames, %zu samples", r.nframes, r.total);
    if (r.nframes == 4) {
        int64_t t = utc(2024, 3, 1, 12, 0, 0);
        T_CHECK(r.t0[0] == t && r.t0[1] == t + 256 * NS / 1000 && r.t0[2] == t + 600 * NS && r.t0[3] == t + 1200 * NS,
                "times");
        T_CHECK(r.flags[0] == ACQ_FRAME_SNAPSHOT && r.flags[1] == 0 && r.flags[2] == ACQ_FRAME_SNAPSHOT &&
                    r.flags[3] == ACQ_FRAME_SNAPSHOT, "flags");
        T_CHECK(r.nsamp[0] == 256 && r.nsamp[1] == 44 && r.nsamp[2] == 100 && r.nsamp[3] == 200, "sizes");
        for (int k = 0; k < 3; k++) /* each recording's first sample is its base */
            T_NEAR(r.samples[(k == 0 ? 0 : k == 1 ? 300 : 400) * 2], (double)k, 1e-6, "recording order");
    }
    T_CHECK(r.end_rc == ACQ_END, "end");
    run_free(&r);

    /* without fs= the CSV entry is an error at open that names its line */
    char err[512];
    snprintf(uri, sizeof uri, "file:%s", tpath("man/list.csv"));
    acq_source *s = acq_open(uri, err, sizeof err);
    T_CHECK(!s && strstr(err, "line 5") && strstr(err, "fs="), "no fs: %s", s ? "opened" : err);
    acq_close(s);
    /* t0= does not apply to a manifest */
    snprintf(uri, sizeof uri, "file:%s?fs=1000&t0=2024-03-01T12:00:00Z", tpath("man/list.csv"));
    s = acq_open(uri, err, sizeof err);
    T_CHECK(!s && strstr(err, "t0"), "t0 with a manifest: %s", s ? "opened" : err);
    acq_close(s);
}

/* A truncated WAV in the middle of a series: reported once with its name, skipped, one gap. */
static void test_truncated_wav_in_series(void)
{
    mkdir_p(tpath("trunc"));
    write_wav(tpath("trunc/1.wav"), 500, 1, 1000, 0);
    write_wav(tpath("trunc/2.wav"), 500, 1, 1000, 1);
    write_wav(tpath("trunc/3.wav"), 500, 1, 1000, 2);
    T_CHECK(truncate(tpath("trunc/2.wav"), 1000) == 0, "truncate");
    write_text(tpath("trunc/m.csv"), "time,file\n2024-01-01T00:00:00Z,1.wav\n2024-01-01T00:10:00Z,2.wav\n"
                                               "2024-01-01T00:20:00Z,3.wav\n");
    char uri[1200];
    snprintf(uri, sizeof uri, "file:%s", tpath("trunc/m.csv"));
    run r;
    stderr_capture_begin();
    int rc = run_uri(uri, 4096, &r);
    char *log = stderr_capture_end();
    T_CHECK(rc == 0, "%s", r.err);
    T_CHECK(r.nframes == 2 && r.total == 1000, "%zu frames, %zu samples", r.nframes, r.total);
    T_CHECK(r.flags[0] == ACQ_FRAME_SNAPSHOT && r.flags[1] == (ACQ_FRAME_SNAPSHOT | ACQ_FRAME_GAP), "flags %#x %#x",
            r.flags[0], r.flags[1]);
    T_CHECK(r.t0[1] == utc(2024, 1, 1, 0, 20, 0), "the third recording's time");
    T_CHECK(r.stats.gaps == 1 && r.stats.gap_samples == 0, "gaps %llu", (unsigned long long)r.stats.gaps);
    T_CHECK(count_substr(log, "2.wav") == 1 && strstr(log, "truncated"), "stderr: %s", log);
    free(log);
    run_free(&r);

    /* every recording unreadable: open fails with the first reason */
    write_text(tpath("trunc/bad.csv"), "time,file\n2024-01-01T00:10:00Z,2.wav\n");
    snprintf(uri, sizeof uri, "file:%s", tpath("trunc/bad.csv"));
    char err[512];
    stderr_capture_begin();
    acq_source *s = acq_open(uri, err, sizeof err);
    free(stderr_capture_end());
    T_CHECK(!s && strstr(err, "2.wav") && strstr(err, "truncated"), "all bad: %s", s ? "opened" : err);
    acq_close(s);
}

/* ---- realtime ----------------------------------------------------------------------------- */

static void test_realtime(void)
{
    const char *p = tpath("half.wav");
    write_wav(p, 4000, 1, 8000, 0); /* 0.5 s */
    char uri[1200];
    snprintf(uri, sizeof uri, "file:%s?realtime=1&frame=800&t0=2024-01-01T00:00:00Z", p);
    run r;
    double t = now_s();
    T_CHECK(run_uri(uri, 4096, &r) == 0, "%s", r.err);
    double took = now_s() - t;
    T_CHECK(took >= 0.45, "a 0.5 s recording took %.3f s with realtime=1", took);
    T_CHECK(r.nframes == 5 && r.total == 4000, "frames");
    run_free(&r);

    /* a series: paced within each snapshot, the 60 s between snapshots not waited */
    mkdir_p(tpath("rt"));
    write_wav(tpath("rt/a.wav"), 1600, 1, 8000, 0); /* 0.2 s */
    write_wav(tpath("rt/b.wav"), 1600, 1, 8000, 1);
    write_text(tpath("rt/m.csv"), "time,file\n2024-01-01T00:00:00Z,a.wav\n2024-01-01T00:01:00Z,b.wav\n");
    snprintf(uri, sizeof uri, "file:%s?realtime=1", tpath("rt/m.csv"));
    t = now_s();
    T_CHECK(run_uri(uri, 4096, &r) == 0, "%s", r.err);
    took = now_s() - t;
    T_CHECK(took >= 0.35 && took < 30, "two 0.2 s snapshots 60 s apart took %.3f s", took);
    T_CHECK(r.nframes == 2 && r.t0[1] - r.t0[0] == 60 * NS, "data time keeps the 60 s");
    run_free(&r);
}

/* ---- bad input ---------------------------------------------------------------------------- */

static void expect_open_error(const char *uri, const char *needle, const char *what)
{
    char err[1024] = "";
    stderr_capture_begin();
    acq_source *s = acq_open(uri, err, sizeof err);
    free(stderr_capture_end());
    T_CHECK(!s, "%s: opened", what);
    T_CHECK(strstr(err, needle) != NULL, "%s: \"%s\" does not say \"%s\"", what, err, needle);
    acq_close(s);
}

static void test_bad_input(void)
{
    char uri[1200];
    const char *empty = tpath("empty");
    mkdir_p(empty);
    snprintf(uri, sizeof uri, "file:%s", empty);
    expect_open_error(uri, "empty directory", "empty directory");

    const char *junk = tpath("junk");
    mkdir_p(junk);
    write_text(tpath("junk/readme.md"), "hello\n");
    write_text(tpath("junk/temp_00001.csv"), "1,2,3,4,5\n");
    snprintf(uri, sizeof uri, "file:%s", junk);
    expect_open_error(uri, "no recognisable files", "directory without snapshots");

    snprintf(uri, sizeof uri, "file:%s", tpath("does-not-exist.wav"));
    expect_open_error(uri, "No such file", "missing file");

    const char *csv = tpath("nofs.csv");
    write_text(csv, "1,2\n3,4\n");
    snprintf(uri, sizeof uri, "file:%s", csv);
    expect_open_error(uri, "fs=", "CSV without fs");
    snprintf(uri, sizeof uri, "file:%s?fs=100&colour=blue", csv);
    expect_open_error(uri, "\"colour\"", "unknown query key");
    snprintf(uri, sizeof uri, "file:%s?fs=100&frame=0", csv);
    expect_open_error(uri, "frame=0", "frame=0");
    snprintf(uri, sizeof uri, "file:%s?fs=100&frame=10.5", csv);
    expect_open_error(uri, "frame=10.5", "frame=10.5");
    snprintf(uri, sizeof uri, "file:%s?fs=100&realtime=2", csv);
    expect_open_error(uri, "realtime=2", "realtime=2");
    snprintf(uri, sizeof uri, "file:%s?fs=100&t0=2024-03-01T12:00:00", csv);
    expect_open_error(uri, "with a zone", "t0 without a zone");
    snprintf(uri, sizeof uri, "file:%s?fs=-5", csv);
    expect_open_error(uri, "fs=-5", "negative fs");

    const char *ragged = tpath("ragged.csv");
    write_text(ragged, "1,2\n3,4\n5\n");
    snprintf(uri, sizeof uri, "file:%s?fs=100", ragged);
    expect_open_error(uri, "ragged.csv:3:", "malformed single CSV");

    const char *wav = tpath("rate.wav");
    write_wav(wav, 100, 1, 8000, 0);
    snprintf(uri, sizeof uri, "file:%s?fs=1000", wav);
    expect_open_error(uri, "8000 Hz", "fs= that contradicts the WAV");
    T_CHECK(truncate(wav, 60) == 0, "truncate");
    snprintf(uri, sizeof uri, "file:%s", wav);
    expect_open_error(uri, "truncated", "truncated single WAV");

    mkdir_p(tpath("mb"));
    write_wav(tpath("mb/ok.wav"), 100, 1, 1000, 0);
    write_text(tpath("mb/missing.csv"), "time,file\n2024-01-01T00:00:00Z,ok.wav\n\n2024-01-01T00:10:00Z,gone.wav\n");
    snprintf(uri, sizeof uri, "file:%s", tpath("mb/missing.csv"));
    expect_open_error(uri, "manifest line 4: file \"gone.wav\"", "manifest with a missing file");
    write_text(tpath("mb/badtime.csv"), "time,file\n2024-01-01T00:00:00Z,ok.wav\n2024-01-32T00:00:00Z,ok.wav\n");
    snprintf(uri, sizeof uri, "file:%s", tpath("mb/badtime.csv"));
    expect_open_error(uri, "manifest line 3: bad time \"2024-01-32T00:00:00Z\"", "manifest with a bad time");
    write_text(tpath("mb/nofile.csv"), "time,file\n2024-01-01T00:00:00Z\n");
    snprintf(uri, sizeof uri, "file:%s", tpath("mb/nofile.csv"));
    expect_open_error(uri, "manifest line 2", "manifest line without a file");
    write_text(tpath("mb/headeronly.csv"), "time,file\n");
    snprintf(uri, sizeof uri, "file:%s", tpath("mb/headeronly.csv"));
    expect_open_error(uri, "no recordings", "manifest without entries");

    /* t0= is refused for IMS directories, whose names carry the time */
    mkdir_p(tpath("imst0"));
    write_ims(tpath("imst0"), "2004.02.12.10.32.39", 10, 4, 0, -1);
    snprintf(uri, sizeof uri, "file:%s?t0=2024-01-01T00:00:00Z", tpath("imst0"));
    expect_open_error(uri, "t0=", "t0 with IMS");
}

int main(void)
{
    T_RUN(test_iso8601);
    T_RUN(test_wav_single);
    T_RUN(test_csv_single);
    T_RUN(test_time_from_mtime);
    T_RUN(test_ims_real);
    T_RUN(test_ims_bad_snapshot);
    T_RUN(test_pronostia_synthetic);
    T_RUN(test_pronostia_real);
    T_RUN(test_manifest);
    T_RUN(test_truncated_wav_in_series);
    T_RUN(test_realtime);
    T_RUN(test_bad_input);
    return t_done();
}
