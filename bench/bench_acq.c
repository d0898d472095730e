/* bench/bench_acq.c — sustained acquisition, as the box runs it: 4 channels at 51.2 kHz for a
 * given time, paced by the source in real time, read frame by frame as the daemon's source thread
 * will. Prints per source the samples delivered, the samples dropped (gaps and overruns the source
 * counted, and any shortfall against the wall clock) and the CPU time this process spent per
 * channel-second of data.
 *
 *   bench_acq SECONDS SOURCE_URI [SOURCE_URI…]     (the Makefile passes the sim and iio URIs)
 * Several URIs are read by one thread each, at the same time, and reported together, so "4
 * channels" may be two 2-channel sensors. */
#include "acquisition/source.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

struct job {
    const char *uri;
    double seconds;
    unsigned nchan;
    double rate;
    uint64_t samples;
    acq_stats stats;
    char err[512];
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static void *run(void *arg)
{
    struct job *j = arg;
    acq_source *s = acq_open(j->uri, j->err, sizeof j->err);
    if (!s)
        return NULL;
    const acq_info *info = acq_source_info(s);
    j->nchan = info->nchan;
    j->rate = info->rate_hz;
    acq_frame *f = acq_frame_new(info->nchan, 4096);
    uint64_t want = (uint64_t)(j->seconds * info->rate_hz);
    while (f && j->samples < want) {
        int rc = acq_read(s, f, j->err, sizeof j->err);
        if (rc != 0)
            break;
        j->samples += f->nsamp;
    }
    if (j->samples >= want)
        j->err[0] = 0;
    acq_source_stats(s, &j->stats);
    acq_frame_free(f);
    acq_close(s);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_acq SECONDS SOURCE_URI...\n");
        return 2;
    }
    double seconds = atof(argv[1]);
    int n = argc - 2;
    struct job *jobs = calloc((size_t)n, sizeof *jobs);
    pthread_t *th = calloc((size_t)n, sizeof *th);
    if (!jobs || !th || !(seconds > 0))
        return 2;
    double c0 = cpu_s(), w0 = mono_s();
    for (int i = 0; i < n; i++) {
        jobs[i].uri = argv[i + 2];
        jobs[i].seconds = seconds;
        pthread_create(&th[i], NULL, run, &jobs[i]);
    }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    double cpu = cpu_s() - c0, wall = mono_s() - w0;
    unsigned chans = 0;
    uint64_t dropped = 0, chan_samples = 0;
    double rate = 0;
    int failed = 0;
    for (int i = 0; i < n; i++) {
        struct job *j = &jobs[i];
        if (j->err[0]) {
            printf("  %-60s FAILED: %s\n", j->uri, j->err);
            failed = 1;
            continue;
        }
        chans += j->nchan;
        rate = j->rate;
        dropped += (j->stats.gap_samples) * j->nchan;
        chan_samples += j->samples * j->nchan;
        printf("  %-60s %u ch at %.0f Hz: %llu samples/ch, %llu gaps, %llu overruns, %llu samples/ch lost\n", j->uri,
               j->nchan, j->rate, (unsigned long long)j->samples, (unsigned long long)j->stats.gaps,
               (unsigned long long)j->stats.overruns, (unsigned long long)j->stats.gap_samples);
    }
    if (failed)
        return 1;
    double chan_seconds = rate > 0 ? (double)chan_samples / rate : 0;
    printf("  total: %u channels × %.0f Hz for %.2f s of data in %.2f s wall: %llu samples dropped; "
           "CPU %.3f s = %.3f ms per channel-second (%.2f %% of one core)\n",
           chans, rate, seconds, wall, (unsigned long long)dropped, cpu, chan_seconds > 0 ? 1e3 * cpu / chan_seconds : 0,
           100 * cpu / wall);
    free(jobs);
    free(th);
    return 0;
}
