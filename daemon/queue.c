/* daemon/queue.c — see queue.h. A ring of pointers sized at creation. */
#include "queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct vw_queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    size_t cap, head, count;
    bool closed;
    uint64_t drops;
    void **items;
};

vw_queue *vw_queue_new(size_t capacity)
{
    if (capacity < 1 || capacity > (1u << 20))
        return NULL;
    vw_queue *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->items = calloc(capacity, sizeof *q->items);
    if (!q->items) {
        free(q);
        return NULL;
    }
    q->cap = capacity;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    return q;
}

void vw_queue_free(vw_queue *q)
{
    if (!q)
        return;
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    free(q->items);
    free(q);
}

static void put(vw_queue *q, void *item)
{
    q->items[(q->head + q->count) % q->cap] = item;
    q->count++;
    pthread_cond_signal(&q->not_empty);
}

int vw_queue_try_push(vw_queue *q, void *item)
{
    pthread_mutex_lock(&q->lock);
    int rc = 0;
    if (q->closed)
        rc = -EPIPE;
    else if (q->count == q->cap) {
        q->drops++;
        rc = -EAGAIN;
    } else
        put(q, item);
    pthread_mutex_unlock(&q->lock);
    return rc;
}

int vw_queue_push(vw_queue *q, void *item)
{
    pthread_mutex_lock(&q->lock);
    while (!q->closed && q->count == q->cap)
        pthread_cond_wait(&q->not_full, &q->lock);
    int rc = q->closed ? -EPIPE : 0;
    if (rc == 0)
        put(q, item);
    pthread_mutex_unlock(&q->lock);
    return rc;
}

void *vw_queue_pop(vw_queue *q)
{
    pthread_mutex_lock(&q->lock);
    while (!q->closed && q->count == 0)
        pthread_cond_wait(&q->not_empty, &q->lock);
    void *item = NULL;
    if (q->count) {
        item = q->items[q->head];
        q->head = (q->head + 1) % q->cap;
        q->count--;
        pthread_cond_signal(&q->not_full);
    }
    pthread_mutex_unlock(&q->lock);
    return item;
}

void vw_queue_close(vw_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = true;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}

size_t vw_queue_depth(vw_queue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->count;
    pthread_mutex_unlock(&q->lock);
    return n;
}

uint64_t vw_queue_drops(vw_queue *q)
{
    pthread_mutex_lock(&q->lock);
    uint64_t n = q->drops;
    pthread_mutex_unlock(&q->lock);
    return n;
}

size_t vw_queue_capacity(const vw_queue *q) { return q->cap; }
