/* models/numeric.c — see numeric.h. */
#include "models/numeric.h"

#include <math.h>

double models_bisect(double (*f)(const void *ctx, double x), const void *ctx, double target, double lo, double hi,
                     double rel_tol)
{
    for (int i = 0; i < 200 && hi - lo > rel_tol * fmax(1, fmax(fabs(lo), fabs(hi))); i++) {
        double mid = 0.5 * (lo + hi);
        if (f(ctx, mid) < target)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

void models_json_number(cJSON *obj, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(obj, key, v);
    else
        cJSON_AddNullToObject(obj, key);
}
