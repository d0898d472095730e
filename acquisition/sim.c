/* acquisition/sim.c — see sim.h. The impact train is laid out from t0 so that consecutive
 * calls give consecutive pieces only for the sinusoids and the noise; the impacts are drawn
 * afresh per call, which is what a snapshot-based box sees anyway. */
#include "sim.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* xorshift64*: small, fast, and the same on every platform */
static double next_uniform(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static double next_gauss(uint64_t *s)
{
    double u = next_uniform(s), v = next_uniform(s);
    if (u < 1e-300)
        u = 1e-300;
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

int acq_sim_fault_parse(const char *s, enum acq_sim_fault *out)
{
    static const char *names[] = {"none", "outer", "inner", "ball"};
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, names[i]) == 0) {
            *out = (enum acq_sim_fault)i;
            return 0;
        }
    return -EINVAL;
}

int acq_sim_generate(const acq_sim_params *p, double t0_s, float *out, size_t n)
{
    if (!(p->fs_hz > 0) || !(p->shaft_hz >= 0) || p->shaft_hz >= p->fs_hz / 2 || !(p->noise_rms_g >= 0) ||
        (p->fault != ACQ_SIM_NONE && (!(p->defect_order > 0) || !(p->resonance_hz > 0) ||
                                      p->resonance_hz >= p->fs_hz / 2 || !(p->damping > 0) || p->damping >= 1)))
        return -EINVAL;
    uint64_t rng = p->seed ? p->seed : 0x9E3779B97F4A7C15ull;
    double w1 = 2 * M_PI * p->shaft_hz;
    for (size_t i = 0; i < n; i++) {
        double t = t0_s + (double)i / p->fs_hz;
        out[i] = (float)(p->x1_g * sin(w1 * t) + p->x2_g * sin(2 * w1 * t + 0.7) + p->noise_rms_g * next_gauss(&rng));
    }
    if (p->fault == ACQ_SIM_NONE)
        return 0;
    double fd = p->defect_order * p->shaft_hz;
    double wn = 2 * M_PI * p->resonance_hz, zeta = p->damping;
    double wd = wn * sqrt(1 - zeta * zeta);
    /* ring until the response falls to 1e-4 of its peak */
    size_t ring = (size_t)ceil(log(1e4) / (zeta * wn) * p->fs_hz);
    double dur = (double)n / p->fs_hz;
    double t = next_uniform(&rng) / fd; /* first impact somewhere in the first period */
    while (t < dur) {
        double tabs = t0_s + t, mod = 1.0;
        if (p->fault == ACQ_SIM_INNER)
            mod = 0.5 * (1 + cos(w1 * tabs));                        /* load zone, once a turn */
        else if (p->fault == ACQ_SIM_BALL)
            mod = 0.5 * (1 + cos(2 * M_PI * p->cage_order * p->shaft_hz * tabs)); /* with the cage */
        double amp = p->impact_g * mod;
        size_t i0 = (size_t)ceil(t * p->fs_hz);
        for (size_t i = i0; i < n && i < i0 + ring; i++) {
            double tau = (double)i / p->fs_hz - t;
            out[i] += (float)(amp * exp(-zeta * wn * tau) * sin(wd * tau));
        }
        t += (1 + p->jitter * next_gauss(&rng)) / fd;
    }
    return 0;
}
