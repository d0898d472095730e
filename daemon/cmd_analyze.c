/* daemon/cmd_analyze.c — `vibewatch analyze`: reads recordings, analyses every channel with
 * dsp_analyzer and prints a report an analyst can read, or one JSON document for scripts.
 * One analyzer is made per distinct (rate, length) and reused across files and channels. */
#include "acquisition/capture.h"
#include "acquisition/recording.h"
#include "acquisition/selfcheck.h"
#include "cli.h"
#include "dsp/dsp.h"
#include "models/iso10816.h"

#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct analyze_opts {
    double shaft_hz;
    const char *bearing_desc;     /* what the orders came from, for the report */
    bool has_bearing;
    dsp_bearing_orders orders;
    double fs_hz;
    bool units_ms2;
    int channel;                  /* -1: all */
    double band[2];
    double vel_band[2];
    double speed_range[2];
    int iso_group;
    enum models_foundation foundation;
    bool json;
    double seconds;               /* for sources: how long to capture */
};

static void usage(FILE *f)
{
    fputs("usage: vibewatch analyze [--rpm RPM | --shaft-hz HZ]\n"
          "                         [--bearing NAME | --geometry N,BALL_D,PITCH_D,ANGLE_DEG | --orders BPFO,BPFI,BSF,FTF]\n"
          "                         [--fs HZ] [--units g|m/s2] [--channel N] [--band LO_HZ,HI_HZ]\n"
          "                         [--velocity-band LO_HZ,HI_HZ] [--speed-range LO_HZ,HI_HZ]\n"
          "                         [--iso-group 1-4] [--foundation rigid|flexible] [--json] FILE...\n"
          "       vibewatch analyze [flags] --seconds S SOURCE...   (iio:…, alsa:…, file:…, sim:…)\n"
          "  Reads WAV (PCM 16/24/32-bit, float 32/64) and CSV (one column per channel; --fs required),\n"
          "  or captures S seconds from a source and analyses that.\n"
          "  Without a speed, the speed is estimated from the spectrum's 1X family.\n"
          "  `vibewatch analyze --list-bearings` prints the bearing catalogue.\n", f);
}

static double round_to(double v, int decimals)
{
    double s = pow(10, decimals);
    return round(v * s) / s;
}

static cJSON *num(double v, int decimals) { return cJSON_CreateNumber(isfinite(v) ? round_to(v, decimals) : 0); }

static cJSON *fault_json(const dsp_fault *f)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", dsp_family_name(f->family));
    cJSON_AddItemToObject(o, "expected_hz", num(f->expected_hz, 2));
    cJSON_AddItemToObject(o, "found_hz", num(f->found_hz, 2));
    cJSON_AddItemToObject(o, "strength_db", num(f->strength_db, 1));
    cJSON_AddNumberToObject(o, "harmonics", f->harmonics);
    cJSON *lines = cJSON_AddArrayToObject(o, "harmonic_db");
    for (int h = 0; h < 4; h++)
        cJSON_AddItemToArray(lines, num(f->line_db[h], 1));
    cJSON_AddNumberToObject(o, "sidebands", f->sidebands);
    if (f->family == DSP_BPFI || f->family == DSP_BSF) {
        cJSON *sb = cJSON_AddArrayToObject(o, "sideband_db");
        for (int i = 0; i < 4; i++)
            cJSON_AddItemToArray(sb, num(f->sideband_db[i], 1));
    }
    cJSON_AddItemToObject(o, "score", num(f->score, 1));
    cJSON *band = cJSON_AddArrayToObject(o, "band_hz");
    cJSON_AddItemToArray(band, num(f->band_lo_hz, 1));
    cJSON_AddItemToArray(band, num(f->band_hi_hz, 1));
    cJSON_AddBoolToObject(o, "detected", f->detected);
    return o;
}

static const char *strength_word(const dsp_result *r)
{
    if (!r->has_faults)
        return "not assessed";
    if (r->diagnosis == DSP_DIAG_NONE)
        return "none";
    return r->diagnosis_weak ? "weak" : "strong";
}

static cJSON *channel_json(int ch, const dsp_result *r, const struct analyze_opts *o, char zone,
                           const double lim[3], const char *sensor_fault)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddNumberToObject(c, "channel", ch);
    cJSON_AddItemToObject(c, "accel_rms_g", num(r->stats.rms, 5));
    cJSON_AddItemToObject(c, "accel_peak_g", num(r->stats.peak, 5));
    cJSON_AddItemToObject(c, "accel_p2p_g", num(r->stats.p2p, 5));
    cJSON_AddItemToObject(c, "crest", num(r->stats.crest, 3));
    cJSON_AddItemToObject(c, "kurtosis", num(r->stats.kurtosis, 3));
    cJSON_AddItemToObject(c, "skewness", num(r->stats.skewness, 3));
    cJSON_AddItemToObject(c, "velocity_rms_mm_s", num(r->velocity_rms_mm_s, 4));
    cJSON *vb = cJSON_AddArrayToObject(c, "velocity_band_hz");
    cJSON_AddItemToArray(vb, num(r->vel_lo_hz, 2));
    cJSON_AddItemToArray(vb, num(r->vel_hi_hz, 2));
    char zs[2] = {zone, 0};
    cJSON_AddStringToObject(c, "iso_zone", zs);
    cJSON *iso = cJSON_AddObjectToObject(c, "iso10816_3");
    cJSON_AddNumberToObject(iso, "group", o->iso_group);
    cJSON_AddStringToObject(iso, "foundation", models_foundation_name(o->foundation));
    cJSON *l = cJSON_AddArrayToObject(iso, "limits_mm_s");
    for (int i = 0; i < 3; i++)
        cJSON_AddItemToArray(l, num(lim[i], 2));
    if (r->shaft_hz > 0) {
        cJSON_AddItemToObject(c, "shaft_hz", num(r->shaft_hz, 3));
        cJSON_AddItemToObject(c, "shaft_rpm", num(r->shaft_hz * 60, 1));
    } else {
        cJSON_AddNullToObject(c, "shaft_hz");
    }
    cJSON_AddStringToObject(c, "shaft_hz_source", dsp_speed_source_name(r->shaft_source));
    if (r->shaft_source == DSP_SPEED_ESTIMATED)
        cJSON_AddItemToObject(c, "shaft_prominence_db", num(r->speed_confidence_db, 1));
    cJSON *band = cJSON_AddArrayToObject(c, "band_hz");
    cJSON_AddItemToArray(band, num(r->band_lo_hz, 1));
    cJSON_AddItemToArray(band, num(r->band_hi_hz, 1));
    cJSON_AddStringToObject(c, "band_source", r->band_source == DSP_BAND_GIVEN ? "given" : "kurtogram");
    cJSON_AddItemToObject(c, "band_kurtosis", num(r->band_kurtosis, 3));
    if (r->band_source == DSP_BAND_KURTOGRAM)
        cJSON_AddItemToObject(c, "kurtogram_level", num(r->kurtogram_level, 1));
    if (r->wide_hi_hz > 0) {
        cJSON *wide = cJSON_AddArrayToObject(c, "wide_band_hz");
        cJSON_AddItemToArray(wide, num(r->wide_lo_hz, 1));
        cJSON_AddItemToArray(wide, num(r->wide_hi_hz, 1));
    }
    cJSON *h = cJSON_AddArrayToObject(c, "harmonics_1x_2x_3x_mm_s");
    for (int i = 0; i < 3; i++)
        cJSON_AddItemToArray(h, num(r->harmonics_mm_s[i], 4));
    cJSON_AddBoolToObject(c, "broadband", r->broadband);
    cJSON *faults = cJSON_AddArrayToObject(c, "faults");
    if (r->has_faults) {
        for (int f = 0; f < DSP_NFAMILIES; f++)
            cJSON_AddItemToArray(faults, fault_json(&r->faults[f]));
        cJSON_AddItemToObject(c, "detection_threshold_db", num(r->threshold_db, 1));
    }
    if (*sensor_fault) {
        cJSON_AddStringToObject(c, "diagnosis", "sensor_fault");
        cJSON_AddStringToObject(c, "sensor_fault", sensor_fault);
        cJSON_AddStringToObject(c, "diagnosis_strength", "not assessed");
    } else {
        cJSON_AddStringToObject(c, "diagnosis", dsp_diagnosis_name(r->diagnosis));
        cJSON_AddStringToObject(c, "diagnosis_strength", strength_word(r));
    }
    return c;
}

static void channel_text(int ch, const dsp_result *r, const struct analyze_opts *o, char zone,
                         const double lim[3], const char *sensor_fault)
{
    const char *u = "g";
    printf("  channel %d\n", ch);
    if (*sensor_fault)
        printf("    SENSOR FAULT   %s\n"
               "                   the signal is not a measurement of the machine: no bearing diagnosis\n", sensor_fault);
    printf("    acceleration   RMS %.4g %s   peak %.4g %s   peak-to-peak %.4g %s   crest %.2f   kurtosis %.2f   skewness %.2f\n",
           r->stats.rms, u, r->stats.peak, u, r->stats.p2p, u, r->stats.crest, r->stats.kurtosis, r->stats.skewness);
    printf("    velocity       RMS %.3g mm/s over %g–%g Hz   ISO 10816-3 group %d, %s: zone %c (A/B %.1f, B/C %.1f, C/D %.1f mm/s)\n",
           r->velocity_rms_mm_s, r->vel_lo_hz, r->vel_hi_hz, o->iso_group, models_foundation_name(o->foundation),
           zone, lim[0], lim[1], lim[2]);
    if (r->shaft_hz > 0)
        printf("    running speed  %.3f Hz (%.0f rpm, %s%s)   1X %.3g   2X %.3g   3X %.3g mm/s RMS\n", r->shaft_hz,
               r->shaft_hz * 60, dsp_speed_source_name(r->shaft_source),
               r->shaft_source == DSP_SPEED_ESTIMATED ? " from the 1X family" : "", r->harmonics_mm_s[0],
               r->harmonics_mm_s[1], r->harmonics_mm_s[2]);
    else
        printf("    running speed  unknown: no 1X family stands out in %g–%g Hz; give --rpm or --shaft-hz\n",
               o->speed_range[0], o->speed_range[1]);
    if (r->band_source == DSP_BAND_GIVEN)
        printf("    envelope band  %.0f–%.0f Hz (given), spectral kurtosis %.2f\n", r->band_lo_hz, r->band_hi_hz,
               r->band_kurtosis);
    else
        printf("    envelope bands %.0f–%.0f Hz (whole whitened band), then %.0f–%.0f Hz (fast kurtogram, level %.1f, "
               "spectral kurtosis %.2f)\n", r->wide_lo_hz, r->wide_hi_hz, r->band_lo_hz, r->band_hi_hz,
               r->kurtogram_level, r->band_kurtosis);
    if (*sensor_fault) {
        puts("    diagnosis      sensor_fault");
        return;
    }
    if (!o->has_bearing) {
        puts("    bearing        not given (--bearing, --geometry or --orders): no defect search");
        return;
    }
    printf("    bearing        %s: BPFO %.4gX  BPFI %.4gX  BSF %.4gX  FTF %.4gX\n", o->bearing_desc, o->orders.bpfo,
           o->orders.bpfi, o->orders.bsf, o->orders.ftf);
    if (!r->broadband) {
        puts("    defects        not assessed: the signal has no broadband content (a pure tone or a synthetic signal?)");
        return;
    }
    if (!r->has_faults) {
        puts("    defects        not assessed: the running speed is unknown");
        return;
    }
    printf("      family   expected     found   strongest  harmonics  sidebands  band\n");
    for (int f = 0; f < DSP_NFAMILIES; f++) {
        const dsp_fault *x = &r->faults[f];
        printf("      %-6s %8.2f Hz %8.2f Hz %7.1f dB      %d/4        %d      %5.0f–%.0f Hz%s\n",
               dsp_family_name(x->family), x->expected_hz, x->found_hz, x->strength_db, x->harmonics, x->sidebands,
               x->band_lo_hz, x->band_hi_hz, x->detected ? "  detected" : "");
    }
    if (r->diagnosis == DSP_DIAG_NONE)
        printf("    diagnosis      none: no defect family stands %.1f dB over the envelope floor with a harmonic or sideband\n",
               r->threshold_db);
    else
        printf("    diagnosis      %s (%s evidence)\n", dsp_diagnosis_name(r->diagnosis), strength_word(r));
}

/* Analyses one file; prints its report or adds its JSON object. Returns 0 or -1 (reported). */
static int analyze_file(const char *path, const struct analyze_opts *o, dsp_analyzer **cache, cJSON *out)
{
    char err[512];
    acq_recording rec;
    acq_capture_report rep;
    bool captured = acq_is_source_uri(path);
    int rc;
    if (captured) {
        if (!(o->seconds > 0)) {
            memset(&rec, 0, sizeof rec);
            snprintf(err, sizeof err, "%s: a source needs --seconds (how long to capture)", path);
            goto fail;
        }
        rc = acq_capture(path, o->seconds, NULL, &rec, &rep, err, sizeof err);
        if (rc < 0)
            goto fail;
        if (rep.frames_with_gaps)
            fprintf(stderr, "vibewatch analyze: %s: %u frame(s) followed a gap (%llu samples lost)\n", path,
                    rep.frames_with_gaps, (unsigned long long)rep.stats.gap_samples);
    } else {
        rc = acq_read_file(path, o->fs_hz, &rec, err, sizeof err);
        if (rc < 0)
            goto fail;
    }
    if (o->fs_hz > 0 && fabs(rec.fs_hz - o->fs_hz) > 1e-6 * o->fs_hz) {
        snprintf(err, sizeof err, "%s: --fs %g Hz contradicts the file's own rate of %g Hz", path, o->fs_hz, rec.fs_hz);
        goto fail;
    }
    if (o->channel >= 0 && (unsigned)o->channel >= rec.nchan) {
        snprintf(err, sizeof err, "%s: --channel %d: the file has %u channel%s (0–%u)", path, o->channel, rec.nchan,
                 rec.nchan == 1 ? "" : "s", rec.nchan - 1);
        goto fail;
    }
    dsp_analyzer_config cfg = {
        .fs_hz = rec.fs_hz, .nsamples = rec.nframes, .shaft_hz = o->shaft_hz,
        .speed_min_hz = o->speed_range[0], .speed_max_hz = o->speed_range[1],
        .has_bearing = o->has_bearing, .orders = o->orders,
        .band_lo_hz = o->band[0], .band_hi_hz = o->band[1],
        .vel_lo_hz = o->vel_band[0], .vel_hi_hz = o->vel_band[1],
    };
    if (o->band[1] > rec.fs_hz / 2) {
        snprintf(err, sizeof err, "%s: --band %g,%g Hz reaches past half the sample rate (%g Hz)", path, o->band[0],
                 o->band[1], rec.fs_hz / 2);
        goto fail;
    }
    const dsp_analyzer_config *have = *cache ? dsp_analyzer_config_of(*cache) : NULL;
    if (!have || have->fs_hz != cfg.fs_hz || have->nsamples != cfg.nsamples) {
        dsp_analyzer_free(*cache);
        char aerr[256];
        *cache = dsp_analyzer_new(&cfg, aerr, sizeof aerr);
        if (!*cache) {
            snprintf(err, sizeof err, "%s: %s", path, aerr);
            goto fail;
        }
    }
    float *x = malloc(rec.nframes * sizeof *x);
    if (!x) {
        snprintf(err, sizeof err, "%s: out of memory", path);
        goto fail;
    }
    double lim[3];
    models_iso10816_limits(o->iso_group, o->foundation, lim);
    cJSON *fo = NULL, *chans = NULL;
    if (out) {
        fo = cJSON_CreateObject();
        cJSON_AddStringToObject(fo, "file", path);
        cJSON_AddStringToObject(fo, "format", rec.format);
        cJSON_AddItemToObject(fo, "fs_hz", num(rec.fs_hz, 3));
        cJSON_AddNumberToObject(fo, "samples", (double)rec.nframes);
        cJSON_AddNumberToObject(fo, "channel_count", rec.nchan);
        cJSON_AddStringToObject(fo, "units", "g");
        if (o->has_bearing)
            cJSON_AddStringToObject(fo, "bearing", o->bearing_desc);
        chans = cJSON_AddArrayToObject(fo, "channels");
        cJSON_AddItemToArray(out, fo);
    } else {
        printf("%s: %s, %g Hz, %zu samples (%.2f s)\n", path, rec.format, rec.fs_hz, rec.nframes,
               (double)rec.nframes / rec.fs_hz);
    }
    /* --units says what a file holds; a source that knows its unit is g already */
    double scale = o->units_ms2 ? 1.0 / DSP_G0 : 1.0;
    for (unsigned ch = 0; ch < rec.nchan; ch++) {
        if (o->channel >= 0 && (unsigned)o->channel != ch)
            continue;
        double sc = captured && strcmp(rep.info.ch[ch].unit, "g") == 0 ? 1.0 : scale;
        for (size_t i = 0; i < rec.nframes; i++)
            x[i] = (float)(rec.samples[i * rec.nchan + ch] * sc);
        dsp_result r;
        dsp_analyze(*cache, x, &r); /* the reader already refused NaN and Inf */
        /* a dead, clipping or dropping sensor is reported as such, never as a bearing fault */
        double full_scale = captured ? rep.info.ch[ch].full_scale * sc
                          : strncmp(rec.format, "WAV PCM", 7) == 0 ? scale : 0;
        char fault[256] = "";
        if (captured && rep.sensor_fault[ch])
            snprintf(fault, sizeof fault, "%s", rep.fault_reason[ch]);
        if (fault[0] || acq_selfcheck_samples(x, rec.nframes, full_scale, fault, sizeof fault) != 0) {
            r.has_faults = 0;
            r.diagnosis = DSP_DIAG_NONE;
        }
        char zone = models_iso10816_zone(r.velocity_rms_mm_s, o->iso_group, o->foundation);
        if (out)
            cJSON_AddItemToArray(chans, channel_json((int)ch, &r, o, zone, lim, fault));
        else
            channel_text((int)ch, &r, o, zone, lim, fault);
    }
    free(x);
    acq_recording_free(&rec);
    return 0;
fail:
    fprintf(stderr, "vibewatch analyze: %s\n", err);
    if (out) {
        cJSON *eo = cJSON_CreateObject();
        cJSON_AddStringToObject(eo, "file", path);
        cJSON_AddStringToObject(eo, "error", err);
        cJSON_AddItemToArray(out, eo);
    }
    acq_recording_free(&rec);
    return -1;
}

static void list_bearings(void)
{
    printf("%-24s %3s %9s %9s %6s %8s %8s %8s %8s  %s\n", "bearing", "n", "ball mm", "pitch mm", "angle", "BPFO",
           "BPFI", "BSF", "FTF", "source");
    for (size_t i = 0; i < dsp_bearing_count(); i++) {
        const dsp_bearing *b = dsp_bearing_at(i);
        printf("%-24s %3d %9.3f %9.3f %6.2f %8.4f %8.4f %8.4f %8.4f  %s\n", b->name, b->n_elements, b->ball_d_mm,
               b->pitch_d_mm, b->contact_deg, b->orders.bpfo, b->orders.bpfi, b->orders.bsf, b->orders.ftf, b->source);
    }
}

#define USAGE_ERR(...) do { fprintf(stderr, "vibewatch analyze: " __VA_ARGS__); fputc('\n', stderr); \
                            return 2; } while (0)

int cmd_analyze(int argc, char **argv)
{
    static char desc[160];
    struct analyze_opts o = {.channel = -1, .iso_group = 2, .foundation = MODELS_FOUNDATION_RIGID,
                             .speed_range = {10, 100}};
    bool rpm_set = false, hz_set = false;
    int bearing_ways = 0;
    enum { O_RPM = 256, O_HZ, O_BEARING, O_GEOM, O_ORDERS, O_FS, O_UNITS, O_CHAN, O_BAND, O_VBAND, O_SRANGE,
           O_GROUP, O_FOUND, O_JSON, O_LIST, O_HELP, O_SECONDS };
    static const struct option lo[] = {
        {"rpm", required_argument, 0, O_RPM}, {"shaft-hz", required_argument, 0, O_HZ},
        {"bearing", required_argument, 0, O_BEARING}, {"geometry", required_argument, 0, O_GEOM},
        {"orders", required_argument, 0, O_ORDERS}, {"fs", required_argument, 0, O_FS},
        {"units", required_argument, 0, O_UNITS}, {"channel", required_argument, 0, O_CHAN},
        {"band", required_argument, 0, O_BAND}, {"velocity-band", required_argument, 0, O_VBAND},
        {"speed-range", required_argument, 0, O_SRANGE}, {"iso-group", required_argument, 0, O_GROUP},
        {"foundation", required_argument, 0, O_FOUND}, {"json", no_argument, 0, O_JSON},
        {"list-bearings", no_argument, 0, O_LIST}, {"help", no_argument, 0, O_HELP},
        {"seconds", required_argument, 0, O_SECONDS}, {0, 0, 0, 0}};
    int opt;
    double v, g[4];
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (opt) {
        case O_RPM:
            if (cli_parse_double(optarg, &v) < 0 || v <= 0)
                USAGE_ERR("--rpm %s: not a positive number", optarg);
            o.shaft_hz = v / 60;
            rpm_set = true;
            break;
        case O_HZ:
            if (cli_parse_double(optarg, &v) < 0 || v <= 0)
                USAGE_ERR("--shaft-hz %s: not a positive number", optarg);
            o.shaft_hz = v;
            hz_set = true;
            break;
        case O_BEARING: {
            const dsp_bearing *b = dsp_bearing_find(optarg);
            if (!b)
                USAGE_ERR("--bearing %s: unknown or ambiguous bearing name (see --list-bearings)", optarg);
            o.orders = b->orders;
            snprintf(desc, sizeof desc, "%s", b->name);
            bearing_ways++;
            break;
        }
        case O_GEOM: {
            char gerr[160];
            if (cli_parse_doubles(optarg, g, 4) < 0)
                USAGE_ERR("--geometry %s: expected N,BALL_D,PITCH_D,ANGLE_DEG (four numbers)", optarg);
            if (g[0] != floor(g[0]) || g[0] > 1000)
                USAGE_ERR("--geometry %s: the number of rolling elements must be a whole number", optarg);
            if (dsp_bearing_orders_from_geometry((int)g[0], g[1], g[2], g[3], &o.orders, gerr, sizeof gerr) < 0)
                USAGE_ERR("--geometry %s: %s", optarg, gerr);
            snprintf(desc, sizeof desc, "geometry %s", optarg);
            bearing_ways++;
            break;
        }
        case O_ORDERS:
            if (cli_parse_doubles(optarg, g, 4) < 0 || g[0] <= 0 || g[1] <= 0 || g[2] <= 0 || g[3] <= 0)
                USAGE_ERR("--orders %s: expected BPFO,BPFI,BSF,FTF (four positive multiples of shaft speed)", optarg);
            o.orders = (dsp_bearing_orders){g[0], g[1], g[2], g[3]};
            snprintf(desc, sizeof desc, "orders %s", optarg);
            bearing_ways++;
            break;
        case O_FS:
            if (cli_parse_double(optarg, &o.fs_hz) < 0 || o.fs_hz <= 0)
                USAGE_ERR("--fs %s: not a positive sample rate", optarg);
            break;
        case O_UNITS:
            if (strcmp(optarg, "g") == 0) o.units_ms2 = false;
            else if (strcmp(optarg, "m/s2") == 0 || strcmp(optarg, "m/s^2") == 0) o.units_ms2 = true;
            else USAGE_ERR("--units %s: expected g or m/s2", optarg);
            break;
        case O_CHAN:
            if (cli_parse_double(optarg, &v) < 0 || v < 0 || v != floor(v) || v > 1024)
                USAGE_ERR("--channel %s: expected a channel number from 0", optarg);
            o.channel = (int)v;
            break;
        case O_BAND:
            if (cli_parse_doubles(optarg, o.band, 2) < 0 || o.band[0] < 0 || o.band[1] <= o.band[0])
                USAGE_ERR("--band %s: expected LO_HZ,HI_HZ with 0 ≤ LO < HI", optarg);
            break;
        case O_VBAND:
            if (cli_parse_doubles(optarg, o.vel_band, 2) < 0 || o.vel_band[0] <= 0 || o.vel_band[1] <= o.vel_band[0])
                USAGE_ERR("--velocity-band %s: expected LO_HZ,HI_HZ with 0 < LO < HI (10,1000 or 2,1000)", optarg);
            break;
        case O_SRANGE:
            if (cli_parse_doubles(optarg, o.speed_range, 2) < 0 || o.speed_range[0] <= 0 ||
                o.speed_range[1] <= o.speed_range[0])
                USAGE_ERR("--speed-range %s: expected LO_HZ,HI_HZ with 0 < LO < HI", optarg);
            break;
        case O_GROUP:
            if (cli_parse_double(optarg, &v) < 0 || v != floor(v) || v < 1 || v > 4)
                USAGE_ERR("--iso-group %s: expected 1, 2, 3 or 4 (ISO 10816-3 machine group)", optarg);
            o.iso_group = (int)v;
            break;
        case O_FOUND:
            if (models_foundation_parse(optarg, &o.foundation) < 0)
                USAGE_ERR("--foundation %s: expected rigid or flexible", optarg);
            break;
        case O_JSON:
            o.json = true;
            break;
        case O_SECONDS:
            if (cli_parse_double(optarg, &o.seconds) < 0 || o.seconds <= 0 || o.seconds > 86400)
                USAGE_ERR("--seconds %s: expected a duration from 0 to 86400 s", optarg);
            break;
        case O_LIST:
            list_bearings();
            return 0;
        case O_HELP:
            usage(stdout);
            return 0;
        default:
            if (optopt && optopt < 256)
                USAGE_ERR("unknown option -%c (see --help)", optopt);
            USAGE_ERR("unknown option or missing value: %s (see --help)", argv[optind - 1]);
        }
    }
    if (rpm_set && hz_set)
        USAGE_ERR("--rpm and --shaft-hz both give the speed: use one");
    if (bearing_ways > 1)
        USAGE_ERR("--bearing, --geometry and --orders each give the bearing: use one");
    o.has_bearing = bearing_ways == 1;
    o.bearing_desc = desc;
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    cJSON *out = o.json ? cJSON_CreateArray() : NULL;
    dsp_analyzer *cache = NULL;
    int failed = 0;
    for (int i = optind; i < argc; i++) {
        if (!o.json && i > optind)
            putchar('\n');
        if (analyze_file(argv[i], &o, &cache, out) < 0)
            failed++;
    }
    dsp_analyzer_free(cache);
    if (out) {
        char *s = cJSON_PrintUnformatted(out);
        if (s)
            puts(s);
        free(s);
        cJSON_Delete(out);
    }
    return failed ? 1 : 0;
}
