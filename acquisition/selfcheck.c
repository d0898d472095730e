/* acquisition/selfcheck.c — see selfcheck.h. One scan of a channel's samples (strided, so frames
 * are read in place) gathers everything the per-sample checks need; the frame-level checks keep
 * short bit histories of the last frames' flags; each channel runs the same small state machine
 * (fault at once, clear after enough clean data). Nothing is allocated after acq_selfcheck_new. */
#include "selfcheck.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct acq_selfcheck {
    acq_info info;
    acq_selfcheck_channel ch[ACQ_MAX_CHANNELS];
    uint64_t gap_hist, clip_hist; /* bit 0: the last frame; 1: flagged */
    /* timestamps: the previous frame and the contiguous run being measured */
    bool have_prev;
    uint64_t prev_seq;
    size_t prev_nsamp;
    int64_t run_t0_ns;
    uint64_t run_samples;
    bool ts_bad;
    double ts_actual_s, ts_expected_s;
    uint64_t ts_samples;
};

/* ---- one channel's samples ------------------------------------------------------------- */

typedef struct scan {
    size_t n, nonfinite;
    double min, max, sum;      /* over the finite samples */
    size_t n_max, n_min;       /* samples exactly at max, at min */
    double next_max, next_min; /* the largest value below max, the smallest above min */
    size_t n_next_max, n_next_min;
    size_t at_fs;              /* |x| ≥ CLIP_LEVEL · full scale */
    size_t zero_run, zero_at;  /* the longest run of exact zeros and where it starts */
    size_t zeros_isolated;     /* zeros in runs shorter than ACQ_SELFCHECK_ZERO_RUN */
    size_t flat_top;           /* samples held at a piled-up extreme in runs ≥ FLAT_TOP_RUN */
} scan;

static void close_zero_run(scan *s, size_t run, size_t end)
{
    if (run >= ACQ_SELFCHECK_ZERO_RUN) {
        if (run > s->zero_run) {
            s->zero_run = run;
            s->zero_at = end - run;
        }
    } else {
        s->zeros_isolated += run;
    }
}

static void scan_samples(const float *x, size_t n, size_t stride, double full_scale, scan *s)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    s->min = s->next_min = INFINITY;
    s->max = s->next_max = -INFINITY;
    double clip = full_scale > 0 ? ACQ_SELFCHECK_CLIP_LEVEL * full_scale : INFINITY;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        float v = x[i * stride];
        if (!isfinite(v)) {
            s->nonfinite++;
            close_zero_run(s, run, i);
            run = 0;
            continue;
        }
        s->sum += v;
        if (v > s->max) {
            s->next_max = s->max;
            s->n_next_max = s->n_max;
            s->max = v;
            s->n_max = 1;
        } else if (v == s->max) {
            s->n_max++;
        } else if (v > s->next_max) {
            s->next_max = v;
            s->n_next_max = 1;
        } else if (v == s->next_max) {
            s->n_next_max++;
        }
        if (v < s->min) {
            s->next_min = s->min;
            s->n_next_min = s->n_min;
            s->min = v;
            s->n_min = 1;
        } else if (v == s->min) {
            s->n_min++;
        } else if (v < s->next_min) {
            s->next_min = v;
            s->n_next_min = 1;
        } else if (v == s->next_min) {
            s->n_next_min++;
        }
        if (fabsf(v) >= clip)
            s->at_fs++;
        if (v == 0) {
            run++;
        } else {
            close_zero_run(s, run, i);
            run = 0;
        }
    }
    close_zero_run(s, run, n);
    /* Flat tops: runs at an extreme that holds a pile-up of samples. Clipping stacks samples on
     * the rail and leaves the values just below it nearly empty; in a signal only a few LSBs
     * tall the extreme level is the rarer one, so its repeats are not taken for clipping. */
    if (!(s->max > s->min))
        return;
    bool hi = s->n_max >= ACQ_SELFCHECK_FLAT_TOP_PILEUP * s->n_next_max;
    bool lo = s->n_min >= ACQ_SELFCHECK_FLAT_TOP_PILEUP * s->n_next_min;
    if (!hi && !lo)
        return;
    float top = (float)s->max, bottom = (float)s->min;
    size_t len = 0;
    float held = 0;
    for (size_t i = 0; i <= n; i++) {
        float v = i < n ? x[i * stride] : NAN;
        if (len > 0 && v == held) {
            len++;
            continue;
        }
        if (len >= ACQ_SELFCHECK_FLAT_TOP_RUN)
            s->flat_top += len;
        len = (hi && v == top) || (lo && v == bottom) ? 1 : 0;
        held = v;
    }
}

static const char *unit_sp(const char *unit) { return unit && *unit ? " " : ""; }

static size_t clip_limit(size_t n)
{
    double lim = ACQ_SELFCHECK_CLIP_FRAC * (double)n;
    return lim > ACQ_SELFCHECK_CLIP_MIN_SAMPLES ? (size_t)lim : ACQ_SELFCHECK_CLIP_MIN_SAMPLES;
}

/* The findings of one frame or recording: every failed check, and the reason of the first. */
typedef struct verdict {
    unsigned bad, named;
    char msg[224];
} verdict;

static void fail(verdict *v, unsigned check, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(verdict *v, unsigned check, const char *fmt, ...)
{
    if (!v->bad) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(v->msg, sizeof v->msg, fmt, ap);
        va_end(ap);
        v->named = check;
    }
    v->bad |= check;
}

/* The sample checks shared by frames and whole recordings, in this order: non-finite samples,
 * flatline, dropout, clipping. Adds to v. */
static void judge_samples(const scan *s, double full_scale, const char *unit, verdict *v)
{
    const char *sp = unit_sp(unit);
    size_t nfin = s->n - s->nonfinite;
    if (s->nonfinite)
        fail(v, ACQ_SELFCHECK_NONFINITE,
             "%zu of %zu samples are NaN or infinite: the converter or its driver delivers garbage", s->nonfinite,
             s->n);
    double p2p = nfin ? s->max - s->min : 0;
    if (nfin >= ACQ_SELFCHECK_FLAT_MIN_SAMPLES) {
        double lim = full_scale > 0 ? ACQ_SELFCHECK_FLAT_REL * full_scale : 0;
        if (p2p == 0)
            fail(v, ACQ_SELFCHECK_FLATLINE,
                 "flatline: all %zu samples are exactly %g%s%s: the channel delivers a constant, not a measurement "
                 "(a dead sensor, an open input or a stuck converter)",
                 nfin, s->min, sp, unit);
        else if (p2p <= lim)
            fail(v, ACQ_SELFCHECK_FLATLINE,
                 "flatline: peak-to-peak %.3g%s%s over %zu samples, below %.3g%s%s (%g of the %g%s%s full scale): "
                 "no signal from the sensor (dead sensor or broken cable)",
                 p2p, sp, unit, nfin, lim, sp, unit, ACQ_SELFCHECK_FLAT_REL, full_scale, sp, unit);
    }
    if (s->zero_run >= ACQ_SELFCHECK_ZERO_RUN && s->zero_run < s->n && p2p > 0 &&
        (double)s->zeros_isolated <= ACQ_SELFCHECK_ZERO_COARSE * (double)s->n)
        fail(v, ACQ_SELFCHECK_DROPOUT,
             "dropout: %zu exact zeros in a row from sample %zu of %zu (limit %d): samples were lost and zero-filled",
             s->zero_run, s->zero_at, s->n, ACQ_SELFCHECK_ZERO_RUN);
    size_t lim = clip_limit(s->n);
    if (full_scale > 0 && s->at_fs > lim)
        fail(v, ACQ_SELFCHECK_CLIPPING,
             "clipping: %zu of %zu samples (%.2f %%) at the ±%g%s%s full scale (limit %g %%): the input is "
             "saturated and its spectrum is not the machine's",
             s->at_fs, s->n, 100.0 * (double)s->at_fs / (double)s->n, full_scale, sp, unit,
             100 * ACQ_SELFCHECK_CLIP_FRAC);
    else if (s->flat_top > lim)
        fail(v, ACQ_SELFCHECK_CLIPPING,
             "clipping: %zu of %zu samples (%.2f %%) held flat at the signal's extremes (%.4g and %.4g%s%s; limit "
             "%g %%): the input saturates%s",
             s->flat_top, s->n, 100.0 * (double)s->flat_top / (double)s->n, s->min, s->max, sp, unit,
             100 * ACQ_SELFCHECK_CLIP_FRAC, full_scale > 0 ? " below its declared full scale" : "");
}

int acq_selfcheck_samples(const float *x, size_t n, double full_scale, char *reason, size_t len)
{
    verdict v = {0, 0, ""};
    if (!x || n == 0) {
        fail(&v, ACQ_SELFCHECK_FLATLINE, "no samples");
    } else {
        double fs = full_scale > 0 ? full_scale : 0;
        scan s;
        scan_samples(x, n, 1, fs, &s);
        judge_samples(&s, fs, "", &v);
    }
    if (reason && len)
        snprintf(reason, len, "%s", v.bad ? v.msg : "");
    return v.bad ? 1 : 0;
}

/* ---- streaming ------------------------------------------------------------------------- */

const char *acq_selfcheck_state_name(enum acq_selfcheck_state s)
{
    return s == ACQ_SELFCHECK_OK ? "ok" : s == ACQ_SELFCHECK_SENSOR_FAULT ? "sensor_fault" : "?";
}

acq_selfcheck *acq_selfcheck_new(const acq_info *info)
{
    if (!info || info->nchan < 1 || info->nchan > ACQ_MAX_CHANNELS || !(info->rate_hz > 0))
        return NULL;
    acq_selfcheck *sc = calloc(1, sizeof *sc);
    if (!sc)
        return NULL;
    sc->info = *info;
    return sc;
}

void acq_selfcheck_free(acq_selfcheck *sc) { free(sc); }

const acq_selfcheck_channel *acq_selfcheck_channel_status(const acq_selfcheck *sc, unsigned ch)
{
    return sc && ch < sc->info.nchan ? &sc->ch[ch] : NULL;
}

static unsigned popcount64(uint64_t v)
{
    unsigned c = 0;
    for (; v; v &= v - 1)
        c++;
    return c;
}

/* Timestamps of contiguous frames against nsamp / rate, judged over ≥ RATE_SPAN_S. */
static void track_timestamps(acq_selfcheck *sc, const acq_frame *f)
{
    const unsigned breaks = ACQ_FRAME_GAP | ACQ_FRAME_OVERRUN | ACQ_FRAME_TIMELAPSE | ACQ_FRAME_SNAPSHOT;
    bool contiguous = sc->have_prev && f->seq == sc->prev_seq + 1 && !(f->flags & breaks);
    if (!contiguous) {
        sc->run_t0_ns = f->t0_ns;
        sc->run_samples = 0;
    } else {
        sc->run_samples += sc->prev_nsamp;
        double expected = (double)sc->run_samples / f->rate_hz;
        if (expected >= ACQ_SELFCHECK_RATE_SPAN_S) {
            double actual = 1e-9 * (double)(f->t0_ns - sc->run_t0_ns);
            /* the rate the timestamps say against the nominal one: expected / actual */
            sc->ts_bad = !(actual > 0) || fabs(expected / actual - 1) > ACQ_SELFCHECK_RATE_TOL;
            sc->ts_actual_s = actual;
            sc->ts_expected_s = expected;
            sc->ts_samples = sc->run_samples;
            sc->run_t0_ns = f->t0_ns;
            sc->run_samples = 0;
        }
    }
    sc->have_prev = true;
    sc->prev_seq = f->seq;
    sc->prev_nsamp = f->nsamp;
}

int acq_selfcheck_feed(acq_selfcheck *sc, const acq_frame *f)
{
    if (!sc || !f || f->nchan != sc->info.nchan || !(f->rate_hz > 0) || (f->nsamp && !f->samples) ||
        f->nsamp > f->capacity)
        return -EINVAL;
    const acq_info *in = &sc->info;

    /* frame-level findings, for every channel */
    sc->gap_hist = (sc->gap_hist << 1) | ((f->flags & (ACQ_FRAME_GAP | ACQ_FRAME_OVERRUN)) ? 1 : 0);
    sc->clip_hist = (sc->clip_hist << 1) | ((f->flags & ACQ_FRAME_CLIPPED) ? 1 : 0);
    unsigned gaps = popcount64(sc->gap_hist & ((1ull << ACQ_SELFCHECK_GAP_WINDOW) - 1));
    unsigned clips = popcount64(sc->clip_hist & ((1ull << ACQ_SELFCHECK_CLIP_WINDOW) - 1));
    track_timestamps(sc, f);
    double req = in->rate_requested_hz, meas = in->rate_measured_hz;
    bool rate_off = req > 0 && fabs(f->rate_hz / req - 1) > ACQ_SELFCHECK_RATE_TOL;
    /* a live backend that measures its device's clock says so in the info (where the checker was
     * made after the measurement); otherwise the frames' timestamps, which follow that clock,
     * tell the same over a second of frames */
    bool meas_off = meas > 0 && fabs(meas / f->rate_hz - 1) > ACQ_SELFCHECK_RATE_TOL;

    int changed = 0;
    for (unsigned c = 0; c < in->nchan; c++) {
        const acq_channel_info *ci = &in->ch[c];
        acq_selfcheck_channel *st = &sc->ch[c];
        double fs = ci->full_scale > 0 ? ci->full_scale : 0;
        verdict v = {0, 0, ""};
        scan s;
        scan_samples(f->samples + c, f->nsamp, f->nchan, fs, &s);
        size_t nfin = s.n - s.nonfinite;

        if (in->dc_coupled && ci->volts_per_unit > 0 && nfin > 0) {
            double volts = s.sum / (double)nfin * ci->volts_per_unit;
            const char *why = NULL;
            if (volts < ACQ_SELFCHECK_BIAS_SHORT_V)
                why = "sensor shorted or unpowered";
            else if (volts > ACQ_SELFCHECK_BIAS_OPEN_V)
                why = "near the supply, the sensor loop is open: cable cut or sensor unplugged";
            else if (volts < ACQ_SELFCHECK_BIAS_LO_V)
                why = "too low: a damaged sensor, or moisture or a fault in its cable";
            else if (volts > ACQ_SELFCHECK_BIAS_HI_V)
                why = "too high: a failing sensor amplifier or a cable fault";
            if (why)
                fail(&v, ACQ_SELFCHECK_BIAS, "bias %.1f V: %s (a working IEPE sensor sits at %g-%g V)", volts, why,
                     ACQ_SELFCHECK_BIAS_LO_V, ACQ_SELFCHECK_BIAS_HI_V);
        }
        judge_samples(&s, fs, ci->unit, &v);
        if (gaps > ACQ_SELFCHECK_GAP_MAX)
            fail(&v, ACQ_SELFCHECK_DROPOUT,
                 "dropout: %u of the last %d frames followed lost samples (gap or overrun; limit %d): the "
                 "acquisition is losing data",
                 gaps, ACQ_SELFCHECK_GAP_WINDOW, ACQ_SELFCHECK_GAP_MAX);
        if (!(fs > 0) && clips >= ACQ_SELFCHECK_CLIP_FLAGGED)
            fail(&v, ACQ_SELFCHECK_CLIPPING,
                 "clipping: %u of the last %d frames were flagged clipped (limit %d): the input saturates again and "
                 "again",
                 clips, ACQ_SELFCHECK_CLIP_WINDOW, ACQ_SELFCHECK_CLIP_FLAGGED - 1);
        if (rate_off)
            fail(&v, ACQ_SELFCHECK_RATE,
                 "sample rate %g Hz, but %g Hz was requested (%.1f %% off, limit %g %%): every frequency would be "
                 "misread",
                 f->rate_hz, req, 100 * fabs(f->rate_hz / req - 1), 100 * ACQ_SELFCHECK_RATE_TOL);
        else if (meas_off)
            fail(&v, ACQ_SELFCHECK_RATE,
                 "sample rate: the device runs at %.6g Hz by the clock, not its nominal %g Hz (%+.1f %%, limit %g %%): "
                 "every frequency would be misread",
                 meas, f->rate_hz, 100 * (meas / f->rate_hz - 1), 100 * ACQ_SELFCHECK_RATE_TOL);
        else if (sc->ts_bad)
            fail(&v, ACQ_SELFCHECK_RATE,
                 "sample rate: %llu samples spanned %.3f s by the frames' timestamps but %.3f s at %g Hz: measured "
                 "%.6g Hz against the nominal %g Hz (%+.1f %%, limit %g %%): the clock or the rate is wrong",
                 (unsigned long long)sc->ts_samples, sc->ts_actual_s, sc->ts_expected_s, f->rate_hz,
                 sc->ts_actual_s > 0 ? (double)sc->ts_samples / sc->ts_actual_s : 0.0, f->rate_hz,
                 sc->ts_actual_s > 0 ? 100 * (sc->ts_expected_s / sc->ts_actual_s - 1) : -100.0,
                 100 * ACQ_SELFCHECK_RATE_TOL);

        st->checks = v.bad;
        if (v.bad) {
            if (st->state == ACQ_SELFCHECK_OK) {
                st->state = ACQ_SELFCHECK_SENSOR_FAULT;
                st->fault_seq = f->seq;
                st->faults++;
                changed++;
            }
            st->fault_check = v.named;
            snprintf(st->reason, sizeof st->reason, "%s", v.msg);
            st->clean_frames = 0;
            st->clean_samples = 0;
        } else if (st->state == ACQ_SELFCHECK_SENSOR_FAULT) {
            st->clean_frames++;
            st->clean_samples += f->nsamp;
            if (st->clean_frames >= ACQ_SELFCHECK_CLEAR_FRAMES &&
                (double)st->clean_samples >= ACQ_SELFCHECK_CLEAR_S * f->rate_hz - 0.5) {
                st->state = ACQ_SELFCHECK_OK;
                changed++;
            }
        }
    }
    return changed;
}
