import CBLAS
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin access to OpenBLAS's runtime configuration.
enum OpenBLAS {
    static var config: String { String(cString: openblas_get_config()) }
    static var coreName: String { String(cString: openblas_get_corename()) }
    static var numProcs: Int { Int(openblas_get_num_procs()) }
    static var threads: Int { Int(openblas_get_num_threads()) }
    /// Sets OpenBLAS's own thread-pool size (OpenBLAS caps it at its MAX_THREADS).
    static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }
}

/// Peak resident set size of this process so far, in MiB (getrusage `ru_maxrss`, KiB on Linux).
func peakRSSMiB() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
    let who = __rusage_who_t(RUSAGE_SELF.rawValue)
    #else
    let who = RUSAGE_SELF
    #endif
    guard getrusage(who, &usage) == 0 else { return .nan }
    #if canImport(Darwin)
    return Double(usage.ru_maxrss) / (1024 * 1024)  // bytes on macOS
    #else
    return Double(usage.ru_maxrss) / 1024
    #endif
}
