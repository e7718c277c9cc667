/// A fixed-size, 64-byte aligned, zero-initialised block of `Float`s owned by one workspace.
///
/// Workspaces allocate these once per model and batch shape and reuse them for every step,
/// so the hot loops never allocate. A buffer is used by one thread at a time (each batch shard
/// has its own), hence `@unchecked Sendable`.
final class FloatBuffer: @unchecked Sendable {
    /// Number of floats.
    let count: Int
    /// Start of the storage; valid for `count` floats while the buffer lives.
    let pointer: UnsafeMutablePointer<Float>

    init(count: Int) {
        precondition(count >= 0, "negative buffer size")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit {
        UnsafeMutableRawPointer(pointer).deallocate()
    }

    /// Sets every element to zero.
    func zero() {
        pointer.update(repeating: 0, count: count)
    }

    /// Pointer to element `offset`.
    subscript(offset offset: Int) -> UnsafeMutablePointer<Float> {
        pointer + offset
    }

    /// A copy of the contents.
    var array: [Float] {
        Array(UnsafeBufferPointer(start: pointer, count: count))
    }
}
