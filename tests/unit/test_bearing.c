/* Tests of dsp/bearing.h: the kinematics against numbers published with real data sets (CWRU,
 * IMS) and against identities that hold for any geometry; every catalogue entry for a source,
 * sane orders and agreement with its own geometry; the lookup's variants and refusals. */
#include "dsp/bearing.h"
#include "testlib.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static const dsp_bearing *must_find(const char *name)
{
    const dsp_bearing *b = dsp_bearing_find(name);
    T_CHECK(b != NULL, "\"%s\" not found", name);
    return b;
}

/* CWRU drive end: its page publishes the multiples; 3 decimals is what the brief asks and the
 * printed figures carry 4-5. Rolling element is printed as 2·BSF (a ball defect hits both races). */
static void test_cwru_drive_end(void)
{
    dsp_bearing_orders o;
    T_CHECK(dsp_bearing_orders_from_geometry(9, 0.3126, 1.537, 0, &o, NULL, 0) == 0, "geometry");
    T_NEAR(o.bpfi, 5.4152, 5e-4, "6205 BPFI");
    T_NEAR(o.bpfo, 3.5848, 5e-4, "6205 BPFO");
    T_NEAR(o.ftf, 0.39828, 5e-4, "6205 FTF");
    T_NEAR(o.bsf, 2.357, 5e-4, "6205 BSF");
    T_NEAR(2 * o.bsf, 4.7135, 5e-4, "6205 rolling element (2 BSF)");

    const dsp_bearing *b = must_find("SKF 6205-2RS JEM");
    if (!b)
        return;
    T_NEAR(b->orders.bpfi, 5.4152, 5e-4, "catalogue 6205 BPFI");
    T_NEAR(b->orders.bsf, 2.357, 5e-4, "catalogue 6205 BSF");
    T_NEAR(b->ball_d_mm, 0.3126 * 25.4, 1e-9, "ball diameter in mm");
}

/* CWRU fan end. The page prints the rolling-element multiple as 3.9874 = 2·BSF, so BSF 1.9937;
 * the geometry gives 1.9938. (The brief's 1.9953 matches neither; see the report.) */
static void test_cwru_fan_end(void)
{
    dsp_bearing_orders o;
    T_CHECK(dsp_bearing_orders_from_geometry(8, 0.2656, 1.122, 0, &o, NULL, 0) == 0, "geometry");
    T_NEAR(o.bpfi, 4.9469, 5e-4, "6203 BPFI");
    T_NEAR(o.bpfo, 3.0530, 5e-4, "6203 BPFO");
    T_NEAR(o.ftf, 0.3817, 5e-4, "6203 FTF");
    T_NEAR(2 * o.bsf, 3.9874, 5e-4, "6203 rolling element (2 BSF)");
    T_NEAR(o.bsf, 1.9953, 2e-3, "6203 BSF against the brief's figure");

    const dsp_bearing *b = must_find("SKF 6203-2RS JEM");
    if (b)
        T_NEAR(b->orders.bpfo, 3.0530, 5e-4, "catalogue 6203 BPFO");
}

/* IMS (Rexnord ZA-2115) at its constant 2000 rpm. */
static void test_ims_za2115(void)
{
    const dsp_bearing *b = must_find("Rexnord ZA-2115");
    if (!b)
        return;
    T_CHECK(b->n_elements == 16, "16 rollers per row, got %d", b->n_elements);
    dsp_bearing_orders hz;
    dsp_bearing_freqs_hz(&b->orders, 2000 / 60.0, &hz);
    T_NEAR(hz.bpfo, 236.4, 0.2, "ZA-2115 BPFO Hz");
    T_NEAR(hz.bpfi, 296.9, 0.2, "ZA-2115 BPFI Hz");
    T_NEAR(hz.bsf, 139.9, 0.2, "ZA-2115 BSF Hz");
    T_NEAR(hz.ftf, 14.8, 0.2, "ZA-2115 FTF Hz");
}


/* Identities of the kinematics, for geometry drawn across and beyond the real range. */
static void test_identities(void)
{
    for (int k = 0; k < 2000; k++) {
        int n = 3 + (int)(t_urand() * 40);
        double D = 5 + t_urand() * 500, d = D * (0.01 + 0.95 * t_urand()), a = t_urand() * 59.99;
        dsp_bearing_orders o;
        int rc = dsp_bearing_orders_from_geometry(n, d, D, a, &o, NULL, 0);
        T_CHECK(rc == 0, "n=%d d=%g D=%g a=%g refused", n, d, D, a);
        if (rc)
            return;
        T_NEAR(o.bpfi + o.bpfo, n, 1e-9 * n, "BPFI + BPFO = n");
        T_NEAR(o.bpfo, n * o.ftf, 1e-9 * n, "BPFO = n FTF");
        T_CHECK(o.ftf > 0 && o.ftf < 0.5, "FTF %g outside (0, 0.5)", o.ftf);
        T_CHECK(o.bpfo < o.bpfi, "BPFO %g not below BPFI %g", o.bpfo, o.bpfi);
        /* from FTF alone: x = 1 - 2 FTF and BSF = (1 - x²) / (2x) · cos a */
        double x = 1 - 2 * o.ftf;
        T_NEAR(o.bsf, (1 - x * x) / (2 * x) * cos(a * M_PI / 180), 1e-9 * o.bsf, "BSF from FTF");
    }
    /* a larger contact angle moves the balls' effective diameter toward zero: BPFO rises */
    dsp_bearing_orders o0, o40;
    dsp_bearing_orders_from_geometry(9, 8, 40, 0, &o0, NULL, 0);
    dsp_bearing_orders_from_geometry(9, 8, 40, 40, &o40, NULL, 0);
    T_CHECK(o40.bpfo > o0.bpfo && o40.ftf > o0.ftf, "contact angle must raise BPFO and FTF");
}

/* Orders-only entries carry printed figures; they must at least be consistent with some
 * integer number of balls, which catches transcription typos. */
static void check_orders_only(const dsp_bearing *b)
{
    const dsp_bearing_orders *o = &b->orders;
    double n = o->bpfo + o->bpfi, ni = round(n);
    T_CHECK(fabs(n - ni) < 0.002 && ni >= 3, "%s: BPFO + BPFI = %g is no ball count", b->name, n);
    T_CHECK(fabs(o->bpfo / ni - o->ftf) < 0.0011, "%s: FTF %g, BPFO/n %g", b->name, o->ftf,
            o->bpfo / ni);
    double x = 1 - 2 * o->bpfo / ni; /* d/D cos a */
    T_CHECK(fabs((1 - x * x) / (2 * x) - o->bsf) < 0.003, "%s: BSF %g inconsistent", b->name,
            o->bsf);
}

static void test_catalogue_entries(void)
{
    size_t n = dsp_bearing_count();
    T_CHECK(n >= 3, "catalogue has %zu entries", n);
    T_CHECK(dsp_bearing_at(n) == NULL, "entry past the end");
    for (size_t i = 0; i < n; i++) {
        const dsp_bearing *b = dsp_bearing_at(i);
        T_CHECK(b && b->name && b->name[0], "entry %zu has no name", i);
        if (!b || !b->name)
            continue;
        T_CHECK(b->source && strlen(b->source) > 40, "%s: no source", b->name);
        const dsp_bearing_orders *o = &b->orders;
        T_CHECK(isfinite(o->bpfo) && isfinite(o->bpfi) && isfinite(o->bsf) && isfinite(o->ftf),
                "%s: orders not finite", b->name);
        T_CHECK(o->bpfo > 0 && o->bpfi > 0 && o->bsf > 0 && o->ftf > 0, "%s: orders not positive",
                b->name);
        T_CHECK(o->bpfo < o->bpfi, "%s: BPFO %g >= BPFI %g", b->name, o->bpfo, o->bpfi);
        T_CHECK(o->ftf < 0.5, "%s: FTF %g", b->name, o->ftf);
        if (b->n_elements > 0) {
            dsp_bearing_orders g;
            T_CHECK(dsp_bearing_orders_from_geometry(b->n_elements, b->ball_d_mm, b->pitch_d_mm,
                                                     b->contact_deg, &g, NULL, 0) == 0,
                    "%s: geometry refused", b->name);
            T_CHECK(fabs(g.bpfo - o->bpfo) < 1e-12 && fabs(g.bpfi - o->bpfi) < 1e-12 &&
                        fabs(g.bsf - o->bsf) < 1e-12 && fabs(g.ftf - o->ftf) < 1e-12,
                    "%s: orders disagree with its geometry", b->name);
        } else {
            T_CHECK(b->n_elements == 0, "%s: negative element count", b->name);
            check_orders_only(b);
        }
        /* every entry is reachable by its own name, and names are distinct */
        T_CHECK(dsp_bearing_find(b->name) == b, "%s: not found by its own name", b->name);
        for (size_t j = 0; j < i; j++)
            T_CHECK(strcmp(dsp_bearing_at(j)->name, b->name) != 0, "%s listed twice", b->name);
    }
}

static void test_lookup_variants(void)
{
    const dsp_bearing *de = must_find("SKF 6205-2RS JEM");
    const char *de_names[] = {"6205", "skf 6205-2rs jem", "SKF6205", "6205-2RS", "6205 2rs",
                              "6205/2RS", "  skf-6205  ", "SKF 6205-2RS"};
    for (size_t i = 0; i < sizeof de_names / sizeof de_names[0]; i++)
        T_CHECK(dsp_bearing_find(de_names[i]) == de, "\"%s\" should find SKF 6205-2RS JEM",
                de_names[i]);
    const dsp_bearing *za = must_find("Rexnord ZA-2115");
    const char *za_names[] = {"za2115", "ZA-2115", "rexnord za 2115", "REXNORDZA2115"};
    for (size_t i = 0; i < sizeof za_names / sizeof za_names[0]; i++)
        T_CHECK(dsp_bearing_find(za_names[i]) == za, "\"%s\" should find Rexnord ZA-2115",
                za_names[i]);
    T_CHECK(dsp_bearing_find("6203") == must_find("SKF 6203-2RS JEM"), "6203");
    T_CHECK(dsp_bearing_find("er16k") == must_find("MB ER-16K"), "er16k");
    T_CHECK(dsp_bearing_find("208k") == must_find("Timken 208K"), "208k");
}

static void test_lookup_failures(void)
{
    const char *unknown[] = {"6305", "9999", "620", "62", "SKF", "Rexnord", "za", "6205-2Z JEM X",
                             "", "   ", " - / ", "SKF 6205-2RS JEM extra", "205K2"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        T_CHECK(dsp_bearing_find(unknown[i]) == NULL, "\"%s\" should find nothing", unknown[i]);
    T_CHECK(dsp_bearing_find(NULL) == NULL, "NULL");
    char longname[300];
    memset(longname, '6', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    T_CHECK(dsp_bearing_find(longname) == NULL, "an over-long name");

    /* Ambiguity needs two bearings of one designation, so it is tested on a caller's table. */
    const dsp_bearing table[] = {
        {.name = "SKF 6205-2RS JEM", .orders = {3.58, 5.42, 2.36, 0.398}, .source = "test"},
        {.name = "FAG 6205-2Z", .orders = {3.57, 5.43, 2.32, 0.397}, .source = "test"},
        {.name = "NSK 6306", .orders = {3.06, 4.94, 2.0, 0.38}, .source = "test"},
    };
    T_CHECK(dsp_bearing_find_in(table, 3, "6205") == NULL, "\"6205\" is ambiguous here");
    T_CHECK(dsp_bearing_find_in(table, 3, "6205-2Z") == &table[1], "6205-2Z is FAG's");
    T_CHECK(dsp_bearing_find_in(table, 3, "skf 6205") == &table[0], "skf 6205");
    T_CHECK(dsp_bearing_find_in(table, 3, "6306") == &table[2], "6306");
    T_CHECK(dsp_bearing_find_in(table, 3, "") == NULL, "empty");
    T_CHECK(dsp_bearing_find_in(NULL, 3, "6306") == NULL, "NULL table");
    T_CHECK(dsp_bearing_find_in(table, 0, "6306") == NULL, "empty table");
    /* an exact full name wins over another entry it is a prefix of */
    const dsp_bearing nested[] = {{.name = "ACME 6205", .source = "test"},
                                  {.name = "ACME 6205-C3", .source = "test"}};
    T_CHECK(dsp_bearing_find_in(nested, 2, "acme 6205") == &nested[0], "exact beats prefix");
    T_CHECK(dsp_bearing_find_in(nested, 2, "6205") == NULL, "bare 6205 is ambiguous in nested");
}

static void test_bad_geometry(void)
{
    const struct {
        int n;
        double d, D, a;
        const char *says;
    } bad[] = {
        {2, 8, 40, 0, "at least 3"},
        {-9, 8, 40, 0, "at least 3"},
        {9, 0, 40, 0, "positive"},
        {9, -8, 40, 0, "positive"},
        {9, 40, 40, 0, "smaller than the pitch diameter"},
        {9, 50, 40, 0, "smaller than the pitch diameter"},
        {9, 8, 40, -1, "contact angle"},
        {9, 8, 40, 60, "contact angle"},
        {9, 8, 40, 151.7, "contact angle"},
        {9, NAN, 40, 0, "finite"},
        {9, 8, INFINITY, 0, "finite"},
        {9, 8, 40, NAN, "finite"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[160] = "";
        dsp_bearing_orders o = {1, 2, 3, 4};
        int rc = dsp_bearing_orders_from_geometry(bad[i].n, bad[i].d, bad[i].D, bad[i].a, &o, err,
                                                  sizeof err);
        T_CHECK(rc == -EINVAL, "case %zu: rc %d", i, rc);
        T_CHECK(strstr(err, bad[i].says) != NULL, "case %zu: message \"%s\"", i, err);
        T_CHECK(o.bpfo == 1 && o.bpfi == 2 && o.bsf == 3 && o.ftf == 4, "case %zu: out touched", i);
        /* no message buffer, or a tiny one, is fine */
        T_CHECK(dsp_bearing_orders_from_geometry(bad[i].n, bad[i].d, bad[i].D, bad[i].a, &o, NULL,
                                                 0) == -EINVAL, "case %zu without err", i);
        char tiny[4];
        dsp_bearing_orders_from_geometry(bad[i].n, bad[i].d, bad[i].D, bad[i].a, &o, tiny,
                                         sizeof tiny);
        T_CHECK(strlen(tiny) < sizeof tiny, "case %zu: tiny buffer overrun", i);
    }
    T_CHECK(dsp_bearing_orders_from_geometry(9, 8, 40, 0, NULL, NULL, 0) == -EINVAL, "NULL out");
    dsp_bearing_orders o;
    T_CHECK(dsp_bearing_orders_from_geometry(3, 1e-6, 1, 59.999, &o, NULL, 0) == 0, "edges pass");
}

static void test_freqs_hz(void)
{
    const dsp_bearing *b = must_find("6205");
    if (!b)
        return;
    dsp_bearing_orders hz;
    const double shaft = 1797 / 60.0;
    dsp_bearing_freqs_hz(&b->orders, shaft, &hz);
    T_NEAR(hz.bpfo, b->orders.bpfo * shaft, 1e-12, "BPFO Hz");
    T_NEAR(hz.bpfi, 162.19, 0.01, "CWRU 1797 rpm BPFI Hz");
    T_NEAR(hz.bpfo, 107.36, 0.01, "CWRU 1797 rpm BPFO Hz");
    dsp_bearing_orders inplace = b->orders;
    dsp_bearing_freqs_hz(&inplace, shaft, &inplace);
    T_CHECK(memcmp(&inplace, &hz, sizeof hz) == 0, "in place differs");
    dsp_bearing_freqs_hz(NULL, shaft, &hz); /* ignored, no crash */
}

int main(void)
{
    T_RUN(test_cwru_drive_end);
    T_RUN(test_cwru_fan_end);
    T_RUN(test_ims_za2115);
    T_RUN(test_identities);
    T_RUN(test_catalogue_entries);
    T_RUN(test_lookup_variants);
    T_RUN(test_lookup_failures);
    T_RUN(test_bad_geometry);
    T_RUN(test_freqs_hz);
    return t_done();
}
