/* models/autoencoder.c — the autoencoder's model object, training (mini-batch Adam with early
 * stopping) and allocation-free scoring. The file format lives in autoencoder_io.c.
 *
 * Layout: all parameters in one float array, layer by layer (W row-major out×in, then b), so Adam
 * and the best-epoch snapshot are single loops over it. Gradients are accumulated one vector at a
 * time (no batch matrices): at these sizes (d ≤ 256) the working set stays in L1/L2 and the order
 * of every floating-point operation is fixed, which is what makes training bit-reproducible.
 * Training standardises each vector on the fly instead of copying the baseline. */
#include "models/autoencoder.h"
#include "models/autoencoder_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NLAYERS 4

enum act { ACT_LINEAR = 0, ACT_TANH = 1 };

struct layer {
    size_t in, out;
    size_t w_off, b_off; /* into params */
    enum act act;
};

struct models_ae {
    size_t d, h, b;
    struct layer layers[NLAYERS];
    float *params;
    size_t nparams;
    float *mean, *sd;
    bool *constant;
    char schema[MODELS_AE_SCHEMA_MAX];
    char (*names)[MODELS_AE_NAME_MAX];
    double threshold;
    struct models_ae_stats stats;
    float *act[NLAYERS + 1]; /* workspace: activations of each layer, act[0] = standardised input */
};

void models_ae_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* splitmix64: tiny, fast, statistically fine for initialisation and shuffles, and the same on
 * every platform. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double rng_unit(uint64_t *s) /* [0, 1) */
{
    return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

static size_t rng_below(uint64_t *s, size_t n) /* [0, n), n ≥ 1; bias negligible for n ≪ 2^64 */
{
    return (size_t)(rng_next(s) % (uint64_t)n);
}

static void shuffle(size_t *idx, size_t n, uint64_t *s)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = rng_below(s, i);
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

void models_ae_params_default(struct models_ae_params *p)
{
    memset(p, 0, sizeof *p);
    p->learning_rate = 1e-3;
    p->batch_size = 32;
    p->max_epochs = 300;
    p->patience = 10;
    p->min_rel_improvement = 1e-3;
    p->val_fraction = 0.2;
    p->threshold_quantile = 0.995;
    p->threshold_margin = 1.5;
}

void models_ae_free(models_ae *m)
{
    if (!m)
        return;
    free(m->params);
    free(m->mean);
    free(m->sd);
    free(m->constant);
    free(m->names);
    for (int l = 0; l <= NLAYERS; l++)
        free(m->act[l]);
    free(m);
}

static size_t nparams_for(size_t d, size_t h, size_t b)
{
    return (d * h + h) + (h * b + b) + (b * h + h) + (h * d + d); /* W and b of each layer */
}

/* Allocates a model of the given shape with zeroed parameters; NULL when out of memory. Sizes are
 * bounded by the callers (d, h ≤ 256), so no product here can overflow. */
static models_ae *model_new(size_t d, size_t h, size_t b)
{
    models_ae *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->d = d;
    m->h = h;
    m->b = b;
    const size_t sizes[NLAYERS + 1] = {d, h, b, h, d};
    const enum act acts[NLAYERS] = {ACT_TANH, ACT_LINEAR, ACT_TANH, ACT_LINEAR};
    size_t off = 0;
    for (int l = 0; l < NLAYERS; l++) {
        struct layer *L = &m->layers[l];
        L->in = sizes[l];
        L->out = sizes[l + 1];
        L->act = acts[l];
        L->w_off = off;
        off += L->in * L->out;
        L->b_off = off;
        off += L->out;
    }
    m->nparams = off;
    m->params = calloc(off, sizeof *m->params);
    m->mean = calloc(d, sizeof *m->mean);
    m->sd = calloc(d, sizeof *m->sd);
    m->constant = calloc(d, sizeof *m->constant);
    m->names = calloc(d, sizeof *m->names);
    if (!m->params || !m->mean || !m->sd || !m->constant || !m->names)
        goto fail;
    for (int l = 0; l <= NLAYERS; l++)
        if (!(m->act[l] = calloc(sizes[l], sizeof *m->act[l])))
            goto fail;
    return m;
fail:
    models_ae_free(m);
    return NULL;
}

static int check_schema(const char *schema, char *err, size_t errlen)
{
    if (!schema || !schema[0] || strlen(schema) >= MODELS_AE_SCHEMA_MAX) {
        models_ae_set_err(err, errlen, "autoencoder: feature schema must be a non-empty string of at most %d bytes",
                MODELS_AE_SCHEMA_MAX - 1);
        return -EINVAL;
    }
    return 0;
}

static int set_names(models_ae *m, const char *const *names, char *err, size_t errlen)
{
    for (size_t i = 0; i < m->d; i++) {
        if (!names) {
            snprintf(m->names[i], MODELS_AE_NAME_MAX, "f%zu", i);
            continue;
        }
        if (!names[i] || !names[i][0] || strlen(names[i]) >= MODELS_AE_NAME_MAX) {
            models_ae_set_err(err, errlen, "autoencoder: feature name %zu must be a non-empty string of at most %d bytes",
                    i, MODELS_AE_NAME_MAX - 1);
            return -EINVAL;
        }
        memcpy(m->names[i], names[i], strlen(names[i]) + 1);
    }
    return 0;
}

/* Forward pass of the standardised input already in m->act[0]; returns the mean squared
 * reconstruction error. */
static double forward(models_ae *m)
{
    for (int l = 0; l < NLAYERS; l++) {
        const struct layer *L = &m->layers[l];
        const float *W = m->params + L->w_off, *bias = m->params + L->b_off;
        const float *a = m->act[l];
        float *z = m->act[l + 1];
        for (size_t o = 0; o < L->out; o++) {
            const float *w = W + o * L->in;
            float s = bias[o];
            for (size_t i = 0; i < L->in; i++)
                s += w[i] * a[i];
            z[o] = L->act == ACT_TANH ? tanhf(s) : s;
        }
    }
    const float *x = m->act[0], *y = m->act[NLAYERS];
    double e = 0;
    for (size_t i = 0; i < m->d; i++) {
        double r = (double)y[i] - (double)x[i];
        e += r * r;
    }
    return e / (double)m->d;
}

static int standardise(models_ae *m, const float *x)
{
    for (size_t i = 0; i < m->d; i++) {
        if (!isfinite(x[i]))
            return -EINVAL;
        m->act[0][i] = (x[i] - m->mean[i]) / m->sd[i];
    }
    return 0;
}

int models_ae_score(models_ae *m, const float *x, double *score)
{
    if (!m || !x || !score)
        return -EINVAL;
    if (standardise(m, x) < 0) {
        *score = NAN;
        return -EINVAL;
    }
    *score = forward(m);
    return 0;
}

int models_ae_reconstruct(models_ae *m, const float *x, float *y)
{
    if (!m || !x || !y)
        return -EINVAL;
    if (standardise(m, x) < 0)
        return -EINVAL;
    forward(m);
    for (size_t i = 0; i < m->d; i++)
        y[i] = m->act[NLAYERS][i] * m->sd[i] + m->mean[i];
    return 0;
}

/* Training state beyond the model: gradients, Adam moments, per-layer deltas, best snapshot. */
struct trainer {
    float *grad, *adam_m, *adam_v, *best;
    float *delta[NLAYERS + 1];
};

static void trainer_free(struct trainer *t)
{
    free(t->grad);
    free(t->adam_m);
    free(t->adam_v);
    free(t->best);
    for (int l = 0; l <= NLAYERS; l++)
        free(t->delta[l]);
}

static int trainer_init(struct trainer *t, const models_ae *m)
{
    memset(t, 0, sizeof *t);
    t->grad = calloc(m->nparams, sizeof *t->grad);
    t->adam_m = calloc(m->nparams, sizeof *t->adam_m);
    t->adam_v = calloc(m->nparams, sizeof *t->adam_v);
    t->best = calloc(m->nparams, sizeof *t->best);
    if (!t->grad || !t->adam_m || !t->adam_v || !t->best)
        return -ENOMEM;
    for (int l = 0; l <= NLAYERS; l++) {
        size_t w = l == 0 ? m->d : m->layers[l - 1].out;
        if (!(t->delta[l] = calloc(w, sizeof *t->delta[l])))
            return -ENOMEM;
    }
    return 0;
}

/* Adds the gradient of one vector's loss (forward already run) to t->grad. */
static void backward(const models_ae *m, struct trainer *t)
{
    const float *x = m->act[0], *y = m->act[NLAYERS];
    float *dout = t->delta[NLAYERS];
    const float k = 2.0f / (float)m->d;
    for (size_t i = 0; i < m->d; i++)
        dout[i] = k * (y[i] - x[i]); /* output layer is linear */
    for (int l = NLAYERS - 1; l >= 0; l--) {
        const struct layer *L = &m->layers[l];
        const float *W = m->params + L->w_off, *a = m->act[l], *dz = t->delta[l + 1];
        float *gW = t->grad + L->w_off, *gb = t->grad + L->b_off;
        for (size_t o = 0; o < L->out; o++) {
            float g = dz[o];
            float *gw = gW + o * L->in;
            for (size_t i = 0; i < L->in; i++)
                gw[i] += g * a[i];
            gb[o] += g;
        }
        if (l == 0)
            break;
        float *da = t->delta[l];
        for (size_t i = 0; i < L->in; i++)
            da[i] = 0;
        for (size_t o = 0; o < L->out; o++) {
            const float *w = W + o * L->in;
            float g = dz[o];
            for (size_t i = 0; i < L->in; i++)
                da[i] += w[i] * g;
        }
        if (m->layers[l - 1].act == ACT_TANH)
            for (size_t i = 0; i < L->in; i++)
                da[i] *= 1.0f - a[i] * a[i];
    }
}

static double mean_loss(models_ae *m, const float *x, const size_t *idx, size_t n)
{
    double s = 0;
    for (size_t k = 0; k < n; k++) {
        standardise(m, x + idx[k] * m->d);
        s += forward(m);
    }
    return n ? s / (double)n : 0;
}

static int check_params(const struct models_ae_params *p, size_t d, size_t *h, size_t *b,
                        char *err, size_t errlen)
{
    *h = p->hidden ? p->hidden : (d / 2 > 8 ? d / 2 : 8);
    *b = p->bottleneck ? p->bottleneck : (d / 8 > 2 ? d / 8 : 2);
    if (*h > MODELS_AE_MAX_HIDDEN) {
        models_ae_set_err(err, errlen, "autoencoder: hidden width %zu is above %d", *h, MODELS_AE_MAX_HIDDEN);
        return -EINVAL;
    }
    if (*b > *h) {
        models_ae_set_err(err, errlen, "autoencoder: bottleneck %zu is wider than the hidden layer %zu", *b, *h);
        return -EINVAL;
    }
    if (!(p->learning_rate > 0 && p->learning_rate <= 1) || !(p->val_fraction > 0 && p->val_fraction <= 0.5) ||
        !(p->threshold_quantile >= 0.5 && p->threshold_quantile <= 1) ||
        !(p->threshold_margin >= 1 && p->threshold_margin <= 100) || !(p->min_rel_improvement >= 0 && p->min_rel_improvement < 1) ||
        p->batch_size < 1 || p->batch_size > 65536 || p->max_epochs < 1 || p->max_epochs > MODELS_AE_MAX_EPOCHS ||
        p->patience < 1) {
        models_ae_set_err(err, errlen, "autoencoder: training parameters out of range (learning rate in (0, 1], "
                "validation fraction in (0, 0.5], quantile in [0.5, 1], margin in [1, 100], batch 1…65536, epochs 1…%d, patience ≥ 1)",
                MODELS_AE_MAX_EPOCHS);
        return -EINVAL;
    }
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Scaler from the training part only, so the validation loss stays honest. */
static void fit_scaler(models_ae *m, const float *x, const size_t *idx, size_t n)
{
    for (size_t i = 0; i < m->d; i++) {
        double s = 0, ss = 0;
        for (size_t k = 0; k < n; k++)
            s += x[idx[k] * m->d + i];
        double mu = s / (double)n;
        for (size_t k = 0; k < n; k++) {
            double r = x[idx[k] * m->d + i] - mu;
            ss += r * r;
        }
        double sd = sqrt(ss / (double)(n > 1 ? n - 1 : 1));
        m->mean[i] = (float)mu;
        m->constant[i] = !(sd > 1e-6 * fmax(1.0, fabs(mu))) || !isfinite((float)sd);
        m->sd[i] = m->constant[i] ? 1.0f : (float)sd;
    }
}

static void adam_step(models_ae *m, struct trainer *t, double lr, size_t step, size_t batch)
{
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const float lr_t = (float)(lr * sqrt(1 - pow(b2, (double)step)) / (1 - pow(b1, (double)step)));
    const float inv = 1.0f / (float)batch;
    for (size_t j = 0; j < m->nparams; j++) {
        float g = t->grad[j] * inv;
        t->adam_m[j] = (float)b1 * t->adam_m[j] + (float)(1 - b1) * g;
        t->adam_v[j] = (float)b2 * t->adam_v[j] + (float)(1 - b2) * g * g;
        m->params[j] -= lr_t * t->adam_m[j] / (sqrtf(t->adam_v[j]) + (float)eps);
        t->grad[j] = 0;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int fit_threshold(models_ae *m, const float *x, const size_t *idx, size_t n, double q, double margin)
{
    double *s = malloc(n * sizeof *s);
    if (!s)
        return -ENOMEM;
    for (size_t j = 0; j < n; j++)
        models_ae_score(m, x + idx[j] * m->d, &s[j]);
    qsort(s, n, sizeof *s, cmp_double);
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    double frac = pos - (double)lo;
    double v = lo + 1 < n ? s[lo] + frac * (s[lo + 1] - s[lo]) : s[n - 1];
    free(s);
    m->stats.threshold_quantile = q;
    m->stats.threshold_margin = margin;
    m->stats.val_score_quantile = v;
    /* a perfect reconstruction of the baseline would give 0: keep the threshold positive */
    m->threshold = fmax(margin * v, 1e-12);
    return isfinite(m->threshold) ? 0 : -ERANGE;
}

models_ae *models_ae_train(const float *x, size_t n, size_t d, const char *schema,
                           const char *const *names, const struct models_ae_params *p_in,
                           char *err, size_t errlen)
{
    struct models_ae_params p;
    models_ae *m = NULL;
    struct trainer t;
    size_t *idx = NULL, h, b;
    memset(&t, 0, sizeof t);
    if (p_in) {
        p = *p_in;
        struct models_ae_params def;
        models_ae_params_default(&def);
        if (p.learning_rate == 0) p.learning_rate = def.learning_rate;
        if (p.batch_size == 0) p.batch_size = def.batch_size;
        if (p.max_epochs == 0) p.max_epochs = def.max_epochs;
        if (p.patience == 0) p.patience = def.patience;
        if (p.min_rel_improvement == 0) p.min_rel_improvement = def.min_rel_improvement;
        if (p.val_fraction == 0) p.val_fraction = def.val_fraction;
        if (p.threshold_quantile == 0) p.threshold_quantile = def.threshold_quantile;
        if (p.threshold_margin == 0) p.threshold_margin = def.threshold_margin;
    } else {
        models_ae_params_default(&p);
    }
    if (d < 1 || d > MODELS_AE_MAX_DIM) {
        models_ae_set_err(err, errlen, "autoencoder: feature dimension %zu is outside 1…%d", d, MODELS_AE_MAX_DIM);
        return NULL;
    }
    if (!x || n < MODELS_AE_MIN_VECTORS || n > MODELS_AE_MAX_VECTORS) {
        models_ae_set_err(err, errlen, "autoencoder: %zu training vectors; need %d…%d", x ? n : 0,
                MODELS_AE_MIN_VECTORS, MODELS_AE_MAX_VECTORS);
        return NULL;
    }
    if (check_schema(schema, err, errlen) < 0 || check_params(&p, d, &h, &b, err, errlen) < 0)
        return NULL;
    for (size_t r = 0; r < n; r++)
        for (size_t i = 0; i < d; i++)
            if (!isfinite(x[r * d + i])) {
                models_ae_set_err(err, errlen, "autoencoder: training vector %zu, feature %zu is not a finite number", r, i);
                return NULL;
            }
    double t0 = now_s();
    if (!(m = model_new(d, h, b)) || trainer_init(&t, m) < 0 || !(idx = malloc(n * sizeof *idx))) {
        models_ae_set_err(err, errlen, "autoencoder: out of memory");
        goto fail;
    }
    if (set_names(m, names, err, errlen) < 0)
        goto fail;
    memcpy(m->schema, schema, strlen(schema) + 1);

    uint64_t rng = p.seed;
    for (int l = 0; l < NLAYERS; l++) { /* Xavier/Glorot uniform, zero biases */
        const struct layer *L = &m->layers[l];
        double a = sqrt(6.0 / (double)(L->in + L->out));
        for (size_t j = 0; j < L->in * L->out; j++)
            m->params[L->w_off + j] = (float)((2 * rng_unit(&rng) - 1) * a);
    }
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    shuffle(idx, n, &rng);
    size_t n_val = (size_t)((double)n * p.val_fraction + 0.5);
    if (n_val < 1)
        n_val = 1;
    size_t n_train = n - n_val;
    size_t *val = idx, *train = idx + n_val;
    fit_scaler(m, x, train, n_train);

    double best = INFINITY, best_train = 0;
    size_t wait = 0, step = 0, epoch = 0, best_epoch = 0;
    bool early = false;
    memcpy(t.best, m->params, m->nparams * sizeof *m->params);
    for (epoch = 1; epoch <= p.max_epochs; epoch++) {
        shuffle(train, n_train, &rng);
        double tl = 0;
        for (size_t k = 0; k < n_train;) {
            size_t bs = n_train - k < p.batch_size ? n_train - k : p.batch_size;
            for (size_t j = 0; j < bs; j++, k++) {
                standardise(m, x + train[k] * d);
                tl += forward(m);
                backward(m, &t);
            }
            adam_step(m, &t, p.learning_rate, ++step, bs);
        }
        double vl = mean_loss(m, x, val, n_val);
        if (!isfinite(vl)) {
            models_ae_set_err(err, errlen, "autoencoder: training diverged at epoch %zu (try a smaller learning rate)", epoch);
            goto fail;
        }
        if (vl < best * (1 - p.min_rel_improvement)) {
            best = vl;
            best_train = tl / (double)n_train; /* running mean over the epoch, the usual report */
            best_epoch = epoch;
            wait = 0;
            memcpy(t.best, m->params, m->nparams * sizeof *m->params);
        } else if (++wait >= p.patience) {
            early = epoch < p.max_epochs;
            break;
        }
    }
    memcpy(m->params, t.best, m->nparams * sizeof *m->params);
    m->stats.epochs = epoch > p.max_epochs ? p.max_epochs : epoch;
    m->stats.best_epoch = best_epoch;
    m->stats.stopped_early = early;
    m->stats.n_train = n_train;
    m->stats.n_val = n_val;
    m->stats.train_loss = best_train;
    m->stats.val_loss = best;
    m->stats.seed = p.seed;
    if (fit_threshold(m, x, val, n_val, p.threshold_quantile, p.threshold_margin) < 0) {
        models_ae_set_err(err, errlen, "autoencoder: the validation scores give no finite threshold");
        goto fail;
    }
    m->stats.train_seconds = now_s() - t0;
    trainer_free(&t);
    free(idx);
    return m;
fail:
    trainer_free(&t);
    free(idx);
    models_ae_free(m);
    return NULL;
}

models_ae *models_ae_from_parts(const struct models_ae_parts *pp, char *err, size_t errlen)
{
    if (!pp) {
        models_ae_set_err(err, errlen, "autoencoder: no model parts");
        return NULL;
    }
    if (pp->d < 1 || pp->d > MODELS_AE_MAX_DIM || pp->h < 1 || pp->h > MODELS_AE_MAX_HIDDEN || pp->b < 1 ||
        pp->b > pp->h) {
        models_ae_set_err(err, errlen, "autoencoder: layer sizes %zu-%zu-%zu are invalid (1 ≤ d ≤ %d, 1 ≤ b ≤ h ≤ %d)",
                pp->d, pp->h, pp->b, MODELS_AE_MAX_DIM, MODELS_AE_MAX_HIDDEN);
        return NULL;
    }
    if (check_schema(pp->schema, err, errlen) < 0)
        return NULL;
    size_t want = nparams_for(pp->d, pp->h, pp->b);
    if (!pp->weights || pp->nweights != want) {
        models_ae_set_err(err, errlen, "autoencoder: %zu weights for layers %zu-%zu-%zu-%zu-%zu, which need %zu",
                pp->nweights, pp->d, pp->h, pp->b, pp->h, pp->d, want);
        return NULL;
    }
    if (!pp->mean || !pp->sd) {
        models_ae_set_err(err, errlen, "autoencoder: no scaler");
        return NULL;
    }
    for (size_t i = 0; i < pp->d; i++)
        if (!isfinite(pp->mean[i]) || !isfinite(pp->sd[i]) || !(pp->sd[i] > 0)) {
            models_ae_set_err(err, errlen, "autoencoder: scaler of feature %zu is not finite or its sd is not positive", i);
            return NULL;
        }
    for (size_t j = 0; j < want; j++)
        if (!isfinite(pp->weights[j])) {
            models_ae_set_err(err, errlen, "autoencoder: weight %zu is not a finite float", j);
            return NULL;
        }
    if (!isfinite(pp->threshold) || !(pp->threshold > 0)) {
        models_ae_set_err(err, errlen, "autoencoder: threshold must be a positive finite number");
        return NULL;
    }
    models_ae *m = model_new(pp->d, pp->h, pp->b);
    if (!m) {
        models_ae_set_err(err, errlen, "autoencoder: out of memory");
        return NULL;
    }
    if (m->nparams != want || set_names(m, pp->names, err, errlen) < 0) {
        models_ae_free(m);
        return NULL;
    }
    memcpy(m->schema, pp->schema, strlen(pp->schema) + 1);
    memcpy(m->params, pp->weights, want * sizeof *m->params);
    memcpy(m->mean, pp->mean, pp->d * sizeof *m->mean);
    memcpy(m->sd, pp->sd, pp->d * sizeof *m->sd);
    for (size_t i = 0; i < pp->d; i++)
        m->constant[i] = pp->constant ? pp->constant[i] : false;
    m->threshold = pp->threshold;
    m->stats = pp->stats;
    return m;
}

double models_ae_threshold(const models_ae *m) { return m ? m->threshold : NAN; }
size_t models_ae_dim(const models_ae *m) { return m ? m->d : 0; }
const char *models_ae_schema(const models_ae *m) { return m ? m->schema : NULL; }
const struct models_ae_stats *models_ae_get_stats(const models_ae *m) { return m ? &m->stats : NULL; }

void models_ae_sizes(const models_ae *m, size_t sizes[5])
{
    sizes[0] = sizes[4] = m->d;
    sizes[1] = sizes[3] = m->h;
    sizes[2] = m->b;
}

const char *models_ae_feature_name(const models_ae *m, size_t i)
{
    return m && i < m->d ? m->names[i] : NULL;
}

bool models_ae_feature_constant(const models_ae *m, size_t i)
{
    return m && i < m->d && m->constant[i];
}

const float *models_ae_weights(const models_ae *m, size_t *count)
{
    if (count)
        *count = m ? m->nparams : 0;
    return m ? m->params : NULL;
}

void models_ae_scaler(const models_ae *m, const float **mean, const float **sd)
{
    if (mean)
        *mean = m ? m->mean : NULL;
    if (sd)
        *sd = m ? m->sd : NULL;
}
