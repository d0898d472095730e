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

#include <stdio.h>

#define CORPUS "tests/fuzz/corpus_template"

typedef struct tally {
    unsigned written, refused;
} tally;

static void replay_one(void *ctx, const char *name, const unsigned char *data, size_t len)
{
    tally *t = ctx;
    char why[1024] = "";
    long rc = 0;
    int res = th_harness_one(data, len, &rc, why, sizeof why);
    T_CHECK(res == 0, "%s: %s", name, why);
    if (rc >= 0)
        t->written++;
    else
        t->refused++;
    if (t_starts_with(name, "valid-"))
        T_CHECK(rc >= 0, "%s refused (%ld)", name, rc);
    else if (t_starts_with(name, "hostile-"))
        T_CHECK(rc < 0, "%s written", name);
}

static void test_replay_corpus(void)
{
    tally t = {0};
    int files = t_corpus_each(CORPUS, replay_one, &t);
    printf("# %s: %d files, %u written, %u refused\n", CORPUS, files, t.written, t.refused);
    T_CHECK(files >= 20, "only %d corpus files in %s", files, CORPUS);
    T_CHECK(t.written >= 10, "only %u corpus files written", t.written);
    T_CHECK(t.refused >= 10, "only %u corpus files refused", t.refused);
}

int main(void)
{
    T_RUN(test_replay_corpus);
    return t_done();
}
