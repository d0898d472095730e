/* acquisition/file_time.h — the time arithmetic of the `file:` source: ISO 8601 stamps (t0=,
 * manifests), IMS snapshot names, and the PRONOSTIA clock that has a time of day but no date.
 * Pure functions on integers: no locale, no time zone database, no global state (timegm and
 * the TZ variable are avoided on purpose, so a box's local time zone can never shift data time).
 * Times are ns since the Unix epoch (UTC) in int64_t, which covers the years 1678–2261.
 */
#ifndef VW_ACQ_FILE_TIME_H
#define VW_ACQ_FILE_TIME_H

#include <stdint.h>

#define ACQ_NS_PER_S INT64_C(1000000000)
#define ACQ_NS_PER_DAY (INT64_C(86400) * ACQ_NS_PER_S)

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d (negative before 1970). The date
 * must be valid (see acq_file_valid_date). */
int64_t acq_file_days_from_civil(int64_t y, unsigned m, unsigned d);
/* 1 when y-m-d is a real calendar date (leap years included), else 0. */
int acq_file_valid_date(int y, int m, int d);

/* Parses an ISO 8601 date and time with a zone: "YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm|±hhmm|±hh)",
 * 'T' or one space between date and time, up to 9 fraction digits (more are refused rather than
 * silently rounded). A stamp without a zone is refused: a recording's local time read as UTC
 * would shift every record by hours without anyone noticing. Returns 0 with *ns (UTC) and
 * *offset_s (the zone's offset east of UTC, so that local time = UTC + offset), or -EINVAL,
 * -ERANGE outside the int64 ns range. offset_s may be NULL. */
int acq_file_parse_iso8601(const char *s, int64_t *ns, int *offset_s);

/* An IMS snapshot name "YYYY.MM.DD.hh.mm.ss" (exactly that, 19 characters) read as UTC.
 * 0 and *ns; -EINVAL when the name has another shape or is not a real date and time. */
int acq_file_parse_ims_name(const char *name, int64_t *ns);

/* The first instant at or after ref_ns whose time of day (ns since midnight of the same clock)
 * is tod_ns, 0 <= tod_ns < one day. Chaining snapshots of a clock without dates through it
 * turns every step back in the time of day into the next day: 23:59:50 then 00:00:00 is 10 s
 * later, not 24 h earlier. */
int64_t acq_file_next_tod(int64_t ref_ns, int64_t tod_ns);

/* Formats ns as "YYYY-MM-DDThh:mm:ss.fffffffffZ" into out (at least 32 bytes), for messages. */
void acq_file_format_utc(int64_t ns, char *out, unsigned outlen);

#endif
