/// Activations, gradients and scratch space for running one model on batches of one size.
///
/// Allocated once per (model shape, batch size, training or not) and reused for every step;
/// nothing in the forward or backward pass allocates. Layouts are time-major inside:
/// sequences are [T + 1 or T, batch, width] so that the rows of one time step are contiguous
/// and each recurrent step is one GEMM. One workspace serves one thread at a time.
final class ModelWorkspace: @unchecked Sendable {
    /// Per-layer stored activations.
    final class LayerState: @unchecked Sendable {
        /// Activated gates [T, B, 4H] (pre-activations while being computed); for inference only
        /// one projection block [block, B, 4H], reused.
        let gates: FloatBuffer
        /// Cell states [T + 1, B, H]; slice 0 is the zero initial state.
        let c: FloatBuffer
        /// `tanh(c)` [T, B, H] for backward (training only, else empty).
        let tanhC: FloatBuffer
        /// Hidden states [T + 1, B, H]; slice 0 is the zero initial state, slice t + 1 the
        /// output of step t.
        let h: FloatBuffer
        /// Inverted-dropout mask [T, B, H] applied to this layer's output (values 0 or
        /// 1 / (1 - p)), when dropout is active above this layer.
        let mask: FloatBuffer?
        /// `h[1...] * mask`, the next layer's input, when dropout is active.
        let dropped: FloatBuffer?

        /// `gateSteps`: time steps of gates to hold (all for training, one projection block for
        /// batched inference, none for the single-window path).
        init(batch: Int, steps: Int, hidden: Int, gateSteps: Int, training: Bool, dropout: Bool) {
            gates = FloatBuffer(count: gateSteps * batch * 4 * hidden)
            c = FloatBuffer(count: (steps + 1) * batch * hidden)
            tanhC = FloatBuffer(count: training ? steps * batch * hidden : 0)
            h = FloatBuffer(count: (steps + 1) * batch * hidden)
            mask = dropout ? FloatBuffer(count: steps * batch * hidden) : nil
            dropped = dropout ? FloatBuffer(count: steps * batch * hidden) : nil
        }
    }

    let configuration: ModelConfiguration
    let layout: ParameterLayout
    /// Windows per batch.
    let batch: Int
    /// Whether this workspace keeps what backward needs and holds gradients.
    let training: Bool

    /// Input windows, time-major [T, B, F].
    let input: FloatBuffer
    /// Channel 0 of the input, batch-major [B, T], for the linear skip (empty without skip).
    let skipInput: FloatBuffer
    /// Targets [B, horizon].
    let targets: FloatBuffer
    let layers: [LayerState]
    /// `b_ih + b_hh` per layer, [layers, 4H], refreshed at each forward.
    let combinedBias: FloatBuffer
    /// Every layer's `W_hh`, packed by `fk_pack_recurrent`, [layers, 4H * H] (hidden % 16 == 0).
    let packedRecurrent: FloatBuffer
    /// Whether forward takes the single-window path (inference, batch 1, hidden a multiple of
    /// 16): each layer runs in one `fk_lstm_layer_single` call that also computes the next
    /// layer's input projection, instead of a projection GEMM per layer.
    let pipelined: Bool
    /// Layers 1...'s `W_ih` [4H, H], packed by `fk_pack_columns16`, [layers - 1, 4H * H]
    /// (pipelined only, else empty); repacked with `packedRecurrent`.
    let packedInput: FloatBuffer
    /// Whole-sequence gate projections [T, 4H], two buffers that alternate between layers
    /// (pipelined only, else empty).
    let sequenceGates: [FloatBuffer]
    /// The parameter generation `packedRecurrent` was packed from (see `InferenceSession`); nil
    /// when unknown, which forces packing at every forward.
    var packedGeneration: Int? = nil
    /// Head outputs before ordering [B, outputs].
    let rawOutput: FloatBuffer
    /// Final outputs [B, horizon, Q].
    let output: FloatBuffer
    /// For each output, the index in `rawOutput` it came from (sorted quantiles).
    var permutation: [Int32]

    // Backward scratch (training only; empty otherwise).
    /// d loss / d output [B, outputs].
    let dOutput: FloatBuffer
    /// d loss / d raw output [B, outputs].
    let dRaw: FloatBuffer
    /// d loss / d gate pre-activations of the layer being differentiated [T, B, 4H].
    let dGates: FloatBuffer
    /// d loss / d h of the current step [B, H].
    let dh: FloatBuffer
    /// d loss / d c flowing backward through time [B, H].
    let dc: FloatBuffer
    /// d loss / d top hidden state at the last step [B, H].
    let dLast: FloatBuffer
    /// Ping-pong buffers for d loss / d layer input sequence [T, B, max(F, H)].
    let dSequence: [FloatBuffer]
    /// `T * B` ones for column sums.
    let ones: FloatBuffer
    /// Parameter gradients, laid out as `layout`.
    let gradients: FloatBuffer

    /// `singleWindowPath`: false keeps a batch-1 inference workspace on the batched path (tests
    /// compare the two).
    init(configuration: ModelConfiguration, batch: Int, training: Bool, singleWindowPath: Bool = true) {
        self.configuration = configuration
        layout = ParameterLayout(configuration)
        self.batch = batch
        self.training = training
        let t = configuration.lookback
        let h = configuration.hidden
        let f = configuration.featureCount
        let o = configuration.outputSize
        input = FloatBuffer(count: t * batch * f)
        skipInput = FloatBuffer(count: configuration.linearSkip ? batch * t : 0)
        targets = FloatBuffer(count: batch * configuration.horizon)
        let useDropout = training && configuration.dropout > 0
        let pipelined =
            singleWindowPath && Self.isPipelined(configuration: configuration, batch: batch, training: training)
        self.pipelined = pipelined
        let gateSteps = Self.gateSteps(
            configuration: configuration, batch: batch, training: training, pipelined: pipelined)
        layers = (0..<configuration.layers).map { l in
            LayerState(
                batch: batch, steps: t, hidden: h, gateSteps: gateSteps, training: training,
                dropout: useDropout && l < configuration.layers - 1)
        }
        packedInput = FloatBuffer(count: pipelined ? (configuration.layers - 1) * 4 * h * h : 0)
        sequenceGates = (0..<2).map { _ in FloatBuffer(count: pipelined ? t * 4 * h : 0) }
        combinedBias = FloatBuffer(count: configuration.layers * 4 * h)
        packedRecurrent = FloatBuffer(count: h % 16 == 0 ? configuration.layers * 4 * h * h : 0)
        rawOutput = FloatBuffer(count: batch * o)
        output = FloatBuffer(count: batch * o)
        permutation = [Int32](repeating: 0, count: batch * o)
        dOutput = FloatBuffer(count: training ? batch * o : 0)
        dRaw = FloatBuffer(count: training ? batch * o : 0)
        dGates = FloatBuffer(count: training ? t * batch * 4 * h : 0)
        dh = FloatBuffer(count: training ? batch * h : 0)
        dc = FloatBuffer(count: training ? batch * h : 0)
        dLast = FloatBuffer(count: training ? batch * h : 0)
        let sequenceWidth = training ? t * batch * max(f, h) : 0
        dSequence = [FloatBuffer(count: sequenceWidth), FloatBuffer(count: sequenceWidth)]
        ones = FloatBuffer(count: max(t, 1) * batch)
        ones.pointer.update(repeating: 1, count: ones.count)
        gradients = FloatBuffer(count: training ? layout.count : 0)
    }

    /// Floats held by this workspace's buffers.
    var allocatedFloats: Int {
        let perLayer = layers.reduce(0) { sum, state in
            sum + state.gates.count + state.c.count + state.tanhC.count + state.h.count
                + (state.mask?.count ?? 0) + (state.dropped?.count ?? 0)
        }
        let buffers = [
            input, skipInput, targets, combinedBias, packedRecurrent, packedInput, sequenceGates[0], sequenceGates[1],
            rawOutput, output, dOutput, dRaw, dGates, dh,
            dc, dLast, ones, gradients,
        ]
        return perLayer + buffers.reduce(0) { $0 + $1.count } + dSequence.reduce(0) { $0 + $1.count }
    }

    /// Floats a workspace for `batch` windows would hold, without allocating it (mirrors `init`).
    static func floatCount(configuration c: ModelConfiguration, batch: Int, training: Bool) -> Int {
        let t = c.lookback
        let h = c.hidden
        let f = c.featureCount
        let o = c.outputSize
        let dropoutLayers = training && c.dropout > 0 ? c.layers - 1 : 0
        let pipelined = isPipelined(configuration: c, batch: batch, training: training)
        var total =
            gateSteps(configuration: c, batch: batch, training: training, pipelined: pipelined) * batch * 4 * h
            * c.layers  // gates
        if pipelined {
            total += (c.layers - 1) * 4 * h * h + 2 * t * 4 * h  // packed W_ih, sequence gates
        }
        total += 2 * (t + 1) * batch * h * c.layers  // c, h
        total += training ? t * batch * h * c.layers : 0  // tanh(c)
        total += 2 * t * batch * h * dropoutLayers  // masks, dropped outputs
        total += t * batch * f + (c.linearSkip ? batch * t : 0) + batch * c.horizon  // inputs, targets
        total += c.layers * 4 * h + (h % 16 == 0 ? c.layers * 4 * h * h : 0)  // biases, packed W_hh
        total += 2 * batch * o + max(t, 1) * batch  // outputs, ones
        if training {
            total += 2 * batch * o + t * batch * 4 * h + 3 * batch * h  // dOutput, dRaw, dGates, dh, dc, dLast
            total += 2 * t * batch * max(f, h) + ParameterLayout(c).count  // dSequence, gradients
        }
        return total
    }

    /// Whether a workspace of this shape takes the single-window path (see `pipelined`).
    static func isPipelined(configuration c: ModelConfiguration, batch: Int, training: Bool) -> Bool {
        !training && batch == 1 && c.hidden % 16 == 0
    }

    /// Time steps of gates each layer state holds (see `LayerState.init`): all of them for
    /// training, none on the single-window path (`pipelined`), one projection block otherwise.
    static func gateSteps(configuration c: ModelConfiguration, batch: Int, training: Bool, pipelined: Bool) -> Int {
        if training { return c.lookback }
        if pipelined { return 0 }
        return LSTMLayer.projectionBlock(steps: c.lookback, batch: batch, hidden: c.hidden)
    }

    /// Copies windows into the time-major input buffers.
    ///
    /// - `inputs`: [N, T, F] row-major; `targets`: [N, horizon] (may be empty for inference);
    /// - `indices`: which windows, `batch` of them, in batch order.
    func load(inputs: UnsafePointer<Float>, targets source: UnsafePointer<Float>?, indices: some Collection<Int>) {
        precondition(indices.count == batch, "expected \(batch) windows, got \(indices.count)")
        let t = configuration.lookback
        let f = configuration.featureCount
        let horizon = configuration.horizon
        for (b, window) in indices.enumerated() {
            let base = inputs + window * t * f
            for step in 0..<t {
                (input.pointer + (step * batch + b) * f).update(from: base + step * f, count: f)
            }
            if configuration.linearSkip {
                for step in 0..<t { skipInput.pointer[b * t + step] = base[step * f] }
            }
            if let source {
                (targets.pointer + b * horizon).update(from: source + window * horizon, count: horizon)
            }
        }
    }
}
