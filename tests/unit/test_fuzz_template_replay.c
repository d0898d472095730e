/* Replays the fuzz corpus of the webhook templates (tests/fuzz/corpus_template/) through the fuzz
 * target's own harness (tests/fuzz/template_harness.h): every file must pass its checks (the code
 * and output a model of the header predicts, out "" on error, escaped values that decode back,
 * -ENOSPC one byte short, truncation as described); under `make SANITIZE=1` ASan and UBSan also
 * turn any memory error into a failure here. Files named valid-* must render
 * (alerts_template_render returns a length), hostile-* be refused (any error); any other name
 * (crash inputs the fuzzer found, kept once fixed) only has to pass. The libFuzzer target itself is
 * tests/fuzz/fuzz_template.c, which says how to build and run it.
 *
 * The corpus is found from the working directory (tests run from the repository root), or else
 * from this program's path (build/CONFIG/tests/ → ../../../tests/fuzz/corpus_template). */
#include "tests/fuzz/template_harness.h"
#include "testlib.h"

#define CORPUS "tests/fuzz/corpus_template"

static int replay_one(t_replay_case *k)
{
    int res = th_harness_one(k->data, k->len, &k->code, k->why, sizeof k->why);
    k->accepted = k->code >= 0;
    return res;
}

int main(void)
{
    static const char *const refuse[] = {"hostile-", NULL};
    static const t_corpus_spec spec = {CORPUS, "written", refuse, 20, 10, 10, 1};
    return t_corpus_replay_main(&spec, replay_one);
}
