/* daemon/config_priv.h — shared by the configuration loader's files, not part of its face
 * (daemon/config.h):
 *
 *   config_syntax.c  JSON syntax with line and column, before cJSON sees the text
 *   config_read.c    the walk's tools: the JSON path of the value in hand, typed getters whose
 *                    errors read "PATH: must be DESCRIPTION, not VALUE", UTF-8 and id checks
 *   config_asset.c   assets, their bearings and sensors, and the cross-references between them
 *   config.c         the top level: parse, load, the embedded default, free, lookups
 *
 * The walk stops at the first problem: one message, naming the path, is what a person fixes next.
 */
#ifndef VW_DAEMON_CONFIG_PRIV_H
#define VW_DAEMON_CONFIG_PRIV_H

#include "config.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define VW_CFG_MAX_DEPTH 64       /* nesting of objects and arrays (the schema needs 6) */

/* Checks that text[0..len) is one JSON value (RFC 8259) nested at most VW_CFG_MAX_DEPTH deep,
 * without NUL characters (raw or \u0000) and with numbers cJSON reads whole. 0, or -EINVAL with
 * "line L, column C: problem" in err. Invalid UTF-8 inside strings is not a syntax error here:
 * the walk names it by its JSON path; *bad_utf8 gets the offset of the first such byte (or len)
 * so that a bad byte the walk never reads (a comment) is still refused. */
int vw_cfg_check_syntax(const char *text, size_t len, size_t *bad_utf8, char *err, size_t errlen);
/* "line L, column C" of a byte offset (columns count characters, from 1). */
void vw_cfg_line_col(const char *text, size_t len, size_t off, unsigned *line, unsigned *col);

/* ---- the walk ------------------------------------------------------------------------------ */

typedef struct vw_cfg_ctx {
    char *err;
    size_t errlen;
    char path[512];               /* "assets[0].sensors[1]" of the value in hand */
    size_t plen;
} vw_cfg_ctx;

/* Path building: each returns the previous length, which vw_cfg_path_pop restores. */
size_t vw_cfg_path_key(vw_cfg_ctx *x, const char *key);
size_t vw_cfg_path_index(vw_cfg_ctx *x, unsigned i);
void vw_cfg_path_pop(vw_cfg_ctx *x, size_t mark);

/* "PATH: message" (or "PATH.key: message" when key is not NULL); returns -EINVAL. */
int vw_cfg_fail(vw_cfg_ctx *x, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "PATH.key: must be DESC, not VALUE"; returns -EINVAL. */
int vw_cfg_fail_value(vw_cfg_ctx *x, const char *key, const char *desc, const cJSON *v);
/* s quoted for a message: control characters and invalid UTF-8 escaped, long text cut. */
void vw_cfg_quote(char *out, size_t outlen, const char *s);

/* Keys named "//" or starting with "//" are comments, ignored at every level. */
bool vw_cfg_is_comment(const char *key);
/* Every key of obj is one of known[] (NULL-terminated) or a comment, and no key appears twice. */
int vw_cfg_check_keys(vw_cfg_ctx *x, const cJSON *obj, const char *const *known);
/* The member named exactly key (case-sensitive), or NULL. */
const cJSON *vw_cfg_member(const cJSON *obj, const char *key);

/* The getters leave *out alone when the key is absent (and return 0), or fail when required.
 * Numbers must be finite and within [lo, hi]; whole ones have no fraction. */
int vw_cfg_get_number(vw_cfg_ctx *x, const cJSON *obj, const char *key, bool required, double lo, double hi,
                      double *out);
int vw_cfg_get_whole(vw_cfg_ctx *x, const cJSON *obj, const char *key, bool required, double lo, double hi,
                     double *out);
int vw_cfg_get_bool(vw_cfg_ctx *x, const cJSON *obj, const char *key, bool *out);

enum vw_cfg_text {
    VW_CFG_ID,                    /* [A-Za-z0-9_.-]{1,64}, not "." or ".." */
    VW_CFG_AXIS,                  /* the same characters, 1–31 */
    VW_CFG_NAME,                  /* UTF-8, 1–256 bytes, no control characters */
    VW_CFG_URI,                   /* UTF-8, 1–255 bytes, no control characters (a file: path is
                                     taken as written, spaces and all) */
    VW_CFG_PATH,                  /* UTF-8, 1–1024 bytes, no control characters */
    VW_CFG_LISTEN,                /* "" or ADDR:PORT (numeric IPv4, or [IPv6]) */
    VW_CFG_SECRET,                /* as VW_CFG_NAME, but an error never shows the value (passwords,
                                     tokens, header values that carry API keys) */
};
/* A string of the kind, malloc'd into *out (a default already there is freed and replaced). */
int vw_cfg_get_text(vw_cfg_ctx *x, const cJSON *obj, const char *key, bool required, enum vw_cfg_text kind,
                    char **out);
/* Checks s as the kind; 0, or -EINVAL with the problem in why. */
int vw_cfg_check_text(const char *s, enum vw_cfg_text kind, char *why, size_t whylen);
/* One of choices[] (NULL-terminated): its index in *out. */
int vw_cfg_get_choice(vw_cfg_ctx *x, const cJSON *obj, const char *key, bool required,
                      const char *const *choices, int *out);
/* obj[key] must be an object (or absent: *out NULL). */
int vw_cfg_get_object(vw_cfg_ctx *x, const cJSON *obj, const char *key, bool required, const cJSON **out);
/* obj[key] must be an array of at most max items (or absent: *out NULL). */
int vw_cfg_get_array(vw_cfg_ctx *x, const cJSON *obj, const char *key, bool required, unsigned max,
                     const char *what, const cJSON **out);

/* Offset of the first byte of s[0..n) that is not valid UTF-8 (overlong forms, surrogates and
 * code points above U+10FFFF are invalid), or n. */
size_t vw_cfg_utf8_check(const unsigned char *s, size_t n);

char *vw_cfg_strdup(const char *s);

/* config_asset.c: reads assets[] into c->assets, with every cross-reference checked. */
int vw_cfg_read_assets(vw_cfg_ctx *x, const cJSON *root, vw_config *c);

/* config_models.c: the "models" section (defaults first with vw_cfg_models_default) and an
 * asset's "installed" date and "load_n" (NAN when absent). */
void vw_cfg_models_default(vw_cfg_models *m);
/* config_outputs.c: the "outputs" section; its strings are freed by vw_cfg_free_outputs. */
int vw_cfg_read_outputs(vw_cfg_ctx *x, const cJSON *root, vw_config *c);
void vw_cfg_free_outputs(vw_config *c);
/* config_alerts.c: the "alerts" section (read after the assets, which it refers to). */
void vw_cfg_alerts_default(vw_cfg_alerts *a);
int vw_cfg_read_alerts(vw_cfg_ctx *x, const cJSON *root, vw_config *c);
void vw_cfg_free_alerts(vw_config *c);
/* config_web.c: the web section beyond listen, and users. */
int vw_cfg_read_web(vw_cfg_ctx *x, const cJSON *web, const cJSON *root, vw_config *c);
void vw_cfg_free_web(vw_config *c);
int vw_cfg_read_models(vw_cfg_ctx *x, const cJSON *root, vw_cfg_models *m);
/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" (a real UTC date, 1970–2200) as hours since 1970. 0 or -EINVAL. */
int vw_cfg_parse_utc_h(const char *s, double *hours);
int vw_cfg_read_installed(vw_cfg_ctx *x, const cJSON *asset, double *installed_h, double *load_n);

#endif
