#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Musl)
    internal import Musl
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// The few scalar libm functions the engine needs outside its hot loops (schedules, random
/// normals); the hot element-wise math lives in the C kernels.
enum LibM {
    static func cos(_ x: Double) -> Double { libmCos(x) }
    static func log(_ x: Double) -> Double { libmLog(x) }
}

private func libmCos(_ x: Double) -> Double { cos(x) }
private func libmLog(_ x: Double) -> Double { log(x) }
