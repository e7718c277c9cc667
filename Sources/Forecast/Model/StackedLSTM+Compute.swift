internal import CKernels

extension StackedLSTM {
    /// The LSTM layers' forward/backward helpers, bottom first.
    var lstmLayers: [LSTMLayer] {
        layout.layers.map { LSTMLayer(layout: $0, hidden: configuration.hidden) }
    }

    /// Forward pass over the windows loaded in `workspace`; fills its layer states and outputs.
    ///
    /// - `dropout`: generator for the inter-layer dropout masks; nil disables dropout
    ///   (inference and evaluation).
    /// - `generation`: identifies the parameter values, so that a workspace packs the recurrent
    ///   weights once per generation instead of once per call; nil packs every time.
    func forward(
        workspace ws: ModelWorkspace, parameters p: UnsafePointer<Float>, dropout: inout RandomGenerator?,
        generation: Int? = nil
    ) {
        let packedIsCurrent = generation != nil && ws.packedGeneration == generation
        ws.packedGeneration = generation
        BLAS.useSingleThread()
        let batch = ws.batch
        let steps = configuration.lookback
        let hidden = configuration.hidden
        let layers = lstmLayers
        var input = UnsafePointer(ws.input.pointer)
        if ws.pipelined {
            forwardSingleWindow(workspace: ws, parameters: p, packedIsCurrent: packedIsCurrent)
        }
        for (l, layer) in layers.enumerated() where !ws.pipelined {
            let state = ws.layers[l]
            layer.forward(
                parameters: p, input: input, batch: batch, steps: steps, state: state,
                combinedBias: ws.combinedBias.pointer + l * 4 * hidden,
                packed: ws.packedRecurrent.count > 0 ? ws.packedRecurrent.pointer + l * 4 * hidden * hidden : nil,
                packedIsCurrent: packedIsCurrent)
            input = UnsafePointer(state.h.pointer + batch * hidden)
            if let mask = state.mask, let dropped = state.dropped, dropout != nil {
                let keep = 1 - configuration.dropout
                let scale = 1 / keep
                for k in 0..<mask.count {
                    mask.pointer[k] = dropout!.nextUnitFloat() < keep ? scale : 0
                }
                fk_multiply(mask.count, input, mask.pointer, dropped.pointer)
                input = UnsafePointer(dropped.pointer)
            }
        }
        // Head: raw [B, O] = h_last [B, H] W_head^T + b_head (+ skip [B, T] W_skip^T).
        let outputs = configuration.outputSize
        let last = ws.layers[layers.count - 1].h.pointer + steps * batch * hidden
        BLAS.gemm(
            transposeB: true, m: batch, n: outputs, k: hidden, a: last, lda: hidden, b: p + layout.headWeight,
            ldb: hidden, beta: 0, c: ws.rawOutput.pointer, ldc: outputs)
        fk_add_row_vector(batch, outputs, p + layout.headBias, ws.rawOutput.pointer)
        if let skip = layout.skipWeight {
            BLAS.gemm(
                transposeB: true, m: batch, n: outputs, k: steps, a: ws.skipInput.pointer, lda: steps, b: p + skip,
                ldb: steps, beta: 1, c: ws.rawOutput.pointer, ldc: outputs)
        }
        orderQuantiles(ws)
    }

    /// The LSTM layers of a single-window workspace (`ws.pipelined`): layer 0's projection is
    /// one GEMM over all steps; every layer then runs in one `fk_lstm_layer_single` call, which
    /// also computes the next layer's projection into the other `sequenceGates` buffer.
    /// Fills every layer's `h` and `c` like the batched path (same values to float rounding).
    private func forwardSingleWindow(
        workspace ws: ModelWorkspace, parameters p: UnsafePointer<Float>, packedIsCurrent: Bool
    ) {
        let steps = configuration.lookback
        let hidden = configuration.hidden
        let h4 = 4 * hidden
        let layerLayouts = layout.layers
        for (l, layer) in layerLayouts.enumerated() {
            let bias = ws.combinedBias.pointer + l * h4
            for j in 0..<h4 { bias[j] = p[layer.biasIH + j] + p[layer.biasHH + j] }
            guard !packedIsCurrent else { continue }
            fk_pack_recurrent(hidden, p + layer.weightHH, ws.packedRecurrent.pointer + l * h4 * hidden)
            if l > 0 {
                fk_pack_columns16(h4, hidden, p + layer.weightIH, ws.packedInput.pointer + (l - 1) * h4 * hidden)
            }
        }
        let first = layerLayouts[0]
        fk_fill_rows(steps, h4, ws.combinedBias.pointer, ws.sequenceGates[0].pointer)
        BLAS.gemm(
            transposeB: true, m: steps, n: h4, k: first.inputSize, a: ws.input.pointer, lda: first.inputSize,
            b: p + first.weightIH, ldb: first.inputSize, beta: 1, c: ws.sequenceGates[0].pointer, ldc: h4)
        for l in layerLayouts.indices {
            let hasNext = l + 1 < layerLayouts.count
            fk_lstm_layer_single(
                hidden, steps, ws.packedRecurrent.pointer + l * h4 * hidden, ws.sequenceGates[l % 2].pointer,
                ws.layers[l].h.pointer, ws.layers[l].c.pointer,
                hasNext ? ws.packedInput.pointer + l * h4 * hidden : nil,
                hasNext ? ws.combinedBias.pointer + (l + 1) * h4 : nil,
                hasNext ? ws.sequenceGates[(l + 1) % 2].pointer : nil)
        }
    }

    /// Copies raw outputs to `output`, sorting each horizon step's quantiles when asked.
    private func orderQuantiles(_ ws: ModelWorkspace) {
        let q = configuration.quantileCount
        let raw = ws.rawOutput.pointer
        let out = ws.output.pointer
        let total = ws.batch * configuration.outputSize
        guard q > 1, configuration.quantileOrdering == .sorted else {
            out.update(from: raw, count: total)
            return
        }
        ws.permutation.withUnsafeMutableBufferPointer { perm in
            for group in stride(from: 0, to: total, by: q) {
                // Insertion sort of q values (q is small), carrying the source indices.
                for k in 0..<q {
                    let value = raw[group + k]
                    var j = k
                    while j > 0 && out[group + j - 1] > value {
                        out[group + j] = out[group + j - 1]
                        perm[group + j] = perm[group + j - 1]
                        j -= 1
                    }
                    out[group + j] = value
                    perm[group + j] = Int32(group + k)
                }
            }
        }
    }

    /// Zeroes the workspace gradients, runs forward, the loss and backward.
    ///
    /// Gradients are of `sum(element losses) / normalizer` (pass the full batch's
    /// `B * outputs` so shards add up to the batch mean). Returns the sum of element losses.
    func computeGradients(
        workspace ws: ModelWorkspace, parameters p: UnsafePointer<Float>, loss: Loss, normalizer: Float,
        dropout: inout RandomGenerator?
    ) -> Double {
        precondition(ws.training, "workspace was not made for training")
        forward(workspace: ws, parameters: p, dropout: &dropout)
        let value = loss.accumulate(
            predictions: ws.output.pointer, targets: ws.targets.pointer, batch: ws.batch,
            horizon: configuration.horizon, quantiles: configuration.quantiles, scale: 1 / normalizer,
            gradient: ws.dOutput.pointer)
        backward(workspace: ws, parameters: p)
        return value
    }

    /// Backward from `ws.dOutput` (d loss / d output [B, horizon, Q]) into `ws.gradients`.
    func backward(workspace ws: ModelWorkspace, parameters p: UnsafePointer<Float>) {
        let batch = ws.batch
        let steps = configuration.lookback
        let hidden = configuration.hidden
        let outputs = configuration.outputSize
        let g = ws.gradients.pointer
        ws.gradients.zero()
        // Undo the quantile ordering.
        var dRaw = ws.dOutput.pointer
        if configuration.quantileCount > 1 && configuration.quantileOrdering == .sorted {
            ws.permutation.withUnsafeBufferPointer { perm in
                for k in 0..<(batch * outputs) { ws.dRaw.pointer[Int(perm[k])] = ws.dOutput.pointer[k] }
            }
            dRaw = ws.dRaw.pointer
        }
        let layers = lstmLayers
        let top = layers.count - 1
        let last = ws.layers[top].h.pointer + steps * batch * hidden
        // Head: dW [O, H] += dRaw^T h_last; db += column sums; dh_last = dRaw W_head.
        BLAS.gemm(
            transposeA: true, m: outputs, n: hidden, k: batch, a: dRaw, lda: outputs, b: last, ldb: hidden,
            beta: 1, c: g + layout.headWeight, ldc: hidden)
        BLAS.columnSums(
            rows: batch, columns: outputs, a: dRaw, ones: ws.ones.pointer, beta: 1, into: g + layout.headBias)
        if let skip = layout.skipWeight {
            BLAS.gemm(
                transposeA: true, m: outputs, n: steps, k: batch, a: dRaw, lda: outputs, b: ws.skipInput.pointer,
                ldb: steps, beta: 1, c: g + skip, ldc: steps)
        }
        BLAS.gemm(
            m: batch, n: hidden, k: outputs, a: dRaw, lda: outputs, b: p + layout.headWeight, ldb: hidden,
            beta: 0, c: ws.dLast.pointer, ldc: hidden)
        // Layers, top down; dSequence ping-pongs between layers.
        var dOutputs: UnsafeMutablePointer<Float>? = nil
        var which = 0
        for l in stride(from: top, through: 0, by: -1) {
            let state = ws.layers[l]
            let input: UnsafePointer<Float>
            if l == 0 {
                input = UnsafePointer(ws.input.pointer)
            } else if let dropped = ws.layers[l - 1].dropped {
                input = UnsafePointer(dropped.pointer)
            } else {
                input = UnsafePointer(ws.layers[l - 1].h.pointer + batch * hidden)
            }
            let dInput = l > 0 ? ws.dSequence[which].pointer : nil
            layers[l].backward(
                parameters: p, gradients: g, input: input, batch: batch, steps: steps, state: state,
                dOutputs: dOutputs.map { UnsafePointer($0) }, dLast: l == top ? UnsafePointer(ws.dLast.pointer) : nil,
                dInput: dInput, workspace: ws)
            if let dInput, l > 0 {
                if let mask = ws.layers[l - 1].mask {
                    fk_multiply(mask.count, dInput, mask.pointer, dInput)
                }
                dOutputs = dInput
                which = 1 - which
            }
        }
    }
}
