/* alerts/outbox.h — the alerts' persistent record and outbox, in the box's history database
 * (SQLite, WAL; tables alert, outbox and alert_state beside the history's own).
 *
 *   alert        one row per notification decided (raised, lowered, recovered, repeat, digest, test):
 *                data time, asset, levels, a one-line summary, the evidence (JSON), and who
 *                acknowledged it with what note, and a true/false-alarm label (who set it, with a
 *                note, when).
 *   outbox       one row per alert and destination, with a stable key ("BOX.ALERT.DEST") that is
 *                also the e-mail's Message-ID and the webhook's Idempotency-Key, and the payload
 *                rendered once (the same bytes on every attempt). States: pending → sent, or → failed
 *                (given up after the configured age, with the last error kept); held (over the
 *                destination's rate limit) → folded into a digest. A finished message drops its
 *                payload (the alert keeps its evidence), so a kept alert costs a few kB, not a mail.
 *   alert_state  the rules' state per asset (alerts/rules.h JSON), saved in the same transaction
 *                as the notifications it decided, so a restart neither repeats nor loses one.
 *
 * Exactly once: a row is marked sent in the transaction after the server accepted it; a crash
 * between the two sends it again on restart with the same Message-ID / Idempotency-Key, which a
 * receiver can drop. Nothing else sends twice.
 *
 * Threads: one handle per thread (each opens its own connection; SQLite serialises writers, with a
 * busy timeout of 10 s). Bounded: alerts_outbox_prune keeps keep_days of finished rows and at most
 * max_rows alerts. */
#ifndef VW_ALERTS_OUTBOX_H
#define VW_ALERTS_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct alerts_outbox alerts_outbox;

/* Opens the database file (creating the tables, adding the columns a file of an older version
 * lacks; alert ids never repeat, even after a prune). NULL with a message naming the file. */
alerts_outbox *alerts_outbox_open(const char *db_path, char *err, size_t errlen);
void alerts_outbox_close(alerts_outbox *o); /* accepts NULL */
/* For readers (`vibewatch alerts`, the status): opens an existing database read-only and creates
 * nothing (a box's data folder is left as it was; a file of an older version is read as it is, the
 * missing columns as NULL). NULL with *no_alerts true when there is no
 * database or no alert table yet, or with a message on an error. */
alerts_outbox *alerts_outbox_open_readonly(const char *db_path, bool *no_alerts, char *err, size_t errlen);
/* SQLite's message for the handle's last failure (for logs). */
const char *alerts_outbox_error(const alerts_outbox *o);

/* A transaction around several calls (BEGIN IMMEDIATE … COMMIT / ROLLBACK). 0 or -EIO. */
int alerts_outbox_begin(alerts_outbox *o);
int alerts_outbox_commit(alerts_outbox *o);
void alerts_outbox_rollback(alerts_outbox *o);

/* The rules' saved state of an asset (malloc'd). 0, -ENOENT, -EIO. */
int alerts_outbox_state_get(alerts_outbox *o, const char *asset, char **json);
int alerts_outbox_state_put(alerts_outbox *o, const char *asset, const char *json);

typedef struct alerts_row {
    int64_t id;                /* set by add */
    int64_t t_ns;              /* data time */
    const char *asset, *kind, *level, *previous;
    const char *summary;       /* one line */
    const char *evidence;      /* JSON text */
} alerts_row;
/* Adds an alert; its id (> 0) or -errno. */
int64_t alerts_outbox_alert_add(alerts_outbox *o, const alerts_row *a);

typedef struct alerts_msg {
    int64_t alert_id;
    const char *dest, *key;
    int64_t t_ns;              /* data time (for the rate limit) */
    int64_t wall_ns;           /* when queued (for giving up) */
    bool held;                 /* over the rate limit: waits for a digest */
    const char *payload;
    size_t len;
} alerts_msg;
/* Queues one message, due at once, or when the destination's waiting messages are (behind them).
 * 0; -EEXIST when the key is there already (nothing changed); -EIO. */
int alerts_outbox_enqueue(alerts_outbox *o, const alerts_msg *m);

/* Messages of dest queued (not held) at data time ≥ since_t_ns: the rate limit's count. */
long alerts_outbox_recent(alerts_outbox *o, const char *dest, int64_t since_t_ns);
/* The held messages of dest, oldest first, at most max: cb gets each one's alert (its data time,
 * asset, level, kind and summary). Returns how many (or -EIO). */
long alerts_outbox_held(alerts_outbox *o, const char *dest, long max,
                        void (*cb)(void *ctx, int64_t alert_id, int64_t t_ns, const char *asset, const char *level,
                                   const char *kind, const char *summary),
                        void *ctx);
/* Marks every held message of dest queued at data time ≤ upto_t_ns as folded into digest_alert_id.
 * Returns how many, or -EIO. */
long alerts_outbox_fold(alerts_outbox *o, const char *dest, int64_t upto_t_ns, int64_t digest_alert_id);
/* The same for the held messages of dest that belong to the n alerts listed (the ones a digest
 * shows). Returns how many, or -EIO. */
long alerts_outbox_fold_alerts(alerts_outbox *o, const char *dest, const int64_t *alert_ids, size_t n,
                               int64_t digest_alert_id);

/* ---- delivery ------------------------------------------------------------------------------ */

typedef struct alerts_item {
    int64_t id, alert_id;
    char key[160];
    int attempts;
    int64_t created_wall_ns;
    char *payload;             /* malloc'd, NUL-terminated; alerts_item_clear frees it */
    size_t len;
} alerts_item;
void alerts_item_clear(alerts_item *it);

/* The oldest pending message of dest due at wall_ns (next attempt ≤ wall_ns). 0 (it filled),
 * -ENOENT when none is due (*next_due_ns, when not NULL, is the earliest future attempt or
 * INT64_MAX), -EIO. With alerts_outbox_defer after each failure (the whole destination waits) and
 * a new message queued behind those that wait, this hands messages out first in, first out. */
int alerts_outbox_next(alerts_outbox *o, const char *dest, int64_t wall_ns, alerts_item *it, int64_t *next_due_ns);
int alerts_outbox_sent(alerts_outbox *o, int64_t id, int64_t wall_ns, const char *answer);
/* The server took a message again: every pending message of dest waiting for a later attempt is
 * due now, so that what waited goes out oldest first. Returns how many, or -EIO. */
long alerts_outbox_wake(alerts_outbox *o, const char *dest, int64_t wall_ns);
/* The destination failed with error: no pending message of dest is tried before until_wall_ns (a
 * server that is down is asked once per backoff, not once per message, and what waited stays in
 * order); each keeps the error as its last. */
long alerts_outbox_defer(alerts_outbox *o, const char *dest, int64_t until_wall_ns, const char *error);
int alerts_outbox_retry(alerts_outbox *o, int64_t id, int64_t next_wall_ns, const char *error, const char *answer);
int alerts_outbox_failed(alerts_outbox *o, int64_t id, int64_t wall_ns, const char *error, const char *answer);
/* Gives up the pending and held messages of dest queued before wall_ns − max_age_ns (failed, with
 * "given up after N h: LAST ERROR"). Returns how many, or -EIO. */
long alerts_outbox_expire(alerts_outbox *o, const char *dest, int64_t wall_ns, int64_t max_age_ns);

/* Gives up the pending and held messages of destinations not among names[] (removed from the
 * configuration): failed, "destination NAME is no longer configured". Returns how many, or -EIO. */
long alerts_outbox_orphans(alerts_outbox *o, const char *const *names, size_t n, int64_t wall_ns);

/* Counts of dest's messages by state (for the status and the tests). */
typedef struct alerts_counts {
    long pending, held, sent, failed, folded;
} alerts_counts;
int alerts_outbox_counts(alerts_outbox *o, const char *dest, alerts_counts *c);

/* Acknowledges the asset's unacknowledged alerts (by user, with a note). Returns how many. */
long alerts_outbox_ack(alerts_outbox *o, const char *asset, const char *user, const char *note, int64_t wall_ns);
/* The asset of alert alert_id into asset_out (for POST /alerts/{id}/ack, which acknowledges the
 * alert's asset): it only looks the alert up; the caller acknowledges the asset through the rules
 * (alerts_outbox_ack and the rules' state). 0, -ENOENT (no such alert), -ENOSPC (asset_len too
 * short), -EINVAL, -EIO. */
int alerts_outbox_alert_asset(alerts_outbox *o, int64_t alert_id, char *asset_out, size_t asset_len);

/* Labels an alert a true or a false alarm (label "true_alarm" or "false_alarm"), by user with a note
 * at wall_ns, replacing an earlier label; label NULL clears it (and its user, note and time). 0,
 * -ENOENT (no such alert), -EINVAL (another label), -EIO (a read-only handle, a database error). */
int alerts_outbox_label(alerts_outbox *o, int64_t alert_id, const char *label, const char *user, const char *note,
                        int64_t wall_ns);

/* One destination's message of an alert. */
typedef struct alerts_delivery {
    const char *dest, *state;          /* state: pending, held, sent, failed, folded */
    const char *last_error;            /* NULL when none */
    long attempts;
    int64_t done_wall_ns;              /* when sent or given up; 0 while not finished */
} alerts_delivery;

/* The newest alerts first (by data time, then id), at most max, each with its deliveries as one
 * text ("mail: sent; sms: pending, attempt 3: LAST ERROR") and as a list (in the order queued).
 * Every pointer is valid during the callback only. Returns how many, or -EIO. */
typedef struct alerts_listed {
    int64_t id, t_ns;
    const char *asset, *kind, *level, *previous, *summary, *evidence;
    const char *acked_by, *ack_note;   /* NULL when not acknowledged */
    const char *deliveries;            /* "" without destinations */
    const char *label;                 /* "true_alarm", "false_alarm", NULL when not labelled */
    const char *label_by, *label_note; /* NULL when not labelled (or labelled before these were kept) */
    int64_t label_wall_ns, acked_wall_ns; /* 0 when not labelled / not acknowledged */
    const alerts_delivery *dl;         /* ndl deliveries (NULL when none) */
    size_t ndl;
} alerts_listed;
long alerts_outbox_list(alerts_outbox *o, long max, void (*cb)(void *ctx, const alerts_listed *a), void *ctx);
/* The same for one asset (NULL: all), continuing after alert before_id (the last one of the
 * previous page: the alerts that come after it in this order; 0: from the newest; an id no longer
 * there: the alerts with smaller ids). */
long alerts_outbox_list_where(alerts_outbox *o, const char *asset, int64_t before_id, long max,
                              void (*cb)(void *ctx, const alerts_listed *a), void *ctx);

/* Deletes finished alerts (every message sent, failed or folded) acknowledged or not, older than
 * keep_ns of data time before now_t_ns, and the oldest beyond max_rows alerts; their messages go
 * with them. Returns the alerts deleted, or -EIO. */
long alerts_outbox_prune(alerts_outbox *o, int64_t now_t_ns, int64_t keep_ns, long max_rows);

#endif
