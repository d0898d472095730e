/* dsp/bearing.h — rolling-element bearing defect frequencies and a catalogue of named bearings.
 *
 * Defect frequencies are kept as orders (multiples of shaft speed), so one entry serves every
 * speed; dsp_bearing_freqs_hz turns them into Hz. Kinematics assume a stationary outer ring and
 * pure rolling (no slip), the textbook case for motors, pumps and fans; real lines sit up to a
 * few per cent lower, which the fault search (dsp/faults.c) allows for.
 *
 * The catalogue is a fixed table compiled into the program: every entry names where its numbers
 * come from, sizes whose internal geometry could not be traced to a public source are left out
 * rather than guessed. Entries are immutable and may be read from any thread: the first
 * dsp_bearing_at (or find) computes the orders of geometry entries once, under pthread_once, and
 * nothing is allocated.
 */
#ifndef VW_DSP_BEARING_H
#define VW_DSP_BEARING_H

#include <stddef.h>

/* Defect frequencies as multiples of shaft speed (orders). */
typedef struct dsp_bearing_orders {
    double bpfo; /* ball pass frequency, outer race */
    double bpfi; /* ball pass frequency, inner race */
    double bsf;  /* ball spin frequency: one rotation of a ball (a ball defect strikes at 2·BSF) */
    double ftf;  /* fundamental train (cage) frequency */
} dsp_bearing_orders;

typedef struct dsp_bearing {
    const char *name;          /* e.g. "SKF 6205-2RS JEM" */
    int n_elements;            /* balls or rollers per row; 0 when only orders are known */
    double ball_d_mm, pitch_d_mm, contact_deg;
    dsp_bearing_orders orders; /* always filled (computed from geometry when geometry is known) */
    const char *source;        /* where the entry's numbers come from */
} dsp_bearing;

/* BPFO = n/2 (1 - d/D cos a), BPFI = n/2 (1 + d/D cos a), FTF = 1/2 (1 - d/D cos a),
 * BSF = D/(2d) (1 - (d/D cos a)^2). Diameters in any one unit.
 * Returns 0, or -EINVAL with a message in err (when err is not NULL) for n < 3, d <= 0,
 * D <= d, an angle outside [0, 60) degrees, or non-finite values; out is untouched then. */
int dsp_bearing_orders_from_geometry(int n, double ball_d, double pitch_d, double contact_deg,
                                     dsp_bearing_orders *out, char *err, size_t errlen);

/* Case-insensitive lookup that ignores spaces, '-' and '/', and accepts the bare designation
 * when it is unambiguous: "6205", "skf 6205-2rs jem", "SKF6205" all find "SKF 6205-2RS JEM";
 * "ZA-2115" finds "Rexnord ZA-2115". A partial name must end where a word or a '-'/'/' part of
 * the catalogue name ends and contain a digit ("620" and "SKF" find nothing). An exact
 * (normalised) full name always wins. NULL when unknown, ambiguous, empty or NULL. */
const dsp_bearing *dsp_bearing_find(const char *name);
/* The same lookup in a caller's table of n entries (e.g. bearings a site adds in its config). */
const dsp_bearing *dsp_bearing_find_in(const dsp_bearing *table, size_t n, const char *name);

size_t dsp_bearing_count(void);
/* NULL when i >= dsp_bearing_count(). */
const dsp_bearing *dsp_bearing_at(size_t i);

/* Fills out_hz with defect frequencies in Hz at a shaft speed in Hz (out_hz may equal o). */
void dsp_bearing_freqs_hz(const dsp_bearing_orders *o, double shaft_hz, dsp_bearing_orders *out_hz);

#endif
