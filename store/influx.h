/* store/influx.h — one time-series output: lines of InfluxDB line protocol in, HTTP(S) writes out
 * to an InfluxDB 1.x or 2.x server (or anything that speaks its write API, such as
 * VictoriaMetrics), through libcurl, with a crash-safe disk spool in between (store/spool.h).
 *
 * Flow: store_influx_put() appends the lines to the spool (fsynced by default) before it returns:
 * local disk only, never the network. The output's own thread sends the oldest spooled lines in
 * batches of up to batch_bytes, once that much is waiting or the oldest has waited batch_s, and
 * releases them once the server accepted them (2xx). So a server that is down, slow or restarting
 * loses nothing, and neither does a restart or kill -9 of vibewatch: the spool is sent on the next
 * start. A point sent twice (a crash between the server's acceptance and the release) overwrites
 * itself: its series and timestamp are the same.
 *
 * Errors: network errors, timeouts, 408, 429 and 5xx are retried with exponential backoff (1 s
 * doubling to 60 s), half of each wait jittered, honouring Retry-After; any other 4xx means the server will
 * never take that batch: it is appended to DIR/deadletter.lp with the server's message as a
 * comment line, logged and counted, and released — never retried forever, never silently dropped.
 * The dead-letter file is bounded (dead_letter_mb; beyond it, dead batches are only counted).
 *
 * After an outage the backlog drains oldest first at up to drain_kb_s while new lines keep being
 * accepted and spooled behind it.
 *
 * Threads: one thread per output, owning its curl handle and spool; put/stats/flush are thread-safe.
 * Blocking: the thread blocks on the network (bounded by timeout_s) and on fsync; callers of put
 * never wait on the network. */
#ifndef VW_STORE_INFLUX_H
#define VW_STORE_INFLUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store_influx_cfg {
    const char *name;           /* the output's name in logs, status and its spool folder */
    const char *url;            /* base URL: http(s)://host:port[/prefix] */
    int api;                    /* 1: /write?db=&rp=&precision=ns; 2: /api/v2/write?org=&bucket=&precision=ns */
    const char *db, *rp;        /* 1.x: database (required), retention policy (NULL: the default) */
    const char *user, *password; /* 1.x: basic authentication, NULL: none */
    const char *org, *bucket, *token; /* 2.x: org and bucket (required), "Authorization: Token …" */
    const char *ca_file;        /* a CA bundle to verify the server with, NULL: the system's */
    const char *client_cert, *client_key; /* TLS client certificate and key (PEM), NULL: none */
    bool tls_insecure;          /* skip certificate and host checks (logged loudly at start) */
    bool gzip;                  /* Content-Encoding: gzip bodies (default true) */
    size_t batch_bytes;         /* a batch is sent at this size (default 256 KiB) … */
    double batch_s;             /* … or this long after its first line (default 5 s) */
    double timeout_s;           /* per request (default 10 s) */
    const char *spool_dir;      /* required */
    uint64_t spool_bytes;       /* default 256 MiB */
    bool spool_fsync;           /* fsync every spooled batch (default true) */
    double drain_kb_s;          /* backlog rate in KiB/s (default 1024), with a burst of one batch */
    uint64_t dead_letter_bytes; /* default 64 MiB */
    /* where the thread's messages go (syslog levels: 3 error, 4 warning, 5 notice); NULL: nowhere */
    void (*log)(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
} store_influx_cfg;

void store_influx_cfg_default(store_influx_cfg *c);

typedef struct store_influx store_influx;

typedef struct store_influx_stats {
    uint64_t lines_in, bytes_in;            /* spooled by put */
    uint64_t put_failed_bytes;              /* put could not spool them (a disk error): lost, counted */
    uint64_t batches_sent, bytes_sent;      /* accepted by the server */
    uint64_t retries, dead_batches, dead_bytes, dead_uncapped; /* dead letters; uncapped: beyond its cap */
    uint64_t spool_pending_batches, spool_pending_bytes, spool_disk_bytes;
    uint64_t spool_dropped_batches, spool_dropped_bytes, spool_corrupt_bytes;
    int last_http_status;                   /* 0: none yet or a network error */
    char last_error[256];
    bool connected;                         /* the last attempt succeeded */
} store_influx_stats;

/* Checks the configuration, opens the spool (sending what an earlier run left) and starts the
 * thread. NULL with a message naming the output and the problem. */
store_influx *store_influx_start(const store_influx_cfg *c, char *err, size_t errlen);
/* Spools len bytes of complete lines (the last ending in '\n'); blocks on the spool's file I/O
 * only. 0, -EINVAL (not whole lines, or more than half the spool), -errno from the spool (counted
 * in put_failed_bytes, with a message in last_error). Thread-safe. */
int store_influx_put(store_influx *w, const char *lines, size_t len);
/* Sends what is spooled now and waits until it all went or timeout_s passed; returns the bytes
 * still unsent, 0 when all went through. */
uint64_t store_influx_flush(store_influx *w, double timeout_s);
/* Stops the thread (unsent lines stay in the spool for the next start); frees w. NULL is fine. */
void store_influx_stop(store_influx *w);
void store_influx_get_stats(store_influx *w, store_influx_stats *out);
const char *store_influx_name(const store_influx *w);

#endif
