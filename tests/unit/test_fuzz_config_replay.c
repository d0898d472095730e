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

#include <string.h>

#define CORPUS "tests/fuzz/corpus_config"

typedef struct tally {
    unsigned accepted;
} tally;

static void replay_one(void *ctx, const char *name, const unsigned char *data, size_t len)
{
    tally *t = ctx;
    char err[512] = "";
    vw_config *c = vw_config_parse((const char *)data, len, err, sizeof err);
    t->accepted += c != NULL;
    if (t_starts_with(name, "valid-"))
        T_CHECK(c != NULL, "%s refused: %s", name, err);
    else if (t_starts_with(name, "trunc-") || t_starts_with(name, "hostile-") || t_starts_with(name, "empty") ||
             t_starts_with(name, "only-"))
        T_CHECK(c == NULL, "%s accepted", name);
    T_CHECK(c != NULL || err[0], "%s refused without a message", name);
    vw_config_free(c);
}

static void test_replay_corpus(void)
{
    tally t = {0};
    int files = t_corpus_each(CORPUS, replay_one, &t);
    T_CHECK(files >= 20, "only %d corpus files in %s", files, CORPUS);
    T_CHECK(t.accepted >= 5, "only %u corpus files accepted", t.accepted);
}

int main(void)
{
    T_RUN(test_replay_corpus);
    return t_done();
}
