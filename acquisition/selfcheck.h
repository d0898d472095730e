/* acquisition/selfcheck.h — is a channel's signal a measurement at all? A dead, shorted,
 * unplugged, saturated or dropping sensor produces signals that the analysis would otherwise read
 * as a machine's condition (a flatline as a perfect machine, clipping and dropouts as impacts, a
 * wrong rate as shifted defect lines). The self-check judges every channel from the frames it is
 * fed and says `ok` or `sensor_fault` with a reason, so a broken sensor is reported as a broken
 * sensor and never diagnosed as a broken bearing.
 *
 * Streaming (acq_selfcheck_new / _feed): one state per channel. A frame that fails any check puts
 * its channel in sensor_fault at once, with a reason; the fault clears only after
 * ACQ_SELFCHECK_CLEAR_S of consecutive clean data in at least ACQ_SELFCHECK_CLEAR_FRAMES frames
 * (hysteresis: an intermittent connector must not flap between states with every frame). Checks,
 * in the order a reason is chosen (the first that fails names the fault):
 *
 *  bias       DC-coupled inputs with a known sensitivity (info.dc_coupled, ch.volts_per_unit > 0):
 *             the frame's mean in volts is the IEPE bias. A constant-current-powered sensor sits
 *             at 7–15 V when healthy; near 0 V it is shorted or unpowered, near the supply
 *             (> 18 V: the current source at its compliance voltage) the loop is open.
 *  nonfinite  NaN or infinite samples (a converter or driver delivering garbage).
 *  flatline   a frame of ≥ ACQ_SELFCHECK_FLAT_MIN_SAMPLES whose peak-to-peak is below
 *             ACQ_SELFCHECK_FLAT_REL of full scale, or exactly 0 when full scale is unknown.
 *  dropout    a run of ≥ ACQ_SELFCHECK_ZERO_RUN exact zeros inside a frame that is not all zero
 *             (lost samples zero-filled), unless the channel is so coarsely quantised that
 *             exact zeros are ordinary; or more than ACQ_SELFCHECK_GAP_MAX frames flagged
 *             ACQ_FRAME_GAP or ACQ_FRAME_OVERRUN in the last ACQ_SELFCHECK_GAP_WINDOW.
 *  clipping   more than ACQ_SELFCHECK_CLIP_FRAC of a frame's samples at the channel's full scale
 *             (|x| ≥ ACQ_SELFCHECK_CLIP_LEVEL · full scale, as acq_read flags it), or held flat
 *             at the frame's own extremes (an input that saturates below its declared range, or
 *             whose range is unknown);
 *             with full scale unknown, frames flagged ACQ_FRAME_CLIPPED in ≥ ACQ_SELFCHECK_CLIP_FLAGGED
 *             of the last ACQ_SELFCHECK_CLIP_WINDOW.
 *  rate       info.rate_hz more than ACQ_SELFCHECK_RATE_TOL from info.rate_requested_hz, the rate a
 *             live backend measured against the clock (info.rate_measured_hz, when not 0) that
 *             far from the nominal rate, or the
 *             frames' timestamps: over ≥ ACQ_SELFCHECK_RATE_SPAN_S of contiguous frames (seq + 1,
 *             no gap, overrun, time lapse or snapshot flag), elapsed t0_ns differing from
 *             samples/rate by more than ACQ_SELFCHECK_RATE_TOL.
 *
 * Frame-level findings (gaps, clip flags, rate) apply to every channel of the frame.
 * Reasons are whole sentences with the numbers that were measured and the limit, without the
 * channel's name (the caller prefixes it): "bias 0.2 V: sensor shorted or unpowered (a working
 * IEPE sensor sits at 7-15 V)".
 *
 * Ownership and threads: the caller owns the checker; it is fed from one thread (the source's
 * reader) and allocates only in acq_selfcheck_new. The whole-recording helper is pure.
 */
#ifndef VW_ACQ_SELFCHECK_H
#define VW_ACQ_SELFCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "source.h"

/* Flatline: 1e-6 of full scale is -120 dB, 50 µg on a ±50 g channel: some 40 times below the
 * broadband noise of a general-purpose IEPE accelerometer (≈ 0.3 mg RMS, so ≈ 2 mg peak-to-peak in
 * a frame) and several LSBs of a 24-bit converter, so a working sensor never reads that flat even
 * on a stopped machine; a dead one reads the converter's own few LSBs. */
#define ACQ_SELFCHECK_FLAT_REL 1e-6
/* Fewer samples than this say nothing about flatness (a few samples may well be equal). */
#define ACQ_SELFCHECK_FLAT_MIN_SAMPLES 64
/* Clipping: a sample at ≥ 99.9 % of full scale has hit the rail (the rule acq_read uses). */
#define ACQ_SELFCHECK_CLIP_LEVEL 0.999
/* More than 0.1 % of a frame at the rails: a healthy impacting signal may touch them once or
 * twice in a frame; saturation holds them for whole half-cycles. */
#define ACQ_SELFCHECK_CLIP_FRAC 1e-3
/* ... and at least this many samples, so a short frame is not condemned by one sample. */
#define ACQ_SELFCHECK_CLIP_MIN_SAMPLES 10
/* Flat tops: samples held at exactly the frame's highest (or lowest) value in runs of at least 3,
 * where that value holds at least 4 times as many samples as the next value inside it. A sampled
 * waveform practically never repeats its peak value three times in a row unless it is clipped
 * (a float sine would need > 10⁴ samples per period), and clipping piles samples up on the rail
 * while leaving the values just inside nearly empty; in a signal only a few LSBs tall, where
 * repeats are ordinary, the extreme level is the rarer one and is not taken for clipping. */
#define ACQ_SELFCHECK_FLAT_TOP_RUN 3
#define ACQ_SELFCHECK_FLAT_TOP_PILEUP 4
/* Full scale unknown: frames flagged ACQ_FRAME_CLIPPED by the backend, 3 in the last 10. */
#define ACQ_SELFCHECK_CLIP_FLAGGED 3
#define ACQ_SELFCHECK_CLIP_WINDOW 10
/* IEPE bias (volts): constant-current sensors are specified at 8–14 V bias (BOV) on an 18–30 V
 * supply; 7–15 V leaves room for temperature drift and tolerance. Below 1 V the sensor is shorted
 * (or the current source is off); above 18 V the loop is open (cable cut or unplugged: the
 * source rises to its compliance voltage, near the supply). Between those, the sensor or its
 * cable is damaged (moisture, a failing amplifier). */
#define ACQ_SELFCHECK_BIAS_SHORT_V 1.0
#define ACQ_SELFCHECK_BIAS_LO_V 7.0
#define ACQ_SELFCHECK_BIAS_HI_V 15.0
#define ACQ_SELFCHECK_BIAS_OPEN_V 18.0
/* Dropouts: 32 exact zeros in a row. A live analogue signal crosses zero; it does not stay there
 * (at 25.6 kHz, 32 samples are 1.25 ms, a tenth of a revolution at 3000 rpm). A channel whose
 * isolated zeros exceed ACQ_SELFCHECK_ZERO_COARSE of its samples is quantised so coarsely that
 * runs of zeros are ordinary quiet, not lost data. */
#define ACQ_SELFCHECK_ZERO_RUN 32
#define ACQ_SELFCHECK_ZERO_COARSE 0.01
/* Gaps and overruns: more than 3 in the last 50 frames. A reconnect now and then is life; a link
 * that loses data every few seconds makes every spectrum a splice. */
#define ACQ_SELFCHECK_GAP_MAX 3
#define ACQ_SELFCHECK_GAP_WINDOW 50
/* Rate: 1 % moves every line by 1 %, half the ±2 % a defect-line search allows for slip. */
#define ACQ_SELFCHECK_RATE_TOL 0.01
/* Timestamps are compared over at least 1 s of contiguous frames, so clock jitter on a short
 * frame (a live source stamping frames by the clock) is not taken for a wrong rate. */
#define ACQ_SELFCHECK_RATE_SPAN_S 1.0
/* Hysteresis: 5 s of clean data, in at least 3 frames, before a fault clears. */
#define ACQ_SELFCHECK_CLEAR_S 5.0
#define ACQ_SELFCHECK_CLEAR_FRAMES 3

enum acq_selfcheck_state { ACQ_SELFCHECK_OK = 0, ACQ_SELFCHECK_SENSOR_FAULT };

/* Bits of acq_selfcheck_channel.checks: which checks failed on the last frame. */
enum acq_selfcheck_check {
    ACQ_SELFCHECK_BIAS = 1u << 0,
    ACQ_SELFCHECK_FLATLINE = 1u << 1,
    ACQ_SELFCHECK_DROPOUT = 1u << 2,
    ACQ_SELFCHECK_CLIPPING = 1u << 3,
    ACQ_SELFCHECK_RATE = 1u << 4,
    ACQ_SELFCHECK_NONFINITE = 1u << 5,
};

typedef struct acq_selfcheck_channel {
    enum acq_selfcheck_state state;
    unsigned checks;      /* enum acq_selfcheck_check: failed on the last frame fed */
    unsigned fault_check; /* the check that named the current (or last) fault */
    char reason[224];     /* why it is (or last was) in fault; "" when it never was */
    uint64_t fault_seq;   /* frame seq at which the current fault began */
    uint64_t faults;      /* times the channel went from ok to sensor_fault */
    unsigned clean_frames; /* while in fault: consecutive clean frames so far */
    uint64_t clean_samples; /* ... and their samples per channel */
} acq_selfcheck_channel;

typedef struct acq_selfcheck acq_selfcheck;

/* A checker for a source's channels (info is copied). NULL on a bad info (no channels, a rate
 * that is not positive) or no memory. */
acq_selfcheck *acq_selfcheck_new(const acq_info *info);
void acq_selfcheck_free(acq_selfcheck *sc); /* accepts NULL */
/* Judges one frame (as filled by acq_read, for the same source). Returns how many channels
 * changed state (0 … nchan), or -EINVAL for a frame that does not match the info (channel
 * count, no rate). */
int acq_selfcheck_feed(acq_selfcheck *sc, const acq_frame *f);
/* NULL when ch is out of range. */
const acq_selfcheck_channel *acq_selfcheck_channel_status(const acq_selfcheck *sc, unsigned ch);
const char *acq_selfcheck_state_name(enum acq_selfcheck_state s); /* "ok", "sensor_fault" */

/* A whole recording of one channel (e.g. for `vibewatch analyze FILE`): non-finite samples,
 * flatline, dropouts and clipping as above (full_scale 0 when unknown: flatline then means
 * exactly constant, clipping means flat-topped). Returns 0 when the signal looks like a
 * measurement, 1 when it does not, with the reason in reason (when not NULL). */
int acq_selfcheck_samples(const float *x, size_t n, double full_scale, char *reason, size_t len);

#endif
