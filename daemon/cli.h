/* daemon/cli.h — the subcommands of the `vibewatch` command. Each takes the arguments after its
 * name and returns the process exit status: 0 success, 1 some input could not be processed,
 * 2 a usage error. */
#ifndef VW_DAEMON_CLI_H
#define VW_DAEMON_CLI_H

#include <stddef.h>

int cmd_analyze(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_fit_prior(int argc, char **argv);
int cmd_maintenance(int argc, char **argv);
int cmd_ack(int argc, char **argv);
int cmd_alert_test(int argc, char **argv);
int cmd_alerts(int argc, char **argv);
int cmd_passwd(int argc, char **argv);
int cmd_token(int argc, char **argv);

/* Requests to the running box (cmd_run.c): DATA_DIR/KIND/ASSET holding text, renamed into place.
 * Run as root for a data dir of another user (the box's), the folder and the file are given to
 * that user and group, and *owned_by (if not NULL) is set to its uid; otherwise to -1. 0 or
 * -errno with err. */
int vw_request_put(const char *data_dir, const char *kind, const char *asset, const char *text, long *owned_by,
                   char *err, size_t errlen);
/* "" for uid -1, else " (owned by NAME, as the data dir, …)" in buf: for the command's line. */
const char *vw_request_owner_note(long uid, char *buf, size_t len);
/* Options -c CONFIG, --data-dir DIR (and --user, --note when user/note are given) and one ASSET of
 * the config. Returns -1 with *asset and *dir malloc'd to go on, or the exit status (0 after
 * --help, 2 for a usage error). */
int vw_request_cmd(int argc, char **argv, const char *kind, const char *usage, char **asset, char **dir,
                   const char **user, const char **note);

/* Parses a comma-separated list of exactly n finite numbers ("2700,4200"); 0 or -EINVAL. */
int cli_parse_doubles(const char *s, double *out, int n);
/* The configuration of -c PATH, or the embedded default when path is NULL; NULL after printing
 * "vibewatch CMD: FILE: problem" to stderr. */
struct vw_config;
struct vw_config *cli_load_config(const char *cmd, const char *path);
/* Parses one finite number; 0 or -EINVAL. */
int cli_parse_double(const char *s, double *out);

/* A positive duration with its unit: "14d", "6h", "30m", "45s" (fractions allowed) → hours;
 * 0 or -EINVAL (no unit, zero, negative, trailing text). */
int cli_parse_duration_h(const char *s, double *hours);

#endif
