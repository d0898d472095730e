/* Tests of acquisition/recording.h: WAV and CSV readers, the dispatcher and the float32 writer.
 * WAV files are built byte by byte here (independently of the reader's code), with sample values
 * whose full-scale meaning is exact (0x4000 in PCM16 is 0.5). Every error case checks a non-zero
 * return, a zeroed output and a message naming the file and the problem. The hostile-bytes tests
 * truncate and corrupt valid files with a fixed seed; they matter most under SANITIZE=1. */
#include "acquisition/recording.h"
#include "testlib.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ---- */

static unsigned long long rng = 88172645463325252ull;
static unsigned long long xrand(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

struct bytes {
    unsigned char b[8192];
    size_t n;
};

static void put(struct bytes *w, const void *p, size_t n)
{
    if (w->n + n > sizeof w->b) {
        t_fail_at(__FILE__, __LINE__, "test WAV buffer too small");
        return;
    }
    memcpy(w->b + w->n, p, n);
    w->n += n;
}
static void put_u(struct bytes *w, uint64_t v, int nbytes)
{
    unsigned char t[8];
    for (int i = 0; i < nbytes; i++)
        t[i] = (unsigned char)(v >> (8 * i));
    put(w, t, (size_t)nbytes);
}
static void put_chunk(struct bytes *w, const char *id, const void *p, uint32_t n)
{
    put(w, id, 4);
    put_u(w, n, 4);
    put(w, p, n);
    if (n & 1)
        put_u(w, 0, 1); /* RIFF pad byte */
}
static void wav_begin(struct bytes *w)
{
    w->n = 0;
    put(w, "RIFF\0\0\0\0WAVE", 12);
}
static void wav_end(struct bytes *w)
{
    uint32_t s = (uint32_t)(w->n - 8);
    for (int i = 0; i < 4; i++)
        w->b[4 + i] = (unsigned char)(s >> (8 * i));
}
static void put_fmt(struct bytes *w, unsigned tag, unsigned nchan, uint32_t rate, unsigned bits, unsigned align)
{
    struct bytes f = {.n = 0};
    put_u(&f, tag, 2);
    put_u(&f, nchan, 2);
    put_u(&f, rate, 4);
    put_u(&f, (uint64_t)rate * align, 4);
    put_u(&f, align, 2);
    put_u(&f, bits, 2);
    put_chunk(w, "fmt ", f.b, (uint32_t)f.n);
}
static void put_fmt_ext(struct bytes *w, unsigned subtag, unsigned nchan, uint32_t rate, unsigned bits,
                        unsigned valid)
{
    static const unsigned char tail[14] = {0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71};
    struct bytes f = {.n = 0};
    put_u(&f, 0xFFFE, 2);
    put_u(&f, nchan, 2);
    put_u(&f, rate, 4);
    put_u(&f, (uint64_t)rate * nchan * bits / 8, 4);
    put_u(&f, nchan * bits / 8, 2);
    put_u(&f, bits, 2);
    put_u(&f, 22, 2);
    put_u(&f, valid, 2);
    put_u(&f, nchan == 1 ? 0x4 : 0x3, 4);
    put_u(&f, subtag, 2);
    put(&f, tail, sizeof tail);
    put_chunk(w, "fmt ", f.b, (uint32_t)f.n);
}

static const char *tpath(const char *name)
{
    static char paths[4][1024];
    static int k;
    char *p = paths[k++ & 3];
    snprintf(p, sizeof paths[0], "%s/%s", t_tmpdir(), name);
    return p;
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    T_CHECK(fp != NULL, "cannot create %s", path);
    if (!fp)
        return;
    T_CHECK(fwrite(p, 1, n, fp) == n, "short write to %s", path);
    fclose(fp);
}
static void write_text(const char *path, const char *text) { write_file(path, text, strlen(text)); }

static void check_err_at(int line, int rc, const acq_recording *r, const char *err, const char *path,
                         const char *word)
{
    if (rc >= 0)
        t_fail_at(__FILE__, line, "%s: expected an error about \"%s\", got rc %d", path, word, rc);
    else if (!strstr(err, path))
        t_fail_at(__FILE__, line, "message does not name the file: \"%s\"", err);
    else if (!strstr(err, word))
        t_fail_at(__FILE__, line, "message lacks \"%s\": \"%s\"", word, err);
    else if (r && (r->samples || r->nframes || r->nchan))
        t_fail_at(__FILE__, line, "output not zeroed after an error");
}
#define CHECK_ERR(rc, r, err, path, word) check_err_at(__LINE__, (rc), (r), (err), (path), (word))

static int read_wav_bytes(const char *name, const struct bytes *w, acq_recording *r, char *err, size_t errlen)
{
    const char *p = tpath(name);
    write_file(p, w->b, w->n);
    return acq_read_wav(p, r, err, errlen);
}

/* Expects WAV bytes to fail with a message containing word. */
#define WAV_ERR(name, w, word) do { acq_recording r_; char e_[256]; \
        int rc_ = read_wav_bytes((name), (w), &r_, e_, sizeof e_); \
        check_err_at(__LINE__, rc_, &r_, e_, tpath(name), (word)); acq_recording_free(&r_); } while (0)

/* ---- WAV formats ---- */

static void test_wav_pcm16_full_scale(void)
{
    const uint16_t raw[] = {0x4000, 0x8000, 0x7FFF, 0xC000, 0x0000, 0x0001};
    const float want[] = {0.5f, -1.0f, 32767.0f / 32768, -0.5f, 0.0f, 1.0f / 32768};
    struct bytes w, d = {.n = 0};
    for (size_t i = 0; i < 6; i++)
        put_u(&d, raw[i], 2);
    wav_begin(&w);
    put_fmt(&w, 1, 1, 48000, 16, 2);
    put_chunk(&w, "data", d.b, (uint32_t)d.n);
    wav_end(&w);
    acq_recording r;
    char err[256];
    int rc = read_wav_bytes("pcm16.wav", &w, &r, err, sizeof err);
    T_CHECK(rc == 0, "read: %s", err);
    T_CHECK(r.fs_hz == 48000 && r.nchan == 1 && r.nframes == 6, "fs %g, %u ch, %zu frames", r.fs_hz, r.nchan, r.nframes);
    for (size_t i = 0; rc == 0 && i < 6; i++)
        T_CHECK(r.samples[i] == want[i], "sample %zu: got %.9g, want %.9g", i, r.samples[i], want[i]);
    T_CHECK(strcmp(r.format, "WAV PCM 16-bit, 1 ch") == 0, "format \"%s\"", r.format);
    acq_recording_free(&r);
}

static void test_wav_pcm24_full_scale(void)
{
    const uint32_t raw[] = {0x400000, 0x800000, 0x7FFFFF, 0xFFFFFF, 0xC00000};
    const float want[] = {0.5f, -1.0f, 8388607.0f / 8388608, -1.0f / 8388608, -0.5f};
    struct bytes w, d = {.n = 0};
    for (size_t i = 0; i < 5; i++)
        put_u(&d, raw[i], 3);
    wav_begin(&w);
    put_fmt(&w, 1, 1, 12000, 24, 3);
    put_chunk(&w, "data", d.b, (uint32_t)d.n); /* 15 bytes: odd, padded */
    wav_end(&w);
    acq_recording r;
    char err[256];
    int rc = read_wav_bytes("pcm24.wav", &w, &r, err, sizeof err);
    T_CHECK(rc == 0 && r.nframes == 5, "read: rc %d %s", rc, err);
    for (size_t i = 0; rc == 0 && i < 5; i++)
        T_CHECK(r.samples[i] == want[i], "sample %zu: got %.9g, want %.9g", i, r.samples[i], want[i]);
    acq_recording_free(&r);
}

static void test_wav_pcm32_full_scale(void)
{
    const uint32_t raw[] = {0x40000000, 0x80000000, 0xFFFFFFFF, 0xE0000000, 0x00000100};
    const float want[] = {0.5f, -1.0f, -1.0f / 2147483648.0f, -0.25f, 256.0f / 2147483648.0f};
    struct bytes w, d = {.n = 0};
    for (size_t i = 0; i < 5; i++)
        put_u(&d, raw[i], 4);
    wav_begin(&w);
    put_fmt(&w, 1, 1, 25600, 32, 4);
    put_chunk(&w, "data", d.b, (uint32_t)d.n);
    wav_end(&w);
    acq_recording r;
    char err[256];
    int rc = read_wav_bytes("pcm32.wav", &w, &r, err, sizeof err);
    T_CHECK(rc == 0 && r.nframes == 5 && r.fs_hz == 25600, "read: rc %d %s", rc, err);
    for (size_t i = 0; rc == 0 && i < 5; i++)
        T_CHECK(r.samples[i] == want[i], "sample %zu: got %.9g, want %.9g", i, r.samples[i], want[i]);
    acq_recording_free(&r);
}

static void test_wav_float32_float64(void)
{
    const double vals[] = {0.5, -1.25, 3.0e-3, 1000.0, -0.0, 1e-40 /* float denormal */};
    struct bytes w, d32 = {.n = 0}, d64 = {.n = 0};
    for (size_t i = 0; i < 6; i++) {
        float f = (float)vals[i];
        uint32_t u;
        uint64_t v;
        memcpy(&u, &f, 4);
        memcpy(&v, &vals[i], 8);
        put_u(&d32, u, 4);
        put_u(&d64, v, 8);
    }
    acq_recording r;
    char err[256];
    wav_begin(&w);
    put_fmt(&w, 3, 1, 20000, 32, 4);
    put_chunk(&w, "data", d32.b, (uint32_t)d32.n);
    wav_end(&w);
    int rc = read_wav_bytes("f32.wav", &w, &r, err, sizeof err);
    T_CHECK(rc == 0 && r.nframes == 6, "float32: rc %d %s", rc, err);
    for (size_t i = 0; rc == 0 && i < 6; i++)
        T_CHECK(r.samples[i] == (float)vals[i], "float32 sample %zu: %.9g", i, r.samples[i]);
    T_CHECK(rc != 0 || strcmp(r.format, "WAV float32, 1 ch") == 0, "format \"%s\"", r.format);
    acq_recording_free(&r);

    wav_begin(&w);
    put_fmt(&w, 3, 1, 20000, 64, 8);
    put_chunk(&w, "data", d64.b, (uint32_t)d64.n);
    wav_end(&w);
    rc = read_wav_bytes("f64.wav", &w, &r, err, sizeof err);
    T_CHECK(rc == 0 && r.nframes == 6, "float64: rc %d %s", rc, err);
    for (size_t i = 0; rc == 0 && i < 6; i++)
        T_CHECK(r.samples[i] == (float)vals[i], "float64 sample %zu: %.9g", i, r.samples[i]);
    T_CHECK(rc != 0 || strcmp(r.format, "WAV float64, 1 ch") == 0, "format \"%s\"", r.format);
    acq_recording_free(&r);
}

static void test_wav_extensible(void)
{
    acq_recording r;
    char err[256];
    struct bytes w, d = {.n = 0};
    /* PCM 24-bit in a 32-bit container (left-justified): full scale is the container's. */
    put_u(&d, 0x40000000, 4);
    put_u(&d, 0xC0000000, 4);
    wav_begin(&w);
    put_fmt_ext(&w, 1, 2, 51200, 32, 24);
    put_chunk(&w, "data", d.b, (uint32_t)d.n);
    wav_end(&w);
    int rc = read_wav_bytes("ext_pcm.wav", &w, &r, err, sizeof err);
    T_CHECK(rc == 0 && r.nchan == 2 && r.nframes == 1, "extensible PCM: rc %d %s", rc, err);
    T_CHECK(rc != 0 || (r.samples[0] == 0.5f && r.samples[1] == -0.5f), "extensible PCM values");
    T_CHECK(rc != 0 || strstr(r.format, "extensible"), "format \"%s\"", r.format);
    acq_recording_free(&r);

    d.n = 0;
    float f[3] = {0.25f, -2.0f, 7.5f};
    for (int i = 0; i < 3; i++) {
        uint32_t u;
        memcpy(&u, &f[i], 4);
        put_u(&d, u, 4);
    }
    wav_begin(&w);
    put_fmt_ext(&w, 3, 1, 12000, 32, 32);
    put_chunk(&w, "data", d.b, (uint32_t)d.n);
    wav_end(&w);
    rc = read_wav_bytes("ext_float.wav", &w, &r, err, sizeof err);
    T_CHECK(rc == 0 && r.nframes == 3, "extensible float: rc %d %s", rc, err);
    for (int i = 0; rc == 0 && i < 3; i++)
        T_CHECK(r.samples[i] == f[i], "extensible float sample %d", i);
    acq_recording_free(&r);
}

static void test_wav_stereo_interleaving(void)
{
    struct bytes w, d = {.n = 0};
    for (int i = 0; i < 100; i++) {
        put_u(&d, (uint16_t)(i * 64), 2);            /* left: i/512 */
        put_u(&d, (uint16_t)(-(int16_t)(i * 128)), 2); /* right: -i/256 */
    }
    wav_begin(&w);
    put_fmt(&w, 1, 2, 8000, 16, 4);
    put_chunk(&w, "data", d.b, (uint32_t)d.n);
    wav_end(&w);
    acq_recording r;
    char err[256];
    int rc = read_wav_bytes("stereo.wav", &w, &r, err, sizeof err);
    T_CHECK(rc == 0 && r.nchan == 2 && r.nframes == 100, "rc %d %s", rc, err);
    for (size_t i = 0; rc == 0 && i < 100; i++) {
        T_CHECK(r.samples[2 * i] == (float)i / 512, "left %zu: %g", i, r.samples[2 * i]);
        T_CHECK(r.samples[2 * i + 1] == -(float)i / 256, "right %zu: %g", i, r.samples[2 * i + 1]);
    }
    acq_recording_free(&r);
}

/* An odd-sized LIST chunk (with its pad byte), a fact chunk and a trailing partial frame. */
static void test_wav_odd_list_chunk(void)
{
    struct bytes w, d = {.n = 0};
    put_u(&d, 0x2000, 2);
    put_u(&d, 0xE000, 2);
    put_u(&d, 0x77, 1); /* half a frame: ignored */
    wav_begin(&w);
    put_fmt(&w, 1, 1, 10000, 16, 2);
    put_chunk(&w, "LIST", "INFOIART\x01\0\0\0x", 13);
    put_chunk(&w, "fact", "\x02\0\0\0", 4);
    put_chunk(&w, "data", d.b, (uint32_t)d.n);
    wav_end(&w);
    acq_recording r;
    char err[256];
    int rc = read_wav_bytes("list.wav", &w, &r, err, sizeof err);
    T_CHECK(rc == 0 && r.nframes == 2, "rc %d %s (frames %zu)", rc, err, r.nframes);
    T_CHECK(rc != 0 || (r.samples[0] == 0.25f && r.samples[1] == -0.25f), "values after LIST");
    acq_recording_free(&r);
}

/* Chunks may come in any order: data before fmt is legal RIFF. */
static void test_wav_data_before_fmt(void)
{
    struct bytes w, d = {.n = 0};
    put_u(&d, 0x4000, 2);
    wav_begin(&w);
    put_chunk(&w, "data", d.b, (uint32_t)d.n);
    put_fmt(&w, 1, 1, 10000, 16, 2);
    wav_end(&w);
    acq_recording r;
    char err[256];
    int rc = read_wav_bytes("order.wav", &w, &r, err, sizeof err);
    T_CHECK(rc == 0 && r.nframes == 1 && r.samples[0] == 0.5f, "rc %d %s", rc, err);
    acq_recording_free(&r);
}

static void test_writer_roundtrip(void)
{
    const size_t nframes = 1000;
    const unsigned nchan = 3;
    float *x = malloc(nframes * nchan * sizeof *x);
    for (size_t i = 0; i < nframes * nchan; i++)
        x[i] = (float)((double)(xrand() >> 11) / 9007199254740992.0 * 2 - 1) * 10;
    x[0] = -0.0f;
    x[1] = FLT_MAX;
    x[2] = 1e-42f; /* denormal */
    const char *p = tpath("written.wav");
    char err[256];
    int rc = acq_write_wav_f32(p, x, nframes, nchan, 25600, err, sizeof err);
    T_CHECK(rc == 0, "write: %s", err);
    acq_recording r;
    rc = acq_read_wav(p, &r, err, sizeof err);
    T_CHECK(rc == 0, "read back: %s", err);
    T_CHECK(r.fs_hz == 25600 && r.nchan == nchan && r.nframes == nframes, "fs %g %u ch %zu frames", r.fs_hz,
            r.nchan, r.nframes);
    T_CHECK(rc != 0 || memcmp(r.samples, x, nframes * nchan * sizeof *x) == 0, "samples differ bitwise");
    T_CHECK(rc != 0 || strcmp(r.format, "WAV float32, 3 ch") == 0, "format \"%s\"", r.format);
    acq_recording_free(&r);
    FILE *fp = fopen(p, "rb");
    long size = -1;
    if (fp && fseek(fp, 0, SEEK_END) == 0)
        size = ftell(fp);
    if (fp)
        fclose(fp);
    T_CHECK(size == 58 + (long)(nframes * nchan * 4), "file size %ld", size);

    /* Writer errors. */
    rc = acq_write_wav_f32(p, x, nframes, 0, 25600, err, sizeof err);
    CHECK_ERR(rc, NULL, err, p, "channels");
    rc = acq_write_wav_f32(p, x, nframes, 65, 25600, err, sizeof err);
    CHECK_ERR(rc, NULL, err, p, "channels");
    rc = acq_write_wav_f32(p, x, nframes, 1, 0, err, sizeof err);
    CHECK_ERR(rc, NULL, err, p, "sample rate");
    rc = acq_write_wav_f32(p, x, nframes, 1, 12000.5, err, sizeof err);
    CHECK_ERR(rc, NULL, err, p, "whole number");
    rc = acq_write_wav_f32(p, x, nframes, 1, NAN, err, sizeof err);
    CHECK_ERR(rc, NULL, err, p, "sample rate");
    rc = acq_write_wav_f32(p, NULL, nframes, 1, 1000, err, sizeof err);
    CHECK_ERR(rc, NULL, err, p, "no samples");
    rc = acq_write_wav_f32(p, x, SIZE_MAX / 2, 4, 1000, err, sizeof err);
    CHECK_ERR(rc, NULL, err, p, "do not fit");
    const char *bad = tpath("no/such/dir/x.wav");
    rc = acq_write_wav_f32(bad, x, nframes, 1, 1000, err, sizeof err);
    CHECK_ERR(rc, NULL, err, bad, "cannot create");
    free(x);
}

/* ---- WAV errors ---- */

static void test_wav_err_not_wav(void)
{
    acq_recording r;
    char err[256];
    const char *p = tpath("missing.wav");
    int rc = acq_read_wav(p, &r, err, sizeof err);
    T_CHECK(rc == -ENOENT, "missing file: rc %d", rc);
    CHECK_ERR(rc, &r, err, p, "No such file");

    struct bytes w = {.n = 0};
    WAV_ERR("empty.wav", &w, "empty");
    put(&w, "RIFF\x10\0\0\0WAV", 11);
    WAV_ERR("short_header.wav", &w, "truncated RIFF header");
    w.n = 0;
    put(&w, "ID3\x03\0\0\0\0\0\0\0\0\0\0\0\0", 16);
    WAV_ERR("mp3.wav", &w, "not a RIFF/WAVE");
    w.n = 0;
    put(&w, "RIFF\x04\0\0\0AVI LIST\0\0\0\0", 20);
    WAV_ERR("avi.wav", &w, "AVI");
    w.n = 0;
    put(&w, "RIFX\0\0\0\x04WAVE", 12);
    WAV_ERR("rifx.wav", &w, "RIFX");
    p = t_tmpdir();
    rc = acq_read_wav(p, &r, err, sizeof err);
    CHECK_ERR(rc, &r, err, p, "not a regular file");
}

static void test_wav_err_chunks(void)
{
    struct bytes w, d = {.n = 0};
    put_u(&d, 0x1234, 2);
    wav_begin(&w);
    put_chunk(&w, "data", d.b, 2);
    wav_end(&w);
    WAV_ERR("nofmt.wav", &w, "no fmt chunk");

    wav_begin(&w);
    put_fmt(&w, 1, 1, 8000, 16, 2);
    put_chunk(&w, "LIST", "abc", 3);
    wav_end(&w);
    WAV_ERR("nodata.wav", &w, "no data chunk");

    /* The data chunk claims more than the file has: the message gives both numbers. */
    wav_begin(&w);
    put_fmt(&w, 1, 1, 8000, 16, 2);
    put(&w, "data", 4);
    put_u(&w, 1000, 4);
    put(&w, "0123456789", 10);
    wav_end(&w);
    WAV_ERR("trunc_data.wav", &w, "truncated data chunk: header says 1000 bytes, file has 10");

    wav_begin(&w);
    put(&w, "fmt ", 4);
    put_u(&w, 16, 4);
    put(&w, "\x01\0\x01\0", 4);
    wav_end(&w);
    WAV_ERR("trunc_fmt.wav", &w, "truncated fmt chunk");

    wav_begin(&w);
    put_fmt(&w, 1, 1, 8000, 16, 2);
    put(&w, "dat", 3);
    WAV_ERR("trunc_chunk_header.wav", &w, "truncated chunk header");

    wav_begin(&w);
    put_fmt(&w, 1, 1, 8000, 16, 2);
    put(&w, "LIST", 4);
    put_u(&w, 0xFFFFFFF0u, 4); /* hostile size: must not be skipped past or allocated */
    put(&w, "xx", 2);
    WAV_ERR("trunc_list.wav", &w, "truncated LIST chunk");

    wav_begin(&w);
    put_chunk(&w, "fmt ", "\x01\0\x01\0\x40\x1f\0\0", 8);
    put_chunk(&w, "data", d.b, 2);
    wav_end(&w);
    WAV_ERR("short_fmt.wav", &w, "fmt chunk too short");
}

static void test_wav_err_format(void)
{
    struct bytes w, d = {.n = 0};
    put_u(&d, 0, 8);
    struct { const char *name, *word; unsigned tag, nchan, rate, bits, align; } cases[] = {
        {"adpcm.wav", "format tag 0x0002 (MS ADPCM)", 2, 1, 8000, 4, 1},
        {"pcm8.wav", "unsupported bit depth: PCM 8-bit", 1, 1, 8000, 8, 1},
        {"pcm12.wav", "unsupported bit depth: PCM 12-bit", 1, 1, 8000, 12, 2},
        {"float16.wav", "unsupported bit depth: float 16-bit", 3, 1, 8000, 16, 2},
        {"align.wav", "block align 3 is inconsistent", 1, 2, 8000, 16, 3},
        {"zero_ch.wav", "zero channels", 1, 0, 8000, 16, 0},
        {"zero_rate.wav", "sample rate of zero", 1, 1, 0, 16, 2},
        {"many_ch.wav", "65 channels", 1, 65, 8000, 16, 130},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wav_begin(&w);
        put_fmt(&w, cases[i].tag, cases[i].nchan, cases[i].rate, cases[i].bits, cases[i].align);
        put_chunk(&w, "data", d.b, (uint32_t)d.n);
        wav_end(&w);
        WAV_ERR(cases[i].name, &w, cases[i].word);
    }
    /* Extensible with an unknown SubFormat GUID, and cut short. */
    wav_begin(&w);
    put_fmt_ext(&w, 1, 1, 8000, 16, 16);
    put_chunk(&w, "data", d.b, (uint32_t)d.n);
    wav_end(&w);
    w.b[12 + 8 + 26] ^= 0xFF;
    WAV_ERR("ext_guid.wav", &w, "sub-format");
    wav_begin(&w);
    put_chunk(&w, "fmt ", "\xFE\xFF\x01\0\x40\x1f\0\0\x80\x3e\0\0\x02\0\x10\0\x16\0", 18);
    put_chunk(&w, "data", d.b, (uint32_t)d.n);
    wav_end(&w);
    WAV_ERR("ext_short.wav", &w, "truncated extensible fmt");
    wav_begin(&w);
    put_fmt_ext(&w, 2, 1, 8000, 16, 16);
    put_chunk(&w, "data", d.b, (uint32_t)d.n);
    wav_end(&w);
    WAV_ERR("ext_adpcm.wav", &w, "0x0002");
}

static void put_f32(struct bytes *d, float f) { uint32_t u; memcpy(&u, &f, 4); put_u(d, u, 4); }

static void test_wav_err_samples(void)
{
    struct bytes w, d = {.n = 0};
    wav_begin(&w);
    put_fmt(&w, 1, 2, 8000, 16, 4);
    put_chunk(&w, "data", "\x01\x02\x03", 3); /* less than one frame */
    wav_end(&w);
    WAV_ERR("zero_samples.wav", &w, "zero samples");

    /* Stereo float32, NaN at sample index 2 of channel 2 (1-based, as CSV columns are). */
    for (int i = 0; i < 4; i++) {
        put_f32(&d, 0.5f);
        put_f32(&d, i == 2 ? NAN : 0.25f);
    }
    wav_begin(&w);
    put_fmt(&w, 3, 2, 1000, 32, 8);
    put_chunk(&w, "data", d.b, (uint32_t)d.n);
    wav_end(&w);
    WAV_ERR("nan.wav", &w, "NaN at sample index 2 (0.002000 s), channel 2 of 2");

    d.n = 0;
    put_f32(&d, 1.0f);
    put_f32(&d, -INFINITY);
    wav_begin(&w);
    put_fmt(&w, 3, 1, 1000, 32, 4);
    put_chunk(&w, "data", d.b, (uint32_t)d.n);
    wav_end(&w);
    WAV_ERR("inf.wav", &w, "-Inf at sample index 1");

    d.n = 0;
    double big = 1e300;
    uint64_t u;
    memcpy(&u, &big, 8);
    put_u(&d, u, 8);
    wav_begin(&w);
    put_fmt(&w, 3, 1, 1000, 64, 8);
    put_chunk(&w, "data", d.b, (uint32_t)d.n);
    wav_end(&w);
    WAV_ERR("f64_range.wav", &w, "out of float32 range at sample index 0");
}

/* A sparse file whose data chunk is real but decodes to more than 2 GiB of floats. */
static void test_wav_err_too_large(void)
{
    struct bytes w;
    const uint32_t data_size = 0x50000000u; /* 1.25 GiB of PCM16 → 2.5 GiB of float */
    wav_begin(&w);
    put_fmt(&w, 1, 1, 8000, 16, 2);
    put(&w, "data", 4);
    put_u(&w, data_size, 4);
    wav_end(&w);
    const char *p = tpath("huge.wav");
    write_file(p, w.b, w.n);
    if (truncate(p, (off_t)(w.n + data_size)) != 0) {
        t_skip("cannot make a sparse 1.25 GiB file in %s", t_tmpdir());
        remove(p);
        return;
    }
    acq_recording r;
    char err[256];
    int rc = acq_read_wav(p, &r, err, sizeof err);
    T_CHECK(rc == -EFBIG, "rc %d", rc);
    CHECK_ERR(rc, &r, err, p, "too large");
    remove(p);
}

/* ---- hostile bytes ---- */

static void check_clean(const char *p, int rc, const acq_recording *r, const char *err, const char *what,
                        size_t arg)
{
    if (rc == 0) {
        int ok = r->samples && r->nframes > 0 && r->nchan >= 1 && r->nchan <= 64 && r->fs_hz > 0;
        for (size_t i = 0; ok && i < r->nframes * r->nchan; i++)
            ok = isfinite(r->samples[i]);
        T_CHECK(ok, "%s %zu: success with an invalid recording", what, arg);
    } else {
        T_CHECK(rc < 0 && strstr(err, p) && !r->samples, "%s %zu: unclean failure rc %d \"%s\"", what, arg, rc, err);
    }
}

static void hostile_wav(const struct bytes *base, size_t header_len, int cases)
{
    const char *p = tpath("hostile.wav");
    acq_recording r;
    char err[256];
    for (size_t len = 0; len <= base->n; len++) {
        write_file(p, base->b, len);
        int rc = acq_read_wav(p, &r, err, sizeof err);
        check_clean(p, rc, &r, err, "truncated at", len);
        T_CHECK((rc == 0) == (len == base->n), "truncated at %zu: rc %d \"%s\"", len, rc, err);
        acq_recording_free(&r);
    }
    struct bytes w;
    for (int k = 0; k < cases; k++) {
        w = *base;
        int flips = 1 + (int)(xrand() % 3);
        for (int j = 0; j < flips; j++) {
            size_t pos = xrand() % header_len;
            unsigned v = (unsigned)(xrand() & 0xFF);
            /* Half the time a value that makes sizes extreme or zero. */
            w.b[pos] = (unsigned char)(xrand() & 1 ? v : (v & 1 ? 0xFF : 0x00));
        }
        write_file(p, w.b, w.n);
        int rc = acq_read_wav(p, &r, err, sizeof err);
        check_clean(p, rc, &r, err, "corruption case", (size_t)k);
        acq_recording_free(&r);
    }
}

static void test_hostile_wav_bytes(void)
{
    struct bytes w, d = {.n = 0};
    /* Extensible PCM24 stereo with LIST and fact before data. */
    for (int i = 0; i < 16; i++)
        put_u(&d, (uint32_t)(i * 40000), 3);
    wav_begin(&w);
    put_fmt_ext(&w, 1, 2, 48000, 24, 24);
    put_chunk(&w, "LIST", "INFOISFT\x03\0\0\0ab", 15);
    put_chunk(&w, "fact", "\x08\0\0\0", 4);
    size_t header_len = w.n + 8;
    put_chunk(&w, "data", d.b, (uint32_t)d.n);
    wav_end(&w);
    hostile_wav(&w, header_len, 2000);

    /* The writer's float32 layout (fmt 18 + fact), as the CWRU files have. */
    float x[24];
    for (int i = 0; i < 24; i++)
        x[i] = (float)i / 7;
    const char *p = tpath("hostile_base.wav");
    char err[256];
    T_CHECK(acq_write_wav_f32(p, x, 12, 2, 12000, err, sizeof err) == 0, "write: %s", err);
    FILE *fp = fopen(p, "rb");
    w.n = fp ? fread(w.b, 1, sizeof w.b, fp) : 0;
    if (fp)
        fclose(fp);
    T_CHECK(w.n == 58 + 96, "base size %zu", w.n);
    hostile_wav(&w, 58, 2000);
}

static void test_hostile_csv_bytes(void)
{
    static const char base[] = "# rig 3\r\ntime;x;y\r\n0;1.5;-2\r\n0.1;2e-3;4\r\n\r\n0.2;\"5\";6\r\n";
    static const char alphabet[] = ",;\t\n\r#\"e-.+0 9nai\0\xff";
    const char *p = tpath("hostile.csv");
    acq_recording r;
    char err[256];
    char w[sizeof base];
    for (int k = 0; k < 2000; k++) {
        memcpy(w, base, sizeof base);
        int flips = 1 + (int)(xrand() % 4);
        for (int j = 0; j < flips; j++)
            w[xrand() % (sizeof base - 1)] = alphabet[xrand() % (sizeof alphabet - 1)];
        size_t len = xrand() % sizeof base;
        write_file(p, w, len);
        int rc = acq_read_csv(p, 1000, &r, err, sizeof err);
        check_clean(p, rc, &r, err, "CSV corruption case", (size_t)k);
        acq_recording_free(&r);
    }
}

/* ---- CSV ---- */

static void expect_csv(const char *name, const char *text, unsigned nchan, size_t nframes, const float *want,
                       const char *format)
{
    const char *p = tpath(name);
    write_text(p, text);
    acq_recording r;
    char err[256];
    int rc = acq_read_csv(p, 25600, &r, err, sizeof err);
    if (rc != 0) {
        t_fail_at(__FILE__, __LINE__, "%s: rc %d: %s", name, rc, err);
        return;
    }
    T_CHECK(r.fs_hz == 25600 && r.nchan == nchan && r.nframes == nframes, "%s: %u ch, %zu frames", name,
            r.nchan, r.nframes);
    for (size_t i = 0; r.nchan == nchan && r.nframes == nframes && i < nframes * nchan; i++)
        T_CHECK(r.samples[i] == want[i], "%s: value %zu: got %g, want %g", name, i, r.samples[i], want[i]);
    T_CHECK(strcmp(r.format, format) == 0, "%s: format \"%s\"", name, r.format);
    acq_recording_free(&r);
}

static void test_csv_variants(void)
{
    const float three[] = {0, 1.5f, -2, 0.125f, 1000, 4, 0.25f, 5, -0.5f};
    expect_csv("header.csv", "time,x,y\n0,1.5,-2\n0.125,1e3,4\n0.25,5,-0.5\n", 3, 3, three, "CSV, 3 columns");
    expect_csv("semi.csv", "0;1.5;-2\n0.125;1000;4\n0.25;5;-0.5\n", 3, 3, three, "CSV (';'), 3 columns");
    expect_csv("tab.txt", "t\tx\ty\n0\t1.5\t-2\n0.125\t1000\t4\n0.25\t5\t-0.5", 3, 3, three, "CSV (tab), 3 columns");
    expect_csv("crlf.csv", "a,b,c\r\n0,1.5,-2\r\n0.125,1000,4\r\n0.25,5,-0.5\r\n", 3, 3, three, "CSV, 3 columns");
    expect_csv("comments.csv", "# exported by rig 3\n\n#t,x,y\n  \n0, 1.5 ,-2\n# mid comment\n0.125,\t1000,4\n\n"
               "0.25,5,-0.5\n\n", 3, 3, three, "CSV, 3 columns");
    expect_csv("quoted.csv", "\xEF\xBB\xBF\"t\",\"x\",\"y\"\n\"0\",\"1.5\",\"-2\"\n0.125, \"1000\" ,4\n0.25,5,-0.5\n",
               3, 3, three, "CSV, 3 columns");
    const float one[] = {0.5f, -0.25f, 2};
    expect_csv("mono.csv", "accel_g\n0.5\n-0.25\n+2.0e0\n", 1, 3, one, "CSV, 1 column");
    /* A decimal comma (with ';' separators) is refused with a hint: the "C" locale wants '.'. */
    const char *p = tpath("decimal_comma.csv");
    write_text(p, "x;y\n1,5;2,5\n");
    acq_recording r;
    char err[256];
    int rc = acq_read_csv(p, 1000, &r, err, sizeof err);
    CHECK_ERR(rc, &r, err, p, ":2: column 1: not a number: \"1,5\" (a decimal comma?");
}

#define CSV_ERR(name, text, fs, word) do { const char *p_ = tpath(name); write_file(p_, (text), sizeof(text) - 1); \
        acq_recording r_; char e_[256]; int rc_ = acq_read_csv(p_, (fs), &r_, e_, sizeof e_); \
        check_err_at(__LINE__, rc_, &r_, e_, p_, (word)); acq_recording_free(&r_); } while (0)

static void test_csv_errors(void)
{
    CSV_ERR("nofs.csv", "1,2\n", 0, "--fs is required for CSV");
    CSV_ERR("nanfs.csv", "1,2\n", NAN, "--fs is required for CSV");
    CSV_ERR("abc.csv", "x,y\n1,2\n3,4\n5,abc\n", 1000, "abc.csv:4: column 2: not a number: \"abc\"");
    CSV_ERR("cols.csv", "1,2,3\n4,5,6\n# c\n7,8\n", 1000, ":4: 2 columns, expected 3 (as on line 1)");
    CSV_ERR("nan.csv", "1,2\n3,nan\n", 1000, ":2: column 2: NaN");
    CSV_ERR("inf.csv", "1,2\n-inf,3\n", 1000, ":2: column 1: -Inf");
    CSV_ERR("huge.csv", "1,1e999\n", 1000, ":1: column 2: value out of float32 range");
    CSV_ERR("f32range.csv", "1e39\n", 1000, ":1: column 1: value out of float32 range");
    CSV_ERR("empty_field.csv", "1,,3\n", 1000, ":1: column 2: empty field");
    CSV_ERR("header_only.csv", "# only names\nx,y\n\n", 1000, "no data rows");
    CSV_ERR("empty.csv", "", 1000, "no data rows");
    CSV_ERR("header_cols.csv", "a,b,c\n1,2\n", 1000, ":2: 2 columns, but the header on line 1 has 3 names");
    CSV_ERR("nul.csv", "1,2\n3\0,4\n", 1000, ":2: NUL byte");
    CSV_ERR("mixed_header.csv", "time,1\n", 1000, ":1: column 1: not a number: \"time\"");

    char wide[65 * 3 + 2];
    size_t n = 0;
    for (int i = 0; i < 65; i++)
        n += (size_t)snprintf(wide + n, sizeof wide - n, "%d,", i % 10);
    wide[n - 1] = '\n';
    const char *p = tpath("wide.csv");
    write_file(p, wide, n);
    acq_recording r;
    char err[256];
    int rc = acq_read_csv(p, 1000, &r, err, sizeof err);
    CHECK_ERR(rc, &r, err, p, ":1: 65 columns, at most 64");

    size_t len = ACQ_CSV_MAX_LINE + 100;
    char *longline = malloc(len + 8);
    memcpy(longline, "1\n2\n", 4);
    memset(longline + 4, '7', len);
    p = tpath("long.csv");
    write_file(p, longline, len + 4);
    rc = acq_read_csv(p, 1000, &r, err, sizeof err);
    CHECK_ERR(rc, &r, err, p, ":3: line longer than");
    free(longline);

    p = tpath("missing.csv");
    rc = acq_read_csv(p, 1000, &r, err, sizeof err);
    T_CHECK(rc == -ENOENT, "missing CSV: rc %d", rc);
    CHECK_ERR(rc, &r, err, p, "No such file");
}

/* ---- dispatch, free, real data ---- */

static void test_read_file_dispatch(void)
{
    float x[4] = {0.5f, -0.5f, 0.25f, 1};
    char err[256];
    acq_recording r;
    const char *names[] = {"wav_named.dat", "wav_named.csv", "plain.wav"};
    for (int i = 0; i < 3; i++) {
        const char *p = tpath(names[i]);
        T_CHECK(acq_write_wav_f32(p, x, 4, 1, 1000, err, sizeof err) == 0, "write %s", err);
        int rc = acq_read_file(p, 0, &r, err, sizeof err);
        T_CHECK(rc == 0 && r.nframes == 4 && r.fs_hz == 1000 && strstr(r.format, "WAV"), "%s: rc %d %s",
                names[i], rc, err);
        acq_recording_free(&r);
    }
    const char *p = tpath("UPPER.CSV");
    write_text(p, "1\n2\n");
    int rc = acq_read_file(p, 500, &r, err, sizeof err);
    T_CHECK(rc == 0 && r.nframes == 2 && r.fs_hz == 500, "%s: rc %d %s", p, rc, err);
    acq_recording_free(&r);
    p = tpath("snapshot.txt");
    write_text(p, "1\t2\n3\t4\n");
    rc = acq_read_file(p, 500, &r, err, sizeof err);
    T_CHECK(rc == 0 && r.nchan == 2, "%s: rc %d %s", p, rc, err);
    acq_recording_free(&r);
    rc = acq_read_file(p, 0, &r, err, sizeof err);
    CHECK_ERR(rc, &r, err, p, "--fs is required for CSV");
    /* Numeric text with no telling name (as the IMS raw files, named by time stamp) is CSV. */
    p = tpath("2003.10.22.12.06.24");
    write_text(p, "# snapshot\n-0.022\t-0.039\n.5\t+1\n");
    rc = acq_read_file(p, 20000, &r, err, sizeof err);
    T_CHECK(rc == 0 && r.nchan == 2 && r.nframes == 2 && r.samples[2] == 0.5f, "%s: rc %d %s", p, rc, err);
    acq_recording_free(&r);
    p = tpath("data.bin");
    write_file(p, "\x01\x02\x03 1,2\n", 9);
    rc = acq_read_file(p, 500, &r, err, sizeof err);
    CHECK_ERR(rc, &r, err, p, "not recognised");
    p = tpath("notes.log");
    write_text(p, "pump 3 was noisy today\n1,2\n");
    rc = acq_read_file(p, 500, &r, err, sizeof err);
    CHECK_ERR(rc, &r, err, p, "not recognised");
    p = tpath("empty.dat");
    write_text(p, "");
    rc = acq_read_file(p, 500, &r, err, sizeof err);
    CHECK_ERR(rc, &r, err, p, "not recognised");
    p = tpath("bad.wav");
    write_text(p, "hello");
    rc = acq_read_file(p, 500, &r, err, sizeof err);
    CHECK_ERR(rc, &r, err, p, "not a RIFF/WAVE");
    p = tpath("nothere.csv");
    rc = acq_read_file(p, 500, &r, err, sizeof err);
    T_CHECK(rc == -ENOENT, "missing: rc %d", rc);
    CHECK_ERR(rc, &r, err, p, "No such file");
}

static void test_free_is_safe(void)
{
    acq_recording_free(NULL);
    acq_recording r = {0};
    acq_recording_free(&r);
    float x[2] = {1, 2};
    char err[256];
    const char *p = tpath("free.wav");
    T_CHECK(acq_write_wav_f32(p, x, 2, 1, 1000, err, sizeof err) == 0, "write %s", err);
    T_CHECK(acq_read_wav(p, &r, err, sizeof err) == 0, "read %s", err);
    acq_recording_free(&r);
    acq_recording_free(&r);
    T_CHECK(r.samples == NULL && r.nframes == 0, "free must zero the struct");
    /* NULL / zero-length error buffers are allowed. */
    T_CHECK(acq_read_wav(tpath("nothing.wav"), &r, NULL, 0) == -ENOENT, "NULL err buffer");
    T_CHECK(acq_read_csv(p, 0, &r, err, 1) == -EINVAL && err[0] == 0, "1-byte err buffer");
}

static void test_cwru_105(void)
{
    const char *dir = t_data_dir("cwru");
    if (!dir)
        return;
    char p[1200];
    snprintf(p, sizeof p, "%s/105.wav", dir);
    acq_recording r;
    char err[256];
    int rc = acq_read_file(p, 0, &r, err, sizeof err);
    T_CHECK(rc == 0, "%s", err);
    T_CHECK(r.fs_hz == 12000 && r.nchan == 1 && r.nframes == 121265, "fs %g, %u ch, %zu frames", r.fs_hz,
            r.nchan, r.nframes);
    T_CHECK(rc != 0 || strcmp(r.format, "WAV float32, 1 ch") == 0, "format \"%s\"", r.format);
    /* Values in g from an accelerometer on a running motor: zero mean, RMS well under 10 g. */
    double sum = 0, sq = 0;
    for (size_t i = 0; rc == 0 && i < r.nframes; i++) {
        sum += r.samples[i];
        sq += (double)r.samples[i] * r.samples[i];
    }
    if (rc == 0) {
        double mean = sum / (double)r.nframes, rms = sqrt(sq / (double)r.nframes);
        T_CHECK(fabs(mean) < 0.1 * rms && rms > 0.01 && rms < 10, "mean %g, rms %g g", mean, rms);
    }
    acq_recording_free(&r);
}

/* Every CWRU record reads with the rate and length its index lists. */
static void test_cwru_all_match_index(void)
{
    const char *dir = t_data_dir("cwru");
    if (!dir)
        return;
    char p[1200], line[512];
    snprintf(p, sizeof p, "%s/index.csv", dir);
    FILE *idx = fopen(p, "r");
    if (!idx) {
        t_skip("no %s", p);
        return;
    }
    int nfiles = 0;
    while (fgets(line, sizeof line, idx)) {
        /* file,record,fs_hz,...: field 0 is the file, 2 the rate, 10 the samples (some are empty). */
        const char *field[13] = {0};
        int nf = 0;
        for (char *s = line; s && nf < 13; nf++) {
            field[nf] = s;
            s = strchr(s, ',');
            if (s)
                *s++ = 0;
        }
        if (nf < 11 || strcmp(field[0], "file") == 0)
            continue;
        const char *name = field[0];
        double fs = strtod(field[2], NULL);
        size_t samples = (size_t)strtoull(field[10], NULL, 10);
        snprintf(p, sizeof p, "%s/%s", dir, name);
        acq_recording r;
        char err[256];
        int rc = acq_read_file(p, 0, &r, err, sizeof err);
        T_CHECK(rc == 0 && r.fs_hz == fs && r.nframes == samples && r.nchan == 1, "%s: rc %d %s, fs %g, %zu",
                name, rc, err, r.fs_hz, r.nframes);
        acq_recording_free(&r);
        nfiles++;
    }
    fclose(idx);
    T_CHECK(nfiles > 0, "no records parsed from index.csv");
}

/* The IMS raw snapshots: tab-separated, 8 columns, 20480 rows, no extension. */
static void test_ims_raw_snapshot(void)
{
    const char *dir = t_data_dir("ims/test1_raw");
    if (!dir)
        return;
    char p[1200];
    snprintf(p, sizeof p, "%s/2003.10.22.12.06.24", dir);
    acq_recording r;
    char err[256];
    int rc = acq_read_file(p, 20000, &r, err, sizeof err);
    T_CHECK(rc == 0, "%s", err);
    T_CHECK(r.fs_hz == 20000 && r.nchan == 8 && r.nframes == 20480, "fs %g, %u ch, %zu frames", r.fs_hz,
            r.nchan, r.nframes);
    T_CHECK(rc != 0 || strcmp(r.format, "CSV (tab), 8 columns") == 0, "format \"%s\"", r.format);
    T_CHECK(rc != 0 || r.samples[0] == -0.022f, "first sample %g", rc == 0 ? r.samples[0] : 0);
    acq_recording_free(&r);
}

int main(void)
{
    T_RUN(test_wav_pcm16_full_scale);
    T_RUN(test_wav_pcm24_full_scale);
    T_RUN(test_wav_pcm32_full_scale);
    T_RUN(test_wav_float32_float64);
    T_RUN(test_wav_extensible);
    T_RUN(test_wav_stereo_interleaving);
    T_RUN(test_wav_odd_list_chunk);
    T_RUN(test_wav_data_before_fmt);
    T_RUN(test_writer_roundtrip);
    T_RUN(test_wav_err_not_wav);
    T_RUN(test_wav_err_chunks);
    T_RUN(test_wav_err_format);
    T_RUN(test_wav_err_samples);
    T_RUN(test_wav_err_too_large);
    T_RUN(test_hostile_wav_bytes);
    T_RUN(test_hostile_csv_bytes);
    T_RUN(test_csv_variants);
    T_RUN(test_csv_errors);
    T_RUN(test_read_file_dispatch);
    T_RUN(test_free_is_safe);
    T_RUN(test_cwru_105);
    T_RUN(test_cwru_all_match_index);
    T_RUN(test_ims_raw_snapshot);
    return t_done();
}
