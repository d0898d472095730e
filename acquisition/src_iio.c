/* acquisition/src_iio_off.c — the `iio:` scheme when vibewatch is built with WITH_IIO=0: it
 * reports itself unavailable instead of leaving the scheme unknown. */
#include "source.h"

#include <errno.h>
#include <stdio.h>

static int off_open(acq_source *s, const char *target, acq_query *q, acq_info *info, char *err, size_t errlen)
{
    (void)s; (void)target; (void)q; (void)info;
    snprintf(err, errlen, "this vibewatch was built without iio support (WITH_IIO=0)");
    return -ENOTSUP;
}

static int off_read(acq_source *s, acq_frame *f, char *err, size_t errlen)
{
    (void)s; (void)f;
    snprintf(err, errlen, "iio support is not built in");
    return -ENOTSUP;
}

const acq_source_ops acq_src_iio = {.scheme = "iio", .open = off_open, .read = off_read};
