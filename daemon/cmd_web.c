/* daemon/cmd_web.c — `vibewatch passwd` (a user's entry for the "users" section, with a crypt(3)
 * hash of a password read without echo) and `vibewatch token` (a new API token for scripts and
 * the config entry holding only its SHA-256). Neither writes the configuration: an administrator
 * pastes the printed member into it, so the file stays theirs. */
#include "cli.h"
#include "config.h"
#include "web/auth.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define MAX_PASSWORD 1024

/* One line from stdin (without its newline), echo off on a terminal. 0, -EINVAL (too long or
 * empty), -EIO (end of input). */
static int read_password(const char *prompt, char *buf, size_t len)
{
    int tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        fprintf(stderr, "%s", prompt);
        fflush(stderr);
        if (tcgetattr(STDIN_FILENO, &old) == 0) {
            quiet = old;
            quiet.c_lflag &= (tcflag_t)~ECHO;
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        } else {
            tty = 0;
        }
    }
    char *got = fgets(buf, (int)len, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!got)
        return -EIO;
    size_t n = strlen(buf);
    if (n == len - 1 && buf[n - 1] != '\n')
        return -EINVAL;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = 0;
    return n == 0 ? -EINVAL : 0;
}

static int parse_role(const char *cmd, int argc, char **argv, const char *usage, web_role *role, const char **name)
{
    static const struct option opts[] = {{"role", required_argument, 0, 'r'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    *role = WEB_ROLE_VIEWER;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:h", opts, NULL)) != -1) {
        if (c == 'h') {
            puts(usage);
            return 0;
        }
        if (c != 'r' || web_role_parse(optarg, role) < 0 || *role == WEB_ROLE_NONE) {
            if (c == 'r')
                fprintf(stderr, "vibewatch %s: --role is viewer, operator or admin, not \"%s\"\n", cmd, optarg);
            fprintf(stderr, "%s\n", usage);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "%s\n", usage);
        return 2;
    }
    *name = argv[optind];
    char why[300];
    if (vw_config_check_id(*name, why, sizeof why) < 0) { /* the configuration would refuse the entry */
        fprintf(stderr, "vibewatch %s: the name %s\n", cmd, why);
        return 2;
    }
    return -1;
}

int cmd_passwd(int argc, char **argv)
{
    static const char usage[] =
        "usage: vibewatch passwd [--role viewer|operator|admin] NAME\n"
        "  Reads a password (twice on a terminal; one line from a pipe) and prints NAME's entry for the\n"
        "  configuration's \"users\" section, with a yescrypt hash of it (crypt(3)); the default role is viewer.\n"
        "  Paste it into the config and reload the box (systemctl reload vibewatch, or SIGHUP).";
    web_role role;
    const char *name;
    int rc = parse_role("passwd", argc, argv, usage, &role, &name);
    if (rc >= 0)
        return rc;
    char pw[MAX_PASSWORD], again[MAX_PASSWORD];
    if ((rc = read_password("Password: ", pw, sizeof pw)) < 0) {
        fprintf(stderr, "vibewatch passwd: %s\n",
                rc == -EIO ? "no password given (end of input)" : "the password must be 1 to 1022 bytes on one line");
        return 1;
    }
    if (isatty(STDIN_FILENO)) {
        if (read_password("Again: ", again, sizeof again) < 0 || strcmp(pw, again) != 0) {
            memset(pw, 0, sizeof pw);
            fprintf(stderr, "vibewatch passwd: the two passwords differ\n");
            return 1;
        }
        memset(again, 0, sizeof again);
    }
    char hash[256], err[256];
    rc = web_auth_hash_password(pw, hash, sizeof hash, err, sizeof err);
    memset(pw, 0, sizeof pw);
    if (rc < 0) {
        fprintf(stderr, "vibewatch passwd: %s\n", err);
        return 1;
    }
    printf("\"%s\": {\"password_hash\": \"%s\", \"role\": \"%s\"}\n", name, hash, web_role_name(role));
    return 0;
}

int cmd_token(int argc, char **argv)
{
    static const char usage[] =
        "usage: vibewatch token [--role viewer|operator|admin] NAME\n"
        "  Makes a new API token for a script (Authorization: Bearer TOKEN). Prints the token once, and the\n"
        "  entry for the configuration's web.tokens, which keeps only its SHA-256; the default role is viewer.";
    web_role role;
    const char *name;
    int rc = parse_role("token", argc, argv, usage, &role, &name);
    if (rc >= 0)
        return rc;
    char token[WEB_AUTH_TOKEN_CHARS + 1], digest[65];
    if ((rc = web_auth_new_token(token, digest)) < 0) {
        fprintf(stderr, "vibewatch token: no random bytes: %s\n", strerror(-rc));
        return 1;
    }
    printf("token: %s\n\"%s\": {\"sha256\": \"%s\", \"role\": \"%s\"}\n", token, name, digest, web_role_name(role));
    return 0;
}
