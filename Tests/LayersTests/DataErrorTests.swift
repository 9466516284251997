import Foundation
import Testing
import Tape
@testable import Layers

/// Bad data files and bad data-set arguments, as users produce them. Files are written by the tests into a
/// fresh temporary folder; every thrown message must name the file and the problem. Programmer errors
/// (inconsistent `Dataset` arguments) trap with a message, checked in a child process in release builds.
@Suite("Data errors")
struct DataErrorTests {
    static func be(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }

    /// Two 2×3 images (pixels 0, 51, …) and their labels: a valid pair to corrupt.
    static let images: [UInt8] = be(0x803) + be(2) + be(2) + be(3) + (0..<12).map { UInt8($0 % 6 * 51) }
    static let labels: [UInt8] = be(0x801) + be(2) + [3, 8]

    /// Writes `files` into a new temporary folder, runs `body` with it, removes it.
    func withFolder(_ files: [String: [UInt8]], _ body: (URL) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("data-errors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, bytes) in files { try Data(bytes).write(to: dir.appendingPathComponent(name), options: .atomic) }
        try body(dir)
    }

    /// The message of the DataError thrown by `f`, or a description of what went wrong instead.
    func message(_ f: () throws -> Any) -> String {
        do { _ = try f(); return "no error" } catch let e as DataError { return e.description } catch { return "other error \(error)" }
    }

    @Test func validTestSplitReadsBackExactly() throws {
        try withFolder(["t10k-images-idx3-ubyte": Self.images, "t10k-labels-idx1-ubyte": Self.labels]) { dir in
            let d = try IDX.loadMNIST(directory: dir, split: .test)
            #expect(d.inputs.shape == [2, 6] && d.labels == [3, 8] && d.classCount == 10)
            #expect(d.inputs.scalars == [0, 0.2, 0.4, 0.6, 0.8, 1, 0, 0.2, 0.4, 0.6, 0.8, 1])
            #expect(d.inputs[1, 5] == 1 && d.inputs[0, 1] == 51.0 / 255)
        }
    }

    @Test func eachBrokenFileNamesItselfAndTheProblem() throws {
        let cases: [(file: String, bytes: [UInt8], problem: String)] = [
            ("empty-images", [], "empty file"),
            ("short-header", Self.be(0x803) + [0, 0], "truncated header (6 bytes, need 16"),
            ("truncated-images", Array(Self.images.dropLast(5)), "truncated: 2 images of 2×3 need 28 bytes, file has 23"),
            ("trailing-images", Self.images + [9, 9], "2 unexpected bytes after 2 images"),
            ("labels-as-images", Self.labels, "wrong magic number 0x801, expected 0x803"),
            ("gzip-images", [0x1f, 0x8b, 8, 0] + Array(Self.images.dropFirst(4)), "wrong magic number 0x1f8b0800"),
            ("zero-images", Self.be(0x803) + Self.be(0) + Self.be(28) + Self.be(28), "header says 0 images"),
            ("zero-width", Self.be(0x803) + Self.be(1) + Self.be(28) + Self.be(0), "images of 28×0 pixels"),
            // A corrupted header claiming 2³²−1 in every dimension: the byte count overflows Int; must throw, not trap.
            ("huge-header", Self.be(0x803) + Self.be(0xFFFF_FFFF) + Self.be(0xFFFF_FFFF) + Self.be(0xFFFF_FFFF) + [1, 2, 3],
             "far larger than the file"),
            ("big-header", Self.be(0x803) + Self.be(60000) + Self.be(28) + Self.be(28) + [1, 2, 3],
             "truncated: 60000 images of 28×28 need 47040016 bytes, file has 19"),
        ]
        try withFolder(Dictionary(uniqueKeysWithValues: cases.map { ($0.file, $0.bytes) })) { dir in
            for c in cases {
                let url = dir.appendingPathComponent(c.file)
                let m = message { try IDX.readImages(at: url) }
                #expect(m.hasPrefix(url.path + ": ") && m.contains(c.problem), "\(c.file): \(m)")
            }
        }
    }

    @Test func brokenLabelFilesNameThemselvesAndTheProblem() throws {
        let cases: [(file: String, bytes: [UInt8], problem: String)] = [
            ("empty-labels", [], "empty file"),
            ("short", [0, 0, 8], "truncated header (3 bytes, need 8"),
            ("truncated-labels", Self.be(0x801) + Self.be(5) + [1, 2], "truncated: 5 labels need 13 bytes, file has 10"),
            ("trailing-labels", Self.labels + [4], "1 unexpected bytes after 2 labels"),
            ("images-as-labels", Self.images, "wrong magic number 0x803, expected 0x801"),
            ("zero-labels", Self.be(0x801) + Self.be(0), "header says 0 labels"),
            ("huge-count", Self.be(0x801) + Self.be(0xFFFF_FFFF) + [1], "truncated: 4294967295 labels"),
        ]
        try withFolder(Dictionary(uniqueKeysWithValues: cases.map { ($0.file, $0.bytes) })) { dir in
            for c in cases {
                let url = dir.appendingPathComponent(c.file)
                let m = message { try IDX.readLabels(at: url) }
                #expect(m.hasPrefix(url.path + ": ") && m.contains(c.problem), "\(c.file): \(m)")
            }
        }
    }

    @Test func mnistFolderProblemsNameTheFiles() throws {
        // Mismatched counts: 2 images, 3 labels.
        try withFolder(["train-images-idx3-ubyte": Self.images, "train-labels-idx1-ubyte": Self.be(0x801) + Self.be(3) + [1, 2, 3]]) { dir in
            let m = message { try IDX.loadMNIST(directory: dir, split: .train) }
            #expect(m.contains("train-images-idx3-ubyte holds 2 images") && m.contains("train-labels-idx1-ubyte holds 3 labels"), "\(m)")
        }
        // A label that is not a digit.
        try withFolder(["train-images-idx3-ubyte": Self.images, "train-labels-idx1-ubyte": Self.be(0x801) + Self.be(2) + [1, 12]]) { dir in
            let m = message { try IDX.loadMNIST(directory: dir, split: .train) }
            #expect(m.contains("train-labels-idx1-ubyte: label 12 at index 1 is not a digit"), "\(m)")
        }
        // Missing label file; a folder where a file should be; the .gz files alone (not read).
        try withFolder(["train-images-idx3-ubyte": Self.images, "train-labels-idx1-ubyte.gz": [0x1f, 0x8b]]) { dir in
            let m = message { try IDX.loadMNIST(directory: dir, split: .train) }
            #expect(m.contains("train-labels-idx1-ubyte: cannot be read (no such file)"), "\(m)")
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("t10k-images-idx3-ubyte"), withIntermediateDirectories: false)
            let f = message { try IDX.loadMNIST(directory: dir, split: .test) }
            #expect(f.contains("t10k-images-idx3-ubyte: cannot be read (it is a folder"), "\(f)")
        }
    }

    @Test func corruptedDigitsPayloadsAreRefused() throws {
        let payload = [UInt8](Data(base64Encoded: DigitsData.base64.filter { !$0.isWhitespace })!)
        #expect(payload.count == 1797 * 65)
        var badPixel = payload
        badPixel[5 * 64 + 3] = 17
        #expect(message { try Digits.decode(Data(badPixel).base64EncodedString(), count: 1797) }
                == "digits data: pixel value 17 above 16 in image 5 (corrupted)")
        var badLabel = payload
        badLabel[1797 * 64 + 42] = 10
        #expect(message { try Digits.decode(Data(badLabel).base64EncodedString(), count: 1797) }
                == "digits data: label 10 of image 42 is not a digit 0…9 (corrupted)")
        #expect(message { try Digits.decode(Data(payload + [0]).base64EncodedString(), count: 1797) }
                .contains("116806 bytes, expected 116805"))
        #expect(message { try Digits.decode(Data(payload.prefix(1000)).base64EncodedString(), count: 1797) }
                .contains("truncated"))
        #expect(message { try Digits.decode("  \n ", count: 1797) } == "digits data: empty payload")
        // The untouched payload decodes (so the failures above are due to the corruption alone).
        #expect(try Digits.decode(Data(payload).base64EncodedString(), count: 1797).count == 1797)
    }

    // Programmer errors: each traps with a message naming the problem.

    func stderr(of r: ExitTest.Result?) -> String { String(decoding: r?.standardErrorContent ?? [], as: UTF8.self) }

    @Test func nonFiniteInputsAreRefused() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Dataset(inputs: Tensor(shape: [2, 2], scalars: [0, 1, .nan, 3]), labels: [0, 1], classCount: 2)
        }
        let e = stderr(of: r)
        #expect(e.contains("Dataset: inputs (2, 2) hold a non-finite value nan at flat index 2"), "stderr: \(e)")
    }

    @Test func infiniteTargetsAreRefused() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Dataset(inputs: Tensor(shape: [2, 1], scalars: [0, 1]), targets: Tensor([1, .infinity]))
        }
        let e = stderr(of: r)
        #expect(e.contains("Dataset: targets") && e.contains("inf at flat index 1"), "stderr: \(e)")
    }

    @Test func labelOutOfRangeNamesLabelAndRange() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Dataset(inputs: Tensor.zeros([3, 2]), labels: [0, 2, -1], classCount: 2)
        }
        let e = stderr(of: r)
        #expect(e.contains("label 2 at index 1 is outside 0..<2"), "stderr: \(e)")
    }

    @Test func labelCountMismatchNamesBothCounts() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Dataset(inputs: Tensor.zeros([3, 2]), labels: [0, 1], classCount: 2)
        }
        let e = stderr(of: r)
        #expect(e.contains("2 labels for 3 inputs"), "stderr: \(e)")
    }

    @Test func oversizedMinibatchNamesTheSize() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var g = SeededGenerator(seed: 0)
            _ = SyntheticData.rings(pointsPerClass: 5, noise: 0.1, seed: 0).minibatch(size: 11, using: &g)
        }
        let e = stderr(of: r)
        #expect(e.contains("minibatch: size 11 must be in 1…10"), "stderr: \(e)")
    }

    @Test func subsetIndexOutOfRangeNamesTheIndex() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = SyntheticData.rings(pointsPerClass: 5, noise: 0.1, seed: 0).subset([0, 10])
        }
        let e = stderr(of: r)
        #expect(e.contains("subset: index 10 out of range 0..<10"), "stderr: \(e)")
    }

    @Test func negativeNoiseIsRefused() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = SyntheticData.rings(pointsPerClass: 5, noise: -0.1, seed: 0)
        }
        let e = stderr(of: r)
        #expect(e.contains("rings: noise") && e.contains("-0.1"), "stderr: \(e)")
    }
}
