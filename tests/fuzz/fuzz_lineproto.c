/* tests/fuzz/fuzz_lineproto.c — libFuzzer target for the line-protocol formatter (store/lineproto.h):
 * the input bytes are split into a measurement, tags, typed fields and a timestamp (the layout is in
 * tests/fuzz/lp_harness.h), and store_lp_line must then return exactly the code the inputs call for,
 * leave the buffer untouched on any error, and on success append one line ending in its only '\n'
 * that tests/fuzz/lp_parse.h (a strict reader written from the spec) reads back to the same point:
 * names and string values byte for byte, floats bit for bit. One byte less of cap must give -ENOSPC
 * with nothing written. Any disagreement is a finding (the harness says which on stderr).
 *
 * Build and run (clang 14 with libclang_rt.fuzzer; from the repository root):
 *
 *   clang -std=c11 -D_DEFAULT_SOURCE -g -O1 -I. \
 *         -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 *         -o build/fuzz_lineproto tests/fuzz/fuzz_lineproto.c store/lineproto.c common/utf8.c -lm
 *   mkdir -p build/fuzz-corpus-lp
 *   build/fuzz_lineproto -max_len=2048 -max_total_time=180 build/fuzz-corpus-lp tests/fuzz/corpus_lineproto
 *
 * New findings land in build/fuzz-corpus-lp; a crash is written to ./crash-*: fix it, then add the
 * input to tests/fuzz/corpus_lineproto/ as crash-NAME, which `make test` replays through the same
 * harness (tests/unit/test_fuzz_lineproto_replay.c). */
#include "tests/fuzz/lp_harness.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[1024];
    if (lp_harness_one(data, size, NULL, why, sizeof why) != 0) {
        fprintf(stderr, "fuzz_lineproto: %s\n", why);
        __builtin_trap();
    }
    return 0;
}
