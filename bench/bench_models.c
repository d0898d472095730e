/* bench/bench_models.c — cost of the autoencoder (models/autoencoder.h) on this machine, single
 * threaded: training time for 1,000 and 10,000 baseline vectors of DSP_FEATURES_MAX features
 * (default parameters, fixed seed), the time to score one vector and one snapshot of 15 sub-frame
 * vectors, and the model's size in its file and in memory. Prints a table; checks nothing.
 *   bench_models
 * The baseline is synthetic but structured like a healthy machine's features: 3 latent Gaussian
 * factors mixed into the features by a fixed random matrix, per-feature offset and scale, plus
 * small noise (as in tests/unit/test_autoencoder.c). Everything is seeded: the same binary on the
 * same CPU trains the same models; only the times vary. */
#include "dsp/feature_vector.h"
#include "models/autoencoder.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define D DSP_FEATURES_MAX
#define LATENT 3
#define NOISE 0.05
#define MODEL_SEED 1         /* models_ae_params.seed */
#define DATA_SEED 20240101   /* the family (mixing matrix, offsets, scales) and the draws */
#define SNAP_VECTORS 15      /* sub-frame vectors scored per snapshot */
#define SCORE_CALLS 20000    /* single-vector timings (median) */
#define SNAP_CALLS 2000      /* snapshot timings (median) */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* splitmix64 + Box–Muller: deterministic on every platform */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double urand(void) /* (0, 1) */
{
    return ((double)(rng_next() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double grand(void)
{
    return sqrt(-2 * log(urand())) * cos(6.283185307179586 * urand());
}

/* x = offset + scale·(A z + noise), z ~ N(0, I3) */
struct family {
    double A[D][LATENT], offset[D], scale[D];
};

static void family_init(struct family *f)
{
    for (int i = 0; i < D; i++) {
        for (int k = 0; k < LATENT; k++)
            f->A[i][k] = grand();
        f->offset[i] = 20 * (urand() - 0.5);
        f->scale[i] = 0.2 + 5 * urand();
    }
}

static void family_draw(const struct family *f, float *x, size_t n)
{
    for (size_t r = 0; r < n; r++) {
        double z[LATENT];
        for (int k = 0; k < LATENT; k++)
            z[k] = grand();
        for (int i = 0; i < D; i++) {
            double s = 0;
            for (int k = 0; k < LATENT; k++)
                s += f->A[i][k] * z[k];
            x[r * D + i] = (float)(f->offset[i] + f->scale[i] * (s + NOISE * grand()));
        }
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void cpu_model(char *out, size_t outlen)
{
    snprintf(out, outlen, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon || (strncmp(line, "model name", 10) != 0 && strncmp(line, "Model", 5) != 0))
            continue;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        v[strcspn(v, "\r\n")] = '\0';
        if (*v) {
            snprintf(out, outlen, "%s", v);
            break;
        }
    }
    fclose(f);
}

static volatile double sink; /* keeps the scores alive */

/* Trains on the first n vectors of base; returns the model (NULL on failure, reported). */
static models_ae *train_row(const float *base, size_t n)
{
    struct models_ae_params p;
    models_ae_params_default(&p);
    p.seed = MODEL_SEED;
    char err[256] = "";
    double t0 = now_s();
    models_ae *m = models_ae_train(base, n, D, DSP_FEATURES_SCHEMA, dsp_features_names, &p, err, sizeof err);
    double dt = now_s() - t0;
    if (!m) {
        printf("%-8zu training failed: %s\n", n, err);
        return NULL;
    }
    const struct models_ae_stats *st = models_ae_get_stats(m);
    size_t sz[5];
    models_ae_sizes(m, sz);
    printf("%-8zu %5zu %5zu %9.3f %7zu %5zu %-5s %9.5f %9.5f %10.3f  %zu-%zu-%zu-%zu-%zu\n", n, st->n_train,
           st->n_val, dt, st->epochs, st->best_epoch, st->stopped_early ? "yes" : "no", st->train_loss,
           st->val_loss, 1e3 * dt / (double)st->epochs, sz[0], sz[1], sz[2], sz[3], sz[4]);
    return m;
}

int main(void)
{
    static const size_t sizes[] = {1000, 10000};
    const size_t nmax = 10000, ntest = 4096; /* ntest: held-out vectors cycled through when scoring */
    float *base = malloc(nmax * D * sizeof *base), *test = malloc(ntest * D * sizeof *test);
    double *t_one = malloc(SCORE_CALLS * sizeof *t_one), *t_snap = malloc(SNAP_CALLS * sizeof *t_snap);
    if (!base || !test || !t_one || !t_snap) {
        fprintf(stderr, "bench_models: out of memory\n");
        return 1;
    }
    rng_state = DATA_SEED;
    struct family fam;
    family_init(&fam);
    family_draw(&fam, base, nmax);
    family_draw(&fam, test, ntest);

    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    printf("autoencoder: d = %d features (%s), baseline = %d latent factors mixed + %.2f noise, "
           "default params, seed %d; single thread\n", D, DSP_FEATURES_SCHEMA, LATENT, NOISE, MODEL_SEED);
    printf("machine: %s, %ld processor(s) online\n\n", cpu, sysconf(_SC_NPROCESSORS_ONLN));
    printf("%-8s %5s %5s %9s %7s %5s %-5s %9s %9s %10s  %s\n", "vectors", "train", "val", "train_s", "epochs",
           "best", "early", "trn_loss", "val_loss", "ms/epoch", "layers");

    models_ae *models[2] = {NULL, NULL};
    for (size_t i = 0; i < 2; i++)
        models[i] = train_row(base, sizes[i]);

    printf("\n%-8s %10s %10s %10s %12s %10s %9s %12s\n", "model", "us/vector", "us/snap15", "(mean/vec)",
           "threshold", "weights", "mem_B", "file_B");
    for (size_t i = 0; i < 2; i++) {
        models_ae *m = models[i];
        if (!m)
            continue;
        double s, acc = 0;
        /* warm-up: fault in the workspace, fill the caches */
        for (size_t r = 0; r < 1000; r++) {
            models_ae_score(m, test + (r % ntest) * D, &s);
            acc += s;
        }
        for (size_t c = 0; c < SCORE_CALLS; c++) {
            const float *x = test + (c % ntest) * D;
            double t0 = now_s();
            models_ae_score(m, x, &s);
            t_one[c] = now_s() - t0;
            acc += s;
        }
        for (size_t c = 0; c < SNAP_CALLS; c++) {
            size_t first = (c * SNAP_VECTORS) % (ntest - SNAP_VECTORS);
            double t0 = now_s();
            for (size_t k = 0; k < SNAP_VECTORS; k++) {
                models_ae_score(m, test + (first + k) * D, &s);
                acc += s;
            }
            t_snap[c] = now_s() - t0;
        }
        /* the same calls without a clock read around each one */
        double t0 = now_s();
        for (size_t c = 0; c < SCORE_CALLS; c++) {
            models_ae_score(m, test + (c % ntest) * D, &s);
            acc += s;
        }
        double mean_one = (now_s() - t0) / SCORE_CALLS;
        sink = acc;

        size_t nw = 0;
        models_ae_weights(m, &nw);
        char *json = models_ae_to_json(m);
        size_t file_b = json ? strlen(json) : 0;
        free(json);
        char label[24];
        snprintf(label, sizeof label, "n=%zu", sizes[i]);
        printf("%-8s %10.3f %10.3f %10.3f %12.5f %10zu %9zu %12zu\n", label, 1e6 * median(t_one, SCORE_CALLS),
               1e6 * median(t_snap, SNAP_CALLS), 1e6 * mean_one, models_ae_threshold(m), nw,
               nw * sizeof(float), file_b);
    }
    printf("\ntrain_s: wall time of models_ae_train (scaler, split, epochs, threshold); epochs: run, best: kept;\n"
           "early: patience ran out before max_epochs; losses: MSE in standardised units at the best epoch.\n"
           "us/vector: median of %d timed models_ae_score calls on held-out vectors; us/snap15: median of %d\n"
           "snapshots of %d consecutive calls; (mean/vec): %d untimed calls / their total time.\n"
           "weights: all weights and biases; mem_B = weights x 4 bytes (scaler and workspace not counted);\n"
           "file_B: strlen(models_ae_to_json), the model file's size.\n",
           SCORE_CALLS, SNAP_CALLS, SNAP_VECTORS, SCORE_CALLS);
    for (size_t i = 0; i < 2; i++)
        models_ae_free(models[i]);
    free(base);
    free(test);
    free(t_one);
    free(t_snap);
    return 0;
}
