internal import CKernels

/// The forecastd LSTM engine: Float32 stacked LSTMs trained and run on the CPU.
///
/// How it runs:
/// - Matrix products go to OpenBLAS (`cblas_sgemm`), which picks its kernels for the CPU at run
///   time. The engine keeps OpenBLAS on one thread (see `BLAS`) and parallelises by splitting
///   batches into shards, one thread each (`TrainingOptions.threads`,
///   `InferenceSession.threads`); the daemon parallelises across models.
/// - Element-wise work (gates, cell updates, the fused recurrent step for hidden sizes that are
///   multiples of 16) is in the small C target `CKernels`, compiled for x86-64-v4 (AVX-512),
///   x86-64-v3 (AVX2 + FMA) and baseline x86-64, dispatched once at load time through ifunc
///   resolvers (`target_clones`): one binary that runs on any x86-64 server and uses AVX-512
///   where present. Swift's own SIMD types would be compiled for baseline x86-64 (SSE) unless the
///   whole module were built for a higher level, which would stop the binary on older servers.
/// - Sigmoid and tanh are branch-free rational approximations (errors below 4e-7 absolute), with
///   no libm call in any hot loop.
/// - Workspaces (`ModelWorkspace`) are allocated once per model shape and batch size and reused.
public enum ForecastEngine {
    /// The kernel level in use: "x86-64-v4", "x86-64-v3", "x86-64" or "portable".
    public static var kernelLevel: String {
        switch fk_kernel_level() {
        case 4: "x86-64-v4"
        case 3: "x86-64-v3"
        case 1: "x86-64"
        default: "portable"
        }
    }
}
