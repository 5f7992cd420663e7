import Testing
@testable import GyreArrays

/// Kernels against the naive reference on many shapes, strided views, dtypes and NaN patterns.
@Suite("Reductions match naive reference loops")
struct ReductionPropertyTests {
    /// A random array of `shape`, possibly a strided / reversed / transposed view of a larger one,
    /// with NaNs at the given rate.
    static func randomArray(_ rng: inout TestRNG, shape: [Int], nanRate: Double, view: Int) throws -> NDArray<Double> {
        switch view {
        case 1:  // every other element along the first axis, reversed
            var big = shape
            if !big.isEmpty { big[0] = big[0] * 2 }
            let base = NDArray<Double>(shape: big) { _ in Double.random(in: 0..<1, using: &rng) < nanRate ? .nan : Double.random(in: -100...100, using: &rng) }
            return shape.isEmpty ? base : try base.slice(axis: 0, Slice(nil, nil, step: -2))
        case 2:  // a transposed layout
            let base = NDArray<Double>(shape: shape.reversed()) { _ in Double.random(in: 0..<1, using: &rng) < nanRate ? .nan : Double.random(in: -100...100, using: &rng) }
            return try base.transposed()
        default:
            return NDArray<Double>(shape: shape) { _ in Double.random(in: 0..<1, using: &rng) < nanRate ? .nan : Double.random(in: -100...100, using: &rng) }
        }
    }

    static func axisSets(_ ndim: Int) -> [[Int]] {
        var out: [[Int]] = [[]]
        for mask in 1..<(1 << ndim) { out.append((0..<ndim).filter { mask & (1 << $0) != 0 }) }
        return out
    }

    @Test("sum, mean, var, min, max, count on float64 and float32, every axis set", arguments: [0, 1, 2, 3, 4, 5, 6, 7])
    func floatReductions(seed: UInt64) throws {
        var rng = TestRNG(seed)
        let ndim = Int.random(in: 1...4, using: &rng)
        let shape = (0..<ndim).map { _ in Int.random(in: 1...(ndim > 2 ? 5 : 23), using: &rng) }
        let nanRate = [0.0, 0.1, 0.5, 1.0][Int(seed) % 4]
        let a = try Self.randomArray(&rng, shape: shape, nanRate: nanRate, view: Int(seed) % 3)
        for axes in Self.axisSets(ndim) {
            let (outShape, groups) = Ref.groups(a, axes: Set(axes))
            for skipna in [true, false] {
                for float32 in [false, true] {
                    let x: AnyNDArray = float32 ? .float32(a.map { Float($0) }) : .float64(a)
                    let groupsT = float32 ? groups.map { $0.map { Double(Float($0)) } } : groups
                    let rtol = float32 ? 1e-5 : 1e-10
                    func check(_ name: String, _ r: AnyNDArray, _ ref: ([Double]) -> Double) throws {
                        try #require(r.shape == outShape, "\(name) shape \(r.shape) vs \(outShape), axes \(axes) shape \(shape) seed \(seed)")
                        let got = try #require(r.doubles())
                        try #require(got.count == groupsT.count, "\(name): \(got.count) values for \(groupsT.count) groups, axes \(axes) shape \(shape) seed \(seed)")
                        for (i, g) in groupsT.enumerated() {
                            let want = ref(g)
                            let want32 = float32 ? Double(Float(want)) : want
                            #expect(close(got[i], want32, rtol: rtol, atol: float32 ? 1e-3 : 1e-9),
                                    "\(name) axes \(axes) skipna \(skipna) float32 \(float32) shape \(shape) group \(i): \(got[i]) vs \(want32)")
                        }
                    }
                    try check("sum", try x.sum(axes: axes, skipna: skipna)) { Ref.sum($0, skipna: skipna) }
                    try check("mean", try x.mean(axes: axes, skipna: skipna)) { Ref.mean($0, skipna: skipna) }
                    try check("var", try x.variance(axes: axes, ddof: 1, skipna: skipna)) { Ref.variance($0, ddof: 1, skipna: skipna) }
                    try check("min", try x.min(axes: axes, skipna: skipna)) { Ref.minimum($0, skipna: skipna) }
                    try check("max", try x.max(axes: axes, skipna: skipna)) { Ref.maximum($0, skipna: skipna) }
                    try check("median", try x.median(axes: axes, skipna: skipna)) { Ref.median($0, skipna: skipna) }
                    try check("quantile", try x.quantile(0.3, axes: axes, skipna: skipna)) { Ref.quantile($0, 0.3, skipna: skipna) }
                    if skipna {
                        try check("count", try x.count(axes: axes)) { Double($0.filter { !$0.isNaN }.count) }
                    }
                }
            }
        }
    }

    @Test("integer sums wrap and widen like NumPy; means are float64", arguments: [DType.int8, .uint8, .int16, .int32, .int64, .uint64])
    func integerReductions(dtype: DType) throws {
        var rng = TestRNG(99)
        let shape = [7, 5, 3]
        let base = NDArray<Double>(shape: shape) { _ in Double(Int.random(in: 0...100, using: &rng)) }
        let x = try AnyNDArray.float64(base).astype(dtype)
        for axes in Self.axisSets(3) {
            let (_, groups) = Ref.groups(base, axes: Set(axes))
            let s = try x.sum(axes: axes)
            #expect(s.dtype == (dtype.isUnsignedInteger ? .uint64 : .int64))
            #expect(try #require(s.doubles()) == groups.map { Ref.sum($0, skipna: false) })
            let m = try x.mean(axes: axes)
            #expect(m.dtype == .float64)
            let means = try #require(m.doubles())
            try #require(means.count == groups.count, "mean \(dtype) axes \(axes): \(means.count) values for \(groups.count) groups")
            for (g, v) in zip(groups, means) { #expect(close(v, Ref.mean(g, skipna: false))) }
            #expect(try #require(x.max(axes: axes).doubles()) == groups.map { $0.max()! })
            #expect(try x.max(axes: axes).dtype == dtype)
        }
    }

    @Test("int8 sum overflows 8 bits but not 64, as NumPy")
    func int8Widening() throws {
        let x = AnyNDArray.int8(NDArray([100, 100, 100]))
        #expect(try x.sum().scalarValue == .int(300))
        let big = AnyNDArray.int64(NDArray([Int64.max, 1]))
        #expect(try big.sum().scalarValue == .int(Int64.min))  // wraps like NumPy
    }

    @Test("empty and all-NaN slices give NumPy's results, never a crash")
    func emptyAndAllNaN() throws {
        let empty = AnyNDArray.float64(try NDArray(shape: [0, 3], []))
        #expect(try empty.sum(axes: [0]).doubles() == [0, 0, 0])
        let emptyMean = try #require(empty.mean(axes: [0]).doubles())
        #expect(emptyMean.count == 3 && emptyMean.allSatisfy(\.isNaN), "\(emptyMean)")
        let emptyStd = try #require(empty.std(axes: [0]).doubles())
        #expect(emptyStd.count == 3 && emptyStd.allSatisfy(\.isNaN), "\(emptyStd)")
        #expect(try empty.count(axes: [0]).doubles() == [0, 0, 0])
        #expect(throws: GyreArraysError.self) { try empty.min(axes: [0]) }
        #expect(throws: GyreArraysError.self) { try empty.argmax(axis: 0) }
        let nan = AnyNDArray.float64(NDArray([Double.nan, .nan]))
        #expect(try #require(nan.mean().scalarValue?.doubleValue).isNaN)
        #expect(try #require(nan.min().scalarValue?.doubleValue).isNaN)
        #expect(try #require(nan.median().scalarValue?.doubleValue).isNaN)
        #expect(try nan.sum().scalarValue == .double(0))
        #expect(throws: GyreArraysError.self) { try nan.argmin() }
        // var with ddof >= n: NaN when skipping NaNs (nanvar), inf without (var), as NumPy.
        let two = AnyNDArray.float64(NDArray([1.0, 2.0]))
        #expect(try #require(two.variance(ddof: 3, skipna: true).scalarValue?.doubleValue).isNaN)
        #expect(try two.variance(ddof: 3, skipna: false).scalarValue?.doubleValue == .infinity)
    }

    @Test("float32 sums are accurate (compensated), not naive")
    func accurateFloat32Sum() throws {
        // 10 million copies of 0.1f: a naive float32 loop drifts far off; NumPy's pairwise sum
        // and Gyre's blocked float64 fold both stay within float32 rounding of the exact sum.
        let n = 1 << 20
        let x = AnyNDArray.float32(NDArray(repeating: Float(0.1), shape: [n]))
        let exact = Double(Float(0.1)) * Double(n)
        let got = try #require(x.sum().scalarValue?.doubleValue)
        #expect(Swift.abs(got - exact) / exact < 1e-6)
        var naive: Float = 0
        for _ in 0..<n { naive += 0.1 }
        #expect(Swift.abs(Double(naive) - exact) / exact > 1e-4)  // the naive loop really is worse
    }

    @Test("argmin and argmax along each axis")
    func argExtremes() throws {
        var rng = TestRNG(5)
        let a = NDArray<Double>(shape: [4, 6]) { _ in Double.random(in: 0...1, using: &rng) }
        let x = AnyNDArray.float64(a)
        let am = try #require(x.argmax(axis: 1).doubles())
        for i in 0..<4 {
            let row = (0..<6).map { a[i, $0] }
            #expect(Int(am[i]) == row.firstIndex(of: row.max()!)!)
        }
        let flat = try #require(x.argmin().scalarValue)
        #expect(flat == .int(Int64(a.elements.firstIndex(of: a.elements.min()!)!)))
    }

    @Test("weighted partial sums: Σ w·x and Σ w over non-NaN values, every axis set and weight shape", arguments: [0, 1, 2, 3, 4, 5])
    func weightedSums(seed: UInt64) throws {
        var rng = TestRNG(seed + 100)
        let ndim = Int.random(in: 1...4, using: &rng)
        let shape = (0..<ndim).map { _ in Int.random(in: 1...(ndim > 2 ? 5 : 17), using: &rng) }
        let a = try Self.randomArray(&rng, shape: shape, nanRate: [0.0, 0.2, 1.0][Int(seed) % 3], view: Int(seed) % 3)
        // Weights along a random subset of the axes, extent 1 on the others.
        let wShape = shape.map { n in Bool.random(using: &rng) ? n : 1 }
        let w = NDArray<Double>(shape: wShape) { _ in Double.random(in: 0...2, using: &rng) }
        for axes in Self.axisSets(ndim) {
            let outShape = shape.indices.filter { !axes.contains($0) }.map { shape[$0] }
            var want1 = [Double](repeating: 0, count: outShape.reduce(1, *)), want2 = want1
            let outIdx = Ref.indices(outShape)
            var at: [[Int]: Int] = [:]
            for (i, o) in outIdx.enumerated() { at[o] = i }
            for idx in Ref.indices(shape) {
                let x = a[index: idx]
                if x.isNaN { continue }
                let wv = w[index: idx.enumerated().map { wShape[$0.offset] == 1 ? 0 : $0.element }]
                let o = at[idx.indices.filter { !axes.contains($0) }.map { idx[$0] }]!
                want1[o] += wv * x
                want2[o] += wv
            }
            for float32 in [false, true] {
                let x: AnyNDArray = float32 ? try AnyNDArray.float64(a).astype(.float32) : .float64(a)
                let (g1, g2) = try x.weightedPartialSums(.float64(w), axes: axes)
                try #require(g1.shape == outShape && g2.shape == outShape, "shapes \(g1.shape) \(g2.shape) vs \(outShape), seed \(seed)")
                let tol = float32 ? 1e-3 : 1e-9
                // float32 inputs: the reference sums the rounded values.
                var ref1 = want1
                if float32 {
                    ref1 = [Double](repeating: 0, count: want1.count)
                    for idx in Ref.indices(shape) {
                        let v = a[index: idx]
                        if v.isNaN { continue }
                        let wv = w[index: idx.enumerated().map { wShape[$0.offset] == 1 ? 0 : $0.element }]
                        ref1[at[idx.indices.filter { !axes.contains($0) }.map { idx[$0] }]!] += wv * Double(Float(v))
                    }
                }
                #expect(zip(g1.elements, ref1).allSatisfy { abs($0 - $1) <= tol * max(1, abs($1)) }, "shape \(shape) w \(wShape) axes \(axes) f32 \(float32)")
                #expect(zip(g2.elements, want2).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($1)) }, "shape \(shape) w \(wShape) axes \(axes)")
            }
        }
        #expect(throws: GyreArraysError.self) { _ = try AnyNDArray.float64(a).weightedPartialSums(.float64(NDArray(shape: shape.map { $0 + 1 }) { _ in 1 }), axes: []) }
    }

    @Test("sums accumulated slab by slab equal the naive sums and counts of the whole", arguments: [0, 1, 2, 3])
    func accumulatedSums(seed: UInt64) throws {
        var rng = TestRNG(seed + 200)
        let ndim = Int.random(in: 1...3, using: &rng)
        let shape = [Int.random(in: 2...9, using: &rng)] + (1..<ndim).map { _ in Int.random(in: 1...6, using: &rng) }
        let a = try Self.randomArray(&rng, shape: shape, nanRate: [0.0, 0.2, 1.0, 0.5][Int(seed)], view: Int(seed) % 3)
        for axes in Self.axisSets(ndim) {
            for skipna in [true, false] {
                for float32 in [false, true] {
                    let x: AnyNDArray = float32 ? try AnyNDArray.float64(a).astype(.float32) : .float64(a)
                    var acc = PartialSumAccumulator(axes: axes, skipna: skipna)
                    #expect(acc.result() == nil)
                    // Uneven slabs along the first axis where it is reduced; the whole otherwise.
                    var r = 0
                    while r < shape[0] {
                        let e = axes.contains(0) ? min(shape[0], r + Int.random(in: 1...3, using: &rng)) : shape[0]
                        try acc.add(try x.index([.slice(Slice(r, e))]))
                        r = e
                    }
                    let (sums, counts) = try #require(acc.result())
                    let outShape = shape.indices.filter { !axes.contains($0) }.map { shape[$0] }
                    var wantS = [Double](repeating: 0, count: outShape.reduce(1, *)), wantC = wantS
                    var at: [[Int]: Int] = [:]
                    for (i, o) in Ref.indices(outShape).enumerated() { at[o] = i }
                    for idx in Ref.indices(shape) {
                        let v = float32 ? Double(Float(a[index: idx])) : a[index: idx]
                        let o = at[idx.indices.filter { !axes.contains($0) }.map { idx[$0] }]!
                        if skipna && v.isNaN { continue }
                        wantS[o] += v
                        wantC[o] += 1
                    }
                    try #require(sums.shape == outShape && counts.shape == outShape, "shapes \(sums.shape) \(counts.shape) vs \(outShape), seed \(seed)")
                    #expect(zip(sums.elements, wantS).allSatisfy { ($0.isNaN && $1.isNaN) || abs($0 - $1) <= 1e-9 * max(1, abs($1)) },
                            "sums: shape \(shape) axes \(axes) skipna \(skipna) f32 \(float32)")
                    #expect(counts.elements == wantC, "counts: shape \(shape) axes \(axes) skipna \(skipna)")
                }
            }
        }
        // A block whose kept dimensions differ from the first's is refused.
        if ndim > 1 {
            var acc = PartialSumAccumulator(axes: [0], skipna: true)
            try acc.add(.float64(a))
            #expect(throws: GyreArraysError.self) { try acc.add(.float64(NDArray(shape: [1] + shape.dropFirst().map { $0 + 1 }) { _ in 1 })) }
        }
    }
}
