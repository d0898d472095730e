/* models/iso10816.c — ISO 10816-3:2009 zone boundaries (Table A.1 and A.2, velocity RMS).
 * Groups 3 and 4 (pumps) share the boundaries of groups 1 and 2 in the standard's tables. */
#include "iso10816.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static const double limits[2][2][3] = {
    /* group 1 (and 3) */ {{2.3, 4.5, 7.1}, {3.5, 7.1, 11.0}},
    /* group 2 (and 4) */ {{1.4, 2.8, 4.5}, {2.3, 4.5, 7.1}},
};

int models_iso10816_limits(int group, enum models_foundation f, double out[3])
{
    if (group < 1 || group > 4 || (f != MODELS_FOUNDATION_RIGID && f != MODELS_FOUNDATION_FLEXIBLE))
        return -EINVAL;
    const double *l = limits[(group - 1) % 2][f];
    memcpy(out, l, 3 * sizeof *out);
    return 0;
}

char models_iso10816_zone(double v, int group, enum models_foundation f)
{
    double l[3];
    if (models_iso10816_limits(group, f, l) < 0 || !(v >= 0) || !isfinite(v))
        return '?';
    return v < l[0] ? 'A' : v < l[1] ? 'B' : v < l[2] ? 'C' : 'D';
}

int models_foundation_parse(const char *s, enum models_foundation *out)
{
    if (s && strcmp(s, "rigid") == 0)
        *out = MODELS_FOUNDATION_RIGID;
    else if (s && strcmp(s, "flexible") == 0)
        *out = MODELS_FOUNDATION_FLEXIBLE;
    else
        return -EINVAL;
    return 0;
}

const char *models_foundation_name(enum models_foundation f)
{
    return f == MODELS_FOUNDATION_FLEXIBLE ? "flexible" : "rigid";
}
