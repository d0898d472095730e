/* acquisition/file_series.h — the series of recordings behind one `file:` URI, and the
 * PRONOSTIA temperature record beside it.
 *
 * A series is a list of snapshot files in time order: an IMS directory (files named by their
 * time stamp), a PRONOSTIA directory (acc_NNNNN.csv in number order, with optional
 * temp_NNNNN.csv) or a manifest ("time,file" CSV). Listing keeps only names and times, never
 * samples: the source loads one snapshot at a time, so a 50-day series costs the memory of one
 * snapshot plus ~300 bytes per file name. Lists are capped at ACQ_FILE_SERIES_MAX files.
 *
 * Blocks on directory and file I/O only; no global state.
 */
#ifndef VW_ACQ_FILE_SERIES_H
#define VW_ACQ_FILE_SERIES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ACQ_FILE_SERIES_MAX (1u << 20)  /* files in one series (a year of 10-s snapshots is 3.2 M: split it) */
#define ACQ_FILE_MANIFEST_LINE 4096u    /* longest manifest line, bytes */
#define ACQ_FILE_TEMP_MAX_DIST_S 60.0   /* a temperature further than this from a snapshot is not its own */

enum acq_file_kind { ACQ_FILE_SINGLE, ACQ_FILE_IMS, ACQ_FILE_PRONOSTIA, ACQ_FILE_MANIFEST };

typedef struct acq_file_entry {
    char *path;             /* owned; as opened (directory or manifest folder joined with the name) */
    int64_t t_ns;           /* IMS and manifest: data time of the first sample; PRONOSTIA: unused */
    unsigned long key;      /* PRONOSTIA: NNNNN; manifest: line number (ties keep file order) */
} acq_file_entry;

typedef struct acq_file_series {
    enum acq_file_kind kind;
    acq_file_entry *e;      /* snapshots in time order */
    size_t n;
    acq_file_entry *temp;   /* PRONOSTIA temp_NNNNN.csv in number order (may be empty) */
    size_t ntemp;
} acq_file_series;

/* Lists an IMS or PRONOSTIA directory. Names that fit neither are ignored (a README may sit
 * beside the data); an IMS-shaped name that is not a real time (2003.13.45…) is reported on
 * `log` and ignored. Errors: an empty directory, no recognisable files, both kinds mixed, more
 * than ACQ_FILE_SERIES_MAX files. */
int acq_file_series_scan_dir(const char *dir, acq_file_series *out, FILE *log, char *err, size_t errlen);

/* 1 when the file's first content line is the manifest header "time,file" (any case, blanks
 * allowed around the names, UTF-8 BOM and CRLF accepted), 0 otherwise, -errno when unreadable. */
int acq_file_is_manifest(const char *path);

/* Reads a manifest: after the header, one "TIME,FILE" per line (ISO 8601 with a zone, a path
 * relative to the manifest's folder or absolute; FILE may be in double quotes; everything
 * after the first comma is the path). Blank and '#' lines are skipped. Every entry is checked
 * now (a bad time, a missing file or one that is not a regular file is an error naming
 * "MANIFEST:LINE:"), then sorted by time, ties in file order. */
int acq_file_series_read_manifest(const char *path, acq_file_series *out, char *err, size_t errlen);

void acq_file_series_free(acq_file_series *s); /* accepts NULL and zeroed series */

/* ---- PRONOSTIA temperature ---------------------------------------------------------------- */

/* The temp_NNNNN.csv files of a PRONOSTIA run: columns hour, minute, second, "0.x second",
 * temperature °C (the challenge document, Table 2), 600 rows per minute at 10 Hz, ',' or ';'.
 * The fourth column's unit is not stated; it is read as a fraction of a second when below 1,
 * tenths when below 10, else microseconds (like the acc files) — it only chooses between
 * readings 0.1 s apart, which a temperature cannot tell apart anyway.
 * At most two files are held at once; a bad file is reported once on `log` and skipped. */
typedef struct acq_file_temp acq_file_temp;

/* Takes the list (not copied: it must outlive the tracker). NULL on no memory. */
acq_file_temp *acq_file_temp_new(const acq_file_entry *files, size_t n, FILE *log);
/* The reading nearest to local_ns (ns on the same dateless clock as the acc files, chained with
 * acq_file_next_tod), NAN when none lies within ACQ_FILE_TEMP_MAX_DIST_S. Calls must come in
 * non-decreasing time: files are read once, forward. */
double acq_file_temp_at(acq_file_temp *t, int64_t local_ns);
void acq_file_temp_free(acq_file_temp *t);

/* The time of day, in ns, of PRONOSTIA hour/minute/second/sub-second fields; sub is the acc
 * files' microseconds or the temp files' "0.x second" (see above), sub_is_us selects which.
 * -EINVAL when a field is out of range or not whole (hours 0–23, …). */
int acq_file_pronostia_tod(double h, double m, double s, double sub, int sub_is_us, int64_t *tod_ns);

#endif
