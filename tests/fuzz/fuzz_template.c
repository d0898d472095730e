/* tests/fuzz/fuzz_template.c — libFuzzer target for the webhook templates (alerts/template.h): the
 * input bytes are split into an escape mode, a template (NUL bytes allowed) and up to four variable
 * values (the layout is in tests/fuzz/template_harness.h), and alerts_template_render must then
 * return exactly what a model written from the header predicts (-EINVAL naming the offset of the
 * bad "{{", or that model's output byte for byte), leave out "" on any error, never write past
 * outlen, and give -ENOSPC one byte short of the exact size. Each value escaped alone must decode
 * back (a strict JSON-string reader, form/URL percent-decoding) to itself with invalid UTF-8
 * replaced by U+FFFD; HEADER output carries no CR or LF from a value; alerts_utf8_truncate must cut
 * each value as the header says. Any disagreement is a finding (the harness says which on stderr).
 *
 * Build and run (clang 14 with libclang_rt.fuzzer; from the repository root):
 *
 *   clang -std=c11 -D_DEFAULT_SOURCE -g -O1 -I. \
 *         -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 *         -o build/fuzz_template tests/fuzz/fuzz_template.c alerts/template.c common/utf8.c
 *   mkdir -p build/fuzz-corpus-template
 *   build/fuzz_template -max_len=1024 -max_total_time=150 build/fuzz-corpus-template tests/fuzz/corpus_template
 *
 * New findings land in build/fuzz-corpus-template; a crash is written to ./crash-*: fix it, then
 * add the input to tests/fuzz/corpus_template/ as crash-NAME, which `make test` replays through the
 * same harness (tests/unit/test_fuzz_template_replay.c). */
#include "tests/fuzz/template_harness.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[1024];
    if (th_harness_one(data, size, NULL, why, sizeof why) != 0) {
        fprintf(stderr, "fuzz_template: %s\n", why);
        __builtin_trap();
    }
    return 0;
}
