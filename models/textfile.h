/* models/textfile.h — whole-file reads and atomic writes of the models' JSON files (the
 * autoencoder, the monitor, the prior). Messages start with the path. */
#ifndef VW_MODELS_TEXTFILE_H
#define VW_MODELS_TEXTFILE_H

#include <stddef.h>

/* Reads PATH (at most max bytes) into a malloc'd NUL-terminated buffer; *len gets its length.
 * NULL with "PATH: reason" in err. */
char *models_read_text(const char *path, size_t max, size_t *len, char *err, size_t errlen);
/* Writes text and a newline to PATH.tmp, fsyncs it and renames it over PATH. 0 or -errno. */
int models_write_text(const char *path, const char *text, char *err, size_t errlen);

#endif
