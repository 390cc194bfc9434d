/// The toolkit's version, written into datasets and checkpoints.
public enum Toolkit {
    public static let version = "0.1.0"
}
