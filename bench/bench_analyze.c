/* bench/bench_analyze.c — `make bench`: how long dsp_analyze() takes on real recordings, how much
 * of that is spent inside FFTs, and how much memory it needs.
 *
 * Usage: bench_analyze CWRU_DIR    (CWRU_DIR holds index.csv and one WAV per record)
 *
 * For every row of index.csv the record is read (not timed), an analyzer is made for its rate and
 * length with the SKF 6205 bearing and the row's rpm (timed as "setup"), and dsp_analyze() runs
 * REPEATS times; the median wall time (CLOCK_MONOTONIC) is reported. The FFT backend's own
 * per-thread counter (dsp_fft_timing / dsp_fft_time_ns) is on throughout, so every run also says
 * how long it spent inside transforms; the FFT share is taken from the same (median) run as the
 * wall time, so numerator and denominator belong together. The counter costs two clock reads per
 * transform, which stays in the measured time.
 *
 * Memory: ru_maxrss is the process's peak. The growth during one record's setup and analysis is
 * measured by resetting the kernel's peak-RSS mark (/proc/self/clear_refs, "5") after the record
 * is loaded and reading VmHWM afterwards; freed heap is handed back (malloc_trim) between records
 * so one record's leftovers do not hide the next one's growth. Without clear_refs the growth is
 * reported as unavailable rather than guessed.
 *
 * A second section times synthetic Gaussian noise at the snapshot sizes of the other datasets.
 *
 * Single-threaded; output is a plain-text table on stdout. Exit 0, or 1 when the folder, its
 * index or the bearing catalogue entry is missing or no record could be analysed.
 */
#include "acquisition/recording.h"
#include "dsp/dsp.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#define REPEATS 3            /* dsp_analyze runs per CWRU record */
#define SYNTH_REPEATS 21     /* runs per synthetic size */
#define RPM_97 1796.0        /* record 97's rpm when its index row leaves it empty */
#define MAX_FIELDS 64
#define RATIO_GOAL 3.0       /* analysis time / FFT time */

/* ---- small helpers -------------------------------------------------------------------------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Index of the median element of v[0..n) (the lower one for even n), without reordering v. */
static size_t median_index(const double *v, size_t n)
{
    double sorted[SYNTH_REPEATS > REPEATS ? SYNTH_REPEATS : REPEATS];
    memcpy(sorted, v, n * sizeof *v);
    qsort(sorted, n, sizeof *sorted, cmp_double);
    double m = sorted[(n - 1) / 2];
    for (size_t i = 0; i < n; i++)
        if (v[i] == m)
            return i;
    return 0;
}

/* A "Key:  1234 kB" line of /proc/self/status in KiB, or -1. */
static long proc_status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    size_t klen = strlen(key);
    long v = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            v = strtol(line + klen + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* Resets VmHWM to the current RSS; 0 on success. */
static int reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return -1;
    int ok = fputs("5", f) >= 0;
    if (fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

static void trim_heap(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

static double maxrss_mib(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (double)ru.ru_maxrss / 1024.0; /* Linux: KiB */
}

/* "model name" (x86) or the nearest ARM equivalent, and the number of processors. */
static void cpu_model(char *out, size_t outlen)
{
    snprintf(out, outlen, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    static const char *const keys[] = {"model name", "Model", "Hardware", "cpu model", "Processor"};
    char line[512], best[256] = "";
    int best_rank = 99, ncpu = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "processor", 9) == 0 && (line[9] == ':' || line[9] == '\t' || line[9] == ' '))
            ncpu++;
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        for (int k = 0; k < (int)(sizeof keys / sizeof keys[0]) && k < best_rank; k++) {
            size_t kl = strlen(keys[k]);
            if (strncmp(line, keys[k], kl) != 0 || (line[kl] != ':' && line[kl] != '\t' && line[kl] != ' '))
                continue;
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            v[strcspn(v, "\r\n")] = '\0';
            if (*v) {
                snprintf(best, sizeof best, "%s", v);
                best_rank = k;
            }
        }
    }
    fclose(f);
    if (best[0] && ncpu > 0)
        snprintf(out, outlen, "%s (%d CPU%s)", best, ncpu, ncpu == 1 ? "" : "s");
    else if (best[0])
        snprintf(out, outlen, "%s", best);
    else if (ncpu > 0)
        snprintf(out, outlen, "unknown model (%d CPU%s)", ncpu, ncpu == 1 ? "" : "s");
}

/* ---- index.csv ------------------------------------------------------------------------------ */

/* Splits line in place at commas; trims spaces, CR/LF and surrounding double quotes. */
static int split_csv(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        char *end = strchr(p, ',');
        if (end)
            *end = '\0';
        if (n < max) {
            char *s = p;
            while (*s == ' ' || *s == '\t')
                s++;
            size_t len = strlen(s);
            while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' || s[len - 1] == '\n'))
                s[--len] = '\0';
            if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
                s[len - 1] = '\0';
                s++;
            }
            fields[n++] = s;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return n;
}

static int find_column(char **fields, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(fields[i], name) == 0)
            return i;
    return -1;
}

/* ---- one analysis, timed -------------------------------------------------------------------- */

struct timing {
    double setup_ms;
    double analyse_ms;     /* median wall time */
    double fft_ms;         /* inside FFTs, in the same run */
    int nruns;
};

/* Makes an analyzer, runs it `runs` times on x and fills t. Returns 0, or -1 with err set. */
static int time_analysis(const dsp_analyzer_config *cfg, const float *x, int runs, struct timing *t, char *err,
                         size_t errlen)
{
    double wall[SYNTH_REPEATS > REPEATS ? SYNTH_REPEATS : REPEATS], fft[sizeof wall / sizeof wall[0]];
    if (runs < 1 || (size_t)runs > sizeof wall / sizeof wall[0]) {
        snprintf(err, errlen, "bad repeat count %d", runs);
        return -1;
    }
    double t0 = now_ms();
    dsp_analyzer *a = dsp_analyzer_new(cfg, err, errlen);
    double t1 = now_ms();
    if (!a)
        return -1;
    t->setup_ms = t1 - t0;
    dsp_result res;
    for (int i = 0; i < runs; i++) {
        unsigned long long f0 = dsp_fft_time_ns();
        double s0 = now_ms();
        int rc = dsp_analyze(a, x, &res);
        double s1 = now_ms();
        unsigned long long f1 = dsp_fft_time_ns();
        if (rc != 0) {
            snprintf(err, errlen, "dsp_analyze failed: %s", strerror(-rc));
            dsp_analyzer_free(a);
            return -1;
        }
        wall[i] = s1 - s0;
        fft[i] = (double)(f1 - f0) / 1e6;
    }
    dsp_analyzer_free(a);
    size_t m = median_index(wall, (size_t)runs);
    t->analyse_ms = wall[m];
    t->fft_ms = fft[m];
    t->nruns = runs;
    return 0;
}

static double share_pct(double part, double whole) { return whole > 0 ? 100.0 * part / whole : 0; }

/* ---- the CWRU section ----------------------------------------------------------------------- */

struct record_result {
    char name[32];
    size_t samples;
    double analyse_ms;
};

struct cwru_totals {
    int rows, analysed, failed;
    size_t samples;
    double seconds;        /* of signal */
    double setup_ms, analyse_ms, fft_ms;
    long growth_kib;       /* max over records; -1 when not measurable */
    char growth_rec[32];
    double *per_record;    /* analyse_ms of each analysed record */
    char max_rec[32];
    double max_ms;
};

static void print_row_error(const char *rec, const char *msg)
{
    printf("%-8s  error: %s\n", rec, msg);
}

/* Copies channel 0 of an interleaved recording into a new buffer (NULL on out of memory). */
static float *channel0(const acq_recording *r)
{
    if (r->nchan == 1)
        return r->samples;
    float *x = malloc(r->nframes * sizeof *x);
    if (x)
        for (size_t i = 0; i < r->nframes; i++)
            x[i] = r->samples[i * r->nchan];
    return x;
}

static int run_cwru(const char *dir, FILE *idx, const dsp_bearing *brg, struct cwru_totals *tot)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    char *fields[MAX_FIELDS];
    int col_file = -1, col_rpm = -1, col_record = -1, ncols = 0, lineno = 0;
    int clear_refs_ok = 1;

    memset(tot, 0, sizeof *tot);
    tot->growth_kib = -1;

    /* header */
    while ((len = getline(&line, &cap, idx)) != -1) {
        lineno++;
        if (line[strspn(line, " \t\r\n")] == '\0')
            continue;
        ncols = split_csv(line, fields, MAX_FIELDS);
        col_file = find_column(fields, ncols, "file");
        col_rpm = find_column(fields, ncols, "rpm");
        col_record = find_column(fields, ncols, "record");
        break;
    }
    if (col_file < 0 || col_rpm < 0) {
        printf("bench: %s/index.csv: header has no \"%s\" column\n", dir, col_file < 0 ? "file" : "rpm");
        free(line);
        return -1;
    }

    printf("vibewatch bench: dsp_analyze on %s (bearing %s, rpm from index.csv)\n", dir, brg->name);
    printf("FFT backend %s; setup = dsp_analyzer_new; analyse = median wall time of %d runs; "
           "FFT %% = time inside FFTs in that run\n\n", dsp_fft_backend(), REPEATS);
    printf("%-8s %8s %7s %9s %11s %11s %6s\n", "record", "samples", "fs_Hz", "setup_ms", "analyse_ms",
           "ms/Msample", "FFT_%");
    printf("%-8s %8s %7s %9s %11s %11s %6s\n", "------", "-------", "-----", "--------", "----------",
           "----------", "-----");

    size_t per_cap = 0;
    while ((len = getline(&line, &cap, idx)) != -1) {
        lineno++;
        if (line[strspn(line, " \t\r\n")] == '\0' || line[0] == '#')
            continue;
        int n = split_csv(line, fields, MAX_FIELDS);
        tot->rows++;
        char rec[32], msg[512];
        const char *file = col_file < n ? fields[col_file] : "";
        if (col_record >= 0 && col_record < n && fields[col_record][0])
            snprintf(rec, sizeof rec, "%s", fields[col_record]);
        else
            snprintf(rec, sizeof rec, "%.*s", (int)strcspn(file, "."), file);
        if (!rec[0])
            snprintf(rec, sizeof rec, "line%d", lineno);
        if (n != ncols || !file[0]) {
            snprintf(msg, sizeof msg, "index.csv:%d: %d fields (header has %d)%s", lineno, n, ncols,
                     file[0] ? "" : ", no file name");
            print_row_error(rec, msg);
            tot->failed++;
            continue;
        }

        double rpm;
        const char *rpm_s = fields[col_rpm];
        char *end;
        if (!rpm_s[0] && strcmp(rec, "97") == 0) {
            rpm = RPM_97;
        } else {
            rpm = strtod(rpm_s, &end);
            if (!rpm_s[0] || *end || !(rpm > 0) || !isfinite(rpm)) {
                snprintf(msg, sizeof msg, "index.csv:%d: rpm \"%s\" is not a positive number", lineno, rpm_s);
                print_row_error(rec, msg);
                tot->failed++;
                continue;
            }
        }

        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path) {
            print_row_error(rec, "path too long");
            tot->failed++;
            continue;
        }
        acq_recording r;
        if (acq_read_file(path, 0, &r, msg, sizeof msg) != 0) {
            print_row_error(rec, msg);
            tot->failed++;
            continue;
        }
        float *x = channel0(&r);
        if (!x) {
            acq_recording_free(&r);
            print_row_error(rec, "out of memory");
            tot->failed++;
            continue;
        }

        dsp_analyzer_config cfg = {
            .fs_hz = r.fs_hz, .nsamples = r.nframes, .shaft_hz = rpm / 60.0,
            .has_bearing = true, .orders = brg->orders,
        };
        long rss_before = proc_status_kib("VmRSS");
        int measured = clear_refs_ok && rss_before >= 0 && reset_peak_rss() == 0;
        if (!measured)
            clear_refs_ok = 0;
        struct timing t;
        int rc = time_analysis(&cfg, x, REPEATS, &t, msg, sizeof msg);
        long hwm = measured ? proc_status_kib("VmHWM") : -1;
        if (x != r.samples)
            free(x);
        size_t nframes = r.nframes;
        double fs = r.fs_hz;
        acq_recording_free(&r);
        trim_heap();
        if (rc != 0) {
            print_row_error(rec, msg);
            tot->failed++;
            continue;
        }
        if (hwm >= 0 && hwm - rss_before > tot->growth_kib) {
            tot->growth_kib = hwm - rss_before;
            snprintf(tot->growth_rec, sizeof tot->growth_rec, "%s", rec);
        }

        double msamples = (double)nframes / 1e6;
        printf("%-8s %8zu %7.0f %9.2f %11.2f %11.2f %6.1f\n", rec, nframes, fs, t.setup_ms, t.analyse_ms,
               t.analyse_ms / msamples, share_pct(t.fft_ms, t.analyse_ms));
        fflush(stdout);

        if ((size_t)tot->analysed == per_cap) {
            size_t nc = per_cap ? 2 * per_cap : 64;
            double *p = realloc(tot->per_record, nc * sizeof *p);
            if (!p) {
                free(line);
                printf("bench: out of memory\n");
                return -1;
            }
            tot->per_record = p;
            per_cap = nc;
        }
        tot->per_record[tot->analysed++] = t.analyse_ms;
        tot->samples += nframes;
        tot->seconds += (double)nframes / fs;
        tot->setup_ms += t.setup_ms;
        tot->analyse_ms += t.analyse_ms;
        tot->fft_ms += t.fft_ms;
        if (t.analyse_ms > tot->max_ms) {
            tot->max_ms = t.analyse_ms;
            snprintf(tot->max_rec, sizeof tot->max_rec, "%s", rec);
        }
    }
    free(line);
    if (!clear_refs_ok)
        tot->growth_kib = -1;
    return 0;
}

/* ---- synthetic sizes ------------------------------------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static double uniform01(void)
{
    /* xorshift64*: deterministic, so every run times the same input */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return ((double)((rng_state * 0x2545F4914F6CDD1Dull) >> 11) + 0.5) / 9007199254740992.0;
}

static void gaussian_noise(float *x, size_t n, double sd)
{
    for (size_t i = 0; i < n; i += 2) {
        double r = sqrt(-2.0 * log(uniform01())), th = 2 * M_PI * uniform01();
        x[i] = (float)(sd * r * cos(th));
        if (i + 1 < n)
            x[i + 1] = (float)(sd * r * sin(th));
    }
}

static void run_synthetic(const dsp_bearing *brg)
{
    static const struct {
        const char *what;
        double fs_hz;
        size_t n;
        double rpm;
    } sizes[] = {
        {"PRONOSTIA snapshot", 25600, 2560, 1800},
        {"IMS snapshot", 20000, 20480, 2000},
        {"48 kHz x 65536", 48000, 65536, 1796},
    };
    printf("\nper-snapshot cost at other sizes (Gaussian noise 0.1 g RMS, %s orders, median of %d runs)\n",
           brg->name, SYNTH_REPEATS);
    printf("%-20s %7s %8s %5s %9s %11s %6s\n", "snapshot", "fs_Hz", "samples", "rpm", "setup_ms", "analyse_us",
           "FFT_%");
    printf("%-20s %7s %8s %5s %9s %11s %6s\n", "--------", "-----", "-------", "---", "--------", "----------",
           "-----");
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        float *x = malloc(sizes[i].n * sizeof *x);
        if (!x) {
            printf("%-20s out of memory\n", sizes[i].what);
            continue;
        }
        gaussian_noise(x, sizes[i].n, 0.1);
        dsp_analyzer_config cfg = {
            .fs_hz = sizes[i].fs_hz, .nsamples = sizes[i].n, .shaft_hz = sizes[i].rpm / 60.0,
            .has_bearing = true, .orders = brg->orders,
        };
        struct timing t;
        char msg[512];
        if (time_analysis(&cfg, x, SYNTH_REPEATS, &t, msg, sizeof msg) != 0)
            printf("%-20s %7.0f %8zu %5.0f  not analysable: %s\n", sizes[i].what, sizes[i].fs_hz, sizes[i].n,
                   sizes[i].rpm, msg);
        else
            printf("%-20s %7.0f %8zu %5.0f %9.2f %11.0f %6.1f\n", sizes[i].what, sizes[i].fs_hz, sizes[i].n,
                   sizes[i].rpm, t.setup_ms, t.analyse_ms * 1000, share_pct(t.fft_ms, t.analyse_ms));
        free(x);
        trim_heap();
    }
}

/* ---- main ----------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CWRU_DIR   (a folder with index.csv and one WAV per record)\n", argv[0]);
        return 1;
    }
    const char *dir = argv[1];
    char idx_path[4096];
    if ((size_t)snprintf(idx_path, sizeof idx_path, "%s/index.csv", dir) >= sizeof idx_path) {
        printf("bench: %s: path too long\n", dir);
        return 1;
    }
    FILE *idx = fopen(idx_path, "r");
    if (!idx) {
        printf("bench: cannot open %s: %s (is the CWRU data in %s? set VW_DATA)\n", idx_path, strerror(errno), dir);
        return 1;
    }
    const dsp_bearing *brg = dsp_bearing_find("6205");
    if (!brg) {
        fclose(idx);
        printf("bench: bearing \"6205\" is not in the catalogue\n");
        return 1;
    }

    char cpu[320];
    cpu_model(cpu, sizeof cpu);
    dsp_fft_timing(1);

    struct cwru_totals tot;
    int rc = run_cwru(dir, idx, brg, &tot);
    fclose(idx);
    if (rc != 0) {
        free(tot.per_record);
        return 1;
    }
    if (tot.analysed == 0) {
        printf("bench: no record of %s could be analysed (%d rows)\n", idx_path, tot.rows);
        free(tot.per_record);
        return 1;
    }

    qsort(tot.per_record, (size_t)tot.analysed, sizeof *tot.per_record, cmp_double);
    size_t na = (size_t)tot.analysed;
    double median = na % 2 ? tot.per_record[na / 2] : 0.5 * (tot.per_record[na / 2 - 1] + tot.per_record[na / 2]);
    double ratio = tot.fft_ms > 0 ? tot.analyse_ms / tot.fft_ms : INFINITY;

    printf("\nsummary\n");
    printf("  records                 %d analysed", tot.analysed);
    if (tot.failed)
        printf(", %d failed (see above)", tot.failed);
    printf(" of %d rows\n", tot.rows);
    printf("  total samples           %zu (%.1f s of signal)\n", tot.samples, tot.seconds);
    printf("  setup total             %.1f ms\n", tot.setup_ms);
    printf("  analyse total           %.1f ms\n", tot.analyse_ms);
    printf("  analyse per record      median %.2f ms, max %.2f ms (record %s)\n", median, tot.max_ms, tot.max_rec);
    printf("  per million samples     %.2f ms\n", tot.analyse_ms / ((double)tot.samples / 1e6));
    printf("  FFT share overall       %.1f %% (%.1f ms inside FFTs)\n", share_pct(tot.fft_ms, tot.analyse_ms),
           tot.fft_ms);
    printf("  analysis / FFT time     %.2fx (goal <= %.0fx: %s)\n", ratio, RATIO_GOAL,
           ratio <= RATIO_GOAL ? "met" : "not met");
    printf("  peak memory (maxrss)    %.1f MiB\n", maxrss_mib());
    if (tot.growth_kib >= 0)
        printf("  peak RSS growth         %.1f MiB during one record's setup+analysis (max, record %s)\n",
               (double)tot.growth_kib / 1024.0, tot.growth_rec);
    else
        printf("  peak RSS growth         n/a (/proc/self/clear_refs not writable)\n");
    printf("  FFT backend             %s\n", dsp_fft_backend());
    printf("  CPU                     %s\n", cpu);
    fflush(stdout);
    free(tot.per_record);

    run_synthetic(brg);
    return 0;
}
