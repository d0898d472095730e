/* models/iso10816.h — evaluation zones of ISO 10816-3 (vibration severity of industrial
 * machines from 15 kW, measured on non-rotating parts as velocity RMS over 10–1000 Hz, or
 * 2–1000 Hz for machines below 600 rpm).
 *
 * Zone A: newly commissioned; B: acceptable for unrestricted long-term operation; C: not
 * acceptable for long-term operation, plan a repair; D: severe enough to cause damage. */
#ifndef VW_MODELS_ISO10816_H
#define VW_MODELS_ISO10816_H

enum models_foundation { MODELS_FOUNDATION_RIGID = 0, MODELS_FOUNDATION_FLEXIBLE = 1 };

/* The zone boundaries A/B, B/C and C/D in mm/s RMS for machine group 1–4 (1: large machines
 * 300 kW–50 MW; 2: medium machines 15–300 kW; 3: pumps > 15 kW with a separate driver; 4: pumps
 * with an integrated driver). Returns 0, or -EINVAL for an unknown group or foundation. */
int models_iso10816_limits(int group, enum models_foundation f, double limits_mm_s[3]);
/* 'A'…'D', or '?' for an unknown group or a negative or non-finite velocity. */
char models_iso10816_zone(double velocity_rms_mm_s, int group, enum models_foundation f);
/* "rigid" / "flexible" → 0 and the value, anything else → -EINVAL. */
int models_foundation_parse(const char *s, enum models_foundation *out);
const char *models_foundation_name(enum models_foundation f);

#endif
