import GyreCore
/// How a contiguous array's elements map onto the outputs of a reduction over some axes.
///
/// Adjacent dimensions with the same kept/reduced status are merged, so the work becomes rows
/// of length `rowLength`: when the last block is reduced, every row folds into one output
/// element (an "inner" reduction, SIMD across the row); when it is kept, every row adds
/// elementwise into a row of outputs (an "outer" reduction, vectorized across the row).
@usableFromInline
struct _ReducePlan {
    @usableFromInline let outShape: [Int]
    @usableFromInline let outCount: Int
    @usableFromInline let blocks: [Int]
    @usableFromInline let reduced: [Bool]
    @usableFromInline let outStrides: [Int]
    @usableFromInline let innerReduced: Bool
    @usableFromInline let rowLength: Int
    /// Elements folded into each output.
    @usableFromInline let reducedCount: Int

    @usableFromInline
    init(shape: [Int], axes: Set<Int>) {
        outShape = shape.indices.filter { !axes.contains($0) }.map { shape[$0] }
        outCount = outShape.reduce(1, *)
        reducedCount = shape.indices.filter { axes.contains($0) }.map { shape[$0] }.reduce(1, *)
        var b: [Int] = [], r: [Bool] = []
        for d in shape.indices where shape[d] != 1 {
            let isRed = axes.contains(d)
            if let last = r.last, last == isRed {
                b[b.count - 1] *= shape[d]
            } else {
                b.append(shape[d]); r.append(isRed)
            }
        }
        if b.isEmpty { b = [1]; r = [false] }
        blocks = b
        reduced = r
        var os = [Int](repeating: 0, count: b.count)
        var s = 1
        for i in stride(from: b.count - 1, through: 0, by: -1) where !r[i] {
            os[i] = s
            s *= b[i]
        }
        outStrides = os
        innerReduced = r.last!
        rowLength = b.last!
    }

    /// Walks the first `outerBlocks` blocks in C order, calling `body(inputOffset, outputOffset)`
    /// with the input advancing by `step` elements per position.
    @inlinable
    func _walk(outerBlocks: Int, step: Int, _ body: (Int, Int) -> Void) {
        if outerBlocks == 0 { body(0, 0); return }
        var idx = [Int](repeating: 0, count: outerBlocks)
        var inOff = 0, outOff = 0
        while true {
            body(inOff, outOff)
            inOff += step
            var d = outerBlocks - 1
            while d >= 0 {
                idx[d] += 1
                outOff += outStrides[d]
                if idx[d] < blocks[d] { break }
                outOff -= outStrides[d] * blocks[d]
                idx[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }

    /// For outer reductions: calls `body(inputOffset, outputOffset, rows)` for every run of
    /// consecutive rows (each `rowLength` long, back to back) that add into the same output row.
    @inlinable
    func forEachRowGroup(_ body: (Int, Int, Int) -> Void) {
        if blocks.contains(0) { return }
        if blocks.count == 1 { body(0, 0, 1); return }
        let groupRows = blocks[blocks.count - 2]
        _walk(outerBlocks: blocks.count - 2, step: groupRows * rowLength) { body($0, $1, groupRows) }
    }

    /// Calls `body(inputOffset, outputOffset)` for every row in C order.
    @inlinable
    func forEachRow(_ body: (Int, Int) -> Void) {
        if blocks.contains(0) { return }
        _walk(outerBlocks: blocks.count - 1, step: rowLength, body)
    }
}

extension NDArray {
    /// Normalizes a list of axes (nil = all) to a set, rejecting out-of-range or repeated axes.
    @usableFromInline
    func _axisSet(_ axes: [Int]?) throws -> Set<Int> {
        guard let axes else { return Set(0..<ndim) }
        var s = Set<Int>()
        for a in axes {
            let n = try _normalizeAxis(a)
            guard s.insert(n).inserted else { throw GyreArraysError(.invalidAxis, "axis \(a) is repeated") }
        }
        return s
    }
}
