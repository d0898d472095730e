/* Replays the fuzz corpus of the HTTP server's request-text parsers (tests/fuzz/corpus_query/)
 * through the fuzz target's own harness (tests/fuzz/query_harness.h): every file must pass its
 * checks (bounded, clean, re-encodable queries; refusals that say why; cookies as a model finds
 * them; JSON bodies as cJSON reads them); under `make SANITIZE=1` ASan and UBSan also turn any
 * memory error into a failure here. Files named valid-* must be accepted (a query parsed, a cookie
 * found, a body that is an object), hostile-* refused; any other name (crash inputs the fuzzer
 * found, kept once fixed) only has to pass. The first byte of a file picks the parser: '0' query,
 * '1' cookie, '2' body (byte % 3). The libFuzzer target itself is tests/fuzz/fuzz_query.c, which
 * says how to build and run it. */
#include "tests/fuzz/query_harness.h"
#include "testlib.h"

#define CORPUS "tests/fuzz/corpus_query"

static int replay_one(t_replay_case *k)
{
    int res = qh_harness_one(k->data, k->len, &k->code, k->why, sizeof k->why);
    k->accepted = k->code >= 0;
    return res;
}

int main(void)
{
    static const char *const refuse[] = {"hostile-", NULL};
    static const t_corpus_spec spec = {CORPUS, "accepted", refuse, 20, 10, 10, 1};
    return t_corpus_replay_main(&spec, replay_one);
}
