// The kernels: one thread computes one Philox block (128 bits) of the draw at a time and
// the elements that block holds, so element `i` of a draw depends only on (key, first
// block, i), never on the grid, block size or device. The loop is grid-stride over the
// draw's blocks; a partial last block stores only the elements below `n`; full groups at
// aligned addresses are stored (and loaded) as one vector, any other with scalar accesses,
// so views at any storage offset work.

// Every kernel takes this one struct by value (mirrored by `seedstream_core::cuda::KernelArgs`).
struct ss_args {
    ss_u32 key[2];         // Philox key of the stream: key words 0, 1
    ss_u32 ctr_hi[2];      // upper counter words: key words 2, 3
    ss_u32 ext_key[2];     // the same for the extension stream (integers)
    ss_u32 ext_ctr_hi[2];
    ss_u64 first_block;    // block of element 0
    ss_u64 n;              // elements
    ss_u64 out;            // device address of element 0 of the output
    ss_u64 in;             // device address of element 0 of the input (dropout, bernoulli p)
    double f[10];          // float parameters, by method
    ss_u64 u[8];           // integer parameters, by method
};
// The layout KernelArgs has (its test checks the offsets on the Rust side).
static_assert(sizeof(ss_args) == 208 && alignof(ss_args) == 8, "ss_args layout");

template <class T, int E>
struct alignas(sizeof(T) * E) ss_vec { T v[E]; };

// Elements i0 .. i0 + E - 1 (those below n) of the array at `base`.
template <class T, int E>
SS_FN void ss_store(ss_u64 base, ss_u64 i0, ss_u64 n, const T (&v)[E]) {
    T* p = (T*)base + i0;
    if (i0 + E <= n && ((ss_u64)p % sizeof(ss_vec<T, E>)) == 0) {
        ss_vec<T, E> x;
#pragma unroll
        for (int e = 0; e < E; ++e) x.v[e] = v[e];
        *(ss_vec<T, E>*)p = x;
    } else {
#pragma unroll
        for (int e = 0; e < E; ++e)
            if (i0 + e < n) p[e] = v[e];
    }
}

template <class T, int E>
SS_FN void ss_load(ss_u64 base, ss_u64 i0, ss_u64 n, T (&v)[E]) {
    const T* p = (const T*)base + i0;
    if (i0 + E <= n && ((ss_u64)p % sizeof(ss_vec<T, E>)) == 0) {
        const ss_vec<T, E> x = *(const ss_vec<T, E>*)p;
#pragma unroll
        for (int e = 0; e < E; ++e) v[e] = x.v[e];
    } else {
#pragma unroll
        for (int e = 0; e < E; ++e) v[e] = i0 + e < n ? p[e] : T(0);
    }
}

// Grid-stride loop over the draw's blocks `b` (E elements each); `w` holds block b's words.
#define SS_FOR_EACH_BLOCK(a, E, b, w)                                                   \
    const ss_u64 ss_blocks = (a).n / (E) + ((a).n % (E) != 0);                          \
    const ss_u64 ss_stride = (ss_u64)gridDim.x * blockDim.x;                            \
    ss_u32 w[4];                                                                        \
    for (ss_u64 b = (ss_u64)blockIdx.x * blockDim.x + threadIdx.x; b < ss_blocks;       \
         b += ss_stride)                                                                \
        if (ss_block((a).key, (a).ctr_hi, (a).first_block + b, w), true)

// Output formats of the binary32 family: float32 itself, float16 and bfloat16 bits.
struct ss_out_f32 { typedef float T; static SS_FN float from(float x) { return x; } };
struct ss_out_f16 { typedef ss_u16 T; static SS_FN ss_u16 from(float x) { return ss_f16_from_f32(x); } };
struct ss_out_bf16 { typedef ss_u16 T; static SS_FN ss_u16 from(float x) { return ss_bf16_from_f32(x); } };

// uniform-v1. f = (low, high - low, lo, hi).
SS_FN void ss_uniform_f64_body(const ss_args& a) {
    SS_FOR_EACH_BLOCK(a, 2, b, w) {
        const double v[2] = {
            ss_uniform_value(a.f[0], a.f[1], a.f[2], a.f[3], ss_random_f64(ss_join(w[0], w[1]))),
            ss_uniform_value(a.f[0], a.f[1], a.f[2], a.f[3], ss_random_f64(ss_join(w[2], w[3])))};
        ss_store<double, 2>(a.out, 2 * b, a.n, v);
    }
}
template <class O>
SS_FN void ss_uniform_f32_body(const ss_args& a) {
    SS_FOR_EACH_BLOCK(a, 4, b, w) {
        typename O::T v[4];
#pragma unroll
        for (int e = 0; e < 4; ++e)
            v[e] = O::from((float)ss_uniform_value(a.f[0], a.f[1], a.f[2], a.f[3],
                                                   (double)ss_random_f32(w[e])));
        ss_store<typename O::T, 4>(a.out, 4 * b, a.n, v);
    }
}

// normal-v1. f = (loc, scale).
SS_FN void ss_normal_f64_body(const ss_args& a) {
    SS_FOR_EACH_BLOCK(a, 2, b, w) {
        double z0, z1;
        ss_box_muller_f64(ss_join(w[0], w[1]), ss_join(w[2], w[3]), &z0, &z1);
        const double v[2] = {a.f[0] + a.f[1] * z0, a.f[0] + a.f[1] * z1};
        ss_store<double, 2>(a.out, 2 * b, a.n, v);
    }
}
template <class O>
SS_FN void ss_normal_f32_body(const ss_args& a) {
    SS_FOR_EACH_BLOCK(a, 4, b, w) {
        float z[4];
        ss_box_muller_f32(w[0], w[1], &z[0], &z[1]);
        ss_box_muller_f32(w[2], w[3], &z[2], &z[3]);
        typename O::T v[4];
#pragma unroll
        for (int e = 0; e < 4; ++e) v[e] = O::from((float)(a.f[0] + a.f[1] * (double)z[e]));
        ss_store<typename O::T, 4>(a.out, 4 * b, a.n, v);
    }
}

// truncated-normal-v1. f = (loc, scale, lo, hi, the method's per-draw constants...).
SS_FN ss_trunc_general ss_general_of(const ss_args& a) {
    ss_trunc_general g = {a.f[4], a.f[5], a.f[6], a.f[7], a.f[8], a.f[9]};
    return g;
}
SS_FN ss_trunc_far ss_far_of(const ss_args& a) {
    ss_trunc_far f = {a.f[4], a.f[5], a.f[6], a.f[7]};
    return f;
}
struct ss_general_q { static SS_FN double q(const ss_args& a, double u) { return ss_trunc_general_quantile(ss_general_of(a), u); } };
struct ss_far_q { static SS_FN double q(const ss_args& a, double u) { return ss_trunc_far_quantile(ss_far_of(a), u); } };

template <class Q>
SS_FN void ss_trunc_f64_body(const ss_args& a) {
    SS_FOR_EACH_BLOCK(a, 2, b, w) {
        double v[2];
#pragma unroll
        for (int e = 0; e < 2; ++e) {
            const double z = Q::q(a, ss_uniform_open_f64(ss_join(w[2 * e], w[2 * e + 1])));
            v[e] = ss_uniform_value(a.f[0], a.f[1], a.f[2], a.f[3], z);
        }
        ss_store<double, 2>(a.out, 2 * b, a.n, v);
    }
}
template <class Q, class O>
SS_FN void ss_trunc_f32_body(const ss_args& a) {
    SS_FOR_EACH_BLOCK(a, 4, b, w) {
        typename O::T v[4];
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            const double z = Q::q(a, ss_uniform_open_f32_word(w[e]));
            v[e] = O::from((float)ss_uniform_value(a.f[0], a.f[1], a.f[2], a.f[3], z));
        }
        ss_store<typename O::T, 4>(a.out, 4 * b, a.n, v);
    }
}

// integers-v1. u = (low mod 2^64, range mod 2^64); stored as the dtype's two's complement.
template <class T>
SS_FN void ss_integers_body(const ss_args& a) {
    SS_FOR_EACH_BLOCK(a, 2, b, w) {
        T v[2];
#pragma unroll
        for (int e = 0; e < 2; ++e) {
            const ss_u64 range = a.u[1];
            ss_bounded r = ss_bounded_start(range, ss_join(w[2 * e], w[2 * e + 1]));
            if (r.needs_y) {
                ss_u32 x[4];
                ss_block(a.ext_key, a.ext_ctr_hi, a.first_block + b, x);
                r.value = ss_bounded_finish(range, r, ss_join(x[2 * e], x[2 * e + 1]));
            }
            v[e] = (T)(a.u[0] + r.value);
        }
        ss_store<T, 2>(a.out, 2 * b, a.n, v);
    }
}

// bernoulli-v1, scalar p: u[0] = threshold; bool output (one byte, 0 or 1).
SS_FN void ss_bernoulli_body(const ss_args& a) {
    SS_FOR_EACH_BLOCK(a, 4, b, w) {
        unsigned char v[4];
#pragma unroll
        for (int e = 0; e < 4; ++e) v[e] = (ss_u64)w[e] < a.u[0];
        ss_store<unsigned char, 4>(a.out, 4 * b, a.n, v);
    }
}

// bernoulli-v1, one probability per element: `in` holds n binary64 values in [0, 1].
SS_FN void ss_bernoulli_p_body(const ss_args& a) {
    SS_FOR_EACH_BLOCK(a, 4, b, w) {
        double p[4];
        ss_load<double, 4>(a.in, 4 * b, a.n, p);
        unsigned char v[4];
#pragma unroll
        for (int e = 0; e < 4; ++e) v[e] = (ss_u64)w[e] < ss_bernoulli_threshold(p[e]);
        ss_store<unsigned char, 4>(a.out, 4 * b, a.n, v);
    }
}

// dropout-v1: u[0] = threshold, f[0] = the scale (binary64; binary32-exact for the others).
SS_FN void ss_dropout_f64_body(const ss_args& a) {
    SS_FOR_EACH_BLOCK(a, 4, b, w) {
        double x[4], v[4];
        ss_load<double, 4>(a.in, 4 * b, a.n, x);
#pragma unroll
        for (int e = 0; e < 4; ++e) v[e] = (ss_u64)w[e] < a.u[0] ? 0.0 : x[e] * a.f[0];
        ss_store<double, 4>(a.out, 4 * b, a.n, v);
    }
}
SS_FN void ss_dropout_f32_body(const ss_args& a) {
    const float s = (float)a.f[0];
    SS_FOR_EACH_BLOCK(a, 4, b, w) {
        float x[4], v[4];
        ss_load<float, 4>(a.in, 4 * b, a.n, x);
#pragma unroll
        for (int e = 0; e < 4; ++e) v[e] = (ss_u64)w[e] < a.u[0] ? 0.0f : x[e] * s;
        ss_store<float, 4>(a.out, 4 * b, a.n, v);
    }
}
struct ss_half_f16 { static SS_FN float to(ss_u16 h) { return ss_f32_from_f16(h); } static SS_FN ss_u16 from(float x) { return ss_f16_from_f32(x); } };
struct ss_half_bf16 { static SS_FN float to(ss_u16 h) { return ss_f32_from_bf16(h); } static SS_FN ss_u16 from(float x) { return ss_bf16_from_f32(x); } };
template <class H>
SS_FN void ss_dropout_half_body(const ss_args& a) {
    const float s = (float)a.f[0];
    SS_FOR_EACH_BLOCK(a, 4, b, w) {
        ss_u16 x[4], v[4];
        ss_load<ss_u16, 4>(a.in, 4 * b, a.n, x);
#pragma unroll
        for (int e = 0; e < 4; ++e) v[e] = (ss_u64)w[e] < a.u[0] ? (ss_u16)0 : H::from(H::to(x[e]) * s);
        ss_store<ss_u16, 4>(a.out, 4 * b, a.n, v);
    }
}

// q = a / b and r = a % b, in 32-bit operations when both fit (a 64-bit division costs
// several times a 32-bit one on a GPU).
SS_FN void ss_divmod(ss_u64 a, ss_u64 b, ss_u64* q, ss_u64* r) {
    if (((a | b) >> 32) == 0) {
        *q = (ss_u32)a / (ss_u32)b;
        *r = (ss_u32)a % (ss_u32)b;
    } else {
        *q = a / b;
        *r = a % b;
    }
}

// The kept value of dropout-v1 per format: T the element, S the scale's type.
struct ss_drop_f64 {
    typedef double T; typedef double S;
    static SS_FN S scale(const ss_args& a) { return a.f[0]; }
    static SS_FN T zero() { return 0.0; }
    static SS_FN T keep(T x, S s) { return x * s; }
};
struct ss_drop_f32 {
    typedef float T; typedef float S;
    static SS_FN S scale(const ss_args& a) { return (float)a.f[0]; }
    static SS_FN T zero() { return 0.0f; }
    static SS_FN T keep(T x, S s) { return x * s; }
};
template <class H>
struct ss_drop_half {
    typedef ss_u16 T; typedef float S;
    static SS_FN S scale(const ss_args& a) { return (float)a.f[0]; }
    static SS_FN T zero() { return (ss_u16)0; }
    static SS_FN T keep(T x, S s) { return H::from(H::to(x) * s); }
};

// sample-dropout-v1: each sample is dropped out with its own stream, at position 0.
// u = (threshold, table, samples, runs, run, blocks per run), f[0] = the scale (as for
// dropout-v1). The table (device memory) holds each sample's key words 0..3, then each
// run's start (ss_u64): element k of a sample's part (`runs * run` elements, the parts
// consecutive in `in` and `out`) is element starts[k / run] + k % run of the sample's
// draw. One thread computes one block of one run of one sample at a time; a run that
// starts inside a block keeps that block's elements from its start on.
template <class D>
SS_FN void ss_sample_dropout_body(const ss_args& a) {
    typedef typename D::T T;
    const ss_u32* keys = (const ss_u32*)a.u[1];
    const ss_u64 samples = a.u[2], runs = a.u[3], run = a.u[4], bpr = a.u[5];
    const ss_u64* starts = (const ss_u64*)(a.u[1] + 16 * samples);
    const ss_u64 units = samples * runs * bpr;
    const ss_u64 stride = (ss_u64)gridDim.x * blockDim.x;
    const typename D::S s = D::scale(a);
    for (ss_u64 u = (ss_u64)blockIdx.x * blockDim.x + threadIdx.x; u < units; u += stride) {
        // u = (j * runs + r) * bpr + k: block k of run r of sample j.
        ss_u64 jr, k, j, r;
        ss_divmod(u, bpr, &jr, &k);
        ss_divmod(jr, runs, &j, &r);
        const ss_u64 start = starts[r];
        const ss_u64 block = start / 4 + k;
        const ss_u64 first = 4 * block;  // element of the sample's draw at word 0 of the block
        if (first >= start + run) continue;
        // Words e in [lo, hi) of the block are elements of the run.
        const ss_u64 lo = first < start ? start - first : 0;
        const ss_u64 hi = start + run - first < 4 ? start + run - first : 4;
        ss_u32 w[4];
        ss_block(keys + 4 * j, keys + 4 * j + 2, block, w);
        // Index in `in`/`out` of word e's element: the run's first element's, jr * run, plus
        // e - (start - first).
        const ss_u64 at = jr * run;
        if (lo == 0 && hi == 4) {
            T x[4], v[4];
            ss_load<T, 4>(a.in, at + (first - start), a.n, x);
#pragma unroll
            for (int e = 0; e < 4; ++e) v[e] = (ss_u64)w[e] < a.u[0] ? D::zero() : D::keep(x[e], s);
            ss_store<T, 4>(a.out, at + (first - start), a.n, v);
        } else {
            const T* in = (const T*)a.in + at;
            T* out = (T*)a.out + at;
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                if ((ss_u64)e < lo || (ss_u64)e >= hi) continue;
                const ss_u64 i = first + e - start;
                out[i] = (ss_u64)w[e] < a.u[0] ? D::zero() : D::keep(in[i], s);
            }
        }
    }
}

// Every kernel, by name: X(name, body). `seedstream_core::cuda::KERNELS` lists the same names.
#define SS_KERNELS(X)                                                              \
    X(ss_uniform_f64, ss_uniform_f64_body)                                         \
    X(ss_uniform_f32, ss_uniform_f32_body<ss_out_f32>)                             \
    X(ss_uniform_f16, ss_uniform_f32_body<ss_out_f16>)                             \
    X(ss_uniform_bf16, ss_uniform_f32_body<ss_out_bf16>)                           \
    X(ss_normal_f64, ss_normal_f64_body)                                           \
    X(ss_normal_f32, ss_normal_f32_body<ss_out_f32>)                               \
    X(ss_normal_f16, ss_normal_f32_body<ss_out_f16>)                               \
    X(ss_normal_bf16, ss_normal_f32_body<ss_out_bf16>)                             \
    X(ss_trunc_general_f64, ss_trunc_f64_body<ss_general_q>)                       \
    X(ss_trunc_general_f32, (ss_trunc_f32_body<ss_general_q, ss_out_f32>))         \
    X(ss_trunc_general_f16, (ss_trunc_f32_body<ss_general_q, ss_out_f16>))         \
    X(ss_trunc_general_bf16, (ss_trunc_f32_body<ss_general_q, ss_out_bf16>))       \
    X(ss_trunc_far_f64, ss_trunc_f64_body<ss_far_q>)                               \
    X(ss_trunc_far_f32, (ss_trunc_f32_body<ss_far_q, ss_out_f32>))                 \
    X(ss_trunc_far_f16, (ss_trunc_f32_body<ss_far_q, ss_out_f16>))                 \
    X(ss_trunc_far_bf16, (ss_trunc_f32_body<ss_far_q, ss_out_bf16>))               \
    X(ss_integers_i64, ss_integers_body<long long>)                                \
    X(ss_integers_i32, ss_integers_body<int>)                                      \
    X(ss_integers_i16, ss_integers_body<short>)                                    \
    X(ss_integers_i8, ss_integers_body<signed char>)                               \
    X(ss_integers_u8, ss_integers_body<unsigned char>)                             \
    X(ss_bernoulli, ss_bernoulli_body)                                             \
    X(ss_bernoulli_p, ss_bernoulli_p_body)                                         \
    X(ss_dropout_f64, ss_dropout_f64_body)                                         \
    X(ss_dropout_f32, ss_dropout_f32_body)                                         \
    X(ss_dropout_f16, ss_dropout_half_body<ss_half_f16>)                           \
    X(ss_dropout_bf16, ss_dropout_half_body<ss_half_bf16>)                         \
    X(ss_sample_dropout_f64, ss_sample_dropout_body<ss_drop_f64>)                  \
    X(ss_sample_dropout_f32, ss_sample_dropout_body<ss_drop_f32>)                  \
    X(ss_sample_dropout_f16, ss_sample_dropout_body<ss_drop_half<ss_half_f16> >)   \
    X(ss_sample_dropout_bf16, ss_sample_dropout_body<ss_drop_half<ss_half_bf16> >)

#define SS_DEFINE_KERNEL(name, body) \
    extern "C" __global__ void name(const ss_args a) { body(a); }
SS_KERNELS(SS_DEFINE_KERNEL)
