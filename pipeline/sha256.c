/* sha256.c — see sha256.h.  Follows FIPS 180-4 §4.1.2 (functions), §4.2.2 (constants),
 * §5.1.1 (padding), §5.3.3 (initial value) and §6.2.2 (hash computation). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sha256.h"
#include "util.h"
#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define NS_SHA_NI 1
#endif

/* §4.2.2: first 32 bits of the fractional parts of the cube roots of the first 64 primes */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define CH(x, y, z) (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))
#define BSIG0(x) (ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define BSIG1(x) (ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define SSIG0(x) (ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define SSIG1(x) (ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))

/* one 64-byte block (big-endian words, independent of the host byte order) */
static void compress(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16
             | (uint32_t)p[4 * t + 2] << 8 | (uint32_t)p[4 * t + 3];
    for (int t = 16; t < 64; t++)
        w[t] = SSIG1(w[t - 2]) + w[t - 7] + SSIG0(w[t - 15]) + w[t - 16];

    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int t = 0; t < 64; t++) {
        uint32_t t1 = k + BSIG1(e) + CH(e, f, g) + K[t] + w[t];
        uint32_t t2 = BSIG0(a) + MAJ(a, b, c);
        k = g; g = f; f = e; e = d + t1;
        d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
    h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

#ifdef NS_SHA_NI
/* The same compression with the x86 SHA extensions (Intel SHA-NI, 2013): four rounds per
 * pair of sha256rnds2, the message schedule by sha256msg1/msg2.  State kept as ABEF / CDGH,
 * the order those instructions use.  Chosen at run time when the CPU has SHA, SSSE3 and
 * SSE4.1; test_sha256 checks it against the portable code on the FIPS vectors and random
 * data. */
__attribute__((target("sha,sse4.1,ssse3")))
static void compress_ni(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)&h[0]), 0xB1); /* CDAB */
    __m128i st1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)&h[4]), 0x1B); /* EFGH */
    __m128i st0 = _mm_alignr_epi8(tmp, st1, 8);         /* ABEF */
    st1 = _mm_blend_epi16(st1, tmp, 0xF0);              /* CDGH */
    for (; nblocks > 0; nblocks--, p += 64) {
        const __m128i abef = st0, cdgh = st1;
        __m128i w[4];
        for (int j = 0; j < 4; j++)
            w[j] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16 * j)), bswap);
        /* unrolled, so that w[] lives in registers */
        #pragma GCC unroll 16
        for (int j = 0; j < 16; j++) {
            /* w[j & 3] holds words 4(j-4)..; the others j-3, j-2, j-1 */
            if (j >= 4) {
                __m128i t = _mm_sha256msg1_epu32(w[j & 3], w[(j + 1) & 3]);
                t = _mm_add_epi32(t, _mm_alignr_epi8(w[(j + 3) & 3], w[(j + 2) & 3], 4));
                w[j & 3] = _mm_sha256msg2_epu32(t, w[(j + 3) & 3]);
            }
            __m128i m = _mm_add_epi32(w[j & 3], _mm_loadu_si128((const __m128i *)(const void *)&K[4 * j]));
            st1 = _mm_sha256rnds2_epu32(st1, st0, m);
            st0 = _mm_sha256rnds2_epu32(st0, st1, _mm_shuffle_epi32(m, 0x0E));
        }
        st0 = _mm_add_epi32(st0, abef);
        st1 = _mm_add_epi32(st1, cdgh);
    }
    tmp = _mm_shuffle_epi32(st0, 0x1B);                 /* FEBA */
    st1 = _mm_shuffle_epi32(st1, 0xB1);                 /* DCHG */
    st0 = _mm_blend_epi16(tmp, st1, 0xF0);              /* DCBA */
    st1 = _mm_alignr_epi8(st1, tmp, 8);                 /* HGFE */
    _mm_storeu_si128((__m128i *)(void *)&h[0], st0);
    _mm_storeu_si128((__m128i *)(void *)&h[4], st1);
}

/* Two messages at once, nblocks blocks of each: the rounds of one block are a chain of
 * sha256rnds2, each waiting for the one before, so a single message leaves the SHA unit
 * idle most of the time; a second, independent chain interleaved with it fills those
 * cycles.  The same steps as compress_ni, for a and b side by side. */
__attribute__((target("sha,sse4.1,ssse3")))
static void compress_ni_x2(uint32_t ha[8], const uint8_t *pa, uint32_t hb[8], const uint8_t *pb, size_t nblocks)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i ta = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)&ha[0]), 0xB1);
    __m128i a1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)&ha[4]), 0x1B);
    __m128i a0 = _mm_alignr_epi8(ta, a1, 8);
    a1 = _mm_blend_epi16(a1, ta, 0xF0);
    __m128i tb = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)&hb[0]), 0xB1);
    __m128i b1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)&hb[4]), 0x1B);
    __m128i b0 = _mm_alignr_epi8(tb, b1, 8);
    b1 = _mm_blend_epi16(b1, tb, 0xF0);
    for (; nblocks > 0; nblocks--, pa += 64, pb += 64) {
        const __m128i sa0 = a0, sa1 = a1, sb0 = b0, sb1 = b1;
        __m128i wa[4], wb[4];
        for (int j = 0; j < 4; j++) {
            wa[j] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(pa + 16 * j)), bswap);
            wb[j] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(pb + 16 * j)), bswap);
        }
        #pragma GCC unroll 16
        for (int j = 0; j < 16; j++) {
            if (j >= 4) {
                __m128i t = _mm_sha256msg1_epu32(wa[j & 3], wa[(j + 1) & 3]);
                __m128i u = _mm_sha256msg1_epu32(wb[j & 3], wb[(j + 1) & 3]);
                t = _mm_add_epi32(t, _mm_alignr_epi8(wa[(j + 3) & 3], wa[(j + 2) & 3], 4));
                u = _mm_add_epi32(u, _mm_alignr_epi8(wb[(j + 3) & 3], wb[(j + 2) & 3], 4));
                wa[j & 3] = _mm_sha256msg2_epu32(t, wa[(j + 3) & 3]);
                wb[j & 3] = _mm_sha256msg2_epu32(u, wb[(j + 3) & 3]);
            }
            const __m128i k = _mm_loadu_si128((const __m128i *)(const void *)&K[4 * j]);
            const __m128i ma = _mm_add_epi32(wa[j & 3], k), mb = _mm_add_epi32(wb[j & 3], k);
            a1 = _mm_sha256rnds2_epu32(a1, a0, ma);
            b1 = _mm_sha256rnds2_epu32(b1, b0, mb);
            a0 = _mm_sha256rnds2_epu32(a0, a1, _mm_shuffle_epi32(ma, 0x0E));
            b0 = _mm_sha256rnds2_epu32(b0, b1, _mm_shuffle_epi32(mb, 0x0E));
        }
        a0 = _mm_add_epi32(a0, sa0);
        a1 = _mm_add_epi32(a1, sa1);
        b0 = _mm_add_epi32(b0, sb0);
        b1 = _mm_add_epi32(b1, sb1);
    }
    ta = _mm_shuffle_epi32(a0, 0x1B);
    a1 = _mm_shuffle_epi32(a1, 0xB1);
    _mm_storeu_si128((__m128i *)(void *)&ha[0], _mm_blend_epi16(ta, a1, 0xF0));
    _mm_storeu_si128((__m128i *)(void *)&ha[4], _mm_alignr_epi8(a1, ta, 8));
    tb = _mm_shuffle_epi32(b0, 0x1B);
    b1 = _mm_shuffle_epi32(b1, 0xB1);
    _mm_storeu_si128((__m128i *)(void *)&hb[0], _mm_blend_epi16(tb, b1, 0xF0));
    _mm_storeu_si128((__m128i *)(void *)&hb[4], _mm_alignr_epi8(b1, tb, 8));
}

/* Sixteen messages at once, one in each 32-bit lane of the AVX-512 registers: the
 * rounds of FIPS 180-4 §6.2.2 on vectors (the three-input functions and the XORs of the
 * Σ/σ by vpternlogd, the rotations by vprord).  nblocks blocks of each message, from p[l]
 * on; h[i][l] is word i of lane l's chaining value.  Lanes beyond the messages a caller
 * has are given another message's blocks and a state it throws away.  Where SHA-NI hashes
 * one message at about 2 cycles a byte (its rounds' latency), this hashes sixteen at about
 * 1.2 cycles a byte each, most of it in the rotations (one port): measured 1.7x the
 * side-by-side SHA-NI pair of compress_ni_x2 on 16 messages of 32 KiB. */
#define VROR(x, n) _mm512_ror_epi32((x), (n))
__attribute__((target("avx512f,avx512bw")))
static void compress_x16(uint32_t h[8][16], const uint8_t *const p[16], size_t nblocks)
{
    const __m512i bswap = _mm512_broadcast_i32x4(_mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL));
    __m512i st[8];
    for (int i = 0; i < 8; i++) st[i] = _mm512_loadu_si512(h[i]);
    for (size_t off = 0; nblocks > 0; nblocks--, off += 64) {
        /* block of lane l as row l, big-endian words; transposed so w[t] holds word t of
         * every lane: 32-bit, 64-bit, then 128-bit interleaves */
        __m512i r[16], t[16], w[16];
        for (int l = 0; l < 16; l++) r[l] = _mm512_shuffle_epi8(_mm512_loadu_si512(p[l] + off), bswap);
        for (int i = 0; i < 16; i += 2) {
            t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
            t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
        }
        for (int i = 0; i < 16; i += 4) {
            r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
            r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
            r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
            r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
        }
        for (int i = 0; i < 4; i++) {
            t[i] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0x88);
            t[i + 4] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0xDD);
            t[i + 8] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0x88);
            t[i + 12] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0xDD);
        }
        for (int i = 0; i < 4; i++) {
            w[i] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0x88);
            w[i + 8] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0xDD);
            w[i + 4] = _mm512_shuffle_i32x4(t[i + 4], t[i + 12], 0x88);
            w[i + 12] = _mm512_shuffle_i32x4(t[i + 4], t[i + 12], 0xDD);
        }
        __m512i a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], k = st[7];
        #pragma GCC unroll 64
        for (int j = 0; j < 64; j++) {
            if (j >= 16) {                  /* w[j & 15] holds word j - 16; becomes word j */
                const __m512i w15 = w[(j - 15) & 15], w2 = w[(j - 2) & 15];
                const __m512i s0 = _mm512_ternarylogic_epi32(VROR(w15, 7), VROR(w15, 18), _mm512_srli_epi32(w15, 3), 0x96);
                const __m512i s1 = _mm512_ternarylogic_epi32(VROR(w2, 17), VROR(w2, 19), _mm512_srli_epi32(w2, 10), 0x96);
                w[j & 15] = _mm512_add_epi32(_mm512_add_epi32(w[j & 15], s0), _mm512_add_epi32(w[(j - 7) & 15], s1));
            }
            /* 0x96: x ^ y ^ z; 0xCA: CH(e, f, g); 0xE8: MAJ(a, b, c) */
            const __m512i hk = _mm512_add_epi32(_mm512_add_epi32(k, _mm512_set1_epi32((int)K[j])), w[j & 15]);
            const __m512i s1 = _mm512_ternarylogic_epi32(VROR(e, 6), VROR(e, 11), VROR(e, 25), 0x96);
            const __m512i t1 = _mm512_add_epi32(_mm512_add_epi32(hk, _mm512_ternarylogic_epi32(e, f, g, 0xCA)), s1);
            const __m512i s0 = _mm512_ternarylogic_epi32(VROR(a, 2), VROR(a, 13), VROR(a, 22), 0x96);
            const __m512i t2 = _mm512_add_epi32(s0, _mm512_ternarylogic_epi32(a, b, c, 0xE8));
            k = g; g = f; f = e; e = _mm512_add_epi32(d, t1);
            d = c; c = b; b = a; a = _mm512_add_epi32(t1, t2);
        }
        st[0] = _mm512_add_epi32(st[0], a); st[1] = _mm512_add_epi32(st[1], b);
        st[2] = _mm512_add_epi32(st[2], c); st[3] = _mm512_add_epi32(st[3], d);
        st[4] = _mm512_add_epi32(st[4], e); st[5] = _mm512_add_epi32(st[5], f);
        st[6] = _mm512_add_epi32(st[6], g); st[7] = _mm512_add_epi32(st[7], k);
    }
    for (int i = 0; i < 8; i++) _mm512_storeu_si512(h[i], st[i]);
}
#undef VROR

static int cpu_has_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}

static int cpu_has_sha(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 9)) || !(c & (1u << 19))) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b >> 29) & 1u;
}
#endif

/* -1 = not yet known; 0 portable; 1 SHA-NI.  Racing first calls store the same value.
 * use_x16 likewise: whether ns_sha256_hex_many hashes sixteen messages in AVX-512 lanes. */
static int use_ni = -1, use_x16 = -1;

void ns_sha256_use_portable(int portable)
{
    __atomic_store_n(&use_ni, portable ? 0 : -1, __ATOMIC_RELAXED);
    __atomic_store_n(&use_x16, portable ? 0 : -1, __ATOMIC_RELAXED);
}

#ifdef NS_SHA_NI
/* *flag, or the CPU's answer (ask) stored there the first time */
static int asked_once(int *flag, int (*ask)(void))
{
    int x = __atomic_load_n(flag, __ATOMIC_RELAXED);
    if (x < 0) {
        x = ask();
        __atomic_store_n(flag, x, __ATOMIC_RELAXED);
    }
    return x;
}
#endif

/* whether the SHA-NI code is in use */
static int sha_ni(void)
{
#ifdef NS_SHA_NI
    return asked_once(&use_ni, cpu_has_sha);
#else
    return 0;
#endif
}

/* whether ns_sha256_hex_many uses compress_x16 */
static int sha_x16(void)
{
#ifdef NS_SHA_NI
    return asked_once(&use_x16, cpu_has_avx512);
#else
    return 0;
#endif
}

/* nblocks whole 64-byte blocks */
static void compress_blocks(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
#ifdef NS_SHA_NI
    if (sha_ni()) {
        compress_ni(h, p, nblocks);
        return;
    }
#endif
    for (; nblocks > 0; nblocks--, p += 64) compress(h, p);
}

void ns_sha256_init(ns_sha256_t *c)
{
    /* §5.3.3: fractional parts of the square roots of the first 8 primes */
    static const uint32_t h0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
    memcpy(c->h, h0, sizeof h0);
    c->nbytes = 0;
    c->nbuf = 0;
    memset(c->buf, 0, sizeof c->buf);
}

void ns_sha256_update(ns_sha256_t *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (len == 0) return;
    c->nbytes += len;
    if (c->nbuf > 0) {                      /* top up the partial block first */
        size_t k = 64 - c->nbuf < len ? 64 - c->nbuf : len;
        memcpy(c->buf + c->nbuf, p, k);
        c->nbuf += k; p += k; len -= k;
        if (c->nbuf < 64) return;
        compress_blocks(c->h, c->buf, 1);
        c->nbuf = 0;
    }
    if (len >= 64) {                        /* whole blocks straight from the input */
        compress_blocks(c->h, p, len / 64);
        p += len / 64 * 64;
        len %= 64;
    }
    memcpy(c->buf, p, len);
    c->nbuf = len;
}

void ns_sha256_final(ns_sha256_t *c, uint8_t out[NS_SHA256_LEN])
{
    /* §5.1.1: a 1 bit, zeros up to 56 mod 64 bytes, then the length in bits (64-bit BE) */
    uint64_t bits = c->nbytes * 8;
    c->buf[c->nbuf++] = 0x80;
    if (c->nbuf > 56) {
        memset(c->buf + c->nbuf, 0, 64 - c->nbuf);
        compress_blocks(c->h, c->buf, 1);
        c->nbuf = 0;
    }
    memset(c->buf + c->nbuf, 0, 56 - c->nbuf);
    for (int i = 0; i < 8; i++) c->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    compress_blocks(c->h, c->buf, 1);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(c->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)c->h[i];
    }
    memset(c, 0, sizeof *c);
}

void ns_sha256_tohex(const uint8_t d[NS_SHA256_LEN], char out[NS_SHA256_HEX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < NS_SHA256_LEN; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[NS_SHA256_HEX_LEN] = 0;
}

void ns_sha256_hex(const void *data, size_t len, char out[NS_SHA256_HEX_LEN + 1])
{
    ns_sha256_t c;
    uint8_t d[NS_SHA256_LEN];
    ns_sha256_init(&c);
    ns_sha256_update(&c, data, len);
    ns_sha256_final(&c, d);
    ns_sha256_tohex(d, out);
}

/* Finish a digest begun in c (whole blocks only so far) with the bytes of p from off to
 * len, and the padding; its hex to out.  p may be NULL when off == len. */
static void finish_one(ns_sha256_t *c, const void *p, size_t off, size_t len, char out[NS_SHA256_HEX_LEN + 1])
{
    uint8_t d[NS_SHA256_LEN];
    if (len > off) ns_sha256_update(c, (const uint8_t *)p + off, len - off);
    ns_sha256_final(c, d);
    ns_sha256_tohex(d, out);
}

/* finish_one for two digests, the whole blocks both have left hashed side by side
 * (compress_ni_x2) where the CPU has SHA-NI */
static void finish_pair(ns_sha256_t *ca, const void *a, size_t offa, size_t la, char oa[NS_SHA256_HEX_LEN + 1],
                        ns_sha256_t *cb, const void *b, size_t offb, size_t lb, char ob[NS_SHA256_HEX_LEN + 1])
{
#ifdef NS_SHA_NI
    const size_t na = (la - offa) / 64, nb = (lb - offb) / 64, both = na < nb ? na : nb;
    if (both && sha_ni()) {
        compress_ni_x2(ca->h, (const uint8_t *)a + offa, cb->h, (const uint8_t *)b + offb, both);
        ca->nbytes += both * 64;
        cb->nbytes += both * 64;
        offa += both * 64;
        offb += both * 64;
    }
#endif
    finish_one(ca, a, offa, la, oa);
    finish_one(cb, b, offb, lb, ob);
}

void ns_sha256_hex2(const void *a, size_t la, char oa[NS_SHA256_HEX_LEN + 1], const void *b, size_t lb,
                    char ob[NS_SHA256_HEX_LEN + 1])
{
    ns_sha256_t ca, cb;
    ns_sha256_init(&ca);
    ns_sha256_init(&cb);
    finish_pair(&ca, a, 0, la, oa, &cb, b, 0, lb, ob);
}

#ifdef NS_SHA_NI
/* fewest messages with whole blocks left worth a round of compress_x16: its sixteen lanes
 * take about 1.7x the time of one compress_ni_x2 pair, so below ten the pairs are faster */
#define X16_MIN 10

/* The messages data[0..n) (n <= 16) in AVX-512 lanes, in rounds: each round takes the
 * messages with at least one whole block left, while there are X16_MIN of them, and
 * hashes as many whole blocks of each as the shortest has.  What is left of each (less
 * than a block, or the blocks of too few messages) and the padding are finished two at a
 * time (finish_pair), the messages with the most left paired together. */
static void hex_x16(int n, const void *const *data, const size_t *len, char (*out)[NS_SHA256_HEX_LEN + 1])
{
    ns_sha256_t c[16];
    size_t done[16];                        /* bytes of message i hashed in lanes */
    for (int i = 0; i < n; i++) {
        ns_sha256_init(&c[i]);
        done[i] = 0;
    }
    for (;;) {
        int lane_of[16], m = 0;
        size_t nb = SIZE_MAX;
        for (int i = 0; i < n; i++) {
            const size_t left = (len[i] - done[i]) / 64;
            if (!left) continue;
            lane_of[m++] = i;
            if (left < nb) nb = left;
        }
        if (m < X16_MIN) break;
        uint32_t h[8][16];
        const uint8_t *p[16];
        for (int l = 0; l < 16; l++) {      /* spare lanes: the first message again */
            const int i = lane_of[l < m ? l : 0];
            p[l] = (const uint8_t *)data[i] + done[i];
            for (int w = 0; w < 8; w++) h[w][l] = c[i].h[w];
        }
        compress_x16(h, p, nb);
        for (int l = 0; l < m; l++) {
            const int i = lane_of[l];
            for (int w = 0; w < 8; w++) c[i].h[w] = h[w][l];
            done[i] += nb * 64;
            c[i].nbytes = done[i];
        }
    }
    int ord[16];                            /* by bytes left, most first */
    for (int i = 0; i < n; i++) {
        int j = i;
        for (; j > 0 && len[ord[j - 1]] - done[ord[j - 1]] < len[i] - done[i]; j--) ord[j] = ord[j - 1];
        ord[j] = i;
    }
    int k = 0;
    for (; k + 1 < n; k += 2) {
        const int i = ord[k], j = ord[k + 1];
        finish_pair(&c[i], data[i], done[i], len[i], out[i], &c[j], data[j], done[j], len[j], out[j]);
    }
    if (k < n) finish_one(&c[ord[k]], data[ord[k]], done[ord[k]], len[ord[k]], out[ord[k]]);
}
#endif

void ns_sha256_hex_many(int n, const void *const *data, const size_t *len, char (*out)[NS_SHA256_HEX_LEN + 1])
{
    int i = 0;
#ifdef NS_SHA_NI
    if (n >= X16_MIN && ns_simd && sha_x16())
        for (; n - i >= X16_MIN; i += 16) hex_x16(n - i < 16 ? n - i : 16, data + i, len + i, out + i);
#endif
    for (; i + 1 < n; i += 2) ns_sha256_hex2(data[i], len[i], out[i], data[i + 1], len[i + 1], out[i + 1]);
    if (i < n) ns_sha256_hex(data[i], len[i], out[i]);
}

int ns_sha256_file_hex(const char *path, char out[NS_SHA256_HEX_LEN + 1])
{
    out[0] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) < 0) { int e = errno; close(fd); errno = e; return -1; }
    if (S_ISDIR(st.st_mode)) { close(fd); errno = EISDIR; return -1; }

    ns_sha256_t c;
    uint8_t buf[65536], d[NS_SHA256_LEN];
    ns_sha256_init(&c);
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno; close(fd); errno = e; return -1;
        }
        if (r == 0) break;
        ns_sha256_update(&c, buf, (size_t)r);
    }
    close(fd);
    ns_sha256_final(&c, d);
    ns_sha256_tohex(d, out);
    return 0;
}
