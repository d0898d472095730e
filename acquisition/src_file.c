/* acquisition/src_file.c — the `file:` source: recordings replayed as frames in data time.
 *
 *   file:PATH[?fs=HZ&realtime=0|1&frame=SAMPLES&t0=ISO8601]
 *
 * PATH is one of
 *   - a WAV or CSV file (one column per channel; fs= required for CSV): one recording, its time
 *     from t0= or else the file's modification time minus its duration (a recorder writes the
 *     file when the recording ends);
 *   - a directory of IMS snapshots (files named YYYY.MM.DD.hh.mm.ss, tab-separated, 4 or 8
 *     columns, 20 kHz unless fs= says otherwise), each timed by its name (UTC);
 *   - a directory of PRONOSTIA acc_NNNNN.csv files (hour, minute, second, µs, horizontal g,
 *     vertical g; 25.6 kHz unless fs=), timed by their first row's time of day: each step back
 *     in the time of day is the next day (the files have no dates), and the first day is the
 *     one on or after t0= (its own UTC offset gives the files' time zone), else 1970-01-01 UTC.
 *     temp_NNNNN.csv files beside them give frame->temp_c, the reading nearest in time;
 *   - a manifest: a CSV whose header is "time,file", then one recording per line (ISO 8601
 *     time of its first sample, a WAV or CSV path relative to the manifest): any other series.
 * Relative paths are relative to the working directory. The URI is split at its last '?', so
 * PATH itself must not contain '?'.
 *
 * Frames hold at most frame= samples (default 4096) and at most the caller's capacity, and never
 * span two recordings; the first frame of every recording is flagged ACQ_FRAME_SNAPSHOT. The
 * source is finite: acq_read() returns ACQ_END after the last frame.
 *
 * realtime=1 paces delivery to the sample rate within each recording: a frame is returned no
 * earlier than its last sample would have been acquired, counted from the recording's first
 * frame. The pause between the snapshots of a series (10 minutes for IMS) is NOT waited: the
 * next snapshot follows at once, so a replay shows a live box's frame rhythm without taking
 * 50 days. realtime=0 (default) reads as fast as the files come.
 *
 * Bad input: for a single recording every problem is an error at open. In a series the listing
 * and the manifest are checked at open (an empty directory, no recognisable files, a manifest
 * line with a bad time or a missing file, CSV entries without fs= are errors naming the line);
 * a snapshot that cannot be read (truncated, malformed, another channel count or rate than
 * the series) is reported once on stderr, skipped and counted as a gap (acq_stats gaps; the
 * next frame delivered carries ACQ_FRAME_GAP with gap_samples 0, unknown). Open fails only
 * when no snapshot of the series is readable.
 *
 * Memory: one recording at a time (a single file whole, bounded by ACQ_RECORDING_MAX_BYTES;
 * a series one snapshot plus its file list). Threads: none; acq_read() blocks on file I/O and,
 * with realtime=1, on sleeping.
 */
#include "common/log.h"
#include "file_series.h"
#include "file_time.h"
#include "recording.h"
#include "source.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define FRAME_DEFAULT 4096
#define FRAME_MAX (1 << 24)
#define IMS_FS_HZ 20000.0
#define PRONOSTIA_FS_HZ 25600.0

struct file_src {
    acq_file_series series;   /* kind; entries for a series */
    size_t next;              /* next entry to load */
    double fs_req;            /* fs= (0: not given) */
    size_t frame;             /* most samples per frame */
    bool realtime;
    bool have_t0;
    int64_t t0_ns;
    int t0_off_s;             /* t0='s UTC offset: the PRONOSTIA files' time zone */
    unsigned nchan;           /* of the series, fixed by the first recording read (0: not yet) */
    double rate_hz;           /* likewise */
    /* the recording being delivered */
    acq_recording rec;
    unsigned col0;            /* first column delivered (PRONOSTIA skips the 4 time columns) */
    size_t pos;               /* next sample */
    int64_t rec_t0_ns;
    double rec_temp_c;
    bool fresh;               /* the next frame is the recording's first */
    bool gap_before;          /* a snapshot was skipped just before this one */
    /* PRONOSTIA */
    bool have_prev;
    int64_t prev_local_ns;    /* local time of the last snapshot read: the next day's reference */
    int64_t prev_step_ns;     /* the last plausible step between snapshots (0: none yet) */
    unsigned bad_clock;       /* snapshots whose time of day stepped back outside midnight */
    acq_file_temp *temp;
    /* realtime pacing, CLOCK_MONOTONIC ns at the recording's first frame */
    int64_t pace_anchor_ns;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * ACQ_NS_PER_S + ts.tv_nsec;
}

static void sleep_until(int64_t mono)
{
    struct timespec ts = {.tv_sec = (time_t)(mono / ACQ_NS_PER_S), .tv_nsec = (long)(mono % ACQ_NS_PER_S)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* 1 when the file starts like a RIFF/WAV file (the readers' own test), 0 otherwise. */
static int starts_like_wav(const char *path)
{
    unsigned char b[4];
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return 0;
    size_t n = fread(b, 1, sizeof b, fp);
    fclose(fp);
    return n == 4 && (memcmp(b, "RIFF", 4) == 0 || memcmp(b, "RIFX", 4) == 0 || memcmp(b, "RF64", 4) == 0);
}

static bool same_rate(double a, double b) { return fabs(a - b) <= 1e-9 * fmax(a, b); }

static const char *base_name(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    const char *p = path + n;
    while (p > path && p[-1] != '/')
        p--;
    return p;
}

/* Reads entry e of the series into st->rec with its time; a message naming the file on error. */
static int load_snapshot(struct file_src *st, const acq_file_entry *e, char *msg, size_t msglen)
{
    enum acq_file_kind kind = st->series.kind;
    bool wav = starts_like_wav(e->path);
    double fs = st->fs_req > 0 ? st->fs_req : kind == ACQ_FILE_IMS ? IMS_FS_HZ
                : kind == ACQ_FILE_PRONOSTIA ? PRONOSTIA_FS_HZ : 0;
    if (!wav && !(fs > 0)) {
        snprintf(msg, msglen, "%s: a CSV or text recording needs fs=HZ", e->path);
        return -EINVAL;
    }
    acq_recording_free(&st->rec);
    int rc = acq_read_file(e->path, fs, &st->rec, msg, msglen);
    if (rc < 0)
        return rc;
    acq_recording *r = &st->rec;
    unsigned want = st->nchan;
    st->col0 = 0;
    st->rec_temp_c = NAN;
    if (kind == ACQ_FILE_IMS && r->nchan != 4 && r->nchan != 8) {
        snprintf(msg, msglen, "%s: %u columns, an IMS snapshot has 4 or 8", e->path, r->nchan);
        rc = -EINVAL;
    } else if (kind == ACQ_FILE_PRONOSTIA && r->nchan != 6) {
        snprintf(msg, msglen, "%s: %u columns, a PRONOSTIA acc file has 6 (hour, minute, second, µs, "
                 "horizontal, vertical)", e->path, r->nchan);
        rc = -EINVAL;
    } else if (kind != ACQ_FILE_PRONOSTIA && want && r->nchan != want) {
        snprintf(msg, msglen, "%s: %u channels, the series has %u", e->path, r->nchan, want);
        rc = -EINVAL;
    } else if (st->rate_hz > 0 && !same_rate(r->fs_hz, st->rate_hz)) {
        snprintf(msg, msglen, "%s: recorded at %g Hz, the series runs at %g Hz%s", e->path, r->fs_hz,
                 st->rate_hz, st->fs_req > 0 ? " (fs=)" : "");
        rc = -EINVAL;
    }
    if (rc == 0 && kind == ACQ_FILE_PRONOSTIA) {
        const float *row = r->samples;
        int64_t tod;
        if (acq_file_pronostia_tod(row[0], row[1], row[2], row[3], 1, &tod) != 0) {
            snprintf(msg, msglen, "%s: first row: time %g:%g:%g + %g µs out of range", e->path, (double)row[0],
                     (double)row[1], (double)row[2], (double)row[3]);
            rc = -EINVAL;
        } else {
            int64_t off = (int64_t)st->t0_off_s * ACQ_NS_PER_S;
            int64_t local = acq_file_next_tod(st->have_prev ? st->prev_local_ns : st->t0_ns + off, tod);
            /* the clock has no date: a step back in the time of day is the next day only around
             * midnight (before it ≥ 23:00, after it < 01:00). Any other step back is a bad stamp
             * (Bearing1_1 has two, an hour and a day off): that snapshot is placed one usual step
             * after the previous one instead, and the series reads on. */
            if (st->have_prev && local - st->prev_local_ns > ACQ_NS_PER_DAY / 2) {
                int64_t prev_tod = st->prev_local_ns % ACQ_NS_PER_DAY;
                if (prev_tod < 0)
                    prev_tod += ACQ_NS_PER_DAY;
                bool midnight = prev_tod >= 23 * 3600 * ACQ_NS_PER_S && tod < 3600 * ACQ_NS_PER_S;
                if (!midnight) {
                    double back_s = (double)(ACQ_NS_PER_DAY - (local - st->prev_local_ns)) / 1e9;
                    local = st->prev_local_ns + (st->prev_step_ns > 0 ? st->prev_step_ns : 10 * ACQ_NS_PER_S);
                    if (st->bad_clock++ == 0)
                        vw_log(VW_LOG_WARNING, "file",
                               "%s: its time of day steps back by %.0f s, not at midnight: placed %.3g s after the "
                               "previous snapshot", e->path, back_s, (double)(local - st->prev_local_ns) / 1e9);
                }
            }
            if (st->have_prev && local - st->prev_local_ns <= ACQ_NS_PER_DAY / 2)
                st->prev_step_ns = local - st->prev_local_ns;
            st->have_prev = true;
            st->prev_local_ns = local;
            st->rec_t0_ns = local - off;
            st->col0 = 4;
            st->rec_temp_c = acq_file_temp_at(st->temp, local);
        }
    } else if (rc == 0) {
        st->rec_t0_ns = e->t_ns;
    }
    if (rc < 0) {
        acq_recording_free(r);
        return rc;
    }
    if (!st->nchan) {
        st->nchan = kind == ACQ_FILE_PRONOSTIA ? 2 : r->nchan;
        st->rate_hz = r->fs_hz;
    }
    st->pos = 0;
    st->fresh = true;
    return 0;
}

/* Loads the next readable snapshot of the series, reporting and counting every one skipped.
 * 0, or ACQ_END when none is left. The first skip's message goes to first_err when given. */
static int advance(acq_source *s, struct file_src *st, char *first_err, size_t first_errlen)
{
    char msg[512];
    while (st->next < st->series.n) {
        const acq_file_entry *e = &st->series.e[st->next++];
        msg[0] = 0;
        if (load_snapshot(st, e, msg, sizeof msg) == 0)
            return 0;
        vw_log(VW_LOG_WARNING, "file", "snapshot skipped (counted as a gap): %s", msg[0] ? msg : e->path);
        acq_stats_add_gap(s, 0);
        st->gap_before = true;
        if (first_err && first_errlen && !first_err[0])
            snprintf(first_err, first_errlen, "%s", msg);
    }
    return ACQ_END;
}

static int parse_query(struct file_src *st, acq_query *q, char *err, size_t errlen)
{
    double v = 0;
    int rc = acq_query_double(q, "fs", 0.001, 10e6, &st->fs_req, err, errlen);
    if (rc < 0)
        return rc;
    if ((rc = acq_query_double(q, "realtime", 0, 1, &v, err, errlen)) < 0)
        return rc;
    if (rc == 1 && v != 0 && v != 1) {
        snprintf(err, errlen, "realtime=%s: expected 0 or 1", acq_query_get(q, "realtime"));
        return -EINVAL;
    }
    st->realtime = v == 1;
    v = FRAME_DEFAULT;
    if ((rc = acq_query_double(q, "frame", 1, FRAME_MAX, &v, err, errlen)) < 0)
        return rc;
    if (v != floor(v)) {
        snprintf(err, errlen, "frame=%s: expected a whole number of samples from 1 to %d", acq_query_get(q, "frame"),
                 FRAME_MAX);
        return -EINVAL;
    }
    st->frame = (size_t)v;
    const char *t0 = acq_query_get(q, "t0");
    if (t0) {
        rc = acq_file_parse_iso8601(t0, &st->t0_ns, &st->t0_off_s);
        if (rc < 0) {
            snprintf(err, errlen, "t0=%s: expected an ISO 8601 time with a zone, e.g. 2024-03-01T12:00:00Z or "
                     "2024-03-01T13:00:00+01:00", t0);
            return rc;
        }
        st->have_t0 = true;
    }
    return 0;
}

static int open_single(struct file_src *st, const char *path, const struct stat *sb, char *err, size_t errlen)
{
    bool wav = starts_like_wav(path);
    if (!wav && !(st->fs_req > 0)) {
        snprintf(err, errlen, "a CSV or text recording has no sample rate: give fs=HZ (only WAV files carry theirs)");
        return -EINVAL;
    }
    char msg[384];
    int rc = acq_read_file(path, st->fs_req, &st->rec, msg, sizeof msg);
    if (rc < 0) {
        snprintf(err, errlen, "%s", msg);
        return rc;
    }
    if (wav && st->fs_req > 0 && !same_rate(st->rec.fs_hz, st->fs_req)) {
        snprintf(err, errlen, "fs=%g, but the WAV file is recorded at %g Hz", st->fs_req, st->rec.fs_hz);
        return -EINVAL;
    }
    st->nchan = st->rec.nchan;
    st->rate_hz = st->rec.fs_hz;
    double dur_ns = (double)st->rec.nframes / st->rate_hz * 1e9;
    int64_t mtime = (int64_t)sb->st_mtim.tv_sec * ACQ_NS_PER_S + sb->st_mtim.tv_nsec;
    st->rec_t0_ns = st->have_t0 ? st->t0_ns : mtime - (int64_t)llround(dur_ns);
    st->fresh = true;
    return 0;
}

/* Without fs=, every CSV entry of a manifest is an error now rather than a skipped snapshot. */
static int check_manifest_rates(struct file_src *st, char *err, size_t errlen)
{
    if (st->fs_req > 0)
        return 0;
    for (size_t i = 0; i < st->series.n; i++)
        if (!starts_like_wav(st->series.e[i].path)) {
            snprintf(err, errlen, "manifest line %lu: %s is not a WAV file: CSV and text recordings need fs=HZ",
                     st->series.e[i].key, st->series.e[i].path);
            return -EINVAL;
        }
    return 0;
}

static void describe(struct file_src *st, const char *path, acq_info *info)
{
    static const char *const ims8[8] = {"B1x", "B1y", "B2x", "B2y", "B3x", "B3y", "B4x", "B4y"};
    static const char *const ims4[4] = {"B1", "B2", "B3", "B4"};
    static const char *const pron[2] = {"horizontal", "vertical"};
    enum acq_file_kind kind = st->series.kind;
    info->nchan = st->nchan;
    info->rate_hz = st->rate_hz;
    info->rate_requested_hz = st->fs_req;
    info->finite = true;
    info->has_temp = kind == ACQ_FILE_PRONOSTIA && st->series.ntemp > 0;
    /* PCM full scale is ±1 after the reader's scaling, so clipping in a recording is seen */
    bool pcm = kind == ACQ_FILE_SINGLE && strncmp(st->rec.format, "WAV PCM", 7) == 0;
    for (unsigned c = 0; c < st->nchan; c++) {
        acq_channel_info *ch = &info->ch[c];
        if (kind == ACQ_FILE_IMS)
            snprintf(ch->name, sizeof ch->name, "%s", st->nchan == 8 ? ims8[c] : ims4[c]);
        else if (kind == ACQ_FILE_PRONOSTIA)
            snprintf(ch->name, sizeof ch->name, "%s", pron[c]);
        else
            snprintf(ch->name, sizeof ch->name, "ch%u", c);
        snprintf(ch->unit, sizeof ch->unit, "%s", kind == ACQ_FILE_IMS || kind == ACQ_FILE_PRONOSTIA ? "g" : "");
        ch->full_scale = pcm ? 1.0 : 0;
    }
    const char *name = base_name(path);
    switch (kind) {
    case ACQ_FILE_SINGLE:
        snprintf(info->desc, sizeof info->desc, "%.48s: %s, %zu samples at %g Hz", name, st->rec.format,
                 st->rec.nframes, st->rate_hz);
        break;
    case ACQ_FILE_IMS:
        snprintf(info->desc, sizeof info->desc, "IMS snapshots in %.48s: %zu files, %u ch at %g Hz", name,
                 st->series.n, st->nchan, st->rate_hz);
        break;
    case ACQ_FILE_PRONOSTIA:
        snprintf(info->desc, sizeof info->desc, "PRONOSTIA run in %.48s: %zu acc files, %zu temp files", name,
                 st->series.n, st->series.ntemp);
        break;
    case ACQ_FILE_MANIFEST:
        snprintf(info->desc, sizeof info->desc, "manifest %.48s: %zu recordings, %u ch at %g Hz", name,
                 st->series.n, st->nchan, st->rate_hz);
        break;
    }
}

static void file_close(acq_source *s)
{
    struct file_src *st = acq_source_priv(s);
    if (!st)
        return;
    acq_recording_free(&st->rec);
    acq_file_temp_free(st->temp);
    acq_file_series_free(&st->series);
    free(st);
    acq_source_set_priv(s, NULL);
}

static int file_open(acq_source *s, const char *target, acq_query *q, acq_info *info, char *err, size_t errlen)
{
    struct file_src *st = calloc(1, sizeof *st);
    if (st)
        st->rec_temp_c = NAN; /* no temperature until a recording brings one */
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    acq_source_set_priv(s, st); /* from here on, acq_open's failure path calls file_close */
    int rc = parse_query(st, q, err, errlen);
    if (rc < 0)
        return rc;
    if (!*target) {
        snprintf(err, errlen, "no path: expected file:PATH");
        return -EINVAL;
    }
    struct stat sb;
    if (stat(target, &sb) != 0) {
        rc = errno ? errno : ENOENT;
        snprintf(err, errlen, "%s", strerror(rc)); /* acq_open puts the URI, and so the path, first */
        return -rc;
    }
    if (S_ISDIR(sb.st_mode)) {
        rc = acq_file_series_scan_dir(target, &st->series, stderr, err, errlen);
        if (rc < 0)
            return rc;
        if (st->series.kind == ACQ_FILE_IMS && st->have_t0) {
            snprintf(err, errlen, "t0= does not apply to IMS snapshots: each one's time is its file name");
            return -EINVAL;
        }
        if (st->series.ntemp > 0 && !(st->temp = acq_file_temp_new(st->series.temp, st->series.ntemp, stderr))) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
    } else if (S_ISREG(sb.st_mode)) {
        rc = acq_file_is_manifest(target);
        if (rc < 0) {
            snprintf(err, errlen, "%s: cannot read: %s", target, strerror(-rc));
            return rc;
        }
        if (rc == 1) {
            if (st->have_t0) {
                snprintf(err, errlen, "t0= does not apply to a manifest: it gives each recording's time");
                return -EINVAL;
            }
            if ((rc = acq_file_series_read_manifest(target, &st->series, err, errlen)) < 0 ||
                (rc = check_manifest_rates(st, err, errlen)) < 0)
                return rc;
        } else {
            st->series.kind = ACQ_FILE_SINGLE;
            if ((rc = open_single(st, target, &sb, err, errlen)) < 0)
                return rc;
        }
    } else {
        snprintf(err, errlen, "%s: not a regular file or a directory", target);
        return -EINVAL;
    }
    if (st->series.kind != ACQ_FILE_SINGLE) {
        st->rate_hz = st->fs_req > 0 ? st->fs_req : st->series.kind == ACQ_FILE_IMS ? IMS_FS_HZ
                      : st->series.kind == ACQ_FILE_PRONOSTIA ? PRONOSTIA_FS_HZ : 0;
        char first[384] = "";
        if (advance(s, st, first, sizeof first) == ACQ_END) {
            snprintf(err, errlen, "none of the %zu recordings is readable; the first: %s", st->series.n, first);
            return -EINVAL;
        }
    }
    describe(st, target, info);
    return 0;
}

static int file_read(acq_source *s, acq_frame *f, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct file_src *st = acq_source_priv(s);
    if (st->pos >= st->rec.nframes) {
        acq_recording_free(&st->rec); /* memory back before the next snapshot is read */
        if (st->series.kind == ACQ_FILE_SINGLE || advance(s, st, NULL, 0) == ACQ_END)
            return ACQ_END;
    }
    size_t n = st->rec.nframes - st->pos;
    if (n > st->frame)
        n = st->frame;
    if (n > f->capacity)
        n = f->capacity;
    const unsigned nchan = st->nchan, ncol = st->rec.nchan;
    const float *src = st->rec.samples + st->pos * ncol + st->col0;
    for (size_t i = 0; i < n; i++)
        memcpy(f->samples + i * nchan, src + i * ncol, nchan * sizeof *src);
    f->nsamp = n;
    f->t0_ns = st->rec_t0_ns + (int64_t)llround((double)st->pos / st->rate_hz * 1e9);
    f->temp_c = st->rec_temp_c;
    if (st->fresh)
        f->flags |= ACQ_FRAME_SNAPSHOT;
    if (st->gap_before) {
        f->flags |= ACQ_FRAME_GAP;
        f->gap_samples = 0; /* a skipped file's length is not known */
    }
    if (st->realtime) {
        if (st->fresh)
            st->pace_anchor_ns = mono_ns();
        sleep_until(st->pace_anchor_ns + (int64_t)llround((double)(st->pos + n) / st->rate_hz * 1e9));
    }
    st->pos += n;
    st->fresh = false;
    st->gap_before = false;
    return 0;
}

static const char *const file_keys[] = {"fs", "realtime", "frame", "t0", NULL};

const acq_source_ops acq_src_file = {.keys = file_keys, .scheme = "file", .open = file_open, .read = file_read, .close = file_close};
