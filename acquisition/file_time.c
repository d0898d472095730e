/* acquisition/file_time.c — see file_time.h. Calendar arithmetic after Howard Hinnant's
 * days_from_civil / civil_from_days (era-based, exact for every proleptic Gregorian date). */
#include "file_time.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int64_t acq_file_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);                        /* [0, 399] */
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  /* [0, 365] */
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            /* [0, 146096] */
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int acq_file_valid_date(int y, int m, int d)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1)
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= mdays[m - 1] + (m == 2 && leap);
}

/* Reads exactly n decimal digits at *p. */
static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* Seconds since the epoch of a checked date and time, then ns with overflow checked. */
static int to_ns(int y, int mo, int d, int h, int mi, int s, int64_t frac_ns, int64_t off_s, int64_t *ns)
{
    int64_t secs = acq_file_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s - off_s;
    if (secs > INT64_MAX / ACQ_NS_PER_S - 1 || secs < INT64_MIN / ACQ_NS_PER_S + 1)
        return -ERANGE;
    *ns = secs * ACQ_NS_PER_S + frac_ns;
    return 0;
}

int acq_file_parse_iso8601(const char *s, int64_t *ns, int *offset_s)
{
    int y, mo, d, h, mi, sec;
    const char *p = s;
    if (!s || digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
        return -EINVAL;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -EINVAL;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &sec))
        return -EINVAL;
    if (!acq_file_valid_date(y, mo, d) || h > 23 || mi > 59 || sec > 59)
        return -EINVAL;
    int64_t frac = 0;
    if (*p == '.' || *p == ',') {
        p++;
        int nd = 0;
        int64_t scale = ACQ_NS_PER_S;
        while (*p >= '0' && *p <= '9') {
            if (++nd > 9)
                return -EINVAL;
            scale /= 10;
            frac += (*p++ - '0') * scale;
        }
        if (nd == 0)
            return -EINVAL;
    }
    int off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
        if (digits(&p, 2, &oh))
            return -EINVAL;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &om))
                return -EINVAL;
        } else if (*p >= '0' && *p <= '9' && digits(&p, 2, &om)) {
            return -EINVAL;
        }
        if (oh > 23 || om > 59)
            return -EINVAL;
        off = sign * (oh * 3600 + om * 60);
    } else {
        return -EINVAL; /* no zone */
    }
    if (*p)
        return -EINVAL;
    int rc = to_ns(y, mo, d, h, mi, sec, frac, off, ns);
    if (rc == 0 && offset_s)
        *offset_s = off;
    return rc;
}

int acq_file_parse_ims_name(const char *name, int64_t *ns)
{
    int v[6];
    const char *p = name;
    if (!name || strlen(name) != 19)
        return -EINVAL;
    for (int i = 0; i < 6; i++) {
        if (digits(&p, i == 0 ? 4 : 2, &v[i]))
            return -EINVAL;
        if (i < 5 && *p++ != '.')
            return -EINVAL;
    }
    if (!acq_file_valid_date(v[0], v[1], v[2]) || v[3] > 23 || v[4] > 59 || v[5] > 59)
        return -EINVAL;
    return to_ns(v[0], v[1], v[2], v[3], v[4], v[5], 0, 0, ns);
}

int64_t acq_file_next_tod(int64_t ref_ns, int64_t tod_ns)
{
    int64_t day = ref_ns / ACQ_NS_PER_DAY;
    if (ref_ns % ACQ_NS_PER_DAY < 0)
        day--; /* floor, also before 1970 */
    int64_t t = day * ACQ_NS_PER_DAY + tod_ns;
    return t < ref_ns ? t + ACQ_NS_PER_DAY : t;
}

void acq_file_format_utc(int64_t ns, char *out, unsigned outlen)
{
    int64_t days = ns / ACQ_NS_PER_DAY, rem = ns % ACQ_NS_PER_DAY;
    if (rem < 0) {
        rem += ACQ_NS_PER_DAY;
        days--;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int64_t s = rem / ACQ_NS_PER_S;
    snprintf(out, outlen, "%04lld-%02u-%02uT%02d:%02d:%02d.%09lldZ", (long long)y, m, d, (int)(s / 3600),
             (int)(s / 60 % 60), (int)(s % 60), (long long)(rem % ACQ_NS_PER_S));
}
