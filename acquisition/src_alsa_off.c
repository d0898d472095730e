/* acquisition/src_alsa_off.c — the `alsa:` scheme when vibewatch is built with WITH_ALSA=0: it
 * reports itself unavailable instead of leaving the scheme unknown. */
#include "source.h"

#include <errno.h>
#include <stdio.h>

static int off_open(acq_source *s, const char *target, acq_query *q, acq_info *info, char *err, size_t errlen)
{
    (void)s; (void)target; (void)q; (void)info;
    snprintf(err, errlen, "this vibewatch was built without alsa support (WITH_ALSA=0)");
    return -ENOTSUP;
}

static int off_read(acq_source *s, acq_frame *f, char *err, size_t errlen)
{
    (void)s; (void)f;
    snprintf(err, errlen, "alsa support is not built in");
    return -ENOTSUP;
}

const acq_source_ops acq_src_alsa = {.scheme = "alsa", .open = off_open, .read = off_read};
