/* tests/unit/testlib.h — the unit-test harness: each test is a function; a failed check records
 * its first message and the test goes on. Every test prints one TAP-like line that tests/run.sh
 * counts: "ok - PROG: NAME", "not ok - PROG: NAME: WHY" or "skip - PROG: NAME: WHY". */
#ifndef VW_TESTLIB_H
#define VW_TESTLIB_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>

void t_fail_at(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void t_skip(const char *why, ...) __attribute__((format(printf, 1, 2)));
/* Runs fn as the test NAME. */
void t_run(const char *name, void (*fn)(void));
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
/* s starts with prefix. */
int t_starts_with(const char *s, const char *prefix);
/* Runs child(ctx, fd) in a forked process whose exit status is the function's return value; what
 * it writes to fd (at most outlen − 1 bytes) comes back in out. Returns that status, or -1 when the
 * child did not exit normally or could not be started. */
int t_fork_capture(int (*child)(void *ctx, int fd), void *ctx, char *out, size_t outlen);

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
