/* Replays the fuzz corpus of the line-protocol formatter (tests/fuzz/corpus_lineproto/) through the
 * fuzz target's own harness (tests/fuzz/lp_harness.h): every file must pass its checks (the code
 * the inputs call for, an untouched buffer on error, one line that reads back to the same point on
 * success, -ENOSPC one byte short); under `make SANITIZE=1` ASan and UBSan also turn any memory
 * error into a failure here. Files named valid-* must be written (store_lp_line returns 0),
 * hostile-* refused (any error); any other name (crash inputs the fuzzer found, kept once fixed)
 * only has to pass. The libFuzzer target itself is tests/fuzz/fuzz_lineproto.c, which says how to
 * build and run it.
 *
 * The corpus is found from the working directory (tests run from the repository root), or else
 * from this program's path (build/CONFIG/tests/ → ../../../tests/fuzz/corpus_lineproto). */
#include "tests/fuzz/lp_harness.h"
#include "testlib.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CORPUS "tests/fuzz/corpus_lineproto"

static const char *corpus_dir(void) { return t_repo_dir(CORPUS); }

static int starts_with(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

static void test_replay_corpus(void)
{
    const char *dir = corpus_dir();
    T_CHECK(dir != NULL, "%s not found (run from the repository root)", CORPUS);
    if (!dir)
        return;
    DIR *d = opendir(dir);
    T_CHECK(d != NULL, "cannot open %s", dir);
    if (!d)
        return;
    unsigned files = 0, written = 0, refused = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        /* read into a buffer of exactly the file's size, so ASan sees any read past its end */
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
        size_t got = buf && n >= 0 ? fread(buf, 1, (size_t)n, f) : 0;
        fclose(f);
        if (!buf)
            continue;
        T_CHECK(got == (size_t)n, "%s: short read", e->d_name);
        char why[1024] = "";
        int rc = 0;
        int res = lp_harness_one(buf, got, &rc, why, sizeof why);
        files++;
        T_CHECK(res == 0, "%s: %s", e->d_name, why);
        if (rc == 0)
            written++;
        else
            refused++;
        if (starts_with(e->d_name, "valid-"))
            T_CHECK(rc == 0, "%s refused (%d)", e->d_name, rc);
        else if (starts_with(e->d_name, "hostile-"))
            T_CHECK(rc != 0, "%s written", e->d_name);
        free(buf);
    }
    closedir(d);
    printf("# %s: %u files, %u written, %u refused\n", dir, files, written, refused);
    T_CHECK(files >= 20, "only %u corpus files in %s", files, dir);
    T_CHECK(written >= 10, "only %u corpus files written", written);
    T_CHECK(refused >= 10, "only %u corpus files refused", refused);
}

int main(void)
{
    T_RUN(test_replay_corpus);
    return t_done();
}
