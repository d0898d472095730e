/* daemon/cmd_record.c — `vibewatch record SOURCE --seconds S -o OUT.wav`: captures from any source
 * into a float32 WAV in g, one WAV channel per source channel, and says what it captured. */
#include "acquisition/capture.h"
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void usage(FILE *f)
{
    fputs("usage: vibewatch record SOURCE --seconds S -o OUT.wav\n"
          "  SOURCE: iio:URI?device=…&channels=…&rate=…, alsa:PCM?rate=…&channels=…, file:PATH, sim:pump|fan?…\n", f);
}

#define FAIL(...) do { fprintf(stderr, "vibewatch record: " __VA_ARGS__); fputc('\n', stderr); return 2; } while (0)

int cmd_record(int argc, char **argv)
{
    const char *out = NULL;
    double seconds = 0;
    static const struct option lo[] = {{"seconds", 1, 0, 's'}, {"output", 1, 0, 'o'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
        switch (opt) {
        case 'o': out = optarg; break;
        case 's':
            if (cli_parse_double(optarg, &seconds) < 0 || seconds <= 0 || seconds > 86400)
                FAIL("--seconds %s: expected a duration from 0 to 86400 s", optarg);
            break;
        case 'h': usage(stdout); return 0;
        default: FAIL("unknown option or missing value: %s (see --help)", argv[optind - 1]);
        }
    }
    if (!out || seconds <= 0 || optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    const char *uri = argv[optind];
    if (!acq_is_source_uri(uri))
        FAIL("%s: not a source URI (iio:, alsa:, file: or sim:)", uri);
    char err[512];
    acq_recording rec;
    acq_capture_report rep;
    acq_capture_opts copts = {.whole_hz_rate = true};
    if (acq_capture(uri, seconds, &copts, &rec, &rep, err, sizeof err) < 0) {
        fprintf(stderr, "vibewatch record: %s\n", err);
        return 1;
    }
    int rc = 0;
    for (unsigned c = 0; c < rec.nchan; c++)
        if (rep.sensor_fault[c])
            fprintf(stderr, "vibewatch record: channel %u (%s): sensor fault: %s\n", c, rep.info.ch[c].name,
                    rep.fault_reason[c]);
    if (acq_write_wav_f32(out, rec.samples, rec.nframes, rec.nchan, rec.fs_hz, err, sizeof err) < 0) {
        fprintf(stderr, "vibewatch record: %s\n", err);
        rc = 1;
    } else {
        fprintf(stderr, "vibewatch record: %s: %.3f s of %u channel%s at %g Hz from %s%s; %llu gap(s), %llu samples lost, "
                "%u clipped frame(s)\n", out, (double)rec.nframes / rec.fs_hz, rec.nchan, rec.nchan == 1 ? "" : "s",
                rec.fs_hz, rep.info.desc[0] ? rep.info.desc : uri, rep.ended_early ? " (the source ended early)" : "",
                (unsigned long long)rep.stats.gaps, (unsigned long long)rep.stats.gap_samples, rep.frames_clipped);
    }
    acq_recording_free(&rec);
    return rc;
}
