/* tests/unit/testlib.c — see testlib.h. */
#define _GNU_SOURCE /* unshare, CLONE_NEWNS */
#include "testlib.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *prog = "test";
static char first_msg[512];
static int cur_failed, cur_skipped, n_failed;
static char tmpdir[512];

void t_fail_at(const char *file, int line, const char *fmt, ...)
{
    if (!cur_failed) {
        int k = snprintf(first_msg, sizeof first_msg, "%s:%d: ", file, line);
        va_list ap;
        va_start(ap, fmt);
        if (k > 0 && (size_t)k < sizeof first_msg)
            vsnprintf(first_msg + k, sizeof first_msg - (size_t)k, fmt, ap);
        va_end(ap);
    }
    cur_failed++;
}

void t_skip(const char *fmt, ...)
{
    if (cur_skipped || cur_failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(first_msg, sizeof first_msg, fmt, ap);
    va_end(ap);
    cur_skipped = 1;
}

void t_run(const char *name, void (*fn)(void))
{
    cur_failed = cur_skipped = 0;
    first_msg[0] = 0;
    fn();
    if (cur_failed) {
        n_failed++;
        printf("not ok - %s: %s: %s%s\n", prog, name, first_msg,
               cur_failed > 1 ? " (and more)" : "");
    } else if (cur_skipped) {
        printf("skip - %s: %s: %s\n", prog, name, first_msg);
    } else {
        printf("ok - %s: %s\n", prog, name);
    }
    fflush(stdout);
}

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

void t_rng_seed(uint64_t seed) { rng_state = seed; }

double t_urand(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 1.0) / 9007199254740992.0;
}

double t_grand(void) { return sqrt(-2 * log(t_urand())) * cos(2 * M_PI * t_urand()); }

int t_done(void) { return n_failed ? 1 : 0; }

const char *t_tmpdir(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("VW_TEST_TMP");
        snprintf(tmpdir, sizeof tmpdir, "%s/vwtest.XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(2);
        }
    }
    return tmpdir;
}

const char *t_data_dir(const char *sub)
{
    static char path[1024];
    const char *base = getenv("VW_DATA");
    if (!base || !*base)
        base = "../shared/data";
    snprintf(path, sizeof path, "%s/%s", base, sub);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return path;
    const char *req = getenv("VW_REQUIRE_DATA");
    if (req && strcmp(req, "1") == 0)
        t_fail_at(__FILE__, __LINE__, "data set %s is missing and VW_REQUIRE_DATA=1", path);
    else
        t_skip("data set %s is missing (set VW_DATA)", path);
    return NULL;
}

const char *t_repo_dir(const char *rel)
{
    static char path[1024];
    struct stat st;
    if (stat(rel, &st) == 0 && S_ISDIR(st.st_mode))
        return rel;
    char exe[900];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k > 0) {
        exe[k] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(path, sizeof path, "%s/../../../%s", exe, rel);
            if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
                return path;
        }
    }
    return NULL;
}

int t_starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

int t_corpus_each(const char *rel, void (*fn)(void *ctx, const char *name, const unsigned char *data, size_t len),
                  void *ctx)
{
    const char *dir = t_repo_dir(rel);
    T_CHECK(dir != NULL, "%s not found (run from the repository root)", rel);
    DIR *d = dir ? opendir(dir) : NULL;
    if (dir)
        T_CHECK(d != NULL, "cannot open %s", dir);
    if (!d)
        return -1;
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        long n = f && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
        unsigned char *buf = n >= 0 && fseek(f, 0, SEEK_SET) == 0 ? malloc(n > 0 ? (size_t)n : 1) : NULL;
        size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
        if (f)
            fclose(f);
        T_CHECK(buf && got == (size_t)n, "%s: cannot read it whole", path);
        if (buf && got == (size_t)n) {
            fn(ctx, e->d_name, buf, got);
            files++;
        }
        free(buf);
    }
    closedir(d);
    return files;
}

int t_fork_capture(int (*child)(void *ctx, int fd), void *ctx, char *out, size_t outlen)
{
    int fds[2];
    if (!outlen || pipe(fds) != 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        _exit(child(ctx, fds[1]));
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t k;
    while (len < outlen - 1 && (k = read(fds[0], out + len, outlen - 1 - len)) > 0)
        len += (size_t)k;
    out[len] = 0;
    close(fds[0]);
    int status;
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

typedef struct tmpfs_job {
    const char *dir, *size;
    int (*fn)(const char *dir, int fd);
} tmpfs_job;

static int tmpfs_child(void *ctx, int fd)
{
    const tmpfs_job *j = ctx;
    char opts[64];
    snprintf(opts, sizeof opts, "size=%s", j->size);
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return T_NO_TMPFS;
    mkdir(j->dir, 0755);
    if (mount("tmpfs", j->dir, "tmpfs", 0, opts) != 0)
        return T_NO_TMPFS;
    return j->fn(j->dir, fd);
}

int t_in_tmpfs(const char *dir, const char *size, int (*fn)(const char *dir, int fd), char *out, size_t outlen)
{
    tmpfs_job j = {dir, size, fn};
    return t_fork_capture(tmpfs_child, &j, out, outlen);
}

/* Names the program in every line it prints. */
__attribute__((constructor)) static void t_init(void)
{
    char buf[256];
    ssize_t k = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (k > 0) {
        buf[k] = 0;
        const char *s = strrchr(buf, '/');
        static char name[256];
        snprintf(name, sizeof name, "%s", s ? s + 1 : buf);
        prog = name;
    }
}
