internal import CKernels

/// One LSTM layer's forward and backward passes over a time-major batch.
///
/// Gate order in the fused tensors (rows of `weight_ih` [4H, I], `weight_hh` [4H, H] and the
/// biases [4H]) is PyTorch's: input `i`, forget `f`, cell candidate `g`, output `o`:
///
///     gates_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh      [B, 4H] = [i | f | g | o]
///     c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)
///     h_t = sigmoid(o) * tanh(c_t)
///
/// Forward projects the inputs of many time steps in one GEMM (all of them when their gates
/// fit in 512 KiB, else L2-sized blocks of steps, which measured faster than one GEMM whose
/// output spills to memory), then per step either one fused kernel (hidden a multiple of 16:
/// recurrent product with pre-packed `W_hh` and the cell update in registers, which beats an
/// OpenBLAS call that repacks `W_hh` every step) or one recurrent GEMM plus the element-wise
/// kernel. Backward runs one recurrent GEMM and one kernel per step, then accumulates the
/// weight gradients over all steps in three large GEMMs and two column sums.
struct LSTMLayer {
    let layout: ParameterLayout.Layer
    let hidden: Int

    /// Bytes of pre-activations projected ahead of the recurrence: half of a 1 MiB L2, so the
    /// recurrent GEMMs and cell kernels find their gate rows in cache.
    static let projectionBlockBytes = 512 * 1024

    /// Time steps per projection block for this shape.
    static func projectionBlock(steps: Int, batch: Int, hidden: Int) -> Int {
        max(1, min(steps, projectionBlockBytes / max(1, batch * 4 * hidden * MemoryLayout<Float>.stride)))
    }

    /// Forward over `steps` time steps.
    ///
    /// The input projection `x W_ih^T + b` is one GEMM per block of time steps, the block sized
    /// so that its gates stay in L2 (`projectionBlockBytes`); short sequences and small batches
    /// are one block, that is one GEMM for all steps.
    ///
    /// - `parameters`: the model's flat parameters.
    /// - `input`: [steps, batch, layout.inputSize], time-major.
    /// - `state`: receives gates, cell states, `tanh(c)` (when it has room) and hidden states.
    /// - `combinedBias`: [4H] scratch.
    /// - `packedIsCurrent`: `packed` already holds this layer's current `W_hh` (skip packing).
    /// - `packed`: [4H * H] scratch for the packed `W_hh` when `hidden` is a multiple of 16; then
    ///   each step is one fused kernel (`fk_lstm_step`: recurrent product plus cell update in
    ///   registers). Otherwise a step is an OpenBLAS GEMM plus `fk_lstm_cell_forward`.
    func forward(
        parameters: UnsafePointer<Float>, input: UnsafePointer<Float>, batch: Int, steps: Int,
        state: ModelWorkspace.LayerState, combinedBias: UnsafeMutablePointer<Float>,
        packed: UnsafeMutablePointer<Float>?, packedIsCurrent: Bool = false
    ) {
        let fused = hidden % 16 == 0 && packed != nil
        if fused, let packed, !packedIsCurrent { fk_pack_recurrent(hidden, parameters + layout.weightHH, packed) }
        let h4 = 4 * hidden
        for j in 0..<h4 { combinedBias[j] = parameters[layout.biasIH + j] + parameters[layout.biasHH + j] }
        let gates = state.gates.pointer
        let keepTanh = state.tanhC.count > 0
        let stepSize = batch * hidden
        let block = Self.projectionBlock(steps: steps, batch: batch, hidden: hidden)
        // Inference keeps only one block of gates (reused, hot in L2); training keeps all.
        let reuseBlock = state.gates.count < steps * batch * h4
        precondition(state.gates.count >= block * batch * h4, "gate buffer too small")
        for blockStart in stride(from: 0, to: steps, by: block) {
            let blockSteps = min(block, steps - blockStart)
            let rows = blockSteps * batch
            let blockGates = reuseBlock ? gates : gates + blockStart * batch * h4
            // Bias rows first, then accumulate (beta 1): cheaper than OpenBLAS zeroing C for
            // beta 0 followed by a separate bias pass.
            fk_fill_rows(rows, h4, combinedBias, blockGates)
            BLAS.gemm(
                transposeB: true, m: rows, n: h4, k: layout.inputSize,
                a: input + blockStart * batch * layout.inputSize, lda: layout.inputSize,
                b: parameters + layout.weightIH, ldb: layout.inputSize, beta: 1, c: blockGates, ldc: h4)
            for t in blockStart..<(blockStart + blockSteps) {
                let gatesT = blockGates + (t - blockStart) * batch * h4
                if fused, let packed {
                    fk_lstm_step(
                        batch, hidden, packed, t > 0 ? state.h.pointer + t * stepSize : nil, gatesT,
                        keepTanh ? gatesT : nil, state.c.pointer + t * stepSize, state.c.pointer + (t + 1) * stepSize,
                        keepTanh ? state.tanhC.pointer + t * stepSize : nil, state.h.pointer + (t + 1) * stepSize)
                    continue
                }
                if t > 0 {
                    BLAS.gemm(
                        transposeB: true, m: batch, n: h4, k: hidden, a: state.h.pointer + t * stepSize,
                        lda: hidden, b: parameters + layout.weightHH, ldb: hidden, beta: 1, c: gatesT, ldc: h4)
                }
                fk_lstm_cell_forward(
                    batch, hidden, gatesT, state.c.pointer + t * stepSize, state.c.pointer + (t + 1) * stepSize,
                    keepTanh ? state.tanhC.pointer + t * stepSize : nil, state.h.pointer + (t + 1) * stepSize)
            }
        }
    }

    /// Backward through time; accumulates into `gradients` (+=) and writes d loss / d input.
    ///
    /// - `dOutputs`: d loss / d h_t for every step, [steps, batch, H], or nil when only the
    ///   last step's output is used.
    /// - `dLast`: d loss / d h at the last step [batch, H], added to `dOutputs`' last slice; nil
    ///   for none.
    /// - `input`: the forward input [steps, batch, inputSize].
    /// - `dInput`: receives d loss / d input [steps, batch, inputSize]; nil to skip (layer 0).
    func backward(
        parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
        batch: Int, steps: Int, state: ModelWorkspace.LayerState, dOutputs: UnsafePointer<Float>?,
        dLast: UnsafePointer<Float>?, dInput: UnsafeMutablePointer<Float>?, workspace ws: ModelWorkspace
    ) {
        let h4 = 4 * hidden
        let stepSize = batch * hidden
        let dh = ws.dh.pointer
        let dc = ws.dc.pointer
        let dGates = ws.dGates.pointer
        ws.dc.zero()
        for t in stride(from: steps - 1, through: 0, by: -1) {
            if t == steps - 1 {
                if let dOutputs {
                    dh.update(from: dOutputs + t * stepSize, count: stepSize)
                } else {
                    ws.dh.zero()
                }
                if let dLast { BLAS.axpy(count: stepSize, alpha: 1, x: dLast, y: dh) }
            } else {
                if let dOutputs { dh.update(from: dOutputs + t * stepSize, count: stepSize) }
                BLAS.gemm(
                    m: batch, n: hidden, k: h4, a: dGates + (t + 1) * batch * h4, lda: h4,
                    b: parameters + layout.weightHH, ldb: hidden, beta: dOutputs == nil ? 0 : 1, c: dh, ldc: hidden)
            }
            fk_lstm_cell_backward(
                batch, hidden, state.gates.pointer + t * batch * h4, state.c.pointer + t * stepSize,
                state.tanhC.pointer + t * stepSize, dh, dc, dGates + t * batch * h4)
        }
        let rows = steps * batch
        let inputSize = layout.inputSize
        // dW_ih += dGates^T x   ([4H, rows] x [rows, I])
        BLAS.gemm(
            transposeA: true, m: h4, n: inputSize, k: rows, a: dGates, lda: h4, b: input, ldb: inputSize,
            beta: 1, c: gradients + layout.weightIH, ldc: inputSize)
        // dW_hh += dGates[1...]^T h[0..<T-1]   (h_{t-1} sits in slice t of the state)
        if steps > 1 {
            BLAS.gemm(
                transposeA: true, m: h4, n: hidden, k: (steps - 1) * batch, a: dGates + batch * h4, lda: h4,
                b: state.h.pointer + stepSize, ldb: hidden, beta: 1, c: gradients + layout.weightHH, ldc: hidden)
        }
        BLAS.columnSums(
            rows: rows, columns: h4, a: dGates, ones: ws.ones.pointer, beta: 1, into: gradients + layout.biasIH)
        BLAS.columnSums(
            rows: rows, columns: h4, a: dGates, ones: ws.ones.pointer, beta: 1, into: gradients + layout.biasHH)
        if let dInput {
            BLAS.gemm(
                m: rows, n: inputSize, k: h4, a: dGates, lda: h4, b: parameters + layout.weightIH, ldb: inputSize,
                beta: 0, c: dInput, ldc: inputSize)
        }
    }
}
