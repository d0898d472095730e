/* acquisition/capture.c — see capture.h. Frames are copied into one buffer sized up front for
 * the requested length, so a live source is never slowed by reallocation. */
#include "capture.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool acq_is_source_uri(const char *s)
{
    static const char *const schemes[] = {"iio:", "alsa:", "file:", "sim:"};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (strncmp(s, schemes[i], strlen(schemes[i])) == 0)
            return true;
    return false;
}

int acq_capture(const char *uri, double seconds, acq_recording *out, acq_capture_report *rep, char *err,
                size_t errlen)
{
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
    int rc = 0;
    if (!f || !buf) {
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
        if (rc < 0)
            goto done;
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
    snprintf(out->format, sizeof out->format, "%s:, %u ch", uri[0] == 'i' ? "iio" : uri[0] == 'a' ? "alsa"
             : uri[0] == 'f' ? "file" : "sim", out->nchan);
done:
    acq_source_stats(s, &rep->stats);
    free(buf);
    acq_frame_free(f);
    acq_close(s);
    return rc;
}
