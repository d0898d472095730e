/* store/lineproto.h — the InfluxDB line protocol, formatted: pure functions, no I/O, no
 * allocation, any thread. One call appends one line to a caller's buffer:
 *
 *     measurement[,tag_key=tag_value…] field_key=field_value[,…] timestamp_ns\n
 *
 * Escaping follows the line-protocol reference (InfluxDB 1.x/2.x, which VictoriaMetrics accepts):
 * in measurements, commas and spaces are backslash-escaped; in tag keys, tag values and field keys,
 * commas, equals signs and spaces; in string field values, double quotes and backslashes (the value
 * is then put in double quotes). Newlines (\n, \r) cannot be escaped in any of them and are
 * refused (-EINVAL), as are empty measurements and keys, a measurement starting with '#' (a
 * comment), names or values that are not valid UTF-8, control characters (0x01–0x1F, 0x7F) in
 * names, and a name with a backslash at its end or right before a character escaped there (names
 * have no escape for the backslash: "C:\temp" is fine, "C:\" and "a\,b" are not). A tag whose
 * value is empty or NULL is left out (the protocol has no empty tag values); two written tags with
 * the same key are refused (InfluxDB refuses the point). Tags are written sorted by their escaped
 * key bytes (the order InfluxDB checks for). Floats are written with enough digits to read back
 * exactly ("%.17g" shortened); a float that is NaN or infinite cannot be written and its field is
 * left out; integers get the
 * "i" suffix, unsigned the "u" suffix (InfluxDB 1.x does not take "u": use int64 for it), booleans
 * are "true"/"false". A line with no field left is not written (-ENODATA). The timestamp is
 * nanoseconds (precision=ns), within InfluxDB's range ±9223372036854775806 (-EINVAL outside),
 * taken from data time by the caller, so a point sent twice has the same series and time and
 * overwrites itself. On any error the buffer is left as it was. */
#ifndef VW_STORE_LINEPROTO_H
#define VW_STORE_LINEPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_LP_MAX_TAGS 32

enum store_lp_type { STORE_LP_FLOAT, STORE_LP_INT, STORE_LP_UINT, STORE_LP_BOOL, STORE_LP_STRING };

typedef struct store_lp_tag {
    const char *key, *value;
} store_lp_tag;

typedef struct store_lp_field {
    const char *key;
    enum store_lp_type type;
    union {
        double f;
        int64_t i;
        uint64_t u;
        bool b;
        const char *s;
    } v;
} store_lp_field;

/* Appends one line (with its '\n') at buf + *len, at most cap bytes in all, and advances *len.
 * Errors rank -EINVAL, then -ENODATA, then -ENOSPC; err (when not NULL) gets a one-line message
 * for each and is emptied on success.
 * 0; -ENOSPC when it does not fit (nothing written); -EINVAL for something the protocol cannot
 * carry (the reason, naming the key, in err when err is not NULL); -ENODATA when no field is left
 * (all non-finite). ntags ≤ STORE_LP_MAX_TAGS. */
int store_lp_line(char *buf, size_t cap, size_t *len, const char *measurement, const store_lp_tag *tags,
                  size_t ntags, const store_lp_field *fields, size_t nfields, int64_t t_ns, char *err,
                  size_t errlen);

#endif
