/* common/log.c — see log.h. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum vw_log_level max_level = VW_LOG_INFO;

void vw_log_set_level(enum vw_log_level max) { max_level = max; }

static void vlog(enum vw_log_level level, const char *module, const char *fmt, va_list ap)
{
    if (level > max_level)
        return;
    char line[1024];
    int k = snprintf(line, sizeof line, "<%d>%s: ", (int)level, module);
    if (k < 0)
        return;
    if ((size_t)k < sizeof line) {
        int m = vsnprintf(line + k, sizeof line - (size_t)k, fmt, ap);
        if (m > 0) {
            /* a message that already names its module ("history: PATH: …": the store's errors,
             * which the commands print whole) does not name it twice */
            size_t ml = strlen(module), avail = strnlen(line + k, sizeof line - (size_t)k);
            if (ml && avail > ml + 2 && !strncmp(line + k, module, ml) && line[k + ml] == ':' && line[k + ml + 1] == ' ') {
                memmove(line + k, line + k + ml + 2, avail - ml - 2 + 1);
                m = (int)(avail - ml - 2);
            }
            k += m;
        }
    }
    if ((size_t)k >= sizeof line - 1)
        k = (int)sizeof line - 2;
    /* one line per event: newlines inside a message would split it in the journal */
    for (int i = 0; i < k; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[k++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)k);
    (void)w;
}

void vw_log(enum vw_log_level level, const char *module, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, module, fmt, ap);
    va_end(ap);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void vw_log_failure(vw_log_limiter *l, enum vw_log_level level, const char *module, const char *fmt, ...)
{
    int64_t now = mono_ns();
    if (l->failing && now < l->next_ns) {
        l->repeats++;
        return;
    }
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (l->failing && l->repeats)
        vw_log(level, module, "%s (still failing; %llu more time(s) since the last report)", msg,
               (unsigned long long)l->repeats);
    else
        vw_log(level, module, "%s", msg);
    l->interval_ns = l->failing ? (l->interval_ns * 2 > 3600000000000LL ? 3600000000000LL : l->interval_ns * 2)
                                : 10000000000LL;
    l->failing = true;
    l->repeats = 0;
    l->next_ns = now + l->interval_ns;
}

void vw_log_recovered(vw_log_limiter *l, const char *module, const char *what)
{
    if (!l->failing)
        return;
    vw_log(VW_LOG_NOTICE, module, "%s recovered%s", what, l->repeats ? " (after further failures not logged)" : "");
    memset(l, 0, sizeof *l);
}

void vw_iso8601(int64_t t_ns, char *buf, size_t len)
{
    time_t sec = (time_t)(t_ns >= 0 ? t_ns / 1000000000 : (t_ns - 999999999) / 1000000000);
    int ms = (int)(((t_ns - (int64_t)sec * 1000000000) / 1000000) % 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%.20s.%03dZ", base, ms < 0 ? 0 : ms);
}
