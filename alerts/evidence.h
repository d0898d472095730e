/* alerts/evidence.h — what an alert says: the subject, the plain-text and HTML bodies of its
 * e-mail, the ≤ 160-character SMS text, the one-line summary kept with the alert, and the evidence
 * as JSON (for the alert record, the API and webhook templates). Pure: no I/O; output into caller
 * buffers (-ENOSPC when one is short; ALERTS_EV_TEXT_MAX / ALERTS_EV_HTML_MAX always suffice).
 *
 * The evidence per channel: the sensor and axis, its state and why, the RUL (median and 10–90 %
 * interval, its basis) with P(failure within 7 d / 14 d), the anomaly score against its threshold,
 * the health indicator against its limit, the features that crossed (now against the baseline),
 * the bearing defect family found and its frequency, the ISO 10816 zone with the velocity RMS, the
 * temperature, and the trend of the last days (one row a day). Numbers not known are left out, never
 * shown as 0. Text is UTF-8 throughout; the HTML escapes every value. */
#ifndef VW_ALERTS_EVIDENCE_H
#define VW_ALERTS_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "rules.h"

#define ALERTS_EV_MAX_CROSSED 8
#define ALERTS_EV_MAX_DAYS 7
#define ALERTS_EV_MAX_SHOWN 16   /* channels the text and HTML show; "... and N more" beyond (the JSON has all) */
#define ALERTS_EV_TEXT_MAX 65536
#define ALERTS_EV_HTML_MAX 196608
#define ALERTS_SMS_CHARS 160

typedef struct alerts_crossed {
    const char *name;          /* feature name ("velocity_rms_mm_s") */
    double now, ref;           /* its value now and in the baseline */
} alerts_crossed;

typedef struct alerts_day {
    int64_t t_ns;              /* the day (its first snapshot's data time) */
    double velocity_rms_mm_s, health, hi; /* the day's highest; NAN: none */
} alerts_day;

typedef struct alerts_channel_ev {
    const char *sensor_id, *sensor_name, *axis, *mounting; /* name and mounting may be NULL */
    enum alerts_level level;
    unsigned causes;           /* ALERTS_CAUSE_* */
    const char *state;         /* the monitor's state ("warning", "sensor_fault", …) */
    int64_t values_t_ns;       /* with state "sensor_fault": the machine's numbers below are from the last
                                  trusted snapshot, taken at this data time (0: none; none are given) */
    const char *model_cause;   /* the monitor's cause ("trend", "anomaly", "iso_zone_d", …) or NULL */
    const char *rul_basis;     /* "trend", "prior", "null" or NULL */
    double rul_h, rul_lo_h, rul_hi_h, p_fail_7d, p_fail_14d;
    double anomaly, threshold, hi, hi_limit;
    const char *diagnosis;     /* "outer_race", … ("none" or "" or NULL: none) */
    const char *defect;        /* its family: "BPFO", … */
    double defect_hz, defect_db;
    int iso_zone;              /* 1…4 (A…D); 0: unknown */
    double velocity_rms_mm_s, temp_c;
    unsigned ncrossed;
    alerts_crossed crossed[ALERTS_EV_MAX_CROSSED];
    unsigned ndays;
    alerts_day days[ALERTS_EV_MAX_DAYS]; /* oldest first */
} alerts_channel_ev;

typedef struct alerts_evidence {
    const char *box_id, *box_name;
    const char *asset_id, *asset_name;
    enum alerts_kind kind;     /* raised, lowered, recovered, repeat */
    enum alerts_level level, previous;
    int64_t t_ns;              /* data time */
    const char *link;          /* the asset's dashboard page, or NULL */
    unsigned nch;
    const alerts_channel_ev *ch;
} alerts_evidence;

/* The subject: "[vibewatch] ALARM Pump 3 (pump-3): outer race, RUL 5.2 d (3.1–8.0 d)". */
long alerts_ev_subject(const alerts_evidence *e, char *out, size_t outlen);
/* The one-line summary kept with the alert (the subject without the prefix). */
long alerts_ev_summary(const alerts_evidence *e, char *out, size_t outlen);
long alerts_ev_text(const alerts_evidence *e, char *out, size_t outlen);
long alerts_ev_html(const alerts_evidence *e, char *out, size_t outlen);
/* At most ALERTS_SMS_CHARS characters: level, asset, the finding, RUL, P(7 d). */
long alerts_ev_sms(const alerts_evidence *e, char *out, size_t outlen);
/* The evidence as a JSON object text (malloc'd; NULL without memory). */
char *alerts_ev_json(const alerts_evidence *e);

/* A digest: several alerts folded into one message for a destination over its rate limit. */
typedef struct alerts_digest_item {
    int64_t t_ns;
    const char *asset, *level, *kind, *summary;
} alerts_digest_item;
long alerts_ev_digest_subject(const char *box_name, size_t n, char *out, size_t outlen);
long alerts_ev_digest_text(const char *box_name, const alerts_digest_item *it, size_t n, const char *link, char *out,
                           size_t outlen);
long alerts_ev_digest_html(const char *box_name, const alerts_digest_item *it, size_t n, const char *link, char *out,
                           size_t outlen);

/* "2026-11-29 01:31 UTC" for a data time. */
void alerts_ev_time(int64_t t_ns, char *out, size_t outlen);

#endif
