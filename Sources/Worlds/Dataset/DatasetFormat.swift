import Foundation
import HDF5

/// Names and constants of the dataset file layout (format version 1).
///
/// - `frames`: uint8 [N, T, H, W] (one channel) or [N, T, C, H, W]; one episode per chunk, gzip.
/// - `states`: float32 [N, T, S]; `actions`: float32 [N, T, A], only when the world has actions.
/// - root attributes: `world`, `config` (JSON), `state_names`, `action_names` (JSON arrays),
///   `seed`, `episodes`, `frames_per_episode`, `tool_version`, `format_version`, `created_by`.
/// - violation sets add `impossible` uint8 [N], `pair` int64 [N], `category` int64 [N],
///   `violation_frame` int64 [N] and the root attribute `category_names` (JSON array).
public enum DatasetFormat {
    public static let version = 1
    public static let frames = "frames", states = "states", actions = "actions"
    public static let impossible = "impossible", pair = "pair", category = "category", violationFrame = "violation_frame"
    /// gzip level for `frames` (see README: level 1 was the best speed/size trade-off measured).
    public static let defaultCompression = 1
}

/// A dataset problem: bad arguments, an existing or unwritable destination, a malformed file.
public struct DatasetError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// JSON array text of `strings` (for the `state_names`, `action_names`, `category_names` attributes).
func jsonArray(_ strings: [String]) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: strings, options: [])) ?? Data("[]".utf8)
    return String(decoding: data, as: UTF8.self)
}

/// Parses a JSON array of strings; nil if the text is not one.
public func parseJSONStringArray(_ text: String) -> [String]? {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String]
}

/// The metadata stored in a dataset file's root attributes.
public struct DatasetInfo: Sendable {
    public var world: String
    public var configJSON: String
    public var stateNames: [String]
    public var actionNames: [String]
    public var seed: UInt64
    public var episodes: Int
    public var framesPerEpisode: Int
    public var toolVersion: String
    public var formatVersion: Int
    public var createdBy: String
    /// [C, H, W] of one frame, from the `frames` dataset's shape.
    public var frameShape: [Int]

    /// Reads and checks the root attributes and the `frames` / `states` / `actions` shapes.
    public init(file: HDF5File) throws {
        func fail(_ message: String) -> DatasetError { DatasetError("\(file.path): \(message)") }
        formatVersion = try file.intAttribute("format_version")
        guard formatVersion == DatasetFormat.version else {
            throw fail("format_version \(formatVersion) is not supported (expected \(DatasetFormat.version))")
        }
        world = try file.stringAttribute("world")
        configJSON = try file.stringAttribute("config")
        guard let states = parseJSONStringArray(try file.stringAttribute("state_names")),
              let actions = parseJSONStringArray(try file.stringAttribute("action_names")) else {
            throw fail("state_names/action_names must be JSON arrays of strings")
        }
        stateNames = states
        actionNames = actions
        seed = UInt64(bitPattern: Int64(try file.intAttribute("seed")))
        episodes = try file.intAttribute("episodes")
        framesPerEpisode = try file.intAttribute("frames_per_episode")
        toolVersion = try file.stringAttribute("tool_version")
        createdBy = try file.stringAttribute("created_by")
        guard file.exists(DatasetFormat.frames) else { throw fail("no 'frames' dataset") }
        let shape = try file.shape(of: DatasetFormat.frames)
        guard shape.count == 4 || shape.count == 5 else {
            throw fail("'frames' must have rank 4 [N, T, H, W] or 5 [N, T, C, H, W], found shape \(shape)")
        }
        guard shape[0] == episodes, shape[1] == framesPerEpisode else {
            throw fail("'frames' shape \(shape) disagrees with episodes=\(episodes), frames_per_episode=\(framesPerEpisode)")
        }
        frameShape = shape.count == 4 ? [1, shape[2], shape[3]] : Array(shape[2...])
        let stateShape = try file.shape(of: DatasetFormat.states)
        guard stateShape == [episodes, framesPerEpisode, stateNames.count] else {
            throw fail("'states' shape \(stateShape) should be [\(episodes), \(framesPerEpisode), \(stateNames.count)]")
        }
        if !actionNames.isEmpty {
            let actionShape = try file.shape(of: DatasetFormat.actions)
            guard actionShape == [episodes, framesPerEpisode, actionNames.count] else {
                throw fail("'actions' shape \(actionShape) should be [\(episodes), \(framesPerEpisode), \(actionNames.count)]")
            }
        }
    }
}
