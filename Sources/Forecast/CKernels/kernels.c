// Element-wise LSTM kernels; see include/CKernels.h for the contract.
#include "CKernels.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__)
#define FK_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FK_CLONES
#endif

// exp(x) for float, branch-free so loops vectorise: x = n ln2 + r, |r| <= ln2 / 2,
// exp(r) by the Cephes degree-7 polynomial (relative error ~1e-7), 2^n from the exponent bits.
static inline float fk_expf(float x) {
    x = x > 88.3762626647949f ? 88.3762626647949f : x;
    x = x < -87.3365447505531f ? -87.3365447505531f : x;
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float fk_sigmoidf(float x) { return 1.0f / (1.0f + fk_expf(-x)); }

// tanh: (1 - e) / (1 + e) with e = exp(-2|x|), and the Cephes odd polynomial below 0.625
// where that quotient would lose relative accuracy.
static inline float fk_tanhf(float x) {
    float a = x < 0.0f ? -x : x;
    float e = fk_expf(-2.0f * a);
    float big = (1.0f - e) / (1.0f + e);
    big = x < 0.0f ? -big : big;
    float z = x * x;
    float small = -5.70498872745e-3f;
    small = small * z + 2.06390887954e-2f;
    small = small * z - 5.37397155531e-2f;
    small = small * z + 1.33314422036e-1f;
    small = small * z - 3.33332819422e-1f;
    small = small * z * x + x;
    return a < 0.625f ? small : big;
}

FK_CLONES
void fk_sigmoid(long count, const float *x, float *out) {
    for (long k = 0; k < count; k++) out[k] = fk_sigmoidf(x[k]);
}

FK_CLONES
void fk_tanh(long count, const float *x, float *out) {
    for (long k = 0; k < count; k++) out[k] = fk_tanhf(x[k]);
}

// One row of the forward step. `restrict` on parameters (which clang keeps through inlining)
// lets the loop vectorise without run-time overlap checks.
static inline __attribute__((always_inline)) void cell_forward_row(
    long hidden, float *restrict gi, float *restrict gf, float *restrict gg, float *restrict go,
    const float *restrict cp, float *restrict cn, float *restrict tc, float *restrict hn) {
    for (long j = 0; j < hidden; j++) {
        float i = fk_sigmoidf(gi[j]), f = fk_sigmoidf(gf[j]);
        float g = fk_tanhf(gg[j]), o = fk_sigmoidf(go[j]);
        gi[j] = i; gf[j] = f; gg[j] = g; go[j] = o;
        float cc = f * cp[j] + i * g;
        float t = fk_tanhf(cc);
        cn[j] = cc; tc[j] = t; hn[j] = o * t;
    }
}

static inline __attribute__((always_inline)) void cell_infer_row(
    long hidden, const float *restrict gi, const float *restrict gf, const float *restrict gg,
    const float *restrict go, const float *restrict cp, float *restrict cn, float *restrict hn) {
    for (long j = 0; j < hidden; j++) {
        float i = fk_sigmoidf(gi[j]), f = fk_sigmoidf(gf[j]);
        float g = fk_tanhf(gg[j]), o = fk_sigmoidf(go[j]);
        float cc = f * cp[j] + i * g;
        cn[j] = cc; hn[j] = o * fk_tanhf(cc);
    }
}

FK_CLONES
void fk_lstm_cell_forward(long batch, long hidden, float *gates, const float *c_prev, float *c,
                          float *tanh_c, float *h) {
    for (long b = 0; b < batch; b++) {
        float *gi = gates + b * 4 * hidden;
        const float *cp = c_prev + b * hidden;
        float *cn = c + b * hidden;
        float *hn = h + b * hidden;
        if (tanh_c) {
            cell_forward_row(hidden, gi, gi + hidden, gi + 2 * hidden, gi + 3 * hidden, cp, cn,
                             tanh_c + b * hidden, hn);
        } else {
            cell_infer_row(hidden, gi, gi + hidden, gi + 2 * hidden, gi + 3 * hidden, cp, cn, hn);
        }
    }
}

static inline __attribute__((always_inline)) void cell_backward_row(
    long hidden, const float *restrict gi, const float *restrict gf, const float *restrict gg,
    const float *restrict go, const float *restrict cp, const float *restrict tc,
    const float *restrict dhb, float *restrict dcb, float *restrict di, float *restrict df,
    float *restrict dg, float *restrict dout) {
    for (long j = 0; j < hidden; j++) {
        float i = gi[j], f = gf[j], g = gg[j], o = go[j], t = tc[j], d = dhb[j];
        float dcc = dcb[j] + d * o * (1.0f - t * t);
        di[j] = dcc * g * i * (1.0f - i);
        df[j] = dcc * cp[j] * f * (1.0f - f);
        dg[j] = dcc * i * (1.0f - g * g);
        dout[j] = d * t * o * (1.0f - o);
        dcb[j] = dcc * f;
    }
}

FK_CLONES
void fk_lstm_cell_backward(long batch, long hidden, const float *gates, const float *c_prev,
                           const float *tanh_c, const float *dh, float *dc, float *dgates) {
    for (long b = 0; b < batch; b++) {
        const float *gi = gates + b * 4 * hidden;
        float *di = dgates + b * 4 * hidden;
        cell_backward_row(hidden, gi, gi + hidden, gi + 2 * hidden, gi + 3 * hidden, c_prev + b * hidden,
                          tanh_c + b * hidden, dh + b * hidden, dc + b * hidden, di, di + hidden,
                          di + 2 * hidden, di + 3 * hidden);
    }
}

FK_CLONES
void fk_add_row_vector(long rows, long columns, const float *bias, float *matrix) {
    for (long r = 0; r < rows; r++) {
        float *restrict row = matrix + r * columns;
        for (long k = 0; k < columns; k++) row[k] += bias[k];
    }
}

FK_CLONES
void fk_multiply(long count, const float *a, const float *b, float *out) {
    for (long k = 0; k < count; k++) out[k] = a[k] * b[k];
}
