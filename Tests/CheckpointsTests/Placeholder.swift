import Testing
@testable import Checkpoints

@Test func checkpointsModuleLinks() { #expect(Bool(true)) }
