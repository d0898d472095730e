/* models/autoencoder_internal.h — shared by autoencoder.c and autoencoder_io.c only. */
#ifndef VW_MODELS_AUTOENCODER_INTERNAL_H
#define VW_MODELS_AUTOENCODER_INTERNAL_H

#include <stddef.h>

/* printf into err when it is not NULL and not empty. */
void models_ae_set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
