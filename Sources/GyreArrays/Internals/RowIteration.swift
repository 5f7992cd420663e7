/// Merges dimensions that every operand walks the same way, drops extent-1 dimensions and
/// returns the coalesced shape and per-operand strides. Inner loops then run over the longest
/// possible contiguous (or constant-stride) rows.
@inlinable
func _coalesce(shape: [Int], strides: [[Int]]) -> (shape: [Int], strides: [[Int]]) {
    var outShape: [Int] = []
    var outStrides: [[Int]] = Array(repeating: [], count: strides.count)
    outShape.reserveCapacity(shape.count)
    for d in 0..<shape.count where shape[d] != 1 {
        if let last = outShape.last {
            var mergeable = true
            for k in 0..<strides.count where outStrides[k].last! != strides[k][d] * shape[d] {
                mergeable = false
                break
            }
            if mergeable {
                outShape[outShape.count - 1] = last * shape[d]
                for k in 0..<strides.count { outStrides[k][outStrides[k].count - 1] = strides[k][d] }
                continue
            }
        }
        outShape.append(shape[d])
        for k in 0..<strides.count { outStrides[k].append(strides[k][d]) }
    }
    return (outShape, outStrides)
}

/// Visits every row of a strided iteration space shared by several operands, in C order.
/// `body(offsets, n, innerStrides)` receives each operand's buffer position at the row start,
/// the row length and each operand's stride within the row. Visits nothing when any extent is 0;
/// a 0-d space is one row of length 1.
@inlinable
func _forEachRow(shape: [Int], strides: [[Int]], offsets: [Int],
                 _ body: (_ offsets: [Int], _ n: Int, _ innerStrides: [Int]) -> Void) {
    if shape.contains(0) { return }
    let (cs, cst) = _coalesce(shape: shape, strides: strides)
    let nops = strides.count
    if cs.isEmpty {
        body(offsets, 1, [Int](repeating: 0, count: nops))
        return
    }
    let inner = cs[cs.count - 1]
    let innerStrides = cst.map { $0[$0.count - 1] }
    let outerDims = cs.count - 1
    if outerDims == 0 {
        body(offsets, inner, innerStrides)
        return
    }
    var idx = [Int](repeating: 0, count: outerDims)
    var offs = offsets
    while true {
        body(offs, inner, innerStrides)
        var d = outerDims - 1
        while d >= 0 {
            idx[d] += 1
            for k in 0..<nops { offs[k] += cst[k][d] }
            if idx[d] < cs[d] { break }
            for k in 0..<nops { offs[k] -= cst[k][d] * cs[d] }
            idx[d] = 0
            d -= 1
        }
        if d < 0 { return }
    }
}
