/* daemon/config.c — the box's configuration: one JSON file (at most 1 MiB) read into the immutable
 * tree of config.h, with every value checked and the first problem answered with its JSON path.
 *
 * Three passes: the syntax (config_syntax.c: line and column of a JSON mistake), cJSON's parse,
 * and the walk over the schema (here for the top level, config_asset.c for assets[]). Keys named
 * "//" or starting with "//" are comments at every level. "models" is read by config_models.c,
 * "outputs" by config_outputs.c, "alerts" by config_alerts.c, "users" and the web section's
 * access control by config_web.c.
 *
 * Threads: none; every function is reentrant (cJSON's global error pointer is not used). A tree is
 * never changed after loading, so any number of threads may read it. */
#include "config_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const top_keys[] = {"box",    "data_dir", "schedule", "retention", "web", "assets",
                                       "models", "outputs",  "alerts",   "users",     NULL};
static const char *const box_keys[] = {"id", "name", NULL};
static const char *const schedule_keys[] = {"snapshot_s", "interval_s", "continuous", NULL};
static const char *const retention_keys[] = {"trend_days",          "aggregate_days",        "spectra_per_channel",
                                             "waveform_interval_h", "waveforms_per_channel", "max_mb",
                                             NULL};
static const char *const web_keys[] = {"listen", "anonymous", "session_hours", "tls", "dashboard_dir", "tokens", "hosts", NULL};

/* The embedded default of `vibewatch run` without -c. The simulated pump's life runs 5760 times
 * faster than its samples (realtime=1 delivers the samples at their true rate): 4 days of its
 * life pass every minute, so the outer race starts to fail after 45 s and fails after 5 min. */
static const char default_json[] =
    "{\n"
    "  \"//\": \"vibewatch's embedded default (vibewatch run without -c): one simulated pump whose outer "
    "race starts to fail on day 3 and fails on day 20, its life sped up so that 4 days pass every minute.\",\n"
    "  \"box\": {\"id\": \"demo\", \"name\": \"vibewatch demo\"},\n"
    "  \"data_dir\": \"./vibewatch-data\",\n"
    "  \"schedule\": {\"snapshot_s\": 1, \"interval_s\": 600, \"continuous\": false},\n"
    "  \"web\": {\"listen\": \"127.0.0.1:8080\"},\n"
    "  \"assets\": [\n"
    "    {\n"
    "      \"id\": \"p101\",\n"
    "      \"name\": \"Cooling water pump 1\",\n"
    "      \"type\": \"pump\",\n"
    "      \"iso\": {\"group\": 2, \"foundation\": \"rigid\"},\n"
    "      \"speed\": {\"rpm\": 2970},\n"
    "      \"bearings\": [{\"id\": \"de\", \"name\": \"Timken 6309\"}],\n"
    "      \"sensors\": [\n"
    "        {\n"
    "          \"id\": \"p101-de\",\n"
    "          \"name\": \"Pump drive end\",\n"
    "          \"source\": \"sim:pump?fault=outer_race&onset_days=3&failure_days=20&speedup=5760"
    "&realtime=1&seed=7&rate=25600\",\n"
    "          \"channels\": [0],\n"
    "          \"axes\": [\"radial\"],\n"
    "          \"units\": \"g\",\n"
    "          \"mounting\": \"drive-end bearing housing, radial horizontal\",\n"
    "          \"bearing\": \"de\"\n"
    "        }\n"
    "      ]\n"
    "    }\n"
    "  ]\n"
    "}\n";

const char *vw_config_default_json(void) { return default_json; }

void vw_config_free(vw_config *c)
{
    if (!c)
        return;
    for (unsigned a = 0; a < c->nassets; a++) {
        vw_cfg_asset *as = &c->assets[a];
        free(as->id);
        free(as->name);
        free(as->type);
        for (unsigned b = 0; b < as->nbearings; b++) {
            free(as->bearings[b].id);
            free(as->bearings[b].name);
        }
        for (unsigned s = 0; s < as->nsensors; s++) {
            vw_cfg_sensor *se = &as->sensors[s];
            free(se->id);
            free(se->name);
            free(se->source);
            free(se->mounting);
            for (unsigned k = 0; k < VW_CFG_MAX_CHANNELS; k++)
                free(se->channel_names[k]);
        }
    }
    free(c->box_id);
    free(c->box_name);
    free(c->data_dir);
    free(c->listen);
    vw_cfg_free_web(c);
    vw_cfg_free_outputs(c);
    vw_cfg_free_alerts(c);
    free(c->models.failure_feature);
    free(c->models.prior);
    free(c->source_text);
    free(c);
}

static int read_box(vw_cfg_ctx *x, const cJSON *root, vw_config *c)
{
    const cJSON *box;
    int rc = vw_cfg_get_object(x, root, "box", true, &box);
    if (rc < 0)
        return rc;
    size_t mark = vw_cfg_path_key(x, "box");
    if ((rc = vw_cfg_check_keys(x, box, box_keys)) < 0 ||
        (rc = vw_cfg_get_text(x, box, "id", true, VW_CFG_ID, &c->box_id)) < 0 ||
        (rc = vw_cfg_get_text(x, box, "name", false, VW_CFG_NAME, &c->box_name)) < 0)
        return rc;
    if (!c->box_name && !(c->box_name = vw_cfg_strdup(c->box_id)))
        return vw_cfg_fail(x, NULL, "out of memory");
    vw_cfg_path_pop(x, mark);
    return 0;
}

static int read_schedule(vw_cfg_ctx *x, const cJSON *root, vw_cfg_schedule *s)
{
    const cJSON *o;
    int rc = vw_cfg_get_object(x, root, "schedule", false, &o);
    if (rc < 0 || !o)
        return rc;
    size_t mark = vw_cfg_path_key(x, "schedule");
    if ((rc = vw_cfg_check_keys(x, o, schedule_keys)) < 0 ||
        (rc = vw_cfg_get_number(x, o, "snapshot_s", false, 0.1, 60, &s->snapshot_s)) < 0 ||
        (rc = vw_cfg_get_number(x, o, "interval_s", false, 1, 86400, &s->interval_s)) < 0 ||
        (rc = vw_cfg_get_bool(x, o, "continuous", &s->continuous)) < 0)
        return rc;
    if (!s->continuous && s->snapshot_s > s->interval_s)
        return vw_cfg_fail(x, "snapshot_s", "a %.10g s snapshot does not fit in interval_s (%.10g s); shorten it, "
                                            "or set \"continuous\": true for back-to-back snapshots",
                           s->snapshot_s, s->interval_s);
    vw_cfg_path_pop(x, mark);
    return 0;
}

static int read_retention(vw_cfg_ctx *x, const cJSON *root, vw_cfg_retention *r)
{
    const cJSON *o;
    int rc = vw_cfg_get_object(x, root, "retention", false, &o);
    if (rc < 0 || !o)
        return rc;
    size_t mark = vw_cfg_path_key(x, "retention");
    double spectra = r->spectra_per_channel, waveforms = r->waveforms_per_channel;
    if ((rc = vw_cfg_check_keys(x, o, retention_keys)) < 0 ||
        (rc = vw_cfg_get_number(x, o, "trend_days", false, 1, 3650, &r->trend_days)) < 0 ||
        (rc = vw_cfg_get_number(x, o, "aggregate_days", false, 1, 36500, &r->aggregate_days)) < 0 ||
        (rc = vw_cfg_get_whole(x, o, "spectra_per_channel", false, 0, 1000000, &spectra)) < 0 ||
        (rc = vw_cfg_get_number(x, o, "waveform_interval_h", false, 0.1, 8760, &r->waveform_interval_h)) < 0 ||
        (rc = vw_cfg_get_whole(x, o, "waveforms_per_channel", false, 0, 100000, &waveforms)) < 0 ||
        (rc = vw_cfg_get_number(x, o, "max_mb", false, 10, 1000000, &r->max_mb)) < 0)
        return rc;
    if (r->aggregate_days < r->trend_days)
        return vw_cfg_fail(x, "aggregate_days", "the aggregates (%.10g days) must be kept at least as long as the "
                                                "full-resolution trend (trend_days, %.10g days)",
                           r->aggregate_days, r->trend_days);
    r->spectra_per_channel = (unsigned)spectra;
    r->waveforms_per_channel = (unsigned)waveforms;
    vw_cfg_path_pop(x, mark);
    return 0;
}

static int read_web(vw_cfg_ctx *x, const cJSON *root, vw_config *c)
{
    const cJSON *o;
    int rc = vw_cfg_get_object(x, root, "web", false, &o);
    if (rc < 0)
        return rc;
    if (o) {
        size_t mark = vw_cfg_path_key(x, "web");
        if ((rc = vw_cfg_check_keys(x, o, web_keys)) < 0 ||
            (rc = vw_cfg_get_text(x, o, "listen", false, VW_CFG_LISTEN, &c->listen)) < 0)
            return rc;
        vw_cfg_path_pop(x, mark);
    }
    return vw_cfg_read_web(x, o, root, c);
}

static int read_root(vw_cfg_ctx *x, const cJSON *root, vw_config *c)
{
    int rc;
    if (!cJSON_IsObject(root))
        return vw_cfg_fail_value(x, NULL, "a JSON object { … }", root);
    if ((rc = vw_cfg_check_keys(x, root, top_keys)) < 0 || (rc = read_box(x, root, c)) < 0 ||
        (rc = vw_cfg_get_text(x, root, "data_dir", false, VW_CFG_PATH, &c->data_dir)) < 0 ||
        (rc = read_schedule(x, root, &c->schedule)) < 0 || (rc = read_retention(x, root, &c->retention)) < 0 ||
        (rc = read_web(x, root, c)) < 0 || (rc = vw_cfg_read_models(x, root, &c->models)) < 0 ||
        (rc = vw_cfg_read_outputs(x, root, c)) < 0)
        return rc;
    if ((rc = vw_cfg_read_assets(x, root, c)) < 0)
        return rc;
    return vw_cfg_read_alerts(x, root, c);
}

static vw_config *config_new(void)
{
    vw_config *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->schedule = (vw_cfg_schedule){.snapshot_s = 1, .interval_s = 600, .continuous = false};
    c->retention = (vw_cfg_retention){.trend_days = 90,
                                      .aggregate_days = 5 * 365,
                                      .spectra_per_channel = 2000,
                                      .waveform_interval_h = 24,
                                      .waveforms_per_channel = 100,
                                      .max_mb = 1024};
    vw_cfg_models_default(&c->models);
    vw_cfg_alerts_default(&c->alerts);
    c->data_dir = vw_cfg_strdup("./vibewatch-data");
    c->listen = vw_cfg_strdup("127.0.0.1:8080");
    if (!c->data_dir || !c->listen) {
        vw_config_free(c);
        return NULL;
    }
    return c;
}

vw_config *vw_config_parse(const char *json, size_t len, char *err, size_t errlen)
{
    char dummy[8];
    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = 0;
    if (!json) {
        snprintf(err, errlen, "no configuration text");
        return NULL;
    }
    if (len > VW_CFG_MAX_FILE_BYTES) {
        snprintf(err, errlen, "the configuration is %zu bytes; at most %u (1 MiB) are read", len,
                 VW_CFG_MAX_FILE_BYTES);
        return NULL;
    }
    if (len >= 3 && memcmp(json, "\xEF\xBB\xBF", 3) == 0) { /* a byte-order mark some editors write */
        json += 3;
        len -= 3;
    }
    size_t bad_utf8;
    if (vw_cfg_check_syntax(json, len, &bad_utf8, err, errlen) < 0)
        return NULL;

    vw_config *c = config_new();
    char *text = malloc(len + 1);
    cJSON *root = NULL;
    if (!c || !text) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    memcpy(text, json, len);
    text[len] = 0;
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
    if (!root) { /* the syntax check passed: only memory can be short here */
        unsigned line, col;
        vw_cfg_line_col(text, len, end ? (size_t)(end - text) : 0, &line, &col);
        snprintf(err, errlen, "line %u, column %u: cJSON could not parse the text (out of memory?)", line, col);
        goto fail;
    }
    vw_cfg_ctx x = {.err = err, .errlen = errlen};
    if (read_root(&x, root, c) < 0)
        goto fail;
    if (bad_utf8 < len) { /* in a comment, a reserved section or a key the walk did not read */
        unsigned line, col;
        vw_cfg_line_col(text, len, bad_utf8, &line, &col);
        snprintf(err, errlen, "line %u, column %u: not valid UTF-8 (byte 0x%02X); the file must be UTF-8 throughout",
                 line, col, (unsigned char)text[bad_utf8]);
        goto fail;
    }
    cJSON_Delete(root);
    c->source_text = text;
    return c;
fail:
    cJSON_Delete(root);
    free(text);
    vw_config_free(c);
    return NULL;
}

vw_config *vw_config_load(const char *path, char *err, size_t errlen)
{
    char dummy[8];
    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof dummy;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory, not a configuration file", path);
        fclose(f);
        return NULL;
    }
    /* read one byte more than allowed, so a bigger file (or an endless device) is noticed */
    char *buf = malloc(VW_CFG_MAX_FILE_BYTES + 1);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        fclose(f);
        return NULL;
    }
    size_t n = fread(buf, 1, VW_CFG_MAX_FILE_BYTES + 1, f);
    int rerr = ferror(f) ? errno : 0;
    fclose(f);
    if (rerr) {
        snprintf(err, errlen, "%s: %s", path, strerror(rerr ? rerr : EIO));
        free(buf);
        return NULL;
    }
    if (n > VW_CFG_MAX_FILE_BYTES) {
        snprintf(err, errlen, "%s: larger than 1 MiB; a configuration is a few kB (is this the right file?)", path);
        free(buf);
        return NULL;
    }
    char msg[512];
    vw_config *c = vw_config_parse(buf, n, msg, sizeof msg);
    free(buf);
    if (!c)
        snprintf(err, errlen, "%s: %s", path, msg);
    return c;
}

vw_config *vw_config_default(char *err, size_t errlen)
{
    return vw_config_parse(default_json, sizeof default_json - 1, err, errlen);
}

const vw_cfg_asset *vw_config_asset(const vw_config *c, const char *id)
{
    if (!c || !id)
        return NULL;
    for (unsigned a = 0; a < c->nassets; a++)
        if (strcmp(c->assets[a].id, id) == 0)
            return &c->assets[a];
    return NULL;
}

const vw_cfg_sensor *vw_config_sensor(const vw_config *c, const char *id, const vw_cfg_asset **asset)
{
    if (!c || !id)
        return NULL;
    for (unsigned a = 0; a < c->nassets; a++)
        for (unsigned s = 0; s < c->assets[a].nsensors; s++)
            if (strcmp(c->assets[a].sensors[s].id, id) == 0) {
                if (asset)
                    *asset = &c->assets[a];
                return &c->assets[a].sensors[s];
            }
    return NULL;
}

void vw_config_summary(const vw_config *c, char *buf, size_t len)
{
    if (!buf || !len)
        return;
    if (!c) {
        snprintf(buf, len, "no configuration");
        return;
    }
    unsigned sensors = 0, channels = 0;
    for (unsigned a = 0; a < c->nassets; a++)
        for (unsigned s = 0; s < c->assets[a].nsensors; s++) {
            sensors++;
            channels += c->assets[a].sensors[s].nchannels;
        }
    char when[64];
    if (c->schedule.continuous)
        snprintf(when, sizeof when, "back-to-back %g s snapshots", c->schedule.snapshot_s);
    else
        snprintf(when, sizeof when, "a %g s snapshot every %g s", c->schedule.snapshot_s, c->schedule.interval_s);
    char web[300];
    if (c->listen && *c->listen)
        snprintf(web, sizeof web, "web on %s", c->listen);
    else
        snprintf(web, sizeof web, "web off");
    snprintf(buf, len, "box %s: %u asset%s, %u sensor%s (%u channel%s), %s, data in %s, %s", c->box_id, c->nassets,
             c->nassets == 1 ? "" : "s", sensors, sensors == 1 ? "" : "s", channels, channels == 1 ? "" : "s", when,
             c->data_dir, web);
}
