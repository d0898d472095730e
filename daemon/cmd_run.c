/* daemon/cmd_run.c — `vibewatch run` (the appliance), `vibewatch replay` (the same pipeline over
 * recordings, as fast as possible) and `vibewatch check-config`.
 *
 * Signals: the main thread blocks SIGINT, SIGTERM and SIGHUP before any other thread starts, so
 * every thread inherits the mask, and waits for them with sigtimedwait. SIGINT/SIGTERM: the
 * sensor threads finish the snapshot in hand, the queues drain into the history, and the program
 * exits 0. SIGHUP: the configuration file is read again; an invalid one is refused (logged) and
 * the running one stays, a valid one replaces the pipeline. Under systemd (NOTIFY_SOCKET set):
 * READY=1 when running, STATUS= every 10 s, WATCHDOG=1 at half of WATCHDOG_USEC. */
#include "cli.h"
#include "config.h"
#include "log.h"
#include "pipeline.h"
#include "version.h"
#include "web/http.h"

#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

static char *api_status(void *ctx) { return vw_pipeline_status_json(ctx); }
static char *api_assets(void *ctx) { return vw_pipeline_assets_json(ctx); }

typedef struct running {
    vw_config *cfg;
    vw_pipeline *pipe;
    web_server *web;
} running;

static int start(running *r, vw_config *cfg, const vw_pipeline_opts *o, char *err, size_t errlen)
{
    r->cfg = cfg;
    r->pipe = vw_pipeline_start(cfg, o, err, errlen);
    if (!r->pipe)
        return -1;
    r->web = NULL;
    if (cfg->listen && cfg->listen[0]) {
        web_api api = {.ctx = r->pipe, .status_json = api_status, .assets_json = api_assets};
        char e[256];
        r->web = web_start(cfg->listen, &api, e, sizeof e);
        if (!r->web) {
            snprintf(err, errlen, "web.listen: %s", e);
            vw_pipeline_finish(r->pipe);
            r->pipe = NULL;
            return -1;
        }
        vw_log(VW_LOG_INFO, "web", "API on http://%s/api/v1/status", cfg->listen);
    }
    return 0;
}

static uint64_t stop(running *r)
{
    web_stop(r->web); /* first: no request may read a pipeline being freed */
    r->web = NULL;
    uint64_t n = vw_pipeline_finish(r->pipe);
    r->pipe = NULL;
    vw_config_free(r->cfg);
    r->cfg = NULL;
    return n;
}

static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, set, NULL);
}

int cmd_run(int argc, char **argv)
{
    const char *path = NULL;
    static const struct option lo[] = {{"config", 1, 0, 'c'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "c:", lo, NULL)) != -1) {
        if (opt == 'c')
            path = optarg;
        else if (opt == 'h') {
            puts("usage: vibewatch run [-c CONFIG]\n  Without -c: the embedded default (a simulated pump whose outer "
                 "race starts to fail, weeks in minutes; history under ./vibewatch-data; API on http://127.0.0.1:8080).");
            return 0;
        } else {
            fprintf(stderr, "vibewatch run: unknown option or missing value: %s\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "vibewatch run: unexpected argument %s\n", argv[optind]);
        return 2;
    }
    char err[768];
    vw_config *cfg = path ? vw_config_load(path, err, sizeof err) : vw_config_default(err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "vibewatch run: %s\n", err);
        return 2;
    }
    sigset_t set;
    block_signals(&set);
    running r = {0};
    vw_pipeline_opts o = {0};
    if (start(&r, cfg, &o, err, sizeof err) < 0) {
        vw_log(VW_LOG_ERR, "run", "%s", err);
        vw_config_free(cfg);
        return 1;
    }
    vw_log(VW_LOG_NOTICE, "run", "vibewatch %s running %s (box %s, %u asset%s); history in %s", VW_VERSION_STRING,
           path ? path : "the embedded default", r.cfg->box_id, r.cfg->nassets, r.cfg->nassets == 1 ? "" : "s",
           r.cfg->data_dir);
    sd_notify(0, "READY=1");
    uint64_t wd_usec = 0;
    bool watchdog = sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0;
    struct timespec tick = {0, 0};
    if (watchdog) {
        tick.tv_sec = (time_t)(wd_usec / 2 / 1000000);
        tick.tv_nsec = (long)(wd_usec / 2 % 1000000) * 1000;
    }
    if (!watchdog || tick.tv_sec >= 1) {
        tick.tv_sec = 1;
        tick.tv_nsec = 0;
    }
    int rc = 0, seconds = 0;
    for (;;) {
        int sig = sigtimedwait(&set, NULL, &tick);
        if (watchdog)
            sd_notify(0, "WATCHDOG=1");
        if (sig == SIGINT || sig == SIGTERM) {
            vw_log(VW_LOG_NOTICE, "run", "%s: finishing the snapshots in hand", sig == SIGINT ? "SIGINT" : "SIGTERM");
            sd_notify(0, "STOPPING=1");
            break;
        }
        if (sig == SIGHUP) {
            if (!path) {
                vw_log(VW_LOG_WARNING, "run", "SIGHUP: running the embedded default, there is no file to reload");
                continue;
            }
            vw_config *next = vw_config_load(path, err, sizeof err);
            if (!next) {
                vw_log(VW_LOG_ERR, "config", "SIGHUP: %s; the running configuration stays", err);
                continue;
            }
            sd_notify(0, "RELOADING=1");
            stop(&r);
            if (start(&r, next, &o, err, sizeof err) < 0) {
                vw_log(VW_LOG_ERR, "run", "SIGHUP: the new configuration could not start: %s", err);
                vw_config_free(next);
                rc = 1;
                break;
            }
            vw_log(VW_LOG_NOTICE, "config", "SIGHUP: %s reloaded", path);
            sd_notify(0, "READY=1");
            continue;
        }
        if (++seconds % 10 == 0) {
            char summary[256], status[300];
            vw_pipeline_summary(r.pipe, summary, sizeof summary);
            snprintf(status, sizeof status, "STATUS=%s", summary);
            sd_notify(0, status);
        }
    }
    if (r.pipe) {
        uint64_t n = stop(&r);
        vw_log(VW_LOG_NOTICE, "run", "stopped; %llu snapshot-channels stored", (unsigned long long)n);
    }
    return rc;
}

/* ---- replay ------------------------------------------------------------------------------- */

int cmd_replay(int argc, char **argv)
{
    const char *path = NULL, *data_dir = NULL, *bearing = NULL, *geometry = NULL, *orders = NULL;
    double rpm = 0, shaft_hz = 0, snapshot_s = 1;
    bool json = false;
    enum { O_DATA = 256, O_JSON, O_RPM, O_HZ, O_BEARING, O_GEOM, O_ORDERS, O_SNAP };
    static const struct option lo[] = {
        {"config", 1, 0, 'c'}, {"data-dir", 1, 0, O_DATA}, {"json", 0, 0, O_JSON}, {"rpm", 1, 0, O_RPM},
        {"shaft-hz", 1, 0, O_HZ}, {"bearing", 1, 0, O_BEARING}, {"geometry", 1, 0, O_GEOM},
        {"orders", 1, 0, O_ORDERS}, {"snapshot", 1, 0, O_SNAP}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "c:", lo, NULL)) != -1) {
        switch (opt) {
        case 'c': path = optarg; break;
        case O_DATA: data_dir = optarg; break;
        case O_JSON: json = true; break;
        case O_BEARING: bearing = optarg; break;
        case O_GEOM: geometry = optarg; break;
        case O_ORDERS: orders = optarg; break;
        case O_RPM:
        case O_HZ:
        case O_SNAP: {
            double v;
            if (cli_parse_double(optarg, &v) < 0 || v <= 0) {
                fprintf(stderr, "vibewatch replay: %s %s: not a positive number\n", argv[optind - 2], optarg);
                return 2;
            }
            if (opt == O_RPM) rpm = v;
            else if (opt == O_HZ) shaft_hz = v;
            else snapshot_s = v;
            break;
        }
        case 'h':
            puts("usage: vibewatch replay SOURCE [-c CONFIG] [--data-dir DIR] [--json]\n"
                 "                        [--rpm RPM | --shaft-hz HZ] [--bearing NAME | --geometry N,D,PD,ANGLE |\n"
                 "                         --orders BPFO,BPFI,BSF,FTF] [--snapshot SECONDS]\n"
                 "  Runs the appliance's pipeline over recordings in data time, as fast as possible, writes the\n"
                 "  history, and exits when the source ends. With -c the config's first sensor reads SOURCE.");
            return 0;
        default:
            fprintf(stderr, "vibewatch replay: unknown option or missing value: %s\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "vibewatch replay: give one SOURCE (a recording, a directory of snapshots, a manifest, or a "
                        "source URI)\n");
        return 2;
    }
    if ((rpm > 0) + (shaft_hz > 0) > 1 || (bearing != NULL) + (geometry != NULL) + (orders != NULL) > 1) {
        fprintf(stderr, "vibewatch replay: give the speed once (--rpm or --shaft-hz) and the bearing once\n");
        return 2;
    }
    const char *src_arg = argv[optind];
    char uri[1024];
    if (strchr(src_arg, ':') && (strncmp(src_arg, "file:", 5) == 0 || strncmp(src_arg, "sim:", 4) == 0 ||
                                 strncmp(src_arg, "iio:", 4) == 0 || strncmp(src_arg, "alsa:", 5) == 0))
        snprintf(uri, sizeof uri, "%s", src_arg);
    else
        snprintf(uri, sizeof uri, "file:%s", src_arg);
    char err[768];
    vw_config *cfg = NULL;
    if (path) {
        if (rpm > 0 || shaft_hz > 0 || bearing || geometry || orders) {
            fprintf(stderr, "vibewatch replay: the analysis flags apply only without -c (the config says them)\n");
            return 2;
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
            fprintf(stderr, "vibewatch replay: %s\n", cfg ? "cannot read the config" : err);
            vw_config_free(cfg);
            return 2;
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
            fprintf(stderr, "vibewatch replay: %s: %s\n", path, err);
            return 2;
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
                fprintf(stderr, "vibewatch replay: --%s %s: expected four numbers\n", geometry ? "geometry" : "orders",
                        geometry ? geometry : orders);
                cJSON_Delete(root);
                cJSON_Delete(as);
                cJSON_Delete(sensor);
                cJSON_Delete(b);
                return 2;
            }
            cJSON_AddItemToArray(cJSON_AddArrayToObject(as, "bearings"), b);
            cJSON_AddStringToObject(sensor, "bearing", "b");
        }
        cJSON_AddItemToArray(cJSON_AddArrayToObject(as, "sensors"), sensor);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "assets"), as);
        char *text = cJSON_PrintUnformatted(root);
        cJSON_Delete(root);
        cfg = text ? vw_config_parse(text, strlen(text), err, sizeof err) : NULL;
        free(text);
        if (!cfg) {
            fprintf(stderr, "vibewatch replay: %s\n", err);
            return 2;
        }
    }
    sigset_t set;
    block_signals(&set);
    vw_pipeline_opts o = {.replay = true, .json_out = json ? stdout : NULL};
    vw_pipeline *p = vw_pipeline_start(cfg, &o, err, sizeof err);
    if (!p) {
        fprintf(stderr, "vibewatch replay: %s\n", err);
        vw_config_free(cfg);
        return 1;
    }
    struct timespec tick = {0, 100000000};
    bool interrupted = false;
    while (!vw_pipeline_sources_done(p)) {
        int sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGINT || sig == SIGTERM) {
            interrupted = true;
            vw_pipeline_stop(p);
            break;
        }
    }
    uint64_t n = vw_pipeline_finish(p);
    fprintf(stderr, "vibewatch replay: %llu snapshot-channel%s analysed and stored in %s/history.sqlite3%s\n",
            (unsigned long long)n, n == 1 ? "" : "s", cfg->data_dir, interrupted ? " (interrupted)" : "");
    vw_config_free(cfg);
    return 0;
}

int cmd_check_config(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: vibewatch check-config FILE\n");
        return 2;
    }
    char err[768];
    vw_config *cfg = vw_config_load(argv[1], err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    unsigned sensors = 0;
    for (unsigned a = 0; a < cfg->nassets; a++)
        sensors += cfg->assets[a].nsensors;
    printf("%s: valid: box %s, %u asset%s, %u sensor%s\n", argv[1], cfg->box_id, cfg->nassets,
           cfg->nassets == 1 ? "" : "s", sensors, sensors == 1 ? "" : "s");
    vw_config_free(cfg);
    return 0;
}
