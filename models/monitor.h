/* models/monitor.h — the condition monitor of one channel: it learns the healthy baseline, scores
 * every snapshot with the autoencoder, smooths the score into a health indicator, detects the
 * onset of degradation, fits the degradation model after onset, estimates the remaining useful
 * life (RUL) and decides the channel's state.
 *
 * Per snapshot the caller gives the feature vector (dsp/feature_vector.h, vw-features-1) of the
 * whole snapshot and of its sub-frames (overlapping pieces of the snapshot, analysed alone), the
 * estimated shaft speed, the value of the configured failure feature (when one is configured) and
 * whether the snapshot is a sensor fault or in ISO zone D.
 *
 * Baseline. The first snapshots of running operation (cfg.baseline_snapshots of them, or
 * cfg.baseline_hours of data time between the first and the last, with at least
 * MODELS_MON_MIN_BASELINE snapshots) are kept; snapshots taken while the machine is stopped
 * (accel RMS below cfg.stopped_rms_g) or off its normal speed (more than cfg.speed_tolerance from
 * the baseline's median speed) are skipped and marked — in learning and afterwards. The model
 * learns from the SUB-FRAME vectors, so a baseline of 3 daily snapshots still gives dozens of
 * vectors; a snapshot's anomaly score is the median of its sub-frames' scores (one noisy piece
 * does not raise it).
 *
 * Model inputs: the features of vw-features-1 that were finite in at least 95 % of the baseline's
 * vectors, not constant and (bands) not empty; the positive amplitude features (kurtosis, crest,
 * velocity and acceleration RMS) enter as natural logs, named "ln_<feature>" in the model, since
 * their spread is multiplicative. The model file names its inputs, so a restored model computes
 * exactly the inputs it was trained on.
 *
 * Anomaly and onset. anomaly = median sub-frame reconstruction error; threshold = the
 * autoencoder's (a margin over a high quantile of held-back baseline scores); health = the
 * median of the last cfg.health_window anomaly scores; "anomalous" = at least onset_k of the last
 * onset_n assessed snapshots above the threshold. Onset of degradation: anomalous and the health
 * indicator HI (below) at onset_ratio × its baseline reference. Onset is kept until both have
 * been false for 4 × onset_n snapshots in a row (a transient), or a new baseline.
 *
 * RUL. The health indicator HI for life is relative to the baseline: the configured failure
 * feature (median of the last health_window values) over its baseline median, with the limit
 * scaled alike; without a failure feature, health / threshold with the limit failure_multiple.
 * After onset, the exponential degradation model (models/degradation.h; t in hours since onset,
 * its prior from cfg.prior when given) takes every HI; once its growth rate is significant
 * (one-sided 95 %) with at least trend_min_points samples, the RUL is the crossing time of its
 * trend with the limit (basis "trend"); with a prior, the trend's crossing and the prior's life
 * are competing ends, F = 1 − (1 − F_trend)(1 − F_life), since the trend cannot see an abrupt end
 * coming that past runs showed. Otherwise, with a prior: the remaining life given the bearing's
 * age (basis "prior"; the life rating-scaled to cfg.rpm and cfg.load_n when the prior allows).
 * Otherwise no number (basis "null").
 *
 * States: learning; ok; watch (anomalous or onset, no alarming trend); warning (trend and
 * P(failure within warn_within_h) ≥ p_warn); alarm (trend and P(failure within alarm_within_h) ≥
 * p_alarm, the limit reached, or ISO zone D in onset_k of the last onset_n snapshots);
 * sensor_fault. A prior-only estimate never raises a warning.
 * Warning and alarm are left only when the probability has fallen below half its trigger.
 *
 * Ownership and threads: one monitor per channel, used by one thread at a time. It allocates
 * when created, while learning and when it trains; scoring allocates nothing. Training blocks for
 * up to a few seconds (10 000 vectors). Nothing here does I/O. */
#ifndef VW_MODELS_MONITOR_H
#define VW_MODELS_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prior.h"

#define MODELS_MON_MIN_BASELINE 3      /* snapshots a baseline needs at least */
#define MODELS_MON_MAX_WINDOW 64       /* health_window and onset_n at most */
#define MODELS_MON_FORMAT "vibewatch-monitor"
#define MODELS_MON_VERSION 1

enum models_state {
    MODELS_ST_LEARNING = 0,
    MODELS_ST_OK,
    MODELS_ST_WATCH,
    MODELS_ST_WARNING,
    MODELS_ST_ALARM,
    MODELS_ST_SENSOR_FAULT,
};
const char *models_state_name(enum models_state s);

enum models_rul_basis { MODELS_RUL_NULL = 0, MODELS_RUL_PRIOR, MODELS_RUL_TREND };
const char *models_rul_basis_name(enum models_rul_basis b);

typedef struct models_monitor_cfg {
    size_t baseline_snapshots;  /* default 30 */
    double baseline_hours;      /* > 0: learn for this span of data time instead */
    uint64_t seed;              /* the autoencoder's (default 1) */
    size_t health_window;       /* default 5 */
    unsigned onset_k, onset_n;  /* default 3 of 5 */
    double warn_within_h;       /* default 336 (14 days) */
    double alarm_within_h;      /* default 168 (7 days) */
    double p_warn, p_alarm;     /* default 0.5 each */
    bool have_failure_feature;  /* the caller gives failure_value per snapshot */
    double failure_limit;       /* that feature's limit, in its units */
    double failure_multiple;    /* without one: the limit of health / threshold (default 10) */
    double speed_tolerance;     /* relative, default 0.1 */
    double stopped_rms_g;       /* default 0.005 g */
    double installed_h;         /* data-time hours of the installation; NAN: the first snapshot */
    size_t max_vectors;         /* baseline vectors kept at most (default 20000) */
    size_t trend_min_points;    /* default 5 */
    double significance_z;      /* default 1.645 */
    double onset_ratio;         /* onset also needs HI ≥ this (default 2: the indicator doubled) */
    double rpm, load_n;         /* the machine's speed and bearing load, for a rating-scaled life
                                   prior; NAN: unknown (rpm then from the baseline's speed) */
    const models_prior *prior;  /* copied at create; NULL: none */
} models_monitor_cfg;

void models_monitor_cfg_default(models_monitor_cfg *c);

typedef struct models_monitor_input {
    double t_h;                 /* data time of the snapshot, hours (any epoch, increasing) */
    const double *features;     /* DSP_FEATURES_MAX values of the whole snapshot */
    const double *subframes;    /* nsub × DSP_FEATURES_MAX, row-major */
    size_t nsub;
    double shaft_hz;            /* NAN when unknown */
    double failure_value;       /* the failure feature (NAN: not available this snapshot) */
    bool sensor_fault;
    bool iso_zone_d;
} models_monitor_input;

typedef struct models_monitor_output {
    enum models_state state, previous;
    bool changed;               /* state != previous (never on the first snapshot) */
    const char *skipped;        /* NULL, "stopped" or "off_speed": not learned from, not scored */
    double progress;            /* learning: 0…1 */
    double anomaly, threshold, health; /* NAN while learning */
    bool anomalous;             /* the k-of-n rule holds now */
    bool onset;                 /* degradation onset seen (latched) */
    double onset_h;             /* data time of onset, NAN before */
    double age_h;               /* since installation (or the first snapshot, or the last new baseline) */
    double hi, hi_limit;        /* relative health indicator and its failure limit (NAN while learning) */
    enum models_rul_basis basis;
    double rul_h, rul_lo_h, rul_hi_h;     /* median, 10 %, 90 %; INFINITY: beyond 10 years; NAN: null */
    double p_fail_7d, p_fail_14d;         /* NAN with basis null */
    double p_warn_horizon, p_alarm_horizon; /* P(failure within warn/alarm horizon) */
    const char *cause;          /* why the state is what it is: "iso_zone_d", "limit_reached", "trend",
                                   "anomaly", "onset", or NULL */
    bool trained;               /* a model was trained on this snapshot (save it: models_monitor_to_json) */
    char message[192];          /* why training failed, or why a model was refused; "" */
} models_monitor_output;

typedef struct models_monitor models_monitor;

/* NULL with a message in err for an invalid configuration (each field is named). */
models_monitor *models_monitor_create(const models_monitor_cfg *cfg, char *err, size_t errlen);
void models_monitor_free(models_monitor *m);

/* One snapshot, in time order (a snapshot not after the previous one is refused: -EINVAL). */
int models_monitor_update(models_monitor *m, const models_monitor_input *in, models_monitor_output *out);

/* A snapshot assessed before a restart, as the history kept it. */
typedef struct models_monitor_past {
    double t_h;
    double anomaly;             /* NAN when not scored */
    double failure_value;       /* NAN without */
    bool iso_zone_d, sensor_fault;
    bool skipped;               /* stopped or off speed: it changed nothing */
} models_monitor_past;
/* Catches a restored monitor up with the snapshots it assessed since its model was learned,
 * oldest first: the health window, onset, the degradation model and the state go on where they
 * were before the restart (the same steps as a live snapshot after its scoring). -EINVAL while
 * learning or out of time order. */
int models_monitor_replay(models_monitor *m, const models_monitor_past *p, models_monitor_output *o);

/* "Maintenance done": forget the model and the degradation, learn a new baseline from t_h on;
 * the age counts from t_h. */
void models_monitor_rebaseline(models_monitor *m, double t_h);

bool models_monitor_learning(const models_monitor *m);

/* The learned model (baseline references, inputs and the autoencoder) as a file text, malloc'd;
 * NULL while learning. */
char *models_monitor_to_json(const models_monitor *m);
/* Replaces the baseline with a stored one and starts monitoring. Refuses (-EINVAL, message in
 * err) a file of another format or version, or built for another feature schema. */
int models_monitor_restore(models_monitor *m, const char *text, size_t len, char *err, size_t errlen);

#endif
