/* daemon/alerting.h — the alerts sink: the rules of every asset, the outbox and its delivery
 * threads, wired to the pipeline (the alerts/ headers do the work; this file knows the configuration).
 *
 *   the pipeline's history thread → vw_alerting_snapshot (a bounded queue; replay waits, live drops
 *   and counts) → the rules thread: per asset alerts_rules, evidence, one alert row and one outbox
 *   row per destination in one transaction with the rules' state → one delivery thread per
 *   destination: sends the due messages, retries with backoff, gives up after alerts.give_up_h.
 *
 * Data time drives the rules (a replay of 50 days decides as the live box would have); wall time
 * drives delivery (retries, giving up). The rate limit of a destination counts its messages over
 * the last hour of data time; what is over it is held and folded into one digest when the hour
 * allows (and at the end of a replay, at once). */
#ifndef VW_DAEMON_ALERTING_H
#define VW_DAEMON_ALERTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

struct cJSON;
typedef struct models_monitor_output models_monitor_output;
typedef struct vw_alerting vw_alerting;

/* The placeholders of webhook templates (README: Alerts), NULL-terminated. */
extern const char *const vw_alert_var_names[];

/* Starts the rules thread and a delivery thread per destination, on DATA_DIR/history.sqlite3.
 * NULL with a message. A config without alerts.destinations still records alerts (the dashboard
 * shows them). replay: the queue waits instead of dropping. */
vw_alerting *vw_alerting_start(const vw_config *cfg, bool replay, char *err, size_t errlen);

typedef struct vw_alert_snapshot {
    int64_t t_ns;
    int asset, sensor;            /* indexes into cfg->assets[] and its sensors[] */
    unsigned channel;             /* index among the sensor's recorded channels */
    const char *axis;
    const double *features;       /* NFEAT (daemon/snapshot_features.h) */
    const char *state;            /* the monitor's state or "sensor_fault" */
    const char *diagnosis;        /* "" when not assessed */
    const models_monitor_output *monitor; /* NULL without */
} vw_alert_snapshot;
/* Called by the history thread after each snapshot (copies what it needs). */
void vw_alerting_snapshot(vw_alerting *a, const vw_alert_snapshot *s);
/* The watchdog: a sensor's acquisition stopped or runs again (live only). Never blocks: -EAGAIN
 * when the queue is full (call again later). */
int vw_alerting_stopped(vw_alerting *a, int asset, int sensor, bool stopped);
/* An engineer acknowledged the asset's alerts. 0, -ENOENT for an unknown asset, -EAGAIN when the
 * queue is full (ask again later). Never blocks. */
int vw_alerting_ack(vw_alerting *a, const char *asset, const char *user, const char *note);

/* Waits until the rules thread has taken every queued snapshot, folds held messages into digests,
 * and waits up to timeout_s for the delivery threads to empty the outbox. Returns the messages still
 * pending. */
long vw_alerting_flush(vw_alerting *a, double timeout_s);
void vw_alerting_stop(vw_alerting *a); /* NULL is fine */
/* Messages given up or refused for good since start (recorded as failed in the outbox). */
long vw_alerting_failed(vw_alerting *a);

/* Per destination: pending, held, sent, failed; the queue's drops (a JSON object; malloc'd text). */
char *vw_alerting_status_json(vw_alerting *a);

/* `vibewatch alert-test`: sends a test notification through destination d now (not through the
 * outbox) and prints what the server answered to out. 0 when delivered. */
int vw_alerting_test(const vw_config *cfg, const vw_cfg_destination *d, FILE *out);

#endif
