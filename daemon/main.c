/* daemon/main.c — the `vibewatch` command: dispatches to its subcommands. */
#include "cli.h"
#include "version.h"
#include "acquisition/source.h"
#include "dsp/bearing.h"
#include "dsp/fft.h"

#include <errno.h>

#include <stdio.h>
#include <string.h>


static void usage(FILE *f)
{
    fprintf(f, "vibewatch %s — predictive-maintenance vibration analysis\n"
               "usage: vibewatch COMMAND [ARGS]\n"
               "  run [-c CONFIG]     the appliance: acquisition, analysis, history, API (default: a simulated pump)\n"
               "  replay SOURCE       the same pipeline over recordings, as fast as possible\n"
               "  check-config FILE   validate a configuration\n"
               "  fit-prior -o PRIOR.json RUN...   learn a prior for RUL from recordings of machines that ran to failure\n"
               "  maintenance ASSET [-c CONFIG]    maintenance done: the running box learns a new baseline for ASSET\n"
               "  ack ASSET --user NAME [--note T]  acknowledge ASSET's alerts: reminders stop until it gets worse\n"
               "  alerts [-c CONFIG]  the newest alerts and how each was delivered\n"
               "  alert-test [-c CONFIG] [--to NAME]   send a test notification, show what the server answered\n"
               "  passwd [--role R] NAME   a user's entry for the config, with a hash of a password read from the terminal\n"
               "  token [--role R] NAME    a new API token for scripts, and its entry for the config\n"
               "  analyze FILE...     analyse recordings (WAV, CSV): levels, ISO zone, speed, envelope, bearing faults\n"
               "  analyze --seconds S SOURCE   capture from a source (iio:, alsa:, file:, sim:) and analyse it\n"
               "  record SOURCE --seconds S -o OUT.wav   capture from a source into a float32 WAV in g\n"
               "  simulate -o FILE    write a simulated machine's vibration (healthy or with a bearing fault) as WAV\n"
               "  version             print the version and the FFT backend\n"
               "Run `vibewatch COMMAND --help` for a command's options.\n", VW_VERSION_STRING);
}

/* The sim: source names its bearing; the catalogue it is looked up in lives in dsp/. */
static int catalogue_lookup(const char *name, double orders[4])
{
    const dsp_bearing *b = dsp_bearing_find(name);
    if (!b)
        return -ENOENT;
    orders[0] = b->orders.bpfo;
    orders[1] = b->orders.bpfi;
    orders[2] = b->orders.bsf;
    orders[3] = b->orders.ftf;
    return 0;
}

int main(int argc, char **argv)
{
    acq_set_bearing_lookup(catalogue_lookup);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "ack") == 0)
        return cmd_ack(argc - 1, argv + 1);
    if (strcmp(cmd, "alerts") == 0)
        return cmd_alerts(argc - 1, argv + 1);
    if (strcmp(cmd, "alert-test") == 0)
        return cmd_alert_test(argc - 1, argv + 1);
    if (strcmp(cmd, "analyze") == 0)
        return cmd_analyze(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "replay") == 0)
        return cmd_replay(argc - 1, argv + 1);
    if (strcmp(cmd, "check-config") == 0)
        return cmd_check_config(argc - 1, argv + 1);
    if (strcmp(cmd, "fit-prior") == 0)
        return cmd_fit_prior(argc - 1, argv + 1);
    if (strcmp(cmd, "maintenance") == 0)
        return cmd_maintenance(argc - 1, argv + 1);
    if (strcmp(cmd, "passwd") == 0)
        return cmd_passwd(argc - 1, argv + 1);
    if (strcmp(cmd, "token") == 0)
        return cmd_token(argc - 1, argv + 1);
    if (strcmp(cmd, "record") == 0)
        return cmd_record(argc - 1, argv + 1);
    if (strcmp(cmd, "simulate") == 0)
        return cmd_simulate(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("vibewatch %s (FFT: %s)\n", VW_VERSION_STRING, dsp_fft_backend());
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "vibewatch: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return 2;
}
