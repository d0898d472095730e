/* acquisition/src_file.c — placeholder until the file: backend lands. */
#include "source.h"

#include <errno.h>
#include <stdio.h>

static int todo_open(acq_source *s, const char *target, acq_query *q, acq_info *info, char *err, size_t errlen)
{
    (void)s; (void)target; (void)q; (void)info;
    snprintf(err, errlen, "the file: source is not implemented yet");
    return -ENOSYS;
}

static int todo_read(acq_source *s, acq_frame *f, char *err, size_t errlen)
{
    (void)s; (void)f;
    snprintf(err, errlen, "not implemented");
    return -ENOSYS;
}

const acq_source_ops acq_src_file = {.scheme = "file", .open = todo_open, .read = todo_read};
