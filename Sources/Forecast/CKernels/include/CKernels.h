/// Element-wise kernels of the forecastd LSTM engine.
///
/// Every function is compiled three times (x86-64-v4 with AVX-512, x86-64-v3 with AVX2 and FMA,
/// and baseline x86-64) and the loader picks the best clone for the running CPU once, through an
/// ifunc resolver (`__attribute__((target_clones))`). Other architectures get one portable build.
///
/// Activations are branch-free, with no libm call: tanh by a [13/6] rational approximation
/// (3.3e-7 absolute and relative error), sigmoid as `(1 + tanh(x / 2)) / 2` (2.3e-7 absolute).
///
/// Gate layout: each row of `gates` is `[i | f | g | o]`, each block `hidden` floats wide
/// (PyTorch's order: input, forget, cell candidate, output).
#ifndef FORECAST_CKERNELS_H
#define FORECAST_CKERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/// The x86-64 level whose clones the loader picked: 4 (AVX-512), 3 (AVX2 + FMA), 1 (baseline),
/// 0 on other architectures (one portable build).
int fk_kernel_level(void);

/// `out[k] = sigmoid(x[k])` for `k < count`. `out` may alias `x`.
void fk_sigmoid(long count, const float *x, float *out);

/// `out[k] = tanh(x[k])` for `k < count`. `out` may alias `x`.
void fk_tanh(long count, const float *x, float *out);

/// One LSTM cell step, forward, for `batch` rows.
///
/// - `gates`: [batch, 4 * hidden], pre-activations in; activated gates out (i, f, o squashed by
///   sigmoid, g by tanh), which the backward pass needs.
/// - `c_prev`: [batch, hidden], previous cell state.
/// - `c`: [batch, hidden], out: `f * c_prev + i * g`.
/// - `tanh_c`: [batch, hidden], out: `tanh(c)`; may be NULL when not needed (inference).
/// - `h`: [batch, hidden], out: `o * tanh(c)`.
void fk_lstm_cell_forward(long batch, long hidden, float *gates, const float *c_prev, float *c,
                          float *tanh_c, float *h);

/// One LSTM cell step, backward, for `batch` rows.
///
/// - `gates`: [batch, 4 * hidden], activated gates stored by the forward step.
/// - `c_prev`: [batch, hidden], the cell state the forward step started from.
/// - `tanh_c`: [batch, hidden], `tanh(c)` stored by the forward step.
/// - `dh`: [batch, hidden], d loss / d h of this step (from above and from step t + 1).
/// - `dc`: [batch, hidden], in: d loss / d c arriving from step t + 1 (already multiplied by
///   that step's forget gate); out: the same quantity for step t - 1 (`dc_t * f_t`).
/// - `dgates`: [batch, 4 * hidden], out: d loss / d gate pre-activations.
void fk_lstm_cell_backward(long batch, long hidden, const float *gates, const float *c_prev,
                           const float *tanh_c, const float *dh, float *dc, float *dgates);

/// Packs `w_hh` [4H, H] (gate rows i, f, g, o) for `fk_lstm_step`: for each block of 16
/// hidden units `jb` and each input unit `k`, the 64 weights of the block's i, f, g, o
/// columns, `packed[(jb * H + k) * 64 + q * 16 + l] = w_hh[(q * H + jb * 16 + l) * H + k]`.
/// `hidden` must be a multiple of 16; `packed` holds 4H * H floats.
void fk_pack_recurrent(long hidden, const float *w_hh, float *packed);

/// One fused LSTM step for `batch` rows: `gates = gx + h_prev W_hh^T` (register-blocked, 4 rows
/// by 16 units at a time, weights from `fk_pack_recurrent`), then the cell update of
/// `fk_lstm_cell_forward`, without the gates leaving the cache.
///
/// - `h_prev`: [batch, hidden], or NULL for a zero initial state.
/// - `gx`: [batch, 4 * hidden], the input projection plus biases of this step.
/// - `gates_out`: [batch, 4 * hidden], receives the activated gates (may equal `gx`); NULL to
///   skip (inference).
/// - `c_prev`, `c`, `h`: [batch, hidden]; `tanh_c`: [batch, hidden] or NULL.
/// `hidden` must be a multiple of 16.
void fk_lstm_step(long batch, long hidden, const float *packed, const float *h_prev, const float *gx,
                  float *gates_out, const float *c_prev, float *c, float *tanh_c, float *h);

/// Packs `w` [rows, inner] (rows a multiple of 16) into column blocks of 16 for
/// `fk_lstm_layer_single`: `packed[(cb * inner + k) * 16 + l] = w[(cb * 16 + l) * inner + k]`.
void fk_pack_columns16(long rows, long inner, const float *w, float *packed);

/// One LSTM layer over a single window (batch 1, inference), with the next layer's input
/// projection computed in the same pass: each batch-1 step streams `W_hh` from L2 and leaves
/// the FMA units half idle, so 8-row tiles of the projection ride along inside the recurrent
/// loops (tile rows become ready 8 steps at a time) instead of costing a separate GEMM.
///
/// - `packed_hh`: this layer's `W_hh` from `fk_pack_recurrent`; `hidden` a multiple of 16.
/// - `gx`: [steps, 4H], this layer's input projection plus biases.
/// - `h`, `c`: [steps + 1, hidden]; slice 0 of `c` must be zero (initial state; slice 0 of `h`
///   is not read), slice t + 1 receives the state after step t.
/// - `next_packed`: the next layer's `W_ih` [4H, hidden] from `fk_pack_columns16`, or NULL for
///   the top layer (then `next_bias` and `next_gx` are not used).
/// - `next_bias`: [4H], the next layer's `b_ih + b_hh`.
/// - `next_gx`: [steps, 4H], receives the next layer's projection plus biases.
void fk_lstm_layer_single(long hidden, long steps, const float *packed_hh, const float *gx, float *h, float *c,
                          const float *next_packed, const float *next_bias, float *next_gx);

/// Copies `row` [columns] into every row of `matrix` [rows, columns].
void fk_fill_rows(long rows, long columns, const float *row, float *matrix);

/// Adds `bias` [columns] to every row of `matrix` [rows, columns].
void fk_add_row_vector(long rows, long columns, const float *bias, float *matrix);

/// `out[k] = a[k] * b[k]` for `k < count`.
void fk_multiply(long count, const float *a, const float *b, float *out);

#ifdef __cplusplus
}
#endif

#endif
