// Data-parallel communication between the processes of one training run: the rank and size, and
// in-place sums across ranks. Open MPI is loaded at run time (dlopen of libmpi.so.40) only when
// the process was started by `mpirun`, so the toolkit builds and runs without MPI installed.
import Foundation

/// The processes of one data-parallel run.
public protocol Communicator: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// Sums `values` element-wise across all ranks, in place; every rank gets the same result.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws
    /// The same for doubles (small vectors: metrics, checks).
    func allReduceSum(_ values: inout [Double]) throws
    func allReduceMax(_ values: inout [Double]) throws
    /// Releases the runtime (MPI_Finalize); the communicator cannot be used afterwards.
    func finish()
}

/// One process: rank 0 of 1, sums are the values themselves.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
    public func allReduceSum(_ values: inout [Double]) throws {}
    public func allReduceMax(_ values: inout [Double]) throws {}
    public func finish() {}
}

public struct DistributedError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Open MPI's C API through `dlsym`. The handles `MPI_COMM_WORLD`, `MPI_FLOAT`, `MPI_SUM`, … are,
/// in Open MPI, the addresses of the global objects `ompi_mpi_comm_world`, `ompi_mpi_float`,
/// `ompi_mpi_op_sum`, …, and `MPI_IN_PLACE` is `(void *) 1`: that ABI is what this relies on
/// (MPICH and others are not supported).
public final class MPICommunicator: Communicator {
    typealias InitFunction = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutableRawPointer?) -> Int32
    typealias CommIntFunction = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>?) -> Int32
    typealias AllreduceFunction = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32,
                                                  UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32
    typealias FinalizeFunction = @convention(c) () -> Int32

    public let rank: Int
    public let size: Int
    let allreduce: AllreduceFunction
    let finalize: FinalizeFunction
    let world, float, double, sum, max: UnsafeMutableRawPointer
    var finished = false

    /// The ranks of an `mpirun` launch, or nil when the process was not started by Open MPI's
    /// `mpirun` (or with one rank). Throws when launched with several ranks but libmpi cannot be loaded.
    public static func fromEnvironment() throws -> MPICommunicator? {
        let environment = ProcessInfo.processInfo.environment
        guard let text = environment["OMPI_COMM_WORLD_SIZE"], let ranks = Int(text), ranks > 1 else {
            if environment["PMI_SIZE"].flatMap(Int.init).map({ $0 > 1 }) == true {
                throw DistributedError("started by an MPI launcher other than Open MPI's mpirun (PMI_SIZE is set); only Open MPI is supported")
            }
            return nil
        }
        return try MPICommunicator()
    }

    init() throws {
        guard let library = dlopen("libmpi.so.40", RTLD_NOW | RTLD_GLOBAL) ?? dlopen("libmpi.so", RTLD_NOW | RTLD_GLOBAL) else {
            throw DistributedError("started by mpirun but Open MPI's libmpi.so.40 cannot be loaded (\(String(cString: dlerror()))); install it with apt-get install openmpi-bin libopenmpi-dev")
        }
        func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let address = dlsym(library, name) else { throw DistributedError("libmpi has no symbol \(name): not Open MPI?") }
            return address
        }
        let initialize = unsafeBitCast(try symbol("MPI_Init"), to: InitFunction.self)
        let commRank = unsafeBitCast(try symbol("MPI_Comm_rank"), to: CommIntFunction.self)
        let commSize = unsafeBitCast(try symbol("MPI_Comm_size"), to: CommIntFunction.self)
        allreduce = unsafeBitCast(try symbol("MPI_Allreduce"), to: AllreduceFunction.self)
        finalize = unsafeBitCast(try symbol("MPI_Finalize"), to: FinalizeFunction.self)
        world = try symbol("ompi_mpi_comm_world")
        float = try symbol("ompi_mpi_float")
        double = try symbol("ompi_mpi_double")
        sum = try symbol("ompi_mpi_op_sum")
        max = try symbol("ompi_mpi_op_max")
        guard initialize(nil, nil) == 0 else { throw DistributedError("MPI_Init failed") }
        var r: Int32 = 0, s: Int32 = 0
        guard commRank(world, &r) == 0, commSize(world, &s) == 0 else { throw DistributedError("MPI_Comm_rank/size failed") }
        (rank, size) = (Int(r), Int(s))
    }

    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        try reduce(UnsafeMutableRawPointer(values.baseAddress), count: values.count, type: float, op: sum)
    }

    public func allReduceSum(_ values: inout [Double]) throws {
        try values.withUnsafeMutableBufferPointer { try reduce(UnsafeMutableRawPointer($0.baseAddress), count: $0.count, type: double, op: sum) }
    }

    public func allReduceMax(_ values: inout [Double]) throws {
        try values.withUnsafeMutableBufferPointer { try reduce(UnsafeMutableRawPointer($0.baseAddress), count: $0.count, type: double, op: max) }
    }

    /// `MPI_IN_PLACE` is `(void *) 1` in Open MPI.
    func reduce(_ buffer: UnsafeMutableRawPointer?, count: Int, type: UnsafeMutableRawPointer, op: UnsafeMutableRawPointer) throws {
        guard count > 0 else { return }
        guard count <= Int(Int32.max) else { throw DistributedError("MPI_Allreduce of \(count) values: more than Int32.max") }
        guard allreduce(UnsafeRawPointer(bitPattern: 1), buffer, Int32(count), type, op, world) == 0 else {
            throw DistributedError("MPI_Allreduce failed on rank \(rank)")
        }
    }

    public func finish() {
        guard !finished else { return }
        finished = true
        _ = finalize()
    }
}
