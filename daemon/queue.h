/* daemon/queue.h — a bounded queue of pointers between threads (a mutex, two condition variables).
 * Bounded in items: a producer that must not block (acquisition) uses vw_queue_try_push and counts
 * what it drops; replay, which must lose nothing, waits with vw_queue_push. Closing wakes everyone:
 * pushes then fail, pops drain what is left and then return NULL. */
#ifndef VW_DAEMON_QUEUE_H
#define VW_DAEMON_QUEUE_H

#include <stddef.h>
#include <stdint.h>

typedef struct vw_queue vw_queue;

vw_queue *vw_queue_new(size_t capacity);
void vw_queue_free(vw_queue *q); /* the queue must be empty or its items owned elsewhere */
int vw_queue_try_push(vw_queue *q, void *item); /* 0, -EAGAIN when full (counted as a drop), -EPIPE when closed */
int vw_queue_push(vw_queue *q, void *item);     /* waits for room; 0 or -EPIPE */
void *vw_queue_pop(vw_queue *q);                /* waits; NULL when closed and empty */
void vw_queue_close(vw_queue *q);
size_t vw_queue_depth(vw_queue *q);
uint64_t vw_queue_drops(vw_queue *q);
size_t vw_queue_capacity(const vw_queue *q);

#endif
