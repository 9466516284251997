import Foundation
import Tape

/// A data file that cannot be read: the message names the file and the problem.
public struct DataError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Which MNIST files to load.
public enum MNISTSplit: Sendable { case train, test }

/// Reader for the IDX format of MNIST (big-endian): images have magic 0x00000803 and dimensions
/// (count, rows, cols) of unsigned bytes; labels have magic 0x00000801 and a count.
public enum IDX {
    /// Images as an (n, rows·cols) tensor scaled to [0, 1].
    public static func readImages(at url: URL) throws -> Tensor {
        let bytes = try read(url)
        return try decodeImages(bytes, name: url.path)
    }

    /// Labels as integers.
    public static func readLabels(at url: URL) throws -> [Int] {
        try decodeLabels(try read(url), name: url.path)
    }

    /// MNIST from a folder with the standard file names (train-images-idx3-ubyte, train-labels-idx1-ubyte,
    /// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte); image and label counts must agree.
    public static func loadMNIST(directory: URL, split: MNISTSplit) throws -> Dataset {
        let prefix = split == .train ? "train" : "t10k"
        let imagesURL = directory.appendingPathComponent("\(prefix)-images-idx3-ubyte")
        let labelsURL = directory.appendingPathComponent("\(prefix)-labels-idx1-ubyte")
        let images = try readImages(at: imagesURL), labels = try readLabels(at: labelsURL)
        guard images.shape.rows == labels.count else {
            throw DataError("\(imagesURL.path) holds \(images.shape.rows) images but \(labelsURL.path) holds \(labels.count) labels")
        }
        guard labels.allSatisfy({ $0 < 10 }) else { throw DataError("\(labelsURL.path): labels must be 0…9") }
        return Dataset(inputs: images, labels: labels, classCount: 10)
    }

    static func read(_ url: URL) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw DataError("\(url.path): cannot be read (missing or not a file)") }
        return [UInt8](data)
    }

    static func bigEndian(_ b: [UInt8], _ offset: Int) -> Int {
        Int(b[offset]) << 24 | Int(b[offset + 1]) << 16 | Int(b[offset + 2]) << 8 | Int(b[offset + 3])
    }

    static func decodeImages(_ b: [UInt8], name: String) throws -> Tensor {
        guard !b.isEmpty else { throw DataError("\(name): empty file") }
        guard b.count >= 16 else { throw DataError("\(name): truncated header (\(b.count) bytes, need 16)") }
        let magic = bigEndian(b, 0)
        guard magic == 0x0000_0803 else { throw DataError("\(name): wrong magic number 0x\(String(magic, radix: 16)), expected 0x803 for IDX images") }
        let n = bigEndian(b, 4), rows = bigEndian(b, 8), cols = bigEndian(b, 12)
        let expected = 16 + n * rows * cols
        guard b.count >= expected else { throw DataError("\(name): truncated: \(n) images of \(rows)×\(cols) need \(expected) bytes, file has \(b.count)") }
        return Tensor(shape: [n, rows * cols], scalars: b[16..<expected].map { Double($0) / 255 })
    }

    static func decodeLabels(_ b: [UInt8], name: String) throws -> [Int] {
        guard !b.isEmpty else { throw DataError("\(name): empty file") }
        guard b.count >= 8 else { throw DataError("\(name): truncated header (\(b.count) bytes, need 8)") }
        let magic = bigEndian(b, 0)
        guard magic == 0x0000_0801 else { throw DataError("\(name): wrong magic number 0x\(String(magic, radix: 16)), expected 0x801 for IDX labels") }
        let n = bigEndian(b, 4)
        guard b.count >= 8 + n else { throw DataError("\(name): truncated: \(n) labels need \(8 + n) bytes, file has \(b.count)") }
        return b[8..<8 + n].map(Int.init)
    }
}
