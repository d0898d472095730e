/* daemon/config.h — the box's configuration: one JSON file, loaded into this immutable tree.
 *
 * Loading validates everything and answers the first problem with its JSON path and what is wrong
 * ("assets[0].sensors[1].source: unknown scheme \"ioo\""): unknown keys, wrong types, out-of-range
 * values, duplicate ids, references to missing ids, bad UTF-8. A loaded config is never changed;
 * SIGHUP loads a new one beside it and swaps only when it is valid. Strings are owned by the tree
 * and freed with it. Names are any UTF-8 text.
 *
 * Sections the later issues fill (models, outputs, alerts, users) are reserved: each must be a
 * JSON object when present; their keys are validated by the issue that adds them. Keys named "//"
 * or starting with "//" are comments, ignored at every level. JSON syntax errors name their line
 * and column. The reference of every key is deploy/CONFIG.md (the README's Configuration section);
 * the implementation is config.c (top level), config_asset.c, config_read.c and config_syntax.c.
 */
#ifndef VW_DAEMON_CONFIG_H
#define VW_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "alerts/rules.h"
#include "alerts/send.h"
#include "dsp/bearing.h"
#include "models/iso10816.h"
#include "web/auth.h"

#define VW_CFG_MAX_ASSETS 64
#define VW_CFG_MAX_SENSORS 16     /* per asset */
#define VW_CFG_MAX_BEARINGS 8     /* per asset */
#define VW_CFG_MAX_CHANNELS 8     /* per sensor */
#define VW_CFG_MAX_ID 64          /* bytes of an id: [A-Za-z0-9_.-], not "." or ".." */
#define VW_CFG_MAX_AXIS 31        /* bytes of an axis label (same characters as an id) */
#define VW_CFG_MAX_TEXT 256       /* bytes of a name or a mounting text (UTF-8, no control characters) */
#define VW_CFG_MAX_URI 255        /* bytes of a source URI */
#define VW_CFG_MAX_PATH 1024      /* bytes of data_dir */
#define VW_CFG_MAX_FILE_BYTES (1u << 20) /* a configuration file is refused above 1 MiB */
#define VW_CFG_MAX_OUTPUTS 8      /* outputs.influx[] */
#define VW_CFG_MAX_DESTINATIONS 8 /* alerts.destinations[] */
#define VW_CFG_MAX_RECIPIENTS 16  /* an e-mail destination's "to" */
#define VW_CFG_MAX_HEADERS 16     /* a webhook's extra headers */
#define VW_CFG_MAX_WINDOWS 64     /* alerts.maintenance_windows[] */
#define VW_CFG_MAX_USERS 64       /* users{} */
#define VW_CFG_MAX_TOKENS 32      /* web.tokens{} */
#define VW_CFG_MAX_HOSTS 16       /* web.hosts[] */
#define VW_CFG_MAX_TEMPLATE 8192  /* bytes of a webhook body template */

typedef struct vw_cfg_bearing {
    char *id;                     /* unique within the asset */
    char *name;                   /* the catalogue name, or "geometry"/"orders" */
    dsp_bearing_orders orders;    /* resolved at load */
} vw_cfg_bearing;

typedef struct vw_cfg_sensor {
    char *id;                     /* unique within the box (ids are [A-Za-z0-9_.-]{1,64}) */
    char *name;                   /* any UTF-8 */
    char *source;                 /* source URI (iio:, alsa:, file:, sim:), checked for its scheme */
    unsigned nchannels;           /* how many of the source's channels this sensor records; 0 for
                                     "channels": "all" (every channel the source has, up to 8) */
    unsigned channels[VW_CFG_MAX_CHANNELS]; /* source channel indexes (0-based); default: [0] */
    char *channel_names[VW_CFG_MAX_CHANNELS]; /* the axis each one is ("x", "radial"…), from "axes";
                                                 all NULL when "axes" is absent */
    bool units_ms2;               /* the source delivers m/s² instead of g */
    char *mounting;               /* free text: "DE radial horizontal", may be NULL */
    int bearing;                  /* index into the asset's bearings, -1: none (when "bearing" is
                                     absent and the asset has exactly one bearing, that one) */
} vw_cfg_sensor;

typedef struct vw_cfg_asset {
    double installed_h;           /* when its bearings were installed (hours since 1970, UTC), NAN: unknown */
    double load_n;                /* radial load on its bearings in N (for a rating-scaled life prior), NAN: unknown */
    char *id;
    char *name;
    char *type;                   /* "pump", "fan", "motor", "compressor", "gearbox", "other" */
    int iso_group;                /* ISO 10816-3 group 1–4 */
    enum models_foundation foundation;
    double rpm;                   /* > 0: fixed speed; 0: estimated */
    double rpm_min, rpm_max;      /* search range when estimated (both equal rpm when fixed) */
    unsigned nbearings, nsensors;
    vw_cfg_bearing bearings[VW_CFG_MAX_BEARINGS];
    vw_cfg_sensor sensors[VW_CFG_MAX_SENSORS];
} vw_cfg_asset;

typedef struct vw_cfg_retention {
    double trend_days;            /* full-resolution features (default 90) */
    double aggregate_days;        /* hourly and daily aggregates (default 5 × 365) */
    unsigned spectra_per_channel; /* newest N spectra kept per channel (default 2000) */
    double waveform_interval_h;   /* raw waveform every N hours (default 24); also at state changes */
    unsigned waveforms_per_channel; /* newest N kept (default 100) */
    double max_mb;                /* history size cap, oldest pruned first (default 1024) */
} vw_cfg_retention;

typedef struct vw_cfg_schedule {
    double snapshot_s;            /* snapshot length (default 1 s) */
    double interval_s;            /* one snapshot every … (default 600 s; data time) */
    bool continuous;              /* back-to-back snapshots, ignoring interval_s */
} vw_cfg_schedule;

/* The "models" section: baselines, anomaly, degradation and RUL (models/monitor.h). */
typedef struct vw_cfg_models {
    unsigned baseline_snapshots;  /* default 30 */
    double baseline_hours;        /* > 0: learn for this span of data time instead */
    unsigned health_window;       /* default 5 */
    unsigned onset_k, onset_n;    /* default 3 of 5 */
    double onset_ratio;           /* and the health indicator at this × its baseline (default 2) */
    double warn_within_h, alarm_within_h; /* default 336, 168 */
    double p_warn, p_alarm;       /* default 0.5 */
    char *failure_feature;        /* a snapshot feature name, or NULL: failure_multiple × threshold */
    double failure_limit;
    double failure_multiple;      /* default 10 */
    char *prior;                  /* a fit-prior file, or NULL */
    double seed;                  /* default 1 (a whole number) */
    double stopped_rms_g;         /* default 0.005 */
    double speed_tolerance;       /* default 0.1 */
} vw_cfg_models;

/* One time-series output, outputs.influx[] (store/influx.h says what each one does). */
typedef struct vw_cfg_influx {
    char *name, *url;
    int api;                      /* 1 or 2 */
    char *db, *rp, *user, *password, *org, *bucket, *token, *ca_file, *client_cert, *client_key;
    bool tls_insecure, gzip, spool_fsync;
    bool strings;                 /* send string fields (state, diagnosis…); false for VictoriaMetrics,
                                     which turns each into a series of zeros */
    double batch_kb, batch_s, timeout_s, spool_mb, drain_kb_s, dead_letter_mb;
} vw_cfg_influx;

/* One place notifications go to, alerts.destinations[] (alerts/send.h, alerts/template.h). */
enum vw_cfg_dest_type { VW_DEST_EMAIL = 0, VW_DEST_WEBHOOK };
enum vw_cfg_body_format { VW_BODY_JSON = 0, VW_BODY_FORM, VW_BODY_TEXT };
typedef struct vw_cfg_destination {
    char *name;                   /* an id, unique */
    enum vw_cfg_dest_type type;
    char *url;
    char *user, *password, *token, *ca_file; /* token: webhooks only */
    bool tls_insecure;
    double timeout_s;             /* default 30 (e-mail), 15 (webhook) */
    enum alerts_level min_level;  /* notifications about this level or worse (default warning) */
    double max_per_hour;          /* rate limit; beyond it, one digest (default 10; 0: none) */
    unsigned nassets;             /* 0: every asset */
    char *assets[VW_CFG_MAX_ASSETS];
    /* e-mail */
    enum alerts_tls tls;          /* smtp://: "required" (default), "try", "none" */
    char *from;
    unsigned nto;
    char *to[VW_CFG_MAX_RECIPIENTS];
    /* webhook */
    char *method;                 /* "POST" (default) or "PUT" */
    enum vw_cfg_body_format format; /* how placeholders are escaped: json (default), form, text */
    char *content_type;           /* default from the format */
    char *body;                   /* the body template (a default per format) */
    unsigned nheaders;
    char *header_names[VW_CFG_MAX_HEADERS], *header_values[VW_CFG_MAX_HEADERS]; /* values are templates */
} vw_cfg_destination;

typedef struct vw_cfg_window {
    char *asset;                  /* NULL: every asset */
    double from_h, to_h;          /* data time, hours since 1970 UTC */
    char *note;
} vw_cfg_window;

/* The "alerts" section (alerts/rules.h for what the rules do). */
typedef struct vw_cfg_alerts {
    char *dashboard_url;          /* the dashboard's address as engineers reach it; NULL: from web.listen */
    alerts_rules_cfg rules;       /* every asset's, unless overridden */
    alerts_rules_cfg *asset_rules[VW_CFG_MAX_ASSETS]; /* per asset (index as assets[]), NULL: rules */
    double give_up_h;             /* a message not delivered after this is given up (default 24) */
    double retry_min_s, retry_max_s; /* backoff between attempts (default 30 s doubling to 30 min) */
    double keep_days;             /* finished alerts kept (default 365) */
    double stopped_after_s;       /* the watchdog: no snapshot for this long (default 3 intervals + 60 s) */
    unsigned nwindows;
    vw_cfg_window windows[VW_CFG_MAX_WINDOWS];
    unsigned ndest;
    vw_cfg_destination dest[VW_CFG_MAX_DESTINATIONS];
} vw_cfg_alerts;

/* The "web" section beyond listen, and the "users" section (web/auth.h, web/API.md). */
typedef struct vw_cfg_web {
    web_role anonymous;           /* the role of a request without a login; default: operator on a
                                     loopback address without users, none otherwise */
    bool anonymous_set;           /* "anonymous" was given */
    double session_hours;         /* default 12 */
    char *tls_cert, *tls_key;     /* PEM files (both or neither): HTTPS */
    char *dashboard_dir;          /* NULL: the folder built in (VW_DASHBOARD_DIR) */
    unsigned nusers;
    web_user users[VW_CFG_MAX_USERS];    /* strings owned by the config */
    unsigned ntokens;
    web_token tokens[VW_CFG_MAX_TOKENS];
    unsigned nhosts;
    char *hosts[VW_CFG_MAX_HOSTS];       /* the names the box is reached by beyond loopback */
} vw_cfg_web;

typedef struct vw_config {
    char *box_id, *box_name;
    char *data_dir;               /* default "./vibewatch-data" */
    vw_cfg_schedule schedule;
    vw_cfg_retention retention;
    vw_cfg_models models;
    unsigned ninflux;
    vw_cfg_influx influx[VW_CFG_MAX_OUTPUTS];
    vw_cfg_alerts alerts;
    char *listen;                 /* HTTP address:port (default "127.0.0.1:8080"); "" disables */
    vw_cfg_web web;
    unsigned nassets;
    vw_cfg_asset assets[VW_CFG_MAX_ASSETS];
    char *source_text;            /* the JSON it was loaded from (for the API, secrets masked later) */
} vw_config;

/* Parses and validates JSON text. NULL with "PATH: problem" in err on the first error. */
vw_config *vw_config_parse(const char *json, size_t len, char *err, size_t errlen);
/* Reads a file (at most 1 MiB) and parses it; err starts with the file name. */
vw_config *vw_config_load(const char *path, char *err, size_t errlen);
/* The embedded default that `vibewatch run` uses without -c: one simulated pump whose outer race
 * starts to fail, with its clock sped up so weeks pass in minutes. */
vw_config *vw_config_default(char *err, size_t errlen);
const char *vw_config_default_json(void);
void vw_config_free(vw_config *c); /* accepts NULL */

/* Lookups; NULL when absent. */
const vw_cfg_asset *vw_config_asset(const vw_config *c, const char *id);
/* A sensor by its (box-wide unique) id; *asset (when not NULL) is set to the asset it belongs to. */
const vw_cfg_sensor *vw_config_sensor(const vw_config *c, const char *id, const vw_cfg_asset **asset);
/* One line for `vibewatch check-config` and the start-up log: "box demo: 1 asset, 1 sensor
 * (1 channel), a 1 s snapshot every 600 s, data in ./vibewatch-data, web on 127.0.0.1:8080". */
void vw_config_summary(const vw_config *c, char *buf, size_t len);
/* The configuration as loaded (its JSON text) with every secret replaced by "********": passwords,
 * tokens, password hashes, token digests, webhook headers; URLs are shown as the alerts show
 * them (alerts_url_shown: no user:password@, the query as "?...").
 * Malloc'd JSON text; NULL when out of memory. */
char *vw_config_masked_json(const vw_config *c);
/* 0 when s is an id the configuration takes ([A-Za-z0-9_.-]{1,64}, not "." or ".."), else -EINVAL with
 * why ("must be 1 to 64 letters, …, not \"a b\""): for commands that print config entries. */
int vw_config_check_id(const char *s, char *why, size_t whylen);
/* 1 when ADDR:PORT names a loopback address (127.0.0.0/8, [::1], localhost). */
int vw_config_listen_is_loopback(const char *listen);

#endif
