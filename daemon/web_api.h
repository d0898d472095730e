/* daemon/web_api.h — the box's HTTP API (web/API.md): the route table handed to the web server and
 * the handlers that build each document from the pipeline (live state), the local history (trends,
 * spectra, waveforms, events) and the alerts' outbox. The web server (web/http.h) does transport,
 * authentication, roles and CSRF; nothing here knows of sockets or sessions.
 *
 * Threads: handlers run on the server's connection threads, concurrently. Each request borrows a
 * history reader and an outbox connection from a small pool (opened lazily; a database that does
 * not exist yet is a 404 "no history yet", retried on the next request). */
#ifndef VW_DAEMON_WEB_API_H
#define VW_DAEMON_WEB_API_H

#include "config.h"
#include "pipeline.h"
#include "web/http.h"

typedef struct vw_webapi vw_webapi;

/* Starts the web server for a running pipeline (cfg->listen must not be ""). NULL with err. */
vw_webapi *vw_webapi_start(const vw_config *cfg, vw_pipeline *pipe, char *err, size_t errlen);
/* Every few seconds from the main loop: publishes the status (every 10 s) and new alerts as live
 * updates. */
void vw_webapi_tick(vw_webapi *w);
/* The address engineers reach it at ("http://127.0.0.1:8080"), for the log. */
const char *vw_webapi_url(const vw_webapi *w);
/* Stops the server (no handler runs after it returns), then frees. Accepts NULL. */
void vw_webapi_stop(vw_webapi *w);

/* ---- pure helpers (tests/unit/test_web_api.c) --------------------------------------------------- */

/* A time in a query: seconds since 1970 (fraction allowed) or "YYYY-MM-DDTHH:MM:SS[.fff]Z".
 * 0 and *t_ns, or -EINVAL. */
int vw_webapi_parse_time(const char *s, int64_t *t_ns);
/* A whole number in [lo, hi]; 0 or -EINVAL / -ERANGE. */
int vw_webapi_parse_count(const char *s, long lo, long hi, long *out);

#endif
