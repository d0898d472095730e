/* daemon/cli.h — the subcommands of the `vibewatch` command. Each takes the arguments after its
 * name and returns the process exit status: 0 success, 1 some input could not be processed,
 * 2 a usage error. */
#ifndef VW_DAEMON_CLI_H
#define VW_DAEMON_CLI_H

int cmd_analyze(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_fit_prior(int argc, char **argv);
int cmd_maintenance(int argc, char **argv);

/* Parses a comma-separated list of exactly n finite numbers ("2700,4200"); 0 or -EINVAL. */
int cli_parse_doubles(const char *s, double *out, int n);
/* Parses one finite number; 0 or -EINVAL. */
int cli_parse_double(const char *s, double *out);

/* A positive duration with its unit: "14d", "6h", "30m", "45s" (fractions allowed) → hours;
 * 0 or -EINVAL (no unit, zero, negative, trailing text). */
int cli_parse_duration_h(const char *s, double *hours);

#endif
