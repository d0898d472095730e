/* acquisition/recording.h — whole-file readers for vibration recordings (WAV and CSV).
 *
 * Used by `vibewatch analyze FILE...`; the streaming `file:` source builds on the same parsing.
 * A reader opens the file with stdio, validates everything it reads (files are untrusted input:
 * a hostile or truncated file yields an error, never a crash or an over-read), and returns the
 * whole recording as one owned buffer of interleaved float samples. Readers keep no global
 * state of their own and may run in several threads at once on different outputs. They block on
 * file I/O only.
 *
 * Errors return a negative errno (-ENOENT / -EACCES when the file cannot be opened, -EINVAL for
 * bad content, -ENOMEM, -EIO, -EFBIG for a recording over ACQ_RECORDING_MAX_BYTES) and write a
 * message into err (when err is not NULL and errlen > 0) that starts with the path as given and
 * says what is wrong and where, e.g.
 *   "105.wav: truncated data chunk: header says 485140 bytes, file has 100000".
 * On failure *out is zeroed, so acq_recording_free(out) is always safe.
 */
#ifndef VW_ACQ_RECORDING_H
#define VW_ACQ_RECORDING_H

#include <stddef.h>

/* Most channels (WAV channels or CSV columns) a recording may have. */
#define ACQ_RECORDING_MAX_CHANNELS 64u
/* Largest sample buffer a reader will allocate (2 GiB of float samples); bigger recordings are
 * refused with -EFBIG rather than exhausting the box's memory. */
#define ACQ_RECORDING_MAX_BYTES (2048ull * 1024 * 1024)
/* Longest CSV line accepted, in bytes (64 columns of numbers need far less). */
#define ACQ_CSV_MAX_LINE 65536u

typedef struct acq_recording {
    double fs_hz;          /* sample rate */
    size_t nframes;        /* samples per channel */
    unsigned nchan;
    float *samples;        /* interleaved: samples[i*nchan + c]; owned, free with acq_recording_free */
    char format[48];       /* human description, e.g. "WAV float32, 1 ch" or "CSV, 3 columns" */
} acq_recording;

/* Reads a WAV file: RIFF/WAVE with a fmt chunk of PCM (format 1) 16/24/32-bit, IEEE float
 * (format 3) 32/64-bit, or WAVE_FORMAT_EXTENSIBLE (0xFFFE) with one of those subformats; 1 to 64
 * channels. Unknown chunks (LIST, fact, ...) are skipped, honouring the RIFF pad byte after
 * odd-sized chunks; chunks may come in any order. PCM is scaled to [-1, 1) of full scale
 * (0x4000 in PCM16 reads 0.5). A trailing partial frame (data size not a multiple of the block
 * align) is ignored, as other readers do. Refused with a message: missing or unreadable file,
 * not RIFF/WAVE (RIFX and RF64 are named), no fmt or no data chunk, truncated header or chunk,
 * unsupported format or bit depth, block align inconsistent with channels and bits, zero
 * channels or rate, zero samples, a NaN or Inf sample (named by sample index and channel) and a
 * recording over ACQ_RECORDING_MAX_BYTES. */
int acq_read_wav(const char *path, acq_recording *out, char *err, size_t errlen);

/* Reads CSV text: one numeric column per channel (at most 64), separator ',' ';' or tab
 * (detected from the first data line: tab, else ';', else ','), an optional header line of
 * non-numeric names, '#' comment lines and blank lines ignored, CRLF accepted, spaces and double
 * quotes around a field allowed. Numbers are parsed with strtod in the "C" locale (decimal
 * point '.'). fs_hz must be > 0 (CSV has no rate): otherwise "--fs is required for CSV".
 * Errors name the file, line and column: "x.csv:17: column 2: not a number: \"abc\"", a row
 * with a different number of columns, an empty field, NaN/Inf, no data rows, a line longer
 * than ACQ_CSV_MAX_LINE bytes. */
int acq_read_csv(const char *path, double fs_hz, acq_recording *out, char *err, size_t errlen);

/* Picks the reader from the content (a RIFF header → WAV), else from the extension (.csv or
 * .txt, any case → CSV), else from the content again: printable text whose first non-comment
 * line starts with a number is read as CSV (the IMS raw files have no extension); otherwise an
 * error saying the format is not recognised. fs_hz is used only for CSV; a WAV file's own rate
 * always wins. */
int acq_read_file(const char *path, double fs_hz, acq_recording *out, char *err, size_t errlen);

/* Accepts NULL and zeroed structs; safe twice (it zeroes *r). */
void acq_recording_free(acq_recording *r);

/* Writes interleaved float samples as a WAV IEEE-float32 file (fmt with cbSize 0, a fact chunk,
 * data), for the simulator and tests. fs_hz must be a whole number of Hz in 1..2^32-1 (WAV
 * stores an integer rate), nchan 1..64, and the data must fit in a RIFF file (< 4 GiB). Samples
 * are written as given (NaN included). On failure the partial file is removed. */
int acq_write_wav_f32(const char *path, const float *samples, size_t nframes, unsigned nchan,
                      double fs_hz, char *err, size_t errlen);

#endif
