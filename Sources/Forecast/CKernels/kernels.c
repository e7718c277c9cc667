// Element-wise LSTM kernels; see include/CKernels.h for the contract.
#include "CKernels.h"

#if defined(__x86_64__) && defined(__linux__)
#define FK_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FK_CLONES
#endif

int fk_kernel_level(void) {
#if defined(__x86_64__) && defined(__linux__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return 4;
    if (__builtin_cpu_supports("x86-64-v3")) return 3;
    return 1;
#else
    return 0;
#endif
}

// tanh by a [13/6] odd/even rational approximation on [-7.905, 7.905] (the coefficients used
// by Eigen's vectorised tanh), clamped outside, where tanh rounds to +-1 within 3e-7.
// Branch-free, so loops vectorise; measured error over [-30, 30]: 3.3e-7 absolute and
// relative. About a dozen multiply-adds and one division, half the work of an exp-based form.
static inline float fk_tanhf(float x) {
    const float clamp = 7.90531110763549805f;
    x = x > clamp ? clamp : x;
    x = x < -clamp ? -clamp : x;
    float x2 = x * x;
    float p = -2.76076847742355e-16f;
    p = p * x2 + 2.00018790482477e-13f;
    p = p * x2 + -8.60467152213735e-11f;
    p = p * x2 + 5.12229709037114e-08f;
    p = p * x2 + 1.48572235717979e-05f;
    p = p * x2 + 6.37261928875436e-04f;
    p = p * x2 + 4.89352455891786e-03f;
    p = p * x;
    float q = 1.19825839466702e-06f;
    q = q * x2 + 1.18534705686654e-04f;
    q = q * x2 + 2.26843463243900e-03f;
    q = q * x2 + 4.89352518554385e-03f;
    return p / q;
}

// sigmoid(x) = (1 + tanh(x / 2)) / 2; absolute error 2.3e-7.
static inline float fk_sigmoidf(float x) { return 0.5f + 0.5f * fk_tanhf(0.5f * x); }

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
    // Several vectors in flight: the activations are long dependency chains.
#pragma clang loop interleave_count(4)
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

// ---------------------------------------------------------------------------------------
// Fused recurrent step: gates = gx + h_prev W_hh^T, then the cell update, per 16 hidden units.

typedef float fk_v16 __attribute__((vector_size(64)));

static inline __attribute__((always_inline)) fk_v16 fk_load16(const float *p) {
    fk_v16 v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void fk_store16(float *p, fk_v16 v) { __builtin_memcpy(p, &v, sizeof v); }

void fk_pack_recurrent(long hidden, const float *w_hh, float *packed) {
    for (long jb = 0; jb < hidden / 16; jb++)
        for (long k = 0; k < hidden; k++)
            for (long q = 0; q < 4; q++)
                for (long l = 0; l < 16; l++)
                    packed[(jb * hidden + k) * 64 + q * 16 + l] = w_hh[(q * hidden + jb * 16 + l) * hidden + k];
}

// `rows` (1 or 4, a compile-time constant after inlining) batch rows from r0, units jb*16..+16.
static inline __attribute__((always_inline)) void fk_step_tile(
    long rows, long hidden, const float *wb, const float *h_prev, const float *gx, float *gates_out,
    const float *c_prev, float *c, float *tanh_c, float *h, long r0, long jb) {
    fk_v16 acc[4][4];
    for (long r = 0; r < rows; r++)
        for (long q = 0; q < 4; q++) acc[r][q] = (fk_v16){0};
    if (h_prev) {
        for (long k = 0; k < hidden; k++) {
            fk_v16 w0 = fk_load16(wb + k * 64), w1 = fk_load16(wb + k * 64 + 16);
            fk_v16 w2 = fk_load16(wb + k * 64 + 32), w3 = fk_load16(wb + k * 64 + 48);
            for (long r = 0; r < rows; r++) {
                float hv = h_prev[(r0 + r) * hidden + k];
                acc[r][0] += hv * w0;
                acc[r][1] += hv * w1;
                acc[r][2] += hv * w2;
                acc[r][3] += hv * w3;
            }
        }
    }
    // Gate-major scratch across the tile's rows so that one loop runs all rows' cell updates
    // (independent dependency chains, interleaved by the vectoriser).
    float pre[4][64], cpt[64], ct[64], tct[64], ht[64];
    for (long r = 0; r < rows; r++) {
        const float *g = gx + (r0 + r) * 4 * hidden + jb * 16;
        for (long q = 0; q < 4; q++) fk_store16(pre[q] + r * 16, acc[r][q] + fk_load16(g + q * hidden));
        fk_store16(cpt + r * 16, fk_load16(c_prev + (r0 + r) * hidden + jb * 16));
    }
    cell_forward_row(rows * 16, pre[0], pre[1], pre[2], pre[3], cpt, ct, tct, ht);
    for (long r = 0; r < rows; r++) {
        long o = (r0 + r) * hidden + jb * 16;
        fk_store16(c + o, fk_load16(ct + r * 16));
        fk_store16(h + o, fk_load16(ht + r * 16));
        if (tanh_c) fk_store16(tanh_c + o, fk_load16(tct + r * 16));
        if (gates_out) {
            float *out = gates_out + (r0 + r) * 4 * hidden + jb * 16;
            for (long q = 0; q < 4; q++) fk_store16(out + q * hidden, fk_load16(pre[q] + r * 16));
        }
    }
}

FK_CLONES
void fk_lstm_step(long batch, long hidden, const float *packed, const float *h_prev, const float *gx,
                  float *gates_out, const float *c_prev, float *c, float *tanh_c, float *h) {
    for (long jb = 0; jb < hidden / 16; jb++) {
        const float *wb = packed + jb * hidden * 64;
        long r0 = 0;
        for (; r0 + 4 <= batch; r0 += 4)
            fk_step_tile(4, hidden, wb, h_prev, gx, gates_out, c_prev, c, tanh_c, h, r0, jb);
        for (; r0 < batch; r0++)
            fk_step_tile(1, hidden, wb, h_prev, gx, gates_out, c_prev, c, tanh_c, h, r0, jb);
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
void fk_fill_rows(long rows, long columns, const float *row, float *matrix) {
    for (long r = 0; r < rows; r++) {
        float *restrict out = matrix + r * columns;
        for (long k = 0; k < columns; k++) out[k] = row[k];
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

// ---------------------------------------------------------------------------------------
// Single-window inference: one layer's recurrence with the next layer's input projection
// interleaved. A batch-1 step streams the 4H x H recurrent weights from L2 and leaves the
// FMA units half idle; the projection of the next layer (a GEMM, compute-bound on L1-resident
// rows) fills them, so it costs little extra time instead of a separate GEMM pass.

void fk_pack_columns16(long rows, long inner, const float *w, float *packed) {
    for (long cb = 0; cb < rows / 16; cb++)
        for (long k = 0; k < inner; k++)
            for (long l = 0; l < 16; l++) packed[(cb * inner + k) * 16 + l] = w[(cb * 16 + l) * inner + k];
}

/// Rows of the next layer's projection computed together (one weight load feeds this many FMAs).
#define FK_TILE_ROWS 8

// `rows` (<= FK_TILE_ROWS) rows of `acc` plus `bias` into `out` (row stride `ld_out`).
static inline __attribute__((always_inline)) void fk_tile_store(
    const fk_v16 *acc, long rows, const float *bias, float *out, long ld_out) {
    fk_v16 b = fk_load16(bias);
    for (long r = 0; r < FK_TILE_ROWS; r++)
        if (r < rows) fk_store16(out + r * ld_out, acc[r] + b);
}

// Units jb*16..+16 of one batch-1 step (recurrent product plus cell update), and when
// `with_tile` one projection tile: tacc[r] = sum_k tx[r * hidden + k] * tw[k * 16 ..+16].
static inline __attribute__((always_inline)) void fk_single_block(
    int with_tile, long hidden, const float *wb, const float *h_prev, const float *gx, const float *c_prev,
    float *c, float *h, long jb, const float *tx, const float *tw, fk_v16 *tacc) {
    fk_v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    for (long r = 0; r < FK_TILE_ROWS; r++) tacc[r] = (fk_v16){0};
    if (h_prev || with_tile) {
        for (long k = 0; k < hidden; k++) {
            if (h_prev) {
                float hv = h_prev[k];
                a0 += hv * fk_load16(wb + k * 64);
                a1 += hv * fk_load16(wb + k * 64 + 16);
                a2 += hv * fk_load16(wb + k * 64 + 32);
                a3 += hv * fk_load16(wb + k * 64 + 48);
            }
            if (with_tile) {
                fk_v16 w = fk_load16(tw + k * 16);
                for (long r = 0; r < FK_TILE_ROWS; r++) tacc[r] += tx[r * hidden + k] * w;
            }
        }
    }
    long o = jb * 16;
    float pre[4][16];
    fk_store16(pre[0], a0 + fk_load16(gx + o));
    fk_store16(pre[1], a1 + fk_load16(gx + hidden + o));
    fk_store16(pre[2], a2 + fk_load16(gx + 2 * hidden + o));
    fk_store16(pre[3], a3 + fk_load16(gx + 3 * hidden + o));
    cell_infer_row(16, pre[0], pre[1], pre[2], pre[3], c_prev + o, c + o, h + o);
}

// Projection tile `job` (row block job / col_blocks, column block job % col_blocks) on its own,
// for the rows not covered during the recurrence; rows past the sequence are clamped.
static inline __attribute__((always_inline)) void fk_single_tail_tile(
    long hidden, long steps, long job, long col_blocks, const float *h, const float *next_packed,
    const float *next_bias, float *next_gx) {
    fk_v16 tacc[FK_TILE_ROWS];
    long rb = job / col_blocks, cb = job % col_blocks;
    long rows = steps - rb * FK_TILE_ROWS < FK_TILE_ROWS ? steps - rb * FK_TILE_ROWS : FK_TILE_ROWS;
    const float *tw = next_packed + cb * hidden * 16;
    for (long r = 0; r < FK_TILE_ROWS; r++) tacc[r] = (fk_v16){0};
    for (long k = 0; k < hidden; k++) {
        fk_v16 w = fk_load16(tw + k * 16);
        for (long r = 0; r < FK_TILE_ROWS; r++) {
            long row = r < rows ? r : rows - 1;
            tacc[r] += h[(rb * FK_TILE_ROWS + row + 1) * hidden + k] * w;
        }
    }
    fk_tile_store(tacc, rows, next_bias + cb * 16, next_gx + rb * FK_TILE_ROWS * 4 * hidden + cb * 16, 4 * hidden);
}

FK_CLONES
void fk_lstm_layer_single(long hidden, long steps, const float *packed_hh, const float *gx, float *h, float *c,
                          const float *next_packed, const float *next_bias, float *next_gx) {
    long h4 = 4 * hidden, blocks = hidden / 16, col_blocks = h4 / 16;
    // Projection tiles in order (row block major); row block rb needs h rows rb*R+1 .. rb*R+R,
    // written by steps rb*R .. rb*R+R-1.
    long jobs = next_packed ? ((steps + FK_TILE_ROWS - 1) / FK_TILE_ROWS) * col_blocks : 0;
    long job = 0;
    fk_v16 tacc[FK_TILE_ROWS];
    for (long t = 0; t < steps; t++) {
        const float *h_prev = t > 0 ? h + t * hidden : 0;
        const float *gxt = gx + t * h4;
        for (long jb = 0; jb < blocks; jb++) {
            const float *wb = packed_hh + jb * hidden * 64;
            long rb = job / col_blocks, cb = job % col_blocks;
            if (job < jobs && (rb + 1) * FK_TILE_ROWS <= t) {
                fk_single_block(1, hidden, wb, h_prev, gxt, c + t * hidden, c + (t + 1) * hidden,
                                h + (t + 1) * hidden, jb, h + (rb * FK_TILE_ROWS + 1) * hidden,
                                next_packed + cb * hidden * 16, tacc);
                fk_tile_store(tacc, FK_TILE_ROWS, next_bias + cb * 16, next_gx + rb * FK_TILE_ROWS * h4 + cb * 16, h4);
                job++;
            } else {
                fk_single_block(0, hidden, wb, h_prev, gxt, c + t * hidden, c + (t + 1) * hidden,
                                h + (t + 1) * hidden, jb, 0, 0, tacc);
            }
        }
    }
    for (; job < jobs; job++) fk_single_tail_tile(hidden, steps, job, col_blocks, h, next_packed, next_bias, next_gx);
}
