import Foundation
import Testing
import Tape
@testable import Layers

@Suite("Data sets")
struct DataTests {
    @Test func syntheticSetsAreSeededAndFollowTheirDefinitions() {
        let a = SyntheticData.rings(classes: 3, pointsPerClass: 50, noise: 0.05, seed: 1)
        #expect(a == SyntheticData.rings(classes: 3, pointsPerClass: 50, noise: 0.05, seed: 1))
        #expect(a != SyntheticData.rings(classes: 3, pointsPerClass: 50, noise: 0.05, seed: 2))
        #expect(a.count == 150 && a.classCount == 3 && (0..<3).allSatisfy { c in a.labels.filter { $0 == c }.count == 50 })
        for i in 0..<a.count {   // radius c + 1 within 5 standard deviations
            let r = hypot(a.inputs[i, 0], a.inputs[i, 1])
            #expect(abs(r - Double(a.labels[i] + 1)) < 0.25)
        }
        let s = SyntheticData.sinusoidalBoundary(points: 300, amplitude: 0.4, frequency: 2, seed: 3)
        for i in 0..<s.count {
            let above = s.inputs[i, 1] > 0.4 * sin(2 * Double.pi * s.inputs[i, 0])
            #expect(s.labels[i] == (above ? 1 : 0))
        }
        #expect(Set(s.labels) == [0, 1])
        let r = SyntheticData.regression1D(points: 40, noise: 0, seed: 4)
        for i in 0..<40 { #expect(abs(r.targets!.scalars[i] - (sin(r.inputs.scalars[i]) + 0.3 * cos(3 * r.inputs.scalars[i]))) < 1e-15) }
    }

    /// Same seed, same data (bit for bit); a different seed, different points; the two-class rings with the
    /// default class count have radii 1 and 2.
    @Test func everyGeneratorIsDeterministicInItsSeed() {
        let s1 = SyntheticData.sinusoidalBoundary(points: 100, amplitude: 0.5, frequency: 1, seed: 11)
        #expect(s1 == SyntheticData.sinusoidalBoundary(points: 100, amplitude: 0.5, frequency: 1, seed: 11))
        #expect(s1.inputs != SyntheticData.sinusoidalBoundary(points: 100, amplitude: 0.5, frequency: 1, seed: 12).inputs)
        #expect(s1.inputs.scalars.allSatisfy { $0 >= -1 && $0 <= 1 })
        let r1 = SyntheticData.regression1D(points: 30, noise: 0.1, seed: 13)
        #expect(r1 == SyntheticData.regression1D(points: 30, noise: 0.1, seed: 13))
        #expect(r1.inputs != SyntheticData.regression1D(points: 30, noise: 0.1, seed: 14).inputs)
        // With noise the targets leave the curve, by a spread of about the noise level (30 draws of N(0, 0.01)).
        let residuals = (0..<30).map { i -> Double in
            let x = r1.inputs.scalars[i]
            return (r1.targets?.scalars[i] ?? .nan) - (sin(x) + 0.3 * cos(3 * x))
        }
        let rms = (residuals.map { $0 * $0 }.reduce(0, +) / 30).squareRoot()
        #expect(rms > 0.05 && rms < 0.2, "rms residual \(rms) for noise 0.1")
        let two = SyntheticData.rings(pointsPerClass: 20, noise: 0, seed: 15)
        #expect(two.classCount == 2 && two.count == 40)
        for i in 0..<40 { #expect(abs(hypot(two.inputs[i, 0], two.inputs[i, 1]) - Double(two.labels[i] + 1)) < 1e-12) }
    }

    @Test func subsetOneHotAndMinibatchWorkOnSmallHandMadeSets() {
        let x = Tensor(shape: [4, 2], scalars: [0, 1, 10, 11, 20, 21, 30, 31])
        let d = Dataset(inputs: x, labels: [2, 0, 1, 2], classCount: 3)
        let s = d.subset([3, 1])
        #expect(s.inputs.scalars == [30, 31, 10, 11] && s.labels == [2, 0] && s.classCount == 3)
        #expect(d.oneHotLabels().shape == [4, 3])
        #expect(d.oneHotLabels().scalars == [0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1])
        var g1 = SeededGenerator(seed: 5), g2 = SeededGenerator(seed: 5)
        let b = d.minibatch(size: 3, using: &g1)
        #expect(b == d.minibatch(size: 3, using: &g2))
        // Without replacement: the rows are distinct rows of x (row r starts with 10·r), with their own labels.
        let rows = (0..<3).map { Int(b.inputs[$0, 0]) / 10 }
        #expect(Set(rows).count == 3 && rows.allSatisfy { (0..<4).contains($0) })
        #expect(b.labels == rows.map { d.labels[$0] })
        // A full-size batch is a permutation of everything.
        let full = d.minibatch(size: 4, using: &g1)
        #expect(Set(full.inputs.scalars) == Set(x.scalars))

        let r = Dataset(inputs: Tensor(shape: [3, 1], scalars: [1, 2, 3]), targets: Tensor([10, 20, 30]))
        #expect(r.targets?.shape == [3, 1] && r.labels.isEmpty && r.count == 3 && r.featureCount == 1)
        #expect(r.subset([2, 0]).targets?.scalars == [30, 10])
        let custom = SyntheticData.regression1D(points: 25, noise: 0, seed: 9, function: { 2 * $0 - 1 })
        for i in 0..<25 {
            let xi = custom.inputs.scalars[i]
            #expect(xi >= -Double.pi && xi <= Double.pi && custom.targets!.scalars[i] == 2 * xi - 1)
        }
        #expect(custom != SyntheticData.regression1D(points: 25, noise: 0, seed: 10, function: { 2 * $0 - 1 }))
    }

    /// Checksums printed by tools/make_digits.py when it generated the file (computed by NumPy, not by this code).
    @Test func digitsMatchTheSourceChecksumsAndSplit() throws {
        let all = try Digits.all()
        #expect(all.count == 1797 && all.featureCount == 64 && all.classCount == 10)
        let pixelSum = all.inputs.scalars.reduce(0) { $0 + $1 * 16 }
        #expect(abs(pixelSum - 561_718) < 1e-6)
        #expect(all.labels.reduce(0, +) == 8070)
        #expect(all.labels[0] == 0)
        #expect(Array(all.inputs.scalars[0..<8]).map { Int(($0 * 16).rounded()) } == [0, 0, 5, 13, 9, 1, 0, 0])
        // Position-weighted sums Σ (k+1)·pixel_k over the flat 1797·64 bytes and Σ (i+1)·label_i, also printed by
        // tools/make_digits.py (NumPy, int64): they catch a reordering that the plain sums above cannot see.
        var weightedPixels = 0, weightedLabels = 0
        for (k, v) in all.inputs.scalars.enumerated() { weightedPixels += (k + 1) * Int((v * 16).rounded()) }
        for (i, l) in all.labels.enumerated() { weightedLabels += (i + 1) * l }
        #expect(weightedPixels == 32_232_145_379)
        #expect(weightedLabels == 7_272_861)
        #expect((0..<10).map { c in all.labels.filter { $0 == c }.count } == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
        #expect(all.inputs.scalars.allSatisfy { $0 >= 0 && $0 <= 1 } && all.inputs.scalars.contains(1))
        let (train, validation, test) = try Digits.load()
        #expect(train.count == 1000 && validation.count == 297 && test.count == 500)
        // Disjoint and complete: every image lands in exactly one part (compare rows as keys).
        func keys(_ d: Dataset) -> [[Double]] { (0..<d.count).map { Array(d.inputs.scalars[$0 * 64..<($0 + 1) * 64]) + [Double(d.labels[$0])] } }
        var seen: [[Double]: Int] = [:]
        for k in keys(all) { seen[k, default: 0] += 1 }
        var split: [[Double]: Int] = [:]
        for k in keys(train) + keys(validation) + keys(test) { split[k, default: 0] += 1 }
        #expect(seen == split)
        #expect(try Digits.load().train == train, "the split is fixed")
    }

    @Test func corruptDigitsPayloadsGiveClearErrors() {
        #expect { try Digits.decode("", count: 1797) } throws: { "\($0)".contains("empty") }
        #expect { try Digits.decode("@@@", count: 1797) } throws: { "\($0)".contains("base64") }
        let truncated = String(DigitsData.base64.filter { !$0.isWhitespace }.prefix(4000))
        #expect { try Digits.decode(truncated, count: 1797) } throws: { "\($0)".contains("truncated") }
    }

    @Test func idxRoundTripAndErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("idx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func be(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
        let pixels: [UInt8] = (0..<(3 * 4)).map { UInt8($0 * 20) }
        let images = be(0x803) + be(3) + be(2) + be(2) + pixels
        let labels = be(0x801) + be(3) + [7, 0, 9]
        try Data(images).write(to: dir.appendingPathComponent("train-images-idx3-ubyte"))
        try Data(labels).write(to: dir.appendingPathComponent("train-labels-idx1-ubyte"))
        let d = try IDX.loadMNIST(directory: dir, split: .train)
        #expect(d.count == 3 && d.featureCount == 4 && d.labels == [7, 0, 9])
        #expect(d.inputs.scalars == pixels.map { Double($0) / 255 })
        let name = "x.idx"
        #expect { try IDX.decodeImages([], name: name) } throws: { "\($0)" == "x.idx: empty file" }
        #expect { try IDX.decodeImages(Array(images.prefix(20)), name: name) } throws: { "\($0)".contains("x.idx: truncated") }
        #expect { try IDX.decodeImages(be(0x801) + Array(images.dropFirst(4)), name: name) } throws: { "\($0)".contains("wrong magic number 0x801") }
        #expect { try IDX.decodeLabels(be(0x801) + be(5) + [1, 2], name: name) } throws: { "\($0)".contains("5 labels need 13 bytes") }
        try Data(be(0x801) + be(2) + [1, 2]).write(to: dir.appendingPathComponent("train-labels-idx1-ubyte"))
        #expect { try IDX.loadMNIST(directory: dir, split: .train) } throws: { e in
            "\(e)".contains("3 images") && "\(e)".contains("2 labels") && "\(e)".contains("train-labels-idx1-ubyte")
        }
        #expect { try IDX.loadMNIST(directory: dir, split: .test) } throws: { "\($0)".contains("t10k-images-idx3-ubyte: cannot be read") }
    }
}
