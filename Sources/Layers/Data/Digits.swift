import Foundation
import Tape

/// The UCI 8×8 optical digits shipped with the package: 1,797 images (64 features, pixels scaled from
/// 0…16 to [0, 1]) of the digits 0–9. Source: "Optical Recognition of Handwritten Digits" (Alpaydin &
/// Kaynak, UCI Machine Learning Repository, CC BY 4.0), via scikit-learn's copy; see docs/data.md.
///
/// The fixed split: a permutation seeded with 1797 gives 1,000 training, 297 validation and 500 test images.
public enum Digits {
    /// Sizes of the fixed split: 1,000 training, 297 validation and 500 test images (1,797 in all).
    public static let trainCount = 1000, validationCount = 297, testCount = 500

    /// All 1,797 images in the original order.
    public static func all() throws -> Dataset {
        try decode(DigitsData.base64, count: DigitsData.count)
    }

    /// The fixed train / validation / test split.
    public static func load() throws -> (train: Dataset, validation: Dataset, test: Dataset) {
        let data = try all()
        var g = SeededGenerator(seed: 1797)
        let p = g.permutation(data.count)
        return (data.subset(Array(p[0..<trainCount])), data.subset(Array(p[trainCount..<trainCount + validationCount])),
                data.subset(Array(p[(trainCount + validationCount)...])))
    }

    /// Decodes the payload: count·64 pixel bytes (0…16) then count label bytes (0…9), base64 with line breaks.
    static func decode(_ base64: String, count n: Int) throws -> Dataset {
        let compact = base64.filter { !$0.isWhitespace }
        guard !compact.isEmpty else { throw DataError("digits data: empty payload") }
        guard let data = Data(base64Encoded: compact) else { throw DataError("digits data: not valid base64 (corrupted)") }
        let bytes = [UInt8](data)
        guard bytes.count == n * 65 else {
            throw DataError("digits data: \(bytes.count) bytes, expected \(n * 65) for \(n) images and labels (truncated or corrupted)")
        }
        if let i = bytes[0..<n * 64].firstIndex(where: { $0 > 16 }) {
            throw DataError("digits data: pixel value \(bytes[i]) above 16 in image \(i / 64) (corrupted)")
        }
        let labels = bytes[(n * 64)...].map(Int.init)
        if let i = labels.firstIndex(where: { $0 > 9 }) {
            throw DataError("digits data: label \(labels[i]) of image \(i) is not a digit 0…9 (corrupted)")
        }
        return Dataset(inputs: Tensor(shape: [n, 64], scalars: bytes[0..<n * 64].map { Double($0) / 16 }), labels: labels, classCount: 10)
    }
}
