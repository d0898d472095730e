/* tests/fuzz/fuzz_config.c — libFuzzer target for the configuration loader (daemon/config.h):
 * any bytes must be accepted into a complete tree or refused with a message, never crash, leak or
 * read out of bounds. On acceptance the tree is walked (every string read) and a summary made, so
 * a half-filled tree would show up under ASan. Text the loader's own syntax check passes must also
 * parse in cJSON: a disagreement between the two is a finding too.
 *
 * Build and run (clang 14 with libclang_rt.fuzzer; from the repository root):
 *
 *   clang -std=c11 -D_DEFAULT_SOURCE -g -O1 -I. -I/usr/include/cjson \
 *         -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 *         -o build/fuzz_config tests/fuzz/fuzz_config.c daemon/config.c daemon/config_read.c \
 *         daemon/config_asset.c daemon/config_syntax.c daemon/config_alerts.c dsp/bearing.c \
 *         dsp/bearing_catalog.c acquisition/capture.c build/fftw/libvibewatch.a \
 *         $(pkg-config --libs libcjson fftw3f libiio alsa libcurl zlib sqlite3) -lm -lpthread
 *   mkdir -p build/fuzz-corpus
 *   build/fuzz_config -max_len=4096 -max_total_time=60 -dict=tests/fuzz/config.dict \
 *         build/fuzz-corpus tests/fuzz/corpus_config
 *
 * (The config, bearing and capture sources are compiled instrumented; the rest comes from the
 * library only to satisfy acquisition/capture.c's links.) New findings land in build/fuzz-corpus;
 * a crash is written to ./crash-*: fix it, then add the input to tests/fuzz/corpus_config/, which
 * `make test` replays (tests/unit/test_fuzz_config_replay.c). */
#include "daemon/config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    vw_config *c = vw_config_parse((const char *)data, size, err, sizeof err);
    if (!c) {
        if (!err[0])
            __builtin_trap(); /* every refusal says why */
        /* the syntax check and cJSON must agree: text the first passes, the second parses. (Only
         * that message starts "line N, column M: cJSON…"; a key echoed in a path is quoted.) */
        if (strncmp(err, "line ", 5) == 0 && strstr(err, ": cJSON could not parse"))
            __builtin_trap();
        return 0;
    }
    size_t total = strlen(c->box_id) + strlen(c->box_name) + strlen(c->data_dir) + strlen(c->listen);
    for (unsigned a = 0; a < c->nassets; a++) {
        const vw_cfg_asset *as = &c->assets[a];
        total += strlen(as->id) + strlen(as->name) + strlen(as->type);
        for (unsigned b = 0; b < as->nbearings; b++)
            total += strlen(as->bearings[b].id) + strlen(as->bearings[b].name);
        for (unsigned s = 0; s < as->nsensors; s++) {
            const vw_cfg_sensor *se = &as->sensors[s];
            total += strlen(se->id) + strlen(se->name) + strlen(se->source);
            if (se->mounting)
                total += strlen(se->mounting);
            for (unsigned k = 0; k < se->nchannels; k++)
                if (se->channel_names[k])
                    total += strlen(se->channel_names[k]);
            if (se->bearing >= (int)as->nbearings || se->nchannels > VW_CFG_MAX_CHANNELS)
                __builtin_trap();
        }
        if (vw_config_asset(c, as->id) != as)
            __builtin_trap();
    }
    char sum[256];
    vw_config_summary(c, sum, sizeof sum);
    (void)total;
    vw_config_free(c);
    return 0;
}
