/* daemon/cmd_alert.c — the alert commands an engineer uses from a shell:
 *   vibewatch alert-test [-c CONFIG] [--to NAME]   a test notification through each destination (or
 *                                                   one), sent now, with what the server answered
 *   vibewatch ack ASSET --user NAME [--note TEXT]   acknowledge an asset's alerts on the running box
 *   vibewatch alerts [-c CONFIG] [-n N] [--json]    the newest alerts and how each was delivered */
#include "alerting.h"
#include "alerts/outbox.h"
#include "alerts/evidence.h"
#include "cli.h"
#include "config.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_alert_test(int argc, char **argv)
{
    const char *path = NULL, *to = NULL;
    static const struct option lo[] = {{"config", 1, 0, 'c'}, {"to", 1, 0, 't'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "c:", lo, NULL)) != -1) {
        if (opt == 'c')
            path = optarg;
        else if (opt == 't')
            to = optarg;
        else if (opt == 'h') {
            puts("usage: vibewatch alert-test [-c CONFIG] [--to NAME]\n"
                 "  Sends a test notification now through every destination of alerts.destinations (or the one\n"
                 "  named), not through the outbox, and prints what each server answered. Exit 0 when all arrived.");
            return 0;
        } else {
            fprintf(stderr, "vibewatch alert-test: unknown option or missing value: %s\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "vibewatch alert-test: unexpected argument %s\n", argv[optind]);
        return 2;
    }
    vw_config *cfg = cli_load_config("alert-test", path);
    if (!cfg)
        return 2;
    int rc = 0;
    unsigned tried = 0;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (unsigned i = 0; i < cfg->alerts.ndest; i++) {
        const vw_cfg_destination *d = &cfg->alerts.dest[i];
        if (to && strcmp(d->name, to) != 0)
            continue;
        tried++;
        if (vw_alerting_test(cfg, d, stdout) != 0)
            rc = 1;
    }
    curl_global_cleanup();
    if (!tried) {
        if (to)
            fprintf(stderr, "vibewatch alert-test: %s has no destination \"%s\"\n", path ? path : "the embedded default", to);
        else
            fprintf(stderr, "vibewatch alert-test: %s has no alerts.destinations\n", path ? path : "the embedded default");
        rc = 2;
    }
    vw_config_free(cfg);
    return rc;
}

int cmd_ack(int argc, char **argv)
{
    char *asset = NULL, *dir = NULL, err[512];
    const char *user = NULL, *note = "";
    int rc = vw_request_cmd(argc, argv, "ack",
                            "usage: vibewatch ack ASSET --user NAME [--note TEXT] [-c CONFIG] [--data-dir DIR]\n"
                            "  Acknowledges ASSET's alerts on the running box: its reminders stop until its state gets\n"
                            "  worse; the alerts record who acknowledged them and the note. Taken within a second.",
                            &asset, &dir, &user, &note);
    if (rc < 0 && (!user || !*user)) {
        fprintf(stderr, "vibewatch ack: --user NAME is required (who acknowledges)\n");
        rc = 2;
    } else if (rc < 0 && (strlen(user) > 100 || strlen(note) > 1000)) {
        fprintf(stderr, "vibewatch ack: --user is at most 100 bytes and --note at most 1000\n");
        rc = 2;
    } else if (rc < 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "user", user);
        cJSON_AddStringToObject(o, "note", note);
        char *text = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        rc = 0;
        long owner;
        char on[160];
        if (!text || vw_request_put(dir, "ack", asset, text, &owner, err, sizeof err) < 0) {
            fprintf(stderr, "vibewatch ack: %s\n", text ? err : "out of memory");
            rc = 1;
        } else {
            printf("acknowledgement of %s by %s queued in %s/ack/%s for the running box: it takes it within a "
                   "second (a stopped one when it starts)\n",
                   asset, user, dir, vw_request_owner_note(owner, on, sizeof on));
        }
        free(text);
    }
    free(asset);
    free(dir);
    return rc;
}

static void print_alert(void *ctx, const alerts_listed *a)
{
    bool json = *(bool *)ctx;
    char t[40];
    alerts_ev_time(a->t_ns, t, sizeof t);
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)a->id);
        cJSON_AddStringToObject(o, "time", t);
        cJSON_AddNumberToObject(o, "t_s", (double)a->t_ns / 1e9); /* a double holds seconds to the µs, not ns */
        cJSON_AddStringToObject(o, "asset", a->asset);
        cJSON_AddStringToObject(o, "kind", a->kind);
        cJSON_AddStringToObject(o, "level", a->level);
        cJSON_AddStringToObject(o, "previous", a->previous);
        cJSON_AddStringToObject(o, "summary", a->summary);
        if (a->acked_by) {
            cJSON_AddStringToObject(o, "acked_by", a->acked_by);
            cJSON_AddStringToObject(o, "ack_note", a->ack_note ? a->ack_note : "");
        }
        cJSON_AddStringToObject(o, "deliveries", a->deliveries);
        cJSON *ev = a->evidence ? cJSON_Parse(a->evidence) : NULL;
        if (ev)
            cJSON_AddItemToObject(o, "evidence", ev);
        char *s = cJSON_PrintUnformatted(o);
        if (s)
            puts(s);
        free(s);
        cJSON_Delete(o);
        return;
    }
    printf("%s  #%lld  %-8s %s\n", t, (long long)a->id, a->kind, a->summary);
    if (a->acked_by)
        printf("      acknowledged by %s%s%s\n", a->acked_by, a->ack_note && *a->ack_note ? ": " : "",
               a->ack_note ? a->ack_note : "");
    if (*a->deliveries)
        printf("      %s\n", a->deliveries);
}

int cmd_alerts(int argc, char **argv)
{
    const char *path = NULL, *data_dir = NULL;
    double n = 50;
    bool json = false;
    static const struct option lo[] = {{"config", 1, 0, 'c'}, {"data-dir", 1, 0, 'd'}, {"json", 0, 0, 'j'},
                                       {"help", 0, 0, 'h'},   {0, 0, 0, 0}};
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "c:n:", lo, NULL)) != -1) {
        if (opt == 'c')
            path = optarg;
        else if (opt == 'd')
            data_dir = optarg;
        else if (opt == 'j')
            json = true;
        else if (opt == 'n' && cli_parse_double(optarg, &n) == 0 && n >= 1 && n <= 100000)
            continue;
        else if (opt == 'h') {
            puts("usage: vibewatch alerts [-c CONFIG] [--data-dir DIR] [-n N] [--json]\n"
                 "  The newest N alerts (default 50) of the box's history: what was notified, when, to whom, and\n"
                 "  whether it was delivered (sent, pending with its last error, failed, held for a digest).");
            return 0;
        } else {
            fprintf(stderr, "vibewatch alerts: unknown option or bad value: %s\n", argv[optind - 1]);
            return 2;
        }
    }
    char err[768];
    vw_config *cfg = cli_load_config("alerts", path);
    if (!cfg)
        return 2;
    char db[VW_CFG_MAX_PATH + 64];
    snprintf(db, sizeof db, "%s/history.sqlite3", data_dir ? data_dir : cfg->data_dir);
    vw_config_free(cfg);
    bool none = false;
    alerts_outbox *o = alerts_outbox_open_readonly(db, &none, err, sizeof err); /* creates nothing */
    if (!o && none) {
        if (!json)
            printf("no alerts: %s\n", err);
        return 0;
    }
    if (!o) {
        fprintf(stderr, "vibewatch alerts: %s\n", err);
        return 1;
    }
    long got = alerts_outbox_list(o, (long)n, print_alert, &json);
    alerts_outbox_close(o);
    if (got < 0) {
        fprintf(stderr, "vibewatch alerts: cannot read %s\n", db);
        return 1;
    }
    if (!json && got == 0)
        printf("no alerts in %s\n", db);
    return 0;
}
