/* tests/unit/testlib.h — the unit-test harness: each test is a function; a failed check records
 * its first message and the test goes on. Every test prints one TAP-like line that tests/run.sh
 * counts: "ok - PROG: NAME", "not ok - PROG: NAME: WHY" or "skip - PROG: NAME: WHY". */
#ifndef VW_TESTLIB_H
#define VW_TESTLIB_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

void t_fail_at(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void t_skip(const char *why, ...) __attribute__((format(printf, 1, 2)));
/* Runs fn as the test NAME. */
void t_run(const char *name, void (*fn)(void));
/* Runs fn as the test NAME unless $VW_TEST_ONLY is set (not empty) and NAME does not contain it. */
void t_run_only(const char *name, void (*fn)(void));
/* Prints nothing more; returns the exit status for main (1 when any test failed). */
int t_done(void);
/* A fresh, empty temporary folder for this test program (removed by tests/run.sh). */
const char *t_tmpdir(void);
/* $VW_DATA or ../shared/data; NULL (and a skip, or a failure when VW_REQUIRE_DATA=1) when the
 * sub-folder is missing. */
const char *t_data_dir(const char *sub);

/* A folder of the repository by its path from the root (e.g. "tests/fuzz/corpus_config"): found
 * from the working directory (tests run from the root), or else from this program's path
 * (build/CONFIG/tests/ → ../../../REL); NULL when neither has it. */
const char *t_repo_dir(const char *rel);
/* Calls fn for every file of the repository folder rel (a fuzz corpus), its bytes in a buffer of
 * exactly their size (so ASan sees a read past the end). Returns the number of files, or -1 (and a
 * failed check) when the folder is not found. */
int t_corpus_each(const char *rel, void (*fn)(void *ctx, const char *name, const unsigned char *data, size_t len),
                  void *ctx);
/* What t_corpus_replay expects of a fuzz corpus: files named valid-* must be accepted, those
 * starting with one of must_refuse refused; any other name (crash inputs the fuzzer found, kept
 * once fixed) only has to pass the harness. */
typedef struct t_corpus_spec {
    const char *rel;                /* the corpus folder, e.g. "tests/fuzz/corpus_template" */
    const char *accepted;           /* the word for an accepted input in messages: "written" */
    const char *const *must_refuse; /* name prefixes, NULL-terminated */
    int min_files;                  /* at least this many files */
    unsigned min_accepted, min_refused; /* at least this many accepted and refused (0: any) */
    int show_tally;                 /* print "# REL: N files, N ACCEPTED, N refused" */
} t_corpus_spec;
/* One corpus file as a harness sees it. */
typedef struct t_replay_case {
    const char *name;               /* the file's name */
    const unsigned char *data;      /* its bytes (exactly len) */
    size_t len;
    int accepted;                   /* out: the input was accepted (written, rendered, parsed) */
    long code;                      /* out: what the function under test returned */
    char detail[600];               /* out, optional: what a refusal said, as it follows "NAME refused"
                                       in a message (": why"); " (CODE)" when left "" */
    char why[1024];                 /* out: why the harness's checks failed */
} t_replay_case;
/* Runs one case through a harness: 0 when it passed the harness's checks, else non-zero (why set). */
typedef int (*t_replay_fn)(t_replay_case *k);
/* Replays every file of the corpus through one (t_corpus_each) and checks the verdicts, the names'
 * expectations and the counts of spec, each as a check of the running test. */
void t_corpus_replay(const t_corpus_spec *spec, t_replay_fn one);
/* A whole replay program: t_corpus_replay as the test "test_replay_corpus"; returns t_done(). */
int t_corpus_replay_main(const t_corpus_spec *spec, t_replay_fn one);
/* s starts with prefix. */
int t_starts_with(const char *s, const char *prefix);
/* Runs child(ctx, fd) in a forked process whose exit status is the function's return value; what
 * it writes to fd (at most outlen − 1 bytes) comes back in out. Returns that status, or -1 when the
 * child did not exit normally or could not be started. */
int t_fork_capture(int (*child)(void *ctx, int fd), void *ctx, char *out, size_t outlen);

/* A helper server of a test (a Python script on a loopback port): argv[0] run with argv in a child
 * that dies with this program (PR_SET_PDEATHSIG), its stdout and stderr to errfile; then up to
 * timeout_s for port_file to hold its port (*port). Returns the child's pid once it listens, else
 * T_SERVER_NO_FORK (errno says why), T_SERVER_EXITED (it exited at start) or T_SERVER_SLOW (it did
 * not listen in time: killed); no child is left either way, and no check is recorded. */
#define T_SERVER_NO_FORK (-1)
#define T_SERVER_EXITED (-2)
#define T_SERVER_SLOW (-3)
pid_t t_server_start(const char *const *argv, const char *errfile, const char *port_file, double timeout_s,
                     int *port);
/* Kills a server that t_server_start started (SIGKILL) and waits for it; pid <= 0: nothing. */
void t_server_stop(pid_t pid);
/* Kills every server still running (for atexit, should a test program stop early). */
void t_server_stop_all(void);

/* Valid UTF-8 by glibc's iconv (which refuses overlongs, surrogates, > U+10FFFF): n bytes of s. */
int t_utf8_valid(const char *s, size_t n);
/* Code points of valid UTF-8 (a C string): the bytes that are not continuation bytes. */
size_t t_code_points(const char *s);

/* Runs fn(dir, fd) in a forked child that has a tmpfs of `size` ("16m") mounted on dir in a
 * private mount namespace — a small file system to fill. Its output comes back as with
 * t_fork_capture. Returns fn's status, T_NO_TMPFS when the namespace or the mount is not allowed
 * here (the caller skips), or -1. */
#define T_NO_TMPFS 77
int t_in_tmpfs(const char *dir, const char *size, int (*fn)(const char *dir, int fd), char *out, size_t outlen);

/* A fixed-seed generator shared by the tests (splitmix64; Box-Muller for Gaussian values), the
 * same on every platform, so a failing case can be replayed. */
void t_rng_seed(uint64_t seed);
double t_urand(void); /* uniform in (0, 1] */
double t_grand(void); /* standard normal */

#define T_CHECK(cond, ...) do { if (!(cond)) t_fail_at(__FILE__, __LINE__, __VA_ARGS__); } while (0)
#define T_NEAR(a, b, tol, what) do { double a_ = (a), b_ = (b); \
        if (!(fabs(a_ - b_) <= (tol))) t_fail_at(__FILE__, __LINE__, "%s: got %.9g, want %.9g ± %.3g", \
                                                  (what), a_, b_, (double)(tol)); } while (0)
#define T_RUN(fn) t_run(#fn, fn)

#endif
