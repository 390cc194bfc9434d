import Testing
@testable import JEPA

@Test func jepaModuleLinks() { #expect(Bool(true)) }
