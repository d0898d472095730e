/* acquisition/capture.c — see capture.h. Frames are copied into one buffer sized up front for
 * the requested length, so a live source is never slowed by reallocation. */
#include "capture.h"
#include "selfcheck.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool acq_is_source_uri(const char *s)
{
    static const char *const schemes[] = {"iio:", "alsa:", "file:", "sim:"};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (strncmp(s, schemes[i], strlen(schemes[i])) == 0)
            return true;
    return false;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int acq_capture(const char *uri, double seconds, const acq_capture_opts *opts, acq_recording *out,
                acq_capture_report *rep, char *err, size_t errlen)
{
    acq_capture_opts defaults = {0};
    if (!opts)
        opts = &defaults;
    double outage_max = opts->outage_s > 0 ? opts->outage_s : 60;
    memset(out, 0, sizeof *out);
    memset(rep, 0, sizeof *rep);
    rep->temp_c = NAN;
    if (!(seconds > 0) || seconds > 86400) {
        snprintf(err, errlen, "%s: --seconds must be more than 0 and at most 86400, not %g", uri, seconds);
        return -EINVAL;
    }
    acq_source *s = acq_open(uri, err, errlen);
    if (!s)
        return -EINVAL;
    const acq_info *info = acq_source_info(s);
    rep->info = *info;
    if (opts->whole_hz_rate && info->rate_hz != floor(info->rate_hz)) {
        snprintf(err, errlen, "%s: the source runs at %.6g Hz; a WAV file holds whole hertz only", uri, info->rate_hz);
        acq_close(s);
        return -EINVAL;
    }
    double want_d = ceil(seconds * info->rate_hz);
    size_t nchan = info->nchan;
    if (want_d < 1 || want_d * (double)nchan * sizeof(float) > (double)ACQ_RECORDING_MAX_BYTES) {
        snprintf(err, errlen, "%s: %g s at %g Hz × %zu channels is more than the %llu MiB a capture may hold", uri,
                 seconds, info->rate_hz, nchan, ACQ_RECORDING_MAX_BYTES >> 20);
        acq_close(s);
        return -EFBIG;
    }
    size_t want = (size_t)want_d;
    size_t cap = want < 8192 ? want : 8192;
    acq_frame *f = acq_frame_new((unsigned)nchan, cap);
    float *buf = malloc(want * nchan * sizeof *buf);
    acq_selfcheck *sc = acq_selfcheck_new(info);
    int rc = 0;
    double down_since = 0, down_total = 0;
    if (!f || !buf || !sc) {
        snprintf(err, errlen, "%s: out of memory for %zu samples", uri, want * nchan);
        rc = -ENOMEM;
        goto done;
    }
    size_t have = 0;
    while (have < want) {
        f->capacity = want - have < cap ? want - have : cap;
        rc = acq_read(s, f, err, errlen);
        if (rc == ACQ_END) {
            rep->ended_early = true;
            rc = 0;
            break;
        }
        if ((rc == -EAGAIN || rc == -ETIMEDOUT) && !info->finite) {
            /* the source is reconnecting: wait it out, within a bound */
            double now = mono_s();
            if (down_since == 0) {
                down_since = now;
                rep->transient_errors++;
                fprintf(stderr, "%s (waiting for it)\n", err);
            }
            if (down_total + (now - down_since) > outage_max) {
                snprintf(err + strlen(err), errlen - strlen(err), "; gave up after %.0f s without samples", outage_max);
                goto done;
            }
            continue;
        }
        if (rc < 0)
            goto done;
        if (down_since != 0) {
            down_total += mono_s() - down_since;
            down_since = 0;
        }
        acq_selfcheck_feed(sc, f);
        for (unsigned c = 0; c < nchan; c++) {
            const acq_selfcheck_channel *st = acq_selfcheck_channel_status(sc, c);
            if (st && st->state == ACQ_SELFCHECK_SENSOR_FAULT && !rep->sensor_fault[c]) {
                rep->sensor_fault[c] = true;
                snprintf(rep->fault_reason[c], sizeof rep->fault_reason[c], "%s", st->reason);
            }
        }
        if (have == 0)
            rep->t0_ns = f->t0_ns;
        if (f->flags & (ACQ_FRAME_GAP | ACQ_FRAME_OVERRUN))
            rep->frames_with_gaps++;
        if (f->flags & ACQ_FRAME_CLIPPED)
            rep->frames_clipped++;
        if (!isnan(f->temp_c))
            rep->temp_c = f->temp_c;
        size_t n = f->nsamp < want - have ? f->nsamp : want - have;
        memcpy(buf + have * nchan, f->samples, n * nchan * sizeof *buf);
        have += n;
    }
    if (have == 0) {
        snprintf(err, errlen, "%s: the source delivered no samples", uri);
        rc = -ENODATA;
        goto done;
    }
    out->fs_hz = info->rate_hz;
    out->nframes = have;
    out->nchan = (unsigned)nchan;
    out->samples = buf;
    buf = NULL;
    snprintf(out->format, sizeof out->format, "%.*s source, %u ch", (int)strcspn(uri, ":"), uri, out->nchan);
done:
    acq_source_stats(s, &rep->stats);
    acq_selfcheck_free(sc);
    free(buf);
    acq_frame_free(f);
    acq_close(s);
    return rc;
}
