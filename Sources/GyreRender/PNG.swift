import CDeflate

/// PNG files (RGBA, 8 bits a channel, no interlace) over libdeflate: the IHDR, one IDAT of
/// the zlib stream of the filtered rows, IEND; every chunk with its CRC-32.
public enum PNG {
    /// The PNG of `image`, top row first (the image's last row: north up). Each row is
    /// filtered with the PNG filter that gives the smallest sum of absolute differences
    /// (None, Sub or Up), as libpng's heuristic does.
    public static func encode(_ image: RGBAImage, level: Int = 6) throws -> [UInt8] {
        let w = image.width, h = image.height
        guard w > 0, h > 0 else { throw GyreRenderError(.invalidArgument, "a PNG needs at least one pixel, not \(w)x\(h)") }
        let stride = w * 4
        var raw = [UInt8](repeating: 0, count: (stride + 1) * h)
        image.pixels.withUnsafeBufferPointer { src in
            raw.withUnsafeMutableBufferPointer { dst in
                for row in 0..<h {
                    let srcRow = src.baseAddress! + (h - 1 - row) * stride
                    let above: UnsafePointer<UInt8>? = row == 0 ? nil : src.baseAddress! + (h - row) * stride
                    let out = dst.baseAddress! + row * (stride + 1)
                    filterRow(srcRow, above, stride, out)
                }
            }
        }
        guard let c = libdeflate_alloc_compressor(Int32(Swift.max(0, Swift.min(level, 12)))) else {
            throw GyreRenderError(.invalidArgument, "no DEFLATE compressor at level \(level)")
        }
        defer { libdeflate_free_compressor(c) }
        let bound = libdeflate_zlib_compress_bound(c, raw.count)
        var z = [UInt8](repeating: 0, count: bound)
        let n = raw.withUnsafeBytes { r in z.withUnsafeMutableBytes { o in libdeflate_zlib_compress(c, r.baseAddress, r.count, o.baseAddress, o.count) } }
        guard n > 0 else { throw GyreRenderError(.invalidArgument, "DEFLATE could not compress the image") }
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var ihdr: [UInt8] = []
        ihdr.append(bigEndian: UInt32(w))
        ihdr.append(bigEndian: UInt32(h))
        ihdr += [8, 6, 0, 0, 0]  // depth 8, colour type RGBA, deflate, adaptive filtering, no interlace
        chunk(&png, "IHDR", ihdr[...])
        chunk(&png, "IDAT", z[0..<n])
        chunk(&png, "IEND", [][...])
        return png
    }

    static func chunk(_ out: inout [UInt8], _ type: String, _ data: ArraySlice<UInt8>) {
        out.append(bigEndian: UInt32(data.count))
        let start = out.count
        out += Array(type.utf8)
        out += data
        let crc = out[start...].withUnsafeBytes { UInt32(libdeflate_crc32(0, $0.baseAddress, $0.count)) }
        out.append(bigEndian: crc)
    }

    /// Writes filter byte + filtered row: the one of None, Sub, Up with the least sum of
    /// |signed bytes|.
    static func filterRow(_ row: UnsafePointer<UInt8>, _ above: UnsafePointer<UInt8>?, _ n: Int, _ out: UnsafeMutablePointer<UInt8>) {
        @inline(__always) func cost(_ v: UInt8) -> Int { v < 128 ? Int(v) : 256 - Int(v) }
        var costNone = 0, costSub = 0, costUp = 0
        for i in 0..<n {
            let x = row[i]
            costNone += cost(x)
            costSub += cost(i >= 4 ? x &- row[i - 4] : x)
            if let a = above { costUp += cost(x &- a[i]) }
        }
        if above == nil { costUp = Int.max }
        let body = out + 1
        if costNone <= costSub && costNone <= costUp {
            out[0] = 0
            body.update(from: row, count: n)
        } else if costSub <= costUp {
            out[0] = 1
            for i in 0..<n { body[i] = i >= 4 ? row[i] &- row[i - 4] : row[i] }
        } else {
            out[0] = 2
            let a = above!
            for i in 0..<n { body[i] = row[i] &- a[i] }
        }
    }
}

extension Array where Element == UInt8 {
    mutating func append(bigEndian v: UInt32) {
        append(UInt8(v >> 24))
        append(UInt8((v >> 16) & 0xff))
        append(UInt8((v >> 8) & 0xff))
        append(UInt8(v & 0xff))
    }
}
