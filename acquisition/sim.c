/* acquisition/sim.c — see sim.h. acq_sim_generate() lays the impact train out from t0, so
 * consecutive calls give consecutive pieces only for the sinusoids and the noise; the impacts are
 * drawn afresh per call, which is what a snapshot-based box sees anyway. The ageing machine
 * (acq_sim_machine) is a streaming state instead: every call continues the last one. */
#include "sim.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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
    int impacts = p->fault == ACQ_SIM_OUTER || p->fault == ACQ_SIM_INNER || p->fault == ACQ_SIM_BALL;
    if (!(p->fs_hz > 0) || !(p->shaft_hz >= 0) || p->shaft_hz >= p->fs_hz / 2 || !(p->noise_rms_g >= 0) ||
        (impacts && (!(p->defect_order > 0) || !(p->resonance_hz > 0) || p->resonance_hz >= p->fs_hz / 2 ||
                     !(p->damping > 0) || p->damping >= 1)))
        return -EINVAL;
    uint64_t rng = p->seed ? p->seed : 0x9E3779B97F4A7C15ull;
    double w1 = 2 * M_PI * p->shaft_hz;
    for (size_t i = 0; i < n; i++) {
        double t = t0_s + (double)i / p->fs_hz;
        out[i] = (float)(p->x1_g * sin(w1 * t) + p->x2_g * sin(2 * w1 * t + 0.7) + p->noise_rms_g * next_gauss(&rng));
    }
    if (!impacts)
        return 0; /* none, or imbalance: the caller's x1_g is all of it */
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

const char *acq_sim_fault_name(enum acq_sim_fault f)
{
    switch (f) {
    case ACQ_SIM_NONE: return "none";
    case ACQ_SIM_OUTER: return "outer_race";
    case ACQ_SIM_INNER: return "inner_race";
    case ACQ_SIM_BALL: return "ball";
    case ACQ_SIM_IMBALANCE: return "imbalance";
    }
    return "?";
}

/* ---- the ageing machine (see sim.h for the model and its numbers) ------------------------ */

#define BLOCK 64      /* samples between updates of the speed and exact phasors */
#define MAX_TONES 8
#define TWO_PI (2 * M_PI)

typedef struct tone {
    double order;                       /* multiple of shaft speed */
    double amp_g[ACQ_SIM_MAX_CHANNELS]; /* peak, per direction x, y, z */
    double phase_rad[ACQ_SIM_MAX_CHANNELS];
} tone;

typedef struct kind_model {
    const char *name;
    double shaft_hz;
    double wander_rel, wander_tau_s;    /* speed wander: standard deviation, correlation time */
    int ntones;
    tone tones[MAX_TONES];              /* tones[0] is 1X (imbalance scales it) */
    double line_hz, line_g[ACQ_SIM_MAX_CHANNELS]; /* the motor's 2×line-frequency magnetic line */
    double noise_rms_g;                 /* broadband flow and sensor noise, per channel */
    double res_hz[ACQ_SIM_MAX_CHANNELS], res_zeta[ACQ_SIM_MAX_CHANNELS];
    double res_noise_rms_g;             /* the resonances' response to the flow noise */
    double impact_g;                    /* one impact's ringing at failure, x channel */
    double temp_rise_c;                 /* housing above ambient when running healthy */
} kind_model;

/* x radial horizontal, y radial vertical (in the load zone), z axial */
static const double impact_gain[ACQ_SIM_MAX_CHANNELS] = {1.0, 1.3, 0.45};
#define IMBALANCE_GROWTH 7.0 /* 1X at failure = (1 + 7) × healthy */
#define BALL_INNER_HIT 0.6   /* a ball spall's inner-race strike, relative to its outer-race one */

static const kind_model pump_model = {
    .name = "pump", .shaft_hz = 2970.0 / 60, .wander_rel = 0.001, .wander_tau_s = 2,
    .ntones = 6,
    .tones = {
        {1, {0.035, 0.025, 0.012}, {0.0, -1.5708, 0.4}},   /* 1X: x and y in quadrature */
        {2, {0.015, 0.012, 0.020}, {0.7, 2.1, 1.3}},        /* 2X: axial the largest */
        {3, {0.006, 0.005, 0.004}, {1.9, 0.3, 2.8}},
        {7, {0.080, 0.060, 0.030}, {0.2, 1.1, 2.4}},        /* vane pass */
        {14, {0.040, 0.030, 0.015}, {2.5, 0.9, 1.7}},
        {21, {0.020, 0.015, 0.008}, {1.2, 2.9, 0.5}},
    },
    .line_hz = 100, .line_g = {0.010, 0.008, 0.004},
    .noise_rms_g = 0.12, .res_hz = {3100, 4400, 2300}, .res_zeta = {0.05, 0.04, 0.06},
    .res_noise_rms_g = 0.05, .impact_g = 3.0, .temp_rise_c = 18,
};

static const kind_model fan_model = {
    .name = "fan", .shaft_hz = 1480.0 / 60, .wander_rel = 0.0015, .wander_tau_s = 4,
    .ntones = 6,
    .tones = {
        {1, {0.040, 0.030, 0.015}, {0.0, -1.5708, 0.9}},
        {2, {0.010, 0.008, 0.012}, {1.1, 2.6, 0.2}},
        {3, {0.004, 0.003, 0.003}, {2.2, 0.6, 1.4}},
        {8, {0.050, 0.040, 0.025}, {0.4, 1.8, 2.9}},        /* blade pass */
        {16, {0.020, 0.015, 0.010}, {1.6, 0.2, 2.2}},
        {24, {0.008, 0.006, 0.004}, {2.7, 1.3, 0.8}},
    },
    .line_hz = 100, .line_g = {0.008, 0.006, 0.003},
    .noise_rms_g = 0.08, .res_hz = {2600, 3700, 1900}, .res_zeta = {0.05, 0.04, 0.06},
    .res_noise_rms_g = 0.035, .impact_g = 2.0, .temp_rise_c = 12,
};

/* splitmix64: one independent stream per purpose, the same on every platform */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rng_next(uint64_t *s) { return mix64(*s += 0x9E3779B97F4A7C15ull); }

static double rng_uniform(uint64_t *s) /* (0, 1) */
{
    return ((double)(rng_next(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Gaussian numbers by the ziggurat method (Marsaglia & Tsang, J. Stat. Softw. 5(8), 2000; 128
 * layers), with the layer index and the value taken from separate bits of a 64-bit draw (the
 * original shares them, a flaw Doornik (2005) points out). 99 % of draws cost one random number,
 * a compare and a multiply; the rest fall back to the exact wedge and tail tests. */
typedef struct zig_tables {
    uint32_t k[128];
    double w[128], f[128];
} zig_tables;

static void zig_init(zig_tables *z)
{
    const double m1 = 2147483648.0, vn = 9.91256303526217e-3;
    double dn = 3.442619855899, tn = dn;
    double q = vn / exp(-0.5 * dn * dn);
    z->k[0] = (uint32_t)((dn / q) * m1);
    z->k[1] = 0;
    z->w[0] = q / m1;
    z->w[127] = dn / m1;
    z->f[0] = 1;
    z->f[127] = exp(-0.5 * dn * dn);
    for (int i = 126; i >= 1; i--) {
        dn = sqrt(-2 * log(vn / dn + exp(-0.5 * dn * dn)));
        z->k[i + 1] = (uint32_t)((dn / tn) * m1);
        tn = dn;
        z->f[i] = exp(-0.5 * dn * dn);
        z->w[i] = dn / m1;
    }
}

typedef struct gauss_stream {
    uint64_t state;
} gauss_stream;

static double zig_slow(const zig_tables *z, gauss_stream *g, int32_t hz, unsigned iz)
{
    const double r = 3.442619855899;
    for (;;) {
        double x = hz * z->w[iz];
        if (iz == 0) { /* the tail beyond r */
            double t, y;
            do {
                t = -log(rng_uniform(&g->state)) / r;
                y = -log(rng_uniform(&g->state));
            } while (y + y < t * t);
            return hz > 0 ? r + t : -r - t;
        }
        if (z->f[iz] + rng_uniform(&g->state) * (z->f[iz - 1] - z->f[iz]) < exp(-0.5 * x * x))
            return x;
        uint64_t u = rng_next(&g->state);
        hz = (int32_t)(uint32_t)(u >> 32);
        iz = (unsigned)(u & 127);
        if ((uint32_t)(hz < 0 ? -(int64_t)hz : hz) < z->k[iz])
            return hz * z->w[iz];
    }
}

static inline double gauss_next(const zig_tables *z, gauss_stream *g)
{
    uint64_t u = rng_next(&g->state);
    int32_t hz = (int32_t)(uint32_t)(u >> 32);
    unsigned iz = (unsigned)(u & 127);
    if ((uint32_t)(hz < 0 ? -(int64_t)hz : hz) < z->k[iz])
        return hz * z->w[iz];
    return zig_slow(z, g, hz, iz);
}

enum { STREAM_NOISE = 1, STREAM_WANDER = 16, STREAM_IMPACT = 17, STREAM_TEMP = 18 };

static uint64_t stream_seed(uint64_t seed, uint64_t stream)
{
    return mix64(seed ^ mix64(stream * 0xD1B54A32D192ED03ull));
}

struct acq_sim_machine {
    acq_sim_machine_config cfg;
    const kind_model *km;
    unsigned nchan;
    double fs, f0;

    /* tonal lines: the phasor of each tone and its per-sample rotation, exact again every block */
    int ntones;
    double order[MAX_TONES], cr[MAX_TONES][ACQ_SIM_MAX_CHANNELS], ci[MAX_TONES][ACQ_SIM_MAX_CHANNELS];
    double zr[MAX_TONES], zi[MAX_TONES], wr[MAX_TONES], wi[MAX_TONES];
    double line_cr[ACQ_SIM_MAX_CHANNELS], line_ci[ACQ_SIM_MAX_CHANNELS];
    double lzr, lzi, lwr, lwi, line_phase, line_dphi;

    /* shaft: phase at the block's start, rad per sample, relative speed deviation */
    double phase, cage_phase, dphi, wander, wander_rho, wander_sd;
    unsigned pos; /* sample within the current block */

    /* resonances: y[n] = a1 y[n-1] + a2 y[n-2] + b·noise[n] */
    double a1[ACQ_SIM_MAX_CHANNELS], a2[ACQ_SIM_MAX_CHANNELS], b[ACQ_SIM_MAX_CHANNELS];
    double y1[ACQ_SIM_MAX_CHANNELS], y2[ACQ_SIM_MAX_CHANNELS];
    double sigma[ACQ_SIM_MAX_CHANNELS], wd[ACQ_SIM_MAX_CHANNELS]; /* 1/s, rad/s */

    zig_tables zig;
    gauss_stream noise[ACQ_SIM_MAX_CHANNELS], wander_g;
    gauss_stream impact_g;
    uint64_t impact_u;
    double defect_order;  /* impacts per shaft turn; 0: no impacts */
    double imp_next;      /* the next impact, in samples after the current sample */
    uint64_t nimpacts;
};

const char *acq_sim_machine_kind_name(enum acq_sim_machine_kind k)
{
    return k == ACQ_SIM_PUMP ? "pump" : k == ACQ_SIM_FAN ? "fan" : "?";
}

static int bad(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return -EINVAL;
}

static int check_config(const acq_sim_machine_config *c, char *err, size_t errlen)
{
    if (c->kind != ACQ_SIM_PUMP && c->kind != ACQ_SIM_FAN)
        return bad(err, errlen, "unknown machine kind");
    if (!(c->rate_hz >= 2000 && c->rate_hz <= 1e6))
        return bad(err, errlen, "sample rate must be 2000 to 1e6 Hz");
    if (c->nchan < 1 || c->nchan > ACQ_SIM_MAX_CHANNELS)
        return bad(err, errlen, "channels must be 1 to 3");
    if (!(c->shaft_hz == 0 || (c->shaft_hz >= 1 && c->shaft_hz <= c->rate_hz / 20)))
        return bad(err, errlen, "shaft speed must be 1 Hz to a 20th of the sample rate");
    if ((int)c->fault < ACQ_SIM_NONE || (int)c->fault > ACQ_SIM_IMBALANCE)
        return bad(err, errlen, "unknown fault");
    if (!(c->onset_days >= 0 && c->failure_days > c->onset_days && isfinite(c->failure_days)))
        return bad(err, errlen, "need 0 <= onset_days < failure_days");
    if (c->fault == ACQ_SIM_OUTER || c->fault == ACQ_SIM_INNER || c->fault == ACQ_SIM_BALL) {
        double o = c->fault == ACQ_SIM_OUTER ? c->bpfo : c->fault == ACQ_SIM_INNER ? c->bpfi : 2 * c->bsf;
        if (!(o > 0 && o < 100) || !(c->ftf > 0 && c->ftf < 1))
            return bad(err, errlen, "a bearing fault needs the bearing's orders (BPFO, BPFI, BSF, FTF)");
    }
    return 0;
}

/* One step of the speed wander and the exact phasors for the block that starts now. */
static void block_start(acq_sim_machine *m)
{
    m->wander = m->wander * m->wander_rho + m->wander_sd * gauss_next(&m->zig, &m->wander_g);
    m->dphi = TWO_PI * m->f0 * (1 + m->wander) / m->fs;
    for (int k = 0; k < m->ntones; k++) {
        m->zr[k] = cos(m->order[k] * m->phase);
        m->zi[k] = sin(m->order[k] * m->phase);
        m->wr[k] = cos(m->order[k] * m->dphi);
        m->wi[k] = sin(m->order[k] * m->dphi);
    }
    m->lzr = cos(m->line_phase);
    m->lzi = sin(m->line_phase);
}

static void block_end(acq_sim_machine *m)
{
    m->phase = fmod(m->phase + BLOCK * m->dphi, TWO_PI);
    m->cage_phase = fmod(m->cage_phase + BLOCK * m->dphi * m->cfg.ftf, TWO_PI);
    m->line_phase = fmod(m->line_phase + BLOCK * m->line_dphi, TWO_PI);
    m->pos = 0;
}

acq_sim_machine *acq_sim_machine_new(const acq_sim_machine_config *c, char *err, size_t errlen)
{
    if (check_config(c, err, errlen) < 0)
        return NULL;
    acq_sim_machine *m = calloc(1, sizeof *m);
    if (!m) {
        bad(err, errlen, "out of memory");
        return NULL;
    }
    m->cfg = *c;
    zig_init(&m->zig);
    m->km = c->kind == ACQ_SIM_PUMP ? &pump_model : &fan_model;
    m->nchan = c->nchan;
    m->fs = c->rate_hz;
    m->f0 = c->shaft_hz > 0 ? c->shaft_hz : m->km->shaft_hz;
    const kind_model *km = m->km;

    /* tones above 0.45·fs would alias: left out */
    for (int k = 0; k < km->ntones; k++) {
        if (km->tones[k].order * m->f0 * 1.01 >= 0.45 * m->fs)
            continue;
        int t = m->ntones++;
        m->order[t] = km->tones[k].order;
        for (unsigned ch = 0; ch < m->nchan; ch++) {
            m->cr[t][ch] = km->tones[k].amp_g[ch] * cos(km->tones[k].phase_rad[ch]);
            m->ci[t][ch] = km->tones[k].amp_g[ch] * sin(km->tones[k].phase_rad[ch]);
        }
    }
    m->line_dphi = TWO_PI * km->line_hz / m->fs;
    m->lwr = cos(m->line_dphi);
    m->lwi = sin(m->line_dphi);
    for (unsigned ch = 0; ch < m->nchan; ch++) {
        m->line_cr[ch] = km->line_g[ch] * cos(0.5 + ch);
        m->line_ci[ch] = km->line_g[ch] * sin(0.5 + ch);
    }

    for (unsigned ch = 0; ch < m->nchan; ch++) {
        double fn = fmin(km->res_hz[ch], 0.4 * m->fs), zeta = km->res_zeta[ch];
        double wn = TWO_PI * fn;
        m->sigma[ch] = zeta * wn;
        m->wd[ch] = wn * sqrt(1 - zeta * zeta);
        double r = exp(-m->sigma[ch] / m->fs);
        m->a1[ch] = 2 * r * cos(m->wd[ch] / m->fs);
        m->a2[ch] = -r * r;
        /* input gain for the wanted RMS response to unit white noise: b² Σ h[n]² = rms² */
        double h1 = 0, h2 = 0, h = 1, sum = 0;
        for (int i = 0; i < 1000000 && (i < 16 || h * h > 1e-14 * sum); i++) {
            sum += h * h;
            h2 = h1;
            h1 = h;
            h = m->a1[ch] * h1 + m->a2[ch] * h2;
        }
        m->b[ch] = km->res_noise_rms_g / sqrt(sum);
        m->noise[ch].state = stream_seed(c->seed, STREAM_NOISE + ch);
    }
    m->wander_g.state = stream_seed(c->seed, STREAM_WANDER);
    m->impact_g.state = stream_seed(c->seed, STREAM_IMPACT);
    m->impact_u = stream_seed(c->seed, STREAM_IMPACT + 100);
    m->wander_rho = exp(-BLOCK / (m->fs * km->wander_tau_s));
    m->wander_sd = km->wander_rel * sqrt(1 - m->wander_rho * m->wander_rho);
    m->wander = km->wander_rel * gauss_next(&m->zig, &m->wander_g); /* start in the stationary spread */
    m->phase = TWO_PI * rng_uniform(&m->impact_u);
    m->cage_phase = TWO_PI * rng_uniform(&m->impact_u);

    m->defect_order = c->fault == ACQ_SIM_OUTER ? c->bpfo : c->fault == ACQ_SIM_INNER ? c->bpfi
                    : c->fault == ACQ_SIM_BALL ? 2 * c->bsf : 0;
    if (m->defect_order > 0)
        m->imp_next = rng_uniform(&m->impact_u) * m->fs / (m->defect_order * m->f0);
    return m;
}

void acq_sim_machine_free(acq_sim_machine *m) { free(m); }

double acq_sim_machine_shaft_hz(const acq_sim_machine *m) { return m->f0; }

double acq_sim_machine_severity(const acq_sim_machine *m, double age_days)
{
    const acq_sim_machine_config *c = &m->cfg;
    if (c->fault == ACQ_SIM_NONE || !(age_days > c->onset_days))
        return 0;
    double u = (age_days - c->onset_days) / (c->failure_days - c->onset_days);
    if (u >= 1)
        return 1;
    return expm1(4 * u) / expm1(4);
}

double acq_sim_machine_temp_c(const acq_sim_machine *m, double age_days)
{
    double s = acq_sim_machine_severity(m, age_days);
    double rise = 3 * s + 27 * s * s * s;
    if (m->cfg.fault == ACQ_SIM_IMBALANCE)
        rise *= 0.5;
    double day = age_days - floor(age_days);
    /* sensor noise: a hash of the age in tenths of a second, so the reading is a pure function */
    uint64_t tick = (uint64_t)(int64_t)floor(age_days * 864000.0);
    double u = ((double)(mix64(stream_seed(m->cfg.seed, STREAM_TEMP) ^ tick) >> 11) + 0.5) / 9007199254740992.0;
    return 22 + 2 * cos(TWO_PI * (day - 15.0 / 24)) + m->km->temp_rise_c + rise + 0.35 * (u - 0.5);
}

/* Adds one impact, which happened `ago` samples before the current sample (0 ≤ ago < 1), to
 * each channel's resonance: the ringing A e^{-σt} sin(ω_d t) obeys the resonance's homogeneous
 * recursion, so adding its values at the two previous samples (t < 0: the same sinusoid
 * continued backwards) makes the recursion ring it exactly from the impact's true instant. */
static void impact(acq_sim_machine *m, double ago, double severity)
{
    double mod = 1;
    double at = (double)m->pos - ago; /* samples since the block started */
    if (m->cfg.fault == ACQ_SIM_INNER)
        mod = 0.1 + 0.9 * 0.5 * (1 + cos(m->phase + at * m->dphi));
    else if (m->cfg.fault == ACQ_SIM_BALL)
        mod = 0.5 * (1 + cos(m->cage_phase + at * m->dphi * m->cfg.ftf)) * ((m->nimpacts & 1) ? BALL_INNER_HIT : 1);
    double a = severity * m->km->impact_g * mod * (0.9 + 0.2 * rng_uniform(&m->impact_u));
    for (unsigned ch = 0; ch < m->nchan; ch++) {
        double ac = a * impact_gain[ch];
        double t1 = (ago - 1) / m->fs, t2 = (ago - 2) / m->fs; /* times of the previous samples */
        m->y1[ch] += ac * exp(-m->sigma[ch] * t1) * sin(m->wd[ch] * t1);
        m->y2[ch] += ac * exp(-m->sigma[ch] * t2) * sin(m->wd[ch] * t2);
    }
    m->nimpacts++;
}

int acq_sim_machine_generate(acq_sim_machine *m, double age_days, float *out, size_t n)
{
    if (!m || (!out && n) || !isfinite(age_days))
        return -EINVAL;
    const unsigned nc = m->nchan;
    const double s = acq_sim_machine_severity(m, age_days);
    const int bearing = m->defect_order > 0;
    const double noise_gain = 1 + (bearing ? 0.5 * s * s : 0);
    const double x1_gain = m->cfg.fault == ACQ_SIM_IMBALANCE ? 1 + IMBALANCE_GROWTH * s : 1;
    const double white = m->km->noise_rms_g * noise_gain;
    double bres[ACQ_SIM_MAX_CHANNELS];
    for (unsigned ch = 0; ch < nc; ch++)
        bres[ch] = m->b[ch] * noise_gain;

    for (size_t i = 0; i < n; i++) {
        if (m->pos == 0)
            block_start(m);
        if (bearing) {
            while (m->imp_next <= 0) {
                if (s > 0)
                    impact(m, -m->imp_next, s);
                else
                    m->nimpacts++;
                double f_def = m->defect_order * m->dphi * m->fs / TWO_PI; /* follows the speed */
                m->imp_next += m->fs * (1 + 0.01 * gauss_next(&m->zig, &m->impact_g)) / f_def;
            }
            m->imp_next -= 1;
        }
        float *o = out + i * nc;
        for (unsigned ch = 0; ch < nc; ch++) {
            double tonal = x1_gain * (m->cr[0][ch] * m->zr[0] - m->ci[0][ch] * m->zi[0]);
            for (int k = 1; k < m->ntones; k++)
                tonal += m->cr[k][ch] * m->zr[k] - m->ci[k][ch] * m->zi[k];
            tonal += m->line_cr[ch] * m->lzr - m->line_ci[ch] * m->lzi;
            double g = gauss_next(&m->zig, &m->noise[ch]);
            double y = m->a1[ch] * m->y1[ch] + m->a2[ch] * m->y2[ch] + bres[ch] * g;
            m->y2[ch] = m->y1[ch];
            m->y1[ch] = y;
            o[ch] = (float)(tonal + white * g + y);
        }
        for (int k = 0; k < m->ntones; k++) {
            double zr = m->zr[k] * m->wr[k] - m->zi[k] * m->wi[k];
            m->zi[k] = m->zr[k] * m->wi[k] + m->zi[k] * m->wr[k];
            m->zr[k] = zr;
        }
        double lzr = m->lzr * m->lwr - m->lzi * m->lwi;
        m->lzi = m->lzr * m->lwi + m->lzi * m->lwr;
        m->lzr = lzr;
        if (++m->pos == BLOCK)
            block_end(m);
    }
    return 0;
}
