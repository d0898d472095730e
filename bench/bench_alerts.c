/* bench/bench_alerts.c — the cost of the alerts, in one thread, without a server: the rules of an
 * asset per snapshot (alerts/rules.h), rendering one alert's forms and its e-mail (alerts/evidence.h,
 * alerts/mail.h), and the outbox's transactions on a SQLite file (alerts/outbox.h). Prints a table;
 * checks nothing. End-to-end delivery to a real SMTP server is bench/bench_alerts.sh.
 *   bench_alerts [DIR]      (DIR: where the outbox's database goes; default a fresh folder under
 *                           $TMPDIR or /tmp, removed afterwards)
 * Each figure is the median of REPS repetitions of a block of calls (the block's mean per call),
 * with the smallest and largest of those repetitions beside it: their spread is the machine's noise.
 * The outbox is opened as the box opens it (WAL, synchronous=NORMAL: a commit does not fsync, a
 * checkpoint does). */
#include "alerts/evidence.h"
#include "alerts/mail.h"
#include "alerts/outbox.h"
#include "alerts/rules.h"

#include "bench/bench_fs.h"

#include <cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEC INT64_C(1000000000)
#define DAY (86400 * SEC)
#define T_EV (INT64_C(1795915860) * SEC) /* 2026-11-29 01:31:00 UTC */
#define REPS 7
#define NCH 3                            /* the asset's channels: one triaxial sensor */
#define RULES_SNAPS 60000                /* snapshot-channels per repetition of the rules */
#define RENDER_CALLS 200                 /* calls per repetition of each form */
#define OUTBOX_REPS 5
#define OUTBOX_ALERTS 400                /* alerts per repetition of the outbox */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct spread {
    double med, min, max;
} spread;

static spread spread_of(const double *v, size_t n)
{
    double s[64];
    if (n > sizeof s / sizeof s[0])
        n = sizeof s / sizeof s[0];
    memcpy(s, v, n * sizeof *v);
    qsort(s, n, sizeof *s, cmp_double);
    return (spread){n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]), s[0], s[n - 1]};
}

static double percentile(double *v, size_t n, double p) /* sorts v */
{
    if (!n)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    size_t i = (size_t)ceil(p * (double)n) - 1;
    return v[i < n ? i : n - 1];
}

static uint64_t rng_state = 0x2545F4914F6CDD1Du;
static double urand(void) /* xorshift64*, [0, 1) */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * UINT64_C(2685821657736338717)) >> 11) * 0x1.0p-53;
}

/* ---- 1. the rules ---------------------------------------------------------------------------- */

/* A scenario: the inputs of RULES_SNAPS snapshot-channels, channel i % NCH, one snapshot of each
 * channel a minute of data time. */
typedef struct scenario {
    const char *name, *what;
    alerts_input in[RULES_SNAPS];
} scenario;

static void make_healthy(scenario *s)
{
    s->name = "healthy";
    s->what = "all ok, ISO zone A, 41 °C";
    for (int i = 0; i < RULES_SNAPS; i++)
        s->in[i] = (alerts_input){.t_h = (double)(i / NCH) / 60.0, .model = ALERTS_OK, .iso_zone = 1,
                                  .temp_c = 41 + urand()};
}

/* A bearing failing over the block (ok → watch → warning → alarm by quarters), each raw level
 * flipped one step up or down one time in five, ISO zones and temperatures rising with it (against
 * limits of 70 and 85 °C), and a sensor fault now and then: the debouncing, the hysteresis, the
 * holds and the repeats all work. */
static void make_failing(scenario *s)
{
    s->name = "failing";
    s->what = "ok→alarm by quarters, 1 in 5 levels flipped ±1, ISO B–D, 60–90 °C";
    for (int i = 0; i < RULES_SNAPS; i++) {
        double x = (double)i / RULES_SNAPS;
        int l = (int)(x * 4), u = (int)(urand() * 10);
        if (u == 0 && l < ALERTS_ALARM)
            l++;
        else if (u == 1 && l > ALERTS_OK)
            l--;
        s->in[i] = (alerts_input){.t_h = (double)(i / NCH) / 60.0, .model = (enum alerts_level)l,
                                  .sensor_fault = urand() < 0.002, .iso_zone = 2 + (int)(x * 2.99),
                                  .temp_c = 60 + 30 * x + 4 * (urand() - 0.5)};
    }
}

static alerts_rules *rules_new(void)
{
    alerts_rules_cfg c;
    alerts_rules_cfg_default(&c);
    c.temp_warning_c = 70;
    c.temp_alarm_c = 85;
    return alerts_rules_create(&c, NCH);
}

static void bench_rules(char **state_out)
{
    static scenario sc[2];
    make_healthy(&sc[0]);
    make_failing(&sc[1]);
    printf("1. rules (alerts/rules.h): an asset of %d channels, defaults + temperature limits 70/85 °C; one\n"
           "   snapshot-channel = alerts_rules_update + alerts_rules_eval, as the daemon calls them; a snapshot a\n"
           "   minute of data time per channel, %d snapshot-channels per repetition, median of %d (min–max)\n",
           NCH, RULES_SNAPS, REPS);
    printf("%-8s %9s %9s %9s %7s %7s %7s %7s %7s  %s\n", "inputs", "ns/snap", "min", "max", "notes", "raised",
           "lowered", "recov", "repeat", "scenario");
    alerts_decision d;
    for (int k = 0; k < 2; k++) {
        double per[REPS];
        long kinds[5] = {0};
        for (int r = 0; r < REPS; r++) {
            alerts_rules *ru = rules_new();
            if (!ru) {
                fprintf(stderr, "bench_alerts: alerts_rules_create failed\n");
                exit(1);
            }
            long counts[5] = {0};
            double t0 = now_s();
            for (int i = 0; i < RULES_SNAPS; i++) {
                const alerts_input *in = &sc[k].in[i];
                alerts_rules_update(ru, (unsigned)(i % NCH), in);
                alerts_rules_eval(ru, in->t_h, false, &d);
                counts[d.kind]++;
            }
            per[r] = (now_s() - t0) / RULES_SNAPS * 1e9;
            memcpy(kinds, counts, sizeof kinds);
            if (k == 1 && r == REPS - 1 && state_out)
                *state_out = alerts_rules_to_json(ru);
            alerts_rules_free(ru);
        }
        spread s = spread_of(per, REPS);
        long notes = kinds[1] + kinds[2] + kinds[3] + kinds[4];
        printf("%-8s %9.1f %9.1f %9.1f %7ld %7ld %7ld %7ld %7ld  %s\n", sc[k].name, s.med, s.min, s.max, notes,
               kinds[ALERTS_RAISED], kinds[ALERTS_LOWERED], kinds[ALERTS_RECOVERED], kinds[ALERTS_REPEAT], sc[k].what);
    }
    /* the state saved with every notification (and every 50 snapshots) */
    alerts_rules *ru = rules_new();
    for (int i = 0; i < RULES_SNAPS / 2; i++) {
        alerts_rules_update(ru, (unsigned)(i % NCH), &sc[1].in[i]);
        alerts_rules_eval(ru, sc[1].in[i].t_h, false, &d);
    }
    double per[REPS];
    size_t bytes = 0;
    for (int r = 0; r < REPS; r++) {
        double t0 = now_s();
        for (int i = 0; i < 2000; i++) {
            char *j = alerts_rules_to_json(ru);
            bytes = j ? strlen(j) : 0;
            free(j);
        }
        per[r] = (now_s() - t0) / 2000 * 1e9;
    }
    alerts_rules_free(ru);
    spread s = spread_of(per, REPS);
    printf("   notes: notifications decided per repetition (raised, lowered, recovered, repeat)\n");
    printf("   the state saved with each notification and every 50 snapshots (alerts_rules_to_json, %d channels\n"
           "   mid-failure, %zu bytes): %.1f us per call (%.1f–%.1f)\n", NCH, bytes, s.med / 1e3, s.min / 1e3, s.max / 1e3);
}

/* ---- 2. rendering one alert ------------------------------------------------------------------- */

static const char *const AXES[NCH] = {"x", "y", "z"};

/* A pump in alarm: one triaxial sensor, each axis with the outer-race finding, 5 features crossed
 * and a week of daily rows; the names as a box in a Chinese plant would have them (UTF-8). */
static void make_evidence(alerts_channel_ev ch[NCH], alerts_evidence *e)
{
    static const char *const crossed[5] = {"velocity_rms_mm_s", "accel_rms_g", "kurtosis", "bpfo_db",
                                           "band_kurtosis"};
    static const double now[5] = {7.42, 1.31, 6.8, 17.9, 5.2}, ref[5] = {2.31, 0.42, 3.1, -2.5, 1.1};
    for (int c = 0; c < NCH; c++) {
        double f = 1 + 0.07 * c;
        ch[c] = (alerts_channel_ev){
            .sensor_id = "de-1", .sensor_name = "驱动端 Drive end", .axis = AXES[c], .mounting = "stud",
            .level = ALERTS_ALARM, .causes = ALERTS_CAUSE_MODEL | ALERTS_CAUSE_ISO, .state = "alarm",
            .model_cause = "trend", .rul_basis = "trend", .rul_h = 124.8 * f, .rul_lo_h = 74.4 * f,
            .rul_hi_h = 192.0 * f, .p_fail_7d = 0.62 / f, .p_fail_14d = 0.91 / f, .anomaly = 3.5 * f,
            .threshold = 1.25, .hi = 0.82 * f, .hi_limit = 1.0, .diagnosis = "outer_race", .defect = "BPFO",
            .defect_hz = 150.3, .defect_db = 17.9 * f, .iso_zone = 4, .velocity_rms_mm_s = 7.42 * f,
            .temp_c = 63.5, .ncrossed = 5, .ndays = ALERTS_EV_MAX_DAYS};
        for (int k = 0; k < 5; k++)
            ch[c].crossed[k] = (alerts_crossed){crossed[k], now[k] * f, ref[k]};
        for (int k = 0; k < ALERTS_EV_MAX_DAYS; k++) {
            double g = (double)(k + 1) / ALERTS_EV_MAX_DAYS;
            ch[c].days[k] = (alerts_day){T_EV - (ALERTS_EV_MAX_DAYS - 1 - k) * DAY, 2.3 + 5.1 * g * g * f,
                                         0.2 + 0.62 * g * f, 0.2 + 0.62 * g * f};
        }
    }
    *e = (alerts_evidence){.box_id = "hall.3", .box_name = "Pumpenhaus 泵站", .asset_id = "p3",
                           .asset_name = "泵站 3 号主泵 (cooling water)", .kind = ALERTS_RAISED, .level = ALERTS_ALARM,
                           .previous = ALERTS_WARNING, .t_ns = T_EV,
                           .link = "http://hall3.plant.example:8080/#/assets/p3", .nch = NCH, .ch = ch};
}

typedef long (*form_fn)(const alerts_evidence *, char *, size_t);

typedef struct rendered {
    char subject[1024], summary[1024], sms[1024];
    char *text, *html, *json, *mail;
    size_t mail_len;
} rendered;

static const char *const MAIL_TO[2] = {"Maintenance 维修 <maint@plant.example>", "oncall@plant.example"};

static alerts_mail mail_of(const rendered *r)
{
    return (alerts_mail){.from = "vibewatch Pumpenhaus <vw@plant.example>", .to = MAIL_TO, .nto = 2,
                         .subject = r->subject, .message_id = "vw.hall-3.5f3a9c01d2e4b6a8.1234.0@hall-3.vibewatch",
                         .in_reply_to = "vw.hall-3.5f3a9c01d2e4b6a8.1201.0@hall-3.vibewatch",
                         .date_s = T_EV / SEC + 2, .alert_id = "1234", .text = r->text, .html = r->html};
}

static void bench_render(rendered *out)
{
    alerts_channel_ev ch[NCH];
    alerts_evidence e;
    make_evidence(ch, &e);
    out->text = malloc(ALERTS_EV_TEXT_MAX);
    out->html = malloc(ALERTS_EV_HTML_MAX);
    if (!out->text || !out->html) {
        fprintf(stderr, "bench_alerts: out of memory\n");
        exit(1);
    }
    const struct {
        const char *name;
        form_fn fn;
        char *buf;
        size_t cap;
    } forms[] = {
        {"subject", alerts_ev_subject, out->subject, sizeof out->subject},
        {"summary", alerts_ev_summary, out->summary, sizeof out->summary},
        {"text", alerts_ev_text, out->text, ALERTS_EV_TEXT_MAX},
        {"html", alerts_ev_html, out->html, ALERTS_EV_HTML_MAX},
        {"sms", alerts_ev_sms, out->sms, sizeof out->sms},
    };
    printf("\n2. rendering one alert (alerts/evidence.h, alerts/mail.h): an alarm raised on a pump with %d channels,\n"
           "   each with 5 features crossed and %d days of trend, UTF-8 names; µs per call, %d calls per repetition,\n"
           "   median of %d (min–max); bytes: the output's size\n",
           NCH, ALERTS_EV_MAX_DAYS, RENDER_CALLS, REPS);
    printf("%-12s %9s %9s %9s %8s\n", "form", "us", "min", "max", "bytes");
    double total = 0, tmin = 0, tmax = 0, per[REPS];
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        long n = 0;
        for (int r = 0; r < REPS; r++) {
            double t0 = now_s();
            for (int i = 0; i < RENDER_CALLS; i++)
                n = forms[f].fn(&e, forms[f].buf, forms[f].cap);
            per[r] = (now_s() - t0) / RENDER_CALLS * 1e6;
        }
        if (n < 0) {
            fprintf(stderr, "bench_alerts: alerts_ev_%s: %ld\n", forms[f].name, n);
            exit(1);
        }
        spread s = spread_of(per, REPS);
        total += s.med;
        tmin += s.min;
        tmax += s.max;
        printf("%-12s %9.2f %9.2f %9.2f %8ld\n", forms[f].name, s.med, s.min, s.max, n);
    }
    size_t jlen = 0;
    for (int r = 0; r < REPS; r++) {
        double t0 = now_s();
        for (int i = 0; i < RENDER_CALLS; i++) {
            free(out->json);
            out->json = alerts_ev_json(&e);
        }
        per[r] = (now_s() - t0) / RENDER_CALLS * 1e6;
    }
    if (!out->json) {
        fprintf(stderr, "bench_alerts: alerts_ev_json failed\n");
        exit(1);
    }
    jlen = strlen(out->json);
    spread s = spread_of(per, REPS);
    total += s.med;
    tmin += s.min;
    tmax += s.max;
    printf("%-12s %9.2f %9.2f %9.2f %8zu\n", "json", s.med, s.min, s.max, jlen);

    alerts_mail m = mail_of(out);
    size_t cap = alerts_mail_bound(&m);
    out->mail = malloc(cap);
    char err[256] = "";
    long n = 0;
    for (int r = 0; r < REPS; r++) {
        double t0 = now_s();
        for (int i = 0; i < RENDER_CALLS; i++) {
            m = mail_of(out);
            size_t c = alerts_mail_bound(&m);
            n = c <= cap ? alerts_mail_format(&m, out->mail, cap, err, sizeof err) : -ENOSPC;
        }
        per[r] = (now_s() - t0) / RENDER_CALLS * 1e6;
    }
    if (n < 0) {
        fprintf(stderr, "bench_alerts: alerts_mail_format: %ld %s\n", n, err);
        exit(1);
    }
    out->mail_len = (size_t)n;
    s = spread_of(per, REPS);
    printf("%-12s %9.2f %9.2f %9.2f %8ld  (alerts_mail_bound + alerts_mail_format: the message on the wire, "
           "2 recipients)\n", "mail", s.med, s.min, s.max, n);
    printf("%-12s %9.2f %9.2f %9.2f %8zu  (every form above + the mail: one alert rendered; bytes: the mail)\n",
           "= per alert", total + s.med, tmin + s.min, tmax + s.max, out->mail_len);
}

/* ---- 3. the outbox ---------------------------------------------------------------------------- */

/* The asset's saved state as the daemon writes it (daemon/alerting.c, asset_state_json): the rules'
 * JSON, the episode, and per channel the baseline reference of 14 features and a week of days. */
static char *asset_state(const char *rules_json)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "version", 1);
    cJSON *rj = rules_json ? cJSON_Parse(rules_json) : NULL;
    cJSON_AddItemToObject(o, "rules", rj ? rj : cJSON_CreateObject());
    cJSON_AddNumberToObject(o, "episode", 1201);
    cJSON *mem = cJSON_AddArrayToObject(o, "mem");
    for (int c = 0; c < NCH; c++) {
        cJSON *co = cJSON_CreateObject();
        cJSON_AddNumberToObject(co, "i", c);
        cJSON_AddNumberToObject(co, "ref_n", 20);
        cJSON *ref = cJSON_AddArrayToObject(co, "ref");
        for (int k = 0; k < 14; k++)
            cJSON_AddItemToArray(ref, cJSON_CreateNumber(20 * (1.3 + 0.731 * k + 0.01 * c)));
        cJSON *days = cJSON_AddArrayToObject(co, "days");
        for (int k = 0; k < ALERTS_EV_MAX_DAYS; k++) {
            cJSON *dd = cJSON_CreateArray();
            cJSON_AddItemToArray(dd, cJSON_CreateNumber((double)(T_EV - (6 - k) * DAY)));
            cJSON_AddItemToArray(dd, cJSON_CreateNumber(2.3 + 0.7311 * k));
            cJSON_AddItemToArray(dd, cJSON_CreateNumber(0.2 + 0.0917 * k));
            cJSON_AddItemToArray(dd, cJSON_CreateNumber(0.2 + 0.0917 * k));
            cJSON_AddItemToArray(days, dd);
        }
        cJSON_AddItemToArray(mem, co);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

static void bench_outbox(const char *dir, const rendered *rd, const char *state)
{
    char path[1200], err[512];
    snprintf(path, sizeof path, "%s/history.sqlite3", dir);
    alerts_outbox *o = alerts_outbox_open(path, err, sizeof err);
    if (!o) {
        fprintf(stderr, "bench_alerts: %s\n", err);
        exit(1);
    }
    printf("\n3. outbox (alerts/outbox.h) on %s (%s), WAL, synchronous=NORMAL; %d repetitions of %d alerts, one\n"
           "   destination; the payload is the mail above (%zu bytes), the evidence its JSON, the state %zu bytes.\n"
           "   us: per alert or message, median of the repetitions' means (min–max); p50/p99: of the single calls\n",
           path, bench_fs_name(dir), OUTBOX_REPS, OUTBOX_ALERTS, rd->mail_len, strlen(state));
    printf("%-24s %9s %9s %9s %9s %9s %7s\n", "operation", "us", "min", "max", "p50", "p99", "n");
    static double one_q[OUTBOX_REPS * OUTBOX_ALERTS], one_d[OUTBOX_REPS * OUTBOX_ALERTS];
    double per_q[OUTBOX_REPS], per_d[OUTBOX_REPS];
    size_t nq = 0, nd = 0;
    int64_t id_next = 1;
    long failures = 0;
    for (int r = 0; r < OUTBOX_REPS; r++) {
        double t_rep = 0;
        for (int i = 0; i < OUTBOX_ALERTS; i++, id_next++) {
            char key[160];
            int64_t t_ns = T_EV + id_next * 3600 * SEC;
            snprintf(key, sizeof key, "vw.hall-3.5f3a9c01d2e4b6a8.%lld.0", (long long)id_next);
            alerts_row row = {.t_ns = t_ns, .asset = "p3", .kind = "repeat", .level = "alarm",
                              .previous = "alarm", .summary = rd->summary, .evidence = rd->json};
            double t0 = now_s();
            int ok = alerts_outbox_begin(o) == 0;
            int64_t id = ok ? alerts_outbox_alert_add(o, &row) : -EIO;
            alerts_msg m = {.alert_id = id, .dest = "mail", .key = key, .t_ns = t_ns, .wall_ns = wall_ns(),
                            .held = false, .payload = rd->mail, .len = rd->mail_len};
            ok = id > 0 && alerts_outbox_enqueue(o, &m) == 0 && alerts_outbox_state_put(o, "p3", state) == 0 &&
                 alerts_outbox_commit(o) == 0;
            double dt = now_s() - t0;
            if (!ok) {
                alerts_outbox_rollback(o);
                failures++;
            }
            one_q[nq++] = dt * 1e6;
            t_rep += dt;
        }
        per_q[r] = t_rep / OUTBOX_ALERTS * 1e6;
        t_rep = 0;
        int got = 0;
        for (;;) {
            alerts_item it = {0};
            double t0 = now_s();
            int64_t w = wall_ns() + SEC;
            int rc = alerts_outbox_next(o, "mail", w, &it, NULL);
            if (rc == 0)
                rc = alerts_outbox_sent(o, it.id, w, "250 2.0.0 OK: queued as 1234");
            double dt = now_s() - t0;
            alerts_item_clear(&it);
            if (rc == -ENOENT)
                break;
            if (rc < 0) {
                failures++;
                break;
            }
            got++;
            one_d[nd++] = dt * 1e6;
            t_rep += dt;
        }
        if (got != OUTBOX_ALERTS)
            failures++;
        per_d[r] = got ? t_rep / got * 1e6 : NAN;
    }
    alerts_counts c = {0};
    alerts_outbox_counts(o, "mail", &c);
    alerts_outbox_close(o);
    spread s = spread_of(per_q, OUTBOX_REPS);
    printf("%-24s %9.1f %9.1f %9.1f %9.1f %9.1f %7zu\n", "queue an alert", s.med, s.min, s.max,
           percentile(one_q, nq, 0.5), percentile(one_q, nq, 0.99), nq);
    s = spread_of(per_d, OUTBOX_REPS);
    printf("%-24s %9.1f %9.1f %9.1f %9.1f %9.1f %7zu\n", "deliver: next + sent", s.med, s.min, s.max,
           percentile(one_d, nd, 0.5), percentile(one_d, nd, 0.99), nd);
    char wal[1300];
    snprintf(wal, sizeof wal, "%s-wal", path);
    printf("   queue an alert: BEGIN IMMEDIATE, alert_add, enqueue, state_put, COMMIT (what the rules thread does\n"
           "   per notification); deliver: alerts_outbox_next + alerts_outbox_sent (the delivery thread's database\n"
           "   work per message, the SMTP exchange not included). At the end: %ld sent, %ld pending, %s; the\n"
           "   database holds %.1f MB (+ %.1f MB of WAL) for %lld alerts\n",
           c.sent, c.pending, failures ? "SOME CALLS FAILED" : "no call failed", (double)file_size(path) / 1e6,
           (double)file_size(wal) / 1e6, (long long)(id_next - 1));
}

/* ---- main ----------------------------------------------------------------------------------- */

static void remove_db(const char *dir)
{
    static const char *const files[] = {"history.sqlite3", "history.sqlite3-wal", "history.sqlite3-shm"};
    char p[1200];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
}

int main(int argc, char **argv)
{
    if (argc > 2) {
        fprintf(stderr, "usage: bench_alerts [DIR]\n");
        return 2;
    }
    char dir[1024];
    bool own = argc < 2;
    if (own) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/bench_alerts.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            fprintf(stderr, "bench_alerts: mkdtemp %s: %s\n", dir, strerror(errno));
            return 1;
        }
    } else {
        snprintf(dir, sizeof dir, "%s", argv[1]);
        remove_db(dir);
    }
    printf("alerts: one thread, no server (end-to-end delivery: bench/bench_alerts.sh)\n\n");
    char *rules_json = NULL;
    bench_rules(&rules_json);
    rendered rd = {0};
    bench_render(&rd);
    char *state = asset_state(rules_json);
    if (!state) {
        fprintf(stderr, "bench_alerts: out of memory\n");
        return 1;
    }
    bench_outbox(dir, &rd, state);
    remove_db(dir);
    if (own)
        rmdir(dir);
    free(state);
    free(rules_json);
    free(rd.text);
    free(rd.html);
    free(rd.json);
    free(rd.mail);
    return 0;
}
