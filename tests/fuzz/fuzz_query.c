/* tests/fuzz/fuzz_query.c — libFuzzer target for the text the HTTP server parses besides the path
 * (web/query.c): query strings, the Cookie header and JSON request bodies. The first input byte
 * picks the parser; tests/fuzz/query_harness.h holds every check (an accepted query is bounded,
 * clean UTF-8, without repeated names, and survives re-encoding; a refusal says why; the cookie
 * parser agrees with a model; the body check agrees with cJSON). Any disagreement is a finding
 * (the harness says which on stderr).
 *
 * Build and run (clang 14 with libclang_rt.fuzzer; from the repository root):
 *
 *   clang -std=c11 -D_DEFAULT_SOURCE -g -O1 -I. $(pkg-config --cflags libcjson libmicrohttpd) \
 *         -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 *         -o build/fuzz_query tests/fuzz/fuzz_query.c web/query.c web/http_text.c common/utf8.c \
 *         $(pkg-config --libs libcjson)
 *   mkdir -p build/fuzz-corpus-query
 *   build/fuzz_query -max_len=4096 -max_total_time=60 build/fuzz-corpus-query tests/fuzz/corpus_query
 *
 * New findings land in build/fuzz-corpus-query; a crash is written to ./crash-*: fix it, then add
 * the input to tests/fuzz/corpus_query/ as crash-NAME, which `make test` replays through the same
 * harness (tests/unit/test_fuzz_query_replay.c). */
#include "tests/fuzz/query_harness.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[1024];
    if (qh_harness_one(data, size, NULL, why, sizeof why) != 0) {
        fprintf(stderr, "fuzz_query: %s\n", why);
        __builtin_trap();
    }
    return 0;
}
