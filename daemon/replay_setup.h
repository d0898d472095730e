/* daemon/replay_setup.h — what `vibewatch replay` and `vibewatch fit-prior` share: their flags
 * (the analysis flags of `analyze` and the models' flags) and the configuration they build from
 * them, or from a config file whose first sensor is pointed at the recording. */
#ifndef VW_DAEMON_REPLAY_SETUP_H
#define VW_DAEMON_REPLAY_SETUP_H

#include <getopt.h>
#include <stdbool.h>

#include "config.h"

typedef struct vw_replay_flags {
    const char *config, *data_dir, *bearing, *geometry, *orders, *prior, *failure;
    const char *alerts;                   /* --alerts FILE: an "alerts" section for the built config */
    double rpm, shaft_hz, snapshot_s;     /* 0: not given (snapshot_s defaults to 1) */
    double load_n;                        /* 0: not given */
    double baseline_snapshots;            /* 0: not given */
    double warn_h, alarm_h;               /* 0: not given */
    double seed;                          /* < 0: not given */
    bool any_analysis, any_models;        /* which flags were given (refused with -c) */
} vw_replay_flags;

/* getopt_long values of the shared flags, and the option table entries. */
enum {
    VW_RF_DATA = 256, VW_RF_RPM, VW_RF_HZ, VW_RF_BEARING, VW_RF_GEOM, VW_RF_ORDERS, VW_RF_SNAP,
    VW_RF_BASELINE, VW_RF_FAILURE, VW_RF_WARN, VW_RF_ALARM, VW_RF_PRIOR, VW_RF_SEED, VW_RF_LOAD, VW_RF_ALERTS, VW_RF_END
};
#define VW_REPLAY_OPTIONS                                                                                     \
    {"config", 1, 0, 'c'}, {"data-dir", 1, 0, VW_RF_DATA}, {"rpm", 1, 0, VW_RF_RPM},                        \
        {"shaft-hz", 1, 0, VW_RF_HZ}, {"bearing", 1, 0, VW_RF_BEARING}, {"geometry", 1, 0, VW_RF_GEOM},     \
        {"orders", 1, 0, VW_RF_ORDERS}, {"snapshot", 1, 0, VW_RF_SNAP},                                     \
        {"baseline-snapshots", 1, 0, VW_RF_BASELINE}, {"failure", 1, 0, VW_RF_FAILURE},                     \
        {"warn-within", 1, 0, VW_RF_WARN}, {"alarm-within", 1, 0, VW_RF_ALARM}, {"prior", 1, 0, VW_RF_PRIOR}, \
        {"seed", 1, 0, VW_RF_SEED}, {"load", 1, 0, VW_RF_LOAD}, {"alerts", 1, 0, VW_RF_ALERTS}

#define VW_REPLAY_FLAGS_HELP                                                                                  \
    "  Analysis (without -c): --rpm RPM | --shaft-hz HZ, --bearing NAME | --geometry N,D,PD,ANGLE |\n"        \
    "    --orders BPFO,BPFI,BSF,FTF, --snapshot SECONDS (default 1), --load N (bearing load, newtons)\n"                                \
    "  Models (without -c): --baseline-snapshots N (default 30), --failure FEATURE=LIMIT (e.g.\n"             \
    "    accel_peak_g=20; default: 10 × the anomaly threshold), --warn-within DURATION (default 14d),\n"      \
    "    --alarm-within DURATION (default 7d; durations like 14d, 6h, 30m), --prior PRIOR.json, --seed N\n"  \
    "  Alerts (without -c): --alerts FILE, a JSON object used as the config's \"alerts\" section (the asset\n" \
    "    is named \"replay\"): what the box would have notified, sent to the destinations it names\n"

void vw_replay_flags_init(vw_replay_flags *f);
/* Takes one option of the shared table: 1 when it was one (stored), 0 when it is not a shared
 * option, -1 after printing a usage error ("vibewatch CMD: …") for a bad value. */
int vw_replay_flag(vw_replay_flags *f, int opt, const char *arg, const char *cmd);
/* The configuration for replaying SOURCE (a path or a source URI); NULL after printing the error
 * (prefixed "vibewatch CMD: "). name labels the asset and sensor when there is no config. */
vw_config *vw_replay_config(const vw_replay_flags *f, const char *source, const char *cmd);

#endif
