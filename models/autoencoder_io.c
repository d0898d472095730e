/* models/autoencoder_io.c — the autoencoder's model file: JSON, format "vibewatch-autoencoder",
 * version 1.
 *
 *   { "format": "vibewatch-autoencoder", "version": 1,
 *     "feature_schema": { "name": "vw-features-1", "features": ["rms_g", …] },
 *     "layers": [d, h, b, h, d],
 *     "activations": ["tanh", "linear", "tanh", "linear"],
 *     "scaler": { "mean": [d], "sd": [d], "constant": [indices of constant features] },
 *     "weights": [ { "w": [out·in, row-major], "b": [out] } × 4 ],
 *     "threshold": { "value": t, "method": "validation-quantile", "quantile": 0.995, "margin": 1.5,
 *                    "validation_quantile": t / margin },
 *     "training": { "seed": "decimal uint64", "epochs": …, "best_epoch": …, "stopped_early": …,
 *                   "n_train": …, "n_val": …, "train_loss": …, "val_loss": … } }
 *
 * Floats are printed "%.9g" (enough for any float to read back bit-identical), doubles by cJSON
 * (which picks 15 or 17 digits so they round-trip), the seed as a string because a JSON number
 * (a double) cannot hold every uint64. The writer is pure (text in memory); only _save and _load
 * touch files. Every field is validated before a model is built; nothing in a file can crash it. */
#include "models/autoencoder.h"
#include "models/autoencoder_internal.h"
#include "models/textfile.h"

#include <cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* "[a,b,…]" of n floats, "%.9g" each; NULL when out of memory. */
static char *float_array_text(const float *v, size_t n)
{
    size_t cap = n * 18 + 3; /* "-1.23456789e-38," is 16 bytes */
    char *s = malloc(cap), *p = s;
    if (!s)
        return NULL;
    *p++ = '[';
    for (size_t i = 0; i < n; i++)
        p += snprintf(p, cap - (size_t)(p - s), i ? ",%.9g" : "%.9g", (double)v[i]);
    *p++ = ']';
    *p = 0;
    return s;
}

static int add_floats(cJSON *obj, const char *key, const float *v, size_t n)
{
    char *t = float_array_text(v, n);
    if (!t)
        return -ENOMEM;
    cJSON *r = cJSON_AddRawToObject(obj, key, t);
    free(t);
    return r ? 0 : -ENOMEM;
}

char *models_ae_to_json(const models_ae *m)
{
    if (!m)
        return NULL;
    static const char *const acts[4] = {"tanh", "linear", "tanh", "linear"};
    size_t sz[5], nw = 0;
    models_ae_sizes(m, sz);
    const float *w = models_ae_weights(m, &nw), *mean, *sd;
    models_ae_scaler(m, &mean, &sd);
    const struct models_ae_stats *st = models_ae_get_stats(m);
    char *out = NULL, seed[24];
    cJSON *root = cJSON_CreateObject(), *o, *a;
    if (!root)
        return NULL;
    cJSON_AddStringToObject(root, "format", MODELS_AE_FORMAT);
    cJSON_AddNumberToObject(root, "version", MODELS_AE_VERSION);
    o = cJSON_AddObjectToObject(root, "feature_schema");
    if (!o)
        goto done;
    cJSON_AddStringToObject(o, "name", models_ae_schema(m));
    if (!(a = cJSON_AddArrayToObject(o, "features")))
        goto done;
    for (size_t i = 0; i < sz[0]; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(models_ae_feature_name(m, i)));
    if (!(a = cJSON_AddArrayToObject(root, "layers")))
        goto done;
    for (int l = 0; l < 5; l++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)sz[l]));
    if (!(a = cJSON_AddArrayToObject(root, "activations")))
        goto done;
    for (int l = 0; l < 4; l++)
        cJSON_AddItemToArray(a, cJSON_CreateString(acts[l]));
    if (!(o = cJSON_AddObjectToObject(root, "scaler")) || add_floats(o, "mean", mean, sz[0]) < 0 ||
        add_floats(o, "sd", sd, sz[0]) < 0 || !(a = cJSON_AddArrayToObject(o, "constant")))
        goto done;
    for (size_t i = 0; i < sz[0]; i++)
        if (models_ae_feature_constant(m, i))
            cJSON_AddItemToArray(a, cJSON_CreateNumber((double)i));
    if (!(a = cJSON_AddArrayToObject(root, "weights")))
        goto done;
    for (int l = 0; l < 4; l++) {
        size_t in = sz[l], outn = sz[l + 1];
        cJSON *lo = cJSON_CreateObject();
        if (!lo || !cJSON_AddItemToArray(a, lo) || add_floats(lo, "w", w, in * outn) < 0 ||
            add_floats(lo, "b", w + in * outn, outn) < 0)
            goto done;
        w += in * outn + outn;
    }
    if (!(o = cJSON_AddObjectToObject(root, "threshold")))
        goto done;
    cJSON_AddNumberToObject(o, "value", models_ae_threshold(m));
    cJSON_AddStringToObject(o, "method", "validation-quantile");
    cJSON_AddNumberToObject(o, "quantile", st->threshold_quantile);
    cJSON_AddNumberToObject(o, "margin", st->threshold_margin);
    cJSON_AddNumberToObject(o, "validation_quantile", st->val_score_quantile);
    if (!(o = cJSON_AddObjectToObject(root, "training")))
        goto done;
    snprintf(seed, sizeof seed, "%" PRIu64, st->seed);
    cJSON_AddStringToObject(o, "seed", seed);
    cJSON_AddNumberToObject(o, "epochs", (double)st->epochs);
    cJSON_AddNumberToObject(o, "best_epoch", (double)st->best_epoch);
    cJSON_AddBoolToObject(o, "stopped_early", st->stopped_early);
    cJSON_AddNumberToObject(o, "n_train", (double)st->n_train);
    cJSON_AddNumberToObject(o, "n_val", (double)st->n_val);
    cJSON_AddNumberToObject(o, "train_loss", st->train_loss);
    cJSON_AddNumberToObject(o, "val_loss", st->val_loss);
    out = cJSON_PrintUnformatted(root);
done:
    cJSON_Delete(root);
    return out;
}

/* ---- reading ---- */

static int get_size(const cJSON *o, const char *key, size_t max, size_t *out, const char *where,
                    char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > (double)max ||
        v->valuedouble != floor(v->valuedouble)) {
        models_ae_set_err(err, errlen, "model file: %s%s must be a whole number in 0…%zu", where, key, max);
        return -EINVAL;
    }
    *out = (size_t)v->valuedouble;
    return 0;
}

static int get_double(const cJSON *o, const char *key, double *out, const char *where, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
        models_ae_set_err(err, errlen, "model file: %s%s must be a finite number", where, key);
        return -EINVAL;
    }
    *out = v->valuedouble;
    return 0;
}

/* Exactly n finite floats from o[key] into out. */
static int get_floats(const cJSON *o, const char *key, size_t n, float *out, const char *where,
                      char *err, size_t errlen)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsArray(a)) {
        models_ae_set_err(err, errlen, "model file: %s%s must be an array of numbers", where, key);
        return -EINVAL;
    }
    size_t k = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, a) {
        if (k >= n) {
            models_ae_set_err(err, errlen, "model file: %s%s has more than the %zu numbers it needs", where, key, n);
            return -EINVAL;
        }
        float f = cJSON_IsNumber(v) ? (float)v->valuedouble : NAN;
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || !isfinite(f)) {
            models_ae_set_err(err, errlen, "model file: %s%s[%zu] is not a finite float", where, key, k);
            return -EINVAL;
        }
        out[k++] = f;
    }
    if (k != n) {
        models_ae_set_err(err, errlen, "model file: %s%s has %zu numbers, needs %zu", where, key, k, n);
        return -EINVAL;
    }
    return 0;
}

static const cJSON *get_object(const cJSON *o, const char *key, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsObject(v))
        models_ae_set_err(err, errlen, "model file: \"%s\" is missing or not an object", key);
    return cJSON_IsObject(v) ? v : NULL;
}

models_ae *models_ae_from_json(const char *text, size_t len, const char *expected_schema,
                               char *err, size_t errlen)
{
    static const char *const acts[4] = {"tanh", "linear", "tanh", "linear"};
    models_ae *m = NULL;
    float *mean = NULL, *sd = NULL, *w = NULL;
    bool constant[MODELS_AE_MAX_DIM] = {false};
    const char *names[MODELS_AE_MAX_DIM];
    struct models_ae_parts pp;
    memset(&pp, 0, sizeof pp);
    if (!text) {
        models_ae_set_err(err, errlen, "model file: no text");
        return NULL;
    }
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root || !cJSON_IsObject(root)) {
        models_ae_set_err(err, errlen, "model file: not a JSON object (truncated or corrupted?)");
        goto done;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsString(v) || strcmp(v->valuestring, MODELS_AE_FORMAT) != 0) {
        models_ae_set_err(err, errlen, "model file: \"format\" is not \"%s\"", MODELS_AE_FORMAT);
        goto done;
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsNumber(v) || v->valuedouble != MODELS_AE_VERSION) {
        if (cJSON_IsNumber(v))
            models_ae_set_err(err, errlen, "model file: version %.17g is not supported (this build reads version %d)",
                    v->valuedouble, MODELS_AE_VERSION);
        else
            models_ae_set_err(err, errlen, "model file: \"version\" is missing or not a number");
        goto done;
    }
    const cJSON *fs = get_object(root, "feature_schema", err, errlen);
    if (!fs)
        goto done;
    v = cJSON_GetObjectItemCaseSensitive(fs, "name");
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= MODELS_AE_SCHEMA_MAX) {
        models_ae_set_err(err, errlen, "model file: feature_schema.name must be a non-empty string of at most %d bytes",
                MODELS_AE_SCHEMA_MAX - 1);
        goto done;
    }
    pp.schema = v->valuestring;
    if (expected_schema && strcmp(pp.schema, expected_schema) != 0) {
        models_ae_set_err(err, errlen, "model was built for feature schema \"%s\", this box computes \"%s\"",
                pp.schema, expected_schema);
        goto done;
    }
    const cJSON *lay = cJSON_GetObjectItemCaseSensitive(root, "layers");
    size_t sz[5];
    if (!cJSON_IsArray(lay) || cJSON_GetArraySize(lay) != 5) {
        models_ae_set_err(err, errlen, "model file: \"layers\" must be an array of 5 sizes [d, h, b, h, d]");
        goto done;
    }
    for (int l = 0; l < 5; l++) {
        v = cJSON_GetArrayItem(lay, l);
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= 1) || v->valuedouble > MODELS_AE_MAX_HIDDEN ||
            v->valuedouble != floor(v->valuedouble)) {
            models_ae_set_err(err, errlen, "model file: layers[%d] must be a whole number in 1…%d", l, MODELS_AE_MAX_HIDDEN);
            goto done;
        }
        sz[l] = (size_t)v->valuedouble;
    }
    if (sz[0] != sz[4] || sz[1] != sz[3] || sz[2] > sz[1] || sz[0] > MODELS_AE_MAX_DIM) {
        models_ae_set_err(err, errlen, "model file: layers [%zu, %zu, %zu, %zu, %zu] are not of the shape [d, h, b, h, d] "
                "with b ≤ h", sz[0], sz[1], sz[2], sz[3], sz[4]);
        goto done;
    }
    pp.d = sz[0];
    pp.h = sz[1];
    pp.b = sz[2];
    const cJSON *ac = cJSON_GetObjectItemCaseSensitive(root, "activations");
    for (int l = 0; l < 4; l++) {
        v = cJSON_GetArrayItem(ac, l);
        if (!cJSON_IsArray(ac) || cJSON_GetArraySize(ac) != 4 || !cJSON_IsString(v) || strcmp(v->valuestring, acts[l])) {
            models_ae_set_err(err, errlen, "model file: \"activations\" must be [\"tanh\", \"linear\", \"tanh\", \"linear\"]");
            goto done;
        }
    }
    const cJSON *feat = cJSON_GetObjectItemCaseSensitive(fs, "features");
    if (!cJSON_IsArray(feat) || (size_t)cJSON_GetArraySize(feat) != pp.d) {
        models_ae_set_err(err, errlen, "model file: feature_schema.features must list %zu names", pp.d);
        goto done;
    }
    for (size_t i = 0; i < pp.d; i++) {
        v = cJSON_GetArrayItem(feat, (int)i);
        if (!cJSON_IsString(v)) {
            models_ae_set_err(err, errlen, "model file: feature_schema.features[%zu] is not a string", i);
            goto done;
        }
        names[i] = v->valuestring;
    }
    pp.names = names;
    size_t nw = 0;
    for (int l = 0; l < 4; l++)
        nw += sz[l] * sz[l + 1] + sz[l + 1];
    mean = malloc(pp.d * sizeof *mean);
    sd = malloc(pp.d * sizeof *sd);
    w = malloc(nw * sizeof *w);
    if (!mean || !sd || !w) {
        models_ae_set_err(err, errlen, "model file: out of memory");
        goto done;
    }
    const cJSON *sc = get_object(root, "scaler", err, errlen);
    if (!sc || get_floats(sc, "mean", pp.d, mean, "scaler.", err, errlen) < 0 ||
        get_floats(sc, "sd", pp.d, sd, "scaler.", err, errlen) < 0)
        goto done;
    const cJSON *cst = cJSON_GetObjectItemCaseSensitive(sc, "constant");
    if (!cJSON_IsArray(cst)) {
        models_ae_set_err(err, errlen, "model file: scaler.constant must be an array of feature indices");
        goto done;
    }
    cJSON_ArrayForEach(v, cst) {
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble >= (double)pp.d ||
            v->valuedouble != floor(v->valuedouble)) {
            models_ae_set_err(err, errlen, "model file: scaler.constant holds something other than an index below %zu", pp.d);
            goto done;
        }
        constant[(size_t)v->valuedouble] = true;
    }
    pp.constant = constant;
    pp.mean = mean;
    pp.sd = sd;
    const cJSON *wa = cJSON_GetObjectItemCaseSensitive(root, "weights");
    if (!cJSON_IsArray(wa) || cJSON_GetArraySize(wa) != 4) {
        models_ae_set_err(err, errlen, "model file: \"weights\" must be an array of 4 layers");
        goto done;
    }
    size_t off = 0;
    for (int l = 0; l < 4; l++) {
        char where[24];
        snprintf(where, sizeof where, "weights[%d].", l);
        const cJSON *lo = cJSON_GetArrayItem(wa, l);
        if (!cJSON_IsObject(lo)) {
            models_ae_set_err(err, errlen, "model file: weights[%d] is not an object", l);
            goto done;
        }
        if (get_floats(lo, "w", sz[l] * sz[l + 1], w + off, where, err, errlen) < 0)
            goto done;
        off += sz[l] * sz[l + 1];
        if (get_floats(lo, "b", sz[l + 1], w + off, where, err, errlen) < 0)
            goto done;
        off += sz[l + 1];
    }
    pp.weights = w;
    pp.nweights = nw;
    const cJSON *th = get_object(root, "threshold", err, errlen);
    if (!th || get_double(th, "value", &pp.threshold, "threshold.", err, errlen) < 0 ||
        get_double(th, "quantile", &pp.stats.threshold_quantile, "threshold.", err, errlen) < 0 ||
        get_double(th, "margin", &pp.stats.threshold_margin, "threshold.", err, errlen) < 0 ||
        get_double(th, "validation_quantile", &pp.stats.val_score_quantile, "threshold.", err, errlen) < 0)
        goto done;
    const cJSON *tr = get_object(root, "training", err, errlen);
    if (!tr || get_size(tr, "epochs", MODELS_AE_MAX_EPOCHS, &pp.stats.epochs, "training.", err, errlen) < 0 ||
        get_size(tr, "best_epoch", MODELS_AE_MAX_EPOCHS, &pp.stats.best_epoch, "training.", err, errlen) < 0 ||
        get_size(tr, "n_train", MODELS_AE_MAX_VECTORS, &pp.stats.n_train, "training.", err, errlen) < 0 ||
        get_size(tr, "n_val", MODELS_AE_MAX_VECTORS, &pp.stats.n_val, "training.", err, errlen) < 0 ||
        get_double(tr, "train_loss", &pp.stats.train_loss, "training.", err, errlen) < 0 ||
        get_double(tr, "val_loss", &pp.stats.val_loss, "training.", err, errlen) < 0)
        goto done;
    v = cJSON_GetObjectItemCaseSensitive(tr, "stopped_early");
    if (!cJSON_IsBool(v)) {
        models_ae_set_err(err, errlen, "model file: training.stopped_early must be true or false");
        goto done;
    }
    pp.stats.stopped_early = cJSON_IsTrue(v);
    v = cJSON_GetObjectItemCaseSensitive(tr, "seed");
    char *end = NULL;
    if (!cJSON_IsString(v) || !v->valuestring[0] || v->valuestring[0] == '-' ||
        (errno = 0, pp.stats.seed = strtoull(v->valuestring, &end, 10), errno != 0 || *end)) {
        models_ae_set_err(err, errlen, "model file: training.seed must be a decimal string of an unsigned 64-bit number");
        goto done;
    }
    m = models_ae_from_parts(&pp, err, errlen);
done:
    cJSON_Delete(root);
    free(mean);
    free(sd);
    free(w);
    return m;
}

int models_ae_save(const models_ae *m, const char *path, char *err, size_t errlen)
{
    if (!m || !path) {
        models_ae_set_err(err, errlen, "autoencoder: nothing to save");
        return -EINVAL;
    }
    char *text = models_ae_to_json(m);
    if (!text) {
        models_ae_set_err(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    char msg[512] = "";
    int rc = models_write_text(path, text, msg, sizeof msg);
    if (rc < 0)
        models_ae_set_err(err, errlen, "%s", msg);
    free(text);
    return rc;
}

models_ae *models_ae_load(const char *path, const char *expected_schema, char *err, size_t errlen)
{
    if (!path) {
        models_ae_set_err(err, errlen, "autoencoder: no model path");
        return NULL;
    }
    char msg[512] = "";
    size_t n = 0;
    char *buf = models_read_text(path, MODELS_AE_FILE_MAX, &n, msg, sizeof msg);
    if (!buf) {
        models_ae_set_err(err, errlen, "%s", msg);
        return NULL;
    }
    models_ae *m = models_ae_from_json(buf, n, expected_schema, msg, sizeof msg);
    free(buf);
    if (!m)
        models_ae_set_err(err, errlen, "%s: %s", path, msg);
    return m;
}
