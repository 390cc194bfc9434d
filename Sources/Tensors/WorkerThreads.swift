import Foundation

/// Threads that run the shards of a data-parallel batch, kept for the life of the process.
///
/// Unlike `DispatchQueue.concurrentPerform`, the `n` bodies of `run` are guaranteed to run at the
/// same time, which the collectives inside a step (`DataParallel.batchStatistic`) rely on: a shard
/// waits there for the others. Body 0 runs on the calling thread.
final class WorkerThreads: @unchecked Sendable {
    static let shared = WorkerThreads()

    private var threads: [Worker] = []
    /// One `run` at a time: a second caller waits (the pool is sized for one batch's shards).
    private let runLock = NSLock()

    func run(_ n: Int, _ body: (Int) -> Void) {
        precondition(n >= 1, "WorkerThreads.run: needs at least one body, got \(n)")
        if n == 1 { body(0); return }
        runLock.lock()
        defer { runLock.unlock() }
        while threads.count < n - 1 { threads.append(Worker()) }
        withoutActuallyEscaping(body) { body in
            let work = UncheckedSendable(body)
            for i in 1..<n { threads[i - 1].start { work.value(i) } }
            work.value(0)
            for i in 1..<n { threads[i - 1].wait() }
        }
    }

    /// One thread that runs a job each time it is started.
    private final class Worker: @unchecked Sendable {
        private let go = DispatchSemaphore(value: 0)
        private let done = DispatchSemaphore(value: 0)
        private var job: (() -> Void)?

        init() {
            let thread = Thread { [unowned self] in
                while true {
                    go.wait()
                    job?()
                    job = nil
                    done.signal()
                }
            }
            thread.stackSize = 8 << 20
            thread.name = "jepa-data-parallel"
            thread.start()
        }

        func start(_ job: @escaping () -> Void) {
            self.job = job
            go.signal()
        }

        func wait() { done.wait() }
    }
}
