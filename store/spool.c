/* store/spool.c — the disk spool of one time-series output (contract and file layout: spool.h).
 *
 * Threads and ownership. One thread (the output's writer) uses a spool; nothing in it is shared and
 * nothing locks in memory. Two processes on one DIR would interleave records, so open takes an
 * exclusive flock() on the directory and a second open is refused; the lock goes with the process,
 * so a kill -9 leaves nothing to clean up.
 *
 * Blocking. Every call blocks on file I/O, and with STORE_SPOOL_FSYNC_EACH on fsync: append on one
 * fdatasync of the segment (and of the directory when it starts a segment), release on the acked
 * file's fdatasync, its rename and a directory fsync. Open reads every segment once (the CRCs).
 *
 * Memory. Only the segments' bookkeeping lives in memory (struct segment: 32 bytes each, at most
 * MAX_SEGMENTS), never the batches: peek reads one record into a malloc'd copy for the caller.
 * Open verifies CRCs through one IO_CHUNK buffer, so a record's length field never sizes an
 * allocation before it was checked against the file and max_bytes.
 *
 * The reader. The oldest unreleased record present is always in segs[0] (a segment before it
 * would be entirely released, hence deleted), at (cur_off, cur_id); cur_before is the payload
 * bytes in segs[0] before it, so that counts stay exact when segs[0] is dropped or cut. Peek reads
 * at the cursor (O(1)); peek_many reads on from it into one buffer grown as needed (at most the
 * larger of max_len and the first batch); release moves it, skipping whole segments without reading
 * them and reading only record headers inside the one it stops in.
 *
 * Appends. Records go to the last segment ("active", write_fd) at its known end with pwritev, so
 * a failed write is cut off again with ftruncate and never leaves a torn record behind (were the
 * ftruncate to fail too, the next record overwrites the tail, and open cuts what remains). A
 * segment takes records while its size plus the new record stays within seg_bytes; then the next
 * append starts a new one, named after the batch's id. Before writing, whole segments are dropped
 * oldest first until disk_bytes + the record fits max_bytes: the active segment is then at most
 * seg_bytes (= max_bytes / 8 or less) minus the record, and a record is at most max_bytes / 2 + 20,
 * so dropping every older segment always makes room and disk_bytes never exceeds max_bytes. On
 * ENOSPC the oldest segment that is not the active one is dropped and the write retried; -ENOSPC
 * comes back only when none is left (the newest batches, in the active segment, are kept).
 *
 * Releases. The acked file is written first (acked.tmp, fdatasync, rename, fsync of DIR), then
 * the segments now entirely released are deleted, except the active one, which is deleted when
 * the next append moves on to a new segment. A crash between the two leaves released segments
 * that the next open deletes. Release and append work on the same counters, so the stats are
 * maintained, never recomputed.
 *
 * Recovery (open). Stale acked.tmp is removed. "acked" holds a decimal id and a newline; anything
 * else (empty, garbage, longer than ACKED_MAX_BYTES, beyond MAX_ID) is counted in corrupt_bytes and
 * taken as 0, so every batch still on disk is sent again (at least once beats lost: a line-protocol
 * point sent twice overwrites itself). A segment followed by one whose first id is ≤ acked + 1 is
 * entirely released and deleted unread; the others are read record by record: magic, a length of
 * 1..max_bytes that fits in the file, the id expected (the name's for the first record, then one
 * more each, below the next segment's first id) and the CRC. The first record failing any check
 * and everything after it in that segment are cut off (ftruncate) and counted in corrupt_bytes;
 * later segments are still read. Empty and entirely acked segments are deleted. An acked id beyond
 * the largest id read is clamped to it (and rewritten), so new batches can never be taken for
 * released ones; the next id follows the larger of the two. A DIR over max_bytes (max_bytes was
 * lowered) is brought under it by dropping the oldest segments, counted as dropped. The last
 * segment is appended to again when it has room.
 *
 * A record found bad after open (by peek or release: the file was changed under us) is cut off
 * the same way, counted in corrupt_bytes, and the reader goes on with the next one.
 */
#include "store/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define HDR_BYTES 20                       /* magic, length, crc (u32 each), id (u64) */
#define MAX_ID (UINT64_C(1) << 62)         /* ids and acked beyond this are not ours: no overflow */
#define MAX_SPOOL_BYTES (UINT64_C(1) << 40) /* larger max_bytes are lowered to 1 TiB */
#define MAX_SEGMENTS (1u << 20)            /* ≥ 2 · 1 TiB / 4 MiB + 2: the most a spool can have */
#define ACKED_FILE "acked"
#define ACKED_TMP "acked.tmp"
#define ACKED_MAX_BYTES 32
#define SEG_NAME_LEN 24 /* "seg-" + 16 hex digits + ".log" */
#define IO_CHUNK (64u << 10)

static const uint8_t magic[4] = {'V', 'W', 'S', 'P'};

typedef struct segment {
    uint64_t first_id; /* from its name: the id of its first record */
    uint64_t last_id;  /* first_id - 1 while it holds no record */
    uint64_t size;     /* bytes of whole records in the file */
    uint64_t payload;  /* payload bytes of those records */
} segment;

struct store_spool {
    char *dir;
    int dirfd;    /* DIR, locked; every file is opened relative to it */
    int write_fd; /* the last segment, open for appends, or -1: the next append starts a segment */
    int read_fd;  /* a cached descriptor of the segment whose first id is read_id, or -1 */
    uint64_t read_id;
    int sync;     /* STORE_SPOOL_FSYNC_EACH */
    uint64_t max_bytes, seg_bytes;
    segment *segs; /* the segments in id order: segs[head .. head + nsegs) */
    size_t head, nsegs, cap;
    uint64_t cur_off, cur_id, cur_before; /* the reader (see the top) */
    uint64_t acked;                       /* the last released id */
    uint64_t next_id;                     /* the id of the next batch appended */
    store_spool_stats st;
};

#define SEG(s, k) ((s)->segs[(s)->head + (k)])

/* ---- small helpers --------------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static void say(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1; /* IEEE 802.3, reflected */
        crc_table[i] = c;
    }
}

/* CRC-32 as zlib's crc32(): crc_update(crc_update(0, a), b) is the CRC of a followed by b. */
static uint32_t crc_update(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&crc_once, crc_init);
    const uint8_t *p = data;
    uint32_t c = ~crc;
    while (len--)
        c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void seg_name(char out[SEG_NAME_LEN + 1], uint64_t first_id)
{
    snprintf(out, SEG_NAME_LEN + 1, "seg-%016" PRIx64 ".log", first_id);
}

/* "seg-<16 lowercase hex digits>.log" with an id in 1..MAX_ID: exactly the names we write. */
static int parse_seg_name(const char *name, uint64_t *id)
{
    if (strlen(name) != SEG_NAME_LEN || memcmp(name, "seg-", 4) != 0 || strcmp(name + 20, ".log") != 0)
        return 0;
    uint64_t v = 0;
    for (int i = 4; i < 20; i++) {
        char c = name[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return 0;
        v = v << 4 | (uint64_t)d;
    }
    if (v == 0 || v > MAX_ID)
        return 0;
    *id = v;
    return 1;
}

/* 0, -ENODATA when the file ends first (it is shorter than we were told), or -errno. */
static int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t k = pread(fd, p, len, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        if (k == 0)
            return -ENODATA;
        p += k;
        len -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

/* Writes all of iov (at most 2 entries) at off, through short writes and EINTR. */
static int pwrite_full(int fd, const struct iovec *in, int cnt, uint64_t off)
{
    struct iovec iov[2];
    if (cnt < 1 || cnt > 2)
        return -EINVAL;
    memcpy(iov, in, (size_t)cnt * sizeof *iov);
    int i = 0;
    while (i < cnt && iov[i].iov_len == 0)
        i++;
    while (i < cnt) {
        ssize_t k = pwritev(fd, iov + i, cnt - i, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        if (k == 0)
            return -EIO;
        off += (uint64_t)k;
        size_t left = (size_t)k;
        while (i < cnt && left >= iov[i].iov_len) {
            left -= iov[i].iov_len;
            i++;
        }
        if (i < cnt) {
            iov[i].iov_base = (uint8_t *)iov[i].iov_base + left;
            iov[i].iov_len -= left;
        }
    }
    return 0;
}

static int truncate_to(int fd, uint64_t size)
{
    while (ftruncate(fd, (off_t)size) != 0)
        if (errno != EINTR)
            return -errno;
    return 0;
}

static int sync_fd(const store_spool *s, int fd)
{
    return s->sync && fdatasync(fd) != 0 ? -errno : 0;
}

static int sync_dir(const store_spool *s)
{
    return s->sync && fsync(s->dirfd) != 0 && errno != EINVAL ? -errno : 0;
}

/* mkdir -p DIR, the folders it creates with mode 0750. */
static int make_dirs(const char *dir)
{
    size_t n = strlen(dir);
    char *p = malloc(n + 1);
    if (!p)
        return -ENOMEM;
    memcpy(p, dir, n + 1);
    int rc = 0;
    for (char *c = p + 1; *c && !rc; c++) {
        if (*c != '/')
            continue;
        *c = 0;
        if (mkdir(p, 0750) != 0 && errno != EEXIST)
            rc = -errno;
        *c = '/';
    }
    if (!rc && mkdir(p, 0750) != 0 && errno != EEXIST)
        rc = -errno;
    free(p);
    return rc;
}

/* ---- the segment list ------------------------------------------------------------------------ */

static int push_segment(store_spool *s, const segment *g)
{
    if (s->head + s->nsegs == s->cap) {
        if (s->head > 0) { /* the deleted ones at the front make room */
            memmove(s->segs, s->segs + s->head, s->nsegs * sizeof *s->segs);
            s->head = 0;
        } else {
            if (s->cap >= MAX_SEGMENTS)
                return -ENOSPC;
            size_t cap = s->cap ? 2 * s->cap : 16;
            segment *p = realloc(s->segs, cap * sizeof *p);
            if (!p)
                return -ENOMEM;
            s->segs = p;
            s->cap = cap;
        }
    }
    s->segs[s->head + s->nsegs++] = *g;
    if (s->nsegs == 1) {
        s->cur_off = s->cur_before = 0;
        s->cur_id = g->first_id;
    }
    return 0;
}

static void close_write(store_spool *s)
{
    if (s->write_fd >= 0)
        close(s->write_fd);
    s->write_fd = -1;
}

/* A descriptor of SEG(s, k), opened read-write (a corrupt tail is cut through it). */
static int seg_fd(store_spool *s, size_t k)
{
    if (k + 1 == s->nsegs && s->write_fd >= 0)
        return s->write_fd;
    if (s->read_fd >= 0 && s->read_id == SEG(s, k).first_id)
        return s->read_fd;
    if (s->read_fd >= 0)
        close(s->read_fd);
    char name[SEG_NAME_LEN + 1];
    seg_name(name, SEG(s, k).first_id);
    s->read_fd = openat(s->dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (s->read_fd < 0)
        return -errno;
    s->read_id = SEG(s, k).first_id;
    return s->read_fd;
}

/* Deletes segs[0]; the reader moves to the start of the next one. A failed unlink leaves a file
 * the next open finds entirely released (and deletes) or pending again (a dropped one: sent twice
 * rather than lost). */
static void delete_first(store_spool *s)
{
    segment g = SEG(s, 0);
    if (s->nsegs == 1)
        close_write(s);
    if (s->read_fd >= 0 && s->read_id == g.first_id) {
        close(s->read_fd);
        s->read_fd = -1;
    }
    char name[SEG_NAME_LEN + 1];
    seg_name(name, g.first_id);
    (void)unlinkat(s->dirfd, name, 0);
    (void)sync_dir(s);
    s->st.disk_bytes -= g.size;
    s->head++;
    s->nsegs--;
    if (!s->nsegs)
        s->head = 0;
    else {
        s->cur_off = s->cur_before = 0;
        s->cur_id = SEG(s, 0).first_id;
    }
}

/* Drops segs[0] to make room, counting what in it was not released. */
static void drop_first(store_spool *s)
{
    const segment *g = &SEG(s, 0);
    if (s->cur_id <= g->last_id) {
        uint64_t n = g->last_id - s->cur_id + 1, bytes = g->payload - s->cur_before;
        s->st.dropped_batches += n;
        s->st.dropped_bytes += bytes;
        s->st.pending_batches -= n;
        s->st.pending_bytes -= bytes;
    }
    delete_first(s);
}

/* segs[0] while it is consumed (the reader at its end) and not the one appended to. */
static void delete_consumed(store_spool *s)
{
    while (s->nsegs && s->cur_id > SEG(s, 0).last_id && !(s->nsegs == 1 && s->write_fd >= 0))
        delete_first(s);
}

/* A bad record at off in SEG(s, k), whose id should be cid, with `before` payload bytes before it:
 * it and the rest of the segment are cut off. Only unreleased records are ever behind a cursor
 * position given here, so all of them leave the pending counts. */
static void cut_segment(store_spool *s, size_t k, uint64_t off, uint64_t cid, uint64_t before)
{
    segment *g = &SEG(s, k);
    if (off > g->size)
        off = g->size;
    if (g->last_id >= cid) {
        s->st.pending_batches -= g->last_id - cid + 1;
        s->st.pending_bytes -= g->payload - before;
    }
    s->st.corrupt_bytes += g->size - off;
    s->st.disk_bytes -= g->size - off;
    int fd = seg_fd(s, k);
    if (fd >= 0 && truncate_to(fd, off) == 0)
        (void)sync_fd(s, fd);
    g->size = off;
    g->last_id = cid - 1;
    g->payload = before;
    if (k + 1 == s->nsegs)
        close_write(s); /* its ids now stop short of next_id: new records go to a new segment */
}

/* Reads and checks the header of the record at off in SEG(s, k), which should be batch cid: 0,
 * -EILSEQ when it is bad (or the file is shorter than it was), -errno on a read error. */
static int read_header(store_spool *s, size_t k, uint64_t off, uint64_t cid, uint32_t *len, uint32_t *crc)
{
    const segment *g = &SEG(s, k);
    if (off > g->size || g->size - off < HDR_BYTES)
        return -EILSEQ;
    int fd = seg_fd(s, k);
    if (fd < 0)
        return fd == -ENOENT ? -EILSEQ : fd;
    uint8_t h[HDR_BYTES];
    int rc = pread_full(fd, h, sizeof h, off);
    if (rc)
        return rc == -ENODATA ? -EILSEQ : rc;
    uint32_t n = get32(h + 4);
    if (memcmp(h, magic, 4) != 0 || n == 0 || n > s->max_bytes || n > g->size - off - HDR_BYTES ||
        get64(h + 12) != cid)
        return -EILSEQ;
    *len = n;
    if (crc)
        *crc = get32(h + 8);
    return 0;
}

/* ---- the acked file -------------------------------------------------------------------------- */

static int write_acked(store_spool *s, uint64_t id)
{
    char text[32];
    int n = snprintf(text, sizeof text, "%" PRIu64 "\n", id);
    int fd = openat(s->dirfd, ACKED_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0)
        return -errno;
    struct iovec v = {text, (size_t)n};
    int rc = pwrite_full(fd, &v, 1, 0);
    if (!rc)
        rc = sync_fd(s, fd);
    if (close(fd) != 0 && !rc && errno != EINTR)
        rc = -errno;
    if (!rc && renameat(s->dirfd, ACKED_TMP, s->dirfd, ACKED_FILE) != 0)
        rc = -errno;
    if (rc) {
        (void)unlinkat(s->dirfd, ACKED_TMP, 0);
        return rc;
    }
    return sync_dir(s);
}

/* s->acked from the acked file; *rewrite when it was unreadable and is to be written again. */
static int read_acked(store_spool *s, int *rewrite, char *err, size_t errlen)
{
    s->acked = 0;
    int fd = openat(s->dirfd, ACKED_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0 && errno == ENOENT)
        return 0; /* nothing released yet */
    if (fd < 0) {
        int e = errno;
        say(err, errlen, "spool: %s/%s: cannot open: %s", s->dir, ACKED_FILE, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        say(err, errlen, "spool: %s/%s: not a regular file", s->dir, ACKED_FILE);
        close(fd);
        return -EINVAL;
    }
    char text[ACKED_MAX_BYTES + 1];
    size_t n = 0;
    int rc = 0;
    if (st.st_size <= ACKED_MAX_BYTES) {
        rc = pread_full(fd, text, (size_t)st.st_size, 0);
        n = (size_t)st.st_size;
    }
    close(fd);
    if (rc && rc != -ENODATA) {
        say(err, errlen, "spool: %s/%s: cannot read: %s", s->dir, ACKED_FILE, strerror(-rc));
        return rc;
    }
    int ok = !rc && n > 0 && st.st_size <= ACKED_MAX_BYTES;
    uint64_t v = 0;
    size_t i = 0;
    for (; ok && i < n && text[i] >= '0' && text[i] <= '9'; i++) {
        uint64_t d = (uint64_t)(text[i] - '0');
        if (v > (MAX_ID - d) / 10)
            ok = 0;
        else
            v = v * 10 + d;
    }
    if (ok && (i == 0 || (i < n && !(text[i] == '\n' && i + 1 == n))))
        ok = 0;
    if (!ok) {
        s->st.corrupt_bytes += (uint64_t)st.st_size;
        *rewrite = 1;
        return 0;
    }
    s->acked = v;
    return 0;
}

/* ---- recovery -------------------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The first ids of DIR's segment files, sorted. */
static int list_segments(store_spool *s, uint64_t **ids_out, size_t *n_out, char *err, size_t errlen)
{
    int fd = dup(s->dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        say(err, errlen, "spool: %s: cannot list: %s", s->dir, strerror(e));
        return -e;
    }
    rewinddir(d);
    uint64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno) {
                rc = -errno;
                say(err, errlen, "spool: %s: cannot list: %s", s->dir, strerror(-rc));
            }
            break;
        }
        uint64_t id;
        if (!parse_seg_name(e->d_name, &id))
            continue;
        if (n == MAX_SEGMENTS) {
            say(err, errlen, "spool: %s: more than %u segment files: not a spool this size can have", s->dir,
                MAX_SEGMENTS);
            rc = -EMFILE;
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            uint64_t *p = realloc(ids, cap * sizeof *p);
            if (!p) {
                rc = -ENOMEM;
                say(err, errlen, "spool: %s: out of memory", s->dir);
                break;
            }
            ids = p;
        }
        ids[n++] = id;
    }
    closedir(d);
    if (rc) {
        free(ids);
        return rc;
    }
    if (n)
        qsort(ids, n, sizeof *ids, cmp_u64);
    *ids_out = ids;
    *n_out = n;
    return 0;
}

/* Reads the segment whose first id is first, cutting off its first bad record and what follows;
 * its ids must stay below limit. *g is what remains; *ack_off / *ack_before the offset of its first
 * record beyond acked and the payload bytes before it. */
static int scan_segment(store_spool *s, uint64_t first, uint64_t limit, segment *g, uint64_t *ack_off,
                        uint64_t *ack_before, uint8_t *buf, char *err, size_t errlen)
{
    char name[SEG_NAME_LEN + 1];
    seg_name(name, first);
    int fd = openat(s->dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        say(err, errlen, "spool: %s/%s: cannot open: %s", s->dir, name, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0) {
        say(err, errlen, "spool: %s/%s: not a regular file", s->dir, name);
        close(fd);
        return -EINVAL;
    }
    uint64_t size = (uint64_t)st.st_size, off = 0, id = first, payload = 0;
    int rc = 0;
    *ack_off = *ack_before = 0;
    while (size - off >= HDR_BYTES && id < limit) {
        uint8_t h[HDR_BYTES];
        rc = pread_full(fd, h, sizeof h, off);
        if (rc)
            break;
        uint32_t len = get32(h + 4), crc = get32(h + 8);
        if (memcmp(h, magic, 4) != 0 || len == 0 || len > s->max_bytes || len > size - off - HDR_BYTES ||
            get64(h + 12) != id)
            break;
        uint32_t c = crc_update(0, h + 12, 8);
        for (uint64_t done = 0; done < len && !rc; done += IO_CHUNK) {
            size_t k = len - done < IO_CHUNK ? (size_t)(len - done) : IO_CHUNK;
            rc = pread_full(fd, buf, k, off + HDR_BYTES + done);
            c = crc_update(c, buf, k);
        }
        if (rc || c != crc)
            break;
        off += HDR_BYTES + len;
        payload += len;
        if (id <= s->acked) {
            *ack_off = off;
            *ack_before = payload;
        }
        id++;
    }
    if (rc && rc != -ENODATA) {
        say(err, errlen, "spool: %s/%s: cannot read: %s", s->dir, name, strerror(-rc));
        close(fd);
        return rc;
    }
    if (off < size) {
        s->st.corrupt_bytes += size - off;
        rc = truncate_to(fd, off);
        if (!rc)
            rc = sync_fd(s, fd);
        if (rc) {
            say(err, errlen, "spool: %s/%s: cannot cut off %" PRIu64 " corrupt bytes at offset %" PRIu64 ": %s",
                s->dir, name, size - off, off, strerror(-rc));
            close(fd);
            return rc;
        }
    }
    close(fd);
    *g = (segment){first, id - 1, off, payload};
    return 0;
}

static int recover(store_spool *s, char *err, size_t errlen)
{
    uint64_t *ids = NULL;
    size_t nids = 0;
    uint8_t *buf = NULL;
    int rewrite = 0, rc;
    char name[SEG_NAME_LEN + 1];

    if (unlinkat(s->dirfd, ACKED_TMP, 0) != 0 && errno != ENOENT) { /* a release cut short */
        rc = -errno;
        say(err, errlen, "spool: %s/%s: cannot remove: %s", s->dir, ACKED_TMP, strerror(-rc));
        goto out;
    }
    rc = read_acked(s, &rewrite, err, errlen);
    if (rc)
        goto out;
    rc = list_segments(s, &ids, &nids, err, errlen);
    if (rc)
        goto out;
    buf = malloc(IO_CHUNK);
    if (!buf) {
        rc = -ENOMEM;
        say(err, errlen, "spool: %s: out of memory", s->dir);
        goto out;
    }
    uint64_t largest = 0; /* the largest id read */
    for (size_t i = 0; i < nids; i++) {
        seg_name(name, ids[i]);
        segment g = {0, 0, 0, 0};
        uint64_t ack_off = 0, ack_before = 0;
        int gone = i + 1 < nids && ids[i + 1] - 1 <= s->acked; /* entirely released: not read */
        if (!gone) {
            rc = scan_segment(s, ids[i], i + 1 < nids ? ids[i + 1] : MAX_ID + 1, &g, &ack_off, &ack_before, buf,
                              err, errlen);
            if (rc)
                goto out;
            if (g.last_id >= g.first_id)
                largest = g.last_id;
            gone = g.last_id < g.first_id || g.last_id <= s->acked;
        }
        if (gone) {
            if (unlinkat(s->dirfd, name, 0) != 0 && errno != ENOENT) {
                rc = -errno;
                say(err, errlen, "spool: %s/%s: cannot delete: %s", s->dir, name, strerror(-rc));
                goto out;
            }
            continue;
        }
        rc = push_segment(s, &g);
        if (rc) {
            say(err, errlen, "spool: %s: %s", s->dir, strerror(-rc));
            goto out;
        }
        s->st.disk_bytes += g.size;
        if (s->nsegs == 1) { /* the only one that may begin with released records */
            s->cur_off = ack_off;
            s->cur_before = ack_before;
            s->cur_id = g.first_id > s->acked ? g.first_id : s->acked + 1;
        }
        s->st.pending_batches += g.last_id - (s->nsegs == 1 ? s->cur_id : g.first_id) + 1;
        s->st.pending_bytes += g.payload - (s->nsegs == 1 ? s->cur_before : 0);
    }
    if (largest && s->acked > largest) { /* released batches the disk lost (FSYNC_NONE): forget them */
        s->acked = largest;
        rewrite = 1;
    }
    s->next_id = (largest > s->acked ? largest : s->acked) + 1;
    while (s->st.disk_bytes > s->max_bytes) /* max_bytes was lowered */
        drop_first(s);
    if (s->nsegs) {
        const segment *last = &SEG(s, s->nsegs - 1);
        if (last->size < s->seg_bytes && last->last_id + 1 == s->next_id) {
            seg_name(name, last->first_id);
            s->write_fd = openat(s->dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
            if (s->write_fd < 0) {
                rc = -errno;
                say(err, errlen, "spool: %s/%s: cannot open: %s", s->dir, name, strerror(-rc));
                goto out;
            }
        }
    }
    if (rewrite) {
        rc = write_acked(s, s->acked);
        if (rc) {
            say(err, errlen, "spool: %s/%s: cannot write: %s", s->dir, ACKED_FILE, strerror(-rc));
            goto out;
        }
    }
    rc = sync_dir(s); /* the segments deleted above */
    if (rc)
        say(err, errlen, "spool: %s: cannot sync the directory: %s", s->dir, strerror(-rc));
out:
    free(ids);
    free(buf);
    return rc;
}

/* ---- the interface --------------------------------------------------------------------------- */

store_spool *store_spool_open(const char *dir, uint64_t max_bytes, enum store_spool_fsync fsync_policy, char *err,
                              size_t errlen)
{
    if (!dir || !*dir) {
        say(err, errlen, "spool: no directory given");
        return NULL;
    }
    if (fsync_policy != STORE_SPOOL_FSYNC_EACH && fsync_policy != STORE_SPOOL_FSYNC_NONE) {
        say(err, errlen, "spool: %s: unknown fsync policy %d", dir, (int)fsync_policy);
        return NULL;
    }
    store_spool *s = calloc(1, sizeof *s);
    if (!s) {
        say(err, errlen, "spool: out of memory");
        return NULL;
    }
    s->dirfd = s->write_fd = s->read_fd = -1;
    s->sync = fsync_policy == STORE_SPOOL_FSYNC_EACH;
    s->max_bytes = max_bytes < STORE_SPOOL_MIN_BYTES ? STORE_SPOOL_MIN_BYTES
                   : max_bytes > MAX_SPOOL_BYTES     ? MAX_SPOOL_BYTES
                                                     : max_bytes;
    s->seg_bytes = s->max_bytes / 8 < STORE_SPOOL_SEGMENT_BYTES ? s->max_bytes / 8 : STORE_SPOOL_SEGMENT_BYTES;
    s->next_id = 1;
    s->dir = strdup(dir);
    if (!s->dir) {
        say(err, errlen, "spool: out of memory");
        goto fail;
    }
    int rc = make_dirs(dir);
    if (rc) {
        say(err, errlen, "spool: %s: cannot create the directory: %s", dir, strerror(-rc));
        goto fail;
    }
    s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dirfd < 0) {
        say(err, errlen, "spool: %s: cannot open the directory: %s", dir, strerror(errno));
        goto fail;
    }
    while (flock(s->dirfd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR)
            continue;
        if (errno == EWOULDBLOCK)
            say(err, errlen, "spool: %s: in use by another process (or another spool of this one)", dir);
        else
            say(err, errlen, "spool: %s: cannot lock: %s", dir, strerror(errno));
        goto fail;
    }
    if (recover(s, err, errlen))
        goto fail;
    delete_consumed(s);
    return s;
fail:
    store_spool_close(s);
    return NULL;
}

void store_spool_close(store_spool *s)
{
    if (!s)
        return;
    close_write(s);
    if (s->read_fd >= 0)
        close(s->read_fd);
    if (s->dirfd >= 0)
        close(s->dirfd); /* and the lock with it */
    free(s->segs);
    free(s->dir);
    free(s);
}

/* Starts the segment of batch next_id. */
static int new_segment(store_spool *s)
{
    char name[SEG_NAME_LEN + 1];
    seg_name(name, s->next_id);
    int fd = openat(s->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0)
        return -errno;
    segment g = {s->next_id, s->next_id - 1, 0, 0};
    int rc = sync_dir(s);
    if (!rc)
        rc = push_segment(s, &g);
    if (rc) {
        close(fd);
        (void)unlinkat(s->dirfd, name, 0);
        return rc;
    }
    s->write_fd = fd;
    return 0;
}

/* One try: room within max_bytes, a segment with room, the record written (and synced). */
static int append_once(store_spool *s, const void *data, uint32_t len)
{
    uint64_t rec = HDR_BYTES + (uint64_t)len;
    if (s->write_fd >= 0 && SEG(s, s->nsegs - 1).size + rec > s->seg_bytes) {
        close_write(s); /* full: the next segment starts with this record */
        delete_consumed(s);
    }
    while (s->st.disk_bytes + rec > s->max_bytes && s->nsegs && !(s->nsegs == 1 && s->write_fd >= 0))
        drop_first(s);
    if (s->write_fd < 0) {
        int rc = new_segment(s);
        if (rc)
            return rc;
    }
    segment *g = &SEG(s, s->nsegs - 1);
    uint8_t h[HDR_BYTES];
    memcpy(h, magic, 4);
    put32(h + 4, len);
    put64(h + 12, s->next_id);
    put32(h + 8, crc_update(crc_update(0, h + 12, 8), data, len));
    struct iovec iov[2] = {{h, sizeof h}, {(void *)(uintptr_t)data, len}};
    int rc = pwrite_full(s->write_fd, iov, 2, g->size);
    if (!rc)
        rc = sync_fd(s, s->write_fd);
    if (rc) {
        (void)truncate_to(s->write_fd, g->size);
        if (g->size == 0) { /* the segment just started: gone again */
            char name[SEG_NAME_LEN + 1];
            seg_name(name, g->first_id);
            close_write(s);
            (void)unlinkat(s->dirfd, name, 0);
            (void)sync_dir(s);
            s->nsegs--;
            if (!s->nsegs)
                s->head = 0;
        }
        return rc;
    }
    g->size += rec;
    g->payload += len;
    g->last_id = s->next_id;
    s->st.disk_bytes += rec;
    s->st.pending_batches++;
    s->st.pending_bytes += len;
    s->st.appended++;
    s->next_id++;
    return 0;
}

int store_spool_append(store_spool *s, const void *data, size_t len, uint64_t *id, char *err, size_t errlen)
{
    if (!s || !data || len == 0) {
        say(err, errlen, "spool: %s: an empty batch (nothing to send)", s ? s->dir : "?");
        return -EINVAL;
    }
    if (len > s->max_bytes / 2 || len > UINT32_MAX) {
        say(err, errlen, "spool: %s: a batch of %zu bytes is larger than half the spool (%" PRIu64 " bytes)", s->dir,
            len, s->max_bytes / 2);
        return -EFBIG;
    }
    if (s->next_id > MAX_ID) {
        say(err, errlen, "spool: %s: out of ids", s->dir);
        return -EOVERFLOW;
    }
    uint64_t my_id = s->next_id;
    int rc;
    for (;;) {
        rc = append_once(s, data, (uint32_t)len);
        if (rc != -ENOSPC || !s->nsegs || (s->nsegs == 1 && s->write_fd >= 0))
            break;
        drop_first(s); /* the file system is full: the oldest make room */
    }
    if (rc) {
        char name[SEG_NAME_LEN + 1];
        seg_name(name, s->nsegs && s->write_fd >= 0 ? SEG(s, s->nsegs - 1).first_id : s->next_id);
        say(err, errlen, "spool: %s/%s: cannot append batch %" PRIu64 " (%zu bytes): %s", s->dir, name, my_id, len,
            strerror(-rc));
        return rc;
    }
    if (id)
        *id = my_id;
    return 0;
}

int store_spool_peek(store_spool *s, uint64_t *id, void **data, size_t *len)
{
    if (data)
        *data = NULL;
    if (len)
        *len = 0;
    if (!s || !data || !len)
        return -EINVAL;
    for (;;) {
        if (!s->st.pending_batches || !s->nsegs || s->cur_id > SEG(s, 0).last_id)
            return -ENOENT;
        uint32_t n, crc;
        int rc = read_header(s, 0, s->cur_off, s->cur_id, &n, &crc);
        if (!rc) {
            uint8_t *buf = malloc(n);
            if (!buf)
                return -ENOMEM;
            int fd = seg_fd(s, 0);
            rc = fd < 0 ? fd : pread_full(fd, buf, n, s->cur_off + HDR_BYTES);
            uint8_t idbuf[8];
            put64(idbuf, s->cur_id);
            if (rc == -ENODATA || (!rc && crc_update(crc_update(0, idbuf, 8), buf, n) != crc))
                rc = -EILSEQ;
            if (!rc) {
                *data = buf;
                *len = n;
                if (id)
                    *id = s->cur_id;
                return 0;
            }
            free(buf);
        }
        if (rc != -EILSEQ)
            return rc;
        cut_segment(s, 0, s->cur_off, s->cur_id, s->cur_before); /* changed under us */
        delete_consumed(s);
    }
}

/* Walks on from the reader, as release does, reading each record into one growing buffer; a bad
 * record is cut off where it is (the walk goes on with the next segment). */
int store_spool_peek_many(store_spool *s, size_t max_len, uint64_t *last_id, void **data, size_t *len,
                          size_t *count)
{
    if (data)
        *data = NULL;
    if (len)
        *len = 0;
    if (count)
        *count = 0;
    if (!s || !last_id || !data || !len)
        return -EINVAL;
    uint8_t *buf = NULL;
    size_t cap = 0, total = 0, taken = 0;
    uint64_t last = 0, off = s->cur_off, cid = s->cur_id, before = s->cur_before;
    size_t k = 0;
    int rc = 0;
    while (k < s->nsegs) {
        if (cid > SEG(s, k).last_id) { /* at its end */
            if (k + 1 == s->nsegs)
                break;
            k++;
            off = before = 0;
            cid = SEG(s, k).first_id;
            continue;
        }
        uint32_t n, crc;
        rc = read_header(s, k, off, cid, &n, &crc);
        if (!rc && taken && (total > max_len || n > max_len - total))
            break; /* the next one does not fit */
        if (!rc && total + n > cap) {
            size_t want = 2 * cap > total + n ? 2 * cap : total + n;
            if (want > max_len && total + n <= max_len)
                want = max_len;
            uint8_t *p = realloc(buf, want);
            if (!p) {
                rc = -ENOMEM;
                break;
            }
            buf = p;
            cap = want;
        }
        if (!rc) {
            int fd = seg_fd(s, k);
            rc = fd < 0 ? fd : pread_full(fd, buf + total, n, off + HDR_BYTES);
            uint8_t idbuf[8];
            put64(idbuf, cid);
            if (rc == -ENODATA || (!rc && crc_update(crc_update(0, idbuf, 8), buf + total, n) != crc))
                rc = -EILSEQ;
        }
        if (rc == -EILSEQ) {
            cut_segment(s, k, off, cid, before); /* changed under us; the walk goes on after it */
            rc = 0;
            continue;
        }
        if (rc)
            break;
        total += n;
        taken++;
        last = cid;
        off += HDR_BYTES + (uint64_t)n;
        before += n;
        cid++;
    }
    delete_consumed(s); /* segs[0] when a cut emptied it */
    if (rc || !taken) {
        free(buf);
        return rc ? rc : -ENOENT;
    }
    *data = buf;
    *len = total;
    *last_id = last;
    if (count)
        *count = taken;
    return 0;
}

int store_spool_release(store_spool *s, uint64_t id, char *err, size_t errlen)
{
    if (!s)
        return -EINVAL;
    if (id == 0 || id >= s->next_id) {
        say(err, errlen, "spool: %s: batch %" PRIu64 " was never appended (the newest is %" PRIu64 ")", s->dir, id,
            s->next_id - 1);
        return -EINVAL;
    }
    if (id <= s->acked)
        return 0;
    /* Where the reader ends up: found before anything is written, so a read error changes nothing. */
    size_t k;
    uint64_t off, cid, before, nrel, brel;
    int rc;
    do {
        k = 0;
        off = s->cur_off;
        cid = s->cur_id;
        before = s->cur_before;
        nrel = brel = 0;
        rc = 0;
        while (k < s->nsegs && cid <= id) {
            const segment *g = &SEG(s, k);
            if (cid > g->last_id) { /* at its end */
                if (k + 1 == s->nsegs)
                    break;
                k++;
                off = before = 0;
                cid = SEG(s, k).first_id;
            } else if (id >= g->last_id) { /* all of the rest of it, unread */
                nrel += g->last_id - cid + 1;
                brel += g->payload - before;
                off = g->size;
                before = g->payload;
                cid = g->last_id + 1;
            } else {
                uint32_t n;
                rc = read_header(s, k, off, cid, &n, NULL);
                if (rc == -EILSEQ) {
                    cut_segment(s, k, off, cid, before); /* changed under us; then again from the start */
                    break;
                }
                if (rc) {
                    say(err, errlen, "spool: %s: cannot read batch %" PRIu64 ": %s", s->dir, cid, strerror(-rc));
                    return rc;
                }
                nrel++;
                brel += n;
                off += HDR_BYTES + (uint64_t)n;
                before += n;
                cid++;
            }
        }
    } while (rc == -EILSEQ);
    rc = write_acked(s, id);
    if (rc) {
        say(err, errlen, "spool: %s/%s: cannot write: %s", s->dir, ACKED_FILE, strerror(-rc));
        return rc;
    }
    s->acked = id;
    s->st.pending_batches -= nrel;
    s->st.pending_bytes -= brel;
    s->st.released += nrel;
    for (size_t j = 0; j < k; j++)
        delete_first(s); /* entirely released, and not the active one (that is the last) */
    s->cur_off = off;
    s->cur_id = cid;
    s->cur_before = before;
    delete_consumed(s);
    return 0;
}

void store_spool_stats_get(const store_spool *s, store_spool_stats *out)
{
    if (!out)
        return;
    if (!s) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = s->st;
}
