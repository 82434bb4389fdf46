// Per-element functions of every seedstream mapping that runs on NVIDIA GPUs, as
// `__host__ __device__` code: the same text is compiled by NVRTC for the GPU and, in the
// tests, by a C++ compiler for the host, where it is compared bit for bit with the Rust core.
//
// Each function mirrors one Rust function (named in its comment) with the same operations in
// the same order (docs/spec.md); the constants are `#define`d from the Rust `const`s by
// `seedstream_core::cuda::source()`. Compile with `--fmad=false --prec-div=true
// --prec-sqrt=true --ftz=false` (host: `-ffp-contract=off -fno-fast-math`): every `+ - * /`
// and `sqrt` is then one correctly rounded IEEE operation, never contracted to an FMA.

typedef unsigned int ss_u32;
typedef unsigned short ss_u16;
typedef unsigned long long ss_u64;

#ifndef SS_FN
#define SS_FN __host__ __device__ __forceinline__
#endif

// ---- bit casts -------------------------------------------------------------------------
#ifdef __CUDA_ARCH__
SS_FN ss_u32 ss_bits_f32(float x) { return __float_as_uint(x); }
SS_FN float ss_f32_bits(ss_u32 b) { return __uint_as_float(b); }
SS_FN ss_u64 ss_bits_f64(double x) { return (ss_u64)__double_as_longlong(x); }
SS_FN double ss_f64_bits(ss_u64 b) { return __longlong_as_double((long long)b); }
SS_FN ss_u64 ss_mulhi64(ss_u64 a, ss_u64 b) { return __umul64hi(a, b); }
SS_FN double ss_sqrt(double x) { return __dsqrt_rn(x); }
SS_FN float ss_sqrtf(float x) { return __fsqrt_rn(x); }
#else
SS_FN ss_u32 ss_bits_f32(float x) { ss_u32 b; __builtin_memcpy(&b, &x, 4); return b; }
SS_FN float ss_f32_bits(ss_u32 b) { float x; __builtin_memcpy(&x, &b, 4); return x; }
SS_FN ss_u64 ss_bits_f64(double x) { ss_u64 b; __builtin_memcpy(&b, &x, 8); return b; }
SS_FN double ss_f64_bits(ss_u64 b) { double x; __builtin_memcpy(&x, &b, 8); return x; }
SS_FN ss_u64 ss_mulhi64(ss_u64 a, ss_u64 b) {
    return (ss_u64)(((unsigned __int128)a * b) >> 64);
}
SS_FN double ss_sqrt(double x) { return __builtin_sqrt(x); }
SS_FN float ss_sqrtf(float x) { return __builtin_sqrtf(x); }
#endif

// ---- Philox4x32-10 (philox.rs: philox4x32_10) and the stream's blocks (stream.rs) -------
// Block n of a stream with key words kw: counter (lo32(n), hi32(n), kw[2], kw[3]),
// key (kw[0], kw[1]). docs/spec.md#blocks
SS_FN void ss_philox4x32_10(ss_u32 c[4], ss_u32 k0, ss_u32 k1) {
#pragma unroll
    for (int r = 0; r < SS_PHILOX_ROUNDS; ++r) {
        if (r > 0) {
            k0 += SS_PHILOX_W0;
            k1 += SS_PHILOX_W1;
        }
        const ss_u64 p0 = (ss_u64)SS_PHILOX_M0 * c[0];
        const ss_u64 p1 = (ss_u64)SS_PHILOX_M1 * c[2];
        const ss_u32 n0 = (ss_u32)(p1 >> 32) ^ c[1] ^ k0;
        const ss_u32 n1 = (ss_u32)p1;
        const ss_u32 n2 = (ss_u32)(p0 >> 32) ^ c[3] ^ k1;
        const ss_u32 n3 = (ss_u32)p0;
        c[0] = n0; c[1] = n1; c[2] = n2; c[3] = n3;
    }
}

// Block `n` of the stream whose key words are key[0..2] and counter words ctr_hi[0..2].
SS_FN void ss_block(const ss_u32 key[2], const ss_u32 ctr_hi[2], ss_u64 n, ss_u32 w[4]) {
    w[0] = (ss_u32)n;
    w[1] = (ss_u32)(n >> 32);
    w[2] = ctr_hi[0];
    w[3] = ctr_hi[1];
    ss_philox4x32_10(w, key[0], key[1]);
}

SS_FN ss_u64 ss_join(ss_u32 lo, ss_u32 hi) { return (ss_u64)lo | ((ss_u64)hi << 32); }

// ---- polynomials (detmath/mod.rs: horner_f64, horner_f32) -------------------------------
template <int N>
SS_FN double ss_horner(const double (&c)[N], double x) {
    double acc = c[N - 1];
#pragma unroll
    for (int i = N - 2; i >= 0; --i) acc = acc * x + c[i];
    return acc;
}
template <int N>
SS_FN float ss_horner(const float (&c)[N], float x) {
    float acc = c[N - 1];
#pragma unroll
    for (int i = N - 2; i >= 0; --i) acc = acc * x + c[i];
    return acc;
}

// ---- ln (detmath/ln.rs) ------------------------------------------------------------------
SS_FN double ss_ln_f64(double x) {
    const double P[] = {SS_LN_P_F64};
    const ss_u64 t = ss_bits_f64(x) - SS_SQRT1_2_BITS_F64;
    const double k = (double)((long long)t >> 52);
    const double m = ss_f64_bits((t & SS_MANTISSA_F64) + SS_SQRT1_2_BITS_F64);
    const double f = m - 1.0;
    const double hfsq = 0.5 * f * f;
    const double s = f / (2.0 + f);
    const double z = s * s;
    const double r = z * ss_horner(P, z);
    return k * SS_LN2_HI_F64 - ((hfsq - (s * (hfsq + r) + k * SS_LN2_LO_F64)) - f);
}

SS_FN float ss_ln_f32(float x) {
    const float P[] = {SS_LN_P_F32};
    const ss_u32 t = ss_bits_f32(x) - SS_SQRT1_2_BITS_F32;
    const float k = (float)((int)t >> 23);
    const float m = ss_f32_bits((t & SS_MANTISSA_F32) + SS_SQRT1_2_BITS_F32);
    const float f = m - 1.0f;
    const float hfsq = 0.5f * f * f;
    const float s = f / (2.0f + f);
    const float z = s * s;
    const float r = z * ss_horner(P, z);
    return k * SS_LN2_HI_F32 - ((hfsq - (s * (hfsq + r) + k * SS_LN2_LO_F32)) - f);
}

// ---- cos-sin-octant (detmath/sincos.rs) --------------------------------------------------
// Octants 1, 2, 5, 6 swap cos and sin; 2..5 negate cos; 4..7 negate sin.
SS_FN void ss_cos_sin_octant_f32(ss_u32 bits, float* cos_out, float* sin_out) {
    const float SIN[] = {SS_SIN_F32};
    const float COS[] = {SS_COS_F32};
    const ss_u32 o = bits >> 29;
    const ss_u32 mirror = (0u - (o & 1u)) & 0x7FFFFFu;
    const ss_u32 k = ((bits >> 6) & 0x7FFFFFu) ^ mirror;
    const float t = (float)(int)(2u * k + 1u) * 0x1p-24f;
    const float u = t * t;
    const float s0 = t * ss_horner(SIN, u);
    const float c0 = ss_horner(COS, u);
    const bool swap = ((o + 1u) & 2u) != 0;
    const float c = swap ? s0 : c0;
    const float s = swap ? c0 : s0;
    *cos_out = ss_f32_bits(ss_bits_f32(c) ^ ((ss_u32)(((o + 2u) & 4u) != 0) << 31));
    *sin_out = ss_f32_bits(ss_bits_f32(s) ^ ((ss_u32)((o & 4u) != 0) << 31));
}

SS_FN void ss_cos_sin_octant_f64(ss_u64 bits, double* cos_out, double* sin_out) {
    const double SIN[] = {SS_SIN_F64};
    const double COS[] = {SS_COS_F64};
    const ss_u64 K_MASK = (1ull << 51) - 1ull;
    const ss_u64 o = bits >> 61;
    const ss_u64 mirror = (0ull - (o & 1ull)) & K_MASK;
    const ss_u64 k = ((bits >> 10) & K_MASK) ^ mirror;
    const double t = ss_f64_bits(0x3FF0000000000000ull | (2ull * k + 1ull)) - 1.0;
    const double u = t * t;
    const double s0 = t * ss_horner(SIN, u);
    const double c0 = ss_horner(COS, u);
    const bool swap = ((o + 1ull) & 2ull) != 0;
    const double c = swap ? s0 : c0;
    const double s = swap ? c0 : s0;
    *cos_out = ss_f64_bits(ss_bits_f64(c) ^ ((ss_u64)(((o + 2ull) & 4ull) != 0) << 63));
    *sin_out = ss_f64_bits(ss_bits_f64(s) ^ ((ss_u64)((o & 4ull) != 0) << 63));
}

// ---- random-v1 (distr/uniform.rs: uniform_f32, uniform_f64) ------------------------------
SS_FN float ss_random_f32(ss_u32 word) { return (float)(word >> 8) * 0x1p-24f; }
SS_FN double ss_random_f64(ss_u64 bits) { return (double)(bits >> 11) * 0x1p-53; }

// ---- 16-bit formats (the `half` crate's conversions, distr/float.rs) ---------------------
// float32 to float16, round to nearest even; NaN keeps its top payload bits and is quieted.
SS_FN ss_u16 ss_f16_from_f32(float value) {
    const ss_u32 x = ss_bits_f32(value);
    const ss_u32 sign = x & 0x80000000u;
    const ss_u32 exp = x & 0x7F800000u;
    const ss_u32 man = x & 0x007FFFFFu;
    if (exp == 0x7F800000u) {
        const ss_u32 nan_bit = man == 0 ? 0u : 0x0200u;
        return (ss_u16)((sign >> 16) | 0x7C00u | nan_bit | (man >> 13));
    }
    const ss_u32 half_sign = sign >> 16;
    const int half_exp = (int)(exp >> 23) - 127 + 15;
    if (half_exp >= 0x1F) return (ss_u16)(half_sign | 0x7C00u);
    if (half_exp <= 0) {
        if (14 - half_exp > 24) return (ss_u16)half_sign;
        const ss_u32 m = man | 0x00800000u;
        ss_u32 half_man = m >> (14 - half_exp);
        const ss_u32 round_bit = 1u << (13 - half_exp);
        if ((m & round_bit) != 0 && (m & (3u * round_bit - 1u)) != 0) half_man += 1;
        return (ss_u16)(half_sign | half_man);
    }
    const ss_u32 h = half_sign | ((ss_u32)half_exp << 10) | (man >> 13);
    const ss_u32 round_bit = 0x00001000u;
    if ((man & round_bit) != 0 && (man & (3u * round_bit - 1u)) != 0) return (ss_u16)(h + 1u);
    return (ss_u16)h;
}

// float32 to bfloat16, round to nearest even; NaN is quieted.
SS_FN ss_u16 ss_bf16_from_f32(float value) {
    const ss_u32 x = ss_bits_f32(value);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return (ss_u16)((x >> 16) | 0x0040u);
    const ss_u32 round_bit = 0x00008000u;
    if ((x & round_bit) != 0 && (x & (3u * round_bit - 1u)) != 0) return (ss_u16)((x >> 16) + 1u);
    return (ss_u16)(x >> 16);
}

// float16 to float32 (exact; NaN quieted).
SS_FN float ss_f32_from_f16(ss_u16 h) {
    const ss_u32 sign = (ss_u32)(h & 0x8000u) << 16;
    const ss_u32 exp = h & 0x7C00u;
    const ss_u32 man = h & 0x03FFu;
    if (exp == 0x7C00u) {
        return ss_f32_bits(man == 0 ? (sign | 0x7F800000u) : (sign | 0x7FC00000u | (man << 13)));
    }
    if (exp == 0) {
        // Zero or subnormal: man * 2^-24, exact in binary32.
        return ss_f32_bits(sign | ss_bits_f32((float)(int)man * 0x1p-24f));
    }
    return ss_f32_bits(sign | (((ss_u32)(h & 0x7FFFu) << 13) + (112u << 23)));
}

// bfloat16 to float32 (exact; NaN quieted).
SS_FN float ss_f32_from_bf16(ss_u16 h) {
    const ss_u32 b = (h & 0x7FFFu) > 0x7F80u ? ((ss_u32)h | 0x0040u) : (ss_u32)h;
    return ss_f32_bits(b << 16);
}

// ---- normal-v1 (distr/normal.rs: box_muller_f32, box_muller_f64) -------------------------
SS_FN void ss_box_muller_f32(ss_u32 a, ss_u32 b, float* z0, float* z1) {
    const float u1 = ((float)a + 0.5f) * 0x1p-32f;
    // 0 - 2L rather than -2L: exact, and +0 (not -0) when u1 = 1.
    const float r = ss_sqrtf(0.0f - 2.0f * ss_ln_f32(u1));
    float c, s;
    ss_cos_sin_octant_f32(b, &c, &s);
    *z0 = r * c;
    *z1 = r * s;
}

SS_FN void ss_box_muller_f64(ss_u64 a, ss_u64 b, double* z0, double* z1) {
    const double u1 = ((double)a + 0.5) * 0x1p-64;
    const double r = ss_sqrt(0.0 - 2.0 * ss_ln_f64(u1));
    double c, s;
    ss_cos_sin_octant_f64(b, &c, &s);
    *z0 = r * c;
    *z1 = r * s;
}

// ---- uniform-v1 (distr/uniform.rs: UniformRange::fill) -----------------------------------
// low + span * u, clamped to [lo, hi], all binary64.
SS_FN double ss_uniform_value(double low, double span, double lo, double hi, double u) {
    double x = low + span * u;
    x = x < lo ? lo : x;
    return x > hi ? hi : x;
}

// ---- normal quantile (detmath/ndtri.rs) --------------------------------------------------
SS_FN double ss_ndtri_central(double q) {
    const double A[] = {SS_NDTRI_A};
    const double B[] = {SS_NDTRI_B};
    const double r = SS_NDTRI_CENTRAL_R0 - q * q;
    const double num = q * ss_horner(A, r);
    const double den = ss_horner(B, r);
    return num / den;
}

// (N, M) of the AS 241 tail at r = sqrt(-ln p).
SS_FN void ss_ndtri_tail_parts(double r, double* num, double* den) {
    const double C[] = {SS_NDTRI_C};
    const double D[] = {SS_NDTRI_D};
    const double E[] = {SS_NDTRI_E};
    const double F[] = {SS_NDTRI_F};
    const bool near = r <= SS_NDTRI_TAIL_SPLIT;
    const double x = r - (near ? SS_NDTRI_TAIL_SHIFT_NEAR : SS_NDTRI_TAIL_SPLIT);
    *num = near ? ss_horner(C, x) : ss_horner(E, x);
    *den = near ? ss_horner(D, x) : ss_horner(F, x);
}

SS_FN double ss_mills_asymptotic_scaled(double w) {
    const double ASYM[] = {SS_ASYMPTOTIC};
    return ss_horner(ASYM, w);
}

// detmath/ndtri.rs: far_tail_offset
SS_FN double ss_far_tail_offset(double t1, double s1, double g) {
    double d = 2.0 * g / (t1 + ss_sqrt(t1 * t1 + 2.0 * g));
#pragma unroll
    for (int i = 0; i < SS_FAR_TAIL_STEPS; ++i) {
        const double t = t1 + d;
        const double sw = ss_mills_asymptotic_scaled(1.0 / (t * t));
        const double h = d * (t1 + 0.5 * d) + ss_ln_f64(t / t1 * (s1 / sw)) - g;
        d = d - h / (t + 1.0 / t);
    }
    return d;
}

// ---- truncated-normal-v1 (distr/truncated_normal.rs) -------------------------------------
// The per-draw constants are computed by the Rust core (TruncatedNormal::kernel_constants).
struct ss_trunc_general { double c0, w, log_pb, ratio_lower, log_qa, ratio_upper; };
struct ss_trunc_far { double sign, t1, s1, ratio; };

SS_FN double ss_uniform_open_f32_word(ss_u32 w) { return ((double)w + 0.5) * 0x1p-32; }
SS_FN double ss_uniform_open_f64(ss_u64 x) { return ((double)(x >> 12) + 0.5) * 0x1p-52; }

// General::central / General::tail, chosen by |q|.
SS_FN double ss_trunc_general_quantile(const ss_trunc_general& g, double u) {
    const double q = g.c0 + u * g.w;
    if (q <= SS_NDTRI_CENTRAL_LIMIT && q >= -SS_NDTRI_CENTRAL_LIMIT) return ss_ndtri_central(q);
    const bool lower = q < 0.0;
    const double v = lower ? u + (1.0 - u) * g.ratio_lower : (1.0 - u) + u * g.ratio_upper;
    const double base = lower ? g.log_pb : g.log_qa;
    double num, den;
    ss_ndtri_tail_parts(ss_sqrt(0.0 - (base + ss_ln_f64(v))), &num, &den);
    num = lower ? -num : num;
    return num / den;
}

// FarTail::sample
SS_FN double ss_trunc_far_quantile(const ss_trunc_far& f, double u) {
    const double g = 0.0 - ss_ln_f64((1.0 - u) + u * f.ratio);
    return f.sign * (f.t1 + ss_far_tail_offset(f.t1, f.s1, g));
}

// ---- integers-v1 (distr/integers.rs: bounded) --------------------------------------------
// floor(range * (x * 2^64 + y) / 2^128) for range in [1, 2^64], `range == 0` meaning 2^64.
// `y` is read (from the extension stream) only when it can change the result.
struct ss_bounded { ss_u64 value; bool needs_y; ss_u64 lo; };
SS_FN ss_bounded ss_bounded_start(ss_u64 range, ss_u64 x) {
    ss_bounded b;
    if (range == 0) {  // 2^64 * x: hi = x, lo = 0, and lo + range <= 2^64 always
        b.value = x; b.needs_y = false; b.lo = 0;
        return b;
    }
    b.value = ss_mulhi64(range, x);
    b.lo = range * x;
    b.needs_y = b.lo > 0ull - range;  // lo + range > 2^64
    return b;
}
SS_FN ss_u64 ss_bounded_finish(ss_u64 range, ss_bounded b, ss_u64 y) {
    const ss_u64 t = ss_mulhi64(range, y);
    return b.value + (ss_u64)(b.lo + t < b.lo);  // carry of lo + t out of 64 bits
}

// ---- bernoulli-v1 (distr/bernoulli.rs: threshold) ----------------------------------------
// round(p * 2^32), ties to even, for p in [0, 1] (checked by the caller).
SS_FN ss_u64 ss_bernoulli_threshold(double p) {
    const double scaled = p * 4294967296.0;
    const ss_u64 fl = (ss_u64)scaled;
    const double frac = scaled - (double)fl;
    return (frac > 0.5 || (frac == 0.5 && (fl & 1ull) == 1ull)) ? fl + 1ull : fl;
}
