import Testing
@testable import Config

@Test func configModuleLinks() { #expect(Bool(true)) }
