/* acquisition/file_series.c — listing the snapshot files of an IMS or PRONOSTIA directory and
 * reading manifests (see file_series.h). Only names and times are kept; every check that can
 * be made without reading samples is made here, at open, so that a typo in a manifest fails
 * the source at once instead of an hour into a replay. */
#include "file_series.h"
#include "file_time.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* dir + '/' + name, or name alone when it is absolute or dir is empty; NULL on no memory. */
static char *join(const char *dir, size_t dirlen, const char *name)
{
    if (name[0] == '/' || dirlen == 0)
        return strdup(name);
    size_t n = strlen(name);
    char *p = malloc(dirlen + 1 + n + 1);
    if (!p)
        return NULL;
    memcpy(p, dir, dirlen);
    p[dirlen] = '/';
    memcpy(p + dirlen + 1, name, n + 1);
    return p;
}

struct list {
    acq_file_entry *e;
    size_t n, cap;
};

static int push(struct list *l, char *path, int64_t t, unsigned long key)
{
    if (!path)
        return -ENOMEM;
    if (l->n == l->cap) {
        if (l->cap >= ACQ_FILE_SERIES_MAX) {
            free(path);
            return -E2BIG;
        }
        size_t cap = l->cap ? l->cap * 2 : 64;
        acq_file_entry *e = realloc(l->e, cap * sizeof *e);
        if (!e) {
            free(path);
            return -ENOMEM;
        }
        l->e = e;
        l->cap = cap;
    }
    l->e[l->n++] = (acq_file_entry){.path = path, .t_ns = t, .key = key};
    return 0;
}

static void list_free(struct list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->e[i].path);
    free(l->e);
    memset(l, 0, sizeof *l);
}

static int by_time(const void *a, const void *b)
{
    const acq_file_entry *x = a, *y = b;
    if (x->t_ns != y->t_ns)
        return x->t_ns < y->t_ns ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

static int by_number(const void *a, const void *b)
{
    const acq_file_entry *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return strcmp(x->path, y->path);
}

/* "YYYY.MM.DD.hh.mm.ss": digits with dots at 4, 7, 10, 13 and 16. */
static int ims_shaped(const char *name)
{
    if (strlen(name) != 19)
        return 0;
    for (int i = 0; i < 19; i++) {
        int dot = i == 4 || i == 7 || i == 10 || i == 13 || i == 16;
        if (dot ? name[i] != '.' : (name[i] < '0' || name[i] > '9'))
            return 0;
    }
    return 1;
}

/* PREFIX then 1–9 digits then ".csv" (any case). */
static int numbered(const char *name, const char *prefix, unsigned long *num)
{
    size_t pl = strlen(prefix);
    if (strncmp(name, prefix, pl) != 0)
        return 0;
    const char *p = name + pl;
    unsigned long v = 0;
    int nd = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (++nd > 9)
            return 0;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (nd == 0 || strcasecmp(p, ".csv") != 0)
        return 0;
    *num = v;
    return 1;
}

int acq_file_series_scan_dir(const char *dir, acq_file_series *out, FILE *log, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno ? errno : EIO;
        return fail(err, errlen, -e, "cannot open the directory: %s", strerror(e));
    }
    struct list ims = {0}, acc = {0}, tmp = {0};
    size_t entries = 0, bad_names = 0;
    size_t dirlen = strlen(dir);
    while (dirlen > 1 && dir[dirlen - 1] == '/')
        dirlen--;
    int rc = 0;
    for (;;) {
        errno = 0; /* readdir's only way to tell an error from the end */
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno)
                rc = -errno;
            break;
        }
        const char *name = de->d_name;
        if (name[0] == '.')
            continue; /* ".", "..", and hidden files an editor or a copy tool left */
        entries++;
        unsigned long num = 0;
        int is_ims = ims_shaped(name), is_acc = !is_ims && numbered(name, "acc_", &num),
            is_temp = !is_ims && !is_acc && numbered(name, "temp_", &num);
        if (!is_ims && !is_acc && !is_temp)
            continue;
        char *path = join(dir, dirlen, name);
        struct stat st;
        if (!path) {
            rc = -ENOMEM;
            break;
        }
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        int64_t t = 0;
        if (is_ims && acq_file_parse_ims_name(name, &t) != 0) {
            if (log)
                fprintf(log, "file: %s: ignored: named like an IMS snapshot, but not a real date and time\n", path);
            free(path);
            bad_names++;
            continue;
        }
        rc = push(is_ims ? &ims : is_acc ? &acc : &tmp, path, t, num);
        if (rc < 0)
            break;
    }
    closedir(d);
    if (rc == -E2BIG) {
        rc = fail(err, errlen, rc, "more than %u snapshot files: split the series into several directories",
                  ACQ_FILE_SERIES_MAX);
    } else if (rc < 0) {
        rc = fail(err, errlen, rc, "cannot list the directory: %s", strerror(-rc));
    } else if (entries == 0) {
        rc = fail(err, errlen, -ENOENT, "empty directory (expected IMS snapshots named YYYY.MM.DD.hh.mm.ss or "
                  "PRONOSTIA acc_NNNNN.csv files)");
    } else if (ims.n > 0 && acc.n > 0) {
        rc = fail(err, errlen, -EINVAL, "the directory holds both IMS snapshots (%zu) and PRONOSTIA acc_ files "
                  "(%zu): give one series per source", ims.n, acc.n);
    } else if (ims.n == 0 && acc.n == 0) {
        rc = fail(err, errlen, -ENOENT, "no recognisable files (%zu entr%s%s): expected IMS snapshots named "
                  "YYYY.MM.DD.hh.mm.ss or PRONOSTIA acc_NNNNN.csv; for other series write a manifest "
                  "(a CSV with the header \"time,file\")", entries, entries == 1 ? "y" : "ies",
                  tmp.n ? ", temp_ files without acc_ files" : bad_names ? ", IMS-like names with impossible "
                  "dates" : "");
    }
    if (rc < 0) {
        list_free(&ims);
        list_free(&acc);
        list_free(&tmp);
        return rc;
    }
    if (ims.n > 0) {
        qsort(ims.e, ims.n, sizeof *ims.e, by_time);
        out->kind = ACQ_FILE_IMS;
        out->e = ims.e;
        out->n = ims.n;
        list_free(&tmp); /* temp_ files mean nothing beside IMS snapshots */
    } else {
        qsort(acc.e, acc.n, sizeof *acc.e, by_number);
        if (tmp.n)
            qsort(tmp.e, tmp.n, sizeof *tmp.e, by_number);
        out->kind = ACQ_FILE_PRONOSTIA;
        out->e = acc.e;
        out->n = acc.n;
        out->temp = tmp.e;
        out->ntemp = tmp.n;
    }
    return 0;
}

/* ---- manifests ------------------------------------------------------------------------- */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = 0;
    return s;
}

static char *unquote(char *s)
{
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s[n - 1] = 0;
        return trim(s + 1);
    }
    return s;
}

/* Reads one line without "\n"/"\r\n" into buf (cap ACQ_FILE_MANIFEST_LINE + 2). 1: a line,
 * 0: end of file, -E2BIG: longer than ACQ_FILE_MANIFEST_LINE, -EIO. */
static int read_line(FILE *fp, char *buf, unsigned long lineno)
{
    if (!fgets(buf, ACQ_FILE_MANIFEST_LINE + 2, fp))
        return ferror(fp) ? -EIO : 0;
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = 0;
    else if (!feof(fp))
        return -E2BIG;
    if (n > 0 && buf[n - 1] == '\r')
        buf[--n] = 0;
    if (lineno == 1 && n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        memmove(buf, buf + 3, n - 2);
    return 1;
}

static int is_header(char *line)
{
    char *comma = strchr(line, ',');
    if (!comma)
        return 0;
    *comma = 0;
    int yes = strcasecmp(unquote(trim(line)), "time") == 0 && strcasecmp(unquote(trim(comma + 1)), "file") == 0;
    *comma = ',';
    return yes;
}

static int content(const char *line)
{
    while (*line == ' ' || *line == '\t')
        line++;
    return *line && *line != '#';
}

int acq_file_is_manifest(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -(errno ? errno : EIO);
    char *buf = malloc(ACQ_FILE_MANIFEST_LINE + 2);
    int rc = buf ? 0 : -ENOMEM;
    unsigned long lineno = 0;
    /* a handful of leading comment lines at most: a data file answers on its first line */
    while (rc == 0 && lineno < 64) {
        int r = read_line(fp, buf, ++lineno);
        if (r <= 0) {
            rc = r == -EIO ? -EIO : 0;
            break;
        }
        if (content(buf)) {
            rc = is_header(buf);
            break;
        }
    }
    free(buf);
    fclose(fp);
    return rc;
}

int acq_file_series_read_manifest(const char *path, acq_file_series *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int e = errno ? errno : EIO;
        return fail(err, errlen, -e, "cannot open the manifest: %s", strerror(e));
    }
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) : 0;
    if (slash && dirlen == 0)
        dirlen = 1; /* "/m.csv": the folder is "/" */
    char *line = malloc(ACQ_FILE_MANIFEST_LINE + 2);
    struct list l = {0};
    unsigned long lineno = 0;
    int header = 0, rc = line ? 0 : -ENOMEM;
    while (rc == 0) {
        int r = read_line(fp, line, ++lineno);
        if (r == 0)
            break;
        if (r == -E2BIG) {
            rc = fail(err, errlen, r, "manifest line %lu: longer than %u bytes", lineno, ACQ_FILE_MANIFEST_LINE);
            break;
        }
        if (r < 0) {
            rc = fail(err, errlen, r, "manifest line %lu: read error", lineno);
            break;
        }
        if (!content(line))
            continue;
        if (!header) {
            if (!is_header(line))
                rc = fail(err, errlen, -EINVAL, "manifest line %lu: expected the header \"time,file\"", lineno);
            header = 1;
            continue;
        }
        char *comma = strchr(line, ',');
        if (!comma) {
            rc = fail(err, errlen, -EINVAL, "manifest line %lu: expected TIME,FILE", lineno);
            break;
        }
        *comma = 0;
        char *ts = unquote(trim(line)), *name = unquote(trim(comma + 1));
        int64_t t;
        if (acq_file_parse_iso8601(ts, &t, NULL) != 0) {
            rc = fail(err, errlen, -EINVAL, "manifest line %lu: bad time \"%.64s\": expected ISO 8601 with a zone, "
                      "e.g. 2024-03-01T12:00:00Z or 2024-03-01T13:00:00+01:00", lineno, ts);
            break;
        }
        if (!*name) {
            rc = fail(err, errlen, -EINVAL, "manifest line %lu: no file name after the time", lineno);
            break;
        }
        char *full = join(path, dirlen, name);
        struct stat st;
        if (!full) {
            rc = fail(err, errlen, -ENOMEM, "out of memory");
            break;
        }
        int e = stat(full, &st) != 0 ? (errno ? errno : ENOENT) : S_ISREG(st.st_mode) ? 0 : EISDIR;
        if (e) {
            rc = fail(err, errlen, -e, "manifest line %lu: file \"%.200s\": %s%s%.200s%s", lineno, name,
                      e == EISDIR ? "not a regular file" : strerror(e), name[0] == '/' ? "" : " (",
                      name[0] == '/' ? "" : full, name[0] == '/' ? "" : ")");
            free(full);
            break;
        }
        rc = push(&l, full, t, lineno);
        if (rc == -E2BIG)
            rc = fail(err, errlen, rc, "manifest line %lu: more than %u entries", lineno, ACQ_FILE_SERIES_MAX);
        else if (rc < 0)
            rc = fail(err, errlen, rc, "out of memory");
    }
    fclose(fp);
    free(line);
    if (rc == 0 && !header)
        rc = fail(err, errlen, -EINVAL, "not a manifest: no \"time,file\" header");
    else if (rc == 0 && l.n == 0)
        rc = fail(err, errlen, -EINVAL, "the manifest lists no recordings");
    if (rc < 0) {
        list_free(&l);
        return rc;
    }
    qsort(l.e, l.n, sizeof *l.e, by_time);
    out->kind = ACQ_FILE_MANIFEST;
    out->e = l.e;
    out->n = l.n;
    return 0;
}

void acq_file_series_free(acq_file_series *s)
{
    if (!s)
        return;
    struct list a = {.e = s->e, .n = s->n}, b = {.e = s->temp, .n = s->ntemp};
    list_free(&a);
    list_free(&b);
    memset(s, 0, sizeof *s);
}
