/* models/autoencoder.h — a small dense autoencoder learned on the box from a healthy baseline;
 * its reconstruction error is the anomaly score.
 *
 * Shape: standardise (per-feature mean and sd of the training part) → d → h (tanh) → b (linear
 * bottleneck) → h (tanh) → d (linear). Defaults h = max(8, d/2), b = max(2, d/8), both ≤ h ≤ 256.
 * Weights start from Xavier/Glorot uniform draws of a splitmix64 stream seeded by the caller.
 *
 * Training: mean squared reconstruction error in standardised units, mini-batch Adam, a validation
 * part of the baseline (20 % by default, picked by a seeded shuffle) that never feeds the gradient,
 * early stopping on validation loss with patience; the weights of the best epoch are kept.
 * Single-threaded, fixed order, float arithmetic: the same inputs and seed give bit-identical
 * weights and scores (on the same binary and CPU).
 *
 * Threshold: margin × the q-quantile of the validation scores (q = 0.995, margin 1.5 by default;
 * the quantile interpolates linearly between order statistics). Why not a parametric fit (mean +
 * k·sd of log-scores): in-family scores have a heavier right tail than a log-normal, because the
 * vectors at the edge of the healthy cloud are both rare in training and squeezed by the tanh
 * layers, so a 3-sigma log-normal threshold raised ~2.7 % false alarms on held-out healthy data
 * in the unit test where the design promised 0.13 %. The empirical quantile makes no shape
 * assumption; the margin absorbs its sampling noise (with a few hundred validation vectors a
 * 99.5 % quantile is one of the largest few scores) and the slight optimism of validation scores
 * that also chose the stopping epoch. The per-snapshot false-alarm rate on healthy data is then
 * well under 1 − q, and the onset rule (k of the last n snapshots) lowers it further.
 *
 * Constant features (sd ≤ 1e-6·max(1, |mean|) in training) get sd 1 and are flagged: a value that
 * moves off the constant later counts, in raw units, towards the score.
 *
 * Ownership and threads: a model is one object owning its weights and a workspace; scoring
 * writes into that workspace and allocates nothing, so one model must not be scored from two
 * threads at once (use one model per thread, e.g. by loading the file twice). Training and
 * loading allocate; nothing here blocks except file I/O in _save and _load.
 *
 * File format ("vibewatch-autoencoder", version 1): JSON with the feature schema (name and
 * feature names), the scaler, the layer sizes, the weights as arrays of "%.9g" floats (exact round
 * trip), the threshold and training statistics. Loading validates every field and refuses a model
 * for another feature schema, another version, wrong array lengths or non-finite numbers. */
#ifndef VW_MODELS_AUTOENCODER_H
#define VW_MODELS_AUTOENCODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MODELS_AE_MAX_DIM 256            /* input dimension d */
#define MODELS_AE_MAX_HIDDEN 256         /* hidden width h */
#define MODELS_AE_MIN_VECTORS 5          /* at least 4 to train, 1 to validate */
#define MODELS_AE_MAX_VECTORS 2000000    /* bounded training set */
#define MODELS_AE_MAX_EPOCHS 100000
#define MODELS_AE_SCHEMA_MAX 64          /* bytes of the schema name, with the NUL */
#define MODELS_AE_NAME_MAX 64            /* bytes of a feature name, with the NUL */
#define MODELS_AE_FILE_MAX (64u << 20)   /* largest model file read */
#define MODELS_AE_FORMAT "vibewatch-autoencoder"
#define MODELS_AE_VERSION 1

typedef struct models_ae models_ae;

/* Zero (after models_ae_params_default) means "the default" for every size and rate. */
struct models_ae_params {
    size_t hidden;            /* h; 0 → max(8, d/2) */
    size_t bottleneck;        /* b; 0 → max(2, d/8), at most h */
    uint64_t seed;            /* initial weights, validation split, batch order */
    double learning_rate;     /* Adam step; 0 → 1e-3 */
    size_t batch_size;        /* 0 → 32 */
    size_t max_epochs;        /* 0 → 300 */
    size_t patience;          /* epochs without improvement before stopping; 0 → 10 */
    double min_rel_improvement; /* val loss must drop by this fraction to count; 0 → 1e-3 */
    double val_fraction;      /* held-back share of the baseline; 0 → 0.2, in (0, 0.5] */
    double threshold_quantile; /* of the validation scores; 0 → 0.995, in [0.5, 1] */
    double threshold_margin;  /* factor on that quantile; 0 → 1.5, in [1, 100] */
};

struct models_ae_stats {
    size_t epochs;            /* epochs run */
    size_t best_epoch;        /* 1-based epoch whose weights were kept */
    bool stopped_early;       /* patience ran out before max_epochs */
    size_t n_train, n_val;
    double train_loss;        /* MSE of the training part at the best epoch (standardised units) */
    double val_loss;          /* MSE of the validation part at the best epoch */
    double threshold_quantile, threshold_margin; /* as trained */
    double val_score_quantile; /* that quantile of the validation scores (threshold / margin) */
    double train_seconds;     /* wall-clock time of training (not stored in the file) */
    uint64_t seed;
};

void models_ae_params_default(struct models_ae_params *p);

/* Trains on n row-major vectors x[n·d]. schema names the feature vector's version (e.g.
 * "vw-features-1"); names[d] the features (NULL: "f0", "f1", …). p may be NULL for defaults.
 * Returns NULL with a message in err (when err is not NULL) on bad input: d outside 1…256, n below
 * MODELS_AE_MIN_VECTORS or above MODELS_AE_MAX_VECTORS, a non-finite value (its row and column
 * are named), out-of-range parameters, or out of memory. */
models_ae *models_ae_train(const float *x, size_t n, size_t d, const char *schema,
                           const char *const *names, const struct models_ae_params *p,
                           char *err, size_t errlen);
void models_ae_free(models_ae *m);

/* Anomaly score of x[d]: mean squared reconstruction error in standardised units. Allocates
 * nothing (uses the model's workspace). -EINVAL for NULL arguments or a non-finite value in x. */
int models_ae_score(models_ae *m, const float *x, double *score);
/* Reconstruction of x[d] in the input's raw units into y[d]; same rules as models_ae_score. */
int models_ae_reconstruct(models_ae *m, const float *x, float *y);

double models_ae_threshold(const models_ae *m);
size_t models_ae_dim(const models_ae *m);
/* Layer widths {d, h, b, h, d}. */
void models_ae_sizes(const models_ae *m, size_t sizes[5]);
const char *models_ae_schema(const models_ae *m);
const char *models_ae_feature_name(const models_ae *m, size_t i); /* NULL when i ≥ d */
bool models_ae_feature_constant(const models_ae *m, size_t i);
const struct models_ae_stats *models_ae_get_stats(const models_ae *m);
/* All weights and biases, layer by layer (W row-major out×in, then b); *count gets their number. */
const float *models_ae_weights(const models_ae *m, size_t *count);

/* Per-feature mean and sd of the scaler (sd is 1 for constant features). */
void models_ae_scaler(const models_ae *m, const float **mean, const float **sd);

/* Everything a model is made of, for the file reader (and anyone rebuilding a model from stored
 * parts). models_ae_from_parts validates sizes, lengths and finiteness and copies the arrays. */
struct models_ae_parts {
    size_t d, h, b;
    const char *schema;
    const char *const *names;  /* d names */
    const float *mean, *sd;     /* d each; sd > 0 */
    const bool *constant;       /* d flags, or NULL */
    const float *weights;       /* nweights, layout as models_ae_weights */
    size_t nweights;
    double threshold;           /* > 0 */
    struct models_ae_stats stats;
};
models_ae *models_ae_from_parts(const struct models_ae_parts *parts, char *err, size_t errlen);

/* The model file as a NUL-terminated JSON string (malloc'ed, free() it); NULL when out of memory. */
char *models_ae_to_json(const models_ae *m);
/* Parses and validates a model file's text. expected_schema is the feature schema this box
 * computes; NULL skips that check. NULL and a message in err on any problem. */
models_ae *models_ae_from_json(const char *text, size_t len, const char *expected_schema,
                               char *err, size_t errlen);
/* Writes the file atomically (PATH.tmp, then rename). 0 or -errno, with a message in err. */
int models_ae_save(const models_ae *m, const char *path, char *err, size_t errlen);
/* Reads and validates PATH; messages start with the path. */
models_ae *models_ae_load(const char *path, const char *expected_schema, char *err, size_t errlen);

#endif
