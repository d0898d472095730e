/* Replays the fuzz corpus of the configuration loader (tests/fuzz/corpus_config/) through
 * vw_config_parse: every file must come back, accepted or refused with a message, without a crash
 * (under `make SANITIZE=1` ASan and UBSan turn any memory error into a failure here). Files named
 * valid-* must be accepted; trunc-*, hostile-*, empty* and only-* must be refused; any other name
 * (crash inputs the fuzzer found, kept once fixed) only has to come back. The libFuzzer target
 * itself is tests/fuzz/fuzz_config.c, which says how to build and run it.
 *
 * The corpus is found from the working directory (tests run from the repository root), or else
 * from this program's path (build/CONFIG/tests/ → ../../../tests/fuzz/corpus_config). */
#include "daemon/config.h"
#include "testlib.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CORPUS "tests/fuzz/corpus_config"

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
    unsigned files = 0, accepted = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        /* a corpus file is small; read it into a buffer of exactly its size, so ASan sees any read
         * past its end */
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *buf = malloc(n > 0 ? (size_t)n : 1);
        size_t got = buf && n >= 0 ? fread(buf, 1, (size_t)n, f) : 0;
        fclose(f);
        if (!buf)
            continue;
        T_CHECK(got == (size_t)n, "%s: short read", e->d_name);
        char err[512] = "";
        vw_config *c = vw_config_parse(buf, got, err, sizeof err);
        files++;
        if (c)
            accepted++;
        if (starts_with(e->d_name, "valid-"))
            T_CHECK(c != NULL, "%s refused: %s", e->d_name, err);
        else if (starts_with(e->d_name, "trunc-") || starts_with(e->d_name, "hostile-") ||
                 starts_with(e->d_name, "empty") || starts_with(e->d_name, "only-"))
            T_CHECK(c == NULL, "%s accepted", e->d_name);
        T_CHECK(c != NULL || err[0], "%s refused without a message", e->d_name);
        vw_config_free(c);
        free(buf);
    }
    closedir(d);
    T_CHECK(files >= 20, "only %u corpus files in %s", files, dir);
    T_CHECK(accepted >= 5, "only %u corpus files accepted", accepted);
}

int main(void)
{
    T_RUN(test_replay_corpus);
    return t_done();
}
