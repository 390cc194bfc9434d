import Testing
import Imaging

@Test func imagingModuleLinks() { #expect(Image(width: 2, height: 1, channels: 1).pixels == [0, 0]) }
