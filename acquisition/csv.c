/* acquisition/csv.c — CSV / text recording reader (see recording.h).
 *
 * Lines are read by a bounded reader (at most ACQ_CSV_MAX_LINE bytes, reported when longer) into
 * one buffer that is split in place, so a hostile file costs at most that buffer plus the samples,
 * which grow by doubling up to ACQ_RECORDING_MAX_BYTES. Every problem is reported with the file,
 * the physical line number (comments and blank lines count) and the column, because a person
 * fixes CSV files in a text editor. No global state; blocks only on file I/O.
 */
#include "acquisition/recording.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct csv {
    FILE *fp;
    const char *path;
    char *line;             /* ACQ_CSV_MAX_LINE + 1 bytes */
    unsigned long lineno;   /* of the line in `line`, from 1 */
    char sep;               /* 0 until the first data line */
    unsigned ncol;          /* columns of the first data line */
    unsigned long first_data_line;
    unsigned long header_line; /* 0 when there is none */
    unsigned header_cols[3];   /* the header's field count split by ',', ';', '\t' */
    float *vals;
    size_t nvals, cap;      /* in floats */
    char *err;
    size_t errlen;
};

static const char seps[3] = {',', ';', '\t'};

__attribute__((format(printf, 3, 4)))
static int fail_at(struct csv *c, int rc, const char *fmt, ...)
{
    if (c->err && c->errlen > 0) {
        int k = c->lineno ? snprintf(c->err, c->errlen, "%s:%lu: ", c->path, c->lineno)
                          : snprintf(c->err, c->errlen, "%s: ", c->path);
        if (k >= 0 && (size_t)k < c->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->err + k, c->errlen - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return rc;
}

/* Reads the next line into c->line without its "\n" or "\r\n". 1: a line, 0: end of file. */
static int next_line(struct csv *c)
{
    size_t n = 0;
    int ch, got = 0;
    c->lineno++;
    while ((ch = getc(c->fp)) != EOF) {
        got = 1;
        if (ch == '\n')
            break;
        if (ch == 0)
            return fail_at(c, -EINVAL, "NUL byte in the line (binary file, not CSV text?)");
        if (n == ACQ_CSV_MAX_LINE)
            return fail_at(c, -EINVAL, "line longer than %u bytes", ACQ_CSV_MAX_LINE);
        c->line[n++] = (char)ch;
    }
    if (ferror(c->fp))
        return fail_at(c, -EIO, "read error: %s", strerror(errno ? errno : EIO));
    if (n > 0 && c->line[n - 1] == '\r')
        n--;
    c->line[n] = 0;
    /* Spreadsheets put a UTF-8 byte-order mark before the first line. */
    if (c->lineno == 1 && n >= 3 && memcmp(c->line, "\xEF\xBB\xBF", 3) == 0)
        memmove(c->line, c->line + 3, n - 2);
    return got;
}

static int is_blank(char ch) { return ch == ' ' || ch == '\t'; }

/* Trims blanks and one pair of surrounding double quotes, in place. */
static char *trim_field(char *s)
{
    while (is_blank(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_blank(s[n - 1]))
        s[--n] = 0;
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s[n - 1] = 0;
        s++;
        while (is_blank(*s))
            s++;
        n = strlen(s);
        while (n > 0 && is_blank(s[n - 1]))
            s[--n] = 0;
    }
    return s;
}

/* 1 when the whole (trimmed) field is a number strtod reads, NaN and Inf included; *overflow
 * tells a literal "inf" from a finite number too large for a double. */
static int parse_number(const char *s, double *v, int *overflow)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    *overflow = errno == ERANGE && isinf(*v);
    return end != s && *end == 0;
}

/* The same for the field [s, e) of an unsplit line (blanks and quotes around it allowed). */
static int span_is_number(const char *s, const char *e)
{
    while (s < e && (is_blank(*s) || *s == '"'))
        s++;
    if (s == e)
        return 0;
    char *end;
    (void)strtod(s, &end);
    if (end == s || end > e)
        return 0;
    while (end < e && (is_blank(*end) || *end == '"'))
        end++;
    return end == e;
}

/* Tells "1,5" (a spreadsheet in a comma-decimal locale) from other garbage, for a better hint. */
static int decimal_comma(const char *s)
{
    char tmp[64], *comma;
    size_t n = strlen(s);
    if (n >= sizeof tmp)
        return 0;
    memcpy(tmp, s, n + 1);
    if (!(comma = strchr(tmp, ',')))
        return 0;
    *comma = '.';
    double v;
    int overflow;
    return parse_number(tmp, &v, &overflow);
}

static unsigned count_fields(const char *s, char sep)
{
    unsigned n = 1;
    for (; *s; s++)
        n += *s == sep;
    return n;
}

/* A field as text fit for a message: bounded, with unprintable bytes shown as '?'. */
static const char *field_text(const char *s, char out[48])
{
    size_t i = 0;
    for (; s[i] && i < 40; i++)
        out[i] = ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f) ? s[i] : '?';
    if (s[i])
        memcpy(out + i, "...", 4);
    else
        out[i] = 0;
    return out;
}

/* The first content line is a header when none of its fields is a number. */
static int is_header(const char *line)
{
    char sep = strchr(line, '\t') ? '\t' : strchr(line, ';') ? ';' : ',';
    for (const char *s = line;;) {
        const char *e = strchr(s, sep);
        if (!e)
            e = s + strlen(s);
        if (span_is_number(s, e))
            return 0;
        if (*e == 0)
            return 1;
        s = e + 1;
    }
}

static int grow(struct csv *c, size_t more)
{
    const size_t limit = (ACQ_RECORDING_MAX_BYTES < SIZE_MAX ? (size_t)ACQ_RECORDING_MAX_BYTES : SIZE_MAX)
                         / sizeof(float);
    if (c->nvals + more <= c->cap)
        return 0;
    if (more > limit - c->nvals)
        return fail_at(c, -EFBIG, "recording too large: over %llu MiB of samples",
                       (unsigned long long)(ACQ_RECORDING_MAX_BYTES >> 20));
    size_t cap = c->cap ? c->cap : 4096;
    while (cap < c->nvals + more)
        cap = cap > limit / 2 ? limit : cap * 2;
    float *v = realloc(c->vals, cap * sizeof *v);
    if (!v)
        return fail_at(c, -ENOMEM, "out of memory for %zu MiB of samples", (cap * sizeof *v) >> 20);
    c->vals = v;
    c->cap = cap;
    return 0;
}

static int parse_row(struct csv *c)
{
    if (!c->sep) {
        /* Tab and ';' first: files that use them may carry ',' as a decimal comma; a single
         * column gets ',' so that a later "1,2" is reported as a column count, not garbage. */
        c->sep = strchr(c->line, '\t') ? '\t' : strchr(c->line, ';') ? ';' : ',';
        c->ncol = count_fields(c->line, c->sep);
        c->first_data_line = c->lineno;
    }
    unsigned n = count_fields(c->line, c->sep);
    if (n > ACQ_RECORDING_MAX_CHANNELS)
        return fail_at(c, -EINVAL, "%u columns, at most %u are supported", n, ACQ_RECORDING_MAX_CHANNELS);
    if (n != c->ncol)
        return fail_at(c, -EINVAL, "%u columns, expected %u (as on line %lu)", n, c->ncol, c->first_data_line);
    if (c->header_line) {
        unsigned h = c->header_cols[c->sep == ',' ? 0 : c->sep == ';' ? 1 : 2];
        if (h != n)
            return fail_at(c, -EINVAL, "%u columns, but the header on line %lu has %u names", n,
                           c->header_line, h);
        c->header_line = 0; /* checked once */
    }
    int rc = grow(c, n);
    if (rc != 0)
        return rc;
    char *f = c->line;
    for (unsigned col = 1; col <= n; col++) {
        char *end = strchr(f, c->sep);
        if (end)
            *end = 0;
        char *s = trim_field(f), shown[48];
        double v;
        int overflow;
        if (*s == 0)
            return fail_at(c, -EINVAL, "column %u: empty field", col);
        if (!parse_number(s, &v, &overflow))
            return fail_at(c, -EINVAL, "column %u: not a number: \"%s\"%s", col, field_text(s, shown),
                           decimal_comma(s) ? " (a decimal comma? write numbers with '.')" : "");
        if (isnan(v))
            return fail_at(c, -EINVAL, "column %u: NaN", col);
        if (isinf(v) && !overflow)
            return fail_at(c, -EINVAL, "column %u: %sInf", col, v < 0 ? "-" : "+");
        /* Checked before the conversion: a double beyond FLT_MAX has no float value. */
        if (isinf(v) || fabs(v) > FLT_MAX)
            return fail_at(c, -EINVAL, "column %u: value out of float32 range: \"%s\"", col,
                           field_text(s, shown));
        c->vals[c->nvals++] = (float)v;
        f = end ? end + 1 : f + strlen(f);
    }
    return 0;
}

static int read_all(struct csv *c)
{
    int rc;
    while ((rc = next_line(c)) == 1) {
        char *s = c->line;
        while (is_blank(*s))
            s++;
        if (*s == 0 || *s == '#')
            continue;
        if (!c->sep && !c->header_line && c->nvals == 0 && is_header(c->line)) {
            c->header_line = c->lineno;
            for (int i = 0; i < 3; i++)
                c->header_cols[i] = count_fields(c->line, seps[i]);
            continue;
        }
        if ((rc = parse_row(c)) != 0)
            return rc;
    }
    if (rc < 0)
        return rc;
    c->lineno = 0;
    if (c->nvals == 0)
        return fail_at(c, -EINVAL, "no data rows%s", c->header_line ? " (only a header)" : "");
    return 0;
}

int acq_read_csv(const char *path, double fs_hz, acq_recording *out, char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = 0;
    if (!out)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    struct csv c = {.path = path ? path : "(null)", .err = err, .errlen = errlen};
    if (!path)
        return fail_at(&c, -EINVAL, "no file name given");
    if (!(fs_hz > 0) || !isfinite(fs_hz))
        return fail_at(&c, -EINVAL, "--fs is required for CSV: the file has no sample rate (give it in Hz)");
    c.fp = fopen(path, "rb");
    if (!c.fp) {
        int e = errno ? errno : EIO;
        return fail_at(&c, -e, "cannot open: %s", strerror(e));
    }
    c.line = malloc(ACQ_CSV_MAX_LINE + 1);
    int rc = c.line ? read_all(&c) : fail_at(&c, -ENOMEM, "out of memory for a line buffer");
    fclose(c.fp);
    free(c.line);
    if (rc != 0) {
        free(c.vals);
        return rc;
    }
    out->fs_hz = fs_hz;
    out->nchan = c.ncol;
    out->nframes = c.nvals / c.ncol;
    out->samples = c.vals;
    const char *sep = c.sep == ';' ? " (';')" : c.sep == '\t' ? " (tab)" : "";
    snprintf(out->format, sizeof out->format, "CSV%s, %u column%s", sep, c.ncol, c.ncol == 1 ? "" : "s");
    return 0;
}
