/* Tests of store/spool.h: FIFO order and release, persistence, kill -9 at random moments, corrupt
 * tails, the size bound (against a model of the documented rules, computed here), a full file
 * system, hostile files, and corruption found after open. The segment files are also read
 * directly, with a CRC-32 of the test's own, as the header describes them (the layout is the file
 * format). Every batch's content is a function of its id (its id, mixed, repeated), so a batch
 * read back is checked without keeping copies. */
#include "store/spool.h"
#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KIB 1024u
#define HDR 20u
#define EACH STORE_SPOOL_FSYNC_EACH

/* ---- helpers --------------------------------------------------------------------------------- */

static char *subdir(const char *name)
{
    static char path[8][600];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, sizeof path[0], "%s/%s", t_tmpdir(), name);
    return p;
}

static char *seg_path(const char *dir, uint64_t first_id)
{
    static char path[2][700];
    static int next;
    char *p = path[next++ % 2];
    snprintf(p, sizeof path[0], "%s/seg-%016llx.log", dir, (unsigned long long)first_id);
    return p;
}

static char *acked_path(const char *dir)
{
    static char path[700];
    snprintf(path, sizeof path, "%s/acked", dir);
    return path;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* The content of batch id: a word made from the id, repeated. */
static void fill(uint64_t id, uint8_t *buf, size_t len)
{
    uint64_t w = id * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(w >> (8 * (i % 8)));
}

static int content_ok(uint64_t id, const void *data, size_t len)
{
    uint64_t w = id * 0x9E3779B97F4A7C15ull + 1;
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++)
        if (p[i] != (uint8_t)(w >> (8 * (i % 8))))
            return 0;
    return 1;
}

/* A length from the id: 1..1500 bytes, every 7th 8..48 kB (several pages: a kill can tear it). */
static size_t kill_len(uint64_t id)
{
    uint64_t h = (id * 0x9E3779B97F4A7C15ull) >> 40;
    return id % 7 == 0 ? 8192 + h % 40000 : 1 + h % 1500;
}

static store_spool *open_or_fail(const char *dir, uint64_t max_bytes)
{
    char err[512] = "";
    store_spool *s = store_spool_open(dir, max_bytes, EACH, err, sizeof err);
    T_CHECK(s != NULL, "open %s: %s", dir, err);
    return s;
}

static store_spool_stats stats(const store_spool *s)
{
    store_spool_stats st;
    store_spool_stats_get(s, &st);
    return st;
}

static int append_id(store_spool *s, uint64_t id, size_t len)
{
    static uint8_t buf[1 << 20];
    char err[512] = "";
    uint64_t got = 0;
    if (len > sizeof buf)
        return -EINVAL;
    fill(id, buf, len);
    int rc = store_spool_append(s, buf, len, &got, err, sizeof err);
    T_CHECK(rc == 0, "append %llu (%zu bytes): %d %s", (unsigned long long)id, len, rc, err);
    T_CHECK(rc != 0 || got == id, "append: id %llu, expected %llu", (unsigned long long)got, (unsigned long long)id);
    return rc;
}

/* Peeks and checks that the oldest batch is `id` with `len` bytes of its content. */
static int peek_is(store_spool *s, uint64_t id, size_t len)
{
    uint64_t got = 0;
    void *d = NULL;
    size_t n = 0;
    int rc = store_spool_peek(s, &got, &d, &n);
    int ok = rc == 0 && got == id && n == len && content_ok(id, d, n);
    T_CHECK(ok, "peek: rc %d, id %llu (want %llu), %zu bytes (want %zu), content %s", rc, (unsigned long long)got,
            (unsigned long long)id, n, len, rc == 0 && content_ok(got, d, n) ? "ok" : "bad");
    free(d);
    return ok;
}

static int release_ok(store_spool *s, uint64_t id)
{
    char err[512] = "";
    int rc = store_spool_release(s, id, err, sizeof err);
    T_CHECK(rc == 0, "release %llu: %d %s", (unsigned long long)id, rc, err);
    return rc;
}

/* Reads every pending batch through the API (peek, check, release): they must be exactly `ids`,
 * in order, with lengths from len_of. */
static void drain_expect(store_spool *s, const uint64_t *ids, size_t n, size_t (*len_of)(uint64_t))
{
    for (size_t i = 0; i < n; i++) {
        if (!peek_is(s, ids[i], len_of(ids[i])) || release_ok(s, ids[i]) != 0) {
            T_CHECK(0, "drain stopped at the %zu-th of %zu", i, n);
            return;
        }
    }
    void *d = NULL;
    size_t len;
    uint64_t id;
    int rc = store_spool_peek(s, &id, &d, &len);
    T_CHECK(rc == -ENOENT, "after the last expected batch, peek gives %d (id %llu)", rc, (unsigned long long)id);
    free(d);
}

/* ---- an independent reader of the files ------------------------------------------------------ */

/* CRC-32 (IEEE, reflected, as zlib's crc32), bit by bit: not the spool's table. */
static uint32_t crc32_bits(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void wr64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* One record as the header lays it out. */
static size_t make_record(uint8_t *out, uint64_t id, const uint8_t *payload, uint32_t len)
{
    memcpy(out, "VWSP", 4);
    wr32(out + 4, len);
    wr64(out + 12, id);
    memcpy(out + HDR, payload, len);
    wr32(out + 8, crc32_bits(crc32_bits(0, out + 12, 8), payload, len));
    return HDR + len;
}

typedef struct disk_rec {
    uint64_t id;
    uint32_t len;
    int content;   /* content_ok */
    size_t seg;    /* the index of its segment file */
} disk_rec;

typedef struct disk_view {
    disk_rec *rec; /* every record of every segment, in file order */
    size_t n;
    uint64_t acked;  /* the acked file (0 when missing) */
    int acked_ok;    /* present and a decimal number */
    size_t segments;
    uint64_t bytes;  /* the segments' sizes */
    size_t bad;      /* segments with bytes after their last good record */
    int order_ok;    /* ids strictly increasing over all segments, consecutive inside one */
} disk_view;

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static disk_view read_disk(const char *dir)
{
    disk_view v = {.order_ok = 1};
    char path[800];
    FILE *f = fopen(acked_path(dir), "r");
    if (f) {
        unsigned long long a;
        char nl = 0;
        v.acked_ok = fscanf(f, "%llu%c", &a, &nl) == 2 && nl == '\n';
        v.acked = v.acked_ok ? a : 0;
        fclose(f);
    }
    DIR *d = opendir(dir);
    if (!d)
        return v;
    char *names[4096];
    size_t nn = 0;
    struct dirent *e;
    while ((e = readdir(d)) && nn < 4096)
        if (strncmp(e->d_name, "seg-", 4) == 0 && strlen(e->d_name) == 24 && strcmp(e->d_name + 20, ".log") == 0)
            names[nn++] = strdup(e->d_name);
    closedir(d);
    qsort(names, nn, sizeof *names, cmp_name);
    size_t cap = 1024;
    v.rec = malloc(cap * sizeof *v.rec);
    uint64_t prev = 0;
    for (size_t i = 0; i < nn; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        uint64_t id = strtoull(names[i] + 4, NULL, 16);
        FILE *sf = fopen(path, "rb");
        off_t size = file_size(path);
        uint8_t *buf = size > 0 ? malloc((size_t)size) : NULL;
        size_t got = buf && sf ? fread(buf, 1, (size_t)size, sf) : 0;
        if (sf)
            fclose(sf);
        v.segments++;
        v.bytes += size > 0 ? (uint64_t)size : 0;
        size_t off = 0;
        while (got - off >= HDR) {
            uint32_t len = rd32(buf + off + 4);
            if (memcmp(buf + off, "VWSP", 4) != 0 || len == 0 || len > got - off - HDR || rd64(buf + off + 12) != id ||
                crc32_bits(crc32_bits(0, buf + off + 12, 8), buf + off + HDR, len) != rd32(buf + off + 8))
                break;
            if (v.n == cap)
                v.rec = realloc(v.rec, (cap *= 2) * sizeof *v.rec);
            v.rec[v.n++] = (disk_rec){id, len, content_ok(id, buf + off + HDR, len), i};
            if (id <= prev)
                v.order_ok = 0;
            prev = id++;
            off += HDR + len;
        }
        if (off < got || got != (size_t)(size > 0 ? size : 0))
            v.bad++;
        free(buf);
        free(names[i]);
    }
    return v;
}

static void disk_free(disk_view *v) { free(v->rec); }

static uint64_t disk_max_id(const disk_view *v) { return v->n ? v->rec[v->n - 1].id : 0; }

/* ---- FIFO order, ids, release ---------------------------------------------------------------- */

static size_t small_len(uint64_t id) { return 1 + (size_t)((id * 2654435761u) % 300); }

static void test_fifo(void)
{
    T_CHECK(crc32_bits(0, "123456789", 9) == 0xCBF43926u, "the test's CRC-32 misses its check value");
    const char *dir = subdir("fifo/nested"); /* created, parents too */
    store_spool *s = open_or_fail(dir, 1 << 20);
    if (!s)
        return;
    void *d = (void *)1;
    size_t n = 1;
    uint64_t id = 0;
    char err[512] = "";
    T_CHECK(store_spool_peek(s, &id, &d, &n) == -ENOENT && d == NULL && n == 0, "an empty spool peeks -ENOENT");
    store_spool_stats st = stats(s);
    T_CHECK(st.pending_batches == 0 && st.disk_bytes == 0 && st.appended == 0, "fresh stats");
    T_CHECK(store_spool_release(s, 1, err, sizeof err) == -EINVAL && strstr(err, "never appended"),
            "release on an empty spool: %s", err);

    uint64_t bytes = 0;
    for (uint64_t i = 1; i <= 5; i++) {
        append_id(s, i, small_len(i));
        bytes += small_len(i);
    }
    st = stats(s);
    T_CHECK(st.pending_batches == 5 && st.pending_bytes == bytes && st.appended == 5 &&
                st.disk_bytes == bytes + 5 * HDR, "after 5: pending %llu/%llu bytes, disk %llu",
            (unsigned long long)st.pending_batches, (unsigned long long)st.pending_bytes,
            (unsigned long long)st.disk_bytes);
    peek_is(s, 1, small_len(1));
    peek_is(s, 1, small_len(1)); /* the same until released */
    release_ok(s, 1);
    peek_is(s, 2, small_len(2));
    release_ok(s, 4); /* 2, 3 and 4 at once */
    peek_is(s, 5, small_len(5));
    st = stats(s);
    T_CHECK(st.pending_batches == 1 && st.pending_bytes == small_len(5) && st.released == 4, "after release 4: %llu pending, %llu released",
            (unsigned long long)st.pending_batches, (unsigned long long)st.released);
    err[0] = 0;
    T_CHECK(store_spool_release(s, 6, err, sizeof err) == -EINVAL && strstr(err, "6") && strstr(err, dir),
            "release of a never-appended id: %s", err);
    T_CHECK(store_spool_release(s, 0, err, sizeof err) == -EINVAL, "release of id 0");
    T_CHECK(store_spool_release(s, UINT64_MAX, err, sizeof err) == -EINVAL, "release of UINT64_MAX");
    T_CHECK(store_spool_release(s, 3, err, sizeof err) == 0, "release of an already released id is a no-op");
    peek_is(s, 5, small_len(5));
    T_CHECK(stats(s).pending_batches == 1, "a repeated release changed nothing");
    uint8_t b = 1;
    T_CHECK(store_spool_append(s, &b, 0, &id, err, sizeof err) == -EINVAL, "an empty batch is refused");
    T_CHECK(store_spool_append(s, NULL, 4, &id, err, sizeof err) == -EINVAL, "a NULL batch is refused");
    T_CHECK(store_spool_peek(s, &id, NULL, &n) == -EINVAL, "peek without data pointer");
    release_ok(s, 5);
    T_CHECK(store_spool_peek(s, &id, &d, &n) == -ENOENT, "all released");
    append_id(s, 6, 10);
    T_CHECK(store_spool_append(s, &b, 1, NULL, err, sizeof err) == 0, "append without an id pointer");
    store_spool_close(s);
    store_spool_close(NULL);

    /* many batches over many segments: order, content, and released segments deleted */
    dir = subdir("fifo-many");
    s = open_or_fail(dir, 64 * KIB); /* 8 KiB segments */
    if (!s)
        return;
    const uint64_t N = 200;
    uint64_t total = 0;
    for (uint64_t i = 1; i <= N; i++) {
        append_id(s, i, small_len(i));
        total += small_len(i);
    }
    disk_view v = read_disk(dir);
    T_CHECK(v.n == N && v.bad == 0 && v.order_ok && v.segments >= 4, "on disk: %zu records in %zu segments, %zu bad",
            v.n, v.segments, v.bad);
    int content = 1;
    for (size_t i = 0; i < v.n; i++)
        content &= v.rec[i].id == i + 1 && v.rec[i].len == small_len(i + 1) && v.rec[i].content;
    T_CHECK(content, "records on disk differ from what was appended (layout, CRC or content)");
    T_CHECK(v.bytes == stats(s).disk_bytes && v.bytes == total + N * HDR, "disk_bytes %llu, files %llu, expected %llu",
            (unsigned long long)stats(s).disk_bytes, (unsigned long long)v.bytes, (unsigned long long)(total + N * HDR));
    size_t segments = v.segments;
    disk_free(&v);
    uint64_t left = total;
    for (uint64_t i = 1; i <= N; i++) {
        if (!peek_is(s, i, small_len(i)) || release_ok(s, i) != 0)
            break;
        left -= small_len(i);
        if (i % 37 == 0)
            T_CHECK(stats(s).pending_bytes == left && stats(s).pending_batches == N - i, "pending after %llu",
                    (unsigned long long)i);
    }
    v = read_disk(dir);
    T_CHECK(v.segments == 1 && v.acked == N, "all released: %zu segment files left (the active one only), acked %llu",
            v.segments, (unsigned long long)v.acked);
    disk_free(&v);
    store_spool_close(s);
    printf("# test_spool: fifo: %llu batches through %zu segments of 8 KiB in order, contents and CRCs checked on disk\n",
           (unsigned long long)N, segments);
}

/* data must be batches first.. joined, count of them, each with its content and len_of length. */
static int joined_ok(const uint8_t *data, size_t len, const uint64_t *ids, size_t count, size_t (*len_of)(uint64_t))
{
    size_t off = 0;
    for (size_t i = 0; i < count; i++) {
        size_t n = len_of(ids[i]);
        if (off + n > len || !content_ok(ids[i], data + off, n))
            return 0;
        off += n;
    }
    return off == len;
}

static void test_peek_many(void)
{
    const char *dir = subdir("peek-many");
    store_spool *s = open_or_fail(dir, 64 * KIB); /* 8 KiB segments */
    if (!s)
        return;
    const uint64_t N = 120;
    for (uint64_t i = 1; i <= N; i++)
        append_id(s, i, small_len(i));
    uint64_t last = 0, next = 1, calls = 0;
    void *d = NULL;
    size_t len = 0, count = 0;
    /* the same answer until released, and peek agrees on the first */
    T_CHECK(store_spool_peek_many(s, 700, &last, &d, &len, &count) == 0, "peek_many");
    uint64_t last2 = 0;
    size_t count2 = 0, len2 = 0;
    void *d2 = NULL;
    T_CHECK(store_spool_peek_many(s, 700, &last2, &d2, &len2, &count2) == 0 && last2 == last && count2 == count &&
                len2 == len && memcmp(d, d2, len) == 0, "peek_many twice differs");
    free(d);
    free(d2);
    peek_is(s, 1, small_len(1));
    /* at least one, whatever max_len */
    T_CHECK(store_spool_peek_many(s, 0, &last, &d, &len, &count) == 0 && count == 1 && last == 1 &&
                len == small_len(1) && content_ok(1, d, len), "max_len 0 gives the first batch alone");
    free(d);
    int fits = 1, crossed = 0;
    while (next <= N) {
        d = NULL;
        int rc = store_spool_peek_many(s, 700, &last, &d, &len, &count);
        if (rc != 0) {
            T_CHECK(0, "peek_many at %llu: %d", (unsigned long long)next, rc);
            break;
        }
        uint64_t ids[64];
        for (size_t i = 0; i < count && i < 64; i++)
            ids[i] = next + i;
        T_CHECK(count >= 1 && count < 64 && last == next + count - 1 && joined_ok(d, len, ids, count, small_len),
                "peek_many from %llu: %zu batches to %llu, %zu bytes: not the batches joined", (unsigned long long)next,
                count, (unsigned long long)last, len);
        fits &= (len <= 700 || count == 1) && (last == N || len + small_len(last + 1) > 700);
        uint64_t before_seg = stats(s).disk_bytes;
        free(d);
        if (release_ok(s, last) != 0)
            break;
        crossed += stats(s).disk_bytes < before_seg; /* a segment was deleted: the batch spanned its end */
        next = last + 1;
        calls++;
    }
    T_CHECK(fits, "a joined batch went over max_len, or stopped short of it");
    T_CHECK(store_spool_peek_many(s, 700, &last, &d, &len, &count) == -ENOENT && d == NULL && len == 0 && count == 0,
            "after all: -ENOENT");
    /* SIZE_MAX: all that is left, no absurd allocation */
    for (uint64_t i = N + 1; i <= N + 30; i++)
        append_id(s, i, small_len(i));
    T_CHECK(store_spool_peek_many(s, SIZE_MAX, &last, &d, &len, &count) == 0 && count == 30 && last == N + 30,
            "SIZE_MAX: %zu batches to %llu", count, (unsigned long long)last);
    free(d);
    T_CHECK(store_spool_peek_many(s, 10, &last, NULL, &len, &count) == -EINVAL, "no data pointer");
    store_spool_close(s);
    printf("# test_spool: peek_many: %llu batches in %llu joined reads of at most 700 bytes, %d across a segment's end\n",
           (unsigned long long)N, (unsigned long long)calls, crossed);
}

/* ---- persistence ----------------------------------------------------------------------------- */

static size_t mid_len(uint64_t id) { return 200 + (size_t)((id * 2654435761u) % 800); }

static void test_persistence(void)
{
    const char *dir = subdir("persist");
    store_spool *s = open_or_fail(dir, 64 * KIB);
    if (!s)
        return;
    for (uint64_t i = 1; i <= 50; i++)
        append_id(s, i, mid_len(i));
    release_ok(s, 20);
    store_spool_close(s);

    s = open_or_fail(dir, 64 * KIB);
    if (!s)
        return;
    store_spool_stats st = stats(s);
    uint64_t bytes = 0;
    for (uint64_t i = 21; i <= 50; i++)
        bytes += mid_len(i);
    T_CHECK(st.pending_batches == 30 && st.pending_bytes == bytes && st.corrupt_bytes == 0 && st.dropped_batches == 0,
            "reopened: %llu pending (%llu bytes), corrupt %llu", (unsigned long long)st.pending_batches,
            (unsigned long long)st.pending_bytes, (unsigned long long)st.corrupt_bytes);
    peek_is(s, 21, mid_len(21));
    release_ok(s, 30);
    append_id(s, 51, mid_len(51)); /* ids go on */
    store_spool_close(s);

    /* the segments entirely released are gone from the disk */
    disk_view v = read_disk(dir);
    T_CHECK(v.acked == 30 && v.acked_ok, "acked file: %llu", (unsigned long long)v.acked);
    size_t below = 0, elsewhere = 0;
    for (size_t i = 0; i < v.n; i++) {
        below += v.rec[i].id <= 30;
        elsewhere += v.rec[i].id <= 30 && v.rec[i].seg != 0;
    }
    T_CHECK(elsewhere == 0 && v.n == 51 - 30 + below, "released records outside the first segment: %zu; %zu records on disk",
            elsewhere, v.n);
    disk_free(&v);

    s = open_or_fail(dir, 64 * KIB);
    if (!s)
        return;
    uint64_t ids[40];
    size_t n = 0;
    for (uint64_t i = 31; i <= 51; i++)
        ids[n++] = i;
    drain_expect(s, ids, n, mid_len);
    store_spool_close(s);

    /* everything released: no segment left, and the ids still go on after a reopen */
    s = open_or_fail(dir, 64 * KIB);
    if (!s)
        return;
    v = read_disk(dir);
    T_CHECK(v.segments == 0 && v.acked == 51, "all released then reopened: %zu segments, acked %llu", v.segments,
            (unsigned long long)v.acked);
    disk_free(&v);
    T_CHECK(stats(s).pending_batches == 0 && stats(s).disk_bytes == 0, "nothing pending");
    append_id(s, 52, 7);
    store_spool_close(s);

    /* FSYNC_NONE keeps the same files */
    char err[512] = "";
    s = store_spool_open(dir, 64 * KIB, STORE_SPOOL_FSYNC_NONE, err, sizeof err);
    T_CHECK(s != NULL, "open with FSYNC_NONE: %s", err);
    if (!s)
        return;
    peek_is(s, 52, 7);
    append_id(s, 53, 9);
    /* a second open of the same folder is refused while this one holds it */
    err[0] = 0;
    store_spool *twice = store_spool_open(dir, 64 * KIB, EACH, err, sizeof err);
    T_CHECK(twice == NULL && strstr(err, dir) && strstr(err, "in use"), "a second open: %s", err);
    store_spool_close(twice);
    store_spool_close(s);
    T_CHECK(store_spool_open(dir, 64 * KIB, (enum store_spool_fsync)7, err, sizeof err) == NULL, "a bad fsync policy");
    s = open_or_fail(dir, 64 * KIB);
    if (!s)
        return;
    peek_is(s, 52, 7);
    release_ok(s, 52);
    peek_is(s, 53, 9);
    T_CHECK(stats(s).pending_batches == 1, "FSYNC_NONE round trip");
    store_spool_close(s);
}

/* ---- kill -9 --------------------------------------------------------------------------------- */

#define KILL_MAX (1u << 20) /* 128 KiB segments; the child keeps < 400 kB pending: nothing dropped */

/* Written by the child before and after each call, read by the parent after the kill. */
typedef struct kill_state {
    volatile uint64_t appended;    /* the last id append confirmed */
    volatile uint64_t released;    /* the last id release confirmed */
    volatile uint64_t intent_kind; /* 'a' or 'r' while a call is under way, else 0 */
    volatile uint64_t intent_id;
    volatile uint64_t ops;
    volatile uint64_t opened;
} kill_state;

static void kill_child(const char *dir, kill_state *ks, uint64_t next, uint64_t seed)
{
    char err[256];
    store_spool *s = store_spool_open(dir, KILL_MAX, EACH, err, sizeof err);
    if (!s)
        _exit(3);
    ks->opened = 1;
    t_rng_seed(seed);
    uint8_t *buf = malloc(64 * KIB);
    if (!buf)
        _exit(2);
    for (;;) {
        store_spool_stats st;
        store_spool_stats_get(s, &st);
        double u = t_urand();
        if (st.pending_batches == 0 || (u < 0.75 && st.pending_bytes < 400000)) {
            size_t len = kill_len(next);
            fill(next, buf, len);
            uint64_t id = 0;
            ks->intent_id = next;
            ks->intent_kind = 'a';
            if (store_spool_append(s, buf, len, &id, err, sizeof err) != 0)
                _exit(4);
            if (id != next)
                _exit(5);
            ks->appended = id;
            ks->intent_kind = 0;
            next++;
        } else {
            uint64_t front = 0;
            void *d = NULL;
            size_t n = 0;
            if (store_spool_peek(s, &front, &d, &n) != 0)
                _exit(6);
            int good = n == kill_len(front) && content_ok(front, d, n);
            free(d);
            if (!good)
                _exit(7);
            uint64_t target = front;
            if (u > 0.98) /* several at once */
                target = front + (uint64_t)(t_urand() * (double)(next - 1 - front));
            if (target > next - 1)
                target = next - 1;
            ks->intent_id = target;
            ks->intent_kind = 'r';
            if (store_spool_release(s, target, err, sizeof err) != 0)
                _exit(8);
            ks->released = target;
            ks->intent_kind = 0;
        }
        ks->ops++;
    }
}

static void test_kill9(void)
{
    const char *dir = subdir("kill9");
    kill_state *ks = mmap(NULL, sizeof *ks, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ks == MAP_FAILED) {
        T_CHECK(0, "mmap: %s", strerror(errno));
        return;
    }
    uint64_t top = 0, acked = 0, ops = 0, appended = 0, released = 0, torn = 0, torn_bytes = 0, max_pending = 0;
    uint64_t during_open = 0, in_append = 0, in_release = 0, checked_bytes = 0;
    int kills = 0, rounds = 30;
    double t_start = now_s();
    for (int round = 0; round < rounds; round++) {
        memset((void *)ks, 0, sizeof *ks);
        ks->appended = top;
        ks->released = acked;
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0)
            kill_child(dir, ks, top + 1, 1000 + (uint64_t)round);
        /* a random moment: 2 to 150 ms in (the open's recovery, or deep in the loop) */
        struct timespec d = {0, (long)(2e6 + 148e6 * t_urand())};
        nanosleep(&d, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        T_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "round %d: the child ended by itself (status %d)",
                round, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        if (!WIFSIGNALED(status))
            break;
        kills++;
        uint64_t A = ks->appended, R = ks->released, kind = ks->intent_kind, iid = ks->intent_id;
        during_open += !ks->opened;
        in_append += kind == 'a';
        in_release += kind == 'r';
        ops += ks->ops;
        appended += A - top;

        store_spool *s = open_or_fail(dir, KILL_MAX);
        if (!s)
            break;
        store_spool_stats st = stats(s);
        disk_view v = read_disk(dir);
        /* the release under way may or may not have reached the acked file; nothing else may */
        T_CHECK(v.acked == R || (kind == 'r' && v.acked == iid), "round %d: acked %llu, confirmed %llu (intent %c %llu)",
                round, (unsigned long long)v.acked, (unsigned long long)R, kind ? (int)kind : '-',
                (unsigned long long)iid);
        uint64_t new_top = disk_max_id(&v) > v.acked ? disk_max_id(&v) : v.acked;
        /* the append under way may or may not be there; every confirmed one is */
        T_CHECK(new_top == A || (kind == 'a' && new_top == iid && iid == A + 1),
                "round %d: newest on disk %llu, confirmed %llu (intent %c %llu)", round, (unsigned long long)new_top,
                (unsigned long long)A, kind ? (int)kind : '-', (unsigned long long)iid);
        T_CHECK(v.bad == 0 && v.order_ok, "round %d: after recovery %zu segments still have a bad tail, order %d", round,
                v.bad, v.order_ok);
        T_CHECK(st.corrupt_bytes == 0 || kind == 'a', "round %d: %llu corrupt bytes without an append under way",
                round, (unsigned long long)st.corrupt_bytes);
        T_CHECK(st.dropped_batches == 0, "round %d: %llu dropped", round, (unsigned long long)st.dropped_batches);
        torn += st.corrupt_bytes > 0;
        torn_bytes += st.corrupt_bytes;
        /* the unreleased ones: exactly acked+1 .. new_top, each once, intact */
        uint64_t expect = v.acked + 1, pbytes = 0;
        int ok = 1;
        for (size_t i = 0; i < v.n && ok; i++) {
            if (v.rec[i].id <= v.acked)
                continue;
            ok = v.rec[i].id == expect && v.rec[i].len == kill_len(expect) && v.rec[i].content;
            pbytes += v.rec[i].len;
            expect++;
        }
        T_CHECK(ok && expect == new_top + 1, "round %d: unreleased batches on disk are not exactly %llu..%llu (stopped at %llu)",
                round, (unsigned long long)v.acked + 1, (unsigned long long)new_top, (unsigned long long)expect);
        T_CHECK(st.pending_batches == new_top - v.acked && st.pending_bytes == pbytes,
                "round %d: stats say %llu pending (%llu bytes), the disk %llu (%llu bytes)", round,
                (unsigned long long)st.pending_batches, (unsigned long long)st.pending_bytes,
                (unsigned long long)(new_top - v.acked), (unsigned long long)pbytes);
        if (new_top > v.acked)
            peek_is(s, v.acked + 1, kill_len(v.acked + 1));
        checked_bytes += pbytes;
        if (new_top - v.acked > max_pending)
            max_pending = new_top - v.acked;
        released += v.acked - acked;
        acked = v.acked;
        top = new_top;
        disk_free(&v);
        store_spool_close(s);
    }
    munmap((void *)ks, sizeof *ks);
    printf("# test_spool: kill -9: %d kills in %.1f s (%llu during open, %llu in append, %llu in release); %llu calls, "
           "%llu batches appended, %llu released, up to %llu pending; %llu torn appends cut off (%llu bytes); "
           "%.1f MB of pending batches checked; nothing lost, nothing doubled\n",
           kills, now_s() - t_start, (unsigned long long)during_open, (unsigned long long)in_append,
           (unsigned long long)in_release, (unsigned long long)ops, (unsigned long long)appended,
           (unsigned long long)released, (unsigned long long)max_pending, (unsigned long long)torn,
           (unsigned long long)torn_bytes, (double)checked_bytes / 1e6);
}

/* ---- corrupt tails --------------------------------------------------------------------------- */

static size_t len_100(uint64_t id) { (void)id; return 100; }
static size_t len_1000(uint64_t id) { (void)id; return 1000; }

static void flip_at(const char *path, off_t off, uint8_t mask)
{
    int fd = open(path, O_RDWR);
    uint8_t b = 0;
    if (fd < 0 || pread(fd, &b, 1, off) != 1) {
        T_CHECK(0, "%s: cannot read at %lld", path, (long long)off);
    } else {
        b ^= mask;
        T_CHECK(pwrite(fd, &b, 1, off) == 1, "%s: cannot write", path);
    }
    if (fd >= 0)
        close(fd);
}

static void append_bytes(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    T_CHECK(fd >= 0 && write(fd, data, len) == (ssize_t)len, "%s: cannot append", path);
    if (fd >= 0)
        close(fd);
}

/* Opens dir, checks corrupt_bytes, drains the expected ids, appends `next` and checks a reopen is clean. */
static void recover_expect(const char *dir, uint64_t max_bytes, uint64_t corrupt, const uint64_t *ids, size_t n,
                           size_t (*len_of)(uint64_t), uint64_t next, const char *what)
{
    store_spool *s = open_or_fail(dir, max_bytes);
    if (!s)
        return;
    store_spool_stats st = stats(s);
    T_CHECK(st.corrupt_bytes == corrupt && st.pending_batches == n, "%s: corrupt %llu bytes (want %llu), %llu pending (want %zu)",
            what, (unsigned long long)st.corrupt_bytes, (unsigned long long)corrupt,
            (unsigned long long)st.pending_batches, n);
    drain_expect(s, ids, n, len_of);
    append_id(s, next, len_of(next));
    store_spool_close(s);
    s = open_or_fail(dir, max_bytes);
    if (!s)
        return;
    st = stats(s);
    T_CHECK(st.corrupt_bytes == 0 && st.pending_batches == 1, "%s: the reopen after recovery: corrupt %llu, pending %llu",
            what, (unsigned long long)st.corrupt_bytes, (unsigned long long)st.pending_batches);
    peek_is(s, next, len_of(next));
    store_spool_close(s);
}

static void fresh(const char *dir, uint64_t max_bytes, uint64_t n, size_t (*len_of)(uint64_t))
{
    store_spool *s = open_or_fail(dir, max_bytes);
    for (uint64_t i = 1; s && i <= n; i++)
        append_id(s, i, len_of(i));
    store_spool_close(s);
}

static void test_corrupt_tail(void)
{
    uint64_t ids[64];
    /* a torn last record: 7 bytes short */
    const char *dir = subdir("torn");
    fresh(dir, 64 * KIB, 10, len_100);
    const char *seg = seg_path(dir, 1);
    T_CHECK(truncate(seg, file_size(seg) - 7) == 0, "truncate");
    for (size_t i = 0; i < 9; i++)
        ids[i] = i + 1;
    recover_expect(dir, 64 * KIB, HDR + 100 - 7, ids, 9, len_100, 10, "torn tail");

    /* a torn header: 11 bytes of the 20 */
    dir = subdir("torn-header");
    fresh(dir, 64 * KIB, 10, len_100);
    seg = seg_path(dir, 1);
    T_CHECK(truncate(seg, 9 * (HDR + 100) + 11) == 0, "truncate");
    recover_expect(dir, 64 * KIB, 11, ids, 9, len_100, 10, "torn header");

    /* a byte flipped inside record 12 (the 4th of the 2nd segment: 8 records of 1020 bytes per 8 KiB):
     * 12..16 are cut off, the later segments are still read */
    dir = subdir("flipped");
    fresh(dir, 64 * KIB, 30, len_1000);
    flip_at(seg_path(dir, 9), 3 * (HDR + 1000) + HDR + 500, 0x10);
    size_t n = 0;
    for (uint64_t i = 1; i <= 30; i++)
        if (i < 12 || i > 16)
            ids[n++] = i;
    recover_expect(dir, 64 * KIB, 5 * (HDR + 1000), ids, n, len_1000, 31, "a flipped payload byte");

    /* record 27's length made absurd (0x7FFF03E8) */
    dir = subdir("absurd-length");
    fresh(dir, 64 * KIB, 30, len_1000);
    flip_at(seg_path(dir, 25), 2 * (HDR + 1000) + 7, 0x7F);
    n = 0;
    for (uint64_t i = 1; i <= 26; i++)
        ids[n++] = i;
    recover_expect(dir, 64 * KIB, 4 * (HDR + 1000), ids, n, len_1000, 27, "an absurd length field");

    /* record 3's id field changed: the record and the rest of its segment are not trusted */
    dir = subdir("bad-id");
    fresh(dir, 64 * KIB, 10, len_100);
    flip_at(seg_path(dir, 1), 2 * (HDR + 100) + 12, 0x01);
    recover_expect(dir, 64 * KIB, 8 * (HDR + 100), ids, 2, len_100, 3, "a wrong id");

    /* garbage appended: random bytes, then a plausible header with a wrong CRC */
    dir = subdir("garbage");
    fresh(dir, 64 * KIB, 10, len_100);
    uint8_t junk[37];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(t_urand() * 256);
    append_bytes(seg_path(dir, 1), junk, sizeof junk);
    for (size_t i = 0; i < 10; i++)
        ids[i] = i + 1;
    recover_expect(dir, 64 * KIB, sizeof junk, ids, 10, len_100, 11, "random garbage appended");

    dir = subdir("garbage-record");
    fresh(dir, 64 * KIB, 10, len_100);
    uint8_t rec[HDR + 100], payload[100];
    fill(11, payload, 100);
    size_t rlen = make_record(rec, 11, payload, 100);
    rec[8] ^= 0xff; /* the CRC */
    append_bytes(seg_path(dir, 1), rec, rlen);
    recover_expect(dir, 64 * KIB, rlen, ids, 10, len_100, 11, "a record with a wrong CRC appended");

    /* a valid record made by hand (the documented layout, the test's own CRC) is taken */
    dir = subdir("handmade");
    fresh(dir, 64 * KIB, 10, len_100);
    fill(11, payload, 100);
    rlen = make_record(rec, 11, payload, 100);
    append_bytes(seg_path(dir, 1), rec, rlen);
    for (size_t i = 0; i < 11; i++)
        ids[i] = i + 1;
    recover_expect(dir, 64 * KIB, 0, ids, 11, len_100, 12, "a handmade record");

    /* a power cut at every byte: three records (1, 50 and 100 bytes) cut at each length 0..211 */
    static const size_t three[3] = {1, 50, 100};
    const size_t whole[4] = {0, HDR + 1, 2 * HDR + 51, 3 * HDR + 151};
    char err[512];
    int cuts = 0, good = 1;
    for (size_t cut = 0; cut <= whole[3] && good; cut++) {
        char name[64];
        snprintf(name, sizeof name, "every-byte/%zu", cut);
        dir = subdir(name);
        store_spool *s = store_spool_open(dir, 64 * KIB, STORE_SPOOL_FSYNC_NONE, err, sizeof err);
        for (uint64_t i = 1; s && i <= 3; i++)
            append_id(s, i, three[i - 1]);
        store_spool_close(s);
        T_CHECK(truncate(seg_path(dir, 1), (off_t)cut) == 0, "truncate");
        s = store_spool_open(dir, 64 * KIB, STORE_SPOOL_FSYNC_NONE, err, sizeof err);
        if (!s) {
            T_CHECK(0, "cut at %zu: %s", cut, err);
            break;
        }
        size_t keep = cut >= whole[3] ? 3 : cut >= whole[2] ? 2 : cut >= whole[1] ? 1 : 0;
        store_spool_stats st = stats(s);
        good = st.pending_batches == keep && st.corrupt_bytes == cut - whole[keep] && st.disk_bytes == whole[keep];
        T_CHECK(good, "cut at %zu: %llu pending (want %zu), corrupt %llu (want %zu)", cut,
                (unsigned long long)st.pending_batches, keep, (unsigned long long)st.corrupt_bytes, cut - whole[keep]);
        for (uint64_t i = 1; good && i <= keep; i++) {
            good = peek_is(s, i, three[i - 1]) && release_ok(s, i) == 0;
        }
        uint64_t id = 0;
        uint8_t b = 7;
        good = good && store_spool_append(s, &b, 1, &id, err, sizeof err) == 0 && id == keep + 1;
        T_CHECK(good, "cut at %zu: the next append got id %llu, want %zu", cut, (unsigned long long)id, keep + 1);
        store_spool_close(s);
        cuts++;
    }
    printf("# test_spool: corrupt tails: torn record, torn header, flipped payload byte (later segments kept), absurd "
           "length, wrong id, garbage, wrong CRC: each cut off and counted to the byte; a handmade record is read; "
           "a segment cut at each of its %d lengths recovers its whole records exactly\n", cuts);
}

/* Corruption after open (the file changed under the spool): peek and release cut it off and go on. */
static void test_corrupt_after_open(void)
{
    const char *dir = subdir("corrupt-live");
    fresh(dir, 64 * KIB, 30, len_1000);
    store_spool *s = open_or_fail(dir, 64 * KIB);
    if (!s)
        return;
    peek_is(s, 1, 1000);
    flip_at(seg_path(dir, 1), 1 * (HDR + 1000) + HDR + 10, 0x04); /* record 2's payload */
    flip_at(seg_path(dir, 9), 3 * (HDR + 1000), 0x20);            /* record 12's magic */
    release_ok(s, 1);
    peek_is(s, 9, 1000); /* 2..8 cut off */
    store_spool_stats st = stats(s);
    T_CHECK(st.corrupt_bytes == 7 * (HDR + 1000) && st.pending_batches == 22, "peek: corrupt %llu, pending %llu",
            (unsigned long long)st.corrupt_bytes, (unsigned long long)st.pending_batches);
    release_ok(s, 13); /* walks 9..12: 12 is bad, 12..16 cut off, 9..11 released */
    st = stats(s);
    T_CHECK(st.corrupt_bytes == 12 * (HDR + 1000) && st.pending_batches == 14 && st.released == 4,
            "release: corrupt %llu, pending %llu, released %llu", (unsigned long long)st.corrupt_bytes,
            (unsigned long long)st.pending_batches, (unsigned long long)st.released);
    peek_is(s, 17, 1000);
    store_spool_close(s);
    uint64_t ids[14];
    for (size_t i = 0; i < 14; i++)
        ids[i] = 17 + i;
    recover_expect(dir, 64 * KIB, 0, ids, 14, len_1000, 31, "after live corruption");

    /* peek_many meets a bad record mid-way: 5..8 are cut off, the join goes on with 9 */
    dir = subdir("corrupt-live-many");
    fresh(dir, 64 * KIB, 30, len_1000);
    s = open_or_fail(dir, 64 * KIB);
    if (!s)
        return;
    flip_at(seg_path(dir, 1), 4 * (HDR + 1000) + HDR + 999, 0x80); /* record 5's last byte */
    void *d = NULL;
    size_t len = 0, count = 0;
    uint64_t last = 0, want[26];
    size_t n = 0;
    for (uint64_t i = 1; i <= 30; i++)
        if (i < 5 || i > 8)
            want[n++] = i;
    T_CHECK(store_spool_peek_many(s, 100000, &last, &d, &len, &count) == 0 && count == 26 && last == 30 &&
                joined_ok(d, len, want, n, len_1000), "peek_many over a bad record: %zu batches to %llu", count,
            (unsigned long long)last);
    free(d);
    st = stats(s);
    T_CHECK(st.corrupt_bytes == 4 * (HDR + 1000) && st.pending_batches == 26, "peek_many: corrupt %llu, pending %llu",
            (unsigned long long)st.corrupt_bytes, (unsigned long long)st.pending_batches);
    release_ok(s, last);
    T_CHECK(stats(s).pending_batches == 0 && stats(s).released == 26, "released all 26");
    store_spool_close(s);
}

/* ---- the bound ------------------------------------------------------------------------------- */

/* The documented rules, computed here: a segment takes a record while its size plus the record
 * stays within seg_bytes; before writing, the oldest segments go until disk + record ≤ max_bytes;
 * a segment entirely released is deleted unless it is the one appended to. */
typedef struct model_seg {
    uint64_t first, last, size;
} model_seg;

typedef struct model {
    model_seg seg[256];
    size_t n;
    int active;
    uint64_t max, segb, disk, acked, dropped, dropped_bytes, drop_events;
    const uint32_t *len; /* by id */
} model;

static void model_delete_released(model *m)
{
    while (m->n && m->seg[0].last <= m->acked && !(m->n == 1 && m->active)) {
        m->disk -= m->seg[0].size;
        memmove(m->seg, m->seg + 1, --m->n * sizeof m->seg[0]);
    }
}

static void model_append(model *m, uint64_t id)
{
    uint64_t rec = HDR + m->len[id];
    if (m->active && m->seg[m->n - 1].size + rec > m->segb) {
        m->active = 0;
        model_delete_released(m);
    }
    while (m->disk + rec > m->max && m->n && !(m->n == 1 && m->active)) {
        for (uint64_t i = m->seg[0].first; i <= m->seg[0].last; i++)
            if (i > m->acked) {
                m->dropped++;
                m->dropped_bytes += m->len[i];
            }
        m->disk -= m->seg[0].size;
        memmove(m->seg, m->seg + 1, --m->n * sizeof m->seg[0]);
        m->drop_events++;
    }
    if (!m->active) {
        m->seg[m->n++] = (model_seg){id, id - 1, 0};
        m->active = 1;
    }
    m->seg[m->n - 1].size += rec;
    m->seg[m->n - 1].last = id;
    m->disk += rec;
}

static uint32_t bound_len[4096];
static size_t bound_len_of(uint64_t id) { return bound_len[id]; }

static uint64_t dir_bytes(const char *dir)
{
    disk_view v = read_disk(dir);
    uint64_t b = v.bytes;
    disk_free(&v);
    return b;
}

static void test_bound(void)
{
    const char *dir = subdir("bound");
    const uint64_t max = 256 * KIB, segb = max / 8;
    store_spool *s = open_or_fail(dir, max);
    if (!s)
        return;
    model m = {.max = max, .segb = segb, .len = bound_len};
    uint64_t total = 0, worst_disk = 0, least_full = UINT64_MAX, released = 0;
    uint64_t id = 0;
    int agree = 1;
    while (total < 2u << 20 && id + 1 < 4096) {
        id++;
        bound_len[id] = (uint32_t)(1 + t_urand() * 4000);
        if (append_id(s, id, bound_len[id]) != 0)
            return;
        uint64_t events = m.drop_events;
        model_append(&m, id);
        total += bound_len[id];
        store_spool_stats st = stats(s);
        if (st.disk_bytes > worst_disk)
            worst_disk = st.disk_bytes;
        if (m.drop_events > events && st.disk_bytes < least_full) /* right after a drop */
            least_full = st.disk_bytes;
        if (agree && (st.disk_bytes != m.disk || st.dropped_batches != m.dropped || st.dropped_bytes != m.dropped_bytes)) {
            T_CHECK(0, "after %llu: disk %llu, dropped %llu (%llu bytes); the rules give %llu, %llu (%llu)",
                    (unsigned long long)id, (unsigned long long)st.disk_bytes, (unsigned long long)st.dropped_batches,
                    (unsigned long long)st.dropped_bytes, (unsigned long long)m.disk, (unsigned long long)m.dropped,
                    (unsigned long long)m.dropped_bytes);
            agree = 0;
        }
        if (id % 64 == 0) {
            uint64_t b = dir_bytes(dir);
            T_CHECK(b <= max && b == st.disk_bytes, "after %llu: %llu bytes of segment files, disk_bytes %llu",
                    (unsigned long long)id, (unsigned long long)b, (unsigned long long)st.disk_bytes);
        }
        if (id == 300) { /* release some of the oldest still there: dropped counts only the rest */
            uint64_t front = 0;
            void *d = NULL;
            size_t n;
            T_CHECK(store_spool_peek(s, &front, &d, &n) == 0, "peek");
            free(d);
            uint64_t model_front = m.seg[0].first > m.acked ? m.seg[0].first : m.acked + 1;
            T_CHECK(front == model_front, "the oldest is %llu, the rules say %llu", (unsigned long long)front,
                    (unsigned long long)model_front);
            release_ok(s, front + 20);
            released = 21;
            m.acked = front + 20;
            model_delete_released(&m);
        }
    }
    T_CHECK(worst_disk <= max, "disk_bytes reached %llu > max_bytes %llu", (unsigned long long)worst_disk,
            (unsigned long long)max);
    T_CHECK(least_full > max - segb, "right after a drop, disk_bytes was %llu (≤ max - one segment)",
            (unsigned long long)least_full);
    store_spool_stats st = stats(s);
    T_CHECK(st.appended == id && st.released == released && st.pending_batches + st.dropped_batches + released == id,
            "conservation: appended %llu = pending %llu + dropped %llu + released %llu", (unsigned long long)st.appended,
            (unsigned long long)st.pending_batches, (unsigned long long)st.dropped_batches, (unsigned long long)released);
    uint64_t dropped = st.dropped_batches, dropped_bytes = st.dropped_bytes, pending = st.pending_batches;
    /* the newest are all there, in order */
    uint64_t *ids = malloc(pending * sizeof *ids);
    for (uint64_t i = 0; ids && i < pending; i++)
        ids[i] = id - pending + 1 + i;
    if (ids)
        drain_expect(s, ids, pending, bound_len_of);
    free(ids);

    /* one batch of max/2 is taken (everything else goes), one byte more is refused */
    static uint8_t big[128 * KIB + 1];
    char err[512] = "";
    uint64_t got;
    T_CHECK(store_spool_append(s, big, max / 2 + 1, &got, err, sizeof err) == -EFBIG && strstr(err, "larger than half"),
            "max/2 + 1: %s", err);
    fill(id + 1, big, max / 2);
    T_CHECK(store_spool_append(s, big, max / 2, &got, err, sizeof err) == 0 && got == id + 1, "max/2: %s", err);
    T_CHECK(stats(s).disk_bytes <= max && stats(s).pending_batches == 1, "after the big one: disk %llu",
            (unsigned long long)stats(s).disk_bytes);
    store_spool_close(s);
    /* the smallest spool: 64 KiB, so 32 KiB batches */
    s = store_spool_open(subdir("tiny"), 1000, EACH, err, sizeof err);
    T_CHECK(s && store_spool_append(s, big, 32 * KIB + 1, &got, err, sizeof err) == -EFBIG &&
                store_spool_append(s, big, 32 * KIB, &got, err, sizeof err) == 0,
            "max_bytes 1000 is raised to 64 KiB");
    store_spool_close(s);
    /* a smaller max_bytes at the next open: the oldest segments go at once, counted (segments are
     * dropped whole, so those written for a larger spool may leave less than the new max_bytes) */
    dir = subdir("bound-lowered");
    fresh(dir, 256 * KIB, 400, mid_len); /* 32 KiB segments */
    s = open_or_fail(dir, 64 * KIB);
    if (s) {
        st = stats(s);
        T_CHECK(st.disk_bytes <= 64 * KIB && st.disk_bytes > 64 * KIB - 32 * KIB && st.dropped_batches > 0 &&
                    st.pending_batches > 0 && st.dropped_batches + st.pending_batches == 400,
                "lowered: disk %llu, dropped %llu, pending %llu", (unsigned long long)st.disk_bytes,
                (unsigned long long)st.dropped_batches, (unsigned long long)st.pending_batches);
        peek_is(s, 400 - st.pending_batches + 1, mid_len(400 - st.pending_batches + 1));
        store_spool_close(s);
    }
    printf("# test_spool: bound: %llu batches, %.2f MiB into max_bytes %llu KiB (segments %llu KiB): disk_bytes at most "
           "%llu (never above max_bytes), at least %llu once full; %llu dropped (%llu bytes), exactly as the rules "
           "give; %llu released, the newest %llu all there\n",
           (unsigned long long)id, (double)total / 1048576, (unsigned long long)max / KIB,
           (unsigned long long)segb / KIB, (unsigned long long)worst_disk, (unsigned long long)least_full,
           (unsigned long long)dropped, (unsigned long long)dropped_bytes, (unsigned long long)released,
           (unsigned long long)pending);
}

/* ---- a full file system ---------------------------------------------------------------------- */

static size_t len_4k(uint64_t id) { (void)id; return 4000; }

/* In a child with a mount namespace of its own and a 1 MiB tmpfs. Exit status: 0 ok, 77 no
 * permission to mount, else the number of the failed check (with a line on out_fd). */
static int full_fs_child(const char *dir, int out_fd)
{
    char err[512] = "", path[700];
    static uint8_t buf[4000];
    /* 1. the spool alone fills it (max_bytes 4 MiB > 1 MiB): the oldest make room, every append works */
    snprintf(path, sizeof path, "%s/a", dir);
    store_spool *s = store_spool_open(path, 4u << 20, EACH, err, sizeof err);
    if (!s)
        return dprintf(out_fd, "open: %s\n", err), 10;
    const uint64_t n1 = 600; /* 2.4 MB */
    for (uint64_t i = 1; i <= n1; i++) {
        fill(i, buf, 4000);
        uint64_t id;
        int rc = store_spool_append(s, buf, 4000, &id, err, sizeof err);
        if (rc != 0)
            return dprintf(out_fd, "self-filled: append %llu: %s\n", (unsigned long long)i, err), 11;
    }
    store_spool_stats st = stats(s);
    uint64_t pend = st.pending_batches, drop = st.dropped_batches;
    if (st.dropped_batches + st.pending_batches != n1 || st.dropped_batches == 0 || st.disk_bytes > (1u << 20))
        return dprintf(out_fd, "self-filled: dropped %llu, pending %llu, disk %llu\n",
                       (unsigned long long)st.dropped_batches, (unsigned long long)st.pending_batches,
                       (unsigned long long)st.disk_bytes), 12;
    uint64_t front = 0;
    void *d = NULL;
    size_t n = 0;
    if (store_spool_peek(s, &front, &d, &n) != 0 || front != n1 - pend + 1 || !content_ok(front, d, n))
        return dprintf(out_fd, "self-filled: the oldest left is %llu\n", (unsigned long long)front), 13;
    free(d);
    store_spool_close(s);
    s = store_spool_open(path, 4u << 20, EACH, err, sizeof err);
    if (!s || stats(s).corrupt_bytes || stats(s).pending_batches != pend)
        return dprintf(out_fd, "self-filled reopen: %s\n", s ? "counts differ" : err), 14;
    store_spool_close(s);
    dprintf(out_fd, "self-filled: %llu appends of 4000 bytes into 1 MiB all worked, %llu oldest dropped, %llu kept; ",
            (unsigned long long)n1, (unsigned long long)drop, (unsigned long long)pend);
    char rm[800];
    snprintf(rm, sizeof rm, "rm -rf '%s'", path);
    if (system(rm) != 0)
        return 15;

    /* 2. someone else filled it: appends fail with -ENOSPC, cleanly */
    snprintf(path, sizeof path, "%s/filler", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    static uint8_t chunk[4096];
    off_t filled = 0;
    while (fd >= 0 && write(fd, chunk, sizeof chunk) == (ssize_t)sizeof chunk)
        filled += (off_t)sizeof chunk;
    if (fd < 0 || ftruncate(fd, filled - 40 * 1024) != 0) /* 40 KiB free */
        return 16;
    snprintf(path, sizeof path, "%s/b", dir);
    s = store_spool_open(path, 4u << 20, EACH, err, sizeof err);
    if (!s)
        return dprintf(out_fd, "open on a full file system: %s\n", err), 17;
    uint64_t ok = 0, next = 1;
    int rc = 0, enospc = 0;
    for (int i = 0; i < 40; i++) {
        fill(next, buf, 4000);
        uint64_t id;
        err[0] = 0;
        rc = store_spool_append(s, buf, 4000, &id, err, sizeof err);
        if (rc == 0) {
            ok++;
            next++;
            continue;
        }
        if (rc != -ENOSPC || !strstr(err, "No space left"))
            return dprintf(out_fd, "full: append gave %d: %s\n", rc, err), 18;
        enospc++;
        char seg[800];
        snprintf(seg, sizeof seg, "%s/seg-%016llx.log", path, 1ull);
        if ((uint64_t)file_size(seg) != stats(s).disk_bytes || stats(s).pending_batches != ok)
            return dprintf(out_fd, "full: after -ENOSPC the segment is %lld bytes, disk_bytes %llu\n",
                           (long long)file_size(seg), (unsigned long long)stats(s).disk_bytes), 19;
    }
    if (!enospc || !ok)
        return dprintf(out_fd, "full: %llu appends worked, %d -ENOSPC\n", (unsigned long long)ok, enospc), 20;
    char first_err[512];
    snprintf(first_err, sizeof first_err, "%s", err);
    /* a release may need a block for acked.tmp: it works or fails whole */
    int rel = store_spool_release(s, 1, err, sizeof err);
    if (rel != 0 && rel != -ENOSPC)
        return dprintf(out_fd, "full: release gave %d: %s\n", rel, err), 21;
    uint64_t first_pending = rel == 0 ? 2 : 1;
    if (stats(s).pending_batches != ok - first_pending + 1)
        return 22;
    /* room again: appends go on */
    if (ftruncate(fd, 0) != 0)
        return 23;
    close(fd);
    for (int i = 0; i < 5; i++) {
        fill(next, buf, 4000);
        uint64_t id;
        if (store_spool_append(s, buf, 4000, &id, err, sizeof err) != 0 || id != next)
            return dprintf(out_fd, "after room was made: %s\n", err), 24;
        next++;
    }
    store_spool_close(s);
    s = store_spool_open(path, 4u << 20, EACH, err, sizeof err);
    if (!s)
        return dprintf(out_fd, "reopen: %s\n", err), 25;
    st = stats(s);
    if (st.corrupt_bytes != 0 || st.pending_batches != next - first_pending)
        return dprintf(out_fd, "reopen: corrupt %llu, pending %llu (want %llu)\n", (unsigned long long)st.corrupt_bytes,
                       (unsigned long long)st.pending_batches, (unsigned long long)(next - first_pending)), 26;
    for (uint64_t i = first_pending; i < next; i++) {
        uint64_t id = 0;
        d = NULL;
        if (store_spool_peek(s, &id, &d, &n) != 0 || id != i || n != len_4k(i) || !content_ok(i, d, n) ||
            store_spool_release(s, i, err, sizeof err) != 0)
            return dprintf(out_fd, "reopen: batch %llu (got %llu)\n", (unsigned long long)i, (unsigned long long)id), 27;
        free(d);
    }
    store_spool_close(s);
    dprintf(out_fd, "filled by others (40 KiB free): %llu appends, then %d x -ENOSPC (\"%s\"), release %s, segment "
            "size exact, %llu more after room was made, reopened clean with %llu intact\n",
            (unsigned long long)ok, enospc, first_err, rel == 0 ? "worked" : "-ENOSPC (nothing changed)",
            5ull, (unsigned long long)(next - first_pending));
    return 0;
}

static void test_full_file_system(void)
{
    const char *dir = subdir("fullfs");
    char buf[4096];
    int code = t_in_tmpfs(dir, "1m", full_fs_child, buf, sizeof buf);
    if (code == T_NO_TMPFS) {
        t_skip("cannot mount a small tmpfs here (needs CAP_SYS_ADMIN in a mount namespace)");
        return;
    }
    T_CHECK(code == 0, "child status %d: %s", code, buf);
    if (code == 0)
        printf("# test_spool: full file system (1 MiB tmpfs): %s", buf);
}

/* ---- hostile files --------------------------------------------------------------------------- */

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    T_CHECK(f && fwrite(data, 1, len, f) == len, "cannot write %s", path);
    if (f)
        fclose(f);
}

static void expect_refused(const char *dir, const char *what, const char *names)
{
    char err[512] = "";
    store_spool *s = store_spool_open(dir, 64 * KIB, EACH, err, sizeof err);
    T_CHECK(s == NULL && strstr(err, names), "%s: %s (expected a refusal naming %s)", what, s ? "opened" : err, names);
    store_spool_close(s);
    printf("# test_spool: %s: %s\n", what, err);
}

static void test_hostile(void)
{
    uint8_t rec[HDR + 200], payload[200];
    uint64_t ids[16];
    for (size_t i = 0; i < 16; i++)
        ids[i] = i + 1;

    /* the only segment starts with a length of 0xFFFFFFF0 */
    const char *dir = subdir("hostile-length");
    mkdir(dir, 0755);
    fill(1, payload, 100);
    make_record(rec, 1, payload, 100);
    wr32(rec + 4, 0xFFFFFFF0u);
    write_file(seg_path(dir, 1), rec, HDR + 100);
    recover_expect(dir, 64 * KIB, HDR + 100, ids, 0, len_100, 1, "a length of 0xFFFFFFF0");

    /* a length within max_bytes but beyond the file, after two good records */
    dir = subdir("hostile-length2");
    fresh(dir, 64 * KIB, 2, len_100);
    make_record(rec, 3, payload, 100);
    wr32(rec + 4, 30000);
    append_bytes(seg_path(dir, 1), rec, HDR + 100);
    recover_expect(dir, 64 * KIB, HDR + 100, ids, 2, len_100, 3, "a length beyond the file");

    /* a zero-length segment among good ones, and files that are not segments */
    dir = subdir("hostile-empty");
    fresh(dir, 64 * KIB, 3, len_100);
    write_file(seg_path(dir, 9), "", 0);
    char other[700];
    snprintf(other, sizeof other, "%s/seg-notanumber.log", dir);
    write_file(other, "hello", 5);
    snprintf(other, sizeof other, "%s/seg-0000000000000000.log", dir);
    write_file(other, "id zero", 7);
    recover_expect(dir, 64 * KIB, 0, ids, 3, len_100, 4, "a zero-length segment");
    T_CHECK(file_size(seg_path(dir, 9)) < 0, "the empty segment was not deleted");
    T_CHECK(file_size(other) == 7, "a file that is not a segment was touched");

    /* a segment whose name says 5 but whose record says 1 */
    dir = subdir("hostile-name");
    mkdir(dir, 0755);
    make_record(rec, 1, payload, 100);
    write_file(seg_path(dir, 5), rec, HDR + 100);
    recover_expect(dir, 64 * KIB, HDR + 100, ids, 0, len_100, 1, "a segment misnamed");

    /* acked: garbage, too long, overflowing, empty: taken as 0 (all on disk sent again), counted */
    static const struct {
        const char *text;
        size_t len;
    } bad[] = {{"hello world", 11}, {"99999999999999999999999\n", 24}, {"-5\n", 3}, {"", 0}, {"12\n\n", 4},
               {"7 \n", 3}, {"4611686018427387905\n", 20}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "hostile-acked-%zu", i);
        dir = subdir(name);
        fresh(dir, 64 * KIB, 5, len_100);
        write_file(acked_path(dir), bad[i].text, bad[i].len);
        recover_expect(dir, 64 * KIB, bad[i].len, ids, 5, len_100, 6, name);
    }
    dir = subdir("hostile-acked-big");
    fresh(dir, 64 * KIB, 5, len_100);
    static uint8_t junk[1 << 20];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(t_urand() * 256);
    write_file(acked_path(dir), junk, sizeof junk);
    recover_expect(dir, 64 * KIB, sizeof junk, ids, 5, len_100, 6, "1 MiB of random bytes as acked");
    /* a valid acked without a newline is read */
    dir = subdir("hostile-acked-nonl");
    fresh(dir, 64 * KIB, 5, len_100);
    write_file(acked_path(dir), "2", 1);
    recover_expect(dir, 64 * KIB, 0, ids + 2, 3, len_100, 6, "acked without a newline");
    /* an orphan acked beyond every record is clamped (and rewritten), ids go on after the records */
    dir = subdir("hostile-acked-orphan");
    fresh(dir, 64 * KIB, 5, len_100);
    write_file(acked_path(dir), "1000\n", 5);
    recover_expect(dir, 64 * KIB, 0, ids, 0, len_100, 6, "an orphan acked id");
    disk_view v = read_disk(dir);
    T_CHECK(v.acked == 5, "the orphan acked became %llu, not 5", (unsigned long long)v.acked);
    disk_free(&v);
    /* with no record at all, acked is where ids go on */
    dir = subdir("hostile-acked-alone");
    mkdir(dir, 0755);
    write_file(acked_path(dir), "41\n", 3);
    recover_expect(dir, 64 * KIB, 0, ids, 0, len_100, 42, "acked alone");
    /* a stale acked.tmp (a release cut short) is ignored and removed */
    dir = subdir("hostile-acked-tmp");
    fresh(dir, 64 * KIB, 5, len_100);
    snprintf(other, sizeof other, "%s/acked.tmp", dir);
    write_file(other, "5\n", 2);
    recover_expect(dir, 64 * KIB, 0, ids, 5, len_100, 6, "a stale acked.tmp");
    T_CHECK(file_size(other) < 0, "acked.tmp left behind");

    /* refused, with the file named */
    dir = subdir("hostile-acked-dir");
    fresh(dir, 64 * KIB, 2, len_100);
    mkdir(acked_path(dir), 0755);
    expect_refused(dir, "acked is a directory", acked_path(dir));
    dir = subdir("hostile-acked-fifo");
    fresh(dir, 64 * KIB, 2, len_100);
    T_CHECK(mkfifo(acked_path(dir), 0644) == 0, "mkfifo");
    expect_refused(dir, "acked is a FIFO (no hang)", acked_path(dir));
    dir = subdir("hostile-seg-dir");
    fresh(dir, 64 * KIB, 2, len_100);
    mkdir(seg_path(dir, 3), 0755);
    expect_refused(dir, "a segment is a directory", seg_path(dir, 3));
    dir = subdir("hostile-seg-link");
    fresh(dir, 64 * KIB, 2, len_100);
    T_CHECK(symlink("/etc/passwd", seg_path(dir, 3)) == 0, "symlink");
    expect_refused(dir, "a segment is a symlink", seg_path(dir, 3));
    dir = subdir("hostile-notdir");
    write_file(dir, "a file", 6);
    expect_refused(dir, "DIR is a file", dir);
    char err[256] = "";
    T_CHECK(store_spool_open("", 64 * KIB, EACH, err, sizeof err) == NULL && strstr(err, "no directory"), "empty DIR: %s", err);
    T_CHECK(store_spool_open(NULL, 64 * KIB, EACH, NULL, 0) == NULL, "NULL DIR, no err buffer");
}

int main(void)
{
    t_rng_seed(20240601);
    T_RUN(test_fifo);
    T_RUN(test_peek_many);
    T_RUN(test_persistence);
    T_RUN(test_kill9);
    T_RUN(test_corrupt_tail);
    T_RUN(test_corrupt_after_open);
    T_RUN(test_bound);
    T_RUN(test_full_file_system);
    T_RUN(test_hostile);
    return t_done();
}
