/* models/textfile.c — see textfile.h. */
#include "models/textfile.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *models_read_text(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    /* sized by seeking and bounded; a file that grows meanwhile is cut short and then fails to parse */
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (size < 0 || (unsigned long)size > max || fseek(f, 0, SEEK_SET) != 0) {
        if (size < 0)
            snprintf(err, errlen, "%s: cannot tell its size", path);
        else
            snprintf(err, errlen, "%s: larger than the %zu bytes such a file may be", path, max);
        fclose(f);
        return NULL;
    }
    char *buf = malloc((size_t)size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)size, f) : 0;
    bool rd_err = ferror(f);
    fclose(f);
    if (!buf || rd_err) {
        snprintf(err, errlen, "%s: %s", path, !buf ? "out of memory" : "read error");
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

int models_write_text(const char *path, const char *text, char *err, size_t errlen)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!tmp) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    int rc = 0;
    FILE *f = fopen(tmp, "w");
    if (!f) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    size_t n = strlen(text);
    bool ok = fwrite(text, 1, n, f) == n && fputc('\n', f) != EOF && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int e = errno;
    if (fclose(f) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (!ok) {
        rc = -(e ? e : EIO);
        snprintf(err, errlen, "%s: write failed: %s", tmp, strerror(e ? e : EIO));
        unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: rename to %s failed: %s", tmp, path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}
