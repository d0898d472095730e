/* store/spool.h — a crash-safe, bounded FIFO of batches on disk: the store-and-forward queue of
 * one time-series output. A batch is appended before it is sent and released (acked) only after
 * the server accepted it, so nothing accepted is lost by a server outage, a restart or `kill -9`.
 *
 * Layout in DIR: segment files "seg-<first id, 16 hex digits>.log" of records
 *     [magic u32 "VWSP"][payload length u32][crc32 of id+payload u32][id u64][payload]
 * (little-endian; the magic is the bytes 'V' 'W' 'S' 'P'), a record going to a new segment when it
 * would take the current one beyond its size (below); and "acked", the id of the last released
 * batch in decimal and a newline (written to acked.tmp, fsynced, renamed). Ids increase by one per
 * batch, from 1. A segment whose every batch is released is deleted (the one being appended to once
 * appends have moved on to the next).
 *
 * Durability: with STORE_SPOOL_FSYNC_EACH (the default) every append is fsynced before
 * store_spool_append returns, so a batch the caller was told is spooled survives power loss;
 * with STORE_SPOOL_FSYNC_NONE only a process crash is survived (the page cache holds it). A torn
 * or corrupt record (bad magic, length, id or CRC: a power cut mid-write) ends its segment: it and
 * whatever follows in that segment are cut off at open, counted and logged by the caller (see
 * corrupt_bytes); later segments are still read. An unreadable acked file counts as corrupt too and
 * is taken as 0: every batch still on disk is sent again (at least once, never lost).
 *
 * Bound: the segments' total size (disk_bytes) never exceeds max_bytes. An append that would go
 * beyond drops whole segments, oldest first, until the new record fits (dropped_batches and
 * dropped_bytes count what was not yet released), never the new batch; so a drop may take up to one
 * segment (or one batch larger than a segment, which has one to itself) more than strictly needed.
 * A batch larger than max_bytes / 2 is refused (-EFBIG). A full file system (ENOSPC) drops the
 * oldest segments the same way, except the one being appended to.
 *
 * Threads: one thread uses a spool (the output's writer); nothing is shared. Blocking: file I/O
 * and fsync only. */
#ifndef VW_STORE_SPOOL_H
#define VW_STORE_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define STORE_SPOOL_SEGMENT_BYTES (4u << 20)
#define STORE_SPOOL_MIN_BYTES (64u << 10)

enum store_spool_fsync { STORE_SPOOL_FSYNC_EACH = 0, STORE_SPOOL_FSYNC_NONE = 1 };

typedef struct store_spool store_spool;

typedef struct store_spool_stats {
    uint64_t pending_batches, pending_bytes; /* appended, not yet released (payload bytes) */
    uint64_t disk_bytes;                     /* the segments' size on disk */
    uint64_t dropped_batches, dropped_bytes; /* dropped unreleased because the spool was full (payload bytes) */
    uint64_t corrupt_bytes;                  /* cut off as torn or corrupt (at open, or met later by peek or
                                                release: a file changed under the spool); a bad acked file */
    uint64_t appended, released;             /* batches, since open */
} store_spool_stats;

/* Opens (creating DIR with mode 0750 when missing) and recovers the spool. max_bytes is at least
 * STORE_SPOOL_MIN_BYTES (smaller values are raised) and at most 1 TiB (larger ones are lowered);
 * segments are min(STORE_SPOOL_SEGMENT_BYTES, max_bytes / 8) long, the most a drop takes beyond
 * what is needed. A DIR over max_bytes (a lower max_bytes than before) loses its oldest segments at
 * open, counted as dropped. DIR is locked: a second open (another process) is refused. NULL with a
 * message naming the path (and the file) on failure. */
store_spool *store_spool_open(const char *dir, uint64_t max_bytes, enum store_spool_fsync fsync_policy, char *err,
                              size_t errlen);
void store_spool_close(store_spool *s); /* accepts NULL */

/* Appends one batch (len ≥ 1 bytes, else -EINVAL); *id gets its id when id is not NULL. 0, -EFBIG,
 * or -errno with a message (a full disk: -ENOSPC after dropping the oldest did not make room; the
 * spool is then as before the call). */
int store_spool_append(store_spool *s, const void *data, size_t len, uint64_t *id, char *err, size_t errlen);

/* The oldest unreleased batch: a malloc'd copy in *data (free() it), its length and id. 0, -ENOENT
 * when there is none, -errno on a read error. Calling it again without a release returns the same
 * batch. */
int store_spool_peek(store_spool *s, uint64_t *id, void **data, size_t *len);

/* Consecutive unreleased batches from the oldest, joined: as many whole batches as fit in max_len
 * bytes (at least one, whatever its size), malloc'd in *data; *last_id is the id of the last one
 * taken (release it to release them all), *count their number. 0, -ENOENT when none, -errno. */
int store_spool_peek_many(store_spool *s, size_t max_len, uint64_t *last_id, void **data, size_t *len,
                          size_t *count);

/* Releases every batch up to and including id (the oldest first): 0 (also for an id already
 * released or dropped), -EINVAL for an id never appended, or -errno with a message when the acked
 * file cannot be written (a full disk: -ENOSPC; nothing changed, call again). Persisted before it
 * returns (the acked file; fsynced with STORE_SPOOL_FSYNC_EACH). */
int store_spool_release(store_spool *s, uint64_t id, char *err, size_t errlen);

void store_spool_stats_get(const store_spool *s, store_spool_stats *out);

#endif
