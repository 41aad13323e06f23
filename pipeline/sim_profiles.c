/* sim_profiles.c — numbers for `neoscreen simulate`; see sim_profiles.h for the model.
 *
 * How the normal distributions were chosen.  No open source tabulates population medians
 * for the whole panel (DOMAIN §1.2, §10), so:
 *   - medians start from the one typical US newborn of DOMAIN §1.2a / §11 item 1 (CDCgov
 *     trusted-intermediary test ORU, 24 h, 4020 g).  Where that baby's value sits at or
 *     above an R4S 99th percentile (§1.2b) or close to the programme cutoff, it cannot be
 *     a median and a lower median is used, marked [K];
 *   - log-SDs are chosen [K] so that (a) the 99th percentile is near the R4S 99th
 *     percentile where one is published (§1.2b, §11 item 2), and (b) the ~99.9th
 *     percentile (median * exp(3.09 * log_sd)), after the largest common covariate shift,
 *     stays below the California-style cutoffs of §1.2a and, where stricter, the
 *     Heidelberg limits of §1.2c and the other limits configs/panel-default.yaml uses
 *     (HK Cit 35, NENSP C5:1 0.08).  With the default panel a 100k night recalls ~0.25 %
 *     of babies (§11 item 7: 0.2-0.6 % in well-run programmes), mostly from the
 *     covariate strata and the mimics below, as real programmes do.
 * "CA" below = DOMAIN §1.2a (CDCgov test ORU limits); "Heid" = §1.2c (Schulze, Pediatrics
 * 2003); "R4S" = §1.2b (JIMD Reports 2017;39:45, Table 1); "HK" = §1.2d (Chan, IJNS 2024).
 */
#include <stdio.h>
#include <string.h>
#include "sim_profiles.h"

/* Spot factor: 10 uL vs 50 uL spots read 15-24 % low, hematocrit 40->65 % cuts serum per
 * punch by 27 % (DOMAIN §2.3); a log-SD of 0.10 (~10 % CV) is the everyday part of that
 * spread [K]. */

#define AA NS_SIM_G_AA
#define SC NS_SIM_G_SCAC
#define MC NS_SIM_G_MCAC
#define LC NS_SIM_G_LCAC
#define NO NS_SIM_G_NONE

/* Group loadings [K], set so that the standard ratios of normals stay inside their CA /
 * Heid limits about as rarely as the single analytes do: amino acids share strongly
 * (Phe/Tyr < 2.6, Val/Phe < 4.3, Cit/Arg < 4.8), the medium chains very strongly (MCAD's
 * C8/C10 < 1.6), short and long chains moderately. */
#define L_AA 0.6
#define L_SC 0.3
#define L_MC 0.85
#define L_LC 0.5

const ns_sim_analyte_t ns_sim_analytes[NS_SIM_N_ANALYTES] = {
    /* key     vendor  median  log_sd group load */
    /* source: median 49.1 (CA baby); sd [K]: early shift +0.55 d keeps 99.9th ~130 < Heid 150, CA 175 */
    { "Phe",   NULL,   49.0,   0.27,  AA, L_AA },
    /* source: median 45.1 (CA baby); sd [K]: 99.9th ~114 << CA 680; Phe/Tyr of normals < 2.6 */
    { "Tyr",   NULL,   45.0,   0.30,  AA, L_AA },
    /* source: median 86.8 (CA baby); sd [K]: 99.9th ~171 < CA 230 (TPN x1.5 still mostly below) */
    { "Xle",   "Leu",  87.0,   0.22,  AA, L_AA },
    /* source: median 92.6 (CA baby); sd [K]: 99.9th ~200 < Heid MSUD Val 390 */
    { "Val",   NULL,   93.0,   0.25,  AA, L_AA },
    /* source: median 16.8 (CA baby); sd [K]: early 99.9th ~40 < CA 100; late 0.1th ~7.4 > CA low 6.3 */
    { "Met",   NULL,   17.0,   0.24,  AA, L_AA },
    /* [K] median 18 (CA baby 20), sd 0.19: the default panel calls citrin deficiency at
     * Cit > 35 (HK old single cutoff, §1.2d), so 99.9th must stay below 35 (~33 here);
     * late 0.1th ~9.5 > CA low 5 */
    { "Cit",   NULL,   18.0,   0.19,  AA, L_AA },
    /* [K] median 14: the CA baby's 6 is a low value (its Cit/Arg 3.22 is near the CA limit
     * 4.8); 14 keeps Cit/Arg of normals below 4.8 and 99.9th ~41 < CA 63 */
    { "Arg",   NULL,   14.0,   0.35,  AA, L_AA },
    /* source: median 74 (CA baby, reported as Asn+Orn); sd [K]: 99.9th ~190 << CA 800 */
    { "Orn",   NULL,   74.0,   0.30,  AA, L_AA },
    /* source: median 387 (CA baby); sd [K]: 99.9th ~840 << Heid NKH 2000 */
    { "Gly",   NULL,  387.0,   0.25,  AA, L_AA },
    /* source: median 381 (CA baby, Ala+); sd [K]: 99.9th ~830 < CA 1000 */
    { "Ala",   NULL,  381.0,   0.25,  AA, L_AA },
    /* source: median 118 (CA baby); sd [K]: 99.9th ~300 << CA 1500 */
    { "Pro",   NULL,  118.0,   0.30,  AA, L_AA },
    /* source: median 0.24 (CA baby); sd [K]: 99.9th ~0.97 << CA 6.1 */
    { "SUAC",  "SA",    0.24,  0.45,  NO, 0.0  },
    /* [K] median 30 (CA baby 34.3) with R4S 99th 50.55: sd 0.22 gives 99th ~50; 0.1th ~15 > CA low 6.4 */
    { "C0",    "FC",   30.0,   0.22,  SC, L_SC },
    /* source: median 33.2 (CA baby); sd [K]: 0.1th ~15 > CA low 10, 99.9th ~74 < CA 80 */
    { "C2",    NULL,   33.0,   0.26,  SC, L_SC },
    /* source: median 2.3 (CA baby); sd [K]: early (+0.23 d) 99.9th ~6.6 < CA 7.9 */
    { "C3",    NULL,    2.3,   0.32,  SC, L_SC },
    /* [K] median 0.11: CA baby's 0.298 is too close to CA 0.48 for a median; 99.9th ~0.38 < 0.48.
     * (R4S 99th for C4OH alone is 0.47, i.e. at the CA cutoff: the CA cutoff wins here.) */
    { "C3DC",  NULL,    0.11,  0.40,  SC, L_SC },
    /* [K] median 0.25: the CA baby (1.73) was flagged for C4; 99.9th ~0.86 < CA 1.7 */
    { "C4",    NULL,    0.25,  0.40,  SC, L_SC },
    /* source: median 0.139 (CA baby); sd from R4S 99th 0.38 -> 0.43; 99.9th ~0.53 < CA 0.95 */
    { "C5",    NULL,    0.14,  0.43,  SC, L_SC },
    /* source: median 0.011 (CA baby) ~ [K] 0.014; sd 0.5 [K]: 99th ~0.045 <= R4S 0.06 and
     * 99.9th ~0.066 < NENSP 0.08 (the default panel's BKT cutoff), << CA 0.5 */
    { "C5:1",  "C51",   0.014, 0.50,  SC, L_SC },
    /* [K] median 0.15 (CA baby 0.306 is near R4S 99th 0.36); sd 0.34 puts the 99th at ~0.33
     * (R4S 0.36) and C5OH/C8 near its R4S 99th 7.81; 99.9th ~0.43 < CA 1.15, NENSP 0.8 */
    { "C5OH",  NULL,    0.15,  0.34,  SC, L_SC },
    /* [K] median 0.10 (CA baby 0.238 too near CA 0.38); 99.9th ~0.29 < CA 0.38 */
    { "C5DC",  NULL,    0.10,  0.35,  SC, L_SC },
    /* [K] median 0.06 (CA baby 0.136); 99.9th ~0.18 < Heid 0.21, CA 0.95 */
    { "C6",    NULL,    0.06,  0.35,  MC, L_MC },
    /* [K] median 0.07: R4S 99th 0.17 and healthy max 0.22 (Chace 1997) put the CA baby's 0.15
     * near the top; sd from R4S 99th -> 0.38; 99.9th ~0.23 < Heid 0.32, CA 0.45 */
    { "C8",    NULL,    0.07,  0.38,  MC, L_MC },
    /* [K] median 0.15 (CA baby 0.221); 99.9th ~0.52 < CA 0.65 */
    { "C8:1",  NULL,    0.15,  0.40,  MC, L_MC },
    /* [K] median 0.10 (CA baby 0.23, its C8/C10 0.65); 99.9th ~0.34 < Heid 0.48, CA 0.65 */
    { "C10",   NULL,    0.10,  0.40,  MC, L_MC },
    /* [K] median 0.07 (CA baby 0.088); 99.9th ~0.24 < Heid 0.28, CA 0.45 */
    { "C10:1", NULL,    0.07,  0.40,  MC, L_MC },
    /* [K] median 0.12 (CA baby 0.232); 99.9th ~0.48 << CA 2 */
    { "C12",   NULL,    0.12,  0.45,  MC, L_MC },
    /* [K] median 0.12 (CA baby 0.20, no cutoff) */
    { "C12:1", NULL,    0.12,  0.45,  MC, L_MC },
    /* [K] median 0.25 (CA baby 0.342); 99.9th ~0.59 < Heid 0.76, CA 1.2 */
    { "C14",   NULL,    0.25,  0.28,  LC, L_LC },
    /* [K] median 0.14 (CA baby 0.206); 99.9th ~0.39 < Heid 0.43, CA 0.9 */
    { "C14:1", NULL,    0.14,  0.33,  LC, L_LC },
    /* source: median 0.03 (CA baby, no cutoff); sd [K] */
    { "C14:2", NULL,    0.03,  0.45,  LC, L_LC },
    /* [K] median 0.02 (CA baby 0.029); 99.9th ~0.08 < Heid 0.12, CA 0.2 */
    { "C14OH", NULL,    0.02,  0.45,  LC, L_LC },
    /* [K] median 3.3 (CA baby 4.14) with R4S 99th 5.73 -> sd 0.24; 99.9th ~6.9 < CA 12 */
    { "C16",   NULL,    3.3,   0.24,  LC, L_LC },
    /* [K] median 0.30 (CA baby 0.341); 99.9th ~0.88 < CA 1.4 */
    { "C16:1", NULL,    0.30,  0.35,  LC, L_LC },
    /* [K] median 0.03 (CA baby 0.049 is half the CA cutoff 0.1); 99.9th ~0.076 < CA 0.1 */
    { "C16OH", NULL,    0.03,  0.30,  LC, L_LC },
    /* [K] median 0.03 (not on the CA report); 99.9th ~0.10 < Heid 0.22 */
    { "C16:1OH", NULL,  0.03,  0.40,  LC, L_LC },
    /* source: median 1.07 (CA baby) ~ 1.0; sd [K]: 99.9th ~2.5 < CA 3.5 */
    { "C18",   NULL,    1.0,   0.30,  LC, L_LC },
    /* source: median 1.65 (CA baby) ~ [K] 1.5; 99.9th ~3.8 < CA 7 */
    { "C18:1", NULL,    1.5,   0.30,  LC, L_LC },
    /* source: median 0.23 (CA baby) ~ 0.22, no cutoff; sd [K] */
    { "C18:2", NULL,    0.22,  0.40,  LC, L_LC },
    /* [K] median 0.015 (CA baby 0.022); 99.9th ~0.06 < CA 0.1, Heid 0.11 */
    { "C18OH", NULL,    0.015, 0.45,  LC, L_LC },
    /* [K] median 0.025 (CA baby 0.053 is half the cutoff); 99.9th ~0.074 < CA 0.1, Heid 0.12 */
    { "C18:1OH", NULL,  0.025, 0.35,  LC, L_LC },
};

#undef AA
#undef SC
#undef MC
#undef LC
#undef NO

/* Covariate effects.  Age at collection: Cohen's d of early (12-23 h) and late (49-168 h)
 * vs standard (24-48 h) collection, California screen negatives (source: DOMAIN §2.1,
 * Peng et al., Front Pediatr 2021, doi 10.3389/fped.2020.623184). */
#define AMINO_ESSENTIAL "Phe Xle Val Met"
#define AC_MEDIUM_LONG "C6 C8 C8:1 C10 C10:1 C12 C12:1 C14 C14:1 C14:2 C14OH C16 C16:1 C16OH " \
                       "C16:1OH C18 C18:1 C18:2 C18OH C18:1OH"

const ns_sim_effect_t ns_sim_effects[] = {
    /* source: DOMAIN §2.1 (Peng 2021), early vs standard */
    { NS_SIM_COV_EARLY,   "Phe",   +0.55, 1.0 },
    { NS_SIM_COV_EARLY,   "Met",   +0.50, 1.0 },
    { NS_SIM_COV_EARLY,   "C5",    +0.24, 1.0 },
    { NS_SIM_COV_EARLY,   "C3",    +0.23, 1.0 },
    { NS_SIM_COV_EARLY,   "C0",    +0.23, 1.0 },
    { NS_SIM_COV_EARLY,   "Cit",   +0.06, 1.0 },
    { NS_SIM_COV_EARLY,   "C14:1", -0.04, 1.0 },
    /* source: DOMAIN §2.1 (Peng 2021), late vs standard */
    { NS_SIM_COV_LATE,    "Phe",   -0.41, 1.0 },
    { NS_SIM_COV_LATE,    "Met",   -0.34, 1.0 },
    { NS_SIM_COV_LATE,    "Cit",   -0.28, 1.0 },
    { NS_SIM_COV_LATE,    "C14:1", -0.26, 1.0 },
    { NS_SIM_COV_LATE,    "C3",    -0.11, 1.0 },
    { NS_SIM_COV_LATE,    "C5",    +0.31, 1.0 },
    /* Preterm / LBW: higher essential amino acids, lower medium- and long-chain
     * acylcarnitines (source: DOMAIN §2.2, Ryckman 2013); Tyr needs its own preterm cutoff
     * (source: DOMAIN §2.2, Lee 2023).  Sizes [K]: ~+15 % / +25 % / -18 %, doubled when
     * BW < 1500 g (New England: half of all flags from NICU/<1500 g babies, Zytkovicz 2001). */
    { NS_SIM_COV_PRETERM, AMINO_ESSENTIAL, 0.0, 1.15 },
    { NS_SIM_COV_PRETERM, "Tyr",           0.0, 1.25 },
    { NS_SIM_COV_PRETERM, AC_MEDIUM_LONG,  0.0, 0.82 },
    /* TPN with amino acids: global amino-acid rise, false Phe/Met/Xle/Tyr (source: DOMAIN
     * §2.3, J Pediatr 2015: amino-acid false positives 7.62 % in VLBW babies, 11.8 % with
     * PN running at collection).  Folds [K] at full intensity, calibrated so that about
     * 10 % of TPN babies cross a single-analyte amino-acid cutoff of the default panel
     * (measured: see the issue-3 closing note); the simulator scales the log-shift by a
     * per-baby intensity U(0.5, 1) (PN stopped 3 h before collection cuts false positives
     * 11.8 % -> 3.1 %, same source).  Tyr, Ala rise with the rest, so the ratios that
     * tell PKU and MSUD from TPN (Phe/Tyr, Xle/Ala, DOMAIN §1.4) stay near normal. */
    { NS_SIM_COV_TPN,     "Phe",   0.0, 2.1 },
    { NS_SIM_COV_TPN,     "Met",   0.0, 2.5 },
    { NS_SIM_COV_TPN,     "Xle",   0.0, 2.1 },
    { NS_SIM_COV_TPN,     "Tyr",   0.0, 2.1 },
    { NS_SIM_COV_TPN,     "Val",   0.0, 1.9 },
    { NS_SIM_COV_TPN,     "Arg Gly Ala Pro Orn", 0.0, 1.8 },
    /* Sex: females have higher percentiles for all amino acids except Arg and Orn, males
     * for most acylcarnitines (source: DOMAIN §2.2, He 2021).  Size [K]: +3 %. */
    { NS_SIM_COV_FEMALE,  "Phe Tyr Xle Val Met Cit Gly Ala Pro", 0.0, 1.03 },
    { NS_SIM_COV_MALE,    "C2 C3 C4 C5 C6 C8 C10 C12 C14 C16 C18 C18:1", 0.0, 1.03 },
};
const int ns_sim_n_effects = (int)(sizeof ns_sim_effects / sizeof ns_sim_effects[0]);

/* Disease profiles.  Every primary marker is drawn at least ~2x beyond the CA cutoff
 * (DOMAIN §1.2a; §1.2c/§1.2d where those are stricter) so that any sane panel calls the
 * case; where the literature has no number the range is [K].  Markers not listed keep
 * their normal draw.  Conditions are in the round-robin order of --cases. */
#define ACYL_ALL "C2 C3 C3DC C4 C5 C5:1 C5OH C5DC C6 C8 C8:1 C10 C10:1 C12 C12:1 C14 C14:1 " \
                 "C14:2 C14OH C16 C16:1 C16OH C16:1OH C18 C18:1 C18:2 C18OH C18:1OH"
#define END { NULL, 0, 0, 0, NULL, 0 }

const ns_sim_cond_t ns_sim_conds[] = {
    /* source: plasma Phe >600 PKU, 150-600 HPA (DOMAIN §1.5, Schulze); 400 = 2.3x CA 175 [K]; Tyr normal */
    { "PKU", "phenylketonuria / hyperphenylalaninemia", {
        { "Phe", NS_SIM_ABS, 400, 2000, NULL, 0 }, END } },
    /* source: classic Leu 500-5000 (DOMAIN §1.5, Schulze); briefed Xle 600-3000 (2.6x CA 230),
     * Val 450-1500 (> Heid 390) [K] */
    { "MSUD", "maple syrup urine disease", {
        { "Xle", NS_SIM_ABS, 600, 3000, NULL, 0 },
        { "Val", NS_SIM_ABS, 450, 1500, NULL, 0 }, END } },
    /* [K] SUAC 12.5-100 (2x CA 6.1; briefed 10-100, lower end raised to 2x); Tyr often normal
     * or mildly up (DOMAIN §1.5) -> x1-2.5 [K] */
    { "TYR1", "tyrosinemia type I", {
        { "SUAC", NS_SIM_ABS, 12.5, 100, NULL, 0 },
        { "Tyr", NS_SIM_FOLD, 1.0, 2.5, NULL, 0 }, END } },
    /* [K] Met 200-600 (2x CA 100, 3x Heid 65; briefed 120-600, lower end raised to 2x) */
    { "HCY", "homocystinuria (CBS deficiency)", {
        { "Met", NS_SIM_ABS, 200, 600, NULL, 0 }, END } },
    /* source: classic Cit >>1000, variant 50-1200 (DOMAIN §1.2c, Schulze); 200-2000 [K];
     * Arg normal or low [K] */
    { "CIT", "citrullinemia type I / ASA lyase deficiency", {
        { "Cit", NS_SIM_ABS, 200, 2000, NULL, 0 },
        { "Arg", NS_SIM_FOLD, 0.4, 1.0, NULL, 0 }, END } },
    /* [K] Cit 100-200: mild rise (HK immediate recall >50, DOMAIN §1.2d); briefed 50-150, lower
     * end raised to 2x CA 49.  Met, Tyr may rise (DOMAIN §1.5 [K]); Phe kept < PKU range */
    { "CITR", "citrin deficiency (NICCD)", {
        { "Cit", NS_SIM_ABS, 100, 200, NULL, 0 },
        { "Met Tyr", NS_SIM_FOLD, 1.0, 2.0, NULL, 0 }, END } },
    /* [K] Cit 1.0-2.5 (2x below CA low limit 5; briefed x0.1-0.2 of normal, made absolute so
     * a high normal draw cannot escape) — DOMAIN §1.5 "Cit low" */
    { "OTC", "ornithine transcarbamylase / CPS-I deficiency", {
        { "Cit", NS_SIM_ABS, 1.0, 2.5, NULL, 0 }, END } },
    /* source: C8 median 8.4 (3.1-28.3) umol/L in 16 affected newborns <3 d (DOMAIN §1.5,
     * Chace/Naylor).  C6, C10, C10:1 up with C10 < C8 (C8/C10 >= 2.9 > Heid 1.6) [K] */
    { "MCAD", "medium-chain acyl-CoA dehydrogenase deficiency", {
        { "C8", NS_SIM_LOGN, 3.1, 28.3, NULL, 8.4 },
        { "C6", NS_SIM_REL, 0.15, 0.35, "C8", 0 },
        { "C10", NS_SIM_REL, 0.10, 0.35, "C8", 0 },
        { "C10:1", NS_SIM_REL, 0.06, 0.15, "C8", 0 }, END } },
    /* [K] C14:1 1.8-8 (2x CA 0.9; briefed 1.5-8, lower end raised); C14, C14:2 up with it [K] */
    { "VLCAD", "very-long-chain acyl-CoA dehydrogenase deficiency", {
        { "C14:1", NS_SIM_ABS, 1.8, 8.0, NULL, 0 },
        { "C14", NS_SIM_REL, 0.4, 0.8, "C14:1", 0 },
        { "C14:2", NS_SIM_REL, 0.1, 0.3, "C14:1", 0 }, END } },
    /* [K] C16OH 0.5-2.5 (2.5x Heid 0.2, 5x CA 0.1; keeps C16OH/C16 > 0.07); the other OH
     * species >= 2x their Heid limits (0.12/0.11/0.12/0.22) */
    { "LCHAD", "LCHAD / trifunctional protein deficiency", {
        { "C16OH", NS_SIM_ABS, 0.5, 2.5, NULL, 0 },
        { "C18:1OH", NS_SIM_ABS, 0.25, 1.5, NULL, 0 },
        { "C18OH", NS_SIM_ABS, 0.22, 1.0, NULL, 0 },
        { "C14OH", NS_SIM_ABS, 0.4, 1.0, NULL, 0 },
        { "C16:1OH", NS_SIM_ABS, 0.45, 1.5, NULL, 0 }, END } },
    /* [K] C4 3.4-10 (2x CA 1.7; briefed 3-10) */
    { "SCAD", "short-chain acyl-CoA dehydrogenase deficiency", {
        { "C4", NS_SIM_ABS, 3.4, 10, NULL, 0 }, END } },
    /* [K] as SCAD: C4 is butyryl + isobutyryl (DOMAIN §1.1) */
    { "IBD", "isobutyryl-CoA dehydrogenase deficiency", {
        { "C4", NS_SIM_ABS, 3.4, 10, NULL, 0 }, END } },
    /* [K] C5DC 1-5 (2.6x CA 0.38, 2.9x MassChrom 0.35) */
    { "GA1", "glutaric acidemia type I", {
        { "C5DC", NS_SIM_ABS, 1.0, 5.0, NULL, 0 }, END } },
    /* [K] many acylcarnitines up (DOMAIN §1.5); each >= 2x its CA cutoff except C16
     * (CA 12: 14-30 keeps it over the cutoff without an absurd value) */
    { "GA2", "glutaric acidemia type II (MADD)", {
        { "C4", NS_SIM_ABS, 3.4, 8, NULL, 0 },
        { "C5", NS_SIM_ABS, 1.9, 8, NULL, 0 },
        { "C5DC", NS_SIM_ABS, 0.8, 3, NULL, 0 },
        { "C6", NS_SIM_ABS, 1.9, 5, NULL, 0 },
        { "C8", NS_SIM_ABS, 0.9, 4, NULL, 0 },
        { "C10", NS_SIM_ABS, 1.3, 5, NULL, 0 },
        { "C12", NS_SIM_ABS, 4, 10, NULL, 0 },
        { "C14:1", NS_SIM_ABS, 1.8, 5, NULL, 0 },
        { "C16", NS_SIM_ABS, 14, 30, NULL, 0 }, END } },
    /* [K] C5 3-20 (3.2x CA 0.95) */
    { "IVA", "isovaleric acidemia", {
        { "C5", NS_SIM_ABS, 3.0, 20, NULL, 0 }, END } },
    /* [K] as IVA (C5 is isovaleryl + 2-methylbutyryl, DOMAIN §1.1) */
    { "MBCD", "2-methylbutyryl-CoA dehydrogenase deficiency", {
        { "C5", NS_SIM_ABS, 3.0, 20, NULL, 0 }, END } },
    /* [K] C3 21-60 (2.7x CA 7.9) with C2 low-normal 12-25, so C3/C2 >= 0.84 (2x CA 0.42) */
    { "PA_MMA", "propionic / methylmalonic acidemia", {
        { "C2", NS_SIM_ABS, 12, 25, NULL, 0 },
        { "C3", NS_SIM_ABS, 21, 60, NULL, 0 }, END } },
    /* [K] C3 16-40 (2x CA 7.9); Met low 1.5-3.1 (2x below CA low limit 6.3; briefed x0.15-0.3
     * of normal, made absolute) — DOMAIN §1.5 */
    { "CBLC", "cobalamin C/D disease", {
        { "C3", NS_SIM_ABS, 16, 40, NULL, 0 },
        { "Met", NS_SIM_ABS, 1.5, 3.1, NULL, 0 }, END } },
    /* [K] C5OH 2.3-20 (2x CA 1.15) */
    { "MCC", "3-methylcrotonyl-CoA carboxylase deficiency", {
        { "C5OH", NS_SIM_ABS, 2.3, 20, NULL, 0 }, END } },
    /* [K] C5:1 1.0-3.0 and C5OH 2.3-8: 2x the CA limits (0.5, 1.15).  Real BKT cases read
     * lower (R4S case 5th pct C5:1 0.15, C5OH 0.65, DOMAIN §1.2b): the CA limits would miss
     * them, so these are "detectable" values, not typical ones */
    { "BKT", "beta-ketothiolase deficiency", {
        { "C5:1", NS_SIM_ABS, 1.0, 3.0, NULL, 0 },
        { "C5OH", NS_SIM_ABS, 2.3, 8.0, NULL, 0 }, END } },
    /* [K] C0 1.5-3.2 (2x below CA low 6.4; HK <5 immediate recall; = x0.05-0.1 of the
     * normal median); all acylcarnitines lowered together x0.2-0.5 (DOMAIN §1.5) */
    { "CUD", "carnitine uptake defect (primary carnitine deficiency)", {
        { "C0", NS_SIM_ABS, 1.5, 3.2, NULL, 0 },
        { ACYL_ALL, NS_SIM_FOLD, 0.2, 0.5, NULL, 0 }, END } },
    /* [K] C0 170-300 (high; > CA upper 125) with C16 0.3-0.9 and C18 0.08-0.3 low, so
     * C0/(C16+C18) >= 140 (2x CA 70) */
    { "CPT1", "carnitine palmitoyltransferase I deficiency", {
        { "C0", NS_SIM_ABS, 170, 300, NULL, 0 },
        { "C16", NS_SIM_ABS, 0.3, 0.9, NULL, 0 },
        { "C18", NS_SIM_ABS, 0.08, 0.3, NULL, 0 }, END } },
    /* [K] C16 24-45 (2x CA 12), C18:1 14-30 (2x CA 7), C18 4-9 up; C0 low-ish 8-15 (kept
     * above the CUD cutoff 6.4 so CPT2 is not also called CUD) — DOMAIN §1.5 */
    { "CPT2", "carnitine palmitoyltransferase II / CACT deficiency", {
        { "C16", NS_SIM_ABS, 24, 45, NULL, 0 },
        { "C18:1", NS_SIM_ABS, 14, 30, NULL, 0 },
        { "C18", NS_SIM_ABS, 4, 9, NULL, 0 },
        { "C0", NS_SIM_ABS, 8, 15, NULL, 0 }, END } },
    /* [K] C3DC 1.5-6 (3x CA 0.48) */
    { "MAL", "malonic aciduria", {
        { "C3DC", NS_SIM_ABS, 1.5, 6.0, NULL, 0 }, END } },
};
const int ns_sim_n_conds = (int)(sizeof ns_sim_conds / sizeof ns_sim_conds[0]);

/* Mimics: non-disease causes of abnormal results (DOMAIN §2.3).  A plain baby gets one
 * with probability p; it is not a case (not in truth.csv) but a realistic false positive,
 * as a real night holds.  Probabilities and sizes [K], kept small so no single analyte's
 * normal-population exceedance passes ~0.05 %. */
const ns_sim_mimic_t ns_sim_mimics[] = {
    /* source: pivalate antibiotics / neopentanoate nipple cream read as C5 (Belgium: 50/50
     * elevated C5 were pivaloylcarnitine; China 2015-2020: C5 FPs linked to pivalate
     * antibiotics, 1 true IVA in 509,313) — DOMAIN §2.3.  p 0.1 %, C5 x2-8 [K] */
    { 0.001, { "PIVALATE", "pivaloylcarnitine (pivalate exposure)", {
        { "C5", NS_SIM_FOLD, 2.0, 8.0, NULL, 0 }, END } } },
    /* source: maternal B12 deficiency raises infant C3 (Madrid: 85 maternal B12 vs 19 IEM
     * among 192 C3 referrals; Catalonia acquired B12 deficiency 1:1,989) — DOMAIN §2.3.
     * p 1:2000 from Catalonia; C3 x2.5-5, Met x0.6-0.9 [K] */
    { 0.0005, { "MAT_B12", "maternal vitamin B12 deficiency", {
        { "C3", NS_SIM_FOLD, 2.5, 5.0, NULL, 0 },
        { "Met", NS_SIM_FOLD, 0.6, 0.9, NULL, 0 }, END } } },
    /* source: maternal carnitine deficiency shows as low infant C0 (California: 14 newborn
     * CTD vs 14 maternal disorders vs 154 FPs) — DOMAIN §2.3.  p 1:3000, C0 x0.15-0.35 [K] */
    { 0.00033, { "MAT_CUD", "maternal carnitine deficiency", {
        { "C0", NS_SIM_FOLD, 0.15, 0.35, NULL, 0 }, END } } },
    /* source: postnatal weight loss / starvation raises acylcarnitines incl. C14:1 (VLCAD
     * false positives, Oita 2014-2024) — DOMAIN §2.3.  p 0.1 %, x1.3-2.5 together [K] */
    { 0.001, { "CATABOLIC", "catabolic state (weight loss, poor feeding)", {
        { "C12 C14 C14:1 C14:2 C16 C18:1", NS_SIM_FOLD, 1.3, 2.5, NULL, 0 }, END } } },
};
const int ns_sim_n_mimics = (int)(sizeof ns_sim_mimics / sizeof ns_sim_mimics[0]);

#undef END

int ns_sim_analyte_index(const char *key)
{
    for (int a = 0; a < NS_SIM_N_ANALYTES; a++)
        if (strcmp(ns_sim_analytes[a].key, key) == 0) return a;
    return -1;
}

int ns_sim_for_each(const char *list, void (*fn)(int a, void *arg), void *arg)
{
    char key[32];
    for (const char *p = list; *p; ) {
        while (*p == ' ') p++;
        size_t n = strcspn(p, " ");
        if (n == 0) break;
        if (n >= sizeof key) return -1;
        memcpy(key, p, n);
        key[n] = 0;
        int a = ns_sim_analyte_index(key);
        if (a < 0) return -1;
        fn(a, arg);
        p += n;
    }
    return 0;
}

static void mark_set(int a, void *arg) { ((unsigned char *)arg)[a] = 1; }
static void nop(int a, void *arg) { (void)a; (void)arg; }

static int check_cond(const ns_sim_cond_t *d, char *msg, int len)
{
    unsigned char set[NS_SIM_N_ANALYTES] = { 0 };
    if (!d->m[0].analytes) {
        snprintf(msg, (size_t)len, "condition %s: no markers", d->code);
        return -1;
    }
    for (int k = 0; k < NS_SIM_MAX_MARKERS && d->m[k].analytes; k++) {
        const ns_sim_marker_t *m = &d->m[k];
        int bad = !(m->lo > 0) || !(m->hi >= m->lo) || m->mode < NS_SIM_ABS
                  || m->mode > NS_SIM_LOGN;
        if (m->mode == NS_SIM_REL) {
            int r = m->ref ? ns_sim_analyte_index(m->ref) : -1;
            bad |= r < 0 || !set[r];
        }
        if (m->mode == NS_SIM_LOGN) bad |= !(m->median >= m->lo && m->median <= m->hi);
        if (bad || ns_sim_for_each(m->analytes, mark_set, set) < 0) {
            snprintf(msg, (size_t)len, "condition %s, marker %s: bad mode, range, reference "
                     "or analyte", d->code, m->analytes);
            return -1;
        }
    }
    return 0;
}

int ns_sim_profiles_check(char *msg, int len)
{
    for (int a = 0; a < NS_SIM_N_ANALYTES; a++) {
        const ns_sim_analyte_t *x = &ns_sim_analytes[a];
        if (!(x->median > 0) || !(x->log_sd >= NS_SIM_SPOT_SD) || x->load < 0 || x->load > 1
            || x->group < 0 || x->group >= NS_SIM_G_N) {
            snprintf(msg, (size_t)len, "analyte %s: bad median, log_sd, group or load", x->key);
            return -1;
        }
    }
    for (int i = 0; i < ns_sim_n_effects; i++) {
        const ns_sim_effect_t *e = &ns_sim_effects[i];
        if (e->cov < 0 || e->cov >= NS_SIM_COV_N || !(e->fold > 0)
            || ns_sim_for_each(e->analytes, nop, NULL) < 0) {
            snprintf(msg, (size_t)len, "effect %d (%s): bad covariate, fold or analyte", i,
                     e->analytes);
            return -1;
        }
    }
    for (int c = 0; c < ns_sim_n_conds; c++)
        if (check_cond(&ns_sim_conds[c], msg, len) < 0) return -1;
    for (int c = 0; c < ns_sim_n_mimics; c++) {
        if (!(ns_sim_mimics[c].p >= 0 && ns_sim_mimics[c].p <= 1)) {
            snprintf(msg, (size_t)len, "mimic %s: bad probability", ns_sim_mimics[c].prof.code);
            return -1;
        }
        if (check_cond(&ns_sim_mimics[c].prof, msg, len) < 0) return -1;
    }
    return 0;
}

/* ---- shared helpers ---------------------------------------------------------------- */

int64_t ns_sim_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void ns_sim_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

void ns_sim_iso_minute(int64_t min, char *buf, size_t len)
{
    int64_t day = min >= 0 ? min / 1440 : -((-min + 1439) / 1440);
    int64_t mod = min - day * 1440;
    int y, m, d;
    ns_sim_civil_from_days(day, &y, &m, &d);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d", y, m, d, (int)(mod / 60), (int)(mod % 60));
}

unsigned long ns_sim_stream_seed(unsigned long seed, unsigned stream)
{
    uint64_t z = (uint64_t)seed + (uint64_t)stream * UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    z ^= z >> 31;
    unsigned long s = (unsigned long)(z & UINT64_C(0xFFFFFFFF));
    return s ? s : 1;
}
