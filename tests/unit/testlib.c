/* tests/unit/testlib.c — see testlib.h. */
#define _GNU_SOURCE /* unshare, CLONE_NEWNS */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
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

void t_run_only(const char *name, void (*fn)(void))
{
    const char *only = getenv("VW_TEST_ONLY");
    if (!only || !*only || strstr(name, only))
        t_run(name, fn);
}

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

typedef struct replay_job {
    const t_corpus_spec *spec;
    t_replay_fn one;
    unsigned accepted, refused;
} replay_job;

static void replay_file(void *ctx, const char *name, const unsigned char *data, size_t len)
{
    replay_job *j = ctx;
    t_replay_case k = {.name = name, .data = data, .len = len};
    int res = j->one(&k);
    T_CHECK(res == 0, "%s: %s", name, k.why);
    if (k.accepted)
        j->accepted++;
    else
        j->refused++;
    if (!k.detail[0])
        snprintf(k.detail, sizeof k.detail, " (%ld)", k.code);
    if (t_starts_with(name, "valid-")) {
        T_CHECK(k.accepted, "%s refused%s", name, k.detail);
        return;
    }
    for (const char *const *p = j->spec->must_refuse; p && *p; p++)
        if (t_starts_with(name, *p)) {
            T_CHECK(!k.accepted, "%s %s", name, j->spec->accepted);
            return;
        }
}

void t_corpus_replay(const t_corpus_spec *spec, t_replay_fn one)
{
    replay_job j = {spec, one, 0, 0};
    int files = t_corpus_each(spec->rel, replay_file, &j);
    if (spec->show_tally)
        printf("# %s: %d files, %u %s, %u refused\n", spec->rel, files, j.accepted, spec->accepted, j.refused);
    T_CHECK(files >= spec->min_files, "only %d corpus files in %s", files, spec->rel);
    T_CHECK(j.accepted >= spec->min_accepted, "only %u corpus files %s", j.accepted, spec->accepted);
    T_CHECK(j.refused >= spec->min_refused, "only %u corpus files refused", j.refused);
}

static const t_corpus_spec *main_spec;
static t_replay_fn main_one;

static void test_replay_corpus(void) { t_corpus_replay(main_spec, main_one); }

int t_corpus_replay_main(const t_corpus_spec *spec, t_replay_fn one)
{
    main_spec = spec;
    main_one = one;
    T_RUN(test_replay_corpus);
    return t_done();
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

/* ---- helper servers ---- */

static pid_t live[32]; /* the servers running, for t_server_stop_all */

static void live_add(pid_t p)
{
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (!live[i]) {
            live[i] = p;
            return;
        }
}

static void live_remove(pid_t p)
{
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (live[i] == p)
            live[i] = 0;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

pid_t t_server_start(const char *const *argv, const char *errfile, const char *port_file, double timeout_s,
                     int *port)
{
    fflush(stdout);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return T_SERVER_NO_FORK;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive this test */
        if (getppid() != parent)
            _exit(1);
        int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    live_add(pid);
    for (double t0 = mono_s(); mono_s() - t0 < timeout_s;) {
        FILE *f = fopen(port_file, "r");
        if (f) {
            int ok = fscanf(f, "%d", port) == 1;
            fclose(f);
            if (ok)
                return pid;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            live_remove(pid);
            return T_SERVER_EXITED;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
        }
    }
    t_server_stop(pid);
    return T_SERVER_SLOW;
}

void t_server_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    live_remove(pid);
}

void t_server_stop_all(void)
{
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (live[i] > 0)
            t_server_stop(live[i]);
}

/* ---- UTF-8 ---- */

int t_utf8_valid(const char *s, size_t n)
{
    iconv_t cd = iconv_open("UTF-32LE", "UTF-8");
    if (cd == (iconv_t)-1)
        return 0;
    int ok = 1;
    char *in = (char *)s;
    size_t il = n;
    while (ok && il) {
        char buf[256], *o = buf;
        size_t ol = sizeof buf;
        if (iconv(cd, &in, &il, &o, &ol) == (size_t)-1 && errno != E2BIG)
            ok = 0;
    }
    iconv_close(cd);
    return ok;
}

size_t t_code_points(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
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
