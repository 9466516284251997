import Foundation
import Tape

/// A data file that cannot be read: the message names the file and the problem.
public struct DataError: Error, CustomStringConvertible, Equatable {
    /// The message: which file, and what is wrong with it.
    public var description: String
    /// An error with the given message.
    public init(_ description: String) { self.description = description }
}

/// Which MNIST files to load.
public enum MNISTSplit: Sendable { case train, test }

/// Reader for the IDX format of MNIST (big-endian): images have magic 0x00000803 and dimensions
/// (count, rows, cols) of unsigned bytes; labels have magic 0x00000801 and a count.
/// The file size must match the header exactly, so truncated files and files with trailing bytes both throw.
public enum IDX {
    /// Images as an (n, rows·cols) tensor, pixel bytes 0…255 scaled by 1/255 to [0, 1].
    public static func readImages(at url: URL) throws -> Tensor {
        try decodeImages(try read(url), name: url.path)
    }

    /// Labels as integers (one byte each, 0…255; `loadMNIST` further checks 0…9).
    public static func readLabels(at url: URL) throws -> [Int] {
        try decodeLabels(try read(url), name: url.path)
    }

    /// MNIST from a folder with the standard, uncompressed file names (train-images-idx3-ubyte,
    /// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte): inputs (n, rows·cols)
    /// in [0, 1], labels 0…9, 10 classes. Image and label counts must agree.
    public static func loadMNIST(directory: URL, split: MNISTSplit) throws -> Dataset {
        let prefix = split == .train ? "train" : "t10k"
        let imagesURL = directory.appendingPathComponent("\(prefix)-images-idx3-ubyte")
        let labelsURL = directory.appendingPathComponent("\(prefix)-labels-idx1-ubyte")
        let images = try readImages(at: imagesURL), labels = try readLabels(at: labelsURL)
        guard images.shape.rows == labels.count else {
            throw DataError("\(imagesURL.path) holds \(images.shape.rows) images but \(labelsURL.path) holds \(labels.count) labels")
        }
        if let i = labels.firstIndex(where: { $0 > 9 }) {
            throw DataError("\(labelsURL.path): label \(labels[i]) at index \(i) is not a digit 0…9")
        }
        return Dataset(inputs: images, labels: labels, classCount: 10)
    }

    /// The whole file; a missing file, a folder or an unreadable file throws with the path.
    static func read(_ url: URL) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw DataError("\(url.path): cannot be read (no such file)")
        }
        guard !isDirectory.boolValue else { throw DataError("\(url.path): cannot be read (it is a folder, not a file)") }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw DataError("\(url.path): cannot be read (permission denied or I/O error)")
        }
        return [UInt8](data)
    }

    static func bigEndian(_ b: [UInt8], _ offset: Int) -> Int {
        Int(b[offset]) << 24 | Int(b[offset + 1]) << 16 | Int(b[offset + 2]) << 8 | Int(b[offset + 3])
    }

    /// header + product of `dims`, or nil when the product overflows (a corrupted header can claim
    /// 2³²−1 in every dimension; that must be an error, not an arithmetic trap).
    static func payloadEnd(header: Int, dims: [Int]) -> Int? {
        var total = 1
        for d in dims {
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            total = p
        }
        let (end, overflow) = total.addingReportingOverflow(header)
        return overflow ? nil : end
    }

    static func decodeImages(_ b: [UInt8], name: String) throws -> Tensor {
        guard !b.isEmpty else { throw DataError("\(name): empty file") }
        // The magic number first: a file of the wrong kind is a clearer diagnosis than a short header.
        if b.count >= 4, case let magic = bigEndian(b, 0), magic != 0x0000_0803 {
            throw DataError("\(name): wrong magic number 0x\(String(magic, radix: 16)), expected 0x803 for IDX images")
        }
        guard b.count >= 16 else { throw DataError("\(name): truncated header (\(b.count) bytes, need 16 for IDX images)") }
        let n = bigEndian(b, 4), rows = bigEndian(b, 8), cols = bigEndian(b, 12)
        guard n > 0 else { throw DataError("\(name): header says 0 images") }
        guard rows > 0 && cols > 0 else { throw DataError("\(name): header says images of \(rows)×\(cols) pixels") }
        guard let expected = payloadEnd(header: 16, dims: [n, rows, cols]) else {
            throw DataError("\(name): header claims \(n) images of \(rows)×\(cols), far larger than the file (\(b.count) bytes): corrupted")
        }
        guard b.count >= expected else {
            throw DataError("\(name): truncated: \(n) images of \(rows)×\(cols) need \(expected) bytes, file has \(b.count)")
        }
        guard b.count == expected else {
            throw DataError("\(name): \(b.count - expected) unexpected bytes after \(n) images of \(rows)×\(cols) (file has \(b.count), header implies \(expected))")
        }
        return Tensor(shape: [n, rows * cols], scalars: b[16..<expected].map { Double($0) / 255 })
    }

    static func decodeLabels(_ b: [UInt8], name: String) throws -> [Int] {
        guard !b.isEmpty else { throw DataError("\(name): empty file") }
        // The magic number first: a file of the wrong kind is a clearer diagnosis than a short header.
        if b.count >= 4, case let magic = bigEndian(b, 0), magic != 0x0000_0801 {
            throw DataError("\(name): wrong magic number 0x\(String(magic, radix: 16)), expected 0x801 for IDX labels")
        }
        guard b.count >= 8 else { throw DataError("\(name): truncated header (\(b.count) bytes, need 8 for IDX labels)") }
        let n = bigEndian(b, 4)
        guard n > 0 else { throw DataError("\(name): header says 0 labels") }
        let expected = 8 + n   // n < 2³², no overflow
        guard b.count >= expected else { throw DataError("\(name): truncated: \(n) labels need \(expected) bytes, file has \(b.count)") }
        guard b.count == expected else {
            throw DataError("\(name): \(b.count - expected) unexpected bytes after \(n) labels (file has \(b.count), header implies \(expected))")
        }
        return b[8..<expected].map(Int.init)
    }
}
