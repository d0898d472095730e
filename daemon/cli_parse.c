/* daemon/cli_parse.c — what the subcommands share: strict number parsing for command-line flags
 * (the whole text must be a finite number, so "12k" or "1e999" is an error, not 12 or infinity),
 * and loading the configuration of -c or the embedded default. */
#include "cli.h"
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int cli_parse_double(const char *s, double *out)
{
    if (!s || !*s)
        return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(v))
        return -EINVAL;
    *out = v;
    return 0;
}

int cli_parse_doubles(const char *s, double *out, int n)
{
    if (!s)
        return -EINVAL;
    const char *p = s;
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno == ERANGE || !isfinite(v))
            return -EINVAL;
        out[i] = v;
        if (i < n - 1) {
            if (*end != ',')
                return -EINVAL;
            p = end + 1;
        } else if (*end) {
            return -EINVAL;
        }
    }
    return 0;
}

int cli_parse_duration_h(const char *s, double *hours)
{
    if (!s || !*s)
        return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno == ERANGE || !isfinite(v) || v <= 0)
        return -EINVAL;
    double unit;
    if (!strcmp(end, "d"))
        unit = 24;
    else if (!strcmp(end, "h"))
        unit = 1;
    else if (!strcmp(end, "m"))
        unit = 1.0 / 60;
    else if (!strcmp(end, "s"))
        unit = 1.0 / 3600;
    else
        return -EINVAL;
    *hours = v * unit;
    return 0;
}

vw_config *cli_load_config(const char *cmd, const char *path)
{
    char err[768];
    vw_config *cfg = path ? vw_config_load(path, err, sizeof err) : vw_config_default(err, sizeof err);
    if (!cfg)
        fprintf(stderr, "vibewatch %s: %s\n", cmd, err);
    return cfg;
}
