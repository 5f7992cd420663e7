import Foundation
import Testing
@testable import GyreArrays

@Suite("NDArray views, copy-on-write and layout")
struct ArrayCoreTests {
    @Test("slices with steps and negative steps follow Python's slice rules")
    func slices() throws {
        let a = NDArray<Int64>((0..<10).map(Int64.init))
        let cases: [(Slice, [Int64])] = [
            (Slice(2, 8, step: 2), [2, 4, 6]),
            (Slice(nil, nil, step: -1), Array((0..<10).reversed().map(Int64.init))),
            (Slice(8, 2, step: -3), [8, 5]),
            (Slice(-3, nil), [7, 8, 9]),
            (Slice(nil, -12), []),
            (Slice(20, nil), []),
            (Slice(-100, 3), [0, 1, 2]),
            (Slice(nil, nil, step: -4), [9, 5, 1]),
        ]
        for (s, want) in cases {
            #expect(try a.slice(axis: 0, s).elements == want, "slice \(s)")
            // Same as Swift's reference computation.
            let r = try s.resolve(extent: 10)
            #expect((0..<r.count).map { Int64(r.start + $0 * r.step) } == want)
        }
        #expect(throws: GyreArraysError.self) { try a.slice(axis: 0, Slice(step: 0)) }
    }

    @Test("views share storage; writes copy on write")
    func copyOnWrite() throws {
        let a = try NDArray<Double>(shape: [3, 4], (0..<12).map(Double.init))
        var v = try a.transposed()
        #expect(v.shape == [4, 3])
        #expect(v[1, 2] == a[2, 1])
        #expect(!v.isContiguous)
        v[1, 2] = -1
        #expect(a[2, 1] == 9)  // the original is untouched
        #expect(v[1, 2] == -1)
        let b = try a.broadcast(to: [2, 3, 4])
        #expect(b.strides == [0, 4, 1])
        #expect(b.elements.count == 24)
        let r = try a.reshaped([2, -1])
        #expect(r.shape == [2, 6] && r.elements == a.elements)
        let rt = try (try a.transposed()).reshaped([12])  // non-contiguous: copies
        #expect(rt.elements == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
        let e = try a.expandingDims(at: 1)
        #expect(e.shape == [3, 1, 4])
        #expect(try e.squeezed().shape == [3, 4])
        #expect(throws: GyreArraysError.self) { try a.squeezed(axes: [0]) }
        #expect(throws: GyreArraysError.self) { try a.broadcast(to: [3, 5]) }
    }

    @Test("broadcast arithmetic matches an elementwise reference on strided views", arguments: [1, 2, 3])
    func broadcastArithmetic(seed: UInt64) throws {
        var rng = TestRNG(seed)
        let a = NDArray<Double>(shape: [4, 1, 5]) { _ in Double.random(in: -5...5, using: &rng) }
        let b0 = NDArray<Double>(shape: [6, 10]) { _ in Double.random(in: 0.5...5, using: &rng) }
        let b = try b0.slice(axis: 1, Slice(nil, nil, step: -2))  // (6, 5), negative stride
        let x = AnyNDArray.float64(a), y = AnyNDArray.float64(b)
        for op in [BinaryOp.add, .subtract, .multiply, .divide, .floorDivide, .remainder, .power, .maximum] {
            let r = try x.binary(op, y)
            #expect(r.shape == [4, 6, 5])
            let got = try #require(r.doubles())
            var k = 0
            for i in 0..<4 { for j in 0..<6 { for l in 0..<5 {
                let p = a[i, 0, l], q = b[j, l]
                let want: Double
                switch op {
                case .add: want = p + q
                case .subtract: want = p - q
                case .multiply: want = p * q
                case .divide: want = p / q
                case .floorDivide: want = (p / q).rounded(.down)
                case .remainder: want = p - (p / q).rounded(.down) * q
                case .power: want = Foundation.pow(p, q)
                default: want = Swift.max(p, q)
                }
                #expect(close(got[k], want, rtol: 1e-12, atol: 1e-12), "\(op) at \(i),\(j),\(l)")
                k += 1
            } } }
        }
    }

    @Test("NumPy promotion rules for array-array and weak scalars")
    func promotion() throws {
        #expect(DType.promote(.int8, .uint8) == .int16)
        #expect(DType.promote(.int32, .float32) == .float64)
        #expect(DType.promote(.int16, .float32) == .float32)
        #expect(DType.promote(.uint64, .int64) == .float64)
        #expect(DType.promote(.bool, .int8) == .int8)
        #expect(DType.promote(.float32, .float64) == .float64)
        #expect(DType.promote(.datetime64(.days), .datetime64(.seconds)) == .datetime64(.seconds))
        #expect(DType.promote(.string(.variable), .int8) == nil)
        let f32 = AnyNDArray.float32(NDArray([1, 2]))
        #expect(try f32.binary(.add, .double(1.5)).dtype == .float32)  // NEP 50: weak Python float
        let i8 = AnyNDArray.int8(NDArray([1, 2]))
        #expect(try i8.binary(.add, .int(3)).dtype == .int8)
        #expect(try i8.binary(.add, .double(0.5)).dtype == .float64)
        #expect(throws: GyreArraysError.self) { try i8.binary(.add, .int(1000)) }  // out of bounds for int8
        #expect(try i8.binary(.divide, i8).dtype == .float64)
    }

    @Test("integer floor division and remainder follow Python's signs; division by zero gives 0")
    func integerDivision() throws {
        let x = AnyNDArray.int64(NDArray([7, -7, 7, -7, 5]))
        let y = AnyNDArray.int64(NDArray([2, 2, -2, -2, 0]))
        #expect(try x.binary(.floorDivide, y).doubles() == [3, -4, -4, 3, 0])
        #expect(try x.binary(.remainder, y).doubles() == [1, 1, -1, -1, 0])
        #expect(throws: GyreArraysError.self) { try x.binary(.power, AnyNDArray.int64(NDArray([-1]))) }
    }

    @Test("where, isnan, fillna, clip, comparisons and logical ops")
    func elementwiseHelpers() throws {
        let x = AnyNDArray.float64(NDArray([1, .nan, 3, -2]))
        #expect(x.isnan().elements == [false, true, false, false])
        #expect(try x.fillna(.double(0)).doubles() == [1, 0, 3, -2])
        #expect(try x.clip(lower: .double(0), upper: .double(2)).doubles()!.map { $0.isNaN ? 99 : $0 } == [1, 99, 2, 0])
        let c = try x.compare(.greater, .double(0))
        #expect(try c.truthValues().elements == [true, false, true, false])
        let w = try AnyNDArray.where(c, x, .double(-1))
        #expect(w.doubles() == [1, -1, 3, -1])
        #expect(try c.logical(.and, try x.compare(.less, .double(2))).truthValues().elements == [true, false, false, false])
        #expect(try x.compare(.notEqual, x).truthValues().elements == [false, true, false, false])  // NaN != NaN
        let i = AnyNDArray.int32(NDArray([3, -4]))
        #expect(try i.unary(.abs).doubles() == [3, 4])
        #expect(try i.unary(.sqrt).dtype == .float64)
        #expect(try AnyNDArray.float64(NDArray([0.5, 1.5, 2.5, -0.5])).unary(.round).doubles() == [0, 2, 2, -0])
    }

    @Test("astype casts like NumPy: truncation, wrapping, strings")
    func casting() throws {
        let f = AnyNDArray.float64(NDArray([1.9, -1.9, 300.5]))
        #expect(try f.astype(.int32).doubles() == [1, -1, 300])
        #expect(try f.astype(.uint8).doubles() == [1, 255, 44])  // wraps modulo 256 like NumPy
        #expect(try f.astype(.bool).truthValues().elements == [true, true, true])
        let s = try f.astype(.string(.variable))
        #expect(s.scalars.map(\.description) == ["1.9", "-1.9", "300.5"])
        #expect(throws: GyreArraysError.self) { try AnyNDArray.string(NDArray(["1.5", "x"]), .variable).astype(.float64) }
    }

    @Test("scans, diff, sort, argsort, searchsorted, unique, concatenate, stack")
    func scansAndSorting() throws {
        let x = AnyNDArray.float64(try NDArray(shape: [2, 3], [3, .nan, 1, 2, 5, 4]))
        #expect(try x.cumsum(axis: 1).doubles() == [3, 3, 4, 2, 7, 11])
        #expect(try x.cumsum(axis: 1, skipna: false).doubles()!.map { $0.isNaN ? -1 : $0 } == [3, -1, -1, 2, 7, 11])
        #expect(try x.cumprod(axis: 0).doubles()!.map { $0.isNaN ? -1 : $0 } == [3, 1, 1, 6, 5, 4])
        #expect(try AnyNDArray.int8(NDArray([1, 2, 3])).cumsum(axis: 0).dtype == .int64)
        #expect(try x.diff(axis: 1).doubles()!.map { $0.isNaN ? -1 : $0 } == [-1, -1, 3, -1])
        #expect(try x.sorted(axis: 1).doubles()!.map { $0.isNaN ? -1 : $0 } == [1, 3, -1, 2, 4, 5])
        #expect(try x.argsort(axis: 1).doubles() == [2, 0, 1, 0, 2, 1])
        let sorted = AnyNDArray.float64(NDArray([1, 2, 2, 3]))
        #expect(try sorted.searchsorted(.float64(NDArray([2, 0, 5])), side: .left).doubles() == [1, 0, 4])
        #expect(try sorted.searchsorted(.float64(NDArray([2])), side: .right).doubles() == [3])
        let u = try AnyNDArray.float64(NDArray([3, 1, .nan, 3, .nan, 1])).unique()
        #expect(u.doubles()!.map { $0.isNaN ? -1 : $0 } == [1, 3, -1])
        let c = try AnyNDArray.concatenate([.int8(NDArray([1, 2])), .float32(NDArray([3]))], axis: 0)
        #expect(c.dtype == .float32 && c.doubles() == [1, 2, 3])
        let s = try AnyNDArray.stack([.int64(NDArray([1, 2])), .int64(NDArray([3, 4]))], axis: 1)
        #expect(s.shape == [2, 2] && s.doubles() == [1, 3, 2, 4])
    }

    @Test("reprs print values the way NumPy does")
    func reprs() throws {
        #expect(AnyNDArray.float64(NDArray([18.492033053620997, 18.49283515917661])).description == "array([18.49203305, 18.49283516])")
        #expect(AnyNDArray.float64(NDArray([1.0, 2.5, .nan])).description == "array([1. , 2.5, nan])")
        #expect(AnyNDArray.float64(NDArray([1e-5, 1.0])).description == "array([1.e-05, 1.e+00])")
        #expect(AnyNDArray.float32(NDArray([26.289427])).description == "array([26.289427], dtype=float32)")
        let grid = AnyNDArray.float64(try NDArray(shape: [3, 4], (0..<12).map(Double.init)))
        #expect(grid.description == "array([[ 0.,  1.,  2.,  3.],\n       [ 4.,  5.,  6.,  7.],\n       [ 8.,  9., 10., 11.]])")
        let big = AnyNDArray.int64(try NDArray(shape: [2000], (0..<2000).map(Int64.init)))
        #expect(big.description == "array([   0,    1,    2, ..., 1997, 1998, 1999], shape=(2000,))")  // NumPy 2.2 and later name the shape of a summarized array
    }

    @Test(".npy round trip and corrupt files give errors naming the file")
    func npy() throws {
        let a = AnyNDArray.float32(try NDArray(shape: [2, 3], [1, 2, 3, 4, 5, .nan]))
        let data = try a.npyData()
        let b = try AnyNDArray(npy: data, source: "x.npy")
        #expect(b.shape == [2, 3] && b.dtype == .float32)
        let values = try #require(b.doubles())
        try #require(values.count == 6, "\(values)")
        #expect(values.prefix(5) == [1, 2, 3, 4, 5])
        #expect(values[5].isNaN, "\(values)")
        do {
            _ = try AnyNDArray(npy: data.prefix(data.count - 4), source: "cut.npy")
            Issue.record("a truncated file must not parse")
        } catch let e as GyreArraysError {
            #expect(e.message.contains("cut.npy") && e.message.contains("truncated"))
        }
        #expect(throws: GyreArraysError.self) { try AnyNDArray(npy: Data("hello".utf8), source: "bad.npy") }
    }
}
