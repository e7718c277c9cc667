import CHeap

/// Keeps the daemon's resident memory at its working set across cycles (glibc; elsewhere
/// these do nothing).
///
/// A cycle of a large model allocates and frees tens of megabytes (the rows read, the
/// forecast rows, the COPY buffers). With glibc's defaults a freed large block raises the
/// mmap threshold to its size, so the next ones come from the heap, where freed space stays
/// resident: measured at 10,000 series x 2,000 hours, RSS grew by 80-100 MB per cycle
/// (348 MB at the first forecasts, 812 MB five cycles later). A fixed threshold returns
/// every large block to the system when it is freed, and a trim after each cycle gives back
/// the free heap pages.
enum HeapPolicy {
    /// Blocks of this size and more are mapped and unmapped on their own (glibc's default
    /// starting threshold, made fixed).
    static let mmapThreshold: Int32 = 128 * 1024

    /// Once, at startup.
    static func configure() {
        _ = forecastd_heap_set_mmap_threshold(mmapThreshold)
    }

    /// After a cycle: gives the heap's free pages back to the system.
    static func trim() {
        _ = forecastd_heap_trim()
    }

    /// Bytes allocated and not freed, nil where unknown.
    static var inUse: Int? {
        let bytes = forecastd_heap_in_use()
        return bytes < 0 ? nil : Int(bytes)
    }
}
