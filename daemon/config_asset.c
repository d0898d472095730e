/* daemon/config_asset.c — the assets[] section: each machine with its ISO 10816 class, its speed,
 * its bearings (from the catalogue, from geometry or from orders) and its sensors, and the
 * references between them: asset ids unique in the box, bearing ids unique in their asset, sensor
 * ids and source URIs unique in the box (a source is opened once, by one sensor), a sensor's
 * bearing one of its asset's. Sources are only checked for their scheme here, never opened:
 * `check-config` must work on a laptop without the box's devices.
 *
 * Counts are raised before a record is filled, so vw_config_free() releases whatever a failed
 * walk had allocated. */
#include "config_priv.h"

#include "acquisition/capture.h"
#include "acquisition/source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RPM_MIN 10.0
#define RPM_MAX 60000.0
#define DEFAULT_RPM_MIN 600.0  /* 10–100 Hz: the speed search of `vibewatch analyze` */
#define DEFAULT_RPM_MAX 6000.0

static const char *const asset_keys[] = {"id", "name", "type", "iso", "speed", "installed", "load_n", "bearings", "sensors", NULL};
static const char *const asset_types[] = {"pump", "fan", "motor", "compressor", "gearbox", "other", NULL};
static const char *const iso_keys[] = {"group", "foundation", NULL};
static const char *const foundations[] = {"rigid", "flexible", NULL};
static const char *const speed_keys[] = {"rpm", "estimate", NULL};
static const char *const estimate_keys[] = {"min_rpm", "max_rpm", NULL};
static const char *const bearing_keys[] = {"id", "name", "geometry", "orders", NULL};
static const char *const geometry_keys[] = {"n", "ball_d", "pitch_d", "contact_deg", NULL};
static const char *const orders_keys[] = {"bpfo", "bpfi", "bsf", "ftf", NULL};
static const char *const sensor_keys[] = {"id",    "name",     "source",  "channels", "axes",
                                          "units", "mounting", "bearing", NULL};
static const char *const units[] = {"g", "m/s2", NULL};

/* A number above 0 and at most hi (below hi when `below`): diameters and orders, where 0 means
 * nothing physical. */
static int get_positive(vw_cfg_ctx *x, const cJSON *obj, const char *key, double hi, bool below, double *out)
{
    char desc[64];
    snprintf(desc, sizeof desc, "a number above 0 and %s %.10g", below ? "below" : "at most", hi);
    const cJSON *v = vw_cfg_member(obj, key);
    if (!v)
        return vw_cfg_fail(x, key, "missing (required: %s)", desc);
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) || v->valuedouble > hi || (below && v->valuedouble == hi))
        return vw_cfg_fail_value(x, key, desc, v);
    *out = v->valuedouble;
    return 0;
}

static int read_iso(vw_cfg_ctx *x, const cJSON *a, vw_cfg_asset *as)
{
    const cJSON *iso;
    int rc = vw_cfg_get_object(x, a, "iso", false, &iso);
    if (rc < 0 || !iso)
        return rc;
    size_t mark = vw_cfg_path_key(x, "iso");
    double group = as->iso_group;
    int f = (int)as->foundation;
    if ((rc = vw_cfg_check_keys(x, iso, iso_keys)) < 0 ||
        (rc = vw_cfg_get_whole(x, iso, "group", false, 1, 4, &group)) < 0 ||
        (rc = vw_cfg_get_choice(x, iso, "foundation", false, foundations, &f)) < 0)
        return rc;
    as->iso_group = (int)group;
    as->foundation = f == 1 ? MODELS_FOUNDATION_FLEXIBLE : MODELS_FOUNDATION_RIGID;
    vw_cfg_path_pop(x, mark);
    return 0;
}

static int read_speed(vw_cfg_ctx *x, const cJSON *a, vw_cfg_asset *as)
{
    as->rpm = 0;
    as->rpm_min = DEFAULT_RPM_MIN;
    as->rpm_max = DEFAULT_RPM_MAX;
    const cJSON *sp;
    int rc = vw_cfg_get_object(x, a, "speed", false, &sp);
    if (rc < 0 || !sp)
        return rc;
    size_t mark = vw_cfg_path_key(x, "speed");
    if ((rc = vw_cfg_check_keys(x, sp, speed_keys)) < 0)
        return rc;
    const cJSON *rpm = vw_cfg_member(sp, "rpm"), *est = vw_cfg_member(sp, "estimate");
    if (rpm && est)
        return vw_cfg_fail(x, NULL, "give either \"rpm\" (a fixed speed) or \"estimate\", not both");
    if (!rpm && !est)
        return vw_cfg_fail(x, NULL, "give \"rpm\" (a fixed speed, e.g. {\"rpm\": 2970}) or \"estimate\" "
                                    "({\"min_rpm\": 600, \"max_rpm\": 6000})");
    if (rpm) {
        if ((rc = vw_cfg_get_number(x, sp, "rpm", true, RPM_MIN, RPM_MAX, &as->rpm)) < 0)
            return rc;
        as->rpm_min = as->rpm_max = as->rpm;
    } else {
        if ((rc = vw_cfg_get_object(x, sp, "estimate", true, &est)) < 0)
            return rc;
        vw_cfg_path_key(x, "estimate");
        if ((rc = vw_cfg_check_keys(x, est, estimate_keys)) < 0 ||
            (rc = vw_cfg_get_number(x, est, "min_rpm", false, RPM_MIN, RPM_MAX, &as->rpm_min)) < 0 ||
            (rc = vw_cfg_get_number(x, est, "max_rpm", false, RPM_MIN, RPM_MAX, &as->rpm_max)) < 0)
            return rc;
        if (!(as->rpm_min < as->rpm_max))
            return vw_cfg_fail(x, NULL, "min_rpm (%.10g) must be below max_rpm (%.10g)", as->rpm_min, as->rpm_max);
    }
    vw_cfg_path_pop(x, mark);
    return 0;
}

/* "unknown" and "ambiguous" are different mistakes: the second lists what it could mean. */
static int catalogue_miss(vw_cfg_ctx *x, const char *name)
{
    char q[120], m1[120] = "", m2[120] = "";
    vw_cfg_quote(q, sizeof q, name);
    unsigned hits = 0;
    for (size_t i = 0; i < dsp_bearing_count(); i++) {
        const dsp_bearing *b = dsp_bearing_at(i);
        if (dsp_bearing_find_in(b, 1, name)) {
            if (hits == 0)
                vw_cfg_quote(m1, sizeof m1, b->name);
            else if (hits == 1)
                vw_cfg_quote(m2, sizeof m2, b->name);
            hits++;
        }
    }
    if (hits >= 2)
        return vw_cfg_fail(x, "name", "ambiguous bearing %s: it matches %s, %s%s (vibewatch analyze --list-bearings)",
                           q, m1, m2, hits > 2 ? " and more" : "");
    return vw_cfg_fail(x, "name", "unknown bearing %s (vibewatch analyze --list-bearings)", q);
}

static int read_geometry(vw_cfg_ctx *x, const cJSON *g, vw_cfg_bearing *b)
{
    size_t mark = vw_cfg_path_key(x, "geometry");
    double n = 0, ball_d = 0, pitch_d = 0, contact = 0;
    int rc;
    if ((rc = vw_cfg_check_keys(x, g, geometry_keys)) < 0 ||
        (rc = vw_cfg_get_whole(x, g, "n", true, 3, 100, &n)) < 0 ||
        (rc = get_positive(x, g, "ball_d", 10000, false, &ball_d)) < 0 ||
        (rc = get_positive(x, g, "pitch_d", 10000, false, &pitch_d)) < 0 ||
        (rc = vw_cfg_get_number(x, g, "contact_deg", false, 0, 59.9, &contact)) < 0)
        return rc;
    char why[160];
    if (dsp_bearing_orders_from_geometry((int)n, ball_d, pitch_d, contact, &b->orders, why, sizeof why) < 0)
        return vw_cfg_fail(x, NULL, "%s", why);
    vw_cfg_path_pop(x, mark);
    return 0;
}

static int read_orders(vw_cfg_ctx *x, const cJSON *o, vw_cfg_bearing *b)
{
    size_t mark = vw_cfg_path_key(x, "orders");
    int rc;
    /* the cage turns slower than the shaft when the outer ring stands still: FTF < 1 */
    if ((rc = vw_cfg_check_keys(x, o, orders_keys)) < 0 ||
        (rc = get_positive(x, o, "bpfo", 100, false, &b->orders.bpfo)) < 0 ||
        (rc = get_positive(x, o, "bpfi", 100, false, &b->orders.bpfi)) < 0 ||
        (rc = get_positive(x, o, "bsf", 100, false, &b->orders.bsf)) < 0 ||
        (rc = get_positive(x, o, "ftf", 1, true, &b->orders.ftf)) < 0)
        return rc;
    vw_cfg_path_pop(x, mark);
    return 0;
}

static int read_bearing(vw_cfg_ctx *x, const cJSON *e, vw_cfg_asset *as, unsigned a)
{
    vw_cfg_bearing *b = &as->bearings[as->nbearings++];
    int rc;
    if (!cJSON_IsObject(e))
        return vw_cfg_fail_value(x, NULL, "an object {\"id\": …, \"name\": …}", e);
    if ((rc = vw_cfg_check_keys(x, e, bearing_keys)) < 0 ||
        (rc = vw_cfg_get_text(x, e, "id", true, VW_CFG_ID, &b->id)) < 0)
        return rc;
    for (unsigned k = 0; k + 1 < as->nbearings; k++)
        if (strcmp(as->bearings[k].id, b->id) == 0) {
            char q[120];
            vw_cfg_quote(q, sizeof q, b->id);
            return vw_cfg_fail(x, "id", "duplicate id %s (also assets[%u].bearings[%u].id)", q, a, k);
        }
    const cJSON *name = vw_cfg_member(e, "name"), *geo = vw_cfg_member(e, "geometry"),
                *ord = vw_cfg_member(e, "orders");
    int given = !!name + !!geo + !!ord;
    if (given != 1)
        return vw_cfg_fail(x, NULL, "give %s of \"name\" (a catalogue bearing, e.g. \"6309\"), \"geometry\" "
                                    "({\"n\", \"ball_d\", \"pitch_d\", \"contact_deg\"}) or \"orders\" "
                                    "({\"bpfo\", \"bpfi\", \"bsf\", \"ftf\"})",
                           given ? "only one" : "one");
    if (name) {
        char *typed = NULL;
        if ((rc = vw_cfg_get_text(x, e, "name", true, VW_CFG_NAME, &typed)) < 0)
            return rc;
        const dsp_bearing *cat = dsp_bearing_find(typed);
        if (!cat) {
            rc = catalogue_miss(x, typed);
            free(typed);
            return rc;
        }
        free(typed);
        b->name = vw_cfg_strdup(cat->name);
        b->orders = cat->orders;
    } else {
        if ((rc = vw_cfg_get_object(x, e, geo ? "geometry" : "orders", true, geo ? &geo : &ord)) < 0)
            return rc;
        if ((rc = geo ? read_geometry(x, geo, b) : read_orders(x, ord, b)) < 0)
            return rc;
        b->name = vw_cfg_strdup(geo ? "geometry" : "orders");
    }
    if (!b->name)
        return vw_cfg_fail(x, NULL, "out of memory");
    return 0;
}

/* Where in the file an earlier sensor sits, for "also …" */
static const vw_cfg_sensor *find_sensor(const vw_config *c, const char *id, const char *source, unsigned *ai,
                                        unsigned *si, const vw_cfg_sensor *except)
{
    for (unsigned a = 0; a < c->nassets; a++)
        for (unsigned s = 0; s < c->assets[a].nsensors; s++) {
            const vw_cfg_sensor *o = &c->assets[a].sensors[s];
            if (o == except)
                continue;
            if ((id && o->id && strcmp(o->id, id) == 0) || (source && o->source && strcmp(o->source, source) == 0)) {
                *ai = a;
                *si = s;
                return o;
            }
        }
    return NULL;
}

static int check_source(vw_cfg_ctx *x, const vw_config *c, const vw_cfg_sensor *se)
{
    const char *s = se->source;
    char q[120];
    vw_cfg_quote(q, sizeof q, s);
    if (!acq_is_source_uri(s)) {
        size_t k = 0;
        while ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') || (s[k] >= '0' && s[k] <= '9') ||
               s[k] == '+' || s[k] == '.' || s[k] == '-')
            k++;
        if (k > 0 && k <= 32 && s[k] == ':') {
            char scheme[40];
            snprintf(scheme, sizeof scheme, "%.*s", (int)k, s);
            return vw_cfg_fail(x, "source", "unknown scheme \"%s\" (expected iio:, alsa:, file: or sim:)", scheme);
        }
        return vw_cfg_fail(x, "source", "not a source URI: expected iio:, alsa:, file: or sim: (e.g. \"sim:pump\", "
                                        "\"file:recordings/pump.wav\"), not %s", q);
    }
    if (!strchr(s, ':')[1])
        return vw_cfg_fail(x, "source", "%s names no device, file or machine after the scheme", q);
    unsigned a, i;
    const vw_cfg_sensor *o = find_sensor(c, NULL, s, &a, &i, se);
    if (o) {
        char oq[120];
        vw_cfg_quote(oq, sizeof oq, o->id);
        return vw_cfg_fail(x, "source",
                           "%s is already read by sensor %s (assets[%u].sensors[%u]); a source is opened once: "
                           "give that sensor several channels instead",
                           q, oq, a, i);
    }
    return 0;
}

static int read_channels(vw_cfg_ctx *x, const cJSON *e, vw_cfg_sensor *se)
{
    se->nchannels = 1;
    se->channels[0] = 0;
    const cJSON *all = vw_cfg_member(e, "channels");
    if (cJSON_IsString(all) && strcmp(all->valuestring, "all") == 0) {
        se->nchannels = 0; /* every channel the source has, up to VW_CFG_MAX_CHANNELS */
        return 0;
    }
    if (all && !cJSON_IsArray(all))
        return vw_cfg_fail_value(x, "channels", "an array of channel indexes [ … ] or \"all\"", all);
    const cJSON *arr;
    int rc = vw_cfg_get_array(x, e, "channels", false, VW_CFG_MAX_CHANNELS, "channel indexes", &arr);
    if (rc < 0 || !arr)
        return rc;
    size_t mark = vw_cfg_path_key(x, "channels");
    if (!arr->child)
        return vw_cfg_fail(x, NULL, "must list at least one channel (the source's first is [0])");
    unsigned n = 0;
    char desc[64];
    snprintf(desc, sizeof desc, "a channel index, a whole number from 0 to %d", ACQ_MAX_CHANNELS - 1);
    for (const cJSON *v = arr->child; v; v = v->next, n++) {
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= ACQ_MAX_CHANNELS - 1) ||
            v->valuedouble != (double)(unsigned)v->valuedouble) {
            vw_cfg_path_index(x, n);
            return vw_cfg_fail_value(x, NULL, desc, v);
        }
        se->channels[n] = (unsigned)v->valuedouble;
        for (unsigned k = 0; k < n; k++)
            if (se->channels[k] == se->channels[n]) {
                vw_cfg_path_index(x, n);
                return vw_cfg_fail(x, NULL, "channel %u is listed twice (also channels[%u])", se->channels[n], k);
            }
    }
    se->nchannels = n;
    vw_cfg_path_pop(x, mark);
    return 0;
}

static int read_axes(vw_cfg_ctx *x, const cJSON *e, vw_cfg_sensor *se)
{
    const cJSON *arr;
    int rc = vw_cfg_get_array(x, e, "axes", false, VW_CFG_MAX_CHANNELS, "axis labels", &arr);
    if (rc < 0 || !arr)
        return rc;
    size_t mark = vw_cfg_path_key(x, "axes");
    if (se->nchannels == 0)
        return vw_cfg_fail(x, NULL, "labels need the channels listed: \"channels\": \"all\" does not say how many "
                                    "there are");
    unsigned n = 0;
    for (const cJSON *v = arr->child; v; v = v->next)
        n++;
    if (n != se->nchannels)
        return vw_cfg_fail(x, NULL, "%u label%s for %u channel%s: give one label per entry of \"channels\"", n,
                           n == 1 ? "" : "s", se->nchannels, se->nchannels == 1 ? "" : "s");
    n = 0;
    for (const cJSON *v = arr->child; v; v = v->next, n++) {
        size_t m2 = vw_cfg_path_index(x, n);
        char why[300];
        if (!cJSON_IsString(v))
            return vw_cfg_fail_value(x, NULL, "an axis label in double quotes (\"x\", \"radial\")", v);
        if (vw_cfg_check_text(v->valuestring, VW_CFG_AXIS, why, sizeof why) < 0)
            return vw_cfg_fail(x, NULL, "%s", why);
        for (unsigned k = 0; k < n; k++)
            if (strcmp(se->channel_names[k], v->valuestring) == 0)
                return vw_cfg_fail(x, NULL, "axis \"%s\" is listed twice (also axes[%u])", v->valuestring, k);
        if (!(se->channel_names[n] = vw_cfg_strdup(v->valuestring)))
            return vw_cfg_fail(x, NULL, "out of memory");
        vw_cfg_path_pop(x, m2);
    }
    vw_cfg_path_pop(x, mark);
    return 0;
}

static int read_sensor(vw_cfg_ctx *x, const cJSON *e, vw_config *c, vw_cfg_asset *as, unsigned a)
{
    vw_cfg_sensor *se = &as->sensors[as->nsensors++];
    se->bearing = -1;
    int rc;
    if (!cJSON_IsObject(e))
        return vw_cfg_fail_value(x, NULL, "an object {\"id\": …, \"source\": …}", e);
    if ((rc = vw_cfg_check_keys(x, e, sensor_keys)) < 0 ||
        (rc = vw_cfg_get_text(x, e, "id", true, VW_CFG_ID, &se->id)) < 0)
        return rc;
    unsigned oa, os;
    if (find_sensor(c, se->id, NULL, &oa, &os, se)) {
        char q[120];
        vw_cfg_quote(q, sizeof q, se->id);
        return vw_cfg_fail(x, "id",
                           "duplicate id %s (also assets[%u].sensors[%u].id; sensor ids are unique in the box)", q,
                           oa, os);
    }
    if ((rc = vw_cfg_get_text(x, e, "name", false, VW_CFG_NAME, &se->name)) < 0 ||
        (rc = vw_cfg_get_text(x, e, "source", true, VW_CFG_URI, &se->source)) < 0 ||
        (rc = check_source(x, c, se)) < 0 || (rc = read_channels(x, e, se)) < 0 || (rc = read_axes(x, e, se)) < 0)
        return rc;
    int u = 0;
    if ((rc = vw_cfg_get_choice(x, e, "units", false, units, &u)) < 0 ||
        (rc = vw_cfg_get_text(x, e, "mounting", false, VW_CFG_NAME, &se->mounting)) < 0)
        return rc;
    se->units_ms2 = u == 1;
    if (!se->name && !(se->name = vw_cfg_strdup(se->id)))
        return vw_cfg_fail(x, NULL, "out of memory");
    char *bearing = NULL;
    if ((rc = vw_cfg_get_text(x, e, "bearing", false, VW_CFG_ID, &bearing)) < 0)
        return rc;
    if (bearing) {
        for (unsigned k = 0; k < as->nbearings; k++)
            if (strcmp(as->bearings[k].id, bearing) == 0)
                se->bearing = (int)k;
        if (se->bearing < 0) {
            char q[120];
            vw_cfg_quote(q, sizeof q, bearing);
            free(bearing);
            return vw_cfg_fail(x, "bearing", "no bearing %s in assets[%u].bearings", q, a);
        }
        free(bearing);
    } else if (as->nbearings == 1) {
        se->bearing = 0;
    }
    return 0;
}

static int read_asset(vw_cfg_ctx *x, const cJSON *e, vw_config *c, unsigned a)
{
    vw_cfg_asset *as = &c->assets[c->nassets++];
    as->iso_group = 2;
    as->foundation = MODELS_FOUNDATION_RIGID;
    int rc;
    if (!cJSON_IsObject(e))
        return vw_cfg_fail_value(x, NULL, "an object {\"id\": …, \"type\": …, \"sensors\": […]}", e);
    if ((rc = vw_cfg_check_keys(x, e, asset_keys)) < 0 ||
        (rc = vw_cfg_get_text(x, e, "id", true, VW_CFG_ID, &as->id)) < 0)
        return rc;
    for (unsigned k = 0; k < a; k++)
        if (strcmp(c->assets[k].id, as->id) == 0) {
            char q[120];
            vw_cfg_quote(q, sizeof q, as->id);
            return vw_cfg_fail(x, "id", "duplicate id %s (also assets[%u].id)", q, k);
        }
    int type = 0;
    if ((rc = vw_cfg_get_text(x, e, "name", false, VW_CFG_NAME, &as->name)) < 0 ||
        (rc = vw_cfg_get_choice(x, e, "type", true, asset_types, &type)) < 0 || (rc = read_iso(x, e, as)) < 0 ||
        (rc = read_speed(x, e, as)) < 0 || (rc = vw_cfg_read_installed(x, e, &as->installed_h, &as->load_n)) < 0)
        return rc;
    if (!(as->type = vw_cfg_strdup(asset_types[type])) || (!as->name && !(as->name = vw_cfg_strdup(as->id))))
        return vw_cfg_fail(x, NULL, "out of memory");

    const cJSON *arr;
    if ((rc = vw_cfg_get_array(x, e, "bearings", false, VW_CFG_MAX_BEARINGS, "bearings", &arr)) < 0)
        return rc;
    size_t mark = vw_cfg_path_key(x, "bearings");
    unsigned i = 0;
    for (const cJSON *b = arr ? arr->child : NULL; b; b = b->next, i++) {
        size_t m2 = vw_cfg_path_index(x, i);
        if ((rc = read_bearing(x, b, as, a)) < 0)
            return rc;
        vw_cfg_path_pop(x, m2);
    }
    vw_cfg_path_pop(x, mark);

    if ((rc = vw_cfg_get_array(x, e, "sensors", true, VW_CFG_MAX_SENSORS, "sensors", &arr)) < 0)
        return rc;
    mark = vw_cfg_path_key(x, "sensors");
    if (!arr->child)
        return vw_cfg_fail(x, NULL, "an asset needs at least one sensor");
    i = 0;
    for (const cJSON *s = arr->child; s; s = s->next, i++) {
        size_t m2 = vw_cfg_path_index(x, i);
        if ((rc = read_sensor(x, s, c, as, a)) < 0)
            return rc;
        vw_cfg_path_pop(x, m2);
    }
    vw_cfg_path_pop(x, mark);
    return 0;
}

int vw_cfg_read_assets(vw_cfg_ctx *x, const cJSON *root, vw_config *c)
{
    const cJSON *arr;
    int rc = vw_cfg_get_array(x, root, "assets", true, VW_CFG_MAX_ASSETS, "assets", &arr);
    if (rc < 0)
        return rc;
    size_t mark = vw_cfg_path_key(x, "assets");
    if (!arr->child)
        return vw_cfg_fail(x, NULL, "at least one asset is needed");
    unsigned a = 0;
    for (const cJSON *e = arr->child; e; e = e->next, a++) {
        size_t m2 = vw_cfg_path_index(x, a);
        if ((rc = read_asset(x, e, c, a)) < 0)
            return rc;
        vw_cfg_path_pop(x, m2);
    }
    vw_cfg_path_pop(x, mark);
    return 0;
}
