/* Tests of daemon/config.h: the defaults a minimal file gets, the shipped examples and the embedded
 * default, a table of bad configurations with the message each must produce (path and problem),
 * JSON syntax errors with their line and column, UTF-8 names kept byte for byte and invalid UTF-8
 * refused, the limits, the file loader (size cap, missing file, byte-order mark), the "models"
 * section (defaults, values, errors by path) and an asset's installation date and load. Run from
 * the repository root (tests/run.sh does), where deploy/ is. */
#include "daemon/config.h"
#include "daemon/snapshot_features.h"
#include "testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BOX "\"box\":{\"id\":\"b1\"}"
#define SENSOR "{\"id\":\"s1\",\"source\":\"sim:pump\"}"
#define SENSOR2 "{\"id\":\"s2\",\"source\":\"sim:fan\"}"
#define ASSET_WITH(extra) "{\"id\":\"p1\",\"type\":\"pump\"" extra ",\"sensors\":[" SENSOR "]}"
#define CONFIG(top, assets) "{" BOX top ",\"assets\":[" assets "]}"
#define MINIMAL CONFIG("", ASSET_WITH(""))

static vw_config *parse(const char *json, char *err, size_t errlen)
{
    return vw_config_parse(json, strlen(json), err, errlen);
}

/* A message is shown to people and written to logs: valid UTF-8 without control characters. */
static int message_is_clean(const char *m)
{
    const unsigned char *u = (const unsigned char *)m;
    for (size_t i = 0; u[i]; i++) {
        if (u[i] < 0x20 || u[i] == 0x7f)
            return 0;
        if (u[i] >= 0x80) {
            size_t k = u[i] >= 0xF0 ? 4 : u[i] >= 0xE0 ? 3 : u[i] >= 0xC2 ? 2 : 0;
            if (!k)
                return 0;
            for (size_t j = 1; j < k; j++)
                if ((u[i + j] & 0xC0) != 0x80)
                    return 0;
            i += k - 1;
        }
    }
    return 1;
}

static void test_minimal_defaults(void)
{
    char err[512];
    vw_config *c = parse(MINIMAL, err, sizeof err);
    T_CHECK(c != NULL, "minimal config refused: %s", err);
    if (!c)
        return;
    T_CHECK(strcmp(c->box_id, "b1") == 0 && strcmp(c->box_name, "b1") == 0, "box name defaults to its id");
    T_CHECK(strcmp(c->data_dir, "./vibewatch-data") == 0, "data_dir %s", c->data_dir);
    T_CHECK(strcmp(c->listen, "127.0.0.1:8080") == 0, "listen %s", c->listen);
    T_NEAR(c->schedule.snapshot_s, 1, 0, "snapshot_s");
    T_NEAR(c->schedule.interval_s, 600, 0, "interval_s");
    T_CHECK(!c->schedule.continuous, "continuous defaults to false");
    T_NEAR(c->retention.trend_days, 90, 0, "trend_days");
    T_NEAR(c->retention.aggregate_days, 1825, 0, "aggregate_days");
    T_CHECK(c->retention.spectra_per_channel == 2000, "spectra_per_channel %u", c->retention.spectra_per_channel);
    T_NEAR(c->retention.waveform_interval_h, 24, 0, "waveform_interval_h");
    T_CHECK(c->retention.waveforms_per_channel == 100, "waveforms_per_channel");
    T_NEAR(c->retention.max_mb, 1024, 0, "max_mb");
    T_CHECK(c->nassets == 1, "nassets %u", c->nassets);
    const vw_cfg_asset *a = &c->assets[0];
    T_CHECK(strcmp(a->name, "p1") == 0 && strcmp(a->type, "pump") == 0, "asset name/type");
    T_CHECK(a->iso_group == 2 && a->foundation == MODELS_FOUNDATION_RIGID, "ISO default group 2 rigid");
    T_CHECK(a->rpm == 0 && a->rpm_min == 600 && a->rpm_max == 6000, "speed estimated 600-6000 rpm by default");
    T_CHECK(a->nbearings == 0 && a->nsensors == 1, "counts");
    const vw_cfg_sensor *s = &a->sensors[0];
    T_CHECK(strcmp(s->name, "s1") == 0, "sensor name defaults to its id");
    T_CHECK(s->nchannels == 1 && s->channels[0] == 0, "channels default to [0]");
    T_CHECK(s->channel_names[0] == NULL, "no axis label by default");
    T_CHECK(!s->units_ms2 && s->mounting == NULL && s->bearing == -1, "units g, no mounting, no bearing");
    T_CHECK(c->source_text && strcmp(c->source_text, MINIMAL) == 0, "source_text kept");
    T_CHECK(vw_config_asset(c, "p1") == a && vw_config_asset(c, "p2") == NULL, "asset lookup");
    const vw_cfg_asset *owner = NULL;
    T_CHECK(vw_config_sensor(c, "s1", &owner) == s && owner == a, "sensor lookup");
    T_CHECK(vw_config_sensor(c, "nope", NULL) == NULL, "missing sensor");
    char sum[256];
    vw_config_summary(c, sum, sizeof sum);
    T_CHECK(strstr(sum, "box b1: 1 asset, 1 sensor (1 channel)") != NULL, "summary: %s", sum);
    vw_config_free(c);
    vw_config_free(NULL);
}

static void test_values_read(void)
{
    const char *json = "{\"box\":{\"id\":\"b1\",\"name\":\"Box one\"},\"data_dir\":\"/tmp/x\","
                       "\"schedule\":{\"snapshot_s\":0.5,\"interval_s\":60,\"continuous\":true},"
                       "\"retention\":{\"trend_days\":30,\"aggregate_days\":400,\"spectra_per_channel\":0,"
                       "\"waveform_interval_h\":6,\"waveforms_per_channel\":7,\"max_mb\":64},"
                       "\"web\":{\"listen\":\"[::1]:0\"},\"models\":{},\"outputs\":{\"influx\":[]},\"alerts\":{},\"users\":{},"
                       "\"assets\":[{\"id\":\"a\",\"type\":\"gearbox\",\"iso\":{\"group\":4,\"foundation\":\"flexible\"},"
                       "\"speed\":{\"rpm\":1480},\"bearings\":[{\"id\":\"one\",\"name\":\"6205\"}],"
                       "\"sensors\":[{\"id\":\"s\",\"source\":\"file:x.wav\",\"channels\":[2,0],\"axes\":[\"v\",\"h\"],"
                       "\"units\":\"m/s2\",\"mounting\":\"top\"}]}]}";
    char err[512];
    vw_config *c = parse(json, err, sizeof err);
    T_CHECK(c != NULL, "refused: %s", err);
    if (!c)
        return;
    T_CHECK(strcmp(c->box_name, "Box one") == 0 && strcmp(c->data_dir, "/tmp/x") == 0, "box, data_dir");
    T_CHECK(c->schedule.snapshot_s == 0.5 && c->schedule.interval_s == 60 && c->schedule.continuous, "schedule");
    T_CHECK(c->retention.trend_days == 30 && c->retention.aggregate_days == 400 &&
                c->retention.spectra_per_channel == 0 && c->retention.waveform_interval_h == 6 &&
                c->retention.waveforms_per_channel == 7 && c->retention.max_mb == 64,
            "retention");
    T_CHECK(strcmp(c->listen, "[::1]:0") == 0, "listen");
    const vw_cfg_asset *a = &c->assets[0];
    T_CHECK(strcmp(a->type, "gearbox") == 0 && a->iso_group == 4 && a->foundation == MODELS_FOUNDATION_FLEXIBLE,
            "type, iso");
    T_CHECK(a->rpm == 1480 && a->rpm_min == 1480 && a->rpm_max == 1480, "fixed speed");
    T_CHECK(strcmp(a->bearings[0].name, "SKF 6205-2RS JEM") == 0, "catalogue name resolved: %s", a->bearings[0].name);
    T_NEAR(a->bearings[0].orders.bpfo, dsp_bearing_find("6205")->orders.bpfo, 0, "catalogue orders");
    const vw_cfg_sensor *s = &a->sensors[0];
    T_CHECK(s->nchannels == 2 && s->channels[0] == 2 && s->channels[1] == 0, "channels");
    T_CHECK(strcmp(s->channel_names[0], "v") == 0 && strcmp(s->channel_names[1], "h") == 0, "axes");
    T_CHECK(s->units_ms2 && strcmp(s->mounting, "top") == 0, "units, mounting");
    T_CHECK(s->bearing == 0, "the only bearing is the sensor's when it names none");
    vw_config_free(c);

    /* "channels": "all" */
    c = parse(CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[{\"id\":\"s1\",\"source\":\"file:x.wav\","
                         "\"channels\":\"all\"}]}"),
              err, sizeof err);
    T_CHECK(c && c->assets[0].sensors[0].nchannels == 0, "channels all: %s", c ? "nchannels != 0" : err);
    vw_config_free(c);

    /* web off, estimate with one bound given */
    c = parse(CONFIG(",\"web\":{\"listen\":\"\"}", ASSET_WITH(",\"speed\":{\"estimate\":{\"max_rpm\":1800}}")), err,
              sizeof err);
    T_CHECK(c != NULL, "refused: %s", err);
    if (c) {
        T_CHECK(strcmp(c->listen, "") == 0, "web disabled");
        T_CHECK(c->assets[0].rpm == 0 && c->assets[0].rpm_min == 600 && c->assets[0].rpm_max == 1800, "estimate");
        char sum[256];
        vw_config_summary(c, sum, sizeof sum);
        T_CHECK(strstr(sum, "web off") != NULL, "summary: %s", sum);
    }
    vw_config_free(c);
}

static void test_examples_load(void)
{
    char err[512];
    vw_config *c = vw_config_load("deploy/pump.json", err, sizeof err);
    T_CHECK(c != NULL, "pump example: %s", err);
    if (c) {
        const vw_cfg_asset *a = vw_config_asset(c, "p101");
        T_CHECK(a && a->rpm == 2970 && a->iso_group == 3 && a->nbearings == 3 && a->nsensors == 3, "pump asset");
        if (a) {
            T_CHECK(strcmp(a->bearings[0].name, "Timken 6309") == 0, "6309 → %s", a->bearings[0].name);
            dsp_bearing_orders o;
            dsp_bearing_orders_from_geometry(8, 15.875, 65.0, 0, &o, NULL, 0);
            T_NEAR(a->bearings[2].orders.bpfo, o.bpfo, 1e-12, "geometry bearing BPFO");
            T_CHECK(a->sensors[1].bearing == 1 && a->sensors[1].nchannels == 3, "NDE sensor");
        }
    }
    vw_config_free(c);

    c = vw_config_load("deploy/fan.json", err, sizeof err);
    T_CHECK(c != NULL, "fan example: %s", err);
    if (c) {
        const vw_cfg_asset *a = vw_config_asset(c, "ct2-fan");
        T_CHECK(a && strcmp(a->name, "\xE5\x86\xB7\xE5\x8D\xB4\xE5\xA1\x94\xE9\xA3\x8E\xE6\x9C\xBA 2") == 0,
                "the Chinese name byte for byte");
        T_CHECK(a && a->rpm == 0 && a->rpm_min == 300 && a->rpm_max == 1500, "estimated speed");
        T_CHECK(a && a->foundation == MODELS_FOUNDATION_FLEXIBLE, "flexible foundation");
        T_CHECK(a && a->bearings[1].orders.ftf == 0.42, "orders bearing");
        T_CHECK(a && a->sensors[2].units_ms2 && a->sensors[2].bearing == -1, "gearbox sensor in m/s2, no bearing");
        T_CHECK(strcmp(c->listen, "") == 0, "web off");
    }
    vw_config_free(c);
}

static void test_embedded_default(void)
{
    char err[512];
    vw_config *c = vw_config_default(err, sizeof err);
    T_CHECK(c != NULL, "embedded default refused: %s", err);
    if (!c)
        return;
    T_CHECK(strcmp(c->box_id, "demo") == 0, "box demo");
    T_CHECK(strcmp(c->data_dir, "./vibewatch-data") == 0, "data_dir");
    T_CHECK(strcmp(c->listen, "127.0.0.1:8080") == 0, "web");
    T_CHECK(c->schedule.snapshot_s == 1 && c->schedule.interval_s == 600, "schedule");
    const vw_cfg_asset *a = vw_config_asset(c, "p101");
    T_CHECK(a && strcmp(a->name, "Cooling water pump 1") == 0 && strcmp(a->type, "pump") == 0, "asset");
    if (a) {
        T_CHECK(a->rpm == 2970, "rpm %g", a->rpm);
        T_CHECK(a->nbearings == 1 && strcmp(a->bearings[0].name, "Timken 6309") == 0, "bearing");
        const vw_cfg_sensor *s = vw_config_sensor(c, "p101-de", NULL);
        T_CHECK(s && strncmp(s->source, "sim:pump?fault=outer_race", 25) == 0, "simulated pump");
        T_CHECK(s && strstr(s->source, "realtime=1") && strstr(s->source, "speedup="), "sped up, paced");
        T_CHECK(s && s->bearing == 0, "sensor watches the bearing");
    }
    T_CHECK(strcmp(c->source_text, vw_config_default_json()) == 0, "source_text is the default text");
    vw_config_free(c);
}

/* Each must be refused with a message containing `want`. */
static const struct bad {
    const char *json, *want;
} bad_configs[] = {
    /* the brief's own examples */
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[" SENSOR ",{\"id\":\"s2\",\"source\":\"ioo:x\"}]}"),
     "assets[0].sensors[1].source: unknown scheme \"ioo\""},
    {CONFIG(",\"schedule\":{\"interval_s\":\"ten\"}", ASSET_WITH("")),
     "schedule.interval_s: must be a number from 1 to 86400, not \"ten\""},
    {CONFIG("", "{\"id\":\"p101\",\"type\":\"pump\",\"sensors\":[" SENSOR "]},"
                "{\"id\":\"p101\",\"type\":\"fan\",\"sensors\":[" SENSOR2 "]}"),
     "assets[1].id: duplicate id \"p101\" (also assets[0].id)"},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"bearings\":[{\"id\":\"de\",\"name\":\"6309\"}],"
                "\"sensors\":[{\"id\":\"s1\",\"source\":\"sim:pump\",\"bearing\":\"nde\"}]}"),
     "assets[0].sensors[0].bearing: no bearing \"nde\" in assets[0].bearings"},
    {CONFIG("", ASSET_WITH(",\"bearings\":[{\"id\":\"de\",\"name\":\"6999\"}]")),
     "assets[0].bearings[0].name: unknown bearing \"6999\" (vibewatch analyze --list-bearings)"},
    {CONFIG("", ASSET_WITH(",\"colour\":\"red\"")), "assets[0].colour: unknown key"},
    /* unknown and duplicate keys */
    {"{" BOX ",\"asset\":[]}", "asset: unknown key (did you mean \"assets\"?)"},
    {CONFIG("", ASSET_WITH(",\"ID\":\"x\"")), "assets[0].ID: unknown key (did you mean \"id\"?)"},
    {CONFIG(",\"schedule\":{\"interval_s\":60,\"interval_s\":70}", ASSET_WITH("")),
     "schedule.interval_s: this key appears twice"},
    {CONFIG(",\"web\":{\"port\":8080}", ASSET_WITH("")), "web.port: unknown key"},
    {CONFIG(",\"box id\":1", ASSET_WITH("")), "[\"box id\"]: unknown key"},
    /* wrong types and ranges */
    {CONFIG(",\"schedule\":{\"snapshot_s\":0.05}", ASSET_WITH("")),
     "schedule.snapshot_s: must be a number from 0.1 to 60, not 0.05"},
    {CONFIG(",\"schedule\":{\"snapshot_s\":61}", ASSET_WITH("")), "schedule.snapshot_s: must be a number from 0.1 to 60, not 61"},
    {CONFIG(",\"schedule\":{\"interval_s\":1e999}", ASSET_WITH("")),
     "schedule.interval_s: must be a number from 1 to 86400, not a number too large to represent"},
    {CONFIG(",\"schedule\":{\"continuous\":\"yes\"}", ASSET_WITH("")), "schedule.continuous: must be true or false, not \"yes\""},
    {CONFIG(",\"schedule\":{\"snapshot_s\":30,\"interval_s\":10}", ASSET_WITH("")),
     "schedule.snapshot_s: a 30 s snapshot does not fit in interval_s (10 s)"},
    {CONFIG(",\"schedule\":[]", ASSET_WITH("")), "schedule: must be an object { … }, not an array"},
    {CONFIG(",\"retention\":{\"max_mb\":1}", ASSET_WITH("")), "retention.max_mb: must be a number from 10 to 1000000, not 1"},
    {CONFIG(",\"retention\":{\"spectra_per_channel\":1.5}", ASSET_WITH("")),
     "retention.spectra_per_channel: must be a whole number from 0 to 1000000, not 1.5"},
    {CONFIG(",\"retention\":{\"trend_days\":100,\"aggregate_days\":50}", ASSET_WITH("")),
     "retention.aggregate_days: the aggregates (50 days) must be kept at least as long"},
    {CONFIG(",\"retention\":{\"trend_days\":null}", ASSET_WITH("")),
     "retention.trend_days: must be a number from 1 to 3650, not null"},
    {CONFIG(",\"data_dir\":5", ASSET_WITH("")), "data_dir: must be a path in double quotes, not 5"},
    {CONFIG(",\"data_dir\":\"\"", ASSET_WITH("")), "data_dir: must not be empty"},
    {CONFIG(",\"web\":{\"listen\":\"localhost:8080\"}", ASSET_WITH("")), "web.listen: must be \"ADDR:PORT\""},
    {CONFIG(",\"web\":{\"listen\":\"127.0.0.1:70000\"}", ASSET_WITH("")), "web.listen: must be \"ADDR:PORT\""},
    {CONFIG(",\"web\":{\"listen\":\"::1:80\"}", ASSET_WITH("")), "web.listen: must be \"ADDR:PORT\""},
    {CONFIG(",\"models\":[]", ASSET_WITH("")), "models: must be an object { … }, not an array"},
    {CONFIG(",\"users\":\"root\"", ASSET_WITH("")), "users: must be an object { … }, not \"root\""},
    {CONFIG(",\"alerts\":true", ASSET_WITH("")), "alerts: must be an object { … }, not true"},
    {CONFIG(",\"outputs\":null", ASSET_WITH("")), "outputs: must be an object { … }, not null"},
    /* box */
    {"{\"assets\":[" ASSET_WITH("") "]}", "box: missing (required: an object)"},
    {"{\"box\":{},\"assets\":[" ASSET_WITH("") "]}", "box.id: missing"},
    {"{\"box\":{\"id\":\"a/b\"},\"assets\":[" ASSET_WITH("") "]}",
     "box.id: must be 1 to 64 letters, digits, '_', '.' or '-' (and not \".\" or \"..\"), not \"a/b\""},
    /* assets */
    {"{" BOX "}", "assets: missing"},
    {"{" BOX ",\"assets\":[]}", "assets: at least one asset is needed"},
    {"{" BOX ",\"assets\":{}}", "assets: must be an array of assets [ … ], not an object"},
    {"{" BOX ",\"assets\":[7]}", "assets[0]: must be an object"},
    {CONFIG("", "{\"id\":\"p1\",\"sensors\":[" SENSOR "]}"), "assets[0].type: missing (required: one of \"pump\""},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"turbine\",\"sensors\":[" SENSOR "]}"),
     "assets[0].type: must be one of \"pump\", \"fan\", \"motor\", \"compressor\", \"gearbox\" or \"other\", not \"turbine\""},
    {CONFIG("", "{\"id\":\"p 101\",\"type\":\"pump\",\"sensors\":[" SENSOR "]}"),
     "assets[0].id: must be 1 to 64 letters, digits"},
    {CONFIG("", "{\"id\":\"..\",\"type\":\"pump\",\"sensors\":[" SENSOR "]}"), "assets[0].id: must be 1 to 64 letters"},
    {CONFIG("", "{\"id\":\"a0123456789012345678901234567890123456789012345678901234567890123\",\"type\":\"pump\","
                "\"sensors\":[" SENSOR "]}"),
     "assets[0].id: must be 1 to 64 letters"},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"name\":\"\",\"sensors\":[" SENSOR "]}"), "assets[0].name: must not be empty"},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"name\":\"two\\nlines\",\"sensors\":[" SENSOR "]}"),
     "assets[0].name: must not contain control characters (0x0A at byte 3)"},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\"}"), "assets[0].sensors: missing"},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[]}"), "assets[0].sensors: an asset needs at least one sensor"},
    {CONFIG("", ASSET_WITH(",\"iso\":{\"group\":5}")), "assets[0].iso.group: must be a whole number from 1 to 4, not 5"},
    {CONFIG("", ASSET_WITH(",\"iso\":{\"group\":2.5}")), "assets[0].iso.group: must be a whole number from 1 to 4, not 2.5"},
    {CONFIG("", ASSET_WITH(",\"iso\":{\"foundation\":\"soft\"}")),
     "assets[0].iso.foundation: must be one of \"rigid\" or \"flexible\", not \"soft\""},
    /* speed */
    {CONFIG("", ASSET_WITH(",\"speed\":{\"rpm\":1500,\"estimate\":{}}")), "assets[0].speed: give either \"rpm\""},
    {CONFIG("", ASSET_WITH(",\"speed\":{}")), "assets[0].speed: give \"rpm\""},
    {CONFIG("", ASSET_WITH(",\"speed\":{\"rpm\":-5}")), "assets[0].speed.rpm: must be a number from 10 to 60000, not -5"},
    {CONFIG("", ASSET_WITH(",\"speed\":{\"rpm\":\"2970\"}")), "assets[0].speed.rpm: must be a number from 10 to 60000, not \"2970\""},
    {CONFIG("", ASSET_WITH(",\"speed\":{\"estimate\":{\"min_rpm\":3000,\"max_rpm\":1000}}")),
     "assets[0].speed.estimate: min_rpm (3000) must be below max_rpm (1000)"},
    {CONFIG("", ASSET_WITH(",\"speed\":{\"estimate\":{\"min\":3000}}")),
     "assets[0].speed.estimate.min: unknown key (did you mean \"min_rpm\"?)"},
    /* bearings */
    {CONFIG("", ASSET_WITH(",\"bearings\":[{\"id\":\"de\",\"name\":\"6309\"},{\"id\":\"de\",\"name\":\"6307\"}]")),
     "assets[0].bearings[1].id: duplicate id \"de\" (also assets[0].bearings[0].id)"},
    {CONFIG("", ASSET_WITH(",\"bearings\":[{\"name\":\"6309\"}]")), "assets[0].bearings[0].id: missing"},
    {CONFIG("", ASSET_WITH(",\"bearings\":[{\"id\":\"de\"}]")), "assets[0].bearings[0]: give one of \"name\""},
    {CONFIG("", ASSET_WITH(",\"bearings\":[{\"id\":\"de\",\"name\":\"6309\",\"orders\":{}}]")),
     "assets[0].bearings[0]: give only one of \"name\""},
    {CONFIG("", ASSET_WITH(",\"bearings\":[{\"id\":\"de\",\"geometry\":{\"n\":9,\"ball_d\":20,\"pitch_d\":10}}]")),
     "assets[0].bearings[0].geometry: ball diameter must be smaller than the pitch diameter"},
    {CONFIG("", ASSET_WITH(",\"bearings\":[{\"id\":\"de\",\"geometry\":{\"n\":2,\"ball_d\":7,\"pitch_d\":39}}]")),
     "assets[0].bearings[0].geometry.n: must be a whole number from 3 to 100, not 2"},
    {CONFIG("", ASSET_WITH(",\"bearings\":[{\"id\":\"de\",\"geometry\":{\"n\":9,\"ball_d\":0,\"pitch_d\":39}}]")),
     "assets[0].bearings[0].geometry.ball_d: must be a number above 0 and at most 10000, not 0"},
    {CONFIG("", ASSET_WITH(",\"bearings\":[{\"id\":\"de\",\"geometry\":{\"n\":9,\"ball_d\":7,\"pitch_d\":39,"
                           "\"contact_deg\":75}}]")),
     "assets[0].bearings[0].geometry.contact_deg: must be a number from 0 to 59.9, not 75"},
    {CONFIG("", ASSET_WITH(",\"bearings\":[{\"id\":\"de\",\"orders\":{\"bpfo\":3,\"bpfi\":5,\"bsf\":2}}]")),
     "assets[0].bearings[0].orders.ftf: missing (required: a number above 0 and below 1)"},
    {CONFIG("", ASSET_WITH(",\"bearings\":[{\"id\":\"de\",\"orders\":{\"bpfo\":3,\"bpfi\":5,\"bsf\":2,\"ftf\":1}}]")),
     "assets[0].bearings[0].orders.ftf: must be a number above 0 and below 1, not 1"},
    {CONFIG("", ASSET_WITH(",\"bearings\":[{\"id\":\"de\",\"orders\":{\"bpfo\":0,\"bpfi\":5,\"bsf\":2,\"ftf\":0.4}}]")),
     "assets[0].bearings[0].orders.bpfo: must be a number above 0 and at most 100, not 0"},
    {CONFIG("", ASSET_WITH(",\"bearings\":[\"6309\"]")), "assets[0].bearings[0]: must be an object"},
    /* sensors */
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[" SENSOR "]},"
                "{\"id\":\"p2\",\"type\":\"pump\",\"sensors\":[{\"id\":\"s1\",\"source\":\"sim:fan\"}]}"),
     "assets[1].sensors[0].id: duplicate id \"s1\" (also assets[0].sensors[0].id"},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[" SENSOR ",{\"id\":\"s2\",\"source\":\"sim:pump\"}]}"),
     "assets[0].sensors[1].source: \"sim:pump\" is already read by sensor \"s1\" (assets[0].sensors[0])"},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[{\"id\":\"s1\"}]}"), "assets[0].sensors[0].source: missing"},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[{\"id\":\"s1\",\"source\":42}]}"),
     "assets[0].sensors[0].source: must be a source URI in double quotes"},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[{\"id\":\"s1\",\"source\":\"pump.wav\"}]}"),
     "assets[0].sensors[0].source: not a source URI: expected iio:, alsa:, file: or sim:"},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[{\"id\":\"s1\",\"source\":\"sim:\"}]}"),
     "assets[0].sensors[0].source: \"sim:\" names no device, file or machine"},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[{\"id\":\"s1\",\"source\":\"file:a.wav\\r\"}]}"),
     "assets[0].sensors[0].source: must not contain control characters (0x0D at byte 10): \"file:a.wav\\x0D\""},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[{\"id\":\"s1\",\"source\":\"sim:pump\",\"channels\":[0,0]}]}"),
     "assets[0].sensors[0].channels[1]: channel 0 is listed twice (also channels[0])"},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[{\"id\":\"s1\",\"source\":\"sim:pump\",\"channels\":[64]}]}"),
     "assets[0].sensors[0].channels[0]: must be a channel index, a whole number from 0 to 63, not 64"},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[{\"id\":\"s1\",\"source\":\"sim:pump\",\"channels\":[]}]}"),
     "assets[0].sensors[0].channels: must list at least one channel"},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[{\"id\":\"s1\",\"source\":\"sim:pump\",\"channels\":0}]}"),
     "assets[0].sensors[0].channels: must be an array of channel indexes [ … ] or \"all\", not 0"},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[{\"id\":\"s1\",\"source\":\"sim:pump\",\"channels\":\"any\"}]}"),
     "assets[0].sensors[0].channels: must be an array of channel indexes [ … ] or \"all\", not \"any\""},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[{\"id\":\"s1\",\"source\":\"sim:pump\",\"channels\":\"all\","
                "\"axes\":[\"x\"]}]}"),
     "assets[0].sensors[0].axes: labels need the channels listed"},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[{\"id\":\"s1\",\"source\":\"sim:pump\",\"channels\":[0,1],"
                "\"axes\":[\"x\"]}]}"),
     "assets[0].sensors[0].axes: 1 label for 2 channels"},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[{\"id\":\"s1\",\"source\":\"sim:pump\",\"channels\":[0,1],"
                "\"axes\":[\"x\",\"x\"]}]}"),
     "assets[0].sensors[0].axes[1]: axis \"x\" is listed twice"},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[{\"id\":\"s1\",\"source\":\"sim:pump\",\"axes\":[\"x y\"]}]}"),
     "assets[0].sensors[0].axes[0]: must be 1 to 31 letters"},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[{\"id\":\"s1\",\"source\":\"sim:pump\",\"units\":\"mg\"}]}"),
     "assets[0].sensors[0].units: must be one of \"g\" or \"m/s2\", not \"mg\""},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[{\"id\":\"s1\",\"source\":\"sim:pump\",\"mounting\":[]}]}"),
     "assets[0].sensors[0].mounting: must be a text in double quotes, not an array"},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[\"sim:pump\"]}"), "assets[0].sensors[0]: must be an object"},
    {CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[{\"id\":\"s1\",\"source\":\"sim:pump\",\"bearing\":\"de\"}]}"),
     "assets[0].sensors[0].bearing: no bearing \"de\" in assets[0].bearings"},
    /* the models section */
    {CONFIG(",\"models\":{\"baseline\":{\"snapshots\":20,\"hours\":48}}", ASSET_WITH("")),
     "models.baseline: give \"snapshots\" or \"hours\", not both"},
    {CONFIG(",\"models\":{\"baseline\":{\"snapshots\":2}}", ASSET_WITH("")),
     "models.baseline.snapshots: must be a whole number from 3 to 1000000, not 2"},
    {CONFIG(",\"models\":{\"onset\":{\"k\":5,\"n\":4}}", ASSET_WITH("")),
     "models.onset.k: must be at most n (4): k of the last n snapshots above the threshold"},
    {CONFIG(",\"models\":{\"onset\":{\"k\":6}}", ASSET_WITH("")), "models.onset.k: must be at most n (5)"},
    {CONFIG(",\"models\":{\"onset\":{\"ratio\":0.5}}", ASSET_WITH("")),
     "models.onset.ratio: must be a number from 1 to 1000, not 0.5"},
    {CONFIG(",\"models\":{\"warn_within\":\"14\"}", ASSET_WITH("")),
     "models.warn_within: must be a duration with its unit, such as \"14d\", \"6h\" or \"30m\" (at most 10 years), "
     "not \"14\""},
    {CONFIG(",\"models\":{\"warn_within\":\"-3d\"}", ASSET_WITH("")),
     "models.warn_within: must be a duration with its unit, such as \"14d\", \"6h\" or \"30m\" (at most 10 years), "
     "not \"-3d\""},
    {CONFIG(",\"models\":{\"warn_within\":336}", ASSET_WITH("")), "models.warn_within: must be a duration with its unit"},
    {CONFIG(",\"models\":{\"alarm_within\":\"0h\"}", ASSET_WITH("")), "models.alarm_within: must be a duration"},
    {CONFIG(",\"models\":{\"warn_within\":\"2d\",\"alarm_within\":\"3d\"}", ASSET_WITH("")),
     "models.alarm_within: the alarm horizon (72 h) must not be longer than the warning horizon (warn_within, 48 h)"},
    {CONFIG(",\"models\":{\"alarm_within\":\"400h\"}", ASSET_WITH("")),
     "models.alarm_within: the alarm horizon (400 h) must not be longer than the warning horizon (warn_within, 336 h)"},
    {CONFIG(",\"models\":{\"failure\":{\"feature\":\"nonsense\",\"limit\":3}}", ASSET_WITH("")),
     "models.failure.feature: must be one of the features (accel_rms_g, accel_peak_g, "},
    {CONFIG(",\"models\":{\"failure\":{\"feature\":\"velocity_rms_mm_s\",\"limit\":11.2,\"multiple\":10}}", ASSET_WITH("")),
     "models.failure: give \"feature\" with \"limit\", or \"multiple\", not both"},
    {CONFIG(",\"models\":{\"failure\":{\"limit\":11.2}}", ASSET_WITH("")),
     "models.failure.limit: needs \"feature\" (the feature the limit is for)"},
    {CONFIG(",\"models\":{\"failure\":{\"feature\":\"velocity_rms_mm_s\"}}", ASSET_WITH("")),
     "models.failure.limit: missing"},
    {CONFIG(",\"models\":{\"failure\":{\"multiple\":1}}", ASSET_WITH("")),
     "models.failure.multiple: must be a number from 1.01 to 1000000, not 1"},
    {CONFIG(",\"models\":{\"foo\":1}", ASSET_WITH("")), "models.foo: unknown key"},
    {CONFIG(",\"models\":{\"onset\":{\"m\":3}}", ASSET_WITH("")), "models.onset.m: unknown key"},
    {CONFIG(",\"models\":{\"seed\":1.5}", ASSET_WITH("")), "models.seed: must be a whole number"},
    {CONFIG(",\"models\":{\"prior\":\"\"}", ASSET_WITH("")), "models.prior: must not be empty"},
    /* outputs.influx[] */
#define INFLUX(body) ",\"outputs\":{\"influx\":[{\"name\":\"c\"" body "}]}"
    {CONFIG(INFLUX(",\"url\":\"ftp://x\",\"db\":\"d\""), ASSET_WITH("")),
     "outputs.influx[0].url: must start with http:// or https://"},
    {CONFIG(INFLUX(",\"url\":\"http://127.0.0.1:8086\""), ASSET_WITH("")),
     "outputs.influx[0].db: missing: the 1.x API"},
    {CONFIG(INFLUX(",\"url\":\"http://h\",\"api\":2,\"org\":\"o\""), ASSET_WITH("")),
     "outputs.influx[0].bucket: missing: the 2.x API"},
    {CONFIG(INFLUX(",\"url\":\"http://h\",\"api\":3,\"db\":\"d\""), ASSET_WITH("")),
     "outputs.influx[0].api: must be a whole number from 1 to 2"},
    {CONFIG(INFLUX(",\"url\":\"http://h\",\"db\":\"d\",\"token\":\"t\""), ASSET_WITH("")),
     "outputs.influx[0].token: belongs to the 2.x API"},
    {CONFIG(INFLUX(",\"url\":\"http://h\",\"api\":2,\"org\":\"o\",\"bucket\":\"b\",\"user\":\"u\""), ASSET_WITH("")),
     "outputs.influx[0].user: the 2.x API authenticates with \"token\""},
    {CONFIG(INFLUX(",\"url\":\"http://h\",\"db\":\"d\",\"client_cert\":\"/c.pem\""), ASSET_WITH("")),
     "outputs.influx[0].client_key: client_cert and client_key go together"},
    {CONFIG(INFLUX(",\"url\":\"http://h\",\"db\":\"d\",\"spool_mb\":0.1,\"batch_kb\":256"), ASSET_WITH("")),
     "outputs.influx[0].spool_mb: must hold at least 4 batches"},
    {CONFIG(INFLUX(",\"url\":\"http://h\",\"db\":\"d\",\"retries\":3"), ASSET_WITH("")),
     "outputs.influx[0].retries: unknown key"},
    {CONFIG(",\"outputs\":{\"influx\":[{\"name\":\"c\",\"url\":\"http://h\",\"db\":\"d\"},"
            "{\"name\":\"c\",\"url\":\"http://h\",\"db\":\"d\"}]}", ASSET_WITH("")),
     "outputs.influx[1].name: \"c\" is already the name of outputs.influx[0]"},
    {CONFIG(",\"outputs\":{\"kafka\":[]}", ASSET_WITH("")), "outputs.kafka: unknown key"},
    {CONFIG(INFLUX(""), ASSET_WITH("")), "outputs.influx[0].url: missing"},
    /* an asset's installation date and load */
    {CONFIG("", ASSET_WITH(",\"installed\":\"2024-13-01\"")),
     "assets[0].installed: must be a real UTC date \"YYYY-MM-DD\" or date and time \"YYYY-MM-DDTHH:MM:SSZ\""},
    {CONFIG("", ASSET_WITH(",\"installed\":\"2024-03-01T12:00\"")), "assets[0].installed: must be a real UTC date"},
    {CONFIG("", ASSET_WITH(",\"installed\":\"2024-03-01 junk\"")), "assets[0].installed: must be a real UTC date"},
    {CONFIG("", ASSET_WITH(",\"installed\":20240301")), "assets[0].installed: must be a real UTC date"},
    {CONFIG("", ASSET_WITH(",\"load_n\":-5")), "assets[0].load_n: must be a number from 1 to 100000000, not -5"},
    {CONFIG("", ASSET_WITH(",\"load_n\":\"4 kN\"")), "assets[0].load_n: must be a number"},
    /* the document itself */
    {"[]", "top level: must be a JSON object { … }, not an array"},
    {"\"text\"", "top level: must be a JSON object { … }, not \"text\""},
    {"", "line 1, column 1: the text is empty"},
    {"{\"box\":{\"id\":\"b1\",}}", "line 1, column 18: trailing comma before '}'"},
    {"{\"a\":[1,2,]}", "line 1, column 10: trailing comma before ']'"},
    {"{\n  // a comment\n}", "line 2, column 3: comments are not JSON"},
    {"{\"a\":\"open}", "line 1, column 6: this string is not closed"},
    {"{\"a\":1}}", "line 1, column 8: '}' after the end of the JSON value"},
    {"{\"a\":1 \"b\":2}", "line 1, column 8: expected ',' or '}', found '\"' (a ',' is missing before it?)"},
    {"{a:1}", "line 1, column 2: keys take double quotes"},
    {"{\"a\":'x'}", "line 1, column 6: strings take double quotes"},
    {"{\"a\":tru}", "line 1, column 6: unknown word tru (true, false or null?)"},
    {"{\"a\":ten}", "line 1, column 6: unquoted text ten: strings take double quotes"},
    {"{\"a\":NaN}", "line 1, column 6: NaN is not a JSON number"},
    {"{\"a\":07}", "line 1, column 6: a number must not start with 0"},
    {"{\"a\":.5}", "line 1, column 6: a number must start with a digit"},
    {"{\"a\":\"x\\u0000y\"}", "line 1, column 8: \\u0000 (a NUL character) is not allowed"},
    {"{\"a\":\"\\ud800\"}", "line 1, column 7: \\uD800 must be followed by the second half"},
    {"{\"a\":\"\\q\"}", "line 1, column 7: invalid escape '\\q'"},
    {"{\"a\":[", "line 1, column 7: the text ends where a value is expected"},
    {"{\"a\":[1", "line 1, column 8: the text ends inside the array opened at line 1, column 6"},
    {"{\"a\":\"tab\there\"}", "line 1, column 10: control character 0x09 in a string"},
    {"{\"a\":1,名前:2}", "line 1, column 8: expected a key in double quotes, found '名'"},
};

static void test_bad_configs(void)
{
    size_t n = sizeof bad_configs / sizeof bad_configs[0];
    T_CHECK(n >= 30, "the table has %zu rows", n);
    for (size_t i = 0; i < n; i++) {
        char err[512] = "";
        vw_config *c = parse(bad_configs[i].json, err, sizeof err);
        T_CHECK(c == NULL, "row %zu accepted: %s", i, bad_configs[i].json);
        vw_config_free(c);
        T_CHECK(strstr(err, bad_configs[i].want) != NULL, "row %zu: got '%s', want '%s'", i, err, bad_configs[i].want);
        T_CHECK(message_is_clean(err), "row %zu: message with raw bytes", i);
    }
}

static void test_models_defaults(void)
{
    static const char *const docs[] = {MINIMAL, CONFIG(",\"models\":{}", ASSET_WITH(""))};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        char err[512];
        vw_config *c = parse(docs[i], err, sizeof err);
        T_CHECK(c != NULL, "doc %zu refused: %s", i, err);
        if (!c)
            continue;
        const vw_cfg_models *m = &c->models;
        T_CHECK(m->baseline_snapshots == 30 && m->baseline_hours == 0, "baseline %u snapshots, %g h",
                m->baseline_snapshots, m->baseline_hours);
        T_CHECK(m->health_window == 5, "health_window %u", m->health_window);
        T_CHECK(m->onset_k == 3 && m->onset_n == 5, "onset %u of %u", m->onset_k, m->onset_n);
        T_NEAR(m->onset_ratio, 2, 0, "onset ratio");
        T_NEAR(m->warn_within_h, 336, 0, "warn_within_h");
        T_NEAR(m->alarm_within_h, 168, 0, "alarm_within_h");
        T_NEAR(m->p_warn, 0.5, 0, "p_warn");
        T_NEAR(m->p_alarm, 0.5, 0, "p_alarm");
        T_NEAR(m->failure_multiple, 10, 0, "failure_multiple");
        T_CHECK(m->failure_feature == NULL, "failure_feature %s", m->failure_feature);
        T_CHECK(m->prior == NULL, "prior %s", m->prior);
        T_NEAR(m->seed, 1, 0, "seed");
        T_NEAR(m->stopped_rms_g, 0.005, 0, "stopped_rms_g");
        T_NEAR(m->speed_tolerance, 0.1, 0, "speed_tolerance");
        T_CHECK(isnan(c->assets[0].installed_h) && isnan(c->assets[0].load_n), "installed and load unknown");
        vw_config_free(c);
    }
}

static void test_models_values(void)
{
    const char *json = CONFIG(",\"models\":{\"baseline\":{\"hours\":48},\"onset\":{\"k\":2,\"n\":4,\"ratio\":1.5},"
                              "\"warn_within\":\"10d\",\"alarm_within\":\"36h\","
                              "\"failure\":{\"feature\":\"velocity_rms_mm_s\",\"limit\":11.2},"
                              "\"prior\":\"/x/p.json\",\"seed\":7}",
                              ASSET_WITH(""));
    char err[512];
    vw_config *c = parse(json, err, sizeof err);
    T_CHECK(c != NULL, "refused: %s", err);
    if (c) {
        const vw_cfg_models *m = &c->models;
        T_NEAR(m->baseline_hours, 48, 0, "baseline hours");
        T_CHECK(m->baseline_snapshots == 30, "baseline_snapshots left at its default: %u", m->baseline_snapshots);
        T_CHECK(m->onset_k == 2 && m->onset_n == 4, "onset %u of %u", m->onset_k, m->onset_n);
        T_NEAR(m->onset_ratio, 1.5, 0, "onset ratio");
        T_NEAR(m->warn_within_h, 240, 0, "warn_within 10d");
        T_NEAR(m->alarm_within_h, 36, 0, "alarm_within 36h");
        T_CHECK(m->failure_feature && strcmp(m->failure_feature, "velocity_rms_mm_s") == 0, "failure feature %s",
                m->failure_feature ? m->failure_feature : "(null)");
        T_NEAR(m->failure_limit, 11.2, 0, "failure limit");
        T_CHECK(m->prior && strcmp(m->prior, "/x/p.json") == 0, "prior %s", m->prior ? m->prior : "(null)");
        T_NEAR(m->seed, 7, 0, "seed");
        T_NEAR(m->p_warn, 0.5, 0, "p_warn untouched");
    }
    vw_config_free(c);

    /* the other keys, the anomaly criterion, minutes and seconds, a snapshot count */
    json = CONFIG(",\"models\":{\"baseline\":{\"snapshots\":12},\"health_window\":9,\"warn_within\":\"30m\","
                  "\"alarm_within\":\"90s\",\"p_warn\":0.2,\"p_alarm\":0.8,\"failure\":{\"multiple\":4.5},"
                  "\"stopped_rms_g\":0.02,\"speed_tolerance\":0.3,\"// note\":\"ignored\"}",
                  ASSET_WITH(""));
    c = parse(json, err, sizeof err);
    T_CHECK(c != NULL, "refused: %s", err);
    if (c) {
        const vw_cfg_models *m = &c->models;
        T_CHECK(m->baseline_snapshots == 12 && m->baseline_hours == 0, "baseline snapshots");
        T_CHECK(m->health_window == 9, "health_window");
        T_NEAR(m->warn_within_h, 0.5, 1e-15, "warn_within 30m");
        T_NEAR(m->alarm_within_h, 90.0 / 3600, 1e-15, "alarm_within 90s");
        T_NEAR(m->p_warn, 0.2, 0, "p_warn");
        T_NEAR(m->p_alarm, 0.8, 0, "p_alarm");
        T_CHECK(m->failure_feature == NULL, "no failure feature");
        T_NEAR(m->failure_multiple, 4.5, 0, "failure multiple");
        T_NEAR(m->stopped_rms_g, 0.02, 0, "stopped_rms_g");
        T_NEAR(m->speed_tolerance, 0.3, 0, "speed_tolerance");
    }
    vw_config_free(c);

    /* alarm and warning horizons may be equal */
    c = parse(CONFIG(",\"models\":{\"warn_within\":\"7d\",\"alarm_within\":\"168h\"}", ASSET_WITH("")), err,
              sizeof err);
    T_CHECK(c != NULL, "equal horizons refused: %s", err);
    vw_config_free(c);
}

/* The message for an unknown failure feature lists every feature a failure may be defined on. */
static void test_models_feature_list(void)
{
    char err[1024] = "";
    vw_config *c = parse(CONFIG(",\"models\":{\"failure\":{\"feature\":\"nonsense\",\"limit\":3}}", ASSET_WITH("")),
                         err, sizeof err);
    T_CHECK(c == NULL, "accepted");
    vw_config_free(c);
    static const char *const names[] = {VW_SNAPSHOT_FEATURE_NAMES};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        T_CHECK(strstr(err, names[i]) != NULL, "'%s' not listed: %s", names[i], err);
    T_CHECK(strstr(err, "velocity_rms_mm_s") && strstr(err, ", not \"nonsense\""), "got '%s'", err);
    T_CHECK(message_is_clean(err), "raw bytes");
    /* every listed name is accepted */
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char doc[512];
        snprintf(doc, sizeof doc, CONFIG(",\"models\":{\"failure\":{\"feature\":\"%s\",\"limit\":3}}", ASSET_WITH("")),
                 names[i]);
        c = parse(doc, err, sizeof err);
        T_CHECK(c && c->models.failure_feature && strcmp(c->models.failure_feature, names[i]) == 0, "%s: %s", names[i],
                c ? "not kept" : err);
        vw_config_free(c);
    }
}

static void test_asset_installed_and_load(void)
{
    /* in UTC whatever the local time zone */
    const char *old = getenv("TZ");
    char saved[128] = "";
    if (old)
        snprintf(saved, sizeof saved, "%s", old);
    setenv("TZ", "EST5EDT", 1);
    tzset();
    static const struct {
        const char *text;
        double hours;
    } ok[] = {
        {"2024-03-01", 1709251200.0 / 3600},
        {"2024-03-01T12:00:00Z", 1709251200.0 / 3600 + 12},
        {"1970-01-01", 0},
        {"2024-07-15T23:59:59Z", 1721087999.0 / 3600},
    };
    char err[512];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char doc[512];
        snprintf(doc, sizeof doc, CONFIG("", ASSET_WITH(",\"installed\":\"%s\",\"load_n\":4000")), ok[i].text);
        vw_config *c = parse(doc, err, sizeof err);
        T_CHECK(c != NULL, "%s refused: %s", ok[i].text, err);
        if (c) {
            T_CHECK(c->assets[0].installed_h == ok[i].hours, "%s: installed_h %.17g, want %.17g", ok[i].text,
                    c->assets[0].installed_h, ok[i].hours);
            T_NEAR(c->assets[0].load_n, 4000, 0, "load_n");
        }
        vw_config_free(c);
    }
    if (old)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
}

/* A day the month does not have is not a date (timegm would quietly carry it into the next month). */
static void test_asset_installed_invalid_day(void)
{
    static const char *const bad[] = {"2024-02-30", "2023-02-29", "2024-04-31", "2024-01-32"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char doc[512], err[512] = "";
        snprintf(doc, sizeof doc, CONFIG("", ASSET_WITH(",\"installed\":\"%s\"")), bad[i]);
        vw_config *c = parse(doc, err, sizeof err);
        T_CHECK(c == NULL, "%s accepted as installed_h %.17g (day %.6g since 1970)", bad[i],
                c ? c->assets[0].installed_h : 0.0, c ? c->assets[0].installed_h / 24 : 0.0);
        T_CHECK(c != NULL || strstr(err, "assets[0].installed: must be a real UTC date"), "%s: '%s'", bad[i], err);
        vw_config_free(c);
    }
}

/* Comments ("//" keys) anywhere, with any value, change nothing. */
static void test_comments(void)
{
    const char *json = "{\"//\":\"top\",\"// more\":[1,{\"x\":2}],\"box\":{\"//\":1,\"id\":\"b1\"},"
                       "\"assets\":[{\"//\":null,\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[{\"//x\":{},\"id\":\"s1\","
                       "\"source\":\"sim:pump\"}]}]}";
    char err[512];
    vw_config *c = parse(json, err, sizeof err);
    T_CHECK(c != NULL, "comments refused: %s", err);
    vw_config_free(c);
    /* one slash is not a comment */
    c = parse(CONFIG(",\"/x\":1", ASSET_WITH("")), err, sizeof err);
    T_CHECK(!c && strstr(err, "[\"/x\"]: unknown key"), "single slash: %s", err);
    vw_config_free(c);
}

static void test_multiline_position(void)
{
    const char *json = "{\n"
                       "  \"box\": {\"id\": \"b1\"},\n"
                       "  \"名前\": \"é\", \"assets\": [1 2]\n"
                       "}\n";
    char err[512];
    vw_config *c = parse(json, err, sizeof err);
    T_CHECK(c == NULL, "accepted");
    vw_config_free(c);
    /* columns count characters, not bytes: the '2' is the 27th character of its line (the 35th byte) */
    T_CHECK(strstr(err, "line 3, column 27: expected ',' or ']'") != NULL, "got %s", err);
}

static void test_utf8(void)
{
    char err[512];
    /* raw UTF-8 and \u escapes (one a surrogate pair) both arrive as the same UTF-8 bytes */
    const char *json = CONFIG("", "{\"id\":\"f2\",\"type\":\"fan\",\"name\":\"冷却塔风机 2 \\u51b7 \\ud83d\\ude00\","
                                  "\"sensors\":[{\"id\":\"s1\",\"name\":\"电机驱动端\",\"source\":\"file:/srv/录音/风机 2.wav\","
                                  "\"mounting\":\"轴承座，径向\"}]}");
    vw_config *c = parse(json, err, sizeof err);
    T_CHECK(c != NULL, "refused: %s", err);
    if (c) {
        T_CHECK(strcmp(c->assets[0].name, "冷却塔风机 2 冷 \xF0\x9F\x98\x80") == 0, "name '%s'", c->assets[0].name);
        T_CHECK(strcmp(c->assets[0].sensors[0].name, "电机驱动端") == 0, "sensor name");
        T_CHECK(strcmp(c->assets[0].sensors[0].mounting, "轴承座，径向") == 0, "mounting");
        T_CHECK(strcmp(c->assets[0].sensors[0].source, "file:/srv/录音/风机 2.wav") == 0, "a file path as written");
    }
    vw_config_free(c);

    static const struct {
        const char *bytes, *want;
    } bad[] = {
        {"ab\xFF", "assets[0].name: not valid UTF-8 (byte 0xFF at byte 2): \"ab\\xFF\""},
        {"\xC0\xAF", "assets[0].name: not valid UTF-8 (byte 0xC0 at byte 0)"},         /* overlong '/' */
        {"x\xED\xA0\x80", "assets[0].name: not valid UTF-8 (byte 0xED at byte 1)"},     /* a surrogate */
        {"\xF4\x90\x80\x80", "assets[0].name: not valid UTF-8 (byte 0xF4 at byte 0)"}, /* above U+10FFFF */
        {"\xE5\x86", "assets[0].name: not valid UTF-8"},                                /* cut short */
        {"\x80x", "assets[0].name: not valid UTF-8"},                                   /* lone continuation */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char doc[512];
        snprintf(doc, sizeof doc, CONFIG("", "{\"id\":\"p1\",\"type\":\"pump\",\"name\":\"%s\",\"sensors\":[" SENSOR "]}"),
                 bad[i].bytes);
        c = parse(doc, err, sizeof err);
        T_CHECK(c == NULL, "invalid UTF-8 %zu accepted", i);
        vw_config_free(c);
        T_CHECK(strstr(err, bad[i].want) != NULL, "case %zu: got '%s'", i, err);
        T_CHECK(message_is_clean(err), "case %zu: raw bytes in the message", i);
    }
    /* in a comment the walk never reads, and in a key: refused with the position / escaped */
    c = parse("{\"//\":\"caf\xE9\"," BOX ",\"assets\":[" ASSET_WITH("") "]}", err, sizeof err);
    T_CHECK(c == NULL && strstr(err, "line 1, column 11: not valid UTF-8 (byte 0xE9)"), "comment: %s", err);
    vw_config_free(c);
    c = parse(CONFIG(",\"k\xFF\":1", ASSET_WITH("")), err, sizeof err);
    T_CHECK(c == NULL && strstr(err, "[\"k\\xFF\"]: unknown key") && message_is_clean(err), "key: %s", err);
    vw_config_free(c);
    /* a hostile key with escapes and control characters stays escaped */
    c = parse(CONFIG(",\"\\u0001\\n\\\"\":1", ASSET_WITH("")), err, sizeof err);
    T_CHECK(c == NULL && strstr(err, "[\"\\x01\\n\\\"\"]: unknown key") && message_is_clean(err), "key: %s", err);
    vw_config_free(c);
}

/* A JSON document with n assets (each with nsensors sensors), nb bearings in the first asset and
 * nch channels on the first sensor. */
static char *big_config(unsigned n, unsigned nsensors, unsigned nb, unsigned nch)
{
    size_t cap = 1u << 20, o = 0;
    char *b = malloc(cap);
    if (!b)
        return NULL;
    o += (size_t)snprintf(b + o, cap - o, "{" BOX ",\"assets\":[");
    for (unsigned a = 0; a < n; a++) {
        o += (size_t)snprintf(b + o, cap - o, "%s{\"id\":\"a%u\",\"type\":\"other\",\"bearings\":[", a ? "," : "", a);
        for (unsigned k = 0; a == 0 && k < nb; k++)
            o += (size_t)snprintf(b + o, cap - o, "%s{\"id\":\"b%u\",\"name\":\"6309\"}", k ? "," : "", k);
        o += (size_t)snprintf(b + o, cap - o, "],\"sensors\":[");
        for (unsigned s = 0; s < nsensors; s++) {
            o += (size_t)snprintf(b + o, cap - o, "%s{\"id\":\"a%u-s%u\",\"source\":\"sim:pump?seed=%u\",\"channels\":[",
                                  s ? "," : "", a, s, a * 100 + s);
            for (unsigned ch = 0; ch < (a == 0 && s == 0 ? nch : 1); ch++)
                o += (size_t)snprintf(b + o, cap - o, "%s%u", ch ? "," : "", ch);
            o += (size_t)snprintf(b + o, cap - o, "]}");
        }
        o += (size_t)snprintf(b + o, cap - o, "]}");
    }
    snprintf(b + o, cap - o, "]}");
    return b;
}

static void test_limits(void)
{
    static const struct {
        unsigned n, ns, nb, nch;
        const char *want; /* NULL: accepted */
    } cases[] = {
        {VW_CFG_MAX_ASSETS, VW_CFG_MAX_SENSORS, VW_CFG_MAX_BEARINGS, VW_CFG_MAX_CHANNELS, NULL},
        {VW_CFG_MAX_ASSETS + 1, 1, 0, 1, "assets: at most 64 assets"},
        {1, VW_CFG_MAX_SENSORS + 1, 0, 1, "assets[0].sensors: at most 16 sensors"},
        {1, 1, VW_CFG_MAX_BEARINGS + 1, 1, "assets[0].bearings: at most 8 bearings"},
        {1, 1, 0, VW_CFG_MAX_CHANNELS + 1, "assets[0].sensors[0].channels: at most 8 channel indexes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *json = big_config(cases[i].n, cases[i].ns, cases[i].nb, cases[i].nch);
        if (!json)
            return;
        char err[512] = "";
        vw_config *c = parse(json, err, sizeof err);
        if (!cases[i].want) {
            T_CHECK(c != NULL, "case %zu refused: %s", i, err);
            T_CHECK(c && c->nassets == VW_CFG_MAX_ASSETS && c->assets[63].nsensors == VW_CFG_MAX_SENSORS &&
                        c->assets[0].nbearings == VW_CFG_MAX_BEARINGS &&
                        c->assets[0].sensors[0].nchannels == VW_CFG_MAX_CHANNELS,
                    "the largest config is complete");
        } else {
            T_CHECK(c == NULL && strstr(err, cases[i].want), "case %zu: got '%s'", i, err);
        }
        vw_config_free(c);
        free(json);
    }
    /* too deep */
    char deep[200];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = 0;
    char err[512];
    vw_config *c = parse(deep, err, sizeof err);
    T_CHECK(c == NULL && strstr(err, "nested more than 64 levels deep"), "deep: %s", err);
    vw_config_free(c);
    /* more than 1 MiB of text, even valid */
    size_t big = VW_CFG_MAX_FILE_BYTES + 1;
    char *text = malloc(big);
    if (text) {
        memset(text, ' ', big);
        memcpy(text, MINIMAL, strlen(MINIMAL));
        c = vw_config_parse(text, big, err, sizeof err);
        T_CHECK(c == NULL && strstr(err, "at most 1048576 (1 MiB)"), "big: %s", err);
        vw_config_free(c);
        c = vw_config_parse(text, big - 1, err, sizeof err);
        T_CHECK(c != NULL, "exactly 1 MiB refused: %s", err);
        vw_config_free(c);
        free(text);
    }
}

static int write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static void test_load(void)
{
    char path[600], err[768];
    snprintf(path, sizeof path, "%s/good.json", t_tmpdir());
    char bom[512];
    snprintf(bom, sizeof bom, "\xEF\xBB\xBF%s", MINIMAL);
    T_CHECK(write_file(path, bom, strlen(bom)) == 0, "write");
    vw_config *c = vw_config_load(path, err, sizeof err);
    T_CHECK(c != NULL, "byte-order mark: %s", err);
    vw_config_free(c);

    snprintf(path, sizeof path, "%s/bad.json", t_tmpdir());
    const char *bad = "{\n  \"box\": {\"id\": \"b1\"},\n  \"assets\": 3\n}\n";
    write_file(path, bad, strlen(bad));
    c = vw_config_load(path, err, sizeof err);
    char want[700];
    snprintf(want, sizeof want, "%s: assets: must be an array of assets [ … ], not 3", path);
    T_CHECK(c == NULL && strcmp(err, want) == 0, "got '%s'", err);

    snprintf(path, sizeof path, "%s/syntax.json", t_tmpdir());
    const char *syntax = "{\n\n  \"box\": {\"id\": \"b1\"}\n  \"assets\": []\n}\n";
    write_file(path, syntax, strlen(syntax));
    c = vw_config_load(path, err, sizeof err);
    snprintf(want, sizeof want, "%s: line 4, column 3: expected ',' or '}'", path);
    T_CHECK(c == NULL && strncmp(err, want, strlen(want)) == 0, "got '%s'", err);

    snprintf(path, sizeof path, "%s/missing.json", t_tmpdir());
    c = vw_config_load(path, err, sizeof err);
    T_CHECK(c == NULL && strstr(err, "missing.json: No such file or directory"), "got '%s'", err);

    c = vw_config_load(t_tmpdir(), err, sizeof err);
    T_CHECK(c == NULL && strstr(err, "is a directory"), "got '%s'", err);

    snprintf(path, sizeof path, "%s/huge.json", t_tmpdir());
    size_t big = VW_CFG_MAX_FILE_BYTES + 10;
    char *text = malloc(big);
    if (text) {
        memset(text, ' ', big);
        memcpy(text, MINIMAL, strlen(MINIMAL));
        write_file(path, text, big);
        free(text);
        c = vw_config_load(path, err, sizeof err);
        T_CHECK(c == NULL && strstr(err, "huge.json: larger than 1 MiB"), "got '%s'", err);
    }
    c = vw_config_load("/dev/zero", err, sizeof err);
    T_CHECK(c == NULL && strstr(err, "/dev/zero: larger than 1 MiB"), "endless device: %s", err);
}

/* Every proper prefix of the pump example is refused (never a crash, never a half config), and the
 * whole file accepted. */
static void test_truncations(void)
{
    FILE *f = fopen("deploy/pump.json", "rb");
    T_CHECK(f != NULL, "deploy/pump.json not found (run from the repository root)");
    if (!f)
        return;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    size_t accepted = 0;
    /* trailing whitespace may go without harm */
    size_t end = n;
    while (end > 0 && (buf[end - 1] == '\n' || buf[end - 1] == ' '))
        end--;
    for (size_t k = 0; k < n; k++) {
        char err[512] = "";
        vw_config *c = vw_config_parse(buf, k, err, sizeof err);
        if (c)
            accepted++;
        T_CHECK(c == NULL || k >= end, "prefix of %zu bytes accepted", k);
        T_CHECK(c != NULL || err[0], "prefix of %zu bytes: no message", k);
        vw_config_free(c);
    }
    T_CHECK(accepted == n - end, "accepted %zu prefixes", accepted);
}

int main(void)
{
    T_RUN(test_minimal_defaults);
    T_RUN(test_values_read);
    T_RUN(test_examples_load);
    T_RUN(test_embedded_default);
    T_RUN(test_bad_configs);
    T_RUN(test_models_defaults);
    T_RUN(test_models_values);
    T_RUN(test_models_feature_list);
    T_RUN(test_asset_installed_and_load);
    T_RUN(test_asset_installed_invalid_day);
    T_RUN(test_comments);
    T_RUN(test_multiline_position);
    T_RUN(test_utf8);
    T_RUN(test_limits);
    T_RUN(test_load);
    T_RUN(test_truncations);
    return t_done();
}
