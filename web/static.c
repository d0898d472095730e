/* web/static.c — the dashboard's files, read once at start into memory and served from there.
 *
 * Only regular files directly in the folder or in one level of sub-folders, with names of
 * [A-Za-z0-9._-] not starting with '.', are read; symbolic links are skipped. A request path is
 * compared with the names read, never used to open anything, so no spelling of "..", encoded
 * slashes or backslashes can reach another file. NAME.gz beside NAME is NAME's gzip variant.
 * Bounded: each file ≤ WEB_STATIC_FILE_MAX, all together ≤ WEB_STATIC_TOTAL_MAX (the start is
 * refused beyond). Read-only after load: any thread may look files up without a lock. */
#include "web/http_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATIC_MAX_FILES 1024

struct web_static {
    web_static_file *f;
    size_t n, cap;
    size_t total;
};

static int name_ok(const char *n)
{
    if (!n[0] || n[0] == '.')
        return 0;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
              *p == '_' || *p == '-'))
            return 0;
    return 1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

const char *web_static_type(const char *name)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".json", "application/json"},
        {".woff2", "font/woff2"},
        {".webmanifest", "application/manifest+json"},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (ends_with(name, types[i][0]))
            return types[i][1];
    return "application/octet-stream";
}

/* FNV-1a, 64 bits: a cache validator, not a security measure. */
static void make_etag(const unsigned char *d, size_t n, char *out, size_t cap)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= d[i];
        h *= 0x100000001b3ull;
    }
    h ^= n; /* the length too, so that equal hashes of different sizes still differ */
    snprintf(out, cap, "\"%016llx\"", (unsigned long long)h);
}

static int read_file(int dirfd, const char *name, const char *shown, size_t size, unsigned char **out,
                     char *err, size_t errlen)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "web.static: %s: %s", shown, strerror(e));
        return -e;
    }
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        snprintf(err, errlen, "web.static: %s: out of memory", shown);
        return -ENOMEM;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t k = read(fd, buf + got, size - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = k < 0 ? errno : EIO;
            free(buf);
            close(fd);
            snprintf(err, errlen, "web.static: %s: %s", shown, k < 0 ? strerror(e) : "the file got shorter while read");
            return -e;
        }
        got += (size_t)k;
    }
    close(fd);
    *out = buf;
    return 0;
}

static int add_file(web_static *st, int dirfd, const char *sub, const char *name, size_t size, char *err,
                    size_t errlen)
{
    char full[2 * 256 + 2];
    snprintf(full, sizeof full, "%s%s%s", sub ? sub : "", sub ? "/" : "", name);
    if (size > WEB_STATIC_FILE_MAX) {
        snprintf(err, errlen, "web.static: %s is %zu bytes, over the limit of %u MiB for one file", full, size,
                 WEB_STATIC_FILE_MAX >> 20);
        return -EFBIG;
    }
    if (st->total + size > WEB_STATIC_TOTAL_MAX) {
        snprintf(err, errlen, "web.static: the files add up to over %u MiB (at %s)", WEB_STATIC_TOTAL_MAX >> 20, full);
        return -EFBIG;
    }
    if (st->n == STATIC_MAX_FILES) {
        snprintf(err, errlen, "web.static: more than %d files", STATIC_MAX_FILES);
        return -EFBIG;
    }
    if (st->n == st->cap) {
        size_t cap = st->cap ? 2 * st->cap : 32;
        web_static_file *f = realloc(st->f, cap * sizeof *f);
        if (!f) {
            snprintf(err, errlen, "web.static: out of memory");
            return -ENOMEM;
        }
        st->f = f;
        st->cap = cap;
    }
    web_static_file *f = &st->f[st->n];
    memset(f, 0, sizeof *f);
    int rc = read_file(dirfd, name, full, size, &f->data, err, errlen);
    if (rc < 0)
        return rc;
    f->name = strdup(full);
    if (!f->name) {
        free(f->data);
        snprintf(err, errlen, "web.static: out of memory");
        return -ENOMEM;
    }
    f->len = size;
    st->total += size;
    st->n++;
    return 0;
}

/* Reads the files of dirfd (sub: the sub-folder's name, NULL at the top). */
static int scan(web_static *st, int dirfd, const char *sub, char *err, size_t errlen)
{
    int dfd = dup(dirfd);
    if (dfd < 0) {
        snprintf(err, errlen, "web.static: %s", strerror(errno));
        return -errno;
    }
    DIR *d = fdopendir(dfd);
    if (!d) {
        int e = errno;
        close(dfd);
        snprintf(err, errlen, "web.static: %s", strerror(e));
        return -e;
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (!name_ok(de->d_name) || strlen(de->d_name) > 255)
            continue;
        struct stat sb;
        if (fstatat(dirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (S_ISREG(sb.st_mode)) {
            rc = add_file(st, dirfd, sub, de->d_name, (size_t)sb.st_size, err, errlen);
        } else if (S_ISDIR(sb.st_mode) && !sub) {
            int cfd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
            if (cfd < 0)
                continue;
            rc = scan(st, cfd, de->d_name, err, errlen);
            close(cfd);
        }
    }
    closedir(d);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const web_static_file *)a)->name, ((const web_static_file *)b)->name);
}

static web_static_file *find_name(web_static *st, const char *name)
{
    web_static_file key = {.name = (char *)name};
    return bsearch(&key, st->f, st->n, sizeof *st->f, by_name);
}

int web_static_load(const char *dir, web_static **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!dir)
        return 0;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        if (errno == ENOENT)
            return 0;
        int e = errno;
        snprintf(err, errlen, "web.static: %s: %s", dir, strerror(e));
        return -e;
    }
    web_static *st = calloc(1, sizeof *st);
    if (!st) {
        close(dfd);
        snprintf(err, errlen, "web.static: out of memory");
        return -ENOMEM;
    }
    int rc = scan(st, dfd, NULL, err, errlen);
    close(dfd);
    if (rc < 0) {
        web_static_free(st);
        return rc;
    }
    qsort(st->f, st->n, sizeof *st->f, by_name);
    /* NAME.gz beside NAME becomes NAME's gzip variant and is not served on its own */
    size_t keep = 0;
    for (size_t i = 0; i < st->n; i++) {
        web_static_file *f = &st->f[i];
        size_t nl = strlen(f->name);
        if (nl > 3 && strcmp(f->name + nl - 3, ".gz") == 0) {
            char base[2 * 256 + 2];
            memcpy(base, f->name, nl - 3);
            base[nl - 3] = 0;
            web_static_file *b = find_name(st, base);
            if (b && !b->gz) {
                b->gz = f->data;
                b->gz_len = f->len;
                f->data = NULL;
                free(f->name);
                f->name = NULL;
                continue;
            }
        }
    }
    for (size_t i = 0; i < st->n; i++)
        if (st->f[i].name)
            st->f[keep++] = st->f[i];
    st->n = keep;
    for (size_t i = 0; i < st->n; i++) {
        web_static_file *f = &st->f[i];
        make_etag(f->data, f->len, f->etag, sizeof f->etag);
        if (f->gz)
            make_etag(f->gz, f->gz_len, f->gz_etag, sizeof f->gz_etag);
        f->type = web_static_type(f->name);
        const char *base = strrchr(f->name, '/');
        f->cache = strcmp(base ? base + 1 : f->name, "index.html") == 0 ? "no-cache" : "public, max-age=604800";
    }
    *out = st;
    return 0;
}

void web_static_free(web_static *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++) {
        free(st->f[i].name);
        free(st->f[i].data);
        free(st->f[i].gz);
    }
    free(st->f);
    free(st);
}

const web_static_file *web_static_find(const web_static *st, const char *path)
{
    if (!st || !path || path[0] != '/')
        return NULL;
    const char *name = path[1] ? path + 1 : "index.html";
    return find_name((web_static *)st, name);
}

/* ---- request headers -------------------------------------------------------------------------- */

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

int web_etag_match(const char *inm, const char *etag)
{
    if (!inm || !etag)
        return 0;
    size_t elen = strlen(etag);
    for (const char *p = inm; *p;) {
        p = skip_ows(p);
        size_t n = strcspn(p, ",");
        size_t t = n;
        while (t > 0 && (p[t - 1] == ' ' || p[t - 1] == '\t'))
            t--;
        if (t == 1 && p[0] == '*')
            return 1;
        const char *tag = p;
        if (t >= 2 && p[0] == 'W' && p[1] == '/') {
            tag += 2;
            t -= 2;
        }
        if (t == elen && memcmp(tag, etag, elen) == 0)
            return 1;
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

int web_accepts_gzip(const char *ae)
{
    if (!ae)
        return 0;
    for (const char *p = ae; *p;) {
        p = skip_ows(p);
        size_t n = strcspn(p, ",");
        size_t tok = strcspn(p, ",; \t");
        if (tok > n)
            tok = n;
        if ((tok == 4 && strncasecmp(p, "gzip", 4) == 0) || (tok == 6 && strncasecmp(p, "x-gzip", 6) == 0)) {
            /* refused only by an explicit q=0 (q=0, q=0.0, q=0.000) */
            for (const char *q = p + tok; q < p + n; q++) {
                if ((*q != 'q' && *q != 'Q') || q[1] != '=' || (q[-1] != ';' && q[-1] != ' ' && q[-1] != '\t'))
                    continue;
                const char *v = q + 2;
                size_t vl = strcspn(v, ",; \t");
                return !(vl > 0 && v[0] == '0' && strspn(v, "0.") == vl);
            }
            return 1;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}
