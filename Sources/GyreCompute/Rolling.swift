import GyreCore
import GyreArrays

/// Moving-window statistics along one axis, with xarray's window placement: trailing windows
/// (position i covers i-window+1 ... i) or, centered, i-window/2 ... i-window/2+window-1;
/// NaNs are skipped and a window with fewer than `minPeriods` values gives NaN.
public struct RollingSpec: Sendable, Hashable {
    public enum Kind: String, Sendable { case sum, mean, min, max, std, variance = "var", count }
    public let axis: Int
    public let window: Int
    public let center: Bool
    public let minPeriods: Int
    public let kind: Kind

    public init(axis: Int, window: Int, center: Bool, minPeriods: Int?, kind: Kind) throws {
        guard window >= 1 else { throw GyreComputeError(.invalidArgument, "rolling window must be at least 1, not \(window)") }
        let mp = minPeriods ?? window
        guard mp >= 0, mp <= window else { throw GyreComputeError(.invalidArgument, "min_periods \(mp) must be between 0 and the window \(window)") }
        self.axis = axis
        self.window = window
        self.center = center
        self.minPeriods = Swift.max(mp, kind == .count ? 0 : 1)
        self.kind = kind
    }

    /// Positions before and after i that its window covers.
    public var before: Int { center ? window / 2 : window - 1 }
    public var after: Int { window - 1 - before }

    public func resultDType(_ input: DType) -> DType { input == .float32 && kind != .count ? .float32 : .float64 }

    /// The statistic over `a` along `axis`, where `a` holds `lead` extra positions before the
    /// wanted ones and `trail` after (cut off from the result). Outside the data the window
    /// simply has fewer values.
    public func apply(_ a: AnyNDArray, lead: Int = 0, trail: Int = 0) throws -> AnyNDArray {
        guard (0..<a.ndim).contains(axis) else { throw GyreComputeError(.invalidArgument, "rolling axis \(axis) out of range") }
        let n = a.shape[axis]
        let outN = n - lead - trail
        let perm = Array((0..<a.ndim).filter { $0 != axis }) + [axis]
        guard case .float64(let d) = try a.astype(.float64).transposed(perm).contiguous() else { fatalError() }
        let rows = d.count / Swift.max(n, 1)
        var out = [Double](repeating: .nan, count: rows * outN)
        d.withUnsafeBufferPointer { src in
            var cs = [Double](repeating: 0, count: n + 1), cq = cs, cc = cs
            for r in 0..<rows {
                let row = src.baseAddress! + r * n
                for i in 0..<n {
                    let v = row[i]
                    let ok = !v.isNaN
                    cs[i + 1] = cs[i] + (ok ? v : 0)
                    cq[i + 1] = cq[i] + (ok ? v * v : 0)
                    cc[i + 1] = cc[i] + (ok ? 1 : 0)
                }
                for j in 0..<outN {
                    let i = j + lead
                    let lo = Swift.max(0, i - before), hi = Swift.min(n - 1, i + after)
                    let count = cc[hi + 1] - cc[lo]
                    var value = Double.nan
                    if Int(count) >= minPeriods {
                        switch kind {
                        case .count: value = count
                        case .sum: value = cs[hi + 1] - cs[lo]
                        case .mean: value = (cs[hi + 1] - cs[lo]) / count
                        case .std, .variance:
                            // Two-pass over the window: exact enough and simple.
                            let mean = (cs[hi + 1] - cs[lo]) / count
                            var ss = 0.0
                            for k in lo...hi where !row[k].isNaN { let e = row[k] - mean; ss += e * e }
                            let v = ss / count
                            value = kind == .std ? v.squareRoot() : v
                        case .min, .max:
                            var m = Double.nan
                            for k in lo...hi where !row[k].isNaN {
                                if m.isNaN || (kind == .min ? row[k] < m : row[k] > m) { m = row[k] }
                            }
                            value = m
                        }
                    }
                    out[r * outN + j] = value
                }
            }
        }
        var shape = perm.map { a.shape[$0] }
        shape[shape.count - 1] = outN
        var inverse = [Int](repeating: 0, count: perm.count)
        for (i, p) in perm.enumerated() { inverse[p] = i }
        let result = try AnyNDArray.float64(try NDArray(shape: shape, out)).transposed(inverse).contiguous()
        return try result.astype(resultDType(a.dtype))
    }
}

/// A rolling statistic of a lazy array: reading a block reads the block plus the window's
/// reach on either side along the axis.
package struct RollingSource: LazyNode {
    package let input: LazyArray
    package let spec: RollingSpec

    package init(_ input: LazyArray, spec: RollingSpec) throws {
        guard (0..<input.ndim).contains(spec.axis) else { throw GyreComputeError(.invalidArgument, "\(input.sourceName): rolling axis \(spec.axis) out of range") }
        guard input.dtype.isNumeric else { throw GyreComputeError(.invalidArgument, "\(input.sourceName): rolling needs numbers, not \(input.dtype)") }
        self.input = input
        self.spec = spec
    }

    package var shape: [Int] { input.shape }
    package var dtype: DType { spec.resultDType(input.dtype) }
    package var chunks: [[Int]] { input.chunks }
    package var sourceName: String { input.sourceName }
    package var inputs: [LazyArray] { [input] }
    package var streamsInputs: Bool { false }
    package var label: String { "rolling \(spec.kind.rawValue) (window \(spec.window)\(spec.center ? ", centered" : "")) along axis \(spec.axis)" }
    package func withInputs(_ inputs: [LazyArray]) throws -> any LazyNode { try RollingSource(inputs[0], spec: spec) }

    func reach(_ r: Range<Int>) -> Range<Int> {
        Swift.max(0, r.lowerBound - spec.before)..<Swift.min(shape[spec.axis], r.upperBound + spec.after)
    }

    package func inputBoxes(_ box: Box) -> [Box?] {
        guard !box.contains(where: \.isEmpty) else { return [nil] }
        var b = box
        b[spec.axis] = reach(box[spec.axis])
        return [b]
    }

    package func read(region: [Slice]) async throws -> AnyNDArray {
        guard region.count == shape.count else { throw GyreComputeError(.invalidArgument, "\(sourceName): \(region.count) slices for \(shape.count) dimensions") }
        let r: (start: Int, count: Int, step: Int)
        do { r = try region[spec.axis].resolve(extent: shape[spec.axis]) } catch { throw GyreComputeError(.invalidArgument, "\(sourceName): \(error)") }
        guard r.count > 0 else {
            var sub = region
            sub[spec.axis] = Slice(0, 0)
            return try await input.read(sub).astype(dtype)
        }
        // The positions wanted along the axis, as one ascending run, then the window's reach.
        let first = Swift.min(r.start, r.start + (r.count - 1) * r.step), last = Swift.max(r.start, r.start + (r.count - 1) * r.step)
        let span = reach(first..<(last + 1))
        var sub = region
        sub[spec.axis] = Slice(span.lowerBound, span.upperBound)
        let block = try await input.read(sub)
        let computed: AnyNDArray
        do { computed = try spec.apply(block, lead: first - span.lowerBound, trail: span.upperBound - last - 1) } catch let e as GyreComputeError { throw e } catch {
            throw GyreComputeError(.invalidArgument, "\(label) of \(sourceName): \(error)")
        }
        guard r.step != 1 else { return computed }
        var items = [AxisIndex](repeating: .slice(.all), count: shape.count)
        items[spec.axis] = .slice(r.step > 0 ? Slice(nil, nil, step: r.step) : Slice(nil, nil, step: r.step))
        do { return try computed.index(items) } catch { throw GyreComputeError(.invalidArgument, "\(sourceName): \(error)") }
    }
}
