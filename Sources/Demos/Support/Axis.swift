import Foundation

/// One axis of a plot: a finite, non-empty range in data units on a linear or log scale, the map from data to
/// [0, 1], and the ticks with their labels.
///
/// Every function here is total: any data (empty, one value, all equal, NaN, ±inf, ±1e308, subnormals, values
/// ≤ 0 on a log axis) and any requested range (degenerate, reversed, non-finite) gives a finite range with
/// lower < upper, and a tick list whose length is bounded by the axis length in pixels. Nothing loops on the
/// values themselves, so the time and memory are bounded too.
struct Axis: Equatable {
    /// Whether the axis is logarithmic (base 10).
    let log: Bool
    /// The range in data units: finite, lower < upper, both > 0 on a log axis.
    let lower: Double
    let upper: Double

    /// The largest magnitude a linear range reaches: its width 2·10³⁰⁷ (plus padding) stays finite.
    static let linearLimit = 1e307
    /// The exponents a log range reaches: 10⁻³²⁰ (subnormal, still > 0) to 10³⁰⁵.
    static let logExponents = -320.0...305.0

    /// A tick: its value, its label (nil: an unlabelled tick), and whether it is major (drawn as a grid line).
    struct Tick: Equatable {
        var value: Double
        var label: String?
        var major: Bool
    }

    /// The axis of `data` (invalid values are ignored: non-finite, and ≤ 0 on a log axis), or of `requested` when
    /// given: a requested bound that is not usable (non-finite, ≤ 0 on a log axis) is replaced by the data's, a
    /// reversed range is swapped, and a range too narrow to draw (equal bounds, or narrower than 10⁻⁹ of its
    /// magnitude, where ticks would not be representable) is widened around its centre.
    init(data: [Double], requested: ClosedRange<Double>? = nil, log: Bool) {
        self.log = log
        let usable = log ? data.filter { $0 > 0 && $0.isFinite } : data.filter(\.isFinite)
        if log {
            let e = usable.map { Foundation.log10($0) }
            let (a, b) = Axis.logBounds(data: (e.min(), e.max()), requested: requested)
            lower = Foundation.pow(10, a)
            upper = Foundation.pow(10, b)
        } else {
            (lower, upper) = Axis.linearBounds(data: (usable.min(), usable.max()), requested: requested)
        }
    }

    private static func linearBounds(data: (Double?, Double?), requested: ClosedRange<Double>?) -> (Double, Double) {
        let m = linearLimit
        func clamp(_ v: Double) -> Double { min(max(v, -m), m) }
        let r = requested.map { ($0.lowerBound, $0.upperBound) }
        let explicit = r.map { $0.0.isFinite || $0.1.isFinite } ?? false
        var lo = r.flatMap { $0.0.isFinite ? $0.0 : nil } ?? data.0
        var hi = r.flatMap { $0.1.isFinite ? $0.1 : nil } ?? data.1
        guard var l = lo ?? hi, var h = hi ?? lo else { return (0, 1) }
        if l > h { swap(&l, &h) }
        (lo, hi) = (clamp(l), clamp(h))
        l = lo!; h = hi!
        let magnitude = max(abs(l), abs(h))
        let minimum = max(1e-9 * magnitude, 1e-300)
        if h - l < minimum {
            // Equal values: ±1 around them (or ±10 % for large ones); nearly equal: the narrowest drawable range.
            let c = l / 2 + h / 2
            let half = h == l ? max(1, 0.1 * abs(c)) : minimum / 2
            l = c - half; h = c + half
        } else if !explicit {
            let pad = 0.04 * (h - l)
            l -= pad; h += pad
        }
        // Shift back inside ±limit, keeping the width (at most 2·limit + padding, which is finite).
        if h > m { l -= h - m; h = m }
        if l < -m { h += -m - l; l = -m }
        return (max(l, -m), min(h, m))
    }

    private static func logBounds(data: (Double?, Double?), requested: ClosedRange<Double>?) -> (Double, Double) {
        let limits = logExponents
        func exponent(_ v: Double) -> Double? { v > 0 && v.isFinite ? Foundation.log10(v) : nil }
        let r = requested.map { (exponent($0.lowerBound), exponent($0.upperBound)) }
        let explicit = r.map { $0.0 != nil || $0.1 != nil } ?? false
        var a = r?.0 ?? data.0, b = r?.1 ?? data.1
        // One requested bound unusable and no data: three decades from the usable one.
        if a == nil, let b0 = b { a = b0 - 3 }
        if b == nil, let a0 = a { b = a0 + 3 }
        guard var lo = a, var hi = b else { return (0, 1) }
        if lo > hi { swap(&lo, &hi) }
        if hi - lo < 1e-6 {
            let c = (lo + hi) / 2
            lo = c - 1; hi = c + 1
        } else if !explicit {
            // 4 % of the decades on each side, as a linear axis pads 4 % (at least ×1.15), so that no curve
            // starts on the frame.
            let pad = max(0.0607, 0.04 * (hi - lo))
            lo -= pad; hi += pad
        }
        if hi > limits.upperBound { lo -= hi - limits.upperBound; hi = limits.upperBound }
        if lo < limits.lowerBound { hi += limits.lowerBound - lo; lo = limits.lowerBound }
        return (max(lo, limits.lowerBound), min(hi, limits.upperBound))
    }

    /// Whether `v` can be placed on this axis (finite, and > 0 on a log axis).
    func accepts(_ v: Double) -> Bool { v.isFinite && (!log || v > 0) }

    /// Where `v` lies: 0 at `lower`, 1 at `upper`; finite for every value `accepts` (clamped to ±10⁹, far outside
    /// the frame, so a value beyond the range stays a finite coordinate). NaN for a value it does not accept.
    func fraction(_ v: Double) -> Double {
        guard accepts(v) else { return .nan }
        let u: Double
        if log {
            let a = Foundation.log10(lower), b = Foundation.log10(upper)
            u = (Foundation.log10(v) - a) / (b - a)
        } else {
            u = (v - lower) / (upper - lower)   // v − lower may overflow to ±inf: clamped below
        }
        return u.isNaN ? .nan : min(max(u, -1e9), 1e9)
    }

    /// Whether `v` lies within the range (inclusive).
    func contains(_ v: Double) -> Bool { accepts(v) && v >= lower && v <= upper }
}

// MARK: Ticks

extension Axis {
    /// The ticks of an axis `length` pixels long. `extent(label)` is the room a label takes along the axis (its
    /// width on a horizontal axis, its height on a vertical one); labels are spaced at least `gap` apart, and
    /// labels that would overlap are dropped (the tick stays). Linear ticks aim at one per `spacing` pixels.
    /// At most one tick per 2 pixels.
    func ticks(length: Double, extent: (String) -> Double, gap: Double = 8, spacing: Double = 70) -> [Tick] {
        let length = length.isFinite ? min(max(length, 10), 100_000) : 500
        let candidates = log ? logTicks(length: length, extent: extent, gap: gap)
                             : linearTicks(length: length, extent: extent, gap: gap, spacing: spacing)
        return Axis.dropOverlappingLabels(candidates, axis: self, length: length, extent: extent, gap: gap)
    }

    /// Linear ticks at a "nice" step (1, 2, 2.5 or 5 × 10ᵉ): the smallest such step whose labels do not overlap.
    private func linearTicks(length: Double, extent: (String) -> Double, gap: Double, spacing: Double = 70) -> [(Tick, Int)] {
        let span = upper - lower
        var raw = span / max(2, (length / max(spacing, 10)).rounded(.down))
        for _ in 0..<40 {   // each pass at least doubles the step: bounded
            let (step, decimals) = Axis.niceStep(atLeast: raw)
            let first = Foundation.ceil(lower / step), last = Foundation.floor(upper / step)
            let count = last - first + 1
            guard count.isFinite, count <= length / 2 else { raw = step * 2; continue }
            let values = count >= 1 ? (0..<Int(count)).map { (first + Double($0)) * step } : []
            let labels = Axis.linearLabels(values, step: step, decimals: decimals)
            let positions = values.map { fraction($0) * length }
            let fits = zip(zip(positions, positions.dropFirst()), zip(labels, labels.dropFirst())).allSatisfy { p, l in
                abs(p.1 - p.0) >= (extent(l.0) + extent(l.1)) / 2 + gap
            }
            if fits || count <= 2 {
                let ticks = zip(values, labels).map { (Tick(value: $0, label: $1, major: true), 0) }
                // A narrow range may hold fewer than two nice ticks: label its ends instead.
                return ticks.count >= 2 ? ticks : endTicks()
            }
            raw = step * 1.01
        }
        return endTicks()
    }

    /// The two ends, labelled with the digits that tell them apart (the fallback of every tick rule).
    private func endTicks() -> [(Tick, Int)] {
        let span = upper - lower
        let (step, decimals) = Axis.niceStep(atLeast: span / 10)
        let labels = Axis.linearLabels([lower, upper], step: step, decimals: decimals + 1)
        return zip([lower, upper], labels).map { (Tick(value: $0, label: $1, major: true), 0) }
    }

    /// The smallest of 1, 2, 2.5, 5 × 10ᵉ that is ≥ `raw`, and the decimals its multiples need (negative for
    /// steps of 10 and more: 1e5 needs −5, i.e. its multiples are exact to the hundred thousand).
    static func niceStep(atLeast raw: Double) -> (step: Double, decimals: Int) {
        let r = raw.isFinite && raw > 0 ? raw : 1
        let e = Foundation.floor(Foundation.log10(r))
        let mag = Foundation.pow(10, e)
        for (m, extra) in [(1.0, 0), (2, 0), (2.5, 1), (5, 0), (10, -1)] where m * mag >= r * (1 - 1e-12) {
            let step = m * mag
            return (step.isFinite && step > 0 ? step : r, Int(-e) + extra)
        }
        return (r, Int(-e))
    }

    /// Labels of linear ticks, in one format for the whole axis, with the digits the step needs: "0.25",
    /// "1500", "1.5e6", "1.0000000002e15". Fixed-point while every value is in [10⁻⁴, 10⁶), else scientific
    /// with the mantissa digits that tell neighbours `step` apart at the largest magnitude.
    static func linearLabels(_ values: [Double], step: Double, decimals: Int) -> [String] {
        let isZero = { (t: Double) in t == 0 || abs(t) < step * 1e-9 }
        let mags = values.filter { !isZero($0) }.map(abs)
        let largest = mags.max() ?? 0, smallest = mags.min() ?? 1
        let fixed = largest < 1e6 && smallest >= 1e-4 && decimals <= 8
        let digits = min(16, max(0, Int(Foundation.floor(Foundation.log10(max(largest, .leastNormalMagnitude)))) + decimals))
        return values.map { t in
            if isZero(t) { return "0" }
            return fixed ? String(format: "%.\(max(0, decimals))f", t) : compactExponent(String(format: "%.\(digits)e", t))
        }
    }

    /// "1.5e+06" → "1.5e6", "2e-05" → "2e-5".
    static func compactExponent(_ s: String) -> String {
        guard let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) else { return s }
        let mantissa = s[..<e], rest = s[s.index(after: e)...]
        let negative = rest.hasPrefix("-")
        let digits = rest.drop { $0 == "+" || $0 == "-" }.drop { $0 == "0" }
        return "\(mantissa)e\(negative ? "-" : "")\(digits.isEmpty ? "0" : String(digits))"
    }

    /// Log ticks: a tick at every decade (every k-th when decades are closer than 4 pixels), labels on decades
    /// spaced so that they do not overlap, minor ticks 2…9 × 10ᵉ when decades are wide enough, labels on 2 and
    /// 5 × 10ᵉ over at most 3.5 decades or when fewer than two decades are labelled (then on every minor tick,
    /// then linear ticks, while there are fewer than two labels).
    private func logTicks(length: Double, extent: (String) -> Double, gap: Double) -> [(Tick, Int)] {
        let a = Foundation.log10(lower), b = Foundation.log10(upper), decades = b - a
        let perDecade = length / decades
        let e0 = Int(Foundation.ceil(a - 1e-9)), e1 = Int(Foundation.floor(b + 1e-9))
        // Decade marks: every k-th decade with k·perDecade ≥ 4 px.
        let markEvery = Axis.niceInteger(atLeast: 4 / perDecade)
        // Labelled decades: every k-th, k large enough that the widest label fits.
        let widest = max(extent(Axis.logLabel(mantissa: 1, exponent: e0)), extent(Axis.logLabel(mantissa: 1, exponent: e1)))
        let labelEvery = Axis.niceInteger(atLeast: (widest + gap) / perDecade)
        var out: [(Tick, Int)] = []
        if e1 >= e0 {
            for e in stride(from: Axis.roundUp(e0, to: markEvery), through: e1, by: markEvery) {
                // Grid lines only at labelled decades: 300 decades of grid would grey the whole plot.
                let labelled = e % labelEvery == 0
                out.append((Tick(value: Foundation.pow(10, Double(e)), label: labelled ? Axis.logLabel(mantissa: 1, exponent: e) : nil, major: labelled), 0))
            }
        }
        // Minor ticks 2…9 × 10ᵉ, when a decade is at least 40 px (the 9→10 gap is then ≥ 1.8 px).
        if perDecade >= 40 {
            var minors: [(value: Double, m: Int, e: Int)] = []
            for e in (e0 - 1)...e1 {
                for m in 2...9 {
                    let v = Double(m) * Foundation.pow(10, Double(e))
                    if v >= lower && v <= upper { minors.append((v, m, e)) }
                }
            }
            // 2 and 5 × 10ᵉ are labelled over at most three decades (where they fit: see dropOverlappingLabels),
            // the other minors only while that still makes fewer than two labels.
            let labelledDecades = out.filter { $0.0.label != nil }.count
            let twoAndFive = minors.filter { $0.m == 2 || $0.m == 5 }.count
            for t in minors {
                let first = t.m == 2 || t.m == 5
                let labelled = first ? decades <= 3.5 || labelledDecades < 2 : labelledDecades + twoAndFive < 2
                out.append((Tick(value: t.value, label: labelled ? Axis.logLabel(mantissa: t.m, exponent: t.e) : nil, major: false), first ? 1 : 2))
            }
        }
        if out.filter({ $0.0.label != nil }).count < 2 {
            // Less than a decade with too few marks in it: linear ticks (still placed on the log scale).
            let linear = Axis(lower: lower, upper: upper).linearTicks(length: length, extent: extent, gap: gap)
            out = out.map { (Tick(value: $0.0.value, label: nil, major: $0.0.major), $0.1) } + linear.map { ($0.0, 3) }
        }
        return out
    }

    /// An axis with exactly these bounds (already valid).
    private init(lower: Double, upper: Double) { (log, self.lower, self.upper) = (false, lower, upper) }

    /// The smallest of 1, 2, 5, 10, 20, 50, … that is ≥ x (x ≤ 1 gives 1; at most 5·10⁶).
    static func niceInteger(atLeast x: Double) -> Int {
        guard x.isFinite, x > 1 else { return 1 }
        var mag = 1
        while mag <= 1_000_000 {
            for m in [1, 2, 5] where Double(m * mag) >= x { return m * mag }
            mag *= 10
        }
        return 5_000_000
    }

    /// The first multiple of `k` at or above `e`.
    private static func roundUp(_ e: Int, to k: Int) -> Int { Int(Foundation.ceil(Double(e) / Double(k))) * k }

    /// "0.01", "1", "1000" for 10⁻²…10³, else "1e-4", "5e6".
    static func logLabel(mantissa m: Int, exponent e: Int) -> String {
        if e >= -2 && e <= 3 { return String(format: "%g", Double(m) * Foundation.pow(10, Double(e))) }
        return "\(m)e\(e)"
    }

    /// Keeps the labels of the candidates in priority order (lower first, then along the axis) as long as they do
    /// not overlap an already kept label; drops duplicate values; at most one tick per 2 px.
    static func dropOverlappingLabels(_ candidates: [(Tick, Int)], axis: Axis, length: Double, extent: (String) -> Double,
                                      gap: Double) -> [Tick] {
        // One tick per position (within half a pixel), preferring a labelled one, then a major one.
        let ranked = candidates.filter { axis.contains($0.0.value) }
            .sorted { ($0.0.label == nil ? 1 : 0, $0.0.major ? 0 : 1, $0.1) < ($1.0.label == nil ? 1 : 0, $1.0.major ? 0 : 1, $1.1) }
        var taken = Set<Int>()
        let unique = ranked.filter { taken.insert(Int((axis.fraction($0.0.value) * length * 2).rounded())).inserted }
        var kept: [(lo: Double, hi: Double)] = []
        var result = unique
        let order = unique.indices.sorted { (unique[$0].1, axis.fraction(unique[$0].0.value)) < (unique[$1].1, axis.fraction(unique[$1].0.value)) }
        for i in order {
            guard let label = unique[i].0.label else { continue }
            let p = axis.fraction(unique[i].0.value) * length, half = extent(label) / 2
            if kept.contains(where: { p - half < $0.hi + gap && p + half > $0.lo - gap }) {
                result[i].0.label = nil
            } else {
                kept.append((p - half, p + half))
            }
        }
        // Bounded: at most one tick per 2 px (labelled ones first).
        let maxTicks = max(2, Int(length / 2))
        var ticks = result.map(\.0).sorted { $0.value < $1.value }
        if ticks.count > maxTicks {
            let labelled = ticks.filter { $0.label != nil }
            let others = ticks.filter { $0.label == nil }
            let stride = Int((Double(others.count) / Double(max(1, maxTicks - labelled.count))).rounded(.up))
            ticks = (labelled + others.enumerated().filter { $0.offset % max(1, stride) == 0 }.map(\.element)).sorted { $0.value < $1.value }
        }
        return ticks
    }
}
