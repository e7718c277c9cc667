internal import CBLAS

/// Thin wrappers over OpenBLAS for row-major `Float` matrices.
///
/// Threading policy: the engine runs OpenBLAS single-threaded (`BLAS.useSingleThread()` is
/// called by every entry point that does work). The GEMMs of an LSTM are small (for example
/// [64, 32] x [32, 256] per recurrent step) and measured slower on two OpenBLAS threads than on
/// one on the target machines; the engine parallelises instead by splitting a batch into shards
/// that each run their own sequence of steps on their own thread (see `ShardPlan`), and the
/// daemon parallelises across models.
enum BLAS {
    /// Forces OpenBLAS to one thread, once per process, before the first engine GEMM.
    ///
    /// Done exactly once (Swift initialises globals under a lock): changing OpenBLAS's thread
    /// count while another thread is inside `cblas_sgemm` corrupts its results.
    static func useSingleThread() {
        _ = singleThreaded
    }

    /// `C = alpha * op(A) * op(B) + beta * C`, row-major.
    ///
    /// - `op(A)`: [m, k]; `A` is stored [m, k] (`lda` >= k) or, when `transposeA`, [k, m].
    /// - `op(B)`: [k, n]; `B` is stored [k, n] (`ldb` >= n) or, when `transposeB`, [n, k].
    /// - `C`: [m, n] with leading dimension `ldc`.
    @inline(__always)
    static func gemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "negative GEMM dimension")
        if m == 0 || n == 0 { return }
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `y = alpha * columnSums(A) + beta * y` for `A`: [rows, columns] row-major, `y`: [columns].
    ///
    /// `ones` must hold at least `rows` ones.
    static func columnSums(
        rows: Int, columns: Int, a: UnsafePointer<Float>, ones: UnsafePointer<Float>,
        alpha: Float = 1, beta: Float, into y: UnsafeMutablePointer<Float>
    ) {
        if columns == 0 { return }
        if rows == 0 {
            if beta != 1 { for j in 0..<columns { y[j] *= beta } }
            return
        }
        cblas_sgemv(
            CblasRowMajor, CblasTrans, Int32(rows), Int32(columns), alpha, a, Int32(columns), ones, 1, beta, y, 1)
    }

    /// `y += alpha * x` over `count` floats.
    static func axpy(count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        if count == 0 { return }
        cblas_saxpy(Int32(count), alpha, x, 1, y, 1)
    }
}

/// Lazily set once; see `BLAS.useSingleThread()`.
private let singleThreaded: Void = openblas_set_num_threads(1)
