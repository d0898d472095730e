/* models/numeric.h — small numeric and JSON helpers the models share. */
#ifndef VW_MODELS_NUMERIC_H
#define VW_MODELS_NUMERIC_H

#include <cJSON.h>

/* The x in [lo, hi] where the non-decreasing f(ctx, x) reaches target, by bisection until the
 * bracket is narrower than rel_tol × max(1, |x|) (at most 200 halvings). */
double models_bisect(double (*f)(const void *ctx, double x), const void *ctx, double target, double lo, double hi,
                     double rel_tol);

/* obj[key] = v, or null when v is not finite (JSON has no NaN or infinity). */
void models_json_number(cJSON *obj, const char *key, double v);

#endif
