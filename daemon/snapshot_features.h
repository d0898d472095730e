/* daemon/snapshot_features.h — the features the pipeline reports per channel and snapshot (the
 * replay's "features", the history's trend, the API), by stable name. These are the engineer's
 * readings; the models' input is the versioned vector of dsp/feature_vector.h. */
#ifndef VW_DAEMON_SNAPSHOT_FEATURES_H
#define VW_DAEMON_SNAPSHOT_FEATURES_H

enum {
    F_ACCEL_RMS, F_ACCEL_PEAK, F_CREST, F_KURTOSIS, F_SKEWNESS, F_VEL_RMS, F_V1X, F_V2X, F_V3X, F_SHAFT_HZ,
    F_BPFO_DB, F_BPFI_DB, F_BSF_DB, F_FTF_DB, F_BAND_SK, F_ISO_ZONE, F_TEMP_C, NFEAT
};
/* The names, in index order (a macro so that lists that extend it stay in step). */
#define VW_SNAPSHOT_FEATURE_NAMES                                                                            \
    "accel_rms_g", "accel_peak_g", "crest", "kurtosis", "skewness", "velocity_rms_mm_s", "v1x_mm_s", "v2x_mm_s", \
        "v3x_mm_s", "shaft_hz", "bpfo_db", "bpfi_db", "bsf_db", "ftf_db", "band_kurtosis", "iso_zone", "temp_c"
extern const char *const vw_snapshot_feature_names[NFEAT];
/* Index of a name, or -1. */
int vw_snapshot_feature_index(const char *name);

#endif
