import Testing
import Worlds

@Test func worldsModuleLinks() { #expect(EpisodeData(frames: [1], states: [], actions: []).frames == [1]) }
