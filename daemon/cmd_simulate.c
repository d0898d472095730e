/* daemon/cmd_simulate.c — `vibewatch simulate`: writes a simulated machine's vibration as a WAV
 * file (IEEE float, g), for demos, for trying the analysis, and for tests with a known truth. */
#include "acquisition/recording.h"
#include "acquisition/sim.h"
#include "cli.h"
#include "dsp/bearing.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("usage: vibewatch simulate -o FILE.wav [--fault none|outer|inner|ball] [--bearing NAME]\n"
          "                          [--rpm RPM] [--fs HZ] [--seconds S] [--impact-g G] [--noise-g G]\n"
          "                          [--resonance-hz HZ] [--seed N]\n"
          "  Defaults: 1797 rpm, SKF 6205-2RS JEM, 12000 Hz, 10 s, no fault, resonance 3000 Hz.\n", f);
}

#define FAIL(...) do { fprintf(stderr, "vibewatch simulate: " __VA_ARGS__); fputc('\n', stderr); return 2; } while (0)

int cmd_simulate(int argc, char **argv)
{
    const char *path = NULL, *bearing = "SKF 6205-2RS JEM";
    double rpm = 1797, fs = 12000, seconds = 10, impact = 0.5, noise = 0.05, res = 3000, seed = 1;
    enum acq_sim_fault fault = ACQ_SIM_NONE;
    static const struct option lo[] = {
        {"fault", 1, 0, 'f'}, {"bearing", 1, 0, 'b'}, {"rpm", 1, 0, 'r'}, {"fs", 1, 0, 's'},
        {"seconds", 1, 0, 'd'}, {"impact-g", 1, 0, 'i'}, {"noise-g", 1, 0, 'n'},
        {"resonance-hz", 1, 0, 'R'}, {"seed", 1, 0, 'S'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int opt, li = -1;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "o:", lo, &li)) != -1) {
        double *target = NULL;
        switch (opt) {
        case 'o': path = optarg; break;
        case 'b': bearing = optarg; break;
        case 'f':
            if (acq_sim_fault_parse(optarg, &fault) < 0)
                FAIL("--fault %s: expected none, outer, inner or ball", optarg);
            break;
        case 'r': target = &rpm; break;
        case 's': target = &fs; break;
        case 'd': target = &seconds; break;
        case 'i': target = &impact; break;
        case 'n': target = &noise; break;
        case 'R': target = &res; break;
        case 'S': target = &seed; break;
        case 'h': usage(stdout); return 0;
        default: FAIL("unknown option or missing value: %s (see --help)", argv[optind - 1]);
        }
        if (target && (cli_parse_double(optarg, target) < 0 || *target < 0))
            FAIL("--%s %s: not a non-negative number", lo[li].name, optarg); /* also right for --rpm=abc */
    }
    if (!path || optind != argc) {
        usage(stderr);
        return 2;
    }
    const dsp_bearing *b = dsp_bearing_find(bearing);
    if (!b)
        FAIL("--bearing %s: unknown bearing (see `vibewatch analyze --list-bearings`)", bearing);
    if (fs < 1000 || fs > 1e6 || seconds <= 0 || seconds * fs > 1e8 || rpm <= 0 || rpm / 60 >= fs / 2)
        FAIL("need 1000 ≤ fs ≤ 1e6 Hz, 0 < seconds, at most 1e8 samples, and 0 < rpm/60 < fs/2");
    acq_sim_params p = {
        .fs_hz = fs, .shaft_hz = rpm / 60, .x1_g = 0.05, .x2_g = 0.02, .noise_rms_g = noise, .fault = fault,
        .cage_order = b->orders.ftf, .impact_g = impact, .resonance_hz = res, .damping = 0.05,
        .jitter = 0.01, .seed = (uint64_t)seed,
    };
    p.defect_order = fault == ACQ_SIM_OUTER ? b->orders.bpfo : fault == ACQ_SIM_INNER ? b->orders.bpfi
                   : fault == ACQ_SIM_BALL ? 2 * b->orders.bsf : 0;
    if (res >= fs / 2)
        FAIL("--resonance-hz %g must be below half the sample rate (%g Hz)", res, fs / 2);
    size_t n = (size_t)llround(seconds * fs);
    float *x = malloc(n * sizeof *x);
    if (!x)
        FAIL("out of memory for %zu samples", n);
    char err[256];
    int rc = acq_sim_generate(&p, 0, x, n);
    if (rc == 0)
        rc = acq_write_wav_f32(path, x, n, 1, fs, err, sizeof err);
    else
        snprintf(err, sizeof err, "invalid simulation parameters");
    free(x);
    if (rc < 0) {
        fprintf(stderr, "vibewatch simulate: %s\n", err);
        return 1;
    }
    return 0;
}
