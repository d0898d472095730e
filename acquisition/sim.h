/* acquisition/sim.h — simulated machines: the vibration of a rotating shaft with a rolling
 * bearing, healthy or with a localised defect, as an accelerometer on the bearing housing would
 * see it. The demo runs on it and the tests use it as ground truth: a defect's impacts are
 * placed at exactly the rate its kinematics give (with the random slip real bearings show), so
 * the analysis can be checked against the frequency the simulator used.
 *
 * Two generators share the physics:
 *
 *  - acq_sim_generate(): one stateless snapshot of one channel from explicit parameters (the
 *    `vibewatch simulate` command and the DSP tests).
 *  - acq_sim_machine: a streaming model of a whole machine (a pump or a fan) that ages: it is
 *    healthy until onset_days, then its fault grows until failure_days. It backs the `sim:`
 *    source (acquisition/src_sim.c), which maps frames to machine age (and time-lapses it).
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

/* ACQ_SIM_IMBALANCE is a machine fault (it grows 1X); acq_sim_generate() adds no impacts for it
 * (its caller sets x1_g) and acq_sim_fault_parse() does not accept it. */
enum acq_sim_fault { ACQ_SIM_NONE = 0, ACQ_SIM_OUTER, ACQ_SIM_INNER, ACQ_SIM_BALL, ACQ_SIM_IMBALANCE };

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
/* "none", "outer", "inner", "ball" ↔ the bearing faults; -EINVAL for anything else. */
int acq_sim_fault_parse(const char *s, enum acq_sim_fault *out);
/* "none", "outer_race", "inner_race", "ball", "imbalance" (the sim: source's names); "?" else. */
const char *acq_sim_fault_name(enum acq_sim_fault f);

/* ---- the ageing machine ------------------------------------------------------------------
 *
 * Pump: a centrifugal pump on a 2-pole 50 Hz induction motor, 2970 rpm (1 % slip), 7-vane
 *   impeller (vane pass 7X and its 2nd and 3rd harmonics: the flow pulsation every vane makes
 *   passing the volute tongue), 1X/2X/3X, the motor's 2×line-frequency (100 Hz) magnetic line,
 *   and broadband flow noise (turbulence, 0.12 g RMS). Speed wanders ±0.1 % (load and supply
 *   fluctuations; an Ornstein-Uhlenbeck process with a 2 s correlation time).
 * Fan: a centrifugal fan on a 4-pole motor, 1480 rpm, 8 blades (blade pass 8X), more 1X than
 *   the pump (a large, lightly damped rotor: residual imbalance dominates its spectrum), less
 *   flow noise (0.08 g RMS), speed wandering ±0.15 % (4 s).
 *
 * Channels: 1 to 3, as a triaxial sensor on the drive-end bearing housing sees them: x
 *   (horizontal radial: most 1X, the softest direction of a foot-mounted machine), y (vertical
 *   radial: in line with the load zone, so the bearing's impacts are strongest there), z (axial:
 *   more 2X, as misalignment shows, and least of the bearing). Each direction rings its own
 *   structural resonance (pump 3.1/4.4/2.3 kHz, fan 2.6/3.7/1.9 kHz; damping ratio 0.04–0.06),
 *   excited both by the impacts and weakly by the flow noise (which gives a healthy spectrum its
 *   resonance humps). Channel c's noise has its own random stream, so channel 0 is the same
 *   samples whatever the channel count.
 *
 * Faults (the severity s runs 0 → 1 from onset_days to failure_days and stays 1 after):
 *   outer_race: impacts at BPFO, constant amplitude (the defect stays in the load zone);
 *   inner_race: impacts at BPFI, amplitude 0.1 + 0.9·(1 + cos shaft angle)/2 (the load zone once
 *     a turn);
 *   ball:       impacts at 2·BSF (the spall strikes both races once per ball turn, the inner race
 *     at 0.6 of the outer race's strength), modulated by (1 + cos cage angle)/2 (the ball moves
 *     through the load zone with the cage);
 *   each impact ±10 % in strength and its spacing jittered by 1 % (slip), ringing s × 3 g peak
 *   at failure on a pump's x channel (2 g on a fan), y ×1.3, z ×0.45; the broadband noise rises
 *   by up to 50 % (s²) as the surfaces roughen;
 *   imbalance: 1X grows to 8 times its healthy value (≈ 6 mm/s RMS on a pump: ISO 10816-3 zone
 *     C/D).
 *   Severity: s(u) = (e^(4u) − 1)/(e^4 − 1), u = (age − onset)/(failure − onset): slow at first
 *   (s = 0.12 halfway), fast at the end, the shape of published run-to-failure trends (IMS,
 *   PRONOSTIA).
 * Temperature of the bearing housing: 22 °C ambient ± 2 °C daily (warmest at 15:00 of machine
 *   time, counting age 0 as midnight) + the running rise (pump 18 °C, fan 12 °C) + 3·s + 27·s³
 *   °C (imbalance half that: it loads the bearing but does not destroy it), ±0.1 °C of sensor
 *   noise. A few degrees until near failure, then fast: +10 °C at s = 0.66 (u = 0.9), +30 °C at
 *   failure.
 *
 * Cost: per sample and channel one Gaussian draw (a ziggurat: nearly always one random number, a
 * compare and a multiply), a second-order recursive resonance and a few rotating phasors (the tonal lines);
 * sin/cos/exp are evaluated per block of 64 samples or per impact, never per sample.
 * Threads: a machine is used by one thread at a time; it allocates only in acq_sim_machine_new.
 */

enum acq_sim_machine_kind { ACQ_SIM_PUMP = 0, ACQ_SIM_FAN };

#define ACQ_SIM_MAX_CHANNELS 3

typedef struct acq_sim_machine_config {
    enum acq_sim_machine_kind kind;
    uint64_t seed;
    enum acq_sim_fault fault;
    double onset_days, failure_days; /* healthy before onset; severity 1 from failure on */
    double rate_hz;                  /* 2000 … 1e6 */
    unsigned nchan;                  /* 1 … ACQ_SIM_MAX_CHANNELS: x, y, z */
    double shaft_hz;                 /* 0: the kind's nominal speed */
    double bpfo, bpfi, bsf, ftf;     /* bearing orders; needed for outer_race, inner_race, ball */
} acq_sim_machine_config;

typedef struct acq_sim_machine acq_sim_machine;

/* NULL with a message in err on a bad configuration or no memory. */
acq_sim_machine *acq_sim_machine_new(const acq_sim_machine_config *c, char *err, size_t errlen);
void acq_sim_machine_free(acq_sim_machine *m); /* accepts NULL */
/* Next n samples of every channel, interleaved (out[i·nchan + c]), acceleration in g; each call
 * continues the last one sample for sample. age_days (the machine's age, which the caller may
 * advance faster than the samples) sets the fault's severity for these samples. 0 or -EINVAL. */
int acq_sim_machine_generate(acq_sim_machine *m, double age_days, float *out, size_t n);
/* Bearing-housing temperature at an age, °C: a pure function of the seed and the age. */
double acq_sim_machine_temp_c(const acq_sim_machine *m, double age_days);
/* Severity 0 … 1 at an age (0 when the fault is none). */
double acq_sim_machine_severity(const acq_sim_machine *m, double age_days);
/* The nominal shaft speed, Hz (the configured one, or the kind's). */
double acq_sim_machine_shaft_hz(const acq_sim_machine *m);
const char *acq_sim_machine_kind_name(enum acq_sim_machine_kind k); /* "pump", "fan" */

#endif
