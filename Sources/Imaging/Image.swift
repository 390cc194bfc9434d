/// An 8-bit image, channels last (1 = grey, 3 = RGB), rows top to bottom.
public struct Image: Sendable, Equatable {
    public let width: Int, height: Int, channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(channels == 1 || channels == 3, "Image: channels must be 1 or 3, got \(channels)")
        precondition(pixels.count == width * height * channels,
                     "Image: \(pixels.count) bytes for \(width)×\(height)×\(channels)")
        (self.width, self.height, self.channels, self.pixels) = (width, height, channels, pixels)
    }

    public init(width: Int, height: Int, channels: Int, fill: UInt8 = 0) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [UInt8](repeating: fill, count: width * height * channels))
    }
}
