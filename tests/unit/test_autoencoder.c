/* Tests of models/autoencoder.h: on data from a 3-factor latent mixed into 20 features the
 * autoencoder reconstructs held-out vectors far below the data's variance, flags vectors off the
 * latent manifold and rarely flags in-family ones; training is bit-reproducible per seed; early
 * stopping stops on a plateau; the model file round-trips exactly; mismatched, corrupted and
 * hostile inputs are refused with their messages. Training time for 10,000 vectors of d = 40 is
 * printed ("# …"), never asserted. */
#include "models/autoencoder.h"
#include "testlib.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D 20
#define LATENT 3

/* A fixed family: x = offset + scale·(A z + noise), z ~ N(0, I3), the same A for every call. */
struct family {
    double A[D][LATENT], offset[D], scale[D];
};

static void family_init(struct family *f, uint64_t seed)
{
    t_rng_seed(seed);
    for (int i = 0; i < D; i++) {
        for (int k = 0; k < LATENT; k++)
            f->A[i][k] = t_grand();
        f->offset[i] = 20 * (t_urand() - 0.5);
        f->scale[i] = 0.2 + 5 * t_urand();
    }
}

static void family_draw(const struct family *f, float *x, size_t n, double noise)
{
    for (size_t r = 0; r < n; r++) {
        double z[LATENT];
        for (int k = 0; k < LATENT; k++)
            z[k] = t_grand();
        for (int i = 0; i < D; i++) {
            double s = 0;
            for (int k = 0; k < LATENT; k++)
                s += f->A[i][k] * z[k];
            x[r * D + i] = (float)(f->offset[i] + f->scale[i] * (s + noise * t_grand()));
        }
    }
}

/* trains on n fresh vectors drawn from a fixed data seed, so only `seed` varies between calls */
static models_ae *train_family(const struct family *f, size_t n, uint64_t seed, float **data_out)
{
    float *x = malloc(n * D * sizeof *x);
    t_rng_seed(777);
    family_draw(f, x, n, 0.05);
    struct models_ae_params p;
    models_ae_params_default(&p);
    p.bottleneck = 4;
    p.seed = seed;
    char err[256] = "";
    models_ae *m = models_ae_train(x, n, D, "vw-features-1", NULL, &p, err, sizeof err);
    T_CHECK(m != NULL, "training failed: %s", err);
    if (data_out)
        *data_out = x;
    else
        free(x);
    return m;
}

static void test_learns_identity_and_flags_outliers(void)
{
    struct family f;
    family_init(&f, 11);
    models_ae *m = train_family(&f, 4000, 1, NULL);
    if (!m)
        return;
    const struct models_ae_stats *st = models_ae_get_stats(m);
    const size_t nt = 4000;
    float *x = malloc(nt * D * sizeof *x);
    family_draw(&f, x, nt, 0.05);
    double sum = 0;
    size_t alarms = 0;
    for (size_t r = 0; r < nt; r++) {
        double s;
        T_CHECK(models_ae_score(m, x + r * D, &s) == 0, "score");
        sum += s;
        alarms += s > models_ae_threshold(m);
    }
    double mse = sum / (double)nt, far = (double)alarms / (double)nt;
    /* standardised features have variance 1; the noise alone is 0.05² ≈ 0.0025 of it */
    T_CHECK(mse < 0.02, "held-out reconstruction MSE %g is not far below the variance 1", mse);
    T_CHECK(far < 0.01, "false-alarm rate on in-family vectors %.4f (design: under 0.005)", far);

    /* off the manifold: independent Gaussian values of each feature's own mean and spread */
    const float *mean, *sd;
    models_ae_scaler(m, &mean, &sd);
    size_t flagged = 0, nout = 200;
    double min_out = INFINITY;
    for (size_t r = 0; r < nout; r++) {
        float v[D];
        for (int i = 0; i < D; i++)
            v[i] = (float)(mean[i] + sd[i] * t_grand());
        double s;
        models_ae_score(m, v, &s);
        flagged += s > models_ae_threshold(m);
        min_out = fmin(min_out, s);
    }
    T_CHECK(flagged == nout, "only %zu of %zu off-manifold vectors flagged (lowest score %g, threshold %g)",
            flagged, nout, min_out, models_ae_threshold(m));
    /* a single sensor off by 2 sd in an otherwise healthy vector */
    size_t one_off = 0;
    for (size_t r = 0; r < 100; r++) {
        float v[D];
        memcpy(v, x + r * D, sizeof v);
        v[r % D] += 2 * sd[r % D];
        double s;
        models_ae_score(m, v, &s);
        one_off += s > models_ae_threshold(m);
    }
    T_CHECK(one_off >= 90, "only %zu of 100 vectors with one feature 2 sd off flagged", one_off);
    printf("# identity: held-out MSE %.5f, threshold %.5f, false alarms %.4f, %zu/%zu off-manifold and "
           "%zu/100 one-feature-off flagged, %zu epochs (best %zu), val loss %.5f\n", mse,
           models_ae_threshold(m), far, flagged, nout, one_off, st->epochs, st->best_epoch, st->val_loss);
    free(x);
    models_ae_free(m);
}

static void test_training_time_10000x40(void)
{
    const size_t n = 10000, d = 40;
    float *x = malloc(n * d * sizeof *x);
    t_rng_seed(5);
    double A[40][5];
    for (size_t i = 0; i < d; i++)
        for (int k = 0; k < 5; k++)
            A[i][k] = t_grand();
    for (size_t r = 0; r < n; r++) {
        double z[5];
        for (int k = 0; k < 5; k++)
            z[k] = t_grand();
        for (size_t i = 0; i < d; i++) {
            double s = 0.1 * t_grand();
            for (int k = 0; k < 5; k++)
                s += A[i][k] * z[k];
            x[r * d + i] = (float)tanh(0.5 * s);
        }
    }
    char err[256] = "";
    models_ae *m = models_ae_train(x, n, d, "vw-features-1", NULL, NULL, err, sizeof err);
    T_CHECK(m != NULL, "training failed: %s", err);
    if (m) {
        const struct models_ae_stats *st = models_ae_get_stats(m);
        size_t sz[5];
        models_ae_sizes(m, sz);
        printf("# training 10000 x 40 (layers %zu-%zu-%zu-%zu-%zu): %.2f s, %zu epochs (best %zu, early %s), "
               "val loss %.5f\n", sz[0], sz[1], sz[2], sz[3], sz[4], st->train_seconds, st->epochs,
               st->best_epoch, st->stopped_early ? "yes" : "no", st->val_loss);
        T_CHECK(st->val_loss < 0.5, "val loss %g", st->val_loss);
    }
    models_ae_free(m);
    free(x);
}

static void test_deterministic_per_seed(void)
{
    struct family f;
    family_init(&f, 21);
    float *x;
    models_ae *a = train_family(&f, 1000, 42, &x);
    free(x);
    models_ae *b = train_family(&f, 1000, 42, &x);
    models_ae *c = train_family(&f, 1000, 43, NULL);
    if (!a || !b || !c)
        goto out;
    size_t na, nb, nc;
    const float *wa = models_ae_weights(a, &na), *wb = models_ae_weights(b, &nb), *wc = models_ae_weights(c, &nc);
    T_CHECK(na == nb && memcmp(wa, wb, na * sizeof *wa) == 0, "same seed, different weights");
    T_CHECK(na == nc && memcmp(wa, wc, na * sizeof *wa) != 0, "different seeds, identical weights");
    T_CHECK(models_ae_threshold(a) == models_ae_threshold(b), "same seed, different thresholds");
    size_t same = 1;
    for (size_t r = 0; r < 1000; r++) {
        double sa, sb;
        models_ae_score(a, x + r * D, &sa);
        models_ae_score(b, x + r * D, &sb);
        same &= memcmp(&sa, &sb, sizeof sa) == 0;
    }
    T_CHECK(same, "same seed, scores differ");
    char *ja = models_ae_to_json(a), *jb = models_ae_to_json(b);
    T_CHECK(ja && jb && strcmp(ja, jb) == 0, "same seed, different model files");
    free(ja);
    free(jb);
out:
    free(x);
    models_ae_free(a);
    models_ae_free(b);
    models_ae_free(c);
}

static void test_early_stopping_on_plateau(void)
{
    /* independent noise: nothing beyond a few principal directions to learn, the loss plateaus */
    const size_t n = 1500, d = 12;
    float *x = malloc(n * d * sizeof *x);
    t_rng_seed(3);
    for (size_t j = 0; j < n * d; j++)
        x[j] = (float)t_grand();
    struct models_ae_params p;
    models_ae_params_default(&p);
    p.max_epochs = 2000;
    p.patience = 5;
    char err[256] = "";
    models_ae *m = models_ae_train(x, n, d, "vw-features-1", NULL, &p, err, sizeof err);
    T_CHECK(m != NULL, "training failed: %s", err);
    if (m) {
        const struct models_ae_stats *st = models_ae_get_stats(m);
        T_CHECK(st->stopped_early && st->epochs < p.max_epochs, "ran %zu of %zu epochs", st->epochs, p.max_epochs);
        T_CHECK(st->best_epoch + p.patience == st->epochs, "best epoch %zu + patience %zu != epochs %zu",
                st->best_epoch, p.patience, st->epochs);
        T_CHECK(st->n_val == 300 && st->n_train == 1200, "split %zu/%zu", st->n_train, st->n_val);
        printf("# plateau: stopped after %zu epochs (best %zu), val loss %.4f\n", st->epochs, st->best_epoch,
               st->val_loss);
    }
    models_ae_free(m);
    free(x);
}

static void test_save_load_round_trip(void)
{
    struct family f;
    family_init(&f, 31);
    const size_t n = 800;
    float *x = malloc(n * D * sizeof *x);
    family_draw(&f, x, n, 0.05);
    for (size_t r = 0; r < n; r++)
        x[r * D + 5] = 7.25f; /* a constant feature */
    const char *names[D];
    char buf[D][16];
    for (int i = 0; i < D; i++) {
        snprintf(buf[i], sizeof buf[i], "band_%02d_db", i);
        names[i] = buf[i];
    }
    char err[256] = "", path[512];
    struct models_ae_params p;
    models_ae_params_default(&p);
    p.seed = 0xFFFFFFFFFFFFFFF1ull; /* not representable as a JSON number */
    models_ae *m = models_ae_train(x, n, D, "vw-features-1", names, &p, err, sizeof err);
    T_CHECK(m != NULL, "training failed: %s", err);
    if (!m) {
        free(x);
        return;
    }
    T_CHECK(models_ae_feature_constant(m, 5) && !models_ae_feature_constant(m, 4), "constant feature flag");
    snprintf(path, sizeof path, "%s/ae.json", t_tmpdir());
    T_CHECK(models_ae_save(m, path, err, sizeof err) == 0, "save: %s", err);
    models_ae *l = models_ae_load(path, "vw-features-1", err, sizeof err);
    T_CHECK(l != NULL, "load: %s", err);
    if (l) {
        size_t bad = 0;
        for (size_t r = 0; r < n; r++) {
            double a, b;
            models_ae_score(m, x + r * D, &a);
            models_ae_score(l, x + r * D, &b);
            bad += memcmp(&a, &b, sizeof a) != 0;
        }
        T_CHECK(bad == 0, "%zu scores differ after the round trip", bad);
        T_CHECK(models_ae_threshold(l) == models_ae_threshold(m), "threshold changed");
        T_CHECK(models_ae_get_stats(l)->seed == p.seed, "seed %llu", (unsigned long long)models_ae_get_stats(l)->seed);
        T_CHECK(models_ae_feature_constant(l, 5), "constant flag lost");
        T_CHECK(strcmp(models_ae_feature_name(l, 7), "band_07_db") == 0, "feature name");
        char *ja = models_ae_to_json(m), *jb = models_ae_to_json(l);
        T_CHECK(ja && jb && strcmp(ja, jb) == 0, "the reloaded model writes a different file");
        T_CHECK(ja && strstr(ja, "\"format\":\"vibewatch-autoencoder\"") && strstr(ja, "\"version\":1"),
                "format and version fields");
        printf("# model file: %zu bytes for layers 20-10-2-10-20\n", ja ? strlen(ja) : 0);
        free(ja);
        free(jb);
    }
    models_ae_free(l);
    models_ae_free(m);
    free(x);
}

/* text with the first occurrence of old replaced by new (malloc'ed) */
static char *replace_once(const char *text, const char *old, const char *new)
{
    const char *at = strstr(text, old);
    if (!at)
        return NULL;
    size_t lt = strlen(text), lo = strlen(old), ln = strlen(new);
    char *s = malloc(lt - lo + ln + 1);
    memcpy(s, text, (size_t)(at - text));
    memcpy(s + (at - text), new, ln);
    memcpy(s + (at - text) + ln, at + lo, lt - (size_t)(at - text) - lo + 1);
    return s;
}

static void expect_refused(const char *text, const char *schema, const char *want, const char *what)
{
    char err[256] = "";
    if (!text) {
        t_fail_at(__FILE__, __LINE__, "%s: pattern to corrupt not found", what);
        return;
    }
    models_ae *m = models_ae_from_json(text, strlen(text), schema, err, sizeof err);
    T_CHECK(m == NULL, "%s: accepted", what);
    T_CHECK(strstr(err, want) != NULL, "%s: message \"%s\" lacks \"%s\"", what, err, want);
    models_ae_free(m);
}

static void test_mismatched_and_corrupted_files_refused(void)
{
    struct family f;
    family_init(&f, 41);
    float *x = malloc(300 * D * sizeof *x);
    family_draw(&f, x, 300, 0.05);
    struct models_ae_params p;
    models_ae_params_default(&p);
    p.max_epochs = 3;
    char err[256] = "", path[512];
    models_ae *m = models_ae_train(x, 300, D, "vw-features-0", NULL, &p, err, sizeof err);
    free(x);
    T_CHECK(m != NULL, "training failed: %s", err);
    if (!m)
        return;
    snprintf(path, sizeof path, "%s/old.json", t_tmpdir());
    T_CHECK(models_ae_save(m, path, err, sizeof err) == 0, "save: %s", err);
    models_ae *l = models_ae_load(path, "vw-features-1", err, sizeof err);
    T_CHECK(l == NULL, "a model for another feature schema was loaded");
    T_CHECK(strstr(err, "model was built for feature schema \"vw-features-0\", this box computes \"vw-features-1\""),
            "message: %s", err);
    T_CHECK(strncmp(err, path, strlen(path)) == 0, "message does not name the file: %s", err);
    models_ae_free(l);

    char *j = models_ae_to_json(m), *c;
    expect_refused(c = replace_once(j, "\"version\":1", "\"version\":2"), NULL,
                   "version 2 is not supported", "version 2");
    free(c);
    expect_refused(c = replace_once(j, "\"format\":\"vibewatch-autoencoder\"", "\"format\":\"other\""), NULL,
                   "\"format\" is not", "format");
    free(c);
    const char *mean = strstr(j, "\"mean\":[");
    char head[64];
    size_t k = strcspn(mean + 8, ",");
    snprintf(head, sizeof head, "\"mean\":[%.*s,", (int)k, mean + 8);
    expect_refused(c = replace_once(j, head, "\"mean\":["), NULL, "scaler.mean has 19 numbers, needs 20",
                   "short scaler");
    free(c);
    expect_refused(c = replace_once(j, "\"w\":[", "\"w\":[1e999,"), NULL, "weights[0].w[0] is not a finite float",
                   "infinite weight");
    free(c);
    expect_refused(c = replace_once(j, "\"b\":[", "\"b\":[1e39,"), NULL, "weights[0].b[0] is not a finite float",
                   "weight beyond float range");
    free(c);
    expect_refused(c = replace_once(j, "\"layers\":[20,", "\"layers\":[21,"), NULL, "are not of the shape",
                   "inconsistent layers");
    free(c);
    expect_refused(c = replace_once(j, "\"value\":", "\"value\":-"), NULL, "threshold must be a positive",
                   "negative threshold");
    free(c);
    expect_refused(c = replace_once(j, "\"seed\":\"", "\"seed\":\"x"), NULL, "training.seed", "bad seed");
    free(c);
    char *half = strdup(j);
    half[strlen(half) / 2] = 0;
    expect_refused(half, NULL, "not a JSON object", "truncated");
    free(half);
    expect_refused("[]", NULL, "not a JSON object", "array");
    free(j);
    T_CHECK(models_ae_load("/nonexistent/ae.json", NULL, err, sizeof err) == NULL &&
            strstr(err, "/nonexistent/ae.json: "), "missing file: %s", err);
    models_ae_free(m);
}

static void test_hostile_inputs_refused(void)
{
    char err[256];
    float x[10 * 4];
    for (size_t j = 0; j < 40; j++)
        x[j] = (float)j;
    struct { const float *x; size_t n, d; const char *schema; const char *want; } cases[] = {
        {x, 10, 0, "s", "dimension 0"},
        {x, 1, 257, "s", "dimension 257"},
        {x, 0, 4, "s", "0 training vectors"},
        {NULL, 10, 4, "s", "0 training vectors"},
        {x, 4, 4, "s", "4 training vectors"},
        {x, 10, 4, NULL, "feature schema"},
        {x, 10, 4, "", "feature schema"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = 0;
        models_ae *m = models_ae_train(cases[i].x, cases[i].n, cases[i].d, cases[i].schema, NULL, NULL, err, sizeof err);
        T_CHECK(m == NULL && strstr(err, cases[i].want), "case %zu: %s", i, err);
        models_ae_free(m);
    }
    x[3 * 4 + 2] = NAN;
    models_ae *m = models_ae_train(x, 10, 4, "s", NULL, NULL, err, sizeof err);
    T_CHECK(m == NULL && strstr(err, "vector 3, feature 2"), "NaN: %s", err);
    models_ae_free(m);
    x[3 * 4 + 2] = INFINITY;
    m = models_ae_train(x, 10, 4, "s", NULL, NULL, err, sizeof err);
    T_CHECK(m == NULL && strstr(err, "not a finite number"), "Inf: %s", err);
    models_ae_free(m);
    x[3 * 4 + 2] = 1;
    struct models_ae_params p;
    models_ae_params_default(&p);
    p.hidden = 4;
    p.bottleneck = 5;
    m = models_ae_train(x, 10, 4, "s", NULL, &p, err, sizeof err);
    T_CHECK(m == NULL && strstr(err, "bottleneck"), "bottleneck > hidden: %s", err);
    models_ae_free(m);
    p.bottleneck = 0;
    p.learning_rate = -1;
    m = models_ae_train(x, 10, 4, "s", NULL, &p, err, sizeof err);
    T_CHECK(m == NULL && strstr(err, "out of range"), "negative learning rate: %s", err);
    models_ae_free(m);
    const char *names[4] = {"a", NULL, "c", "d"};
    m = models_ae_train(x, 10, 4, "s", names, NULL, err, sizeof err);
    T_CHECK(m == NULL && strstr(err, "feature name 1"), "NULL name: %s", err);
    models_ae_free(m);

    /* scoring a non-finite vector is refused; a good model still scores */
    m = models_ae_train(x, 10, 4, "s", NULL, NULL, err, sizeof err);
    T_CHECK(m != NULL, "small training set: %s", err);
    double s = 0;
    float v[4] = {1, NAN, 2, 3};
    T_CHECK(models_ae_score(m, v, &s) == -EINVAL, "NaN vector scored");
    v[1] = 2;
    T_CHECK(models_ae_score(m, v, &s) == 0 && isfinite(s), "finite vector not scored");
    T_CHECK(models_ae_score(NULL, v, &s) == -EINVAL, "NULL model");
    T_CHECK(models_ae_from_json(NULL, 0, NULL, err, sizeof err) == NULL, "NULL text");
    models_ae_free(m);
    models_ae_free(NULL);
}

int main(void)
{
    T_RUN(test_learns_identity_and_flags_outliers);
    T_RUN(test_training_time_10000x40);
    T_RUN(test_deterministic_per_seed);
    T_RUN(test_early_stopping_on_plateau);
    T_RUN(test_save_load_round_trip);
    T_RUN(test_mismatched_and_corrupted_files_refused);
    T_RUN(test_hostile_inputs_refused);
    return t_done();
}
