/* bench/bench_history.c — speed and size of the local history (store/history.c): channel-snapshots
 * per second for 1 and 4 channels at the snapshot sizes of the data sets and of the box, bytes on
 * disk per snapshot, and the cost of a prune (nothing to do, and under the size cap). Prints a
 * table; checks nothing.
 *   bench_history [DIR]     (default: a fresh folder under $TMPDIR or /tmp, removed afterwards)
 * The history is written with the box's settings (WAL, synchronous=NORMAL): commits do not fsync,
 * checkpoints do. On the box's flash card, checkpoints cost more than on a PC's disk. */
#include "store/history.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEC INT64_C(1000000000)
#define T0 (INT64_C(1704067200) * SEC)
#define NFEAT 40

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

static void remove_history(const char *dir)
{
    static const char *const files[] = {"history.sqlite3", "history.sqlite3-wal", "history.sqlite3-shm",
                                        "history.reserve"};
    char p[1200];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
}

typedef struct row {
    const char *what;
    double rate_hz, seconds; /* the snapshot: spectrum bins = n/2 + 1, envelope = 1/8 of that */
    int channels, with_waveform, sets;
    double cap_mb;           /* 0: no cap pressure (the default 1024) */
} row;

static void run_row(const char *dir, const row *r)
{
    static const char *names[NFEAT];
    static char nb[NFEAT][24];
    static const char *const axis[4] = {"x", "y", "z", "r"};
    for (int k = 0; k < NFEAT; k++) {
        snprintf(nb[k], sizeof nb[k], "feature_%02d", k);
        names[k] = nb[k];
    }
    remove_history(dir);
    store_retention ret;
    store_history_defaults(&ret);
    if (r->cap_mb > 0)
        ret.max_mb = r->cap_mb;
    char err[512];
    store_history *h = store_history_open(dir, &ret, err, sizeof err);
    if (!h) {
        printf("%s\n", err);
        return;
    }
    size_t n = (size_t)(r->rate_hz * r->seconds), bins = n / 2 + 1, ebins = bins / 8;
    float *spec = malloc(bins * sizeof *spec), *env = malloc(ebins * sizeof *env), *wave = malloc(n * sizeof *wave);
    double feat[NFEAT];
    for (size_t i = 0; i < bins; i++)
        spec[i] = (float)(1e-4 / (1 + (double)i) * (1 + 0.3 * sin((double)i)));
    for (size_t i = 0; i < ebins; i++)
        env[i] = (float)(1e-6 * (1.5 + cos((double)i)));
    for (size_t i = 0; i < n; i++)
        wave[i] = (float)(0.3 * sin(0.07 * (double)i) + 0.01 * cos(1.3 * (double)i));
    store_snapshot s = {.asset_id = "pump-1", .sensor_id = "s1", .state = "ok", .nfeatures = NFEAT,
                        .feature_names = names, .features = feat, .spectrum = spec, .spectrum_bins = bins,
                        .spectrum_df_hz = r->rate_hz / (double)n, .envelope = env, .envelope_bins = ebins,
                        .envelope_df_hz = 1, .waveform_len = n, .waveform_rate_hz = r->rate_hz};
    double prune_s = 0, t_start = now_s();
    long failures = 0;
    for (int i = 0; i < r->sets; i++) {
        for (int c = 0; c < r->channels; c++) {
            s.t_ns = T0 + (int64_t)i * 10 * SEC;
            s.channel = axis[c];
            s.waveform = r->with_waveform ? wave : NULL;
            for (int k = 0; k < NFEAT; k++)
                feat[k] = i * 0.001 + k;
            if (store_history_add(h, &s, err, sizeof err) != 0 && failures++ == 0)
                printf("  %s\n", err);
        }
        if (r->cap_mb > 0) { /* the daemon's rhythm under pressure: prune after every set */
            double p0 = now_s();
            store_history_prune(h, s.t_ns, err, sizeof err);
            prune_s += now_s() - p0;
        }
    }
    double dt = now_s() - t_start;
    double p0 = now_s();
    store_history_prune(h, s.t_ns, err, sizeof err);
    double idle_prune_ms = 1e3 * (now_s() - p0);
    long long kept = store_history_count(h, "spectra");
    store_history_close(h);
    char path[1200];
    snprintf(path, sizeof path, "%s/history.sqlite3", dir);
    double total = (double)r->sets * r->channels;
    printf("%-34s %5d %6.0f %9.0f %8.2f %9.1f %10.2f%s\n", r->what, r->channels, total, total / dt, 1e3 * dt / total,
           r->cap_mb > 0 ? (double)file_size(path) / 1024 / (double)kept : (double)file_size(path) / 1024 / total,
           idle_prune_ms, failures ? "  (adds failed!)" : "");
    if (r->cap_mb > 0)
        printf("%-34s       pruning under a %.0f MiB cap: %.2f ms per set of %d; %lld spectra kept; file %.1f MiB\n", "",
               r->cap_mb, 1e3 * prune_s / r->sets, r->channels, kept, (double)file_size(path) / 1048576);
    free(spec);
    free(env);
    free(wave);
}

int main(int argc, char **argv)
{
    char tmpl[512];
    const char *dir;
    int made = 0;
    if (argc > 1) {
        dir = argv[1];
    } else {
        const char *t = getenv("TMPDIR");
        snprintf(tmpl, sizeof tmpl, "%s/bench_history.XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(tmpl)) {
            perror("mkdtemp");
            return 1;
        }
        dir = tmpl;
        made = 1;
    }
    const row rows[] = {
        {"PRONOSTIA 2560 @ 25.6 kHz", 25600, 0.1, 1, 0, 600, 0},
        {"PRONOSTIA 2560 @ 25.6 kHz", 25600, 0.1, 4, 0, 150, 0},
        {"25.6 kHz x 1 s", 25600, 1, 1, 0, 300, 0},
        {"25.6 kHz x 1 s", 25600, 1, 4, 0, 100, 0},
        {"25.6 kHz x 1 s + waveform", 25600, 1, 1, 1, 200, 0},
        {"25.6 kHz x 1 s + waveform", 25600, 1, 4, 1, 50, 0},
        {"51.2 kHz x 2.56 s", 51200, 2.56, 4, 0, 30, 0},
        {"25.6 kHz x 1 s, cap 16 MiB", 25600, 1, 4, 0, 300, 16},
    };
    printf("history: %s/history.sqlite3 (WAL, synchronous=NORMAL), 40 features, envelope = 1/8 of the spectrum bins\n",
           dir);
    printf("%-34s %5s %6s %9s %8s %9s %10s\n", "snapshot", "chans", "snaps", "snaps/s", "ms/snap", "kB/snap",
           "prune_ms");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        run_row(dir, &rows[i]);
    printf("snaps: channel-snapshots written (one per channel per set); kB/snap: main file after close / snapshots\n"
           "(under the cap: / spectra kept); prune_ms: a prune with nothing to delete.\n");
    remove_history(dir);
    if (made)
        rmdir(dir);
    return 0;
}
