/* acquisition/sim.h — a simulated machine: the vibration of a rotating shaft with a rolling
 * bearing, healthy or with a localised defect, as an accelerometer on the bearing housing would
 * see it. The demo runs on it and the tests use it as ground truth: a defect's impacts are
 * placed at exactly the rate its kinematics give (with the random slip real bearings show), so
 * the analysis can be checked against the frequency the simulator used.
 *
 * Model (McFadden & Smith 1984; Randall & Antoni 2011, §2): each impact rings a structural
 * resonance (a decaying sinusoid); impacts repeat at the defect frequency with a random jitter
 * of a given fraction; an inner-race defect is amplitude-modulated by the shaft rotation (it
 * passes through the load zone once a turn), a rolling-element defect by the cage rotation.
 * Added to that: 1X and 2X sinusoids (imbalance, misalignment) and Gaussian noise. Deterministic
 * for a seed. */
#ifndef VW_ACQ_SIM_H
#define VW_ACQ_SIM_H

#include <stddef.h>
#include <stdint.h>

enum acq_sim_fault { ACQ_SIM_NONE = 0, ACQ_SIM_OUTER, ACQ_SIM_INNER, ACQ_SIM_BALL };

typedef struct acq_sim_params {
    double fs_hz;
    double shaft_hz;
    double x1_g, x2_g;          /* 1X and 2X amplitudes, g peak */
    double noise_rms_g;
    enum acq_sim_fault fault;
    double defect_order;        /* impacts per shaft turn: BPFO, BPFI, or 2·BSF for a ball */
    double cage_order;          /* FTF, for the modulation of a ball defect */
    double impact_g;            /* peak of one impact's ringing */
    double resonance_hz;
    double damping;             /* damping ratio of the resonance (0.02–0.1 is typical) */
    double jitter;              /* relative standard deviation of the impact spacing (≈ 0.01) */
    uint64_t seed;
} acq_sim_params;

/* Fills out[0..n) with acceleration in g, the first sample at time t0_s. Returns 0 or -EINVAL. */
int acq_sim_generate(const acq_sim_params *p, double t0_s, float *out, size_t n);
/* "none", "outer", "inner", "ball" ↔ the enum; -EINVAL for anything else. */
int acq_sim_fault_parse(const char *s, enum acq_sim_fault *out);

#endif
