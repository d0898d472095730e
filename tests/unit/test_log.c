/* tests/unit/test_log.c — the log's lines as journald reads them: "<priority>module: message", one
 * line per event, and a message that already names its module not naming it twice. */
#include "common/log.h"
#include "tests/unit/testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What one vw_log call writes to stderr. */
static const char *logged(enum vw_log_level level, const char *module, const char *msg)
{
    static char buf[2048];
    buf[0] = 0;
    fflush(stderr);
    FILE *f = tmpfile();
    int saved = dup(STDERR_FILENO);
    if (!f || saved < 0 || dup2(fileno(f), STDERR_FILENO) < 0) {
        if (f)
            fclose(f);
        return "(could not capture stderr)";
    }
    vw_log(level, module, "%s", msg);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void test_lines(void)
{
    const char *l = logged(VW_LOG_WARNING, "run", "a request: not taken");
    T_CHECK(!strcmp(l, "<4>run: a request: not taken\n"), "plain line: [%s]", l);
    l = logged(VW_LOG_ERR, "history", "two\nlines");
    T_CHECK(!strcmp(l, "<3>history: two lines\n"), "a newline inside stays one line: [%s]", l);
}

static void test_module_not_twice(void)
{
    const char *l = logged(VW_LOG_ERR, "history", "history: /var/lib/vibewatch/history.sqlite3: disk full");
    T_CHECK(!strcmp(l, "<3>history: /var/lib/vibewatch/history.sqlite3: disk full\n"), "module named once: [%s]", l);
    l = logged(VW_LOG_INFO, "run", "history: kept");
    T_CHECK(!strcmp(l, "<6>run: history: kept\n"), "another module's name stays: [%s]", l);
    l = logged(VW_LOG_INFO, "history", "historyx: kept");
    T_CHECK(!strcmp(l, "<6>history: historyx: kept\n"), "a longer word stays: [%s]", l);
    l = logged(VW_LOG_INFO, "history", "history:");
    T_CHECK(!strcmp(l, "<6>history: history:\n"), "the bare name stays: [%s]", l);
}

int main(void)
{
    T_RUN(test_lines);
    T_RUN(test_module_not_twice);
    return t_done();
}
