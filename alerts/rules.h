/* alerts/rules.h — the alert rules of one asset: from its channels' snapshots to the few
 * notifications a maintenance engineer should get. Pure: no I/O, no clock (data time is given),
 * allocation only at create and in the JSON state functions.
 *
 * Levels: ok < watch < warning < alarm. Each snapshot of a channel gives a RAW level, the highest of
 *   - the condition monitor's state (watch, warning, alarm; learning and ok are ok),
 *   - a sensor fault (cfg.sensor_fault, default warning),
 *   - the ISO 10816 zone (cfg.iso_zone_c, default watch; cfg.iso_zone_d, default alarm),
 *   - the temperature against cfg.temp_warning_c / temp_alarm_c (off when NAN), entered at the limit
 *     and left only cfg.temp_hysteresis_c below it,
 *   - acquisition stopped (cfg.stopped, default warning), set and cleared by the caller's watchdog.
 * Debouncing per channel: the channel's level rises to L when at least k of its last n raw levels
 * were ≥ L (default 2 of 3), and falls only after clear_n raw levels in a row below it (default 3),
 * to the highest of those. A stopped acquisition counts at once (the watchdog already waited).
 * A broken sensor is never reported as a machine fault: a snapshot in sensor fault is not a
 * measurement of the machine, so its model state, ISO zone and temperature are ignored and it is
 * left out of the machine's debouncing altogether. It raises only the sensor fault's own level (k
 * of the last n snapshots in fault raise it, clear_n clean ones in a row clear it), and the level
 * the machine had before the fault HOLDS while the sensor is in fault: neither escalated by the
 * broken signal nor lowered or "recovered" because the sensor broke (a machine in alarm whose
 * sensor then fails is still in alarm for all anyone knows). Trusted snapshots decide again once the
 * sensor is back. The channel's level is the highest of the machine's, the sensor fault's and stopped.
 * The ASSET's level is the highest of its channels' levels; a notification is about the asset and
 * names every channel at that level (one mail for a pump whose three sensors all see the fault).
 *
 * Notifications (alerts_rules_eval):
 *   raised     the asset's level went above the last notified level: at once when it is above
 *              every level notified within min_interval_h, else when min_interval_h has passed
 *              since the last notification;
 *   lowered /  the level fell (to watch or warning / to ok): once min_interval_h has passed since
 *   recovered  the last notification, and only if it still holds then (a flap inside the interval
 *              sends nothing);
 *   repeat     the level is unchanged, not acknowledged, and repeat_h[level] has passed since the
 *              last notification (defaults: watch never, warning 24 h, alarm 4 h).
 * Acknowledging (alerts_rules_ack) silences repeats until the level gets worse than the level
 * acknowledged; recovery clears the acknowledgement. During a maintenance window (the caller says)
 * nothing is notified; when it ends, a level that differs from the last notified one is notified.
 * So a flapping input gives at most one notification per min_interval_h plus one per level it
 * climbs to. */
#ifndef VW_ALERTS_RULES_H
#define VW_ALERTS_RULES_H

#include <stdbool.h>
#include <stddef.h>

enum alerts_level { ALERTS_OK = 0, ALERTS_WATCH, ALERTS_WARNING, ALERTS_ALARM, ALERTS_NLEVELS };
const char *alerts_level_name(enum alerts_level l);
/* "ok", "watch", "warning", "alarm" (and "off" as ok for the input levels); -1 when unknown. */
int alerts_level_parse(const char *s);

#define ALERTS_MAX_CHANNELS 128   /* per asset */
#define ALERTS_MAX_DEBOUNCE 16    /* n and clear_n at most */

/* What raised a channel's level (bits). */
enum {
    ALERTS_CAUSE_MODEL = 1 << 0,
    ALERTS_CAUSE_SENSOR_FAULT = 1 << 1,
    ALERTS_CAUSE_ISO = 1 << 2,
    ALERTS_CAUSE_TEMP = 1 << 3,
    ALERTS_CAUSE_STOPPED = 1 << 4,
};

typedef struct alerts_rules_cfg {
    unsigned debounce_k, debounce_n;  /* default 2 of 3 */
    unsigned clear_n;                 /* default 3 */
    double min_interval_h;            /* default 1 */
    double repeat_h[ALERTS_NLEVELS];  /* per level; 0: never (defaults 0, 0, 24, 4) */
    enum alerts_level sensor_fault;   /* default warning (ok: ignored) */
    enum alerts_level stopped;        /* default warning */
    enum alerts_level iso_zone_c;     /* default watch */
    enum alerts_level iso_zone_d;     /* default alarm */
    double temp_warning_c, temp_alarm_c; /* NAN: no limit */
    double temp_hysteresis_c;         /* default 5 */
} alerts_rules_cfg;

void alerts_rules_cfg_default(alerts_rules_cfg *c);
/* 0, or -EINVAL with err naming the field ("debounce_k must be 1…debounce_n"). */
int alerts_rules_cfg_check(const alerts_rules_cfg *c, char *err, size_t errlen);

typedef struct alerts_input {
    double t_h;                   /* data time of the snapshot, hours */
    enum alerts_level model;      /* the monitor's state as a level */
    bool sensor_fault;            /* the self-check holds the sensor in fault: model, iso_zone, temp_c ignored */
    int iso_zone;                 /* 1…4 for A…D; 0: unknown */
    double temp_c;                /* NAN: not measured */
} alerts_input;

enum alerts_kind { ALERTS_NONE = 0, ALERTS_RAISED, ALERTS_LOWERED, ALERTS_RECOVERED, ALERTS_REPEAT };
const char *alerts_kind_name(enum alerts_kind k);

typedef struct alerts_decision {
    enum alerts_kind kind;        /* ALERTS_NONE: nothing to send */
    enum alerts_level level;      /* the asset's level now */
    enum alerts_level previous;   /* the level last notified */
    bool changed;                 /* the asset's (debounced) level changed with this call */
    unsigned nchannels;           /* channels at `level` (for raised/repeat) or, for lowered and
                                     recovered, the channels that were at `previous` */
    unsigned channels[ALERTS_MAX_CHANNELS];
    unsigned causes[ALERTS_MAX_CHANNELS]; /* ALERTS_CAUSE_* of each of those channels */
} alerts_decision;

typedef struct alerts_rules alerts_rules;

/* nchannels 1…ALERTS_MAX_CHANNELS; cfg is copied (check it first). NULL on a bad argument or no memory. */
alerts_rules *alerts_rules_create(const alerts_rules_cfg *cfg, unsigned nchannels);
void alerts_rules_free(alerts_rules *r);

/* One snapshot of channel ch. Snapshots at or before the channel's last one are ignored (a replayed
 * recording): returns 1 then, else 0 (-EINVAL for a bad channel). Call alerts_rules_eval after. */
int alerts_rules_update(alerts_rules *r, unsigned ch, const alerts_input *in);
/* The watchdog: channel ch's acquisition stopped (true) or runs again (false). A snapshot of the
 * channel (alerts_rules_update) also clears it. */
int alerts_rules_stopped(alerts_rules *r, unsigned ch, bool stopped);
/* Decides what to notify at data time t_h (after updates, and periodically: a held change or a
 * repeat falls due with time alone). in_maintenance: a maintenance window holds notifications.
 * When d->kind is not ALERTS_NONE, the notification counts as sent (the caller queues it). */
void alerts_rules_eval(alerts_rules *r, double t_h, bool in_maintenance, alerts_decision *d);
/* The notification the last alerts_rules_eval decided could not be queued (the database refused
 * it): forget it, so that the next eval decides it again. 0, or -ENOENT when there is none. */
int alerts_rules_undo(alerts_rules *r);
/* An engineer acknowledged the asset's current state: repeats stop until the level gets worse.
 * Returns the level acknowledged (ALERTS_OK: nothing to acknowledge). */
enum alerts_level alerts_rules_ack(alerts_rules *r);

enum alerts_level alerts_rules_level(const alerts_rules *r);           /* the asset's level */
enum alerts_level alerts_rules_channel_level(const alerts_rules *r, unsigned ch);
enum alerts_level alerts_rules_notified(const alerts_rules *r);        /* the level last notified */
bool alerts_rules_acked(const alerts_rules *r);

/* The whole state as JSON text (malloc'd), so a restart goes on where it was: restored with the
 * same number of channels (else -EINVAL; the caller starts afresh). */
char *alerts_rules_to_json(const alerts_rules *r);
int alerts_rules_restore(alerts_rules *r, const char *json, char *err, size_t errlen);

#endif
