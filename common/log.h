/* common/log.h — logging to stderr in a form journald understands: "<N>module: message", where N is
 * the syslog priority (journald reads the prefix; on a terminal it is a short level tag), one line
 * per event. A repeating failure (a sensor gone, a server down) goes through a vw_log_limiter:
 * logged once, then at growing intervals with the count of repeats, then once on recovery.
 * Thread-safe: each line is written with one write(2). */
#ifndef VW_COMMON_LOG_H
#define VW_COMMON_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vw_log_level { VW_LOG_ERR = 3, VW_LOG_WARNING = 4, VW_LOG_NOTICE = 5, VW_LOG_INFO = 6, VW_LOG_DEBUG = 7 };

void vw_log(enum vw_log_level level, const char *module, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A time as ISO 8601 UTC with milliseconds, "2026-11-29T04:20:00.250Z" (the API's and the replay
 * lines' form); buf of 32 bytes suffices. */
void vw_iso8601(int64_t t_ns, char *buf, size_t len);
/* Lines above this level are not written (default VW_LOG_INFO). */
void vw_log_set_level(enum vw_log_level max);

typedef struct vw_log_limiter {
    bool failing;
    uint64_t repeats;           /* failures since the last line */
    int64_t next_ns;            /* monotonic time of the next line allowed */
    int64_t interval_ns;        /* grows 10 s → 20 s → … → 1 h */
} vw_log_limiter;

/* A failure: logged now if due, else counted. */
void vw_log_failure(vw_log_limiter *l, enum vw_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Success after failures: one line saying it recovered (and how many repeats were not logged). */
void vw_log_recovered(vw_log_limiter *l, const char *module, const char *what);

#endif
