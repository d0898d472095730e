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
#include "replay_setup.h"
#include "version.h"
#include "web_api.h"

#include <cJSON.h>
#include <stdbool.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>
#include <time.h>

typedef struct running {
    vw_config *cfg;
    vw_pipeline *pipe;
    vw_webapi *web;
    vw_log_limiter requests[2]; /* the warnings about requests not taken: maintenance, ack */
} running;

static int start(running *r, vw_config *cfg, const vw_pipeline_opts *o, char *err, size_t errlen)
{
    r->cfg = cfg;
    r->pipe = vw_pipeline_start(cfg, o, err, errlen);
    if (!r->pipe)
        return -1;
    r->web = NULL;
    if (cfg->listen && cfg->listen[0]) {
        char e[512];
        r->web = vw_webapi_start(cfg, r->pipe, e, sizeof e);
        if (!r->web) {
            snprintf(err, errlen, "web: %s", e);
            vw_pipeline_finish(r->pipe);
            r->pipe = NULL;
            return -1;
        }
        vw_log(VW_LOG_INFO, "web", "dashboard on %s/ (API: %s/api/v1/status)", vw_webapi_url(r->web),
               vw_webapi_url(r->web));
    }
    return 0;
}

static uint64_t stop(running *r)
{
    vw_webapi_stop(r->web); /* first: no request may read a pipeline being freed */
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

/* Requests from other commands to the running box: a file DATA_DIR/KIND/ASSET ("maintenance":
 * `vibewatch maintenance`, empty; "ack": `vibewatch ack`, {"user":…, "note":…}), written whole
 * (renamed into place) and taken (deleted) once the pipeline has it. A request for an asset this
 * config does not have is logged and removed.
 *
 * Ownership: the box runs as its own user (vibewatch) and owns DATA_DIR; a request made by root
 * (`sudo vibewatch maintenance …`) would be a root-owned folder and file the box cannot read or
 * remove. So when root writes into a data dir of another user, the folder and the file are given
 * to that user and group. The writes go through descriptors (mkdirat, openat with O_NOFOLLOW and
 * O_EXCL, fchown, renameat), so that a link planted in the other user's folder cannot make root
 * write or chown anything outside it. Sets *owned_by to the owner given (or leaves it -1). */
int vw_request_put(const char *data_dir, const char *kind, const char *asset, const char *text, long *owned_by,
                   char *err, size_t errlen)
{
    char tmp[VW_CFG_MAX_PATH + 16];
    snprintf(tmp, sizeof tmp, "%s~tmp", asset); /* ids never hold '~': the taker skips it */
    if (owned_by)
        *owned_by = -1;
    int rc = 0, dfd = -1, kfd = -1, fd = -1;
    struct stat ds, ks;
    if ((dfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fstat(dfd, &ds) != 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", data_dir, strerror(errno));
        goto out;
    }
    /* root writing for a box that runs as another user: hand the request to that user */
    bool give = geteuid() == 0 && ds.st_uid != 0;
    if ((mkdirat(dfd, kind, 0750) != 0 && errno != EEXIST) ||
        (kfd = openat(dfd, kind, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 || fstat(kfd, &ks) != 0) {
        rc = -errno;
        snprintf(err, errlen, "%s/%s: %s", data_dir, kind, strerror(errno));
        goto out;
    }
    /* also repairs a folder an earlier root-run request left owned by root */
    if (give && (ks.st_uid != ds.st_uid || ks.st_gid != ds.st_gid) && fchown(kfd, ds.st_uid, ds.st_gid) != 0) {
        rc = -errno;
        snprintf(err, errlen, "%s/%s: cannot give it to uid %ld gid %ld (the data dir's owner): %s", data_dir, kind,
                 (long)ds.st_uid, (long)ds.st_gid, strerror(errno));
        goto out;
    }
    for (int attempt = 0; attempt < 2 && fd < 0; attempt++) {
        fd = openat(kfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
        if (fd < 0 && errno == EEXIST && attempt == 0)
            unlinkat(kfd, tmp, 0); /* left by a request that was interrupted */
        else if (fd < 0)
            break;
    }
    if (fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "%s/%s/%s: %s", data_dir, kind, tmp, strerror(errno));
        goto out;
    }
    if (give && fchown(fd, ds.st_uid, ds.st_gid) != 0) {
        rc = -errno;
        snprintf(err, errlen, "%s/%s/%s: cannot give it to uid %ld gid %ld (the data dir's owner): %s", data_dir, kind,
                 tmp, (long)ds.st_uid, (long)ds.st_gid, strerror(errno));
        goto fail_tmp;
    }
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = w < 0 ? -errno : -EIO;
            snprintf(err, errlen, "%s/%s/%s: %s", data_dir, kind, tmp, strerror(-rc));
            goto fail_tmp;
        }
        off += (size_t)w;
    }
    int c = close(fd);
    fd = -1;
    if (c != 0 || renameat(kfd, tmp, kfd, asset) != 0) {
        rc = errno ? -errno : -EIO;
        snprintf(err, errlen, "%s/%s/%s: %s", data_dir, kind, asset, strerror(-rc));
        goto fail_tmp;
    }
    if (give && owned_by)
        *owned_by = (long)ds.st_uid;
    goto out;
fail_tmp:
    unlinkat(kfd, tmp, 0);
out:
    if (fd >= 0)
        close(fd);
    if (kfd >= 0)
        close(kfd);
    if (dfd >= 0)
        close(dfd);
    return rc;
}

const char *vw_request_owner_note(long uid, char *buf, size_t len)
{
    if (uid < 0)
        return "";
    const struct passwd *pw = getpwuid((uid_t)uid);
    if (pw)
        snprintf(buf, len, " (owned by %s, as the data dir, for the box to take)", pw->pw_name);
    else
        snprintf(buf, len, " (owned by uid %ld, as the data dir, for the box to take)", uid);
    return buf;
}

/* The user this process runs as, for the warnings: "vibewatch" or "uid 998". */
static const char *me(char *buf, size_t len)
{
    const struct passwd *pw = getpwuid(geteuid());
    if (pw)
        snprintf(buf, len, "%s", pw->pw_name);
    else
        snprintf(buf, len, "uid %ld", (long)geteuid());
    return buf;
}

/* Takes the requests of one kind. A request that cannot be read or removed (made by another user,
 * root, in a folder or file this user may not touch) is not taken (taken but not removed, it would
 * be taken again every second) and is said: a warning naming the file, repeated at growing
 * intervals while it stays (lim), and one line when requests are taken again. */
static void take_requests(running *r, const char *kind, vw_log_limiter *lim)
{
    char dir[VW_CFG_MAX_PATH + 32], who[64], taking[64];
    snprintf(dir, sizeof dir, "%s/%s", r->cfg->data_dir, kind);
    snprintf(taking, sizeof taking, "taking the %s requests", kind);
    DIR *d = opendir(dir);
    if (!d) {
        int why = errno;
        if (why != ENOENT)
            vw_log_failure(lim, VW_LOG_WARNING, "run",
                           "%s requests in %s cannot be read (%s): not taken; they were made by another user "
                           "(root?): give the folder to %s (chown -R)",
                           kind, dir, strerror(why), me(who, sizeof who));
        else
            vw_log_recovered(lim, "run", taking);
        return;
    }
    /* removing a request needs write access to its folder: without it, none is taken */
    bool removable = faccessat(dirfd(d), ".", W_OK | X_OK, AT_EACCESS) == 0, trouble = false;
    int why = errno;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || strchr(e->d_name, '~'))
            continue; /* a request still being written */
        char path[sizeof dir + 300];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (!removable) {
            vw_log_failure(lim, VW_LOG_WARNING, "run",
                           "%s request %s cannot be removed (%s: %s): not taken; it was made by another user "
                           "(root?): give %s to %s (chown -R)",
                           kind, path, dir, strerror(why), dir, me(who, sizeof who));
            trouble = true;
            break;
        }
        int rc;
        if (!strcmp(kind, "maintenance")) {
            rc = vw_pipeline_maintenance(r->pipe, e->d_name);
        } else {
            FILE *f = fopen(path, "r");
            if (!f) {
                int why_f = errno;
                vw_log_failure(lim, VW_LOG_WARNING, "run",
                               "%s request %s cannot be read (%s): not taken; it was made by another user "
                               "(root?): give it to %s (chown)",
                               kind, path, strerror(why_f), me(who, sizeof who));
                trouble = true;
                continue;
            }
            char buf[8192];
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
            buf[n] = 0;
            cJSON *o = cJSON_Parse(buf);
            const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "user"), *no = cJSON_GetObjectItemCaseSensitive(o, "note");
            rc = vw_pipeline_ack(r->pipe, e->d_name, cJSON_IsString(u) ? u->valuestring : "unknown",
                                 cJSON_IsString(no) ? no->valuestring : "");
            cJSON_Delete(o);
        }
        if (rc == -EAGAIN)
            continue; /* the alerts are busy: taken at the next second */
        if (rc == -ENOENT)
            vw_log(VW_LOG_WARNING, "run", "%s request %s: no asset of that id in this configuration", kind, path);
        else if (rc == -ENOTSUP)
            vw_log(VW_LOG_WARNING, "run", "%s request %s: this configuration has no alerts to acknowledge", kind, path);
        if (unlink(path) != 0 && errno != ENOENT) {
            int why_u = errno;
            vw_log_failure(lim, VW_LOG_WARNING, "run", "%s request %s was taken but cannot be removed (%s)", kind, path,
                           strerror(why_u));
            trouble = true;
        }
    }
    closedir(d);
    if (!trouble)
        vw_log_recovered(lim, "run", taking);
}

/* The common part of `vibewatch maintenance` and `vibewatch ack`: options, the config, the asset. */
int vw_request_cmd(int argc, char **argv, const char *kind, const char *usage, char **out_asset, char **out_dir,
                   const char **user, const char **note)
{
    const char *path = NULL, *data_dir = NULL;
    static const struct option lo[] = {{"config", 1, 0, 'c'}, {"data-dir", 1, 0, 'd'}, {"user", 1, 0, 'u'},
                                       {"note", 1, 0, 'n'},   {"help", 0, 0, 'h'},     {0, 0, 0, 0}};
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "c:", lo, NULL)) != -1) {
        if (opt == 'c')
            path = optarg;
        else if (opt == 'd')
            data_dir = optarg;
        else if (opt == 'u' && user)
            *user = optarg;
        else if (opt == 'n' && note)
            *note = optarg;
        else if (opt == 'h') {
            puts(usage);
            return 0;
        } else {
            fprintf(stderr, "vibewatch %s: unknown option or missing value: %s\n", kind, argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "vibewatch %s: give one ASSET id\n", kind);
        return 2;
    }
    const char *asset = argv[optind];
    vw_config *cfg = cli_load_config(kind, path);
    if (!cfg)
        return 2;
    int rc = -1;
    if (!vw_config_asset(cfg, asset)) {
        fprintf(stderr, "vibewatch %s: %s has no asset \"%s\"\n", kind, path ? path : "the embedded default", asset);
        rc = 2;
    } else {
        *out_asset = strdup(asset);
        *out_dir = strdup(data_dir ? data_dir : cfg->data_dir);
        if (!*out_asset || !*out_dir)
            rc = 1;
    }
    vw_config_free(cfg);
    return rc;
}

int cmd_maintenance(int argc, char **argv)
{
    char *asset = NULL, *dir = NULL, err[512];
    int rc = vw_request_cmd(argc, argv, "maintenance",
                            "usage: vibewatch maintenance ASSET [-c CONFIG] [--data-dir DIR]\n"
                            "  Tells the running box that maintenance was done on ASSET (a bearing renewed, a machine\n"
                            "  realigned): each of its channels learns a new healthy baseline from its next snapshot,\n"
                            "  and its age counts from then. Taken within a second; kept until the box runs.",
                            &asset, &dir, NULL, NULL);
    if (rc < 0) {
        rc = 0;
        long owner;
        char note[160];
        if (vw_request_put(dir, "maintenance", asset, "", &owner, err, sizeof err) < 0) {
            fprintf(stderr, "vibewatch maintenance: %s\n", err);
            rc = 1;
        } else {
            printf("maintenance on %s queued in %s/maintenance/%s for the running box: it takes it within a second "
                   "(a stopped one when it starts) and learns a new baseline from the asset's next snapshot\n",
                   asset, dir, vw_request_owner_note(owner, note, sizeof note));
        }
    }
    free(asset);
    free(dir);
    return rc;
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
    vw_config *cfg = cli_load_config("run", path);
    if (!cfg)
        return 2;
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
        take_requests(&r, "maintenance", &r.requests[0]);
        take_requests(&r, "ack", &r.requests[1]);
        vw_webapi_tick(r.web); /* live updates: the status, new alerts */
        if (seconds % 5 == 0)
            vw_pipeline_watchdog(r.pipe);
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
    vw_replay_flags f;
    vw_replay_flags_init(&f);
    bool json = false;
    double flush_timeout = 60;
    enum { O_JSON = VW_RF_END, O_FLUSH };
    static const struct option lo[] = {VW_REPLAY_OPTIONS, {"json", 0, 0, O_JSON}, {"flush-timeout", 1, 0, O_FLUSH},
                                       {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "c:", lo, NULL)) != -1) {
        int rc = vw_replay_flag(&f, opt, optarg, "replay");
        if (rc < 0)
            return 2;
        if (rc > 0)
            continue;
        switch (opt) {
        case O_JSON: json = true; break;
        case O_FLUSH:
            if (cli_parse_double(optarg, &flush_timeout) < 0 || flush_timeout < 0 || flush_timeout > 86400) {
                fprintf(stderr, "vibewatch replay: --flush-timeout %s: expected seconds, 0 to 86400\n", optarg);
                return 2;
            }
            break;
        case 'h':
            puts("usage: vibewatch replay SOURCE [-c CONFIG] [--data-dir DIR] [--json] [flags]\n"
                 "  Runs the appliance's pipeline over recordings in data time, as fast as possible, writes the\n"
                 "  history, and exits when the source ends. With -c the config's first sensor reads SOURCE.\n"
                 "  --json prints one line per snapshot and channel, and {\"event\": \"state\", …} at every change.\n"
                 "  --flush-timeout S: at the end, wait up to S seconds (default 60) for the config's outputs and\n"
                 "  alert destinations to send everything; exit 1 if anything is still unsent (it stays in the\n"
                 "  spool or the alerts' outbox).\n"
                 VW_REPLAY_FLAGS_HELP);
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
    char err[768];
    vw_config *cfg = vw_replay_config(&f, argv[optind], "replay");
    if (!cfg)
        return 2;
    sigset_t set;
    block_signals(&set);
    uint64_t unsent = 0, refused = 0;
    long alerts_pending = 0, alerts_failed = 0;
    vw_pipeline_opts o = {.replay = true, .json_out = json ? stdout : NULL, .flush_timeout_s = flush_timeout,
                          .unsent_out = &unsent, .refused_out = &refused, .alerts_pending_out = &alerts_pending,
                          .alerts_failed_out = &alerts_failed};
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
    int rc = 0;
    if (unsent) {
        fprintf(stderr, "vibewatch replay: %llu bytes of line protocol are still unsent after %g s: they stay in "
                        "%s/spool/ and go out with the next run (see the log above for why)\n",
                (unsigned long long)unsent, flush_timeout, cfg->data_dir);
        rc = 1;
    }
    if (alerts_pending > 0) {
        fprintf(stderr, "vibewatch replay: %ld alert message%s still undelivered after %g s: kept in the outbox of "
                        "%s/history.sqlite3, sent by the next run (`vibewatch alerts` shows why)\n",
                alerts_pending, alerts_pending == 1 ? " is" : "s are", flush_timeout, cfg->data_dir);
        rc = 1;
    }
    if (alerts_failed > 0) {
        fprintf(stderr, "vibewatch replay: %ld alert message%s given up or refused for good (`vibewatch alerts` "
                        "shows each one's last error)\n", alerts_failed, alerts_failed == 1 ? " was" : "s were");
        rc = 1;
    }
    if (refused) {
        fprintf(stderr, "vibewatch replay: %llu bytes of line protocol will never reach a store: refused by a server "
                        "for good (kept in %s/spool/NAME/deadletter.lp), or dropped from a full spool (see the log above)\n",
                (unsigned long long)refused, cfg->data_dir);
        rc = 1;
    }
    vw_config_free(cfg);
    return rc;
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
