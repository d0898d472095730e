/* daemon/replay_setup.c — see replay_setup.h. */
#include "replay_setup.h"
#include "models/textfile.h"

#include "cli.h"
#include "snapshot_features.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vw_replay_flags_init(vw_replay_flags *f)
{
    memset(f, 0, sizeof *f);
    f->snapshot_s = 1;
    f->seed = -1;
}

int vw_replay_flag(vw_replay_flags *f, int opt, const char *arg, const char *cmd)
{
    double v;
    switch (opt) {
    case 'c': f->config = arg; return 1;
    case VW_RF_DATA: f->data_dir = arg; return 1;
    case VW_RF_BEARING: f->bearing = arg; f->any_analysis = true; return 1;
    case VW_RF_GEOM: f->geometry = arg; f->any_analysis = true; return 1;
    case VW_RF_ORDERS: f->orders = arg; f->any_analysis = true; return 1;
    case VW_RF_PRIOR: f->prior = arg; f->any_models = true; return 1;
    case VW_RF_ALERTS: f->alerts = arg; f->any_models = true; return 1;
    case VW_RF_FAILURE: {
        const char *eq = strchr(arg, '=');
        if (!eq || eq == arg || cli_parse_double(eq + 1, &v) < 0 || v <= 0) {
            fprintf(stderr, "vibewatch %s: --failure %s: expected FEATURE=LIMIT, e.g. accel_peak_g=20\n", cmd, arg);
            return -1;
        }
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(eq - arg < 63 ? eq - arg : 63), arg);
        if (vw_snapshot_feature_index(name) < 0) {
            fprintf(stderr, "vibewatch %s: --failure %s: \"%s\" is not a feature; one of:", cmd, arg, name);
            for (int k = 0; k < NFEAT; k++)
                fprintf(stderr, " %s", vw_snapshot_feature_names[k]);
            fputc('\n', stderr);
            return -1;
        }
        f->failure = arg;
        f->any_models = true;
        return 1;
    }
    case VW_RF_WARN:
    case VW_RF_ALARM:
        if (cli_parse_duration_h(arg, &v) < 0) {
            fprintf(stderr, "vibewatch %s: --%s %s: expected a duration with its unit (14d, 6h, 30m, 45s)\n", cmd,
                    opt == VW_RF_WARN ? "warn-within" : "alarm-within", arg);
            return -1;
        }
        *(opt == VW_RF_WARN ? &f->warn_h : &f->alarm_h) = v;
        f->any_models = true;
        return 1;
    case VW_RF_RPM:
    case VW_RF_HZ:
    case VW_RF_SNAP:
    case VW_RF_BASELINE:
    case VW_RF_SEED:
    case VW_RF_LOAD:
        if (cli_parse_double(arg, &v) < 0 || (opt == VW_RF_SEED ? v < 0 : v <= 0) ||
            ((opt == VW_RF_BASELINE || opt == VW_RF_SEED) && v != (double)(long long)v)) {
            static const char *const names[] = {"rpm", "shaft-hz", "snapshot", "baseline-snapshots", "seed", "load"};
            int k = opt == VW_RF_RPM ? 0 : opt == VW_RF_HZ ? 1 : opt == VW_RF_SNAP ? 2 : opt == VW_RF_BASELINE ? 3
                    : opt == VW_RF_SEED ? 4 : 5;
            fprintf(stderr, "vibewatch %s: --%s %s: not a %s number\n", cmd, names[k], arg,
                    opt == VW_RF_SEED ? "whole non-negative" : opt == VW_RF_BASELINE ? "whole positive" : "positive");
            return -1;
        }
        if (opt == VW_RF_RPM) f->rpm = v, f->any_analysis = true;
        else if (opt == VW_RF_HZ) f->shaft_hz = v, f->any_analysis = true;
        else if (opt == VW_RF_SNAP) f->snapshot_s = v, f->any_analysis = true;
        else if (opt == VW_RF_BASELINE) f->baseline_snapshots = v, f->any_models = true;
        else if (opt == VW_RF_LOAD) f->load_n = v, f->any_analysis = true;
        else f->seed = v, f->any_models = true;
        return 1;
    default:
        return 0;
    }
}

/* The "models" section from the flags. */
static void add_models(cJSON *root, const vw_replay_flags *f)
{
    if (!f->any_models)
        return;
    cJSON *m = cJSON_AddObjectToObject(root, "models");
    if (f->baseline_snapshots > 0)
        cJSON_AddNumberToObject(cJSON_AddObjectToObject(m, "baseline"), "snapshots", f->baseline_snapshots);
    if (f->failure) {
        const char *eq = strchr(f->failure, '=');
        cJSON *fo = cJSON_AddObjectToObject(m, "failure");
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(eq - f->failure), f->failure);
        cJSON_AddStringToObject(fo, "feature", name);
        cJSON_AddNumberToObject(fo, "limit", strtod(eq + 1, NULL));
    }
    char d[48];
    if (f->warn_h > 0) {
        snprintf(d, sizeof d, "%.17gh", f->warn_h);
        cJSON_AddStringToObject(m, "warn_within", d);
    }
    if (f->alarm_h > 0) {
        snprintf(d, sizeof d, "%.17gh", f->alarm_h);
        cJSON_AddStringToObject(m, "alarm_within", d);
    }
    if (f->prior)
        cJSON_AddStringToObject(m, "prior", f->prior);
    if (f->seed >= 0)
        cJSON_AddNumberToObject(m, "seed", f->seed);
}

vw_config *vw_replay_config(const vw_replay_flags *f, const char *src_arg, const char *cmd)
{
    if ((f->rpm > 0) + (f->shaft_hz > 0) > 1 || (f->bearing != NULL) + (f->geometry != NULL) + (f->orders != NULL) > 1) {
        fprintf(stderr, "vibewatch %s: give the speed once (--rpm or --shaft-hz) and the bearing once\n", cmd);
        return NULL;
    }
    const char *path = f->config, *data_dir = f->data_dir, *bearing = f->bearing, *geometry = f->geometry,
               *orders = f->orders;
    double rpm = f->rpm, shaft_hz = f->shaft_hz, snapshot_s = f->snapshot_s;
    char uri[1024];
    if (strchr(src_arg, ':') && (strncmp(src_arg, "file:", 5) == 0 || strncmp(src_arg, "sim:", 4) == 0 ||
                                 strncmp(src_arg, "iio:", 4) == 0 || strncmp(src_arg, "alsa:", 5) == 0))
        snprintf(uri, sizeof uri, "%s", src_arg);
    else
        snprintf(uri, sizeof uri, "file:%s", src_arg);
    char err[768];
    vw_config *cfg = NULL;
    if (path) {
        if (f->any_analysis || f->any_models) {
            fprintf(stderr, "vibewatch %s: the analysis and models flags apply only without -c (the config says them)\n", cmd);
            return NULL;
        }
        /* the config's text, its first sensor's source replaced by SOURCE */
        FILE *fp = fopen(path, "rb");
        char *text = NULL;
        long len = -1;
        if (fp && fseek(fp, 0, SEEK_END) == 0 && (len = ftell(fp)) >= 0 && len <= (1 << 20) && fseek(fp, 0, SEEK_SET) == 0 &&
            (text = malloc((size_t)len + 1)) && fread(text, 1, (size_t)len, fp) == (size_t)len)
            text[len] = 0;
        else {
            free(text);
            text = NULL;
        }
        if (fp)
            fclose(fp);
        if (!text) {
            cfg = vw_config_load(path, err, sizeof err); /* gives the right message */
            fprintf(stderr, "vibewatch %s: %s\n", cmd, cfg ? "cannot read the config" : err);
            vw_config_free(cfg);
            return NULL;
        }
        cJSON *root = cJSON_Parse(text);
        cJSON *assets = root ? cJSON_GetObjectItemCaseSensitive(root, "assets") : NULL;
        cJSON *a0 = cJSON_GetArrayItem(assets, 0);
        cJSON *s0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a0, "sensors"), 0);
        if (s0)
            cJSON_ReplaceItemInObjectCaseSensitive(s0, "source", cJSON_CreateString(uri));
        if (data_dir && root)
            cJSON_ReplaceItemInObjectCaseSensitive(root, "data_dir", cJSON_CreateString(data_dir));
        char *patched = root && s0 ? cJSON_PrintUnformatted(root) : NULL;
        cfg = vw_config_parse(patched ? patched : text, strlen(patched ? patched : text), err, sizeof err);
        free(patched);
        cJSON_Delete(root);
        free(text);
        if (!cfg) {
            fprintf(stderr, "vibewatch %s: %s: %s\n", cmd, path, err);
            return NULL;
        }
    } else {
        /* no config: one asset, one sensor reading SOURCE, the analysis flags as in `analyze` */
        cJSON *root = cJSON_CreateObject();
        cJSON *box = cJSON_AddObjectToObject(root, "box");
        cJSON_AddStringToObject(box, "id", "replay");
        cJSON_AddStringToObject(box, "name", "replay");
        cJSON_AddStringToObject(root, "data_dir", data_dir ? data_dir : "./vibewatch-data");
        cJSON *sch = cJSON_AddObjectToObject(root, "schedule");
        cJSON_AddNumberToObject(sch, "snapshot_s", snapshot_s);
        cJSON_AddBoolToObject(sch, "continuous", 1);
        cJSON *web = cJSON_AddObjectToObject(root, "web");
        cJSON_AddStringToObject(web, "listen", "");
        cJSON *as = cJSON_CreateObject();
        cJSON_AddStringToObject(as, "id", "replay");
        cJSON_AddStringToObject(as, "name", src_arg);
        cJSON_AddStringToObject(as, "type", "other");
        if (f->load_n > 0)
            cJSON_AddNumberToObject(as, "load_n", f->load_n);
        if (rpm > 0 || shaft_hz > 0) {
            cJSON *sp = cJSON_AddObjectToObject(as, "speed");
            cJSON_AddNumberToObject(sp, "rpm", rpm > 0 ? rpm : shaft_hz * 60);
        }
        cJSON *sensor = cJSON_CreateObject();
        cJSON_AddStringToObject(sensor, "id", "replay");
        cJSON_AddStringToObject(sensor, "name", src_arg);
        cJSON_AddStringToObject(sensor, "source", uri);
        cJSON_AddStringToObject(sensor, "channels", "all"); /* every channel of the recording */
        if (bearing || geometry || orders) {
            cJSON *b = cJSON_CreateObject();
            cJSON_AddStringToObject(b, "id", "b");
            double g[4];
            if (bearing)
                cJSON_AddStringToObject(b, "name", bearing);
            else if (cli_parse_doubles(geometry ? geometry : orders, g, 4) == 0) {
                cJSON *x = cJSON_AddObjectToObject(b, geometry ? "geometry" : "orders");
                static const char *const gk[4] = {"n", "ball_d", "pitch_d", "contact_deg"};
                static const char *const ok[4] = {"bpfo", "bpfi", "bsf", "ftf"};
                for (int i = 0; i < 4; i++)
                    cJSON_AddNumberToObject(x, geometry ? gk[i] : ok[i], g[i]);
            } else {
                fprintf(stderr, "vibewatch %s: --%s %s: expected four numbers\n", cmd, geometry ? "geometry" : "orders",
                        geometry ? geometry : orders);
                cJSON_Delete(root);
                cJSON_Delete(as);
                cJSON_Delete(sensor);
                cJSON_Delete(b);
                return NULL;
            }
            cJSON_AddItemToArray(cJSON_AddArrayToObject(as, "bearings"), b);
            cJSON_AddStringToObject(sensor, "bearing", "b");
        }
        cJSON_AddItemToArray(cJSON_AddArrayToObject(as, "sensors"), sensor);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "assets"), as);
        add_models(root, f);
        if (f->alerts) {
            size_t alen = 0;
            err[0] = 0;
            char *atext = models_read_text(f->alerts, 1 << 20, &alen, err, sizeof err);
            cJSON *al = atext ? cJSON_ParseWithLength(atext, alen) : NULL;
            free(atext);
            if (!cJSON_IsObject(al)) {
                fprintf(stderr, "vibewatch %s: --alerts %s: %s\n", cmd, f->alerts,
                        !err[0] ? "not a JSON object (the \"alerts\" section of a config)" : err);
                cJSON_Delete(al);
                cJSON_Delete(root);
                return NULL;
            }
            cJSON_AddItemToObject(root, "alerts", al);
        }
        char *text = cJSON_PrintUnformatted(root);
        cJSON_Delete(root);
        cfg = text ? vw_config_parse(text, strlen(text), err, sizeof err) : NULL;
        free(text);
        if (!cfg) {
            fprintf(stderr, "vibewatch %s: %s\n", cmd, err);
            return NULL;
        }
    }
    return cfg;
}
