/* acquisition/recording.c — picks a recording reader for a file, and frees recordings.
 *
 * Content wins over the name: a WAV file is recognised by its first bytes whatever it is called,
 * and only text formats (which have no magic) fall back to the extension.
 */
#include "acquisition/recording.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void acq_recording_free(acq_recording *r)
{
    if (!r)
        return;
    free(r->samples);
    memset(r, 0, sizeof *r);
}

/* Numeric text without a telling name (the IMS raw files are named by their time stamp, e.g.
 * "2003.10.22.12.06.24"): printable ASCII whose first content line starts with a number. Stricter
 * than "any text", so a stray README is still "not recognised" rather than a CSV error. */
static int looks_like_numeric_text(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((b[i] >= 0x20 && b[i] < 0x7f) || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
            return 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
            i++;
        if (i < n && b[i] != '#')
            break;
        while (i < n && b[i] != '\n') /* a comment line */
            i++;
    }
    if (i < n && b[i] == '"')
        i++;
    if (i < n && (b[i] == '-' || b[i] == '+'))
        i++;
    if (i < n && b[i] == '.')
        i++;
    return i < n && b[i] >= '0' && b[i] <= '9';
}

static int has_extension(const char *path, const char *ext)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    return dot && strcasecmp(dot, ext) == 0;
}

int acq_read_file(const char *path, double fs_hz, acq_recording *out, char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = 0;
    if (!out)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    if (!path) {
        if (err && errlen > 0)
            snprintf(err, errlen, "no file name given");
        return -EINVAL;
    }
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int e = errno ? errno : EIO;
        if (err && errlen > 0)
            snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        return -e;
    }
    unsigned char head[4096];
    size_t n = fread(head, 1, sizeof head, fp);
    fclose(fp);
    /* RIFX and RF64 go to the WAV reader too, which names them as unsupported. */
    if (n >= 4 && (memcmp(head, "RIFF", 4) == 0 || memcmp(head, "RIFX", 4) == 0 ||
                   memcmp(head, "RF64", 4) == 0))
        return acq_read_wav(path, out, err, errlen);
    if (has_extension(path, ".csv") || has_extension(path, ".txt") || looks_like_numeric_text(head, n))
        return acq_read_csv(path, fs_hz, out, err, errlen);
    if (has_extension(path, ".wav"))
        return acq_read_wav(path, out, err, errlen); /* says why it is not a valid WAV */
    if (err && errlen > 0)
        snprintf(err, errlen, "%s: format not recognised: not a WAV file (no RIFF header), not named "
                 ".csv or .txt, and not numeric text", path);
    return -EINVAL;
}
