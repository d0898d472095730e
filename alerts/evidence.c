/* alerts/evidence.c — the words and numbers of an alert (evidence.h). A small bounded string
 * builder writes every form; the HTML is one table per channel with inline styles only (mail
 * clients drop style sheets), readable on a phone. */
#include "evidence.h"
#include "template.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct sb {
    char *p;
    size_t cap, len;
    bool over;
} sb;

static void sb_init(sb *b, char *out, size_t cap)
{
    b->p = out;
    b->cap = cap;
    b->len = 0;
    b->over = cap == 0;
    if (cap)
        out[0] = 0;
}

__attribute__((format(printf, 2, 3))) static void sb_printf(sb *b, const char *fmt, ...)
{
    if (b->over)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len) {
        b->over = true;
        b->p[b->len] = 0;
        return;
    }
    b->len += (size_t)n;
}

static void sb_html(sb *b, const char *s) /* s escaped for HTML text and attribute values */
{
    for (; s && *s && !b->over; s++) {
        switch (*s) {
        case '<': sb_printf(b, "&lt;"); break;
        case '>': sb_printf(b, "&gt;"); break;
        case '&': sb_printf(b, "&amp;"); break;
        case '"': sb_printf(b, "&quot;"); break;
        case '\'': sb_printf(b, "&#39;"); break;
        default: sb_printf(b, "%c", *s);
        }
    }
}

static long sb_end(sb *b)
{
    if (b->over) {
        if (b->cap)
            b->p[0] = 0;
        return -ENOSPC;
    }
    return (long)b->len;
}

static void upper(const char *s, char *out, size_t n)
{
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++)
        out[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 32) : s[i];
    out[i] = 0;
}

void alerts_ev_time(int64_t t_ns, char *out, size_t outlen)
{
    time_t s = (time_t)(t_ns / 1000000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, outlen, "%Y-%m-%d %H:%M UTC", &tm);
}

/* Hours as the engineer reads them: "5.2 d" from two days on, "7.5 h" below. */
static void fmt_dur(double h, char *out, size_t n)
{
    if (isnan(h))
        snprintf(out, n, "?");
    else if (isinf(h) && h > 0)
        snprintf(out, n, "> 10 y");
    else if (h >= 48)
        snprintf(out, n, "%.1f d", h / 24);
    else if (h < 1)
        snprintf(out, n, "< 1 h");
    else
        snprintf(out, n, "%.1f h", h < 0 ? 0 : h);
}

static const char *diag_words(const char *d)
{
    if (!d || !*d || !strcmp(d, "none"))
        return NULL;
    if (!strcmp(d, "outer_race"))
        return "outer race defect";
    if (!strcmp(d, "inner_race"))
        return "inner race defect";
    if (!strcmp(d, "ball"))
        return "rolling element defect";
    if (!strcmp(d, "cage"))
        return "cage defect";
    return d;
}

static const char *cause_words(const alerts_channel_ev *c)
{
    if (c->causes & ALERTS_CAUSE_STOPPED)
        return "acquisition stopped";
    if (c->causes & ALERTS_CAUSE_SENSOR_FAULT)
        return "sensor fault";
    if (c->model_cause) {
        if (!strcmp(c->model_cause, "trend"))
            return "degradation trend";
        if (!strcmp(c->model_cause, "limit_reached"))
            return "failure limit reached";
        if (!strcmp(c->model_cause, "iso_zone_d"))
            return "vibration in ISO zone D";
        if (!strcmp(c->model_cause, "anomaly"))
            return "vibration unlike its baseline";
        if (!strcmp(c->model_cause, "onset"))
            return "onset of degradation";
    }
    if (c->causes & ALERTS_CAUSE_TEMP)
        return "temperature limit";
    if (c->causes & ALERTS_CAUSE_ISO)
        return "ISO 10816 vibration zone";
    return "condition change";
}

/* The most telling channel: the first one (the rules list the channels at the alert's level). */
static const alerts_channel_ev *lead(const alerts_evidence *e) { return e->nch ? &e->ch[0] : NULL; }

static bool has_rul(const alerts_channel_ev *c)
{
    return c->rul_basis && strcmp(c->rul_basis, "null") != 0 && !isnan(c->rul_h);
}

/* The 10–90 % interval is shown only when both ends are known. */
static bool has_interval(const alerts_channel_ev *c) { return !isnan(c->rul_lo_h) && !isnan(c->rul_hi_h); }

/* "7 % within 7 days, 20 % within 14 days", or the one that is known; "" when neither is. */
static void fmt_p_fail(const alerts_channel_ev *c, char *out, size_t n)
{
    bool p7 = isfinite(c->p_fail_7d), p14 = isfinite(c->p_fail_14d);
    if (p7 && p14)
        snprintf(out, n, "%.0f %% within 7 days, %.0f %% within 14 days", 100 * c->p_fail_7d, 100 * c->p_fail_14d);
    else if (p7)
        snprintf(out, n, "%.0f %% within 7 days", 100 * c->p_fail_7d);
    else if (p14)
        snprintf(out, n, "%.0f %% within 14 days", 100 * c->p_fail_14d);
    else if (n)
        out[0] = 0;
}

/* A crossed feature's "now (baseline ref)", each part only when known. */
static void fmt_crossed(const alerts_crossed *x, char *out, size_t n)
{
    bool now = isfinite(x->now), ref = isfinite(x->ref);
    if (now && ref)
        snprintf(out, n, "%.4g (baseline %.4g)", x->now, x->ref);
    else if (now)
        snprintf(out, n, "%.4g", x->now);
    else if (ref)
        snprintf(out, n, "baseline %.4g", x->ref);
    else if (n)
        out[0] = 0;
}

/* "5.2 d (3.1 d – 8.0 d)": the RUL and, when both ends are known, its 80 % interval, with `mid`
 * between the interval and the closing bracket ("; from the degradation trend"). */
static void rul_words(const alerts_channel_ev *c, const char *interval, const char *mid, char *out, size_t n)
{
    char m[24], lo[24], hi[24];
    fmt_dur(c->rul_h, m, sizeof m);
    fmt_dur(c->rul_lo_h, lo, sizeof lo);
    fmt_dur(c->rul_hi_h, hi, sizeof hi);
    if (has_interval(c))
        snprintf(out, n, "%s (%s%s – %s%s)", m, interval, lo, hi, mid);
    else if (*mid)
        snprintf(out, n, "%s (%s)", m, mid + 2); /* mid without its "; " */
    else
        snprintf(out, n, "%s", m);
}

/* The channel's level comes from the machine's condition, not from its sensor or acquisition (a
 * stopped acquisition or a sensor fault at the same level is what is new, and is named first). */
static bool machine_finding(const alerts_channel_ev *c)
{
    return !(c->causes & (ALERTS_CAUSE_STOPPED | ALERTS_CAUSE_SENSOR_FAULT));
}

/* What raised this notification, for the subject, the summary and the SMS: the cause the rules name.
 * A stopped acquisition or a sensor fault is said as such, never as the last bearing diagnosis (that
 * is not why this message was sent, and may be days old); the machine's own condition is the bearing
 * defect found when the monitor raised it, else its cause (ISO zone with the velocity, temperature). */
static void finding(const alerts_channel_ev *c, char *out, size_t n)
{
    const char *d = diag_words(c->diagnosis);
    bool model = (c->causes & ALERTS_CAUSE_MODEL) || !(c->causes & (ALERTS_CAUSE_ISO | ALERTS_CAUSE_TEMP));
    if (!machine_finding(c))
        snprintf(out, n, "%s", cause_words(c));
    else if (model && d && isfinite(c->defect_hz))
        snprintf(out, n, "%s (%s %.1f Hz)", d, c->defect ? c->defect : "", c->defect_hz);
    else if (model && d)
        snprintf(out, n, "%s", d);
    else if (!(c->causes & ALERTS_CAUSE_MODEL) && (c->causes & ALERTS_CAUSE_ISO) && c->iso_zone >= 1 &&
             c->iso_zone <= 4 && isfinite(c->velocity_rms_mm_s))
        snprintf(out, n, "vibration in ISO 10816 zone %c (%.2f mm/s RMS)", "?ABCD"[c->iso_zone], c->velocity_rms_mm_s);
    else if (!(c->causes & (ALERTS_CAUSE_MODEL | ALERTS_CAUSE_ISO)) && (c->causes & ALERTS_CAUSE_TEMP) &&
             isfinite(c->temp_c))
        snprintf(out, n, "temperature limit (%.1f °C)", c->temp_c);
    else
        snprintf(out, n, "%s", cause_words(c));
}

static long headline(const alerts_evidence *e, bool prefix, char *out, size_t outlen)
{
    sb b;
    sb_init(&b, out, outlen);
    char lvl[16];
    upper(alerts_level_name(e->level), lvl, sizeof lvl);
    const char *name = e->asset_name && *e->asset_name ? e->asset_name : e->asset_id;
    if (prefix)
        sb_printf(&b, "[vibewatch] ");
    switch (e->kind) {
    case ALERTS_RECOVERED:
        sb_printf(&b, "RECOVERED %s (%s): back to normal", name, e->asset_id);
        return sb_end(&b);
    case ALERTS_LOWERED: {
        char was[16];
        upper(alerts_level_name(e->previous), was, sizeof was);
        sb_printf(&b, "%s (was %s) %s (%s)", lvl, was, name, e->asset_id);
        break;
    }
    case ALERTS_REPEAT:
        sb_printf(&b, "%s still, not acknowledged: %s (%s)", lvl, name, e->asset_id);
        break;
    default:
        sb_printf(&b, "%s %s (%s)", lvl, name, e->asset_id);
    }
    const alerts_channel_ev *c = lead(e);
    if (c) {
        char f[96];
        finding(c, f, sizeof f);
        sb_printf(&b, ": %s", f);
        if (has_rul(c) && machine_finding(c)) { /* a stopped or faulty sensor's message is not about the RUL */
            char r[128];
            rul_words(c, "", "", r, sizeof r);
            sb_printf(&b, ", RUL %s", r);
        }
    }
    return sb_end(&b);
}

long alerts_ev_subject(const alerts_evidence *e, char *out, size_t outlen) { return headline(e, true, out, outlen); }
long alerts_ev_summary(const alerts_evidence *e, char *out, size_t outlen) { return headline(e, false, out, outlen); }

static const char zone_letter[] = "?ABCD";

static bool in_fault(const alerts_channel_ev *c) { return c->state && !strcmp(c->state, "sensor_fault"); }

/* What the message says of a sensor in fault (the text's and the HTML's "Sensor" line). */
static const char *fault_words(const alerts_channel_ev *c, char *out, size_t n)
{
    char t[40];
    alerts_ev_time(c->values_t_ns, t, sizeof t);
    snprintf(out, n, "in fault: its signal is not a measurement of the machine%s%s%s",
             c->values_t_ns ? "; the values below are from its last good snapshot (" : "", c->values_t_ns ? t : "",
             c->values_t_ns ? ")" : "");
    return out;
}

static void channel_text(sb *b, const alerts_channel_ev *c)
{
    sb_printf(b, "\n%s / %s", c->sensor_name && *c->sensor_name ? c->sensor_name : c->sensor_id, c->axis);
    sb_printf(b, " (sensor %s", c->sensor_id);
    if (c->mounting && *c->mounting)
        sb_printf(b, ", %s", c->mounting);
    sb_printf(b, ")\n");
    sb_printf(b, "  State:        %s: %s\n", alerts_level_name(c->level), cause_words(c));
    if (in_fault(c)) {
        char f[200];
        sb_printf(b, "  Sensor:       %s\n", fault_words(c, f, sizeof f));
    }
    if (has_rul(c)) {
        char r[160];
        rul_words(c, "80 % interval ", !strcmp(c->rul_basis, "trend") ? "; from the degradation trend" : "; from the life prior",
                  r, sizeof r);
        sb_printf(b, "  RUL:          %s\n", r);
    }
    if (isfinite(c->p_fail_7d) || isfinite(c->p_fail_14d)) {
        char p[96];
        fmt_p_fail(c, p, sizeof p);
        sb_printf(b, "  P(failure):   %s\n", p);
    }
    const char *d = diag_words(c->diagnosis);
    if (d) {
        sb_printf(b, "  Finding:      %s", d);
        if (isfinite(c->defect_hz))
            sb_printf(b, " at %s %.1f Hz", c->defect ? c->defect : "", c->defect_hz);
        if (isfinite(c->defect_db))
            sb_printf(b, ", %.1f dB above the envelope background", c->defect_db);
        sb_printf(b, "\n");
    }
    if (isfinite(c->anomaly) && isfinite(c->threshold))
        sb_printf(b, "  Anomaly:      %.3g (threshold %.3g, %.1f×)\n", c->anomaly, c->threshold,
                  c->threshold > 0 ? c->anomaly / c->threshold : 0.0);
    if (isfinite(c->hi) && isfinite(c->hi_limit))
        sb_printf(b, "  Health index: %.3g (failure limit %.3g)\n", c->hi, c->hi_limit);
    if (c->iso_zone >= 1 && c->iso_zone <= 4)
        sb_printf(b, "  ISO 10816:    zone %c", zone_letter[c->iso_zone]);
    if (isfinite(c->velocity_rms_mm_s))
        sb_printf(b, "%svelocity %.2f mm/s RMS", c->iso_zone >= 1 && c->iso_zone <= 4 ? ", " : "  Velocity:     ",
                  c->velocity_rms_mm_s);
    if ((c->iso_zone >= 1 && c->iso_zone <= 4) || isfinite(c->velocity_rms_mm_s))
        sb_printf(b, "\n");
    if (isfinite(c->temp_c))
        sb_printf(b, "  Temperature:  %.1f °C\n", c->temp_c);
    if (c->ncrossed) {
        sb_printf(b, "  Changed from baseline:\n");
        for (unsigned i = 0; i < c->ncrossed && i < ALERTS_EV_MAX_CROSSED; i++) {
            char x[96];
            fmt_crossed(&c->crossed[i], x, sizeof x);
            sb_printf(b, "    %-20s %s\n", c->crossed[i].name, x);
        }
    }
    if (c->ndays) {
        sb_printf(b, "  Last days:    day         velocity mm/s  health\n");
        for (unsigned i = 0; i < c->ndays && i < ALERTS_EV_MAX_DAYS; i++) {
            char t[32];
            alerts_ev_time(c->days[i].t_ns, t, sizeof t);
            t[10] = 0;
            sb_printf(b, "                %s  ", t);
            if (isfinite(c->days[i].velocity_rms_mm_s))
                sb_printf(b, "%13.2f", c->days[i].velocity_rms_mm_s);
            else
                sb_printf(b, "%13s", "-");
            if (isfinite(c->days[i].health))
                sb_printf(b, "  %.3g\n", c->days[i].health);
            else
                sb_printf(b, "  -\n");
        }
    }
}

static const char *what_now(const alerts_evidence *e)
{
    if (e->kind == ALERTS_RECOVERED)
        return "No action needed: every sensor of this machine is back in its normal state.";
    switch (e->level) {
    case ALERTS_ALARM:
        return "Plan the repair now: failure is expected within days. Acknowledge this alert on the dashboard to "
               "stop the reminders.";
    case ALERTS_WARNING:
        return "Plan an inspection or repair within the next two weeks. Acknowledge this alert on the dashboard to "
               "stop the daily reminder.";
    case ALERTS_WATCH:
        return "Keep an eye on it: the vibration differs from this machine's healthy baseline, but no failure is "
               "forecast yet.";
    default:
        return "";
    }
}

long alerts_ev_text(const alerts_evidence *e, char *out, size_t outlen)
{
    sb b;
    sb_init(&b, out, outlen);
    char h[512], t[40];
    if (headline(e, false, h, sizeof h) < 0)
        h[0] = 0;
    alerts_ev_time(e->t_ns, t, sizeof t);
    sb_printf(&b, "%s\n\n", h);
    sb_printf(&b, "Machine:  %s (%s)\n", e->asset_name && *e->asset_name ? e->asset_name : e->asset_id, e->asset_id);
    sb_printf(&b, "Box:      %s (%s)\n", e->box_name && *e->box_name ? e->box_name : e->box_id, e->box_id);
    sb_printf(&b, "Time:     %s\n", t);
    sb_printf(&b, "Level:    %s (last notified: %s)\n", alerts_level_name(e->level), alerts_level_name(e->previous));
    sb_printf(&b, "\n%s\n", what_now(e));
    for (unsigned i = 0; i < e->nch && i < ALERTS_EV_MAX_SHOWN; i++)
        channel_text(&b, &e->ch[i]);
    if (e->nch > ALERTS_EV_MAX_SHOWN)
        sb_printf(&b, "\n... and %u more channels at this level: see the dashboard.\n", e->nch - ALERTS_EV_MAX_SHOWN);
    if (e->link && *e->link)
        sb_printf(&b, "\nDashboard: %s\n", e->link);
    sb_printf(&b, "\n-- \nvibewatch on %s. This message was sent automatically.\n", e->box_id);
    return sb_end(&b);
}

static const char *level_colour(enum alerts_level l)
{
    static const char *const c[] = {"#2e7d32", "#f9a825", "#ef6c00", "#c62828"};
    return (unsigned)l < ALERTS_NLEVELS ? c[l] : "#555";
}

static void row(sb *b, const char *k, const char *v)
{
    sb_printf(b, "<tr><td style=\"padding:2px 8px 2px 0;color:#555;vertical-align:top\">");
    sb_html(b, k);
    sb_printf(b, "</td><td style=\"padding:2px 0\">");
    sb_html(b, v);
    sb_printf(b, "</td></tr>\n");
}

static void channel_html(sb *b, const alerts_channel_ev *c)
{
    char v[1024]; /* an id (64 bytes) and a name (256) fit */
    sb_printf(b, "<h3 style=\"margin:16px 0 4px;font-size:16px\">");
    sb_html(b, c->sensor_name && *c->sensor_name ? c->sensor_name : c->sensor_id);
    sb_printf(b, " / ");
    sb_html(b, c->axis);
    sb_printf(b, "</h3>\n<table style=\"border-collapse:collapse;font-size:14px\">\n");
    snprintf(v, sizeof v, "%s%s%s", c->sensor_id, c->mounting && *c->mounting ? ", " : "",
             c->mounting && *c->mounting ? c->mounting : "");
    row(b, "Sensor", v);
    snprintf(v, sizeof v, "%s: %s", alerts_level_name(c->level), cause_words(c));
    row(b, "State", v);
    if (in_fault(c))
        row(b, "Sensor", fault_words(c, v, sizeof v));
    if (has_rul(c)) {
        rul_words(c, "80 % interval ", !strcmp(c->rul_basis, "trend") ? "; degradation trend" : "; life prior", v, sizeof v);
        row(b, "Remaining life", v);
    }
    if (isfinite(c->p_fail_7d) || isfinite(c->p_fail_14d)) {
        fmt_p_fail(c, v, sizeof v);
        row(b, "P(failure)", v);
    }
    const char *d = diag_words(c->diagnosis);
    if (d) {
        int n = snprintf(v, sizeof v, "%s", d);
        if (isfinite(c->defect_hz) && n > 0 && (size_t)n < sizeof v)
            n += snprintf(v + n, sizeof v - (size_t)n, " at %s %.1f Hz", c->defect ? c->defect : "", c->defect_hz);
        if (isfinite(c->defect_db) && n > 0 && (size_t)n < sizeof v)
            snprintf(v + n, sizeof v - (size_t)n, ", %.1f dB above background", c->defect_db);
        row(b, "Finding", v);
    }
    if (isfinite(c->anomaly) && isfinite(c->threshold)) {
        snprintf(v, sizeof v, "%.3g (threshold %.3g)", c->anomaly, c->threshold);
        row(b, "Anomaly", v);
    }
    if (isfinite(c->hi) && isfinite(c->hi_limit)) {
        snprintf(v, sizeof v, "%.3g (failure limit %.3g)", c->hi, c->hi_limit);
        row(b, "Health index", v);
    }
    if (c->iso_zone >= 1 && c->iso_zone <= 4) {
        if (isfinite(c->velocity_rms_mm_s))
            snprintf(v, sizeof v, "zone %c, %.2f mm/s RMS", zone_letter[c->iso_zone], c->velocity_rms_mm_s);
        else
            snprintf(v, sizeof v, "zone %c", zone_letter[c->iso_zone]);
        row(b, "ISO 10816", v);
    }
    if (isfinite(c->temp_c)) {
        snprintf(v, sizeof v, "%.1f °C", c->temp_c);
        row(b, "Temperature", v);
    }
    for (unsigned i = 0; i < c->ncrossed && i < ALERTS_EV_MAX_CROSSED; i++) {
        fmt_crossed(&c->crossed[i], v, sizeof v);
        row(b, c->crossed[i].name, v);
    }
    sb_printf(b, "</table>\n");
    if (c->ndays) {
        sb_printf(b, "<table style=\"border-collapse:collapse;font-size:13px;margin-top:6px\">"
                     "<tr style=\"color:#555\"><td style=\"padding:1px 8px 1px 0\">day</td>"
                     "<td style=\"padding:1px 8px\">velocity mm/s</td><td style=\"padding:1px 8px\">health</td></tr>\n");
        for (unsigned i = 0; i < c->ndays && i < ALERTS_EV_MAX_DAYS; i++) {
            char t[32];
            alerts_ev_time(c->days[i].t_ns, t, sizeof t);
            t[10] = 0;
            sb_printf(b, "<tr><td style=\"padding:1px 8px 1px 0\">%s</td>", t);
            if (isfinite(c->days[i].velocity_rms_mm_s))
                sb_printf(b, "<td style=\"padding:1px 8px;text-align:right\">%.2f</td>", c->days[i].velocity_rms_mm_s);
            else
                sb_printf(b, "<td style=\"padding:1px 8px\">-</td>");
            if (isfinite(c->days[i].health))
                sb_printf(b, "<td style=\"padding:1px 8px;text-align:right\">%.3g</td></tr>\n", c->days[i].health);
            else
                sb_printf(b, "<td style=\"padding:1px 8px\">-</td></tr>\n");
        }
        sb_printf(b, "</table>\n");
    }
}

static void html_head(sb *b, const char *title)
{
    sb_printf(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
    sb_html(b, title);
    sb_printf(b, "</title></head>\n<body style=\"margin:0;padding:12px;font-family:sans-serif;color:#222\">\n"
                 "<div style=\"max-width:640px\">\n");
}

static void html_link(sb *b, const char *link)
{
    if (!link || !*link)
        return;
    sb_printf(b, "<p style=\"margin:16px 0\"><a href=\"");
    sb_html(b, link);
    sb_printf(b, "\" style=\"display:inline-block;padding:10px 16px;background:#1565c0;color:#fff;"
                 "text-decoration:none;border-radius:4px\">Open the dashboard</a></p>\n");
}

long alerts_ev_html(const alerts_evidence *e, char *out, size_t outlen)
{
    sb b;
    sb_init(&b, out, outlen);
    char h[512], t[40];
    if (headline(e, false, h, sizeof h) < 0)
        h[0] = 0;
    alerts_ev_time(e->t_ns, t, sizeof t);
    html_head(&b, h);
    enum alerts_level shown = e->kind == ALERTS_RECOVERED ? ALERTS_OK : e->level;
    sb_printf(&b, "<div style=\"background:%s;color:#fff;padding:10px 12px;border-radius:4px;font-size:18px\">",
              level_colour(shown));
    sb_html(&b, h);
    sb_printf(&b, "</div>\n<table style=\"border-collapse:collapse;font-size:14px;margin-top:8px\">\n");
    char v[1024]; /* a name (256 bytes) and an id (64) fit */
    snprintf(v, sizeof v, "%s (%s)", e->asset_name && *e->asset_name ? e->asset_name : e->asset_id, e->asset_id);
    row(&b, "Machine", v);
    snprintf(v, sizeof v, "%s (%s)", e->box_name && *e->box_name ? e->box_name : e->box_id, e->box_id);
    row(&b, "Box", v);
    row(&b, "Time", t);
    snprintf(v, sizeof v, "%s (last notified: %s)", alerts_level_name(e->level), alerts_level_name(e->previous));
    row(&b, "Level", v);
    sb_printf(&b, "</table>\n<p>");
    sb_html(&b, what_now(e));
    sb_printf(&b, "</p>\n");
    html_link(&b, e->link);
    for (unsigned i = 0; i < e->nch && i < ALERTS_EV_MAX_SHOWN; i++)
        channel_html(&b, &e->ch[i]);
    if (e->nch > ALERTS_EV_MAX_SHOWN)
        sb_printf(&b, "<p>... and %u more channels at this level: see the dashboard.</p>\n", e->nch - ALERTS_EV_MAX_SHOWN);
    sb_printf(&b, "<p style=\"color:#777;font-size:12px;margin-top:20px\">vibewatch on ");
    sb_html(&b, e->box_id);
    sb_printf(&b, ". This message was sent automatically.</p>\n</div></body></html>\n");
    return sb_end(&b);
}

long alerts_ev_sms(const alerts_evidence *e, char *out, size_t outlen)
{
    char lvl[16];
    upper(e->kind == ALERTS_RECOVERED ? "recovered" : alerts_level_name(e->level), lvl, sizeof lvl);
    /* the name cut to what an SMS can show: a longer one would overflow the body and leave it empty */
    char name[4 * ALERTS_SMS_CHARS + 1];
    snprintf(name, sizeof name, "%s", e->asset_name && *e->asset_name ? e->asset_name : e->asset_id);
    alerts_utf8_truncate(name, ALERTS_SMS_CHARS);
    char body[1024];
    sb b;
    sb_init(&b, body, sizeof body);
    sb_printf(&b, "%s %s", lvl, name);
    const alerts_channel_ev *c = lead(e);
    if (c && e->kind != ALERTS_RECOVERED) {
        char f[96];
        finding(c, f, sizeof f);
        sb_printf(&b, ": %s", f);
        if (has_rul(c) && machine_finding(c)) {
            char m[24];
            fmt_dur(c->rul_h, m, sizeof m);
            sb_printf(&b, ", RUL %s", m);
        }
        if (isfinite(c->p_fail_7d) && machine_finding(c))
            sb_printf(&b, ", P7d %.0f%%", 100 * c->p_fail_7d);
    }
    if (e->link && *e->link)
        sb_printf(&b, " %s", e->link);
    if (b.over) /* cut anyway below: keep what fitted */
        body[sizeof body - 1] = 0;
    alerts_utf8_truncate(body, ALERTS_SMS_CHARS);
    size_t n = strlen(body);
    if (n + 1 > outlen) {
        if (outlen)
            out[0] = 0;
        return -ENOSPC;
    }
    memcpy(out, body, n + 1);
    return (long)n;
}

static void jnum(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
}

static void jstr(cJSON *o, const char *k, const char *v)
{
    if (v && *v)
        cJSON_AddStringToObject(o, k, v);
}

char *alerts_ev_json(const alerts_evidence *e)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    char t[40];
    alerts_ev_time(e->t_ns, t, sizeof t);
    jstr(o, "box", e->box_id);
    jstr(o, "asset", e->asset_id);
    jstr(o, "asset_name", e->asset_name);
    jstr(o, "kind", alerts_kind_name(e->kind));
    jstr(o, "level", alerts_level_name(e->level));
    jstr(o, "previous", alerts_level_name(e->previous));
    jstr(o, "time", t);
    jstr(o, "link", e->link);
    cJSON *chs = cJSON_AddArrayToObject(o, "channels");
    for (unsigned i = 0; i < e->nch; i++) {
        const alerts_channel_ev *c = &e->ch[i];
        cJSON *co = cJSON_CreateObject();
        jstr(co, "sensor", c->sensor_id);
        jstr(co, "sensor_name", c->sensor_name);
        jstr(co, "channel", c->axis);
        jstr(co, "level", alerts_level_name(c->level));
        jstr(co, "state", c->state);
        jstr(co, "cause", cause_words(c));
        if (in_fault(c) && c->values_t_ns) {
            char vt[40];
            alerts_ev_time(c->values_t_ns, vt, sizeof vt);
            jstr(co, "values_from", vt);
        }
        jstr(co, "rul_basis", c->rul_basis);
        if (has_rul(c)) {
            jnum(co, "rul_h", c->rul_h);
            jnum(co, "rul_lo_h", c->rul_lo_h);
            jnum(co, "rul_hi_h", c->rul_hi_h);
        }
        jnum(co, "p_fail_7d", c->p_fail_7d);
        jnum(co, "p_fail_14d", c->p_fail_14d);
        jnum(co, "anomaly", c->anomaly);
        jnum(co, "threshold", c->threshold);
        jnum(co, "hi", c->hi);
        jnum(co, "hi_limit", c->hi_limit);
        if (diag_words(c->diagnosis)) {
            jstr(co, "diagnosis", c->diagnosis);
            jstr(co, "defect", c->defect);
            jnum(co, "defect_hz", c->defect_hz);
            jnum(co, "defect_db", c->defect_db);
        }
        if (c->iso_zone >= 1 && c->iso_zone <= 4) {
            char z[2] = {zone_letter[c->iso_zone], 0};
            cJSON_AddStringToObject(co, "iso_zone", z);
        }
        jnum(co, "velocity_rms_mm_s", c->velocity_rms_mm_s);
        jnum(co, "temp_c", c->temp_c);
        cJSON *cr = cJSON_AddArrayToObject(co, "crossed");
        for (unsigned k = 0; k < c->ncrossed && k < ALERTS_EV_MAX_CROSSED; k++) {
            cJSON *x = cJSON_CreateObject();
            jstr(x, "feature", c->crossed[k].name);
            jnum(x, "now", c->crossed[k].now);
            jnum(x, "baseline", c->crossed[k].ref);
            cJSON_AddItemToArray(cr, x);
        }
        cJSON *days = cJSON_AddArrayToObject(co, "days");
        for (unsigned k = 0; k < c->ndays && k < ALERTS_EV_MAX_DAYS; k++) {
            cJSON *x = cJSON_CreateObject();
            char dt[40];
            alerts_ev_time(c->days[k].t_ns, dt, sizeof dt);
            dt[10] = 0;
            jstr(x, "day", dt);
            jnum(x, "velocity_rms_mm_s", c->days[k].velocity_rms_mm_s);
            jnum(x, "health", c->days[k].health);
            jnum(x, "hi", c->days[k].hi);
            cJSON_AddItemToArray(days, x);
        }
        cJSON_AddItemToArray(chs, co);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

long alerts_ev_digest_subject(const char *box_name, size_t n, char *out, size_t outlen)
{
    sb b;
    sb_init(&b, out, outlen);
    sb_printf(&b, "[vibewatch] %zu more alert%s from %s (digest)", n, n == 1 ? "" : "s", box_name);
    return sb_end(&b);
}

long alerts_ev_digest_text(const char *box_name, const alerts_digest_item *it, size_t n, const char *link, char *out,
                           size_t outlen)
{
    sb b;
    sb_init(&b, out, outlen);
    sb_printf(&b, "%zu alert%s from %s came in above this destination's rate limit; here they are together:\n\n", n,
              n == 1 ? "" : "s", box_name);
    for (size_t i = 0; i < n; i++) {
        char t[40];
        alerts_ev_time(it[i].t_ns, t, sizeof t);
        sb_printf(&b, "%s  %s\n", t, it[i].summary ? it[i].summary : "");
    }
    if (link && *link)
        sb_printf(&b, "\nDashboard: %s\n", link);
    sb_printf(&b, "\n-- \nvibewatch. This message was sent automatically.\n");
    return sb_end(&b);
}

long alerts_ev_digest_html(const char *box_name, const alerts_digest_item *it, size_t n, const char *link, char *out,
                           size_t outlen)
{
    sb b;
    sb_init(&b, out, outlen);
    char title[128];
    snprintf(title, sizeof title, "%zu alerts (digest)", n);
    html_head(&b, title);
    sb_printf(&b, "<p>%zu alert%s from ", n, n == 1 ? "" : "s");
    sb_html(&b, box_name);
    sb_printf(&b, " came in above this destination's rate limit; here they are together:</p>\n"
                  "<table style=\"border-collapse:collapse;font-size:14px\">\n");
    for (size_t i = 0; i < n; i++) {
        char t[40];
        alerts_ev_time(it[i].t_ns, t, sizeof t);
        sb_printf(&b, "<tr><td style=\"padding:2px 8px 2px 0;color:#555;white-space:nowrap\">%s</td><td>", t);
        sb_html(&b, it[i].summary);
        sb_printf(&b, "</td></tr>\n");
    }
    sb_printf(&b, "</table>\n");
    html_link(&b, link);
    sb_printf(&b, "</div></body></html>\n");
    return sb_end(&b);
}
