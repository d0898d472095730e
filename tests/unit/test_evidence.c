/* Tests of alerts/evidence.h, derived from the header: the subject names the level, the machine, the
 * finding (defect family and frequency) and the RUL ("5.2 d" from 48 h, hours below, "< 1 h",
 * INFINITY as "> 10 y"); the summary is the subject without its prefix; recovered, lowered and
 * repeat alerts say so; numbers not known (NAN, and the infinities where no number can be shown)
 * are left out of every form, never written as "nan", "inf" or 0; the HTML escapes every value
 * (the title and the link's href too: with hostile names it has exactly the markup it has with
 * plain ones); the SMS is at most 160 code points of valid UTF-8 (counted here) whatever the
 * names and the link; the JSON is read back by cJSON with the fields the header lists; every
 * renderer answers -ENOSPC at every cap short of its output with out "" and writes nothing past
 * outlen (a canary after the buffer); ALERTS_EV_TEXT_MAX / ALERTS_EV_HTML_MAX hold 128 channels (16 shown) with
 * the longest names the configuration allows, the ids whole; digests list every item. Expected strings are written out by
 * hand; UTF-8 validity is glibc iconv's verdict; HTML escaping is checked by an escaper of the
 * test's own. */
#include "alerts/evidence.h"
#include "testlib.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC INT64_C(1000000000)
#define DAY (86400 * SEC)
#define T_EV (INT64_C(1795915860) * SEC) /* 2026-11-29 01:31:00 UTC */
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers --------------------------------------------------------------------------------- */

static alerts_channel_ev base_channel(void)
{
    alerts_channel_ev c = {
        .sensor_id = "de-1", .sensor_name = "Drive end", .axis = "x", .mounting = "stud",
        .level = ALERTS_ALARM, .causes = ALERTS_CAUSE_MODEL, .state = "alarm", .model_cause = "trend",
        .rul_basis = "trend", .rul_h = 124.8, .rul_lo_h = 74.4, .rul_hi_h = 192.0, .p_fail_7d = 0.62,
        .p_fail_14d = 0.91, .anomaly = 3.5, .threshold = 1.25, .hi = 0.82, .hi_limit = 1.0,
        .diagnosis = "outer_race", .defect = "BPFO", .defect_hz = 107.3, .defect_db = 14.2, .iso_zone = 3,
        .velocity_rms_mm_s = 6.84, .temp_c = 58.5, .ncrossed = 2,
        .crossed = {{"kurtosis", 7.9, 3.1}, {"envelope_bpfo_db", 14.25, 2.5}},
        .ndays = 3,
        .days = {{T_EV - 2 * DAY, 4.11, 0.5, 0.5}, {T_EV - DAY, 5.22, 0.61, 0.61}, {T_EV, 6.84, 0.82, 0.82}},
    };
    return c;
}

static alerts_evidence base_ev(const alerts_channel_ev *ch, unsigned nch)
{
    alerts_evidence e = {.box_id = "box-7", .box_name = "Hall 3 box", .asset_id = "pump-3", .asset_name = "Pump 3",
                         .kind = ALERTS_RAISED, .level = ALERTS_ALARM, .previous = ALERTS_WARNING, .t_ns = T_EV,
                         .link = "https://vw.example/assets/pump-3", .nch = nch, .ch = ch};
    return e;
}

typedef long (*ev_fn)(const alerts_evidence *, char *, size_t);

/* The forms of one evidence, rendered into buffers of the documented sizes. */
typedef struct forms {
    char subject[1024], summary[1024], sms[1024];
    char text[ALERTS_EV_TEXT_MAX], html[ALERTS_EV_HTML_MAX];
    char *json;
} forms;

static void render_one(ev_fn fn, const char *what, const alerts_evidence *e, char *out, size_t outlen)
{
    long n = fn(e, out, outlen);
    T_CHECK(n >= 0 && (size_t)n == strlen(out), "%s: returned %ld for %zu bytes", what, n, strlen(out));
    if (n < 0)
        out[0] = 0;
}

static forms g_forms[2];

static forms *render_all(const alerts_evidence *e)
{
    static int next;
    forms *x = &g_forms[next++ % 2];
    free(x->json);
    render_one(alerts_ev_subject, "subject", e, x->subject, sizeof x->subject);
    render_one(alerts_ev_summary, "summary", e, x->summary, sizeof x->summary);
    render_one(alerts_ev_sms, "sms", e, x->sms, sizeof x->sms);
    render_one(alerts_ev_text, "text", e, x->text, sizeof x->text);
    render_one(alerts_ev_html, "html", e, x->html, sizeof x->html);
    x->json = alerts_ev_json(e);
    T_CHECK(x->json != NULL, "json: NULL");
    if (!x->json)
        x->json = calloc(1, 1);
    return x;
}

static void forms_free(void)
{
    for (size_t i = 0; i < N(g_forms); i++) {
        free(g_forms[i].json);
        g_forms[i].json = NULL;
    }
}

#define HAS(s, w) T_CHECK(strstr((s), (w)) != NULL, "%s: \"%s\" lacks \"%s\"", #s, (s), (w))
#define HAS_NOT(s, w) T_CHECK(strstr((s), (w)) == NULL, "%s: \"%s\" has \"%s\"", #s, (s), (w))

/* A word of letters that spells a number not known: nan, inf, infinity (any case). */
static const char *bad_number_word(const char *s)
{
    static char word[32];
    while (*s) {
        if (!isalpha((unsigned char)*s)) {
            s++;
            continue;
        }
        size_t n = 0;
        while (isalpha((unsigned char)s[n]))
            n++;
        if (n < sizeof word) {
            for (size_t i = 0; i < n; i++)
                word[i] = (char)tolower((unsigned char)s[i]);
            word[n] = 0;
            if (!strcmp(word, "nan") || !strcmp(word, "inf") || !strcmp(word, "infinity"))
                return word;
        }
        s += n;
    }
    return NULL;
}

static void check_no_bad_numbers(const forms *f, const char *what)
{
    const char *const names[] = {"subject", "summary", "sms", "text", "html", "json"};
    const char *const s[] = {f->subject, f->summary, f->sms, f->text, f->html, f->json};
    for (size_t i = 0; i < N(s); i++) {
        const char *w = bad_number_word(s[i]);
        T_CHECK(w == NULL, "%s: the %s says \"%s\": %s", what, names[i], w ? w : "", s[i]);
        T_CHECK(!strstr(s[i], "(null)"), "%s: the %s says (null)", what, names[i]);
    }
}

/* HTML escaping as the test understands it: the five characters that matter, as entities. */
static void html_escape(const char *s, char *out, size_t outlen)
{
    size_t k = 0;
    for (; *s && k + 8 < outlen; s++) {
        const char *r = NULL;
        switch (*s) {
        case '<': r = "&lt;"; break;
        case '>': r = "&gt;"; break;
        case '&': r = "&amp;"; break;
        case '"': r = "&quot;"; break;
        case '\'': r = "&#39;"; break;
        }
        if (r) {
            memcpy(out + k, r, strlen(r));
            k += strlen(r);
        } else {
            out[k++] = *s;
        }
    }
    out[k] = 0;
}

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

/* Every '&' starts an entity. */
static const char *bare_ampersand(const char *s)
{
    for (const char *p = strchr(s, '&'); p; p = strchr(p + 1, '&')) {
        if (!strncmp(p, "&lt;", 4) || !strncmp(p, "&gt;", 4) || !strncmp(p, "&amp;", 5) || !strncmp(p, "&quot;", 6) ||
            !strncmp(p, "&#39;", 5) || !strncmp(p, "&apos;", 6))
            continue;
        return p;
    }
    return NULL;
}

/* The text between open and close (exclusive) in s, copied; "" when absent. */
static const char *between(const char *s, const char *open, const char *close)
{
    static char out[4096];
    out[0] = 0;
    const char *a = strstr(s, open);
    if (!a)
        return out;
    a += strlen(open);
    const char *b = strstr(a, close);
    if (!b)
        return out;
    size_t n = (size_t)(b - a) < sizeof out - 1 ? (size_t)(b - a) : sizeof out - 1;
    memcpy(out, a, n);
    out[n] = 0;
    return out;
}

static const cJSON *jget(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static bool jstr_is(const cJSON *o, const char *k, const char *want)
{
    const cJSON *v = jget(o, k);
    return cJSON_IsString(v) && !strcmp(v->valuestring, want);
}

static bool jnum_is(const cJSON *o, const char *k, double want)
{
    const cJSON *v = jget(o, k);
    return cJSON_IsNumber(v) && v->valuedouble == want;
}

#define JSTR(o, k, want) T_CHECK(jstr_is((o), (k), (want)), "json: \"%s\" is not \"%s\"", (k), (want))
#define JNUM(o, k, want) T_CHECK(jnum_is((o), (k), (want)), "json: \"%s\" is not %.17g", (k), (double)(want))
#define JABSENT(o, k) T_CHECK(jget((o), (k)) == NULL, "json: \"%s\" is there", (k))

/* ---- time, subject, finding, RUL ---------------------------------------------------------------- */

static void test_time(void)
{
    char t[64];
    alerts_ev_time(T_EV, t, sizeof t);
    T_CHECK(!strcmp(t, "2026-11-29 01:31 UTC"), "got %s", t);
    alerts_ev_time(T_EV + 59 * SEC + 999999999, t, sizeof t);
    T_CHECK(!strcmp(t, "2026-11-29 01:31 UTC"), "got %s (the minute is cut, not rounded)", t);
    alerts_ev_time(INT64_C(1704067200) * SEC, t, sizeof t);
    T_CHECK(!strcmp(t, "2024-01-01 00:00 UTC"), "got %s", t);
}

static void test_subject_and_summary(void)
{
    alerts_channel_ev c = base_channel();
    alerts_evidence e = base_ev(&c, 1);
    forms *f = render_all(&e);
    T_CHECK(t_starts_with(f->subject, "[vibewatch] ALARM Pump 3 (pump-3): "), "subject %s", f->subject);
    HAS(f->subject, "outer race");
    HAS(f->subject, "BPFO 107.3 Hz");
    HAS(f->subject, "RUL 5.2 d");
    HAS(f->subject, "3.1 d");
    HAS(f->subject, "8.0 d");
    T_CHECK(!strncmp(f->subject, "[vibewatch] ", 12) && !strcmp(f->subject + 12, f->summary),
            "the summary \"%s\" is not the subject \"%s\" without its prefix", f->summary, f->subject);
    T_CHECK(!strchr(f->subject, '\n') && !strchr(f->summary, '\n'), "not one line");
    check_no_bad_numbers(f, "plain");
    /* the text has it all, with the time */
    HAS(f->text, "Pump 3");
    HAS(f->text, "pump-3");
    HAS(f->text, "Hall 3 box");
    HAS(f->text, "2026-11-29 01:31 UTC");
    HAS(f->text, "Drive end");
    HAS(f->text, "stud");
    HAS(f->text, "62 %");
    HAS(f->text, "91 %");
    HAS(f->text, "BPFO 107.3 Hz");
    HAS(f->text, "14.2 dB");
    HAS(f->text, "zone C");
    HAS(f->text, "6.84 mm/s");
    HAS(f->text, "58.5 °C");
    HAS(f->text, "kurtosis");
    HAS(f->text, "7.9");
    HAS(f->text, "3.1");
    HAS(f->text, "envelope_bpfo_db");
    HAS(f->text, "2026-11-27");
    HAS(f->text, "2026-11-28");
    HAS(f->text, "4.11");
    HAS(f->text, "5.22");
    HAS(f->text, "https://vw.example/assets/pump-3");
    HAS(f->html, "https://vw.example/assets/pump-3");
    HAS(f->html, "BPFO 107.3 Hz");
    HAS(f->html, "2026-11-29 01:31 UTC");
    /* no name: the id stands in */
    e.asset_name = NULL;
    f = render_all(&e);
    T_CHECK(t_starts_with(f->summary, "ALARM pump-3"), "without a name: %s", f->summary);
    check_no_bad_numbers(f, "no name");
    e.asset_name = "";
    f = render_all(&e);
    T_CHECK(t_starts_with(f->summary, "ALARM pump-3"), "with an empty name: %s", f->summary);
    /* no channels at all */
    e = base_ev(NULL, 0);
    f = render_all(&e);
    T_CHECK(t_starts_with(f->summary, "ALARM Pump 3 (pump-3)"), "without channels: %s", f->summary);
    check_no_bad_numbers(f, "no channels");
}

static void test_finding(void)
{
    static const struct {
        const char *diag, *family, *words;
    } cases[] = {
        {"outer_race", "BPFO", "outer race"},
        {"inner_race", "BPFI", "inner race"},
        {"ball", "BSF", "rolling element"},
        {"cage", "FTF", "cage"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        alerts_channel_ev c = base_channel();
        c.diagnosis = cases[i].diag;
        c.defect = cases[i].family;
        c.defect_hz = 51.25 + (double)i;
        alerts_evidence e = base_ev(&c, 1);
        forms *f = render_all(&e);
        char fam[64];
        snprintf(fam, sizeof fam, "%s %.1f Hz", cases[i].family, c.defect_hz);
        HAS(f->subject, cases[i].words);
        HAS(f->subject, fam);
        HAS(f->sms, fam);
        HAS(f->text, fam);
        HAS(f->html, fam);
        cJSON *j = cJSON_Parse(f->json);
        const cJSON *ch = cJSON_GetArrayItem(jget(j, "channels"), 0);
        JSTR(ch, "diagnosis", cases[i].diag);
        JSTR(ch, "defect", cases[i].family);
        JNUM(ch, "defect_hz", c.defect_hz);
        cJSON_Delete(j);
    }
    /* no frequency: the finding alone */
    alerts_channel_ev c = base_channel();
    c.defect_hz = NAN;
    c.defect_db = NAN;
    alerts_evidence e = base_ev(&c, 1);
    forms *f = render_all(&e);
    HAS(f->subject, "outer race");
    HAS_NOT(f->subject, "Hz");
    HAS_NOT(f->text, "Hz");
    HAS_NOT(f->text, " dB ");
    check_no_bad_numbers(f, "no frequency");
    /* no diagnosis ("none", "", NULL): the cause is the finding, and no defect is named */
    const char *none[] = {"none", "", NULL};
    for (size_t i = 0; i < N(none); i++) {
        c = base_channel();
        c.diagnosis = none[i];
        e = base_ev(&c, 1);
        f = render_all(&e);
        HAS(f->subject, "degradation trend");
        HAS_NOT(f->subject, "BPFO");
        HAS_NOT(f->text, "BPFO");
        HAS_NOT(f->html, "BPFO");
        HAS_NOT(f->sms, "BPFO");
        HAS_NOT(f->json, "BPFO");
        HAS_NOT(f->text, "Finding");
    }
    /* the cause in words */
    static const struct {
        unsigned causes;
        const char *model_cause, *words;
    } why[] = {
        {ALERTS_CAUSE_SENSOR_FAULT, NULL, "sensor fault"},
        {ALERTS_CAUSE_STOPPED, NULL, "stopped"},
        {ALERTS_CAUSE_MODEL, "iso_zone_d", "zone D"},
        {ALERTS_CAUSE_MODEL, "anomaly", "baseline"},
        {ALERTS_CAUSE_TEMP, NULL, "temperature"},
        {ALERTS_CAUSE_ISO, NULL, "ISO"},
    };
    for (size_t i = 0; i < N(why); i++) {
        c = base_channel();
        c.diagnosis = NULL;
        c.causes = why[i].causes;
        c.model_cause = why[i].model_cause;
        e = base_ev(&c, 1);
        f = render_all(&e);
        HAS(f->subject, why[i].words);
        HAS(f->text, why[i].words);
        HAS(f->sms, why[i].words);
    }
}

/* The reviewer's case: the watchdog raised "acquisition stopped" on a channel whose last snapshot had
 * diagnosed an inner race defect. The subject, the summary and the SMS name what raised this
 * notification, the stopped acquisition (or the sensor fault), exactly; the stale diagnosis, its
 * frequency and the RUL are not the finding (the body still shows the last snapshot's evidence). */
static void test_subject_names_the_cause(void)
{
    static const struct {
        unsigned causes;
        const char *state, *subject, *sms;
    } cases[] = {
        {ALERTS_CAUSE_STOPPED, "warning", "[vibewatch] WARNING Pump 3 (pump-3): acquisition stopped",
         "WARNING Pump 3: acquisition stopped https://vw.example/assets/pump-3"},
        {ALERTS_CAUSE_SENSOR_FAULT, "sensor_fault", "[vibewatch] WARNING Pump 3 (pump-3): sensor fault",
         "WARNING Pump 3: sensor fault https://vw.example/assets/pump-3"},
        /* at the same level as the machine's own warning: what is new is named */
        {ALERTS_CAUSE_STOPPED | ALERTS_CAUSE_MODEL, "warning", "[vibewatch] WARNING Pump 3 (pump-3): acquisition stopped",
         "WARNING Pump 3: acquisition stopped https://vw.example/assets/pump-3"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        alerts_channel_ev c = base_channel();
        c.level = ALERTS_WARNING;
        c.causes = cases[i].causes;
        c.state = cases[i].state;
        c.model_cause = NULL;
        c.diagnosis = "inner_race";
        c.defect = "BPFI";
        c.defect_hz = 245.7;
        alerts_evidence e = base_ev(&c, 1);
        e.level = ALERTS_WARNING;
        e.previous = ALERTS_OK;
        forms *f = render_all(&e);
        T_CHECK(!strcmp(f->subject, cases[i].subject), "case %zu: subject \"%s\", want \"%s\"", i, f->subject,
                cases[i].subject);
        T_CHECK(!strcmp(f->summary, cases[i].subject + 12), "case %zu: summary \"%s\"", i, f->summary);
        T_CHECK(!strcmp(f->sms, cases[i].sms), "case %zu: sms \"%s\", want \"%s\"", i, f->sms, cases[i].sms);
        T_CHECK(t_starts_with(f->text, cases[i].subject + 12), "case %zu: the text's headline: %.80s", i, f->text);
        HAS_NOT(f->html, "inner race defect (BPFI");
        /* the body still has the evidence: the last snapshot's finding, labelled as such */
        HAS(f->text, "Finding:      inner race defect at BPFI 245.7 Hz");
        /* a repeat says the same */
        e.kind = ALERTS_REPEAT;
        f = render_all(&e);
        HAS(f->subject, cases[i].subject + 20); /* after "[vibewatch] WARNING" */
        HAS_NOT(f->subject, "inner race");
        HAS_NOT(f->sms, "BPFI");
    }
    /* a sensor in fault: the body says its signal is no measurement, and where the numbers come from */
    alerts_channel_ev c = base_channel();
    c.level = ALERTS_WARNING;
    c.causes = ALERTS_CAUSE_SENSOR_FAULT;
    c.state = "sensor_fault";
    c.values_t_ns = T_EV - DAY;
    alerts_evidence e = base_ev(&c, 1);
    e.level = ALERTS_WARNING;
    forms *f = render_all(&e);
    HAS(f->text, "Sensor:       in fault: its signal is not a measurement of the machine; the values below are from "
                 "its last good snapshot (2026-11-28 01:31 UTC)");
    HAS(f->html, "in fault: its signal is not a measurement of the machine");
    cJSON *j = cJSON_Parse(f->json);
    const cJSON *ch = cJSON_GetArrayItem(jget(j, "channels"), 0);
    JSTR(ch, "values_from", "2026-11-28 01:31 UTC");
    JSTR(ch, "cause", "sensor fault");
    cJSON_Delete(j);
    c.values_t_ns = 0;
    f = render_all(&e);
    HAS(f->text, "Sensor:       in fault: its signal is not a measurement of the machine\n");
    HAS_NOT(f->json, "values_from");

    /* the machine's own causes: an ISO zone raised alone is named with its zone and velocity (not a
       diagnosis the monitor did not raise on); the monitor's raise keeps the bearing defect */
    c = base_channel();
    c.causes = ALERTS_CAUSE_ISO;
    c.iso_zone = 4;
    c.velocity_rms_mm_s = 11.5;
    e = base_ev(&c, 1);
    f = render_all(&e);
    T_CHECK(t_starts_with(f->subject, "[vibewatch] ALARM Pump 3 (pump-3): vibration in ISO 10816 zone D (11.50 mm/s "
                                      "RMS)"),
            "ISO zone D: %s", f->subject);
    c.causes = ALERTS_CAUSE_TEMP;
    c.temp_c = 96.5;
    f = render_all(&e);
    T_CHECK(t_starts_with(f->subject, "[vibewatch] ALARM Pump 3 (pump-3): temperature limit (96.5 °C)"),
            "temperature: %s", f->subject);
    c.causes = ALERTS_CAUSE_MODEL | ALERTS_CAUSE_ISO;
    f = render_all(&e);
    T_CHECK(t_starts_with(f->subject, "[vibewatch] ALARM Pump 3 (pump-3): outer race defect (BPFO 107.3 Hz), RUL 5.2 d"),
            "the monitor with ISO zone D: %s", f->subject);
}

static void test_rul_format(void)
{
    static const struct {
        double h;
        const char *want;
    } cases[] = {
        {124.8, "5.2 d"}, {48, "2.0 d"},    {240, "10.0 d"},   {47.9, "47.9 h"}, {5, "5.0 h"},
        {1, "1.0 h"},     {0.5, "< 1 h"}, {0, "< 1 h"}, {INFINITY, "> 10 y"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        alerts_channel_ev c = base_channel();
        c.rul_h = cases[i].h;
        c.rul_lo_h = 0.25;
        c.rul_hi_h = INFINITY;
        alerts_evidence e = base_ev(&c, 1);
        forms *f = render_all(&e);
        char want[64], want_html[64];
        snprintf(want, sizeof want, "RUL %s", cases[i].want);
        HAS(f->subject, want);
        HAS(f->sms, want);
        HAS(f->subject, "< 1 h");  /* the low end */
        HAS(f->subject, "> 10 y"); /* the high end */
        HAS(f->text, cases[i].want);
        html_escape(cases[i].want, want_html, sizeof want_html);
        HAS(f->html, want_html);
        check_no_bad_numbers(f, want);
        cJSON *j = cJSON_Parse(f->json);
        const cJSON *ch = cJSON_GetArrayItem(jget(j, "channels"), 0);
        if (isfinite(cases[i].h))
            JNUM(ch, "rul_h", cases[i].h);
        JNUM(ch, "rul_lo_h", 0.25);
        JSTR(ch, "rul_basis", "trend");
        cJSON_Delete(j);
    }
    /* no RUL: basis "null", no basis, or NAN */
    for (int k = 0; k < 3; k++) {
        alerts_channel_ev c = base_channel();
        if (k == 0)
            c.rul_basis = "null";
        else if (k == 1)
            c.rul_basis = NULL;
        else
            c.rul_h = c.rul_lo_h = c.rul_hi_h = NAN;
        alerts_evidence e = base_ev(&c, 1);
        forms *f = render_all(&e);
        HAS_NOT(f->subject, "RUL");
        HAS_NOT(f->sms, "RUL");
        HAS_NOT(f->text, "RUL");
        HAS_NOT(f->html, "Remaining life");
        HAS_NOT(f->json, "rul_h");
        check_no_bad_numbers(f, "no RUL");
    }
}

/* ---- numbers not known -------------------------------------------------------------------------- */

static void test_unknown_numbers(void)
{
    alerts_channel_ev c[2];
    c[0] = base_channel();
    c[0].rul_h = c[0].rul_lo_h = c[0].rul_hi_h = NAN;
    c[0].p_fail_7d = c[0].p_fail_14d = NAN;
    c[0].anomaly = c[0].threshold = c[0].hi = c[0].hi_limit = NAN;
    c[0].defect_hz = c[0].defect_db = NAN;
    c[0].velocity_rms_mm_s = c[0].temp_c = NAN;
    c[0].iso_zone = 0;
    c[0].crossed[0].now = NAN;
    c[0].crossed[1].ref = NAN;
    for (int i = 0; i < 3; i++)
        c[0].days[i].velocity_rms_mm_s = c[0].days[i].health = c[0].days[i].hi = NAN;
    /* infinities where no number can be shown */
    c[1] = base_channel();
    c[1].sensor_id = "ne-1";
    c[1].p_fail_7d = INFINITY;
    c[1].p_fail_14d = -INFINITY;
    c[1].anomaly = INFINITY;
    c[1].hi = -INFINITY;
    c[1].defect_hz = INFINITY;
    c[1].defect_db = -INFINITY;
    c[1].velocity_rms_mm_s = INFINITY;
    c[1].temp_c = -INFINITY;
    c[1].crossed[0].ref = INFINITY;
    c[1].days[1].velocity_rms_mm_s = INFINITY;
    c[1].days[1].health = -INFINITY;
    alerts_evidence e = base_ev(c, 2);
    forms *f = render_all(&e);
    check_no_bad_numbers(f, "unknown numbers");
    HAS_NOT(f->subject, "RUL");
    HAS_NOT(f->subject, "Hz");
    HAS_NOT(f->text, "P(failure)");
    HAS_NOT(f->text, "within 7 days");
    HAS_NOT(f->html, "within 14 days");
    HAS_NOT(f->text, "mm/s RMS");
    HAS_NOT(f->text, "°C");
    HAS_NOT(f->html, "°C");
    HAS_NOT(f->json, "null");
    cJSON *j = cJSON_Parse(f->json);
    T_CHECK(j != NULL, "the JSON does not parse: %s", f->json);
    const cJSON *ch = cJSON_GetArrayItem(jget(j, "channels"), 0);
    const char *absent[] = {"rul_h", "rul_lo_h", "rul_hi_h", "p_fail_7d", "p_fail_14d", "anomaly", "threshold",
                            "hi", "hi_limit", "defect_hz", "defect_db", "velocity_rms_mm_s", "temp_c", "iso_zone"};
    for (size_t i = 0; i < N(absent); i++)
        JABSENT(ch, absent[i]);
    const cJSON *d0 = cJSON_GetArrayItem(jget(ch, "days"), 0);
    JABSENT(d0, "velocity_rms_mm_s");
    JABSENT(d0, "health");
    JSTR(d0, "day", "2026-11-27");
    const cJSON *x0 = cJSON_GetArrayItem(jget(ch, "crossed"), 0), *x1 = cJSON_GetArrayItem(jget(ch, "crossed"), 1);
    JABSENT(x0, "now");
    JNUM(x0, "baseline", 3.1);
    JNUM(x1, "now", 14.25);
    JABSENT(x1, "baseline");
    const cJSON *ch1 = cJSON_GetArrayItem(jget(j, "channels"), 1);
    JABSENT(ch1, "p_fail_7d");
    JABSENT(ch1, "temp_c");
    JNUM(ch1, "threshold", 1.25);
    cJSON_Delete(j);

    /* one probability known, the other not: the known one alone, never the other as 0 */
    alerts_channel_ev p = base_channel();
    p.p_fail_7d = 0.3;
    p.p_fail_14d = NAN;
    e = base_ev(&p, 1);
    f = render_all(&e);
    HAS(f->text, "30 %");
    HAS(f->html, "30 %");
    HAS_NOT(f->text, "0 % within 14");
    HAS_NOT(f->html, "0 % within 14");
    HAS(f->sms, "30");
    p.p_fail_7d = NAN;
    p.p_fail_14d = 0.55;
    f = render_all(&e);
    HAS(f->text, "55 %");
    HAS_NOT(f->text, "0 % within 7");
    HAS_NOT(f->html, "0 % within 7");
    HAS_NOT(f->sms, "P7d");
    /* the RUL known, its interval not: the median alone */
    alerts_channel_ev r = base_channel();
    r.rul_lo_h = r.rul_hi_h = NAN;
    e = base_ev(&r, 1);
    f = render_all(&e);
    HAS(f->subject, "RUL 5.2 d");
    T_CHECK(!strchr(f->subject, '?') && !strchr(f->text, '?') && !strchr(f->html, '?') && !strchr(f->sms, '?'),
            "an unknown interval is shown: %s", f->subject);
    check_no_bad_numbers(f, "no interval");
}

/* ---- kinds -------------------------------------------------------------------------------------- */

static void test_kinds(void)
{
    alerts_channel_ev c = base_channel();
    alerts_evidence e = base_ev(&c, 1);

    e.kind = ALERTS_RECOVERED;
    e.level = ALERTS_OK;
    e.previous = ALERTS_ALARM;
    c.level = ALERTS_OK;
    forms *f = render_all(&e);
    T_CHECK(t_starts_with(f->subject, "[vibewatch] RECOVERED Pump 3 (pump-3)"), "recovered: %s", f->subject);
    HAS(f->subject, "back to normal");
    HAS_NOT(f->subject, "ALARM");
    HAS_NOT(f->subject, "RUL");
    T_CHECK(t_starts_with(f->sms, "RECOVERED Pump 3"), "recovered sms: %s", f->sms);
    HAS(f->text, "No action needed");
    cJSON *j = cJSON_Parse(f->json);
    JSTR(j, "kind", "recovered");
    JSTR(j, "level", "ok");
    JSTR(j, "previous", "alarm");
    cJSON_Delete(j);
    check_no_bad_numbers(f, "recovered");

    c = base_channel();
    c.level = ALERTS_WARNING;
    e = base_ev(&c, 1);
    e.kind = ALERTS_LOWERED;
    e.level = ALERTS_WARNING;
    e.previous = ALERTS_ALARM;
    f = render_all(&e);
    T_CHECK(t_starts_with(f->subject, "[vibewatch] WARNING"), "lowered: %s", f->subject);
    HAS(f->subject, "was ALARM");
    HAS(f->subject, "Pump 3 (pump-3)");
    T_CHECK(t_starts_with(f->sms, "WARNING Pump 3"), "lowered sms: %s", f->sms);
    j = cJSON_Parse(f->json);
    JSTR(j, "kind", "lowered");
    JSTR(j, "level", "warning");
    JSTR(j, "previous", "alarm");
    cJSON_Delete(j);

    c = base_channel();
    e = base_ev(&c, 1);
    e.kind = ALERTS_REPEAT;
    e.previous = ALERTS_ALARM;
    f = render_all(&e);
    T_CHECK(t_starts_with(f->subject, "[vibewatch] ALARM"), "repeat: %s", f->subject);
    HAS(f->subject, "still");
    HAS(f->subject, "not acknowledged");
    HAS(f->subject, "Pump 3 (pump-3)");
    HAS(f->subject, "RUL 5.2 d");
    j = cJSON_Parse(f->json);
    JSTR(j, "kind", "repeat");
    cJSON_Delete(j);

    /* the levels in capitals */
    static const struct {
        enum alerts_level l;
        const char *word;
    } lv[] = {{ALERTS_WATCH, "WATCH"}, {ALERTS_WARNING, "WARNING"}, {ALERTS_ALARM, "ALARM"}};
    for (size_t i = 0; i < N(lv); i++) {
        c = base_channel();
        c.level = lv[i].l;
        e = base_ev(&c, 1);
        e.level = lv[i].l;
        e.previous = ALERTS_OK;
        f = render_all(&e);
        char want[64];
        snprintf(want, sizeof want, "[vibewatch] %s Pump 3 (pump-3)", lv[i].word);
        T_CHECK(t_starts_with(f->subject, want), "raised %s: %s", lv[i].word, f->subject);
        snprintf(want, sizeof want, "%s Pump 3", lv[i].word);
        T_CHECK(t_starts_with(f->sms, want), "sms %s: %s", lv[i].word, f->sms);
    }
}

/* ---- HTML escaping ------------------------------------------------------------------------------ */

#define HOSTILE "<script>alert(\"x&y\")</script> 'q' &amp; <img src=x onerror=alert(1)>"
#define HOSTILE_LINK "https://vw.example/a?x=1&y=\"><script>alert(1)</script>&z='"

/* The same evidence with hostile strings or with plain ones of no special characters. */
static void channels_named(alerts_channel_ev c[2], bool hostile)
{
    for (int i = 0; i < 2; i++) {
        c[i] = base_channel();
        c[i].sensor_name = hostile ? HOSTILE : "Sensor";
        c[i].sensor_id = hostile ? "s<1>&\"'" : "s1";
        c[i].axis = hostile ? "x\"<y>" : "xy";
        c[i].mounting = hostile ? HOSTILE : "stud";
        c[i].diagnosis = hostile ? "<b>odd</b>&\"'" : "odd";
        c[i].defect = hostile ? "<i>BP&FO</i>" : "BPFO";
        c[i].crossed[0].name = hostile ? HOSTILE : "kurtosis";
        c[i].crossed[1].name = hostile ? "a\"b'c<d>e&f" : "abcdef";
    }
}

static alerts_evidence ev_named(const alerts_channel_ev c[2], bool hostile)
{
    alerts_evidence e = base_ev(c, 2);
    e.asset_name = hostile ? HOSTILE : "Pump";
    e.asset_id = hostile ? "p<3>&\"'" : "p3";
    e.box_name = hostile ? HOSTILE : "Box";
    e.box_id = hostile ? "b<7>&\"'" : "b7";
    e.link = hostile ? HOSTILE_LINK : "https://vw.example/a";
    return e;
}

/* hostile has the markup of plain: the same count of every character that makes markup, no bare
 * '&', no raw tag of the hostile strings. */
static void check_same_markup(const char *what, const char *hostile, const char *plain)
{
    const char special[] = {'<', '>', '"', '\''};
    for (size_t i = 0; i < N(special); i++)
        T_CHECK(count_char(hostile, special[i]) == count_char(plain, special[i]),
                "%s: %zu '%c' with hostile names, %zu with plain ones", what, count_char(hostile, special[i]),
                special[i], count_char(plain, special[i]));
    const char *amp = bare_ampersand(hostile);
    T_CHECK(!amp, "%s: a bare '&' at \"%.30s\"", what, amp ? amp : "");
    const char *tags[] = {"<script", "<img", "<b>", "<i>"};
    for (size_t i = 0; i < N(tags); i++)
        T_CHECK(!strstr(hostile, tags[i]), "%s: a raw %s", what, tags[i]);
}

static void test_html_escaping(void)
{
    alerts_channel_ev hc[2], pc[2];
    channels_named(hc, true);
    channels_named(pc, false);
    alerts_evidence he = ev_named(hc, true), pe = ev_named(pc, false);
    forms *h = render_all(&he), *p = render_all(&pe);
    check_same_markup("html", h->html, p->html);

    char esc_name[1024], esc_link[1024], esc_summary[2048];
    html_escape(HOSTILE, esc_name, sizeof esc_name);
    html_escape(HOSTILE_LINK, esc_link, sizeof esc_link);
    html_escape(h->summary, esc_summary, sizeof esc_summary);
    HAS(h->html, esc_name);
    /* the title is the summary, escaped */
    const char *title = between(h->html, "<title>", "</title>");
    T_CHECK(!strcmp(title, esc_summary), "title \"%s\", want \"%s\"", title, esc_summary);
    /* the link's href is the link, escaped */
    const char *href = between(h->html, "href=\"", "\"");
    T_CHECK(!strcmp(href, esc_link), "href \"%s\", want \"%s\"", href, esc_link);
    /* the plain forms keep the names as they are */
    HAS(h->text, HOSTILE);
    HAS(h->text, HOSTILE_LINK);
    HAS(h->subject, HOSTILE);
    check_no_bad_numbers(h, "hostile");
    /* and the JSON carries them exactly */
    cJSON *j = cJSON_Parse(h->json);
    T_CHECK(j != NULL, "the JSON does not parse");
    JSTR(j, "asset_name", HOSTILE);
    JSTR(j, "asset", "p<3>&\"'");
    JSTR(j, "link", HOSTILE_LINK);
    const cJSON *ch = cJSON_GetArrayItem(jget(j, "channels"), 1);
    JSTR(ch, "sensor_name", HOSTILE);
    JSTR(ch, "channel", "x\"<y>");
    JSTR(cJSON_GetArrayItem(jget(ch, "crossed"), 0), "feature", HOSTILE);
    cJSON_Delete(j);

    /* the digest */
    alerts_digest_item hi[3], pi[3];
    for (int i = 0; i < 3; i++) {
        hi[i] = (alerts_digest_item){.t_ns = T_EV + i * SEC, .asset = HOSTILE, .level = "alarm", .kind = "raised",
                                     .summary = i == 1 ? h->summary : HOSTILE};
        pi[i] = (alerts_digest_item){.t_ns = T_EV + i * SEC, .asset = "p", .level = "alarm", .kind = "raised",
                                     .summary = i == 1 ? p->summary : "Pump"};
    }
    static char hd[ALERTS_EV_HTML_MAX], pd[ALERTS_EV_HTML_MAX];
    T_CHECK(alerts_ev_digest_html(HOSTILE, hi, 3, HOSTILE_LINK, hd, sizeof hd) > 0, "digest html");
    T_CHECK(alerts_ev_digest_html("Box", pi, 3, "https://vw.example/a", pd, sizeof pd) > 0, "digest html plain");
    check_same_markup("digest html", hd, pd);
    HAS(hd, esc_name);
    href = between(hd, "href=\"", "\"");
    T_CHECK(!strcmp(href, esc_link), "digest href \"%s\", want \"%s\"", href, esc_link);
    title = between(hd, "<title>", "</title>");
    T_CHECK(!strchr(title, '<') && !strchr(title, '>') && !strchr(title, '"'), "digest title \"%s\"", title);
}

/* ---- SMS ---------------------------------------------------------------------------------------- */

static void check_sms(const char *sms, const char *what, const char *level_word)
{
    T_CHECK(t_code_points(sms) <= ALERTS_SMS_CHARS, "%s: %zu code points", what, t_code_points(sms));
    T_CHECK(t_utf8_valid(sms, strlen(sms)), "%s: invalid UTF-8: %s", what, sms);
    T_CHECK(t_starts_with(sms, level_word), "%s: \"%s\" does not start with %s", what, sms, level_word);
    T_CHECK(!strchr(sms, '\n'), "%s: a newline", what);
}

static void test_sms(void)
{
    alerts_channel_ev c = base_channel();
    alerts_evidence e = base_ev(&c, 1);
    char sms[1024];
    long n = alerts_ev_sms(&e, sms, sizeof sms);
    T_CHECK(n > 0 && (size_t)n == strlen(sms), "sms: %ld", n);
    check_sms(sms, "plain", "ALARM Pump 3");
    HAS(sms, "BPFO 107.3 Hz");
    HAS(sms, "RUL 5.2 d");
    HAS(sms, "62");
    HAS(sms, "https://vw.example/assets/pump-3");

    /* the longest name the configuration allows (256 bytes: 85 Chinese characters) and a long link */
    char name[2048] = "", link[1024] = "https://vw.example/";
    for (int i = 0; i < 85; i++)
        strcat(name, "\xe6\xb3\xb5"); /* 泵 */
    while (strlen(link) < 250)
        strcat(link, "assets/");
    e.asset_name = name;
    e.link = link;
    n = alerts_ev_sms(&e, sms, sizeof sms);
    T_CHECK(n > 0, "long Chinese name: %ld", n);
    check_sms(sms, "long Chinese name", "ALARM \xe6\xb3\xb5\xe6\xb3\xb5\xe6\xb3\xb5");
    T_CHECK(t_code_points(sms) >= 80, "long Chinese name: cut to %zu code points", t_code_points(sms));

    /* longer than any configuration: still the level and the start of the name */
    name[0] = 0;
    for (int i = 0; i < 400; i++)
        strcat(name, "\xe6\xb3\xb5");
    n = alerts_ev_sms(&e, sms, sizeof sms);
    T_CHECK(n > 0, "400-character name: %ld", n);
    check_sms(sms, "400-character name", "ALARM \xe6\xb3\xb5\xe6\xb3\xb5\xe6\xb3\xb5");

    /* every length of name (1-, 2-, 3-, 4-byte characters) with every kind of link: never over 160 */
    const char *chars[] = {"a", "\xc3\xa4", "\xe6\xb3\xb5", "\xf0\x9f\x94\xa7"};
    const char *kinds_word[] = {"ALARM", "RECOVERED", "WARNING", "ALARM"};
    for (size_t k = 0; k < N(chars); k++)
        for (int len = 0; len <= 200; len += 7)
            for (int lk = 0; lk < 4; lk++) {
                name[0] = 0;
                for (int i = 0; i < len; i++)
                    strcat(name, chars[k]);
                snprintf(link, sizeof link, "https://vw.example/%.*s", lk * 60,
                         "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"
                         "123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890");
                alerts_evidence v = base_ev(&c, 1);
                v.kind = (enum alerts_kind)(lk == 1 ? ALERTS_RECOVERED : lk == 2 ? ALERTS_LOWERED : ALERTS_RAISED);
                v.level = lk == 2 ? ALERTS_WARNING : lk == 1 ? ALERTS_OK : ALERTS_ALARM;
                v.asset_name = name;
                v.link = lk == 3 ? NULL : link;
                n = alerts_ev_sms(&v, sms, sizeof sms);
                char what[64];
                snprintf(what, sizeof what, "char %zu, name %d, link %d", k, len, lk);
                T_CHECK(n >= 0 && (size_t)n == strlen(sms), "%s: %ld", what, n);
                check_sms(sms, what, kinds_word[lk]);
            }
    /* nothing unknown in it */
    alerts_channel_ev u = base_channel();
    u.rul_h = u.p_fail_7d = u.defect_hz = NAN;
    e = base_ev(&u, 1);
    n = alerts_ev_sms(&e, sms, sizeof sms);
    T_CHECK(n > 0 && !bad_number_word(sms) && !strstr(sms, "RUL") && !strstr(sms, "Hz"), "unknowns: %s", sms);
}

/* ---- JSON --------------------------------------------------------------------------------------- */

static void test_json(void)
{
    alerts_channel_ev c[2] = {base_channel(), base_channel()};
    c[1].sensor_id = "ne-2";
    c[1].sensor_name = "Non-drive end \xe6\xb3\xb5 \"quoted\" back\\slash";
    c[1].axis = "y";
    c[1].level = ALERTS_WATCH;
    c[1].state = "watch";
    c[1].rul_basis = "prior";
    c[1].iso_zone = 4;
    alerts_evidence e = base_ev(c, 2);
    e.asset_name = "Pumpe \xc3\xa4\xc3\xb6 \xe6\xb3\xb5";
    char *s = alerts_ev_json(&e);
    T_CHECK(s != NULL, "NULL");
    if (!s)
        return;
    cJSON *j = cJSON_Parse(s);
    T_CHECK(cJSON_IsObject(j), "does not parse as an object: %s", s);
    JSTR(j, "box", "box-7");
    JSTR(j, "asset", "pump-3");
    JSTR(j, "asset_name", "Pumpe \xc3\xa4\xc3\xb6 \xe6\xb3\xb5");
    JSTR(j, "kind", "raised");
    JSTR(j, "level", "alarm");
    JSTR(j, "previous", "warning");
    JSTR(j, "time", "2026-11-29 01:31 UTC");
    JSTR(j, "link", "https://vw.example/assets/pump-3");
    const cJSON *chs = jget(j, "channels");
    T_CHECK(cJSON_IsArray(chs) && cJSON_GetArraySize(chs) == 2, "channels");
    const cJSON *ch = cJSON_GetArrayItem(chs, 0);
    JSTR(ch, "sensor", "de-1");
    JSTR(ch, "sensor_name", "Drive end");
    JSTR(ch, "channel", "x");
    JSTR(ch, "level", "alarm");
    JSTR(ch, "state", "alarm");
    T_CHECK(cJSON_IsString(jget(ch, "cause")) && strstr(jget(ch, "cause")->valuestring, "trend"), "cause");
    JSTR(ch, "rul_basis", "trend");
    JNUM(ch, "rul_h", 124.8);
    JNUM(ch, "rul_lo_h", 74.4);
    JNUM(ch, "rul_hi_h", 192.0);
    JNUM(ch, "p_fail_7d", 0.62);
    JNUM(ch, "p_fail_14d", 0.91);
    JNUM(ch, "anomaly", 3.5);
    JNUM(ch, "threshold", 1.25);
    JNUM(ch, "hi", 0.82);
    JNUM(ch, "hi_limit", 1.0);
    JSTR(ch, "diagnosis", "outer_race");
    JSTR(ch, "defect", "BPFO");
    JNUM(ch, "defect_hz", 107.3);
    JNUM(ch, "defect_db", 14.2);
    JSTR(ch, "iso_zone", "C");
    JNUM(ch, "velocity_rms_mm_s", 6.84);
    JNUM(ch, "temp_c", 58.5);
    const cJSON *cr = jget(ch, "crossed");
    T_CHECK(cJSON_IsArray(cr) && cJSON_GetArraySize(cr) == 2, "crossed");
    JSTR(cJSON_GetArrayItem(cr, 1), "feature", "envelope_bpfo_db");
    JNUM(cJSON_GetArrayItem(cr, 1), "now", 14.25);
    JNUM(cJSON_GetArrayItem(cr, 1), "baseline", 2.5);
    const cJSON *days = jget(ch, "days");
    T_CHECK(cJSON_IsArray(days) && cJSON_GetArraySize(days) == 3, "days");
    const char *want_day[] = {"2026-11-27", "2026-11-28", "2026-11-29"};
    for (int i = 0; i < 3; i++) {
        const cJSON *d = cJSON_GetArrayItem(days, i);
        JSTR(d, "day", want_day[i]);
        JNUM(d, "velocity_rms_mm_s", c[0].days[i].velocity_rms_mm_s);
        JNUM(d, "health", c[0].days[i].health);
        JNUM(d, "hi", c[0].days[i].hi);
    }
    const cJSON *ch1 = cJSON_GetArrayItem(chs, 1);
    JSTR(ch1, "sensor", "ne-2");
    JSTR(ch1, "sensor_name", "Non-drive end \xe6\xb3\xb5 \"quoted\" back\\slash");
    JSTR(ch1, "channel", "y");
    JSTR(ch1, "level", "watch");
    JSTR(ch1, "rul_basis", "prior");
    JSTR(ch1, "iso_zone", "D");
    cJSON_Delete(j);
    free(s);

    /* no channels, no link, no name */
    e = base_ev(NULL, 0);
    e.link = NULL;
    e.asset_name = NULL;
    s = alerts_ev_json(&e);
    j = s ? cJSON_Parse(s) : NULL;
    T_CHECK(j && cJSON_IsArray(jget(j, "channels")) && cJSON_GetArraySize(jget(j, "channels")) == 0,
            "without channels: %s", s ? s : "NULL");
    T_CHECK(j && !jget(j, "link") && !bad_number_word(s) && !strstr(s, "null"), "absent strings: %s", s ? s : "NULL");
    cJSON_Delete(j);
    free(s);
}

/* ---- caps --------------------------------------------------------------------------------------- */

typedef long (*any_fn)(const void *ctx, char *out, size_t outlen);

typedef struct ev_ctx {
    ev_fn fn;
    const alerts_evidence *e;
} ev_ctx;
static long call_ev(const void *ctx, char *out, size_t outlen)
{
    const ev_ctx *x = ctx;
    return x->fn(x->e, out, outlen);
}

typedef struct digest_ctx {
    int which; /* 0 subject, 1 text, 2 html */
    const alerts_digest_item *it;
    size_t n;
} digest_ctx;
static long call_digest(const void *ctx, char *out, size_t outlen)
{
    const digest_ctx *x = ctx;
    if (x->which == 0)
        return alerts_ev_digest_subject("Hall 3 \xe6\xb3\xb5 box", x->n, out, outlen);
    if (x->which == 1)
        return alerts_ev_digest_text("Hall 3 \xe6\xb3\xb5 box", x->it, x->n, "https://vw.example/", out, outlen);
    return alerts_ev_digest_html("Hall 3 <\xe6\xb3\xb5> box", x->it, x->n, "https://vw.example/?a&b", out, outlen);
}

#define CANARY 64

/* At every cap up to the output (all small ones, a sample of the rest, the last few): -ENOSPC with
 * out "", nothing written at or past outlen; at the output's size + 1, the output. */
static void check_caps(const char *what, any_fn fn, const void *ctx)
{
    static char full[ALERTS_EV_HTML_MAX];
    long n = fn(ctx, full, sizeof full);
    T_CHECK(n > 0 && (size_t)n == strlen(full), "%s: %ld", what, n);
    if (n <= 0)
        return;
    unsigned char *buf = malloc((size_t)n + 1 + CANARY);
    if (!buf)
        return;
    for (size_t cap = 0; cap <= (size_t)n + 1; cap++) {
        if (cap > 400 && cap + 4 < (size_t)n && cap % 211 != 0)
            continue;
        memset(buf, 0xA5, cap + CANARY);
        long rc = fn(ctx, (char *)buf, cap);
        bool canary_ok = true;
        for (size_t k = cap; k < cap + CANARY; k++)
            canary_ok &= buf[k] == 0xA5;
        if (!canary_ok) {
            T_CHECK(0, "%s: cap %zu: written past outlen", what, cap);
            break;
        }
        if (cap <= (size_t)n) {
            if (rc != -ENOSPC || (cap > 0 && buf[0] != 0)) {
                T_CHECK(0, "%s: cap %zu of %ld: rc %ld, out starts with 0x%02x (want -ENOSPC and \"\")", what, cap, n,
                        rc, buf[0]);
                break;
            }
        } else {
            T_CHECK(rc == n && !memcmp(buf, full, (size_t)n + 1), "%s: cap %zu: rc %ld, want the output (%ld)", what,
                    cap, rc, n);
        }
    }
    free(buf);
    /* an exact-size heap buffer too, for the sanitizer */
    for (size_t cap = 0; cap <= 16; cap++) {
        char *ex = malloc(cap ? cap : 1);
        if (ex) {
            long rc = fn(ctx, ex, cap);
            T_CHECK(rc == -ENOSPC, "%s: exact cap %zu: %ld", what, cap, rc);
            free(ex);
        }
    }
}

static void test_enospc(void)
{
    alerts_channel_ev c[3];
    channels_named(c, true);
    c[2] = base_channel();
    alerts_evidence e = ev_named(c, true);
    e.nch = 3;
    static const struct {
        const char *name;
        ev_fn fn;
    } fns[] = {{"subject", alerts_ev_subject}, {"summary", alerts_ev_summary}, {"text", alerts_ev_text},
               {"html", alerts_ev_html},       {"sms", alerts_ev_sms}};
    for (size_t i = 0; i < N(fns); i++) {
        ev_ctx x = {fns[i].fn, &e};
        check_caps(fns[i].name, call_ev, &x);
    }
    /* the recovered form takes another path */
    alerts_evidence r = e;
    r.kind = ALERTS_RECOVERED;
    for (size_t i = 0; i < N(fns); i++) {
        ev_ctx x = {fns[i].fn, &r};
        check_caps(fns[i].name, call_ev, &x);
    }
    alerts_digest_item it[4];
    for (int i = 0; i < 4; i++)
        it[i] = (alerts_digest_item){.t_ns = T_EV + i * 60 * SEC, .asset = "pump-3", .level = "alarm",
                                     .kind = "repeat", .summary = "ALARM still, not acknowledged: Pump 3 <&>"};
    static const char *const dn[] = {"digest subject", "digest text", "digest html"};
    for (int w = 0; w < 3; w++) {
        digest_ctx x = {w, it, 4};
        check_caps(dn[w], call_digest, &x);
    }
}

/* ---- the documented maxima ---------------------------------------------------------------------- */

/* s repeated into out up to max bytes, whole characters only. */
static void fill(char *out, size_t max, const char *s)
{
    size_t n = strlen(s), k = 0;
    while (k + n <= max) {
        memcpy(out + k, s, n);
        k += n;
    }
    out[k] = 0;
}

static void test_maxima(void)
{
    /* the configuration's limits: names 1–256 bytes, ids 64, axes 31, URIs 255 */
    static char name[257], hname[257], id[65], id2[65], axis[32], link[256], feat[64];
    fill(name, 256, "\xe6\xb3\xb5");
    fill(hname, 256, "\"<&>'");
    memset(id, 'p', 64);
    id[63] = 'Z';
    memset(id2, 's', 64);
    id2[63] = 'Y';
    memset(axis, 'a', 31);
    fill(link, 255, "https://vw.example/?a=1&b=2");
    fill(feat, 63, "x_feature");
    static alerts_channel_ev c[ALERTS_MAX_CHANNELS];
    for (unsigned i = 0; i < ALERTS_MAX_CHANNELS; i++) { /* every channel an asset may have */
        c[i] = base_channel();
        c[i].sensor_id = id2;
        c[i].sensor_name = i % 2 ? hname : name;
        c[i].axis = axis;
        c[i].mounting = i % 2 ? name : hname;
        c[i].ncrossed = ALERTS_EV_MAX_CROSSED;
        for (unsigned k = 0; k < ALERTS_EV_MAX_CROSSED; k++)
            c[i].crossed[k] = (alerts_crossed){feat, -1.23456789e-300, 9.87654321e300};
        c[i].ndays = ALERTS_EV_MAX_DAYS;
        for (unsigned k = 0; k < ALERTS_EV_MAX_DAYS; k++)
            c[i].days[k] = (alerts_day){T_EV - (int64_t)k * DAY, 123456.78, -1.23456e-200, 1.5};
    }
    alerts_evidence e = base_ev(c, ALERTS_MAX_CHANNELS);
    e.asset_name = name;
    e.asset_id = id;
    e.box_name = hname;
    e.box_id = id2;
    e.link = link;
    forms *f = render_all(&e);
    /* the ids are there whole, after the longest names */
    char want[128];
    snprintf(want, sizeof want, "(%s)", id);
    HAS(f->summary, want);
    HAS(f->text, want);
    HAS(f->html, want);
    snprintf(want, sizeof want, "(%s)", id2);
    HAS(f->html, want);
    HAS(f->text, want);
    T_CHECK(t_utf8_valid(f->html, strlen(f->html)) && t_utf8_valid(f->text, strlen(f->text)) &&
                t_utf8_valid(f->subject, strlen(f->subject)),
            "invalid UTF-8 with the longest names");
    HAS(f->html, "</html>");
    /* the text and HTML show ALERTS_EV_MAX_SHOWN channels and say how many more; the JSON has all */
    snprintf(want, sizeof want, "and %d more channels", ALERTS_MAX_CHANNELS - ALERTS_EV_MAX_SHOWN);
    HAS(f->text, want);
    HAS(f->html, want);
    T_CHECK(t_code_points(f->sms) <= ALERTS_SMS_CHARS, "sms %zu code points", t_code_points(f->sms));
    cJSON *j = cJSON_Parse(f->json);
    T_CHECK(j && cJSON_GetArraySize(jget(j, "channels")) == ALERTS_MAX_CHANNELS, "json with every channel");
    cJSON_Delete(j);
}

/* ---- digests ------------------------------------------------------------------------------------ */

static void test_digest(void)
{
    static const char *const summaries[] = {
        "ALARM Pump 3 (pump-3): outer race defect (BPFO 107.3 Hz), RUL 5.2 d",
        "WARNING (was ALARM) Fan 2 (fan-2): degradation trend",
        "RECOVERED \xe6\xb3\xb5 7 (pump-7): back to normal",
        "WATCH <Mixer> & \"co\" (mixer-1): vibration unlike its baseline",
        "ALARM still, not acknowledged: Pump 3 (pump-3)",
    };
    alerts_digest_item it[5];
    for (int i = 0; i < 5; i++)
        it[i] = (alerts_digest_item){.t_ns = T_EV + i * 3600 * SEC, .asset = "a", .level = "alarm",
                                     .kind = "raised", .summary = summaries[i]};
    static const char *const times[] = {"2026-11-29 01:31 UTC", "2026-11-29 02:31 UTC", "2026-11-29 03:31 UTC",
                                        "2026-11-29 04:31 UTC", "2026-11-29 05:31 UTC"};
    char subject[512];
    static char text[ALERTS_EV_TEXT_MAX], html[ALERTS_EV_HTML_MAX];
    T_CHECK(alerts_ev_digest_subject("Hall 3 box", 5, subject, sizeof subject) > 0, "subject");
    T_CHECK(t_starts_with(subject, "[vibewatch] ") && strstr(subject, "5 ") && strstr(subject, "Hall 3 box") &&
                strstr(subject, "digest"),
            "subject %s", subject);
    T_CHECK(alerts_ev_digest_subject("Hall 3 box", 1, subject, sizeof subject) > 0 && strstr(subject, "1 "),
            "subject of one: %s", subject);
    long n = alerts_ev_digest_text("Hall 3 box", it, 5, "https://vw.example/", text, sizeof text);
    T_CHECK(n > 0 && (size_t)n == strlen(text), "text %ld", n);
    n = alerts_ev_digest_html("Hall 3 box", it, 5, "https://vw.example/", html, sizeof html);
    T_CHECK(n > 0 && (size_t)n == strlen(html), "html %ld", n);
    for (int i = 0; i < 5; i++) {
        char esc[512];
        HAS(text, summaries[i]);
        HAS(text, times[i]);
        html_escape(summaries[i], esc, sizeof esc);
        HAS(html, esc);
        HAS(html, times[i]);
    }
    HAS(text, "Hall 3 box");
    HAS(text, "https://vw.example/");
    HAS(html, "href=\"https://vw.example/\"");
    /* the order is kept: the first item before the last */
    T_CHECK(strstr(text, summaries[0]) < strstr(text, summaries[4]), "text: the items out of order");
    /* no items, no link */
    T_CHECK(alerts_ev_digest_text("Hall 3 box", NULL, 0, NULL, text, sizeof text) > 0, "empty digest text");
    T_CHECK(alerts_ev_digest_html("Hall 3 box", NULL, 0, NULL, html, sizeof html) > 0, "empty digest html");
    HAS_NOT(html, "href");
}

int main(void)
{
    T_RUN(test_time);
    T_RUN(test_subject_and_summary);
    T_RUN(test_finding);
    T_RUN(test_subject_names_the_cause);
    T_RUN(test_rul_format);
    T_RUN(test_unknown_numbers);
    T_RUN(test_kinds);
    T_RUN(test_html_escaping);
    T_RUN(test_sms);
    T_RUN(test_json);
    T_RUN(test_enospc);
    T_RUN(test_maxima);
    T_RUN(test_digest);
    forms_free();
    return t_done();
}
