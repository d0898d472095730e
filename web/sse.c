/* web/sse.c — Server-Sent Events: a ring of the newest WEB_SSE_RING events and the streams that
 * read it.
 *
 * Threads: web_sse_publish may be called from any thread; it copies the event under the lock and
 * wakes the readers (a broadcast), so it never waits for a client. Each stream's reader runs on
 * its connection's own thread (libmicrohttpd's thread per connection) and blocks on the condition
 * variable until an event newer than its position arrives, WEB_SSE_HEARTBEAT_S pass (a comment
 * line keeps proxies from closing the stream), or web_sse_stop (end of stream).
 * Ownership: the ring owns a malloc'd copy of each event; a stream owns the text it is sending
 * (one formatted event at most). A reader that fell behind the ring gets "event: resync" and goes
 * on from the newest event. Memory is bounded: WEB_SSE_RING × WEB_SSE_DATA_MAX, plus one event per
 * stream, at most max_streams streams. */
#include "web/http_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

typedef struct sse_event {
    uint64_t id;   /* 0: empty slot */
    char name[WEB_SSE_NAME_MAX + 1];
    char *data;
} sse_event;

struct web_sse {
    pthread_mutex_t lock;
    pthread_cond_t changed; /* CLOCK_MONOTONIC */
    sse_event ring[WEB_SSE_RING];
    uint64_t next_id;       /* the id the next event gets (ids start at 1) */
    unsigned max_streams, open;
    web_sse_stream *streams; /* the open ones */
    int stopping;
    uint64_t published, dropped;
};

#define PENDING_MAX (WEB_SSE_DATA_MAX + WEB_SSE_NAME_MAX + 64)

struct web_sse_stream {
    web_sse *h;
    web_sse_stream *next_open, *prev_open; /* in h->streams */
    char remote[64];        /* the client's address */
    uint64_t next;          /* the id of the next event to send */
    int resync;             /* send "event: resync" first */
    struct timespec last;   /* when something was last handed over (monotonic) */
    size_t off, len;
    char pending[PENDING_MAX];
};

web_sse *web_sse_new(unsigned max_streams)
{
    web_sse *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    pthread_condattr_t ca;
    if (pthread_mutex_init(&h->lock, NULL) != 0) {
        free(h);
        return NULL;
    }
    int ok = pthread_condattr_init(&ca) == 0;
    if (ok) {
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        ok = pthread_cond_init(&h->changed, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    if (!ok) {
        pthread_mutex_destroy(&h->lock);
        free(h);
        return NULL;
    }
    h->next_id = 1;
    h->max_streams = max_streams;
    return h;
}

void web_sse_free(web_sse *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < WEB_SSE_RING; i++)
        free(h->ring[i].data);
    pthread_cond_destroy(&h->changed);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

static int name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > WEB_SSE_NAME_MAX)
        return 0;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '-' || *p == '.'))
            return 0;
    return 1;
}

int web_sse_publish(web_sse *h, const char *event, const char *data)
{
    if (!h)
        return -EINVAL;
    size_t dlen = data ? strnlen(data, WEB_SSE_DATA_MAX + 1) : WEB_SSE_DATA_MAX + 1;
    int bad = !event || !name_ok(event) || dlen > WEB_SSE_DATA_MAX || memchr(data, '\n', dlen) ||
              memchr(data, '\r', dlen);
    char *copy = bad ? NULL : malloc(dlen + 1);
    if (copy)
        memcpy(copy, data, dlen + 1);
    pthread_mutex_lock(&h->lock);
    if (!copy) {
        h->dropped++;
        pthread_mutex_unlock(&h->lock);
        return bad ? -EINVAL : -ENOMEM;
    }
    sse_event *e = &h->ring[h->next_id % WEB_SSE_RING];
    free(e->data);
    e->id = h->next_id++;
    snprintf(e->name, sizeof e->name, "%s", event);
    e->data = copy;
    h->published++;
    pthread_cond_broadcast(&h->changed);
    pthread_mutex_unlock(&h->lock);
    return 0;
}

/* under the lock */
static uint64_t newest(const web_sse *h) { return h->next_id - 1; }
static uint64_t oldest_kept(const web_sse *h) { return h->next_id > WEB_SSE_RING ? h->next_id - WEB_SSE_RING : 1; }

web_sse_stream *web_sse_open(web_sse *h, const char *last_event_id, const char *remote)
{
    web_sse_stream *st = malloc(sizeof *st);
    if (!st) {
        errno = ENOMEM;
        return NULL;
    }
    int have_last = 0;
    uint64_t last = 0;
    if (last_event_id) {
        size_t n = strlen(last_event_id);
        if (n > 0 && n <= 19 && strspn(last_event_id, "0123456789") == n) {
            have_last = 1;
            last = strtoull(last_event_id, NULL, 10);
        }
    }
    snprintf(st->remote, sizeof st->remote, "%s", remote ? remote : "");
    pthread_mutex_lock(&h->lock);
    unsigned same = 0;
    for (const web_sse_stream *o = h->streams; o; o = o->next_open)
        same += strcmp(o->remote, st->remote) == 0;
    if (h->stopping || h->open >= h->max_streams || same >= WEB_SSE_PER_ADDRESS) {
        errno = h->stopping ? ESHUTDOWN : same >= WEB_SSE_PER_ADDRESS ? EMFILE : EBUSY;
        pthread_mutex_unlock(&h->lock);
        free(st);
        return NULL;
    }
    h->open++;
    st->prev_open = NULL;
    st->next_open = h->streams;
    if (h->streams)
        h->streams->prev_open = st;
    h->streams = st;
    st->h = h;
    st->off = st->len = 0;
    st->resync = 0;
    st->next = newest(h) + 1;
    if (have_last) {
        if (last > newest(h) || last + 1 < oldest_kept(h))
            st->resync = 1; /* from another run of the server, or fell out of the ring */
        else
            st->next = last + 1;
    }
    pthread_mutex_unlock(&h->lock);
    clock_gettime(CLOCK_MONOTONIC, &st->last);
    return st;
}

void web_sse_close(void *stream)
{
    web_sse_stream *st = stream;
    if (!st)
        return;
    web_sse *h = st->h;
    pthread_mutex_lock(&h->lock);
    h->open--;
    if (st->prev_open)
        st->prev_open->next_open = st->next_open;
    else
        h->streams = st->next_open;
    if (st->next_open)
        st->next_open->prev_open = st->prev_open;
    pthread_cond_broadcast(&h->changed); /* web_sse_stop may wait for streams to close */
    pthread_mutex_unlock(&h->lock);
    free(st);
}

/* Formats the next thing to send into st->pending; 0 when there is nothing (under the lock). */
static int take_next(web_sse_stream *st)
{
    web_sse *h = st->h;
    if (st->resync || (st->next < oldest_kept(h) && st->next <= newest(h))) {
        st->resync = 0;
        st->next = newest(h) + 1;
        st->len = (size_t)snprintf(st->pending, sizeof st->pending, "event: resync\ndata: {}\n\n");
        st->off = 0;
        return 1;
    }
    if (st->next > newest(h))
        return 0;
    const sse_event *e = &h->ring[st->next % WEB_SSE_RING];
    int n = snprintf(st->pending, sizeof st->pending, "id: %llu\nevent: %s\ndata: %s\n\n",
                     (unsigned long long)e->id, e->name, e->data ? e->data : "");
    st->next++;
    st->len = n > 0 && (size_t)n < sizeof st->pending ? (size_t)n : 0;
    st->off = 0;
    return st->len > 0;
}

ssize_t web_sse_read(void *stream, uint64_t pos, char *buf, size_t max)
{
    web_sse_stream *st = stream;
    web_sse *h = st->h;
    (void)pos;
    if (max == 0)
        return 0;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        if (st->off < st->len) {
            size_t n = st->len - st->off;
            if (n > max)
                n = max;
            memcpy(buf, st->pending + st->off, n);
            st->off += n;
            pthread_mutex_unlock(&h->lock);
            clock_gettime(CLOCK_MONOTONIC, &st->last);
            return (ssize_t)n;
        }
        if (take_next(st))
            continue;
        if (h->stopping) { /* what was published before the stop has been handed over */
            pthread_mutex_unlock(&h->lock);
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        struct timespec deadline = st->last;
        deadline.tv_sec += WEB_SSE_HEARTBEAT_S;
        if (pthread_cond_timedwait(&h->changed, &h->lock, &deadline) == ETIMEDOUT && !h->stopping &&
            st->next > newest(h)) {
            st->len = (size_t)snprintf(st->pending, sizeof st->pending, ": keepalive\n\n");
            st->off = 0;
        }
    }
}

void web_sse_stop(web_sse *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->stopping = 1;
    pthread_cond_broadcast(&h->changed);
    pthread_mutex_unlock(&h->lock);
}

void web_sse_stats(web_sse *h, unsigned *open, uint64_t *published, uint64_t *dropped)
{
    pthread_mutex_lock(&h->lock);
    *open = h->open;
    *published = h->published;
    *dropped = h->dropped;
    pthread_mutex_unlock(&h->lock);
}
