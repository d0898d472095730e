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

#include <stdio.h>

#define CORPUS "tests/fuzz/corpus_config"

/* No harness of its own: every input passes once it comes back, a refused one with a message. */
static int replay_one(t_replay_case *k)
{
    char err[512] = "";
    vw_config *c = vw_config_parse((const char *)k->data, k->len, err, sizeof err);
    k->accepted = c != NULL;
    snprintf(k->detail, sizeof k->detail, ": %s", err);
    T_CHECK(c != NULL || err[0], "%s refused without a message", k->name);
    vw_config_free(c);
    return 0;
}

int main(void)
{
    static const char *const refuse[] = {"trunc-", "hostile-", "empty", "only-", NULL};
    static const t_corpus_spec spec = {.rel = CORPUS, .accepted = "accepted", .must_refuse = refuse,
                                       .min_files = 20, .min_accepted = 5};
    return t_corpus_replay_main(&spec, replay_one);
}
