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

#define CORPUS "tests/fuzz/corpus_lineproto"

static int replay_one(t_replay_case *k)
{
    int rc = 0;
    int res = lp_harness_one(k->data, k->len, &rc, k->why, sizeof k->why);
    k->code = rc;
    k->accepted = rc == 0;
    return res;
}

int main(void)
{
    static const char *const refuse[] = {"hostile-", NULL};
    static const t_corpus_spec spec = {CORPUS, "written", refuse, 20, 10, 10, 1};
    return t_corpus_replay_main(&spec, replay_one);
}
