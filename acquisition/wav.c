/* acquisition/wav.c — WAV reader and float32 writer (see recording.h).
 *
 * The reader walks the RIFF chunks with explicit little-endian byte decoding (no struct
 * overlays: the box's compilers may pad or align structs differently, and the file is untrusted).
 * Every chunk size is compared with the bytes the file really has before anything is read or
 * allocated, using 64-bit offsets, so a hostile size can neither over-read nor over-allocate.
 * The data chunk is decoded block by block straight into the float output, so the raw bytes are
 * never held whole. The RIFF size field is not trusted (streaming writers leave it 0 or stale):
 * the file's real size bounds every chunk. No global state; blocks only on file I/O.
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
#include <sys/stat.h>

/* The 14 bytes after the format code in a WAVE_FORMAT_EXTENSIBLE SubFormat GUID
 * (xxxxxxxx-0000-0010-8000-00aa00389b71, KSDATAFORMAT_SUBTYPE_*). */
static const unsigned char ksdataformat_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                                    0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

enum wav_kind { WAV_PCM16, WAV_PCM24, WAV_PCM32, WAV_F32, WAV_F64 };

struct wav_fmt {
    enum wav_kind kind;
    unsigned nchan;
    uint32_t rate_hz;
    unsigned block_align; /* bytes per frame */
    unsigned bits;
    int extensible;
};

__attribute__((format(printf, 5, 6)))
static int fail(char *err, size_t errlen, int rc, const char *path, const char *fmt, ...)
{
    if (err && errlen > 0) {
        int k = snprintf(err, errlen, "%s: ", path);
        if (k >= 0 && (size_t)k < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return rc;
}

static uint32_t rd_u16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void wr_u16(unsigned char *p, uint32_t v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void wr_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* A chunk id as printable text for messages: hostile ids may hold any byte. */
static const char *fourcc_text(const unsigned char *id, char out[17])
{
    char *o = out;
    for (int i = 0; i < 4; i++) {
        if (id[i] >= 0x20 && id[i] < 0x7f && id[i] != '"' && id[i] != '\\')
            *o++ = (char)id[i];
        else
            o += sprintf(o, "\\x%02x", id[i]);
    }
    /* "fmt " reads better in a sentence without its padding space. */
    while (o > out + 1 && o[-1] == ' ')
        o--;
    *o = 0;
    return out;
}

static const char *format_tag_name(uint32_t tag)
{
    switch (tag) {
    case 0x0002: return " (MS ADPCM)";
    case 0x0006: return " (A-law)";
    case 0x0007: return " (mu-law)";
    case 0x0011: return " (IMA ADPCM)";
    case 0x0055: return " (MP3)";
    default: return "";
    }
}

/* Validates the fmt chunk body b (n = min(chunk size, 40) bytes, size = the chunk's size). */
static int parse_fmt(const unsigned char *b, uint32_t size, struct wav_fmt *f, const char *path,
                     char *err, size_t errlen)
{
    if (size < 16)
        return fail(err, errlen, -EINVAL, path, "fmt chunk too short: %u bytes, need 16", (unsigned)size);
    uint32_t tag = rd_u16(b), nchan = rd_u16(b + 2), rate = rd_u32(b + 4);
    uint32_t align = rd_u16(b + 12), bits = rd_u16(b + 14);
    f->extensible = tag == 0xFFFE;
    if (f->extensible) {
        /* cbSize (22) + valid bits, channel mask and the 16-byte SubFormat GUID follow. */
        if (size < 40 || rd_u16(b + 16) < 22)
            return fail(err, errlen, -EINVAL, path, "truncated extensible fmt chunk: %u bytes, need 40",
                        (unsigned)size);
        if (memcmp(b + 26, ksdataformat_tail, sizeof ksdataformat_tail) != 0)
            return fail(err, errlen, -EINVAL, path, "unsupported extensible sub-format (not a PCM or "
                        "IEEE float GUID)");
        tag = rd_u16(b + 24);
        uint32_t valid = rd_u16(b + 18);
        if (valid > bits)
            return fail(err, errlen, -EINVAL, path, "inconsistent extensible fmt: %u valid bits in "
                        "%u-bit samples", (unsigned)valid, (unsigned)bits);
    }
    if (tag != 1 && tag != 3)
        return fail(err, errlen, -EINVAL, path, "unsupported WAV format tag 0x%04x%s%s; supported: PCM, "
                    "IEEE float", (unsigned)tag, format_tag_name(tag), f->extensible ? " in extensible" : "");
    if (nchan == 0)
        return fail(err, errlen, -EINVAL, path, "fmt chunk says zero channels");
    if (nchan > ACQ_RECORDING_MAX_CHANNELS)
        return fail(err, errlen, -EINVAL, path, "%u channels, at most %u are supported", (unsigned)nchan,
                    ACQ_RECORDING_MAX_CHANNELS);
    if (rate == 0)
        return fail(err, errlen, -EINVAL, path, "fmt chunk says a sample rate of zero");
    if (tag == 1 && bits == 16) f->kind = WAV_PCM16;
    else if (tag == 1 && bits == 24) f->kind = WAV_PCM24;
    else if (tag == 1 && bits == 32) f->kind = WAV_PCM32;
    else if (tag == 3 && bits == 32) f->kind = WAV_F32;
    else if (tag == 3 && bits == 64) f->kind = WAV_F64;
    else
        return fail(err, errlen, -EINVAL, path, "unsupported bit depth: %s %u-bit; supported: PCM 16/24/32-bit, "
                    "float 32/64-bit", tag == 1 ? "PCM" : "float", (unsigned)bits);
    if (align != nchan * (bits / 8))
        return fail(err, errlen, -EINVAL, path, "block align %u is inconsistent with %u channels of %u bits "
                    "(expected %u)", (unsigned)align, (unsigned)nchan, (unsigned)bits,
                    (unsigned)(nchan * (bits / 8)));
    f->nchan = nchan;
    f->rate_hz = rate;
    f->block_align = align;
    f->bits = bits;
    return 0;
}

/* Decodes n little-endian samples into dst. Returns the index of the first sample that is not a
 * finite float (its value in *bad), or n when all are. */
static size_t decode(enum wav_kind kind, const unsigned char *p, size_t n, float *dst, double *bad)
{
    switch (kind) {
    case WAV_PCM16:
        for (size_t i = 0; i < n; i++, p += 2)
            dst[i] = (float)((int32_t)(rd_u16(p) ^ 0x8000u) - 0x8000) * (1.0f / 32768.0f);
        return n;
    case WAV_PCM24:
        for (size_t i = 0; i < n; i++, p += 3) {
            uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
            dst[i] = (float)((int32_t)(u ^ 0x800000u) - 0x800000) * (1.0f / 8388608.0f);
        }
        return n;
    case WAV_PCM32:
        for (size_t i = 0; i < n; i++, p += 4)
            dst[i] = (float)((double)((int64_t)(rd_u32(p) ^ 0x80000000u) - 0x80000000) / 2147483648.0);
        return n;
    case WAV_F32:
        for (size_t i = 0; i < n; i++, p += 4) {
            uint32_t u = rd_u32(p);
            float v;
            memcpy(&v, &u, sizeof v);
            if (!isfinite(v)) {
                *bad = v;
                return i;
            }
            dst[i] = v;
        }
        return n;
    case WAV_F64:
        for (size_t i = 0; i < n; i++, p += 8) {
            uint64_t u = (uint64_t)rd_u32(p) | (uint64_t)rd_u32(p + 4) << 32;
            double v;
            memcpy(&v, &u, sizeof v);
            /* Checked before the conversion: a double beyond FLT_MAX has no float value. */
            if (!isfinite(v) || fabs(v) > FLT_MAX) {
                *bad = v;
                return i;
            }
            dst[i] = (float)v;
        }
        return n;
    }
    return 0;
}

static const char *kind_text(enum wav_kind k)
{
    static const char *const names[] = {"PCM 16-bit", "PCM 24-bit", "PCM 32-bit", "float32", "float64"};
    return names[k];
}

static int read_exact(FILE *fp, uint64_t off, void *buf, size_t n)
{
    if (off > INT64_MAX || fseeko(fp, (off_t)off, SEEK_SET) != 0)
        return -EIO;
    return fread(buf, 1, n, fp) == n ? 0 : -EIO;
}

/* Checks the RIFF/WAVE header; the first bytes decide which problem a person is told about. */
static int check_riff(FILE *fp, uint64_t fsize, const char *path, char *err, size_t errlen)
{
    unsigned char b[12];
    size_t n = fsize < 12 ? (size_t)fsize : 12;
    if (read_exact(fp, 0, b, n) != 0)
        return fail(err, errlen, -EIO, path, "read error in the RIFF header");
    if (n >= 4 && memcmp(b, "RIFX", 4) == 0)
        return fail(err, errlen, -EINVAL, path, "big-endian RIFX WAV is not supported");
    if (n >= 4 && memcmp(b, "RF64", 4) == 0)
        return fail(err, errlen, -EINVAL, path, "RF64 WAV (over 4 GiB) is not supported");
    if (n == 0)
        return fail(err, errlen, -EINVAL, path, "empty file, not a RIFF/WAVE file");
    if (memcmp(b, "RIFF", n < 4 ? n : 4) != 0)
        return fail(err, errlen, -EINVAL, path, "not a RIFF/WAVE file (no \"RIFF\" at the start)");
    if (n < 12)
        return fail(err, errlen, -EINVAL, path, "truncated RIFF header: file has %zu bytes, need 12", n);
    if (memcmp(b + 8, "WAVE", 4) != 0) {
        char t[17];
        return fail(err, errlen, -EINVAL, path, "not a RIFF/WAVE file: RIFF form type is \"%s\"",
                    fourcc_text(b + 8, t));
    }
    return 0;
}

/* Walks the chunks after the RIFF header until both fmt and data are found. */
static int find_chunks(FILE *fp, uint64_t fsize, struct wav_fmt *f, uint64_t *data_off,
                       uint32_t *data_size, const char *path, char *err, size_t errlen)
{
    int have_fmt = 0, have_data = 0;
    uint64_t pos = 12;
    while (!(have_fmt && have_data)) {
        if (pos >= fsize)
            return fail(err, errlen, -EINVAL, path, "no %s chunk", have_fmt ? "data" : "fmt");
        if (fsize - pos < 8)
            return fail(err, errlen, -EINVAL, path, "truncated chunk header at offset %llu: %llu bytes left, "
                        "need 8", (unsigned long long)pos, (unsigned long long)(fsize - pos));
        unsigned char h[8];
        if (read_exact(fp, pos, h, sizeof h) != 0)
            return fail(err, errlen, -EIO, path, "read error at offset %llu", (unsigned long long)pos);
        uint32_t size = rd_u32(h + 4);
        uint64_t body = pos + 8, avail = fsize - body;
        char t[17];
        if (size > avail)
            return fail(err, errlen, -EINVAL, path, "truncated %s chunk: header says %u bytes, file has %llu",
                        fourcc_text(h, t), (unsigned)size, (unsigned long long)avail);
        if (memcmp(h, "fmt ", 4) == 0 && !have_fmt) {
            unsigned char b[40] = {0};
            if (read_exact(fp, body, b, size < 40 ? size : 40) != 0)
                return fail(err, errlen, -EIO, path, "read error in the fmt chunk");
            int rc = parse_fmt(b, size, f, path, err, errlen);
            if (rc != 0)
                return rc;
            have_fmt = 1;
        } else if (memcmp(h, "data", 4) == 0 && !have_data) {
            *data_off = body;
            *data_size = size;
            have_data = 1;
        }
        pos = body + size + (size & 1u); /* RIFF pads odd-sized chunks to an even length */
    }
    return 0;
}

static int read_samples(FILE *fp, const struct wav_fmt *f, uint64_t data_off, acq_recording *r,
                        const char *path, char *err, size_t errlen)
{
    const size_t block_bytes = 65536;
    const size_t frames_per_block = block_bytes / f->block_align;
    unsigned char *buf = malloc(block_bytes);
    if (!buf)
        return fail(err, errlen, -ENOMEM, path, "out of memory for a read buffer");
    int rc = 0;
    if (data_off > INT64_MAX || fseeko(fp, (off_t)data_off, SEEK_SET) != 0)
        rc = fail(err, errlen, -EIO, path, "cannot seek to the data chunk");
    for (size_t done = 0; rc == 0 && done < r->nframes;) {
        size_t nf = r->nframes - done < frames_per_block ? r->nframes - done : frames_per_block;
        if (fread(buf, f->block_align, nf, fp) != nf) {
            rc = fail(err, errlen, -EIO, path, "read error in the data chunk at sample index %zu", done);
            break;
        }
        size_t ns = nf * f->nchan;
        double bad = 0;
        size_t k = decode(f->kind, buf, ns, r->samples + done * f->nchan, &bad);
        if (k < ns) {
            size_t frame = done + k / f->nchan;
            char what[64];
            if (isnan(bad))
                snprintf(what, sizeof what, "NaN");
            else if (isinf(bad))
                snprintf(what, sizeof what, "%sInf", bad < 0 ? "-" : "+");
            else
                snprintf(what, sizeof what, "value %g out of float32 range", bad);
            rc = fail(err, errlen, -EINVAL, path, "%s at sample index %zu (%.6f s), channel %zu of %u", what,
                      frame, (double)frame / f->rate_hz, k % f->nchan + 1, f->nchan);
        }
        done += nf;
    }
    free(buf);
    return rc;
}

int acq_read_wav(const char *path, acq_recording *out, char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = 0;
    if (!out)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    if (!path)
        return fail(err, errlen, -EINVAL, "(null)", "no file name given");
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int e = errno ? errno : EIO;
        return fail(err, errlen, -e, path, "cannot open: %s", strerror(e));
    }
    struct stat st;
    struct wav_fmt f = {0};
    uint64_t data_off = 0;
    uint32_t data_size = 0;
    int rc;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = fail(err, errlen, -EINVAL, path, "not a regular file");
        goto done;
    }
    uint64_t fsize = (uint64_t)st.st_size;
    if ((rc = check_riff(fp, fsize, path, err, errlen)) != 0 ||
        (rc = find_chunks(fp, fsize, &f, &data_off, &data_size, path, err, errlen)) != 0)
        goto done;
    size_t nframes = data_size / f.block_align;
    if (nframes == 0) {
        rc = fail(err, errlen, -EINVAL, path, "zero samples: data chunk is %u bytes, one frame is %u bytes",
                  (unsigned)data_size, f.block_align);
        goto done;
    }
    /* nframes * nchan < 2^32 * 64 cannot overflow 64 bits; the limit also keeps size_t safe. */
    uint64_t bytes = (uint64_t)nframes * f.nchan * sizeof(float);
    if (bytes > ACQ_RECORDING_MAX_BYTES || bytes > SIZE_MAX) {
        rc = fail(err, errlen, -EFBIG, path, "recording too large: %zu samples x %u channels need %llu MiB, "
                  "the limit is %llu MiB", nframes, f.nchan, (unsigned long long)(bytes >> 20),
                  ACQ_RECORDING_MAX_BYTES >> 20);
        goto done;
    }
    out->samples = malloc((size_t)bytes);
    if (!out->samples) {
        rc = fail(err, errlen, -ENOMEM, path, "out of memory for %llu MiB of samples",
                  (unsigned long long)(bytes >> 20));
        goto done;
    }
    out->nframes = nframes;
    out->nchan = f.nchan;
    out->fs_hz = f.rate_hz;
    snprintf(out->format, sizeof out->format, "WAV %s, %u ch%s", kind_text(f.kind), f.nchan,
             f.extensible ? " (extensible)" : "");
    rc = read_samples(fp, &f, data_off, out, path, err, errlen);
done:
    fclose(fp);
    if (rc != 0)
        acq_recording_free(out);
    return rc;
}

int acq_write_wav_f32(const char *path, const float *samples, size_t nframes, unsigned nchan,
                      double fs_hz, char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = 0;
    if (!path)
        return fail(err, errlen, -EINVAL, "(null)", "no file name given");
    if (nchan == 0 || nchan > ACQ_RECORDING_MAX_CHANNELS)
        return fail(err, errlen, -EINVAL, path, "cannot write %u channels: 1 to %u are supported", nchan,
                    ACQ_RECORDING_MAX_CHANNELS);
    if (!(fs_hz >= 1 && fs_hz <= UINT32_MAX) || fs_hz != floor(fs_hz))
        return fail(err, errlen, -EINVAL, path, "cannot write a sample rate of %g Hz: WAV stores a whole "
                    "number of Hz", fs_hz);
    const uint32_t block_align = nchan * 4, header = 58;
    if ((uint64_t)fs_hz * block_align > UINT32_MAX)
        return fail(err, errlen, -EINVAL, path, "sample rate %g Hz x %u channels is too high for WAV", fs_hz,
                    nchan);
    if (nframes > (UINT32_MAX - (header - 8)) / block_align)
        return fail(err, errlen, -EFBIG, path, "%zu frames x %u channels do not fit in a WAV file (4 GiB)",
                    nframes, nchan);
    if (nframes > 0 && !samples)
        return fail(err, errlen, -EINVAL, path, "no samples given");
    uint32_t data_size = (uint32_t)nframes * block_align;

    unsigned char h[58];
    memcpy(h, "RIFF", 4);
    wr_u32(h + 4, header - 8 + data_size);
    memcpy(h + 8, "WAVEfmt ", 8);
    wr_u32(h + 16, 18);
    wr_u16(h + 20, 3); /* IEEE float */
    wr_u16(h + 22, nchan);
    wr_u32(h + 24, (uint32_t)fs_hz);
    wr_u32(h + 28, (uint32_t)fs_hz * block_align);
    wr_u16(h + 32, block_align);
    wr_u16(h + 34, 32);
    wr_u16(h + 36, 0); /* cbSize: non-PCM formats carry it, and a fact chunk */
    memcpy(h + 38, "fact", 4);
    wr_u32(h + 42, 4);
    wr_u32(h + 46, (uint32_t)nframes);
    memcpy(h + 50, "data", 4);
    wr_u32(h + 54, data_size);

    FILE *fp = fopen(path, "wb");
    if (!fp) {
        int e = errno ? errno : EIO;
        return fail(err, errlen, -e, path, "cannot create: %s", strerror(e));
    }
    /* The first failing call's errno is the one worth reporting (e.g. ENOSPC). */
    int e = 0;
    if (fwrite(h, 1, sizeof h, fp) != sizeof h)
        e = errno ? errno : EIO;
    unsigned char buf[4096];
    size_t total = nframes * nchan;
    for (size_t i = 0; e == 0 && i < total;) {
        size_t n = 0;
        for (; n + 4 <= sizeof buf && i < total; n += 4, i++) {
            uint32_t u;
            memcpy(&u, &samples[i], sizeof u);
            wr_u32(buf + n, u);
        }
        if (fwrite(buf, 1, n, fp) != n)
            e = errno ? errno : EIO;
    }
    if (fclose(fp) != 0 && e == 0)
        e = errno ? errno : EIO;
    if (e != 0) {
        remove(path);
        return fail(err, errlen, -EIO, path, "write error: %s", strerror(e));
    }
    return 0;
}
